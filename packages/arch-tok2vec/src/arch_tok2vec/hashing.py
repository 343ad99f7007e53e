"""String hashing that matches spaCy's StringStore bit for bit.

A string maps to a uint64 key: ``""`` is 0, a name in spaCy's symbol table maps to
its small symbol id, and anything else to MurmurHash64A (seed 1) of its UTF-8
bytes. The hash runs vectorised over a batch of strings with numpy, so building
many new lexemes at once costs a handful of array operations per 8-byte block
rather than a Python loop per byte.
"""

import json
from importlib import resources
from typing import Dict, Iterable, List, Sequence

import numpy

_M = numpy.uint64(0xC6A4A7935BD1E995)
_R = numpy.uint64(47)
_CHUNK = 4096
# Below this many strings, hashing one by one in Python beats the fixed cost of
# the vectorised path.
_SMALL = 24
_MASK = (1 << 64) - 1
_M_INT = 0xC6A4A7935BD1E995


def _load_symbols() -> Dict[str, int]:
    text = resources.files(__package__).joinpath("symbols.json").read_text("utf8")
    names = json.loads(text)["names_by_id"]
    return {name: i for i, name in enumerate(names) if name}


SYMBOLS: Dict[str, int] = _load_symbols()


def murmurhash64a(strings: Sequence[str], seed: int = 1) -> numpy.ndarray:
    """Hash each string's UTF-8 bytes with MurmurHash64A.

    strings: The strings to hash.
    seed: The hash seed (spaCy's string store uses 1).
    RETURNS: A uint64 array with one hash per string.
    """
    if len(strings) < _SMALL:
        return numpy.array([_hash_one(s.encode("utf8"), seed) for s in strings], dtype=numpy.uint64)
    out = numpy.empty(len(strings), dtype=numpy.uint64)
    encoded = [s.encode("utf8") for s in strings]
    lengths = numpy.fromiter(map(len, encoded), dtype=numpy.int64, count=len(encoded))
    # Sort by length so each chunk pads to a similar width.
    order = numpy.argsort(lengths, kind="stable")
    for start in range(0, len(order), _CHUNK):
        idx = order[start : start + _CHUNK]
        out[idx] = _hash_chunk([encoded[i] for i in idx], lengths[idx], seed)
    return out


def _hash_one(data: bytes, seed: int) -> int:
    """MurmurHash64A of one byte string, in plain integer arithmetic."""
    m = _M_INT
    h = (seed ^ (len(data) * m)) & _MASK
    n_full = len(data) // 8
    if n_full:
        for k in numpy.frombuffer(data, dtype="<u8", count=n_full).tolist():
            k = (k * m) & _MASK
            k ^= k >> 47
            h = ((h ^ ((k * m) & _MASK)) * m) & _MASK
    tail = data[8 * n_full :]
    if tail:
        h = ((h ^ int.from_bytes(tail, "little")) * m) & _MASK
    h ^= h >> 47
    h = (h * m) & _MASK
    return h ^ (h >> 47)


def _hash_chunk(encoded: List[bytes], lengths: numpy.ndarray, seed: int) -> numpy.ndarray:
    n = len(encoded)
    n_blocks = int(lengths.max()) // 8 + 1
    width = n_blocks * 8
    buf = numpy.zeros((n, width), dtype=numpy.uint8)
    flat = numpy.frombuffer(b"".join(encoded), dtype=numpy.uint8)
    if flat.size:
        rows = numpy.repeat(numpy.arange(n), lengths)
        starts = numpy.cumsum(lengths) - lengths
        cols = numpy.arange(flat.size) - numpy.repeat(starts, lengths)
        buf[rows, cols] = flat
    blocks = buf.view("<u8")
    ulen = lengths.astype(numpy.uint64)
    h = numpy.full(n, seed, dtype=numpy.uint64) ^ (ulen * _M)
    n_full = lengths // 8
    for j in range(int(n_full.max())):
        k = blocks[:, j] * _M
        k ^= k >> _R
        k *= _M
        h = numpy.where(n_full > j, (h ^ k) * _M, h)
    # Bytes past the end are zero, so the block holding the tail is exactly the
    # tail bytes read as a little-endian integer.
    tail = blocks[numpy.arange(n), n_full]
    h = numpy.where(lengths % 8 != 0, (h ^ tail) * _M, h)
    h ^= h >> _R
    h *= _M
    h ^= h >> _R
    return h


def string_ids(strings: Iterable[str]) -> numpy.ndarray:
    """Map strings to the keys spaCy's StringStore gives them.

    strings: The strings.
    RETURNS: A uint64 array: 0 for "", the symbol id for symbol names, else
        MurmurHash64A with seed 1.
    """
    strings = list(strings)
    out = murmurhash64a(strings)
    for i, s in enumerate(strings):
        symbol = SYMBOLS.get(s)
        if symbol is not None:
            out[i] = symbol
        elif not s:
            out[i] = 0
    return out


def string_id(string: str) -> int:
    """The StringStore key of one string (see ``string_ids``)."""
    return int(string_ids([string])[0])
