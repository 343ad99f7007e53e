"""Fixtures of the spaCy compatibility tests (``nox -s spacy``).

They run in a venv with spaCy and every arch package. Two environment variables
connect them to the second venv that ``nox -s spacy`` creates with spaCy and
spacy-legacy only: ARCH_SPACY_PURE_PYTHON (its python) and ARCH_SPACY_PIPELINES
(the folder where make_pipelines.py saved pipelines trained there). Without
ARCH_SPACY_PIPELINES the pipelines are made on the fly with ARCH_SPACY_PURE_PYTHON.
Missing data or a missing venv is a failure, never a skip.
"""

import importlib.util
import os
import sys
from pathlib import Path
from typing import Any, Dict

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import compat  # noqa: E402
import compat_data  # noqa: E402

if importlib.util.find_spec("spacy") is None:
    # `nox -s combined` runs tests/ without spaCy: these tests belong to `nox -s spacy`,
    # whose venv has spaCy (and where collecting nothing would fail the run).
    collect_ignore_glob = ["*"]


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if compat.REPORT:
        terminalreporter.section("spaCy compatibility")
        for line in dict.fromkeys(compat.REPORT):
            terminalreporter.write_line(line)


@pytest.fixture(scope="session", autouse=True)
def _spacy_version() -> None:
    compat.spacy_python_check()


@pytest.fixture(scope="session")
def data_dir() -> Path:
    try:
        return compat_data.data_dir()
    except FileNotFoundError as err:
        pytest.fail(str(err))


@pytest.fixture(scope="session")
def pure_python() -> str:
    try:
        return compat.python_without_arch()
    except AssertionError as err:
        pytest.fail(str(err))


@pytest.fixture(scope="session")
def pipelines_dir(tmp_path_factory: Any) -> Path:
    given = os.environ.get("ARCH_SPACY_PIPELINES")
    if given:
        path = Path(given)
        if not (path / "INDEX.json").exists():
            pytest.fail(f"ARCH_SPACY_PIPELINES={given} has no INDEX.json (make_pipelines.py)")
        return path
    path = tmp_path_factory.mktemp("pipelines")
    try:
        python = compat.python_without_arch()
    except AssertionError as err:
        pytest.fail(f"{err} (or set ARCH_SPACY_PIPELINES)")
    compat.run([python, str(HERE / "make_pipelines.py"), str(path)])
    return path


@pytest.fixture(scope="session")
def families() -> Dict[str, Any]:
    return compat.families()
