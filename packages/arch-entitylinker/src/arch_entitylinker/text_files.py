"""Reading the package's text files (the JSONL corpus, entity lists, alias
tables) line by line, the same way for all of them.

Lines are split at "\\n" alone (a "\\r" before it is dropped, so CRLF files read
as LF ones), which makes a line number the one an editor shows; a UTF-8
byte-order mark at the start of the file is skipped (another one where a line
starts is an error: files were joined). Invalid UTF-8, invalid
JSON (including NaN, Infinity and numbers too large for a float) and strings
holding unpaired surrogates (``"\\ud800"``, which no UTF-8 file can hold) raise
``CorpusError`` naming the file and line.
"""

import codecs
import json
import re
from pathlib import Path
from typing import Any, Iterator, Tuple

from arch_tok2vec import CorpusError

_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def text_lines(path: Path) -> Iterator[Tuple[int, str]]:
    """Each line of a UTF-8 text file with its number (from 1), without its
    line end.

    path: The file.
    """
    try:
        file = path.open("rb")
    except OSError as err:
        raise CorpusError(path, 0, f"cannot read the file: {err.strerror or err}") from None
    with file:
        for number, raw in enumerate(file, 1):
            if raw.endswith(b"\n"):
                raw = raw[:-1]
            if raw.endswith(b"\r"):
                raw = raw[:-1]
            skipped = 0
            if number == 1 and raw.startswith(codecs.BOM_UTF8):
                raw, skipped = raw[len(codecs.BOM_UTF8) :], len(codecs.BOM_UTF8)
            if raw.startswith(codecs.BOM_UTF8):
                raise CorpusError(
                    path, number, "a byte-order mark where the line starts (were files joined?)"
                )
            try:
                line = raw.decode("utf8")
            except UnicodeDecodeError as err:
                raise CorpusError(
                    path,
                    number,
                    f"invalid UTF-8 at byte {err.start + skipped + 1} of the line "
                    f"({raw[err.start : err.end]!r}): save the file as UTF-8",
                ) from None
            yield number, line


def jsonl_records(path: Path) -> Iterator[Tuple[int, Any]]:
    """Each JSON value of a JSONL file with its line number; blank lines are
    skipped (they hold no record).

    path: The file.
    """
    for number, line in text_lines(path):
        if not line.strip():
            continue
        try:
            data = json.loads(line, parse_constant=_no_constant, parse_float=_finite_float)
        except json.JSONDecodeError as err:
            raise CorpusError(
                path, number, f"invalid JSON at column {err.colno}: {err.msg}"
            ) from None
        except (ValueError, RecursionError) as err:  # from the hooks, huge ints, deep nesting
            raise CorpusError(path, number, f"invalid JSON: {err}") from None
        if _SURROGATE_ESCAPE.search(line):
            _check_surrogates(data, path, number)
        yield number, data


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _finite_float(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise ValueError(f"the number {text[:30]} is too large")
    return value


def _check_surrogates(data: Any, path: Path, number: int) -> None:
    """Raise CorpusError if a string (or key) in ``data`` cannot be UTF-8."""
    try:
        json.dumps(data, ensure_ascii=False).encode("utf8")
    except UnicodeEncodeError as err:
        bad = err.object[err.start : err.end]
        raise CorpusError(
            path,
            number,
            f"a string holds an unpaired surrogate ({bad.encode('unicode_escape').decode()}),"
            " which is not text",
        ) from None
