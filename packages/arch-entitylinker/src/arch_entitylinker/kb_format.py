"""The binary format of a saved ``KnowledgeBase`` (format version 1).

One file (or byte string), all numbers little-endian, sections back to back::

    magic           8 bytes   b"ARCHKB\\r\\n"
    version         uint32    1
    vector_length   uint32    length of every entity vector
    n_entities      uint64
    n_aliases       uint64
    n_pairs         uint64    (alias, entity) candidate pairs in total
    entity_bytes    uint64    size of the entity ID text
    alias_bytes     uint64    size of the alias text
    -- body
    entity_lengths  uint32[n_entities]     UTF-8 byte length of each entity ID
    entity_text     bytes[entity_bytes]    the IDs, concatenated, in row order
    freqs           float32[n_entities]
    vectors         float32[n_entities * vector_length]   row by row
    alias_lengths   uint32[n_aliases]
    alias_text      bytes[alias_bytes]
    alias_counts    uint32[n_aliases]      number of candidates of each alias
    pair_entities   uint32[n_pairs]        entity row of each candidate, alias by alias
    pair_priors     float32[n_pairs]       its prior probability
    -- trailer
    crc32           uint32    zlib.crc32 of every byte before it

Readers check, in this order: the magic (else "not a KB file"), the version (a
newer one is refused with a message naming both versions), the length (a short
file is "truncated", with the bytes expected and found), the checksum, and the
consistency of the tables (counts add up, rows in range, IDs unique). Writing
the same KB twice gives identical bytes.
"""

import struct
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, List, Union

import numpy

MAGIC = b"ARCHKB\r\n"
VERSION = 1
_HEADER = struct.Struct("<8sIIQQQQQ")
_TRAILER = struct.Struct("<I")


class KBFormatError(ValueError):
    """A saved KB that cannot be read; the message says where and why."""


@dataclass
class Tables:
    """The content of a KB as flat tables (what the format stores)."""

    vector_length: int
    entity_ids: List[str]
    freqs: numpy.ndarray
    vectors: numpy.ndarray
    aliases: List[str]
    alias_counts: numpy.ndarray
    pair_entities: numpy.ndarray
    pair_priors: numpy.ndarray


def _encode(strings: List[str]) -> "tuple[numpy.ndarray, bytes]":
    encoded = [s.encode("utf8") for s in strings]
    lengths = numpy.fromiter(map(len, encoded), dtype=numpy.uint32, count=len(encoded))
    return lengths, b"".join(encoded)


def _sections(tables: Tables) -> List[Any]:
    e_lengths, e_text = _encode(tables.entity_ids)
    a_lengths, a_text = _encode(tables.aliases)
    header = _HEADER.pack(
        MAGIC,
        VERSION,
        tables.vector_length,
        len(tables.entity_ids),
        len(tables.aliases),
        len(tables.pair_entities),
        len(e_text),
        len(a_text),
    )
    as_le = [
        e_lengths.astype("<u4"),
        e_text,
        tables.freqs.astype("<f4"),
        numpy.ascontiguousarray(tables.vectors, dtype="<f4"),
        a_lengths.astype("<u4"),
        a_text,
        tables.alias_counts.astype("<u4"),
        tables.pair_entities.astype("<u4"),
        tables.pair_priors.astype("<f4"),
    ]
    return [header] + [_raw(part) for part in as_le]


def _raw(part: Any) -> Any:
    """The bytes of a section without copying (an empty one as b"")."""
    if isinstance(part, bytes):
        return part
    return memoryview(part.reshape(-1)).cast("B") if part.size else b""


def dump_bytes(tables: Tables) -> bytes:
    parts = _sections(tables)
    crc = 0
    for part in parts:
        crc = zlib.crc32(part, crc)
    return b"".join(parts) + _TRAILER.pack(crc)


def dump_file(tables: Tables, path: Path) -> None:
    """Write to ``path`` through a temporary file, so a failed write leaves no
    half-written KB under the final name."""
    tmp = path.with_name(path.name + ".tmp")
    crc = 0
    with tmp.open("wb") as file:
        for part in _sections(tables):
            crc = zlib.crc32(part, crc)
            file.write(part)
        file.write(_TRAILER.pack(crc))
    tmp.replace(path)


class _Source:
    """Sequential reads from bytes or a file, with the running checksum."""

    def __init__(self, where: str, data: Any = None, file: Any = None):
        self.where = where
        self.data = memoryview(data) if data is not None else None
        self.file: Any = file
        self.pos = 0
        self.crc = 0

    def size(self) -> int:
        if self.data is not None:
            return len(self.data)
        here = self.file.tell()
        self.file.seek(0, 2)
        end = self.file.tell()
        self.file.seek(here)
        return end

    def read(self, n: int, checksum: bool = True) -> Any:
        if self.data is not None:
            chunk: Any = self.data[self.pos : self.pos + n]
        else:
            buffer = bytearray(n)
            got = self.file.readinto(buffer)
            chunk = memoryview(buffer)[:got]
        if len(chunk) != n:
            raise KBFormatError(
                f"{self.where}: truncated KB file: needed {n} more bytes at offset {self.pos}, "
                f"found {len(chunk)}"
            )
        self.pos += n
        if checksum:
            self.crc = zlib.crc32(chunk, self.crc)
        return chunk

    def array(self, dtype: str, count: int) -> numpy.ndarray:
        itemsize = numpy.dtype(dtype).itemsize
        chunk = self.read(itemsize * count)
        out = numpy.frombuffer(chunk, dtype=dtype)
        if not out.flags.writeable:
            out = out.copy()
        return out.astype(dtype[1:], copy=False)


