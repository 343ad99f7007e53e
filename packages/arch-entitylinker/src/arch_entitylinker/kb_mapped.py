"""A version 2 KB file mapped read-only: its tables used where they lie.

``map_file`` maps the file (``mmap``, read-only, shared), checks its header and
tables (``kb_format_v2``) and gives the arrays a ``KnowledgeBase`` reads: numpy
views of the vectors, and sequences of the strings, frequencies and candidate
pairs whose items are read from the mapped pages on access. Nothing is copied
into the process, so processes that map the same file share one copy of its
pages (the operating system's page cache), and opening costs the header and a
few vectorised passes over the offsets and lookup tables, not a read of the file.

Strings are found through the file's lookup tables (``HashIndex``), not through
per-process dicts.
"""

import mmap
import os
import sys
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple, Union, overload

import numpy

from . import kb_format_v2 as v2
from .kb_tables import PREFIX, KBFormatError, read_version

IdentityKey = Tuple[int, int, int, int, int]


def _items(array: numpy.ndarray) -> Sequence[Any]:
    """Fast item access to a little-endian array: a memoryview of it (items as
    Python ints and floats) on a little-endian machine, the array elsewhere."""
    if sys.byteorder == "little":
        view: Any = array.data
        return view.cast("B").cast(array.dtype.char)  # type: ignore[no-any-return]
    return array  # type: ignore[return-value]


class StringColumn(Sequence[str]):
    """The strings of one table of a mapped file, decoded when read.

    offsets: Where each string starts in ``text`` (one more than the strings).
    text: The strings' UTF-8 bytes (a memoryview of the mapped file).
    what: "entity" or "alias", for messages.
    where: The file, for messages.
    """

    def __init__(self, offsets: Sequence[int], text: memoryview, what: str, where: str):
        self._offsets = offsets
        self._text = text
        self._what = what
        self._where = where

    def __len__(self) -> int:
        return len(self._offsets) - 1

    def encoded(self, row: int) -> memoryview:
        """The UTF-8 bytes of one string, where they lie."""
        return self._text[self._offsets[row] : self._offsets[row + 1]]

    @overload
    def __getitem__(self, row: int) -> str: ...

    @overload
    def __getitem__(self, row: slice) -> List[str]: ...

    def __getitem__(self, row: Union[int, slice]) -> Union[str, List[str]]:
        if isinstance(row, slice):
            return [self[i] for i in range(*row.indices(len(self)))]
        n = len(self._offsets) - 1
        if row < 0:
            row += n
        if not 0 <= row < n:
            raise IndexError(f"{self._what} row {row} out of range ({n} rows)")
        return self._decode(self._text[self._offsets[row] : self._offsets[row + 1]], row)

    def __iter__(self) -> Iterator[str]:
        blob = bytes(self._text)
        offsets = list(self._offsets)
        for row in range(len(self)):
            yield self._decode(blob[offsets[row] : offsets[row + 1]], row)

    def _decode(self, data: Any, row: int) -> str:
        try:
            return str(data, "utf8")
        except UnicodeDecodeError as err:
            raise KBFormatError(
                self._where, f"{self._what} string {row} is not valid UTF-8: {err}"
            ) from None


class HashIndex:
    """A mapped file's lookup table of one kind of string: sorted 64-bit keys, the
    row of each, and the buckets (where the keys of each prefix start); ``get``
    scans the bucket of a string's key and compares the string itself.

    keys: The keys, ascending (``kb_format_v2.string_hash``).
    order: The row of each key.
    buckets: Where the keys whose top bits are b start, for each b, then len(keys).
    strings: The strings, to compare.
    """

    def __init__(
        self,
        keys: Sequence[int],
        order: Sequence[int],
        buckets: Sequence[int],
        strings: StringColumn,
    ):
        self._keys = keys
        self._order = order
        self._buckets = buckets
        self._shift = 64 - v2.bucket_bits(len(keys))
        self._offsets = strings._offsets
        self._text = strings._text

    def get(self, text: Any, default: Optional[int] = None) -> Optional[int]:
        """The row of ``text``, or ``default`` if the table does not hold it."""
        if not isinstance(text, str):
            return default
        try:
            data = text.encode("utf8")
        except UnicodeEncodeError:  # lone surrogates: no stored string is like that
            return default
        key = v2.string_hash(data)
        bucket = key >> self._shift
        keys, offsets = self._keys, self._offsets
        for i in range(self._buckets[bucket], self._buckets[bucket + 1]):
            if keys[i] == key:
                row = int(self._order[i])
                if self._text[offsets[row] : offsets[row + 1]] == data:
                    return row
        return default

    def __contains__(self, text: Any) -> bool:
        return self.get(text) is not None


