"""The input of ``archs apply``: which files, in which format, read as a stream of
raw records that a worker turns into Docs.

Formats: ``text`` (a document per line), ``jsonl`` (an object per line with a
text field; its other fields are carried through), ``conllu`` (a sentence per
block, pre-tokenized) and ``iob`` (a token per line, a sentence per block, the
tags ignored). An input is a file, a folder (every file under it, sorted) or a
glob pattern; the format comes from each file's suffix unless it is given.

The reader works on bytes, so that every record has a byte position to resume
from and the bytes read so far can be checksummed (``--resume`` checks that the
part already annotated has not changed). Lines end as ``corpus_io.read_lines``
says: at ``\\n``, ``\\r\\n`` or, except in JSONL, a lone ``\\r``; a UTF-8
byte-order mark at the start of a file is dropped. Decoding and parsing happen
in ``parse_record`` (in the workers), so a bad record is one error naming its
file and line, never the end of the stream.
"""

import glob
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple, Union

from ..conllu import parse_sentence
from ..corpus_io import BOM, UTF16_BOMS, UTF16_MESSAGE, _utf8_message, parse_json
from ..doc import Doc
from ..task import CorpusError
from ..vocab import Vocab

FORMATS = ("text", "jsonl", "conllu", "iob")
"""The input formats."""

SUFFIXES = {
    ".txt": "text",
    ".text": "text",
    ".jsonl": "jsonl",
    ".conllu": "conllu",
    ".iob": "iob",
    ".iob2": "iob",
    ".bio": "iob",
    ".conll": "iob",
}
"""The format a file suffix means when no format is given."""

BLOCK_FORMATS = ("conllu", "iob")
"""Formats whose records are blocks of lines between blank lines."""

_BOM_BYTES = BOM.encode("utf8")
_ASCII_SPACE = b" \t\r\n\x0b\x0c"


@dataclass(frozen=True)
class InputFile:
    """One input file and its format."""

    path: str
    format: str


@dataclass(frozen=True)
class Position:
    """Where reading stands: the next byte of file ``file`` to read, and the
    number of the line that starts there."""

    file: int = 0
    offset: int = 0
    line: int = 1


@dataclass
class Raw:
    """One input record as read, not yet decoded.

    file: The index of its file in the input list.
    line: The number of its first line.
    data: The line's bytes (text, jsonl), or the block's (line number, bytes)
        pairs (conllu, iob).
    """

    file: int
    line: int
    data: Union[bytes, List[Tuple[int, bytes]]]


@dataclass
class Parsed:
    """A record turned into a Doc, with the fields it carries through."""

    doc: Any
    fields: Dict[str, Any] = field(default_factory=dict)


def find_inputs(spec: str, input_format: Optional[str] = None) -> List[InputFile]:
    """The files an input names, in order, each with its format.

    spec: A file, a folder (every file under it, recursively, sorted by path;
        names starting with "." are left out) or a glob pattern.
    input_format: The format of every file; None: from each file's suffix.
    Raises CorpusError naming the file when it is missing, cannot be read, is
    UTF-16, or has a suffix that does not tell its format.
    """
    if input_format is not None and input_format not in FORMATS:
        raise ValueError(f"input format must be one of {', '.join(FORMATS)}, got {input_format!r}")
    path = Path(spec)
    if path.is_dir():
        paths = sorted(
            p
            for p in path.rglob("*")
            if p.is_file() and not any(part.startswith(".") for part in p.relative_to(path).parts)
        )
        if not paths:
            raise CorpusError(spec, 0, "the folder holds no files")
    elif path.exists():
        paths = [path]
    elif any(c in spec for c in "*?["):
        paths = sorted(Path(p) for p in glob.glob(spec, recursive=True) if Path(p).is_file())
        if not paths:
            raise CorpusError(spec, 0, "no file matches this pattern")
    else:
        raise CorpusError(spec, 0, "file not found")
    files = []
    for p in paths:
        fmt = input_format or SUFFIXES.get(p.suffix.lower())
        if fmt is None:
            raise CorpusError(
                p,
                0,
                f"cannot tell the format from the suffix {p.suffix!r}: give --input-format "
                f"({', '.join(FORMATS)})",
            )
        _check_readable(p)
        files.append(InputFile(str(p), fmt))
    return files


