"""Reading corpus files as text, the same way for every reader.

A line ends at ``\\n``, ``\\r\\n`` or a lone ``\\r`` (Python's universal newlines,
so line numbers are the ones an editor shows), except in JSONL, where a line ends
at ``\\n`` (or ``\\r\\n``) alone, as the JSON Lines format says: a lone ``\\r`` there is
white space inside a record. A UTF-8 byte-order mark at the
start of a file (what Excel and Notepad write) is dropped, as are repeats of it
(a tool that adds one to a file that has one); one where a later line starts
means files were joined, and is an error. Invalid UTF-8 raises ``CorpusError``
naming the file and the line. JSON is read strictly: NaN, Infinity, numbers too
large for a float and unpaired surrogates (which no UTF-8 file can hold) are
errors naming the line.
Readers that legitimately skip something report it with ``warn_skipped``: once
per file, with the count.
"""

import bisect
import json
import re
import warnings
from pathlib import Path
from typing import Any, Callable, Iterator, Tuple, Union

from .task import CorpusError, CorpusWarning

BOM = "\ufeff"
UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
UTF16_MESSAGE = "the file is UTF-16 (it starts with a UTF-16 byte-order mark); save it as UTF-8"
PathLike = Union[str, Path]
_LINE_END = re.compile(r"\r\n|\r|\n")
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def read_lines(
    path: PathLike, keepends: bool = False, lone_cr: bool = True
) -> Iterator[Tuple[int, str]]:
    """Yield ``(line number, text)`` for every line of a UTF-8 file.

    path: The file to read.
    keepends: Keep each line's end (``\\n``, ``\\r\\n`` or ``\\r``), as the csv
        module wants; by default it is removed.
    lone_cr: Whether a lone ``\\r`` ends a line (False for JSONL, where it is
        white space within a record).
    """
    newline = ("" if keepends else None) if lone_cr else "\n"
    try:
        file = open(path, encoding="utf8", newline=newline)
    except OSError as err:
        raise CorpusError(path, 0, f"cannot open the file: {err.strerror}") from None
    with file:
        try:
            for number, line in enumerate(file, 1):
                if number == 1:
                    line = line.lstrip(BOM)
                elif line.startswith(BOM):
                    raise CorpusError(
                        path, number, "a byte-order mark where the line starts (were files joined?)"
                    )
                if not keepends:
                    line = line[:-1] if line.endswith("\n") else line
                    if not lone_cr and line.endswith("\r"):
                        line = line[:-1]
                yield number, line
        except UnicodeDecodeError:
            raise _utf8_error(path, lone_cr) from None


def read_text(path: PathLike) -> str:
    """The whole text of a UTF-8 file, without a leading byte-order mark
    (invalid UTF-8 raises ``CorpusError`` naming the line)."""
    try:
        data = Path(path).read_bytes()
    except OSError as err:
        raise CorpusError(path, 0, f"cannot open the file: {err.strerror}") from None
    try:
        text = data.decode("utf8")
    except UnicodeDecodeError as err:
        if data[:2] in UTF16_BOMS:
            raise CorpusError(path, 1, UTF16_MESSAGE) from None
        before = data[: err.start]
        line = _count_breaks(before) + 1
        column = err.start - max(before.rfind(b"\n"), before.rfind(b"\r"))
        raise CorpusError(path, line, _utf8_message(data[err.start], column)) from None
    return text.lstrip(BOM)


def line_at(text: str, pos: int) -> int:
    """The number of the line that holds character ``pos`` of ``text`` (an
    offset at or past the end counts as the last line)."""
    return line_finder(text)(pos)


def line_finder(text: str) -> Callable[[int], int]:
    """``line_at`` for many offsets of one text: the line ends are found once."""
    starts = [match.end() for match in _LINE_END.finditer(text)]
    total = len(starts) + (0 if not text or text[-1] in "\r\n" else 1)

    def find(pos: int) -> int:
        return max(1, min(bisect.bisect_right(starts, pos) + 1, total))

    return find


def parse_json(path: PathLike, number: int, line: str) -> Any:
    """Parse one JSONL line strictly; a syntax error, NaN or Infinity, a number too
    large for a float, an unpaired surrogate or JSON Python cannot hold (nesting too
    deep) raises ``CorpusError`` naming the file and line."""
    try:
        data = json.loads(line, parse_constant=_no_constant, parse_float=_finite_float)
    except json.JSONDecodeError as err:
        raise CorpusError(path, number, f"invalid JSON: {err.msg} (column {err.colno})") from None
    except (ValueError, RecursionError) as err:
        raise CorpusError(path, number, f"invalid JSON: {err}") from None
    if _SURROGATE_ESCAPE.search(line):
        _check_surrogates(data, path, number)
    return data


def read_jsonl(path: PathLike) -> Iterator[Tuple[int, Any]]:
    """Yield ``(line number, value)`` for every non-blank line of a JSONL file,
    parsed with ``parse_json``.

    path: The file to read.
    """
    for number, line in read_lines(path, lone_cr=False):
        if line.strip():
            yield number, parse_json(path, number, line)


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _finite_float(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise ValueError(f"the number {text[:30]} is too large")
    return value


def _check_surrogates(data: Any, path: PathLike, number: int) -> None:
    """Raise CorpusError if a string (or key) of ``data`` cannot be UTF-8."""
    try:
        json.dumps(data, ensure_ascii=False).encode("utf8")
    except UnicodeEncodeError as err:
        bad = err.object[err.start : err.end].encode("unicode_escape").decode()
        raise CorpusError(
            path, number, f"a string holds an unpaired surrogate ({bad}), which is not text"
        ) from None


def warn_skipped(path: PathLike, count: int, what: str) -> None:
    """Warn (``CorpusWarning``) that ``count`` items of ``path`` were skipped.

    what: What was skipped, in the plural ("empty nodes").
    """
    if count:
        warnings.warn(CorpusWarning(f"{path}: skipped {count} {what}"), stacklevel=3)


def _utf8_error(path: PathLike, lone_cr: bool = True) -> CorpusError:
    """The error for the first line of ``path`` that is not UTF-8 (the text
    layer decodes in chunks, so its exception does not tell the line).

    lone_cr: Whether a lone ``\\r`` ends a line (as in ``read_lines``).
    """
    number = 0
    with open(path, "rb") as file:
        for raw in file:  # ends at \n only: split at the lone \r it may hold
            body = raw[:-1] if raw.endswith(b"\n") else raw
            body = body[:-1] if body.endswith(b"\r") else body
            for piece in body.split(b"\r") if lone_cr else [body]:
                number += 1
                try:
                    piece.decode("utf8")
                except UnicodeDecodeError as err:
                    if number == 1 and piece[:2] in UTF16_BOMS:
                        return CorpusError(path, 1, UTF16_MESSAGE)
                    return CorpusError(path, number, _utf8_message(piece[err.start], err.start + 1))
    return CorpusError(path, 0, "invalid UTF-8; save the file as UTF-8")


def _utf8_message(byte: int, column: int) -> str:
    return f"invalid UTF-8 (byte {byte:#04x} at byte {column} of the line); save the file as UTF-8"


def _count_breaks(data: bytes) -> int:
    """How many line ends (``\\n``, ``\\r\\n`` or a lone ``\\r``) ``data`` holds."""
    return data.count(b"\n") + data.count(b"\r") - data.count(b"\r\n")
