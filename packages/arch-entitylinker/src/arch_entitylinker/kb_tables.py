"""What every saved-KB format shares: the tables a KB is saved as, the error a bad
file raises, the first 12 bytes, and sequential reading with a running checksum.

Every version starts with the same 12 bytes (``MAGIC``, then the uint32 format
version, little-endian), so a reader can tell a KB file from anything else and
its version from the first bytes, whatever the rest holds.
"""

import struct
import zlib
from dataclasses import dataclass
from typing import Any, List

import numpy

MAGIC = b"ARCHKB\r\n"
PREFIX = struct.Struct("<8sI")
"""The magic and the format version."""


class KBFormatError(ValueError):
    """A saved KB that cannot be read; the message says where and why.

    where: The file (or "the bytes given").
    reason: What is wrong with it.
    """

    def __init__(self, where: str, reason: str):
        self.where = where
        self.reason = reason
        super().__init__(f"{where}: {reason}")


@dataclass
class Tables:
    """The content of a KB as flat tables (what the formats store)."""

    vector_length: int
    entity_ids: List[str]
    freqs: numpy.ndarray
    vectors: numpy.ndarray
    aliases: List[str]
    alias_counts: numpy.ndarray
    pair_entities: numpy.ndarray
    pair_priors: numpy.ndarray


def read_version(prefix: bytes, total: int, where: str, newest: int) -> int:
    """The format version of a KB file from its first bytes, after checking the magic;
    KBFormatError for something that is not a KB file, a file cut inside the prefix,
    or a version newer than ``newest``.

    prefix: The file's first bytes (up to 12).
    total: The file's size.
    where: The file, for messages.
    newest: The newest version this reader knows.
    """
    if total < len(MAGIC):
        raise KBFormatError(
            where,
            f"not a KB file, or truncated: only {total} bytes "
            f"(a saved KnowledgeBase starts with {MAGIC!r})",
        )
    if bytes(prefix[: len(MAGIC)]) != MAGIC:
        raise KBFormatError(where, f"not a KB file (it does not start with {MAGIC!r})")
    if total < PREFIX.size:
        raise KBFormatError(
            where, f"truncated KB file: {total} bytes, shorter than the format version"
        )
    _, version = PREFIX.unpack(bytes(prefix[: PREFIX.size]))
    if version > newest:
        raise KBFormatError(
            where,
            f"KB format version {version} is newer than this version of "
            f"arch-entitylinker reads (up to {newest}); upgrade arch-entitylinker",
        )
    if version < 1:
        raise KBFormatError(where, f"invalid KB format version {version}")
    return int(version)


class Source:
    """Sequential reads from bytes or a file, with the running CRC-32."""

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
        """The next ``n`` bytes (a memoryview); KBFormatError if there are fewer."""
        if self.data is not None:
            chunk: Any = self.data[self.pos : self.pos + n]
        else:
            buffer = bytearray(n)
            got = self.file.readinto(buffer)
            chunk = memoryview(buffer)[:got]
        if len(chunk) != n:
            raise KBFormatError(
                self.where,
                f"truncated KB file: needed {n} more bytes at offset {self.pos}, "
                f"found {len(chunk)}",
            )
        self.pos += n
        if checksum:
            self.crc = zlib.crc32(chunk, self.crc)
        return chunk

    def skip(self, n: int) -> None:
        """Read past ``n`` bytes, adding them to the checksum (1 MiB at a time)."""
        while n > 0:
            step = min(n, 1 << 20)
            self.read(step)
            n -= step

    def array(self, dtype: str, count: int) -> numpy.ndarray:
        """The next ``count`` items of a little-endian ``dtype`` (e.g. "<u4"), as a
        writeable array of the machine's byte order."""
        itemsize = numpy.dtype(dtype).itemsize
        chunk = self.read(itemsize * count)
        out = numpy.frombuffer(chunk, dtype=dtype)
        if not out.flags.writeable:
            out = out.copy()
        return out.astype(dtype[1:], copy=False)


def split_strings(lengths: numpy.ndarray, text: Any, what: str, where: str) -> List[str]:
    """The strings of a table: ``text`` cut into pieces of ``lengths`` bytes, decoded.

    lengths: The UTF-8 byte length of each string.
    text: The strings' bytes, concatenated.
    what: "entity" or "alias", for messages.
    where: The file, for messages.
    """
    lengths = lengths.astype(numpy.int64)
    ends = numpy.cumsum(lengths)
    if len(ends) and ends[-1] != len(text):
        raise KBFormatError(where, f"the {what} lengths do not add up to the {what} text")
    blob = bytes(text)
    starts = (ends - lengths).tolist()
    try:
        return [blob[a:b].decode("utf8") for a, b in zip(starts, ends.tolist())]
    except UnicodeDecodeError as err:
        raise KBFormatError(where, f"an {what} string is not valid UTF-8: {err}") from None


def check_unique(strings: List[str], what: str, where: str) -> None:
    """KBFormatError if a string of a table occurs twice."""
    if len(set(strings)) != len(strings):
        raise KBFormatError(where, "repeated aliases" if what == "alias" else "repeated entity IDs")