def _check_readable(path: Path) -> None:
    try:
        with open(path, "rb") as file:
            start = file.read(2)
    except OSError as err:
        raise CorpusError(path, 0, f"cannot open the file: {err.strerror}") from None
    if start in UTF16_BOMS:
        raise CorpusError(path, 1, UTF16_MESSAGE)


class RecordReader:
    """Read the raw records of the input files from a position, keeping the
    SHA-256 of each file's bytes read so far (those before the start position are
    read and checksummed first, see ``hash_prefix``).

    files: The input files.
    start: Where to start (a position ``position()`` gave earlier).
    """

    def __init__(self, files: Sequence[InputFile], start: Position = Position()):
        self.files = list(files)
        self.hasher = hashlib.sha256()
        self.done: Dict[int, str] = {}
        """The SHA-256 of each file read to its end, by index."""
        self._position = start
        self._prefix_done = False

    def hash_prefix(self) -> Tuple[Dict[int, str], str]:
        """Checksum the input bytes before the start position: the SHA-256 of each
        file before it, and of its own file up to the offset."""
        start = self._position
        for index in range(min(start.file + 1, len(self.files))):
            limit = start.offset if index == start.file else None
            hasher = hashlib.sha256()
            with open(self.files[index].path, "rb") as file:
                remaining = limit
                while remaining is None or remaining > 0:
                    size = 1 << 20 if remaining is None else min(1 << 20, remaining)
                    chunk = file.read(size)
                    if not chunk:
                        break
                    hasher.update(chunk)
                    if remaining is not None:
                        remaining -= len(chunk)
            if index == start.file:
                self.hasher = hasher
            else:
                self.done[index] = hasher.hexdigest()
        self._prefix_done = True
        return dict(self.done), self.hasher.hexdigest()

    def position(self) -> Position:
        """Where the next record starts (after the last one yielded)."""
        return self._position

    def digest(self) -> str:
        """The SHA-256 of the bytes of the current file before ``position()``."""
        return self.hasher.hexdigest()

    def __iter__(self) -> Iterator[Raw]:
        if not self._prefix_done:
            self.hash_prefix()
        start = self._position
        for index in range(start.file, len(self.files)):
            offset = start.offset if index == start.file else 0
            line = start.line if index == start.file else 1
            if index != start.file:
                self.hasher = hashlib.sha256()
            yield from self._read_file(index, offset, line)
            self.done[index] = self.hasher.hexdigest()
            self.hasher = hashlib.sha256()
            self._position = Position(index + 1, 0, 1)

    def _read_file(self, index: int, offset: int, first_line: int) -> Iterator[Raw]:
        fmt = self.files[index].format
        lines = self._lines(index, offset, first_line, fmt != "jsonl")
        if fmt in BLOCK_FORMATS:
            yield from self._blocks(index, lines)
            return
        for number, data, end in lines:
            self._position = Position(index, end, number + 1)
            if fmt == "jsonl" and not data.strip(_ASCII_SPACE):
                continue  # blank lines separate nothing in JSONL
            yield Raw(index, number, data)

    def _blocks(self, index: int, lines: Iterator[Tuple[int, bytes, int]]) -> Iterator[Raw]:
        block: List[Tuple[int, bytes]] = []
        for number, data, end in lines:
            if _is_blank(data):
                self._position = Position(index, end, number + 1)
                if block:
                    yield Raw(index, block[0][0], block)
                    block = []
                continue
            block.append((number, data))
            self._position = Position(index, end, number + 1)
        if block:
            yield Raw(index, block[0][0], block)

    def _lines(
        self, index: int, offset: int, number: int, lone_cr: bool
    ) -> Iterator[Tuple[int, bytes, int]]:
        """(line number, bytes without the line end, offset after the line end);
        every byte up to that offset is checksummed before the line is yielded."""
        with open(self.files[index].path, "rb") as file:
            file.seek(offset)
            position = offset
            for raw in file:
                end = position + len(raw)
                body = raw[:-1] if raw.endswith(b"\n") else raw
                if raw.endswith(b"\n") and body.endswith(b"\r"):
                    body = body[:-1]  # CRLF
                skipped = 0
                if position == 0:
                    while body[skipped:].startswith(_BOM_BYTES):
                        skipped += len(_BOM_BYTES)
                    body = body[skipped:]
                if lone_cr and b"\r" in body:
                    pieces = body.split(b"\r")
                    if not raw.endswith(b"\n") and body.endswith(b"\r"):
                        pieces.pop()  # a lone \r ends the last line of the file
                    cut = skipped
                    hashed = 0
                    for k, piece in enumerate(pieces):
                        cut += len(piece) + 1
                        stop = len(raw) if k == len(pieces) - 1 else cut
                        self.hasher.update(raw[hashed:stop])
                        hashed = stop
                        yield number, piece, position + stop
                        number += 1
                else:
                    self.hasher.update(raw)
                    yield number, body, end
                    number += 1
                position = end