def _split(lengths: numpy.ndarray, text: Any, what: str, where: str) -> List[str]:
    ends = numpy.cumsum(lengths, dtype=numpy.int64)
    if len(ends) and ends[-1] != len(text):
        raise KBFormatError(f"{where}: the {what} lengths do not add up to the {what} text")
    blob = bytes(text)
    starts = (ends - lengths).tolist()
    try:
        return [blob[a:b].decode("utf8") for a, b in zip(starts, ends.tolist())]
    except UnicodeDecodeError as err:
        raise KBFormatError(f"{where}: a {what} string is not valid UTF-8: {err}") from None


def _load(source: _Source) -> Tables:
    where = source.where
    total = source.size()
    if total < len(MAGIC):
        raise KBFormatError(
            f"{where}: not a KB file, or truncated: only {total} bytes "
            f"(a saved KnowledgeBase starts with {MAGIC!r})"
        )
    if total < _HEADER.size:
        head = bytes(source.read(min(total, len(MAGIC))))
        if head != MAGIC:
            raise KBFormatError(f"{where}: not a KB file (it does not start with {MAGIC!r})")
        raise KBFormatError(
            f"{where}: truncated KB file: {total} bytes, shorter than the "
            f"{_HEADER.size}-byte header"
        )
    header = _HEADER.unpack(bytes(source.read(_HEADER.size)))
    magic, version, width, n_ent, n_alias, n_pairs, e_bytes, a_bytes = header
    if magic != MAGIC:
        raise KBFormatError(f"{where}: not a KB file (it does not start with {MAGIC!r})")
    if version > VERSION:
        raise KBFormatError(
            f"{where}: KB format version {version} is newer than this version of "
            f"arch-entitylinker reads (up to {VERSION}); upgrade arch-entitylinker"
        )
    if version < 1:
        raise KBFormatError(f"{where}: invalid KB format version {version}")
    if width < 1:
        raise KBFormatError(f"{where}: invalid entity vector length {width}")
    expected = (
        _HEADER.size
        + 4 * n_ent
        + e_bytes
        + 4 * n_ent
        + 4 * n_ent * width
        + 4 * n_alias
        + a_bytes
        + 4 * n_alias
        + 8 * n_pairs
        + _TRAILER.size
    )
    if total < expected:
        raise KBFormatError(
            f"{where}: truncated KB file: the header announces {n_ent} entities, {n_alias} "
            f"aliases and {n_pairs} candidates ({expected} bytes), but there are only {total} "
            "bytes"
        )
    if total > expected:
        raise KBFormatError(
            f"{where}: {total - expected} unexpected bytes after the end of the KB "
            f"({expected} bytes expected)"
        )
    e_lengths = source.array("<u4", n_ent)
    e_text = source.read(e_bytes)
    freqs = source.array("<f4", n_ent)
    vectors = source.array("<f4", n_ent * width).reshape(n_ent, width)
    a_lengths = source.array("<u4", n_alias)
    a_text = source.read(a_bytes)
    counts = source.array("<u4", n_alias)
    pair_entities = source.array("<u4", n_pairs)
    pair_priors = source.array("<f4", n_pairs)
    computed = source.crc
    (stored,) = _TRAILER.unpack(bytes(source.read(_TRAILER.size, checksum=False)))
    if stored != computed:
        raise KBFormatError(
            f"{where}: the KB file is corrupted (checksum {computed:#010x}, "
            f"expected {stored:#010x})"
        )
    if int(counts.sum(dtype=numpy.int64)) != n_pairs:
        raise KBFormatError(f"{where}: the candidate counts do not add up to {n_pairs}")
    if n_pairs and int(pair_entities.max()) >= n_ent:
        raise KBFormatError(f"{where}: a candidate points past the {n_ent} entities")
    entity_ids = _split(e_lengths, e_text, "entity", where)
    aliases = _split(a_lengths, a_text, "alias", where)
    if len(set(entity_ids)) != n_ent:
        raise KBFormatError(f"{where}: repeated entity IDs")
    if len(set(aliases)) != n_alias:
        raise KBFormatError(f"{where}: repeated aliases")
    return Tables(
        int(width), entity_ids, freqs, vectors, aliases, counts, pair_entities, pair_priors
    )


def load_bytes(data: Union[bytes, bytearray, memoryview], where: str) -> Tables:
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"from_bytes needs bytes, got {type(data).__name__}")
    return _load(_Source(where, data=data))


def load_file(path: Path) -> Tables:
    with path.open("rb") as file:
        return _load(_Source(str(path), file=file))
