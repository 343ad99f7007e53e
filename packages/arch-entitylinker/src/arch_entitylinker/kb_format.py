"""The binary formats of a saved ``KnowledgeBase``, and the reader each file gets.

``to_bytes`` / ``to_disk`` write format version 2 (``kb_format_v2``): sections
aligned to 64 bytes and lookup tables kept in the file, so that the file can be
mapped read-only and used in place by any number of processes
(``KnowledgeBase.load(path, mmap=True)``). Version 1 (``kb_format_v1``, written by
arch-entitylinker 0.3.2 and older and inside the task.json of the entity linkers
they saved) is still read, into memory.

Both versions start with the magic ``b"ARCHKB\\r\\n"`` and a uint32 version, and
end with a CRC-32 of every byte before it. Readers check, in this order: the
magic ("not a KB file"), the version (a newer one is refused, naming both), the
header (version 2: its own CRC-32, "header is corrupted"), the length
("truncated", with the bytes expected and found, or "unexpected bytes"), the
checksum ("corrupted") and the consistency of the tables (counts add up, rows and
offsets in range, IDs unique). A mapped open checks everything but the checksum,
UTF-8 and uniqueness, which read every byte, unless asked to verify
(``map_file(path, verify=True)``). Writing the same KB twice gives identical bytes.
"""

from pathlib import Path
from typing import Union

from . import kb_format_v1, kb_format_v2
from .kb_mapped import MappedTables, map_file
from .kb_tables import MAGIC, PREFIX, KBFormatError, Source, Tables, read_version

VERSION = kb_format_v2.VERSION
"""The version written."""

__all__ = [
    "MAGIC",
    "VERSION",
    "KBFormatError",
    "MappedTables",
    "Tables",
    "dump_bytes",
    "dump_file",
    "load_bytes",
    "load_file",
    "map_file",
]


def dump_bytes(tables: Tables) -> bytes:
    """The tables in the current format (version 2)."""
    return kb_format_v2.dump_bytes(tables)


def dump_file(tables: Tables, path: Path) -> None:
    """Write the tables to ``path`` in the current format, through a temporary
    file, so a failed write leaves no half-written KB under the final name."""
    kb_format_v2.dump_file(tables, path)


def _load(source: Source) -> Tables:
    total = source.size()
    if source.data is not None:
        prefix = bytes(source.data[: PREFIX.size])
    else:
        prefix = source.file.read(PREFIX.size)
        source.file.seek(0)
    version = read_version(prefix, total, source.where, VERSION)
    reader = kb_format_v1.read if version == 1 else kb_format_v2.read
    return reader(source, total)


def load_bytes(data: Union[bytes, bytearray, memoryview], where: str) -> Tables:
    """The tables of a KB saved in any version, from its bytes.

    data: The bytes.
    where: What they are, for messages (e.g. "the bytes given").
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"from_bytes needs bytes, got {type(data).__name__}")
    return _load(Source(where, data=data))


def load_file(path: Path) -> Tables:
    """The tables of a KB file saved in any version, read into memory."""
    with path.open("rb") as file:
        return _load(Source(str(path), file=file))