def _is_blank(data: bytes) -> bool:
    """A blank line between blocks: white space only (as ``str.strip`` sees it)."""
    if not data.strip(_ASCII_SPACE):
        return True
    try:
        return not data.decode("utf8").strip()
    except UnicodeDecodeError:
        return False


def decode(path: str, number: int, data: bytes) -> str:
    """The text of a line; CorpusError naming the file and line if it is not UTF-8
    or starts with a byte-order mark (files joined)."""
    try:
        text = data.decode("utf8")
    except UnicodeDecodeError as err:
        raise CorpusError(path, number, _utf8_message(data[err.start], err.start + 1)) from None
    if number > 1 and text.startswith(BOM):
        raise CorpusError(
            path, number, "a byte-order mark where the line starts (were files joined?)"
        )
    return text


def parse_record(
    raw: Raw, source: InputFile, text_field: str, vocab: Optional[Vocab] = None
) -> Parsed:
    """Turn a raw record into a Doc (and the fields it carries through).

    raw: The record.
    source: Its file.
    text_field: The JSONL field that holds the text.
    vocab: The vocabulary of the new Doc.
    Raises CorpusError naming the file and line when the record is malformed.
    """
    path = source.path
    if source.format == "text":
        assert isinstance(raw.data, bytes)
        return Parsed(Doc.from_text(decode(path, raw.line, raw.data), vocab=vocab))
    if source.format == "jsonl":
        assert isinstance(raw.data, bytes)
        return _parse_jsonl(path, raw.line, decode(path, raw.line, raw.data), text_field, vocab)
    assert isinstance(raw.data, list)
    lines = [(number, decode(path, number, data)) for number, data in raw.data]
    if source.format == "conllu":
        sentence, _ = parse_sentence(Path(path), lines)
        words = [word.form for word in sentence.words]
        spaces = [word.space_after for word in sentence.words]
        fields = {"sent_id": sentence.sent_id} if sentence.sent_id else {}
        return Parsed(Doc(words, spaces, vocab=vocab), fields)
    return Parsed(Doc(_iob_tokens(Path(path), lines), vocab=vocab))


def _parse_jsonl(
    path: str, number: int, line: str, text_field: str, vocab: Optional[Vocab]
) -> Parsed:
    data = parse_json(path, number, line)
    if not isinstance(data, dict):
        raise CorpusError(path, number, f"expected a JSON object, got {type(data).__name__}")
    if text_field not in data:
        raise CorpusError(path, number, f"no {text_field!r} field (the text to annotate)")
    text = data[text_field]
    if not isinstance(text, str):
        raise CorpusError(
            path, number, f"the {text_field!r} field must be a string, got {json.dumps(text)[:40]}"
        )
    fields = {key: value for key, value in data.items() if key != text_field}
    return Parsed(Doc.from_text(text, vocab=vocab), fields)


def _iob_tokens(path: Path, lines: Sequence[Tuple[int, str]]) -> List[str]:
    """The tokens of an IOB block, read with arch-parser's NER reader's rules (its
    tags are checked for shape but not used)."""
    try:
        from arch_parser.corpora import _is_comment, _token_line
    except ImportError:
        raise CorpusError(
            path, 0, "reading IOB needs arch-parser (its NER reader): pip install arch-parser"
        ) from None
    words: List[str] = []
    for number, line in lines:
        if not words and line.startswith("#") and _is_comment(line):
            continue
        word, _ = _token_line(path, number, line, len(words) + 1)
        words.append(word)
    if not words:
        raise CorpusError(path, lines[0][0] if lines else 0, "a block of comments without tokens")
    return words
