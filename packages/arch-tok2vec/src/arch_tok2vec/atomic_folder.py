"""Saving a folder atomically: write a complete hidden sibling, flush it, swap it in.

``replace_folder(path, fill)`` has ``fill`` write the new folder's files into an empty
hidden sibling of ``path`` (``.NAME.new-PID-TOKEN``), flushes every file and the
folder to disk (fsync), then swaps the sibling in:

- on Linux with one ``renameat2(RENAME_EXCHANGE)``: at every instant ``path`` is the
  previous complete folder or the new one;
- elsewhere, or on a file system without it, with two renames: ``path`` is moved aside
  to ``.NAME.old-PID-TOKEN``, then the new folder is renamed to ``path``. Between the
  two, ``path`` is missing and both complete folders sit beside it; ``siblings`` finds
  them so that a reader can use one.

A failed save removes its sibling and leaves ``path`` as it was. Siblings left by a
save that was killed are removed by the next save of the same folder. One process
at a time may save a given folder.

``set_hook`` installs a function called at every step of a save with the step's name
(``"write model.bin 262144/1783949"``, ``"swapped"``, ...): the fault-injection tests
use it to pause a writer there (and kill it) or to raise an error there.
"""

import ctypes
import errno
import os
import re
import secrets
import shutil
import sys
from pathlib import Path
from typing import Any, Callable, List, Optional

CHUNK = 1 << 18
"""Bytes written per ``os.write`` call (a step of its own for ``set_hook``)."""

NEW = "new"
OLD = "old"

use_exchange = True
"""Swap with renameat2(RENAME_EXCHANGE) where the system has it; the tests set this
to False to exercise the two-rename swap."""

Hook = Callable[[str], None]
_hook: Optional[Hook] = None

_AT_FDCWD = -100
_RENAME_EXCHANGE = 2
_UNSUPPORTED = {errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EPERM}


def set_hook(hook: Optional[Hook]) -> Optional[Hook]:
    """Call ``hook(step)`` at every step of every save from now on (None: stop);
    returns the hook installed before.

    hook: A function taking the name of the step just done.
    """
    global _hook
    previous, _hook = _hook, hook
    return previous


def checkpoint(step: str) -> None:
    """Report a step of a save to the hook, if one is installed.

    step: What was just done, e.g. ``"wrote task.json"``.
    """
    if _hook is not None:
        _hook(step)


def write_file(folder: Path, name: str, data: bytes) -> None:
    """Create ``folder/name`` (it must not exist yet), write ``data`` in chunks of
    ``CHUNK`` bytes and flush it to disk.

    folder: The folder being filled.
    name: The file's name in it.
    data: Its whole content.
    """
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    fd = os.open(folder / name, flags, 0o666)
    try:
        view = memoryview(data)
        done = 0
        while done < len(view):
            done += os.write(fd, view[done : done + CHUNK])
            checkpoint(f"write {name} {done}/{len(view)}")
        os.fsync(fd)
    except OSError as err:
        if err.filename is not None:
            raise
        raise OSError(err.errno, err.strerror, str(folder / name)) from err
    finally:
        os.close(fd)
    checkpoint(f"wrote {name}")


def sync_file(path: Path) -> None:
    """Flush a file written by someone else (e.g. a task) to disk.

    path: The file.
    """
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def sync_folder(path: Path) -> None:
    """Flush a folder's list of names to disk (nothing where folders cannot be
    opened, as on Windows).

    path: The folder.
    """
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:  # some file systems refuse fsync on a folder
        pass
    finally:
        os.close(fd)


def sibling(path: Path, kind: str) -> Path:
    """A fresh hidden name beside ``path`` for a new (``NEW``) or displaced (``OLD``)
    folder.

    path: The folder being saved.
    kind: NEW or OLD.
    """
    return path.with_name(f".{path.name}.{kind}-{os.getpid()}-{secrets.token_hex(4)}")


def siblings(path: Path, kind: Optional[str] = None) -> List[Path]:
    """The hidden siblings that saves of ``path`` made and did not remove (they were
    killed), newest first; NEW ones before OLD ones when ``kind`` is None.

    path: The folder.
    kind: Only NEW or only OLD ones; None: both.
    """
    pattern = re.compile(
        rf"^\.{re.escape(path.name)}\.({NEW}|{OLD})-\d+-[0-9a-f]{{8}}$",
    )
    try:
        names = os.listdir(path.parent)
    except OSError:
        return []
    found = []
    for name in names:
        match = pattern.match(name)
        if match and (kind is None or match.group(1) == kind):
            candidate = path.parent / name
            try:
                mtime = candidate.lstat().st_mtime
            except OSError:
                continue
            found.append((match.group(1) != NEW, -mtime, candidate))
    return [candidate for _, _, candidate in sorted(found)]


