"""Format version 2 of a saved ``KnowledgeBase``: a file that can be mapped read-only
and used in place (``KnowledgeBase.load(path, mmap=True)``), by any number of
processes sharing one copy of its pages.

All numbers little-endian. A 64-byte header, then fifteen sections in a fixed
order, each starting at a multiple of 64 bytes (so that every array can be viewed
where it lies; the gaps are zero bytes), then the trailer::

    magic           8 bytes   b"ARCHKB\\r\\n"
    version         uint32    2
    vector_length   uint32    length of every entity vector
    n_entities      uint64
    n_aliases       uint64
    n_pairs         uint64    (alias, entity) candidate pairs in total
    entity_bytes    uint64    size of the entity ID text
    alias_bytes     uint64    size of the alias text
    reserved        uint32    0
    header_crc      uint32    zlib.crc32 of the 60 header bytes before it
    -- sections
    entity_offsets  uint64[n_entities + 1]   where each ID starts in entity_text
                                             (0 first, entity_bytes last)
    entity_text     bytes[entity_bytes]      the IDs in UTF-8, in row order
    freqs           float32[n_entities]
    vectors         float32[n_entities * vector_length]   row by row
    entity_keys     uint64[n_entities]       string_hash of each ID, ascending
    entity_order    uint32[n_entities]       the row of each key (equal keys: rows ascending)
    entity_buckets  uint32[2**bits + 1]      where the keys of each top-``bits`` prefix start
    alias_offsets   uint64[n_aliases + 1]
    alias_text      bytes[alias_bytes]
    alias_starts    uint64[n_aliases + 1]    first candidate pair of each alias (n_pairs last)
    pair_entities   uint32[n_pairs]          entity row of each candidate, alias by alias
    pair_priors     float32[n_pairs]         its prior probability
    alias_keys      uint64[n_aliases]        string_hash of each alias, ascending
    alias_order     uint32[n_aliases]        the row of each key
    alias_buckets   uint32[2**bits + 1]
    -- trailer
    crc32           uint32    zlib.crc32 of every byte before it

``bits`` is ``bucket_bits(n)`` of the table's n strings (the bit length of n - 1,
so that a bucket holds one key on average). A string is found by its key: its
bucket (the key's top ``bits`` bits) gives the range of sorted keys to scan, and
the string of each row with an equal key is compared with the one looked up, so
a collision of keys costs one more comparison and never gives a wrong row. Opening a file costs the
header and a few vectorised passes over the offsets and lookup tables
(``check_tables``); its CRC-32 and the strings' UTF-8 read every byte, so a mapped
open checks them only when asked (``check_checksum``, ``check_strings``).
"""

import codecs
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Iterator, List, Tuple

import numpy

from .kb_tables import MAGIC, KBFormatError, Source, Tables, check_unique, split_strings

VERSION = 2
HEADER = struct.Struct("<8sIIQQQQQII")
TRAILER = struct.Struct("<I")
ALIGN = 64
MAX_ROWS = (1 << 32) - 1
"""Rows are stored as uint32: at most this many entities and aliases."""
INDEX = (
    "entity_keys",
    "entity_order",
    "entity_buckets",
    "alias_keys",
    "alias_order",
    "alias_buckets",
)
"""The lookup tables: used by a mapped KB, skipped (but checksummed) by a load into memory."""


def string_hash(data: bytes) -> int:
    """The 64-bit key of a string (its UTF-8 bytes) in the lookup tables: CRC-32
    in the top 32 bits (which pick the bucket), Adler-32 in the low 32. Cheap to
    compute per lookup; equal keys of different strings are told apart by
    comparing the strings."""
    return zlib.crc32(data) << 32 | zlib.adler32(data)


def bucket_bits(n: int) -> int:
    """The number of key bits that pick a bucket in a table of ``n`` strings."""
    return max(n - 1, 0).bit_length()


@dataclass(frozen=True)
class Header:
    """The sizes a version 2 header announces."""

    vector_length: int
    n_entities: int
    n_aliases: int
    n_pairs: int
    entity_bytes: int
    alias_bytes: int


@dataclass(frozen=True)
class Section:
    """Where one table lies in the file: its name, numpy dtype ("u1" for text),
    number of items and offset."""

    name: str
    dtype: str
    count: int
    offset: int

    @property
    def nbytes(self) -> int:
        return self.count * numpy.dtype(self.dtype).itemsize


