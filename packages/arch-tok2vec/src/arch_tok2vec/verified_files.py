"""The task files of model folders whose sha256 this process has verified, so that
loading the same model again does not read and hash them again.

A task's own files can be large (an entity linker's knowledge base of a million
entities is a 360 MB file whose sha256 takes about 0.4 s), and a corpus run loads
the same model in every worker process. ``model_files.read_folder`` records each
task file whose checksum matched its manifest, and a later load in this process,
or in a process forked from it after the load, takes the recorded checksum
instead of reading the file, if the file is the same one.

The same file means the same identity, read with ``fstat`` from the open file:
device, inode, size, and last modification and status change times in
nanoseconds. Writing to a file or renaming another over it changes its identity
(the change time cannot be set back), so a file changed since it was verified is
read and hashed again. A file is recorded only if it had not changed for
``RACY_SECONDS`` when its hashing started (a write in the same clock tick as the
hashing could otherwise leave the times as they were; git's index has the same
rule), and only if its identity was the same before and after the hashing.
"""

import os
import time
from typing import Dict, Optional, Tuple

RACY_SECONDS = 2
"""How long a file must have been unchanged, when its hashing starts, to be recorded."""
MAX_ENTRIES = 4096

Identity = Tuple[int, int, int, int, int]
_VERIFIED: Dict[Identity, str] = {}


def identity(info: os.stat_result) -> Identity:
    """What tells a file apart from a changed or replaced one.

    info: The file's ``os.fstat`` (or ``os.stat``) result.
    """
    return (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns)


def checksum(info: os.stat_result) -> Optional[str]:
    """The sha256 verified for this file earlier in this process, or None.

    info: The ``os.fstat`` of the open file.
    """
    return _VERIFIED.get(identity(info))


def is_verified(info: os.stat_result) -> bool:
    """Whether this file's sha256 matched a model folder's manifest in this process
    (the file unchanged since).

    info: The ``os.fstat`` of the open file.
    """
    return identity(info) in _VERIFIED


def record(before: os.stat_result, after: os.stat_result, sha256: str, started_ns: int) -> bool:
    """Record that a file's sha256 matched its manifest; returns whether it was
    recorded (not if the file changed while it was hashed or too shortly before).

    before: The file's ``os.fstat`` before it was read.
    after: Its ``os.fstat`` after it was read.
    sha256: The checksum computed (and found equal to the manifest's).
    started_ns: ``time.time_ns()`` when the hashing started.
    """
    if identity(before) != identity(after):
        return False
    last_change = max(before.st_mtime_ns, before.st_ctime_ns)
    if last_change > started_ns - RACY_SECONDS * 1_000_000_000:
        return False
    if len(_VERIFIED) >= MAX_ENTRIES:
        del _VERIFIED[next(iter(_VERIFIED))]
    _VERIFIED[identity(before)] = sha256
    return True


def now_ns() -> int:
    """The wall-clock time in ns, as file times are."""
    return time.time_ns()


def forget() -> None:
    """Forget every recorded file (the next load reads and hashes them again)."""
    _VERIFIED.clear()