def replace_folder(path: Path, fill: Callable[[Path], None]) -> None:
    """Write the folder ``path`` anew, atomically (see the module docstring).

    path: The folder to write; its parent is created if needed. An existing folder
        there is replaced as a whole (check that it may be, first).
    fill: Writes the files of the new folder into the empty folder it is given (use
        ``write_file``, or flush what it writes otherwise).
    Raises OSError naming ``path`` if the save fails; ``path`` is then unchanged.
    """
    path = Path(path)
    if path.is_symlink():
        path = path.resolve()
    if path.exists() and not path.is_dir():
        raise FileExistsError(errno.EEXIST, f"cannot save to {path}: it is a file, not a folder")
    existed = path.exists()
    new: Optional[Path] = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        for stale in siblings(path, NEW):
            shutil.rmtree(stale, ignore_errors=True)
        new = sibling(path, NEW)
        new.mkdir()
        checkpoint(f"made the new folder {new.name}")
        fill(new)
        sync_folder(new)
        checkpoint("synced the new folder")
        previous = _swap(path, new)
    except OSError as err:
        if new is not None and new.exists():
            shutil.rmtree(new, ignore_errors=True)
        kept = "the previous folder there is unchanged" if existed else "nothing was saved"
        reason = err.strerror or str(err)
        if err.filename is not None and Path(err.filename).name != path.name:
            reason += f" ({Path(err.filename).name})"
        raise OSError(err.errno, f"cannot save {path}: {reason}; {kept}") from err
    except BaseException:
        if new is not None and new.exists():
            shutil.rmtree(new, ignore_errors=True)
        raise
    # The new folder is in place: what follows only tidies up, and a failure there
    # leaves hidden siblings that the next save removes.
    checkpoint("swapped")
    if previous is not None and previous == new:
        # exchanged: the previous folder sits at the new folder's hidden name
        try:
            os.rename(new, sibling(path, OLD))
        except OSError:
            pass
        checkpoint("renamed the previous folder")
    sync_folder(path.parent)
    checkpoint("synced the parent folder")
    for leftover in siblings(path):
        shutil.rmtree(leftover, ignore_errors=True)
        checkpoint("removed a leftover folder")


def _swap(path: Path, new: Path) -> Optional[Path]:
    """Put the complete folder ``new`` in the place of ``path``; returns where the
    previous folder went (None: there was none). If this raises, ``path`` is as it
    was."""
    if not os.path.lexists(path):
        os.rename(new, path)
        return None
    if exchange(new, path):
        return new
    old = sibling(path, OLD)
    os.rename(path, old)
    try:
        checkpoint("moved the previous folder aside")
        os.rename(new, path)
    except BaseException:
        if not os.path.lexists(path):
            os.rename(old, path)
        raise
    return old


def exchange(a: Path, b: Path) -> bool:
    """Swap two existing paths in one step (Linux ``renameat2`` with
    ``RENAME_EXCHANGE``); False where the system or file system cannot.

    a: One path.
    b: The other, in the same file system.
    """
    if not use_exchange:
        return False
    renameat2 = _renameat2()
    if renameat2 is None:
        return False
    if renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in _UNSUPPORTED:
        return False
    raise OSError(code, os.strerror(code), str(b))


_renameat2_function: Any = None


def _renameat2() -> Any:
    """libc's renameat2, or None (not Linux, or a libc without it)."""
    global _renameat2_function
    if _renameat2_function is None:
        function: Any = False
        if sys.platform.startswith("linux"):
            try:
                libc = ctypes.CDLL(None, use_errno=True)
                function = libc.renameat2
                function.argtypes = [
                    ctypes.c_int,
                    ctypes.c_char_p,
                    ctypes.c_int,
                    ctypes.c_char_p,
                    ctypes.c_uint,
                ]
                function.restype = ctypes.c_int
            except (OSError, AttributeError):
                function = False
        _renameat2_function = function
    return _renameat2_function or None
