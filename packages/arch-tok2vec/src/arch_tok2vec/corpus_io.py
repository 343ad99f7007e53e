"""Reading corpus files as text, the same way for every reader.

A line ends at ``\\n``, ``\\r\\n`` or a lone ``\\r`` (Python's universal newlines,
so line numbers are the ones an editor shows). A UTF-8 byte-order mark at the
start of a file (what Excel and Notepad write) is dropped, as are repeats of it
(a tool that adds one to a file that has one). Each line is decoded
on its own, so invalid UTF-8 raises ``CorpusError`` naming the file and the line.
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


def read_lines(path: PathLike, keepends: bool = False) -> Iterator[Tuple[int, str]]:
    """Yield ``(line number, text)`` for every line of a UTF-8 file.

    path: The file to read.
    keepends: Keep each line's end (``\\n``, ``\\r\\n`` or ``\\r``), as the csv
        module wants; by default it is removed.
    """
    try:
        file = open(path, encoding="utf8", newline="" if keepends else None)
    except OSError as err:
        raise CorpusError(path, 0, f"cannot open the file: {err.strerror}") from None
    with file:
        try:
            for number, line in enumerate(file, 1):
                if number == 1:
                    line = line.lstrip(BOM)
                if not keepends and line.endswith("\n"):
                    line = line[:-1]  # universal newlines: every line end reads as \n
                yield number, line
        except UnicodeDecodeError:
            raise _utf8_error(path) from None


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
    """Parse one JSONL line; a syntax error (or JSON Python cannot hold, such as
    nesting too deep) raises ``CorpusError`` naming the file and line."""
    try:
        return json.loads(line)
    except json.JSONDecodeError as err:
        raise CorpusError(path, number, f"invalid JSON: {err.msg} (column {err.colno})") from None
    except (ValueError, RecursionError) as err:
        raise CorpusError(path, number, f"invalid JSON: {err}") from None


def warn_skipped(path: PathLike, count: int, what: str) -> None:
    """Warn (``CorpusWarning``) that ``count`` items of ``path`` were skipped.

    what: What was skipped, in the plural ("empty nodes").
    """
    if count:
        warnings.warn(CorpusWarning(f"{path}: skipped {count} {what}"), stacklevel=3)


def _utf8_error(path: PathLike) -> CorpusError:
    """The error for the first line of ``path`` that is not UTF-8 (the text
    layer decodes in chunks, so its exception does not tell the line)."""
    number = 0
    with open(path, "rb") as file:
        for raw in file:  # ends at \n only: split at the lone \r it may hold
            body = raw[:-1] if raw.endswith(b"\n") else raw
            for piece in body[:-1].split(b"\r") if body.endswith(b"\r") else body.split(b"\r"):
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