def layout(header: Header) -> Tuple[List[Section], int]:
    """The sections of a file with this header, and the file's size."""
    h = header
    specs = [
        ("entity_offsets", "<u8", h.n_entities + 1),
        ("entity_text", "u1", h.entity_bytes),
        ("freqs", "<f4", h.n_entities),
        ("vectors", "<f4", h.n_entities * h.vector_length),
        ("entity_keys", "<u8", h.n_entities),
        ("entity_order", "<u4", h.n_entities),
        ("entity_buckets", "<u4", (1 << bucket_bits(h.n_entities)) + 1),
        ("alias_offsets", "<u8", h.n_aliases + 1),
        ("alias_text", "u1", h.alias_bytes),
        ("alias_starts", "<u8", h.n_aliases + 1),
        ("pair_entities", "<u4", h.n_pairs),
        ("pair_priors", "<f4", h.n_pairs),
        ("alias_keys", "<u8", h.n_aliases),
        ("alias_order", "<u4", h.n_aliases),
        ("alias_buckets", "<u4", (1 << bucket_bits(h.n_aliases)) + 1),
    ]
    sections = []
    pos = HEADER.size
    for name, dtype, count in specs:
        pos = -(-pos // ALIGN) * ALIGN
        section = Section(name, dtype, count, pos)
        sections.append(section)
        pos += section.nbytes
    return sections, pos + TRAILER.size


# -- writing ---------------------------------------------------------------------


def _strings(strings: List[str]) -> Dict[str, Any]:
    """The sections of a table of strings: offsets and text, and the lookup table
    (sorted keys, the row of each, the buckets), by name without the prefix."""
    encoded = [s.encode("utf8") for s in strings]
    n = len(encoded)
    offsets = numpy.zeros(n + 1, dtype="<u8")
    numpy.cumsum(numpy.fromiter(map(len, encoded), dtype=numpy.uint64, count=n), out=offsets[1:])
    keys = numpy.fromiter(map(string_hash, encoded), dtype=numpy.uint64, count=n)
    order = numpy.argsort(keys, kind="stable")
    keys = keys[order]
    bits = bucket_bits(n)
    prefixes = keys >> numpy.uint64(64 - bits) if bits else numpy.zeros(n, dtype=numpy.uint64)
    buckets = numpy.searchsorted(prefixes, numpy.arange((1 << bits) + 1, dtype=numpy.uint64))
    return {
        "offsets": offsets,
        "text": b"".join(encoded),
        "keys": keys.astype("<u8"),
        "order": order.astype("<u4"),
        "buckets": buckets.astype("<u4"),
    }


def _raw(part: Any) -> Any:
    """The bytes of a section without copying."""
    if isinstance(part, bytes):
        return part
    return numpy.ascontiguousarray(part).reshape(-1).data.cast("B")


def parts(tables: Tables) -> Iterator[Any]:
    """The bytes of the file for ``tables`` in pieces, the trailer left out."""
    n_ent, n_alias = len(tables.entity_ids), len(tables.aliases)
    if n_ent > MAX_ROWS or n_alias > MAX_ROWS:
        raise ValueError(f"a KB file holds at most {MAX_ROWS} entities and as many aliases")
    entities = _strings(tables.entity_ids)
    aliases = _strings(tables.aliases)
    starts = numpy.zeros(n_alias + 1, dtype="<u8")
    numpy.cumsum(tables.alias_counts, dtype=numpy.uint64, out=starts[1:])
    header = Header(
        tables.vector_length,
        n_ent,
        n_alias,
        len(tables.pair_entities),
        len(entities["text"]),
        len(aliases["text"]),
    )
    content = {
        **{f"entity_{name}": value for name, value in entities.items()},
        **{f"alias_{name}": value for name, value in aliases.items()},
        "freqs": tables.freqs.astype("<f4", copy=False),
        "vectors": numpy.ascontiguousarray(tables.vectors, dtype="<f4"),
        "alias_starts": starts,
        "pair_entities": tables.pair_entities.astype("<u4", copy=False),
        "pair_priors": tables.pair_priors.astype("<f4", copy=False),
    }
    yield pack_header(header)
    pos = HEADER.size
    for section in layout(header)[0]:
        yield bytes(section.offset - pos)
        data = _raw(content[section.name])
        assert len(data) == section.nbytes, section.name
        yield data
        pos = section.offset + section.nbytes


def pack_header(header: Header) -> bytes:
    h = header
    fields = HEADER.pack(
        MAGIC,
        VERSION,
        h.vector_length,
        h.n_entities,
        h.n_aliases,
        h.n_pairs,
        h.entity_bytes,
        h.alias_bytes,
        0,
        0,
    )
    body = fields[: HEADER.size - 4]
    return body + struct.pack("<I", zlib.crc32(body))


def dump_bytes(tables: Tables) -> bytes:
    """The tables as a version 2 file's bytes."""
    pieces = list(parts(tables))
    crc = 0
    for piece in pieces:
        crc = zlib.crc32(piece, crc)
    return b"".join(pieces) + TRAILER.pack(crc)


def dump_file(tables: Tables, path: Path) -> None:
    """Write the tables to ``path`` through a temporary file, so a failed write
    leaves no half-written KB under the final name."""
    write_atomic(path, parts(tables))


def write_atomic(path: Path, pieces: Any) -> None:
    """Write ``pieces`` and the CRC-32 trailer of their bytes to ``path`` through
    ``path.tmp``, renamed into place once complete."""
    tmp = path.with_name(path.name + ".tmp")
    crc = 0
    try:
        with tmp.open("wb") as file:
            for piece in pieces:
                crc = zlib.crc32(piece, crc)
                file.write(piece)
            file.write(TRAILER.pack(crc))
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


# -- reading ---------------------------------------------------------------------


def parse_header(raw: Any, total: int, where: str) -> Header:
    """The header of a version 2 file, checked: its own CRC-32, its fields, and
    that the file has exactly the size it announces.

    raw: The file's first bytes (at least 64 unless the file is shorter).
    total: The file's size.
    where: The file, for messages.
    """
    if total < HEADER.size:
        raise KBFormatError(
            where, f"truncated KB file: {total} bytes, shorter than the {HEADER.size}-byte header"
        )
    raw = bytes(raw[: HEADER.size])
    fields = HEADER.unpack(raw)
    reserved, stored = fields[8], fields[9]
    computed = zlib.crc32(raw[: HEADER.size - 4])
    if computed != stored:
        raise KBFormatError(
            where,
            f"the KB file's header is corrupted (checksum {computed:#010x}, "
            f"expected {stored:#010x})",
        )
    if reserved != 0:
        raise KBFormatError(where, f"invalid header: its reserved field is {reserved}, not 0")
    header = Header(*(int(v) for v in fields[2:8]))
    if header.vector_length < 1:
        raise KBFormatError(where, f"invalid entity vector length {header.vector_length}")
    if header.n_entities > MAX_ROWS or header.n_aliases > MAX_ROWS:
        raise KBFormatError(
            where, f"invalid header: more than {MAX_ROWS} entities or aliases announced"
        )
    _, expected = layout(header)
    if total < expected:
        raise KBFormatError(
            where,
            f"truncated KB file: the header announces {header.n_entities} entities, "
            f"{header.n_aliases} aliases and {header.n_pairs} candidates ({expected} bytes), "
            f"but there are only {total} bytes",
        )
    if total > expected:
        raise KBFormatError(
            where,
            f"{total - expected} unexpected bytes after the end of the KB "
            f"({expected} bytes expected)",
        )
    return header


def check_tables(arrays: Dict[str, numpy.ndarray], header: Header, where: str) -> None:
    """Check what the rows and offsets of a file's tables point at (those of
    ``arrays`` given), so that every lookup stays inside the tables: vectorised
    passes, no Python loop over the rows.

    arrays: Tables by section name (little-endian numpy arrays).
    header: The file's header.
    where: The file, for messages.
    """
    h = header
    for what, size in (("entity", h.entity_bytes), ("alias", h.alias_bytes)):
        offsets = arrays.get(f"{what}_offsets")
        if offsets is not None and not _runs(offsets, size, strictly=True):
            raise KBFormatError(
                where,
                f"the {what} offsets do not rise from 0 to {size} (every string non-empty): "
                "the file is damaged",
            )
    starts = arrays.get("alias_starts")
    if starts is not None and not _runs(starts, h.n_pairs, strictly=False):
        raise KBFormatError(where, f"the candidate counts do not add up to {h.n_pairs}")
    pairs = arrays.get("pair_entities")
    if pairs is not None and len(pairs) and int(pairs.max()) >= h.n_entities:
        raise KBFormatError(where, f"a candidate points past the {h.n_entities} entities")
    for what, n in (("entity", h.n_entities), ("alias", h.n_aliases)):
        keys, order = arrays.get(f"{what}_keys"), arrays.get(f"{what}_order")
        if keys is not None and len(keys) > 1 and not bool((keys[1:] >= keys[:-1]).all()):
            raise KBFormatError(
                where, f"the {what} lookup table is not sorted: the file is damaged"
            )
        if order is not None and len(order) and int(order.max()) >= n:
            raise KBFormatError(where, f"the {what} lookup table points past the {n} rows")
        buckets = arrays.get(f"{what}_buckets")
        if buckets is not None and not _runs(buckets, n, strictly=False):
            raise KBFormatError(
                where,
                f"the {what} lookup table's buckets do not add up to {n}: the file is damaged",
            )


def _runs(values: numpy.ndarray, last: int, strictly: bool) -> bool:
    """Whether ``values`` starts at 0, ends at ``last`` and rises (strictly or not)."""
    if len(values) == 0 or int(values[0]) != 0 or int(values[-1]) != last:
        return False
    rising = values[1:] > values[:-1] if strictly else values[1:] >= values[:-1]
    return bool(rising.all())


def check_checksum(buffer: Any, where: str) -> None:
    """Check the CRC-32 of a whole file (the first check a mapped open leaves out,
    because it reads every byte).

    buffer: The whole file (e.g. a mmap).
    where: The file, for messages.
    """
    view = memoryview(buffer)
    end = len(view) - TRAILER.size
    crc = 0
    for start in range(0, end, 1 << 24):
        crc = zlib.crc32(view[start : min(end, start + (1 << 24))], crc)
    (stored,) = TRAILER.unpack(bytes(view[end:]))
    if crc != stored:
        raise KBFormatError(
            where, f"the KB file is corrupted (checksum {crc:#010x}, expected {stored:#010x})"
        )


def check_strings(arrays: Dict[str, numpy.ndarray], where: str) -> None:
    """Check the strings of a file whose tables passed ``check_tables``: valid UTF-8,
    no string starting inside a character, and no entity ID or alias twice (the
    strings with equal keys compared; a key that does not fit its string, which
    only a crafted file has, makes lookups miss, never give a wrong row).

    arrays: The file's tables by section name.
    where: The file, for messages.
    """
    for what in ("entity", "alias"):
        offsets, text = arrays[f"{what}_offsets"], arrays[f"{what}_text"]
        decoder = codecs.getincrementaldecoder("utf8")()
        data = text.data
        try:
            for start in range(0, len(data), 1 << 24):
                decoder.decode(data[start : start + (1 << 24)])
            decoder.decode(b"", final=True)
        except UnicodeDecodeError as err:
            raise KBFormatError(where, f"an {what} string is not valid UTF-8: {err}") from None
        if len(offsets) > 1 and bool(((text[offsets[:-1]] & 0xC0) == 0x80).any()):
            raise KBFormatError(where, f"an {what} string starts inside a UTF-8 character")
        keys, order = arrays[f"{what}_keys"], arrays[f"{what}_order"]
        same = numpy.flatnonzero(keys[1:] == keys[:-1])
        runs: Dict[int, List[bytes]] = {}
        for i in sorted(set(same.tolist()) | set((same + 1).tolist())):
            row = int(order[i])
            string = bytes(text[int(offsets[row]) : int(offsets[row + 1])])
            runs.setdefault(int(keys[i]), []).append(string)
        if any(len(set(strings)) != len(strings) for strings in runs.values()):
            raise KBFormatError(
                where, "repeated aliases" if what == "alias" else "repeated entity IDs"
            )


def read(source: Source, total: int) -> Tables:
    """The tables of a version 2 file (or bytes) whose first 12 bytes were checked,
    read into memory: every byte checksummed, the lookup tables skipped (a KB in
    memory builds its own).

    source: The file or bytes, at offset 0.
    total: Their size.
    """
    where = source.where
    header = parse_header(source.read(min(total, HEADER.size)), total, where)
    sections, _ = layout(header)
    got: Dict[str, Any] = {}
    for section in sections:
        source.skip(section.offset - source.pos)
        if section.name in INDEX:
            source.skip(section.nbytes)
        elif section.dtype == "u1":
            got[section.name] = source.read(section.nbytes)
        else:
            got[section.name] = source.array(section.dtype, section.count)
    computed = source.crc
    (stored,) = TRAILER.unpack(bytes(source.read(TRAILER.size, checksum=False)))
    if stored != computed:
        raise KBFormatError(
            where, f"the KB file is corrupted (checksum {computed:#010x}, expected {stored:#010x})"
        )
    check_tables(got, header, where)
    entity_ids = split_strings(
        numpy.diff(got["entity_offsets"]), got["entity_text"], "entity", where
    )
    aliases = split_strings(numpy.diff(got["alias_offsets"]), got["alias_text"], "alias", where)
    check_unique(entity_ids, "entity", where)
    check_unique(aliases, "alias", where)
    width = header.vector_length
    return Tables(
        width,
        entity_ids,
        got["freqs"],
        got["vectors"].reshape(header.n_entities, width),
        aliases,
        numpy.diff(got["alias_starts"]).astype(numpy.uint32),
        got["pair_entities"],
        got["pair_priors"],
    )
