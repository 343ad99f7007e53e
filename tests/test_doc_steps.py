"""Every step of the docs runs as written: the Python blocks of docs/*.md and of every README,
in order and in one namespace per page, and the `archs` command lines of their bash blocks,
all from a scratch folder laid out like the repository (``configs/`` and ``docs/`` there,
``../shared/data`` the real corpora). Python blocks written as a session (``>>>``) must print
what the page shows. Training commands run with a tiny budget appended (one epoch, two
updates): the page's own settings stay, only the budget is cut, except in a block preceded by
``<!-- full budget -->`` (a run of a few seconds whose result the page shows). Other command
lines (pip, nox) are not run here. A block preceded by ``<!-- not run: REASON -->`` is a
fragment."""

import doctest
import os
import re
import shlex
import subprocess
import sys
import warnings
from pathlib import Path
from typing import List, Tuple

import pytest

from declared import ROOT

PAGES = sorted((ROOT / "docs").glob("*.md")) + [ROOT / "README.md"]
PAGES += sorted((ROOT / "packages").glob("*/README.md"))
BLOCK = re.compile(r"(?:<!-- ([^>]+) -->\s*\n)?^```(python|bash)\n(.*?)^```", re.M | re.S)
BUDGET = ["--training.max_epochs", "1", "--training.max_steps", "2"]
HAS_TORCH = __import__("importlib.util").util.find_spec("torch") is not None


def _blocks(page: Path) -> List[Tuple[str, str, str]]:
    """(kind, body, marker) of every block that runs."""
    return [
        (kind, body, marker)
        for marker, kind, body in BLOCK.findall(page.read_text("utf8"))
        if not marker.startswith("not run: ")
    ]


def _commands(body: str) -> List[List[str]]:
    """The `archs` command lines of a bash block (continuations joined, comments dropped)."""
    joined = re.sub(r"\\\n\s*", " ", body)
    commands = []
    for line in joined.splitlines():
        words = shlex.split(line, comments=True)
        if words[:1] == ["archs"]:
            commands.append(words)
    return commands


def _data_root() -> Path:
    data = Path(os.environ.get("ARCH_DATA", ROOT.parent / "shared" / "data"))
    return data.resolve().parent


@pytest.fixture
def workspace(tmp_path, monkeypatch):
    """A folder with configs/ and docs/ beside it and ../shared/data the real corpora."""
    (tmp_path / "shared").symlink_to(_data_root(), target_is_directory=True)
    work = tmp_path / "work"
    work.mkdir()
    for name in ("configs", "docs"):
        (work / name).symlink_to(ROOT / name, target_is_directory=True)
    monkeypatch.chdir(work)
    return work


def _run_archs(words: List[str], page: Path, full_budget: bool) -> None:
    if words[1] == "train" and not full_budget:
        words = words + BUDGET
    archs = str(Path(sys.executable).parent / "archs")
    done = subprocess.run([archs, *words[1:]], capture_output=True, text=True)
    assert done.returncode == 0, f"{page.name}: {shlex.join(words)}\n{done.stdout}{done.stderr}"


def _run_python(body: str, namespace: dict, page: Path) -> None:
    if body.lstrip().startswith(">>>"):
        test = doctest.DocTestParser().get_doctest(body, namespace, page.name, str(page), 0)
        runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
        runner.run(test, clear_globs=False)
        assert runner.failures == 0, f"{page.name}: a >>> block printed something else"
    else:
        exec(compile(body, str(page), "exec"), namespace)


@pytest.mark.parametrize(
    "page", [p for p in PAGES if _blocks(p)], ids=lambda p: str(p.relative_to(ROOT))
)
def test_every_step_runs_as_written(page, workspace):
    if "transformers" in page.as_posix() and not HAS_TORCH:
        pytest.skip("torch is not installed (the combined session has it)")
    namespace: dict = {"__name__": f"docs:{page.name}"}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for kind, body, marker in _blocks(page):
            if kind == "bash":
                for words in _commands(body):
                    _run_archs(words, page, full_budget=marker == "full budget")
            else:
                _run_python(body, namespace, page)
