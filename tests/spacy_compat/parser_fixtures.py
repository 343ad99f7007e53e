"""The saved parser and NER pipelines shared by test_parser_in_spacy.py and
test_parser_pipelines.py (made once per test run)."""

import functools
import os
import tempfile
from pathlib import Path

import compat


@functools.cache
def parser_pipelines_path() -> Path:
    """$ARCH_SPACY_PIPELINES/parser when ``nox -s spacy`` made the parser pipelines
    there (make_parser_pipelines.py), else a folder made now with the python of the
    venv without arch ($ARCH_SPACY_PURE_PYTHON). Raises AssertionError if neither."""
    given = os.environ.get("ARCH_SPACY_PIPELINES")
    if given and (Path(given) / "parser" / "INDEX.json").exists():
        return Path(given) / "parser"
    python = compat.python_without_arch()
    path = Path(tempfile.mkdtemp(prefix="arch-parser-pipelines-"))
    compat.run([python, str(compat.HERE / "make_parser_pipelines.py"), str(path)])
    return path
