"""Format version 1 of a saved ``KnowledgeBase``: written by arch-entitylinker 0.3.2
and older (also inside the task.json of the entity linkers they saved), read into
memory. It cannot be mapped; ``KnowledgeBase.load(path).to_disk(path)`` turns a
version 1 file into version 2.

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
"""

import struct
import zlib
from typing import Any, List

import numpy

from .kb_tables import MAGIC, KBFormatError, Source, Tables, check_unique, split_strings

VERSION = 1
HEADER = struct.Struct("<8sIIQQQQQ")
TRAILER = struct.Struct("<I")


def _encode(strings: List[str]) -> "tuple[numpy.ndarray, bytes]":
    encoded = [s.encode("utf8") for s in strings]
    lengths = numpy.fromiter(map(len, encoded), dtype=numpy.uint32, count=len(encoded))
    return lengths, b"".join(encoded)


def _raw(part: Any) -> Any:
    """The bytes of a section without copying (an empty one as b"")."""
    if isinstance(part, bytes):
        return part
    return memoryview(part.reshape(-1)).cast("B") if part.size else b""


def dump_bytes(tables: Tables) -> bytes:
    """The tables in format version 1 (for files that older releases must read)."""
    e_lengths, e_text = _encode(tables.entity_ids)
    a_lengths, a_text = _encode(tables.aliases)
    header = HEADER.pack(
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
    parts = [header] + [_raw(part) for part in as_le]
    crc = 0
    for part in parts:
        crc = zlib.crc32(part, crc)
    return b"".join(parts) + TRAILER.pack(crc)


def read(source: Source, total: int) -> Tables:
    """The tables of a version 1 file whose first 12 bytes were checked.

    source: The file or bytes, at offset 0.
    total: Their size.
    """
    where = source.where
    if total < HEADER.size:
        raise KBFormatError(
            where, f"truncated KB file: {total} bytes, shorter than the {HEADER.size}-byte header"
        )
    header = HEADER.unpack(bytes(source.read(HEADER.size)))
    _, _, width, n_ent, n_alias, n_pairs, e_bytes, a_bytes = header
    if width < 1:
        raise KBFormatError(where, f"invalid entity vector length {width}")
    expected = (
        HEADER.size
        + 4 * n_ent
        + e_bytes
        + 4 * n_ent
        + 4 * n_ent * width
        + 4 * n_alias
        + a_bytes
        + 4 * n_alias
        + 8 * n_pairs
        + TRAILER.size
    )
    if total < expected:
        raise KBFormatError(
            where,
            f"truncated KB file: the header announces {n_ent} entities, {n_alias} "
            f"aliases and {n_pairs} candidates ({expected} bytes), but there are only {total} "
            "bytes",
        )
    if total > expected:
        raise KBFormatError(
            where,
            f"{total - expected} unexpected bytes after the end of the KB "
            f"({expected} bytes expected)",
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
    (stored,) = TRAILER.unpack(bytes(source.read(TRAILER.size, checksum=False)))
    if stored != computed:
        raise KBFormatError(
            where, f"the KB file is corrupted (checksum {computed:#010x}, expected {stored:#010x})"
        )
    if int(counts.sum(dtype=numpy.int64)) != n_pairs:
        raise KBFormatError(where, f"the candidate counts do not add up to {n_pairs}")
    if n_pairs and int(pair_entities.max()) >= n_ent:
        raise KBFormatError(where, f"a candidate points past the {n_ent} entities")
    entity_ids = split_strings(e_lengths, e_text, "entity", where)
    aliases = split_strings(a_lengths, a_text, "alias", where)
    check_unique(entity_ids, "entity", where)
    check_unique(aliases, "alias", where)
    return Tables(
        int(width), entity_ids, freqs, vectors, aliases, counts, pair_entities, pair_priors
    )