class MappedTables:
    """A version 2 KB file mapped read-only, checked and ready for lookups.

    Attributes read by ``KnowledgeBase``: ``header``, ``entity_ids`` /
    ``aliases`` (StringColumn), ``entity_rows`` / ``alias_rows`` (HashIndex),
    ``freqs``, ``alias_starts``, ``pair_entities``, ``pair_priors`` (sequences of
    Python numbers), ``vectors`` (a read-only float32 array), ``path`` and
    ``stat`` (the mapped file's, from the open descriptor), ``verified``
    (whether ``verify`` has checked the CRC-32).
    """

    def __init__(self, path: Path, buffer: mmap.mmap, stat: os.stat_result, verified: bool):
        self.path = path
        self.where = str(path)
        self.buffer = buffer
        self.stat = stat
        self.verified = False
        prefix = buffer[: PREFIX.size]
        version = read_version(prefix, stat.st_size, self.where, v2.VERSION)
        if version == 1:
            raise KBFormatError(
                self.where,
                "KB format version 1 cannot be mapped (its tables are not aligned and it has "
                "no lookup tables): load it into memory with KnowledgeBase.load(path), or "
                "save it once as format 2 with KnowledgeBase.load(path).to_disk(path)",
            )
        self.header = v2.parse_header(buffer[: v2.HEADER.size], stat.st_size, self.where)
        if verified:  # the checksum first, as a load into memory
            v2.check_checksum(buffer, self.where)
        sections, _ = v2.layout(self.header)
        self.arrays: Dict[str, numpy.ndarray] = {
            s.name: numpy.frombuffer(buffer, dtype=s.dtype, count=s.count, offset=s.offset)
            for s in sections
        }
        v2.check_tables(self.arrays, self.header, self.where)
        arrays = self.arrays
        text = {what: arrays[f"{what}_text"].data for what in ("entity", "alias")}
        self.entity_ids = StringColumn(
            _items(arrays["entity_offsets"]), text["entity"], "entity", self.where
        )
        self.aliases = StringColumn(
            _items(arrays["alias_offsets"]), text["alias"], "alias", self.where
        )
        self.entity_rows = self._index("entity", self.entity_ids)
        self.alias_rows = self._index("alias", self.aliases)
        self.freqs = _items(arrays["freqs"])
        self.alias_starts = _items(arrays["alias_starts"])
        self.pair_entities = _items(arrays["pair_entities"])
        self.pair_priors = _items(arrays["pair_priors"])
        width = self.header.vector_length
        self.vectors = arrays["vectors"].reshape(self.header.n_entities, width)
        if verified:
            v2.check_strings(self.arrays, self.where)
            self.verified = True

    def _index(self, what: str, strings: StringColumn) -> HashIndex:
        arrays = self.arrays
        return HashIndex(
            _items(arrays[f"{what}_keys"]),
            _items(arrays[f"{what}_order"]),
            _items(arrays[f"{what}_buckets"]),
            strings,
        )

    def verify(self) -> None:
        """Check what opening leaves out because it reads the whole file: the
        CRC-32, valid UTF-8, no repeated entity ID or alias (KBFormatError)."""
        if not self.verified:
            v2.check_checksum(self.buffer, self.where)
            v2.check_strings(self.arrays, self.where)
            self.verified = True

    def identity(self) -> IdentityKey:
        """The mapped file's device, inode, size, and modification and change
        times (ns): another open of the same path is the same file if equal."""
        return identity(self.stat)


def identity(stat: os.stat_result) -> IdentityKey:
    return (stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns)


def map_file(path: Path, verify: bool) -> MappedTables:
    """Map a version 2 KB file read-only and check it (see ``MappedTables``).

    path: The file.
    verify: Also check the CRC-32, UTF-8 and uniqueness (reads the whole file).
    Raises KBFormatError naming the file for a damaged, truncated, version 1 or
    newer file; OSError if it cannot be opened.
    """
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
    try:
        stat = os.fstat(fd)
        if stat.st_size < PREFIX.size:  # mmap refuses an empty file
            read_version(os.read(fd, PREFIX.size), stat.st_size, str(path), v2.VERSION)
        buffer = mmap.mmap(fd, 0, access=mmap.ACCESS_READ)
    finally:
        os.close(fd)
    return MappedTables(path, buffer, stat, verify)
