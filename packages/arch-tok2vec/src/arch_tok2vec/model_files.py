"""What a model folder holds, its manifest, and the checks made before anything in
it is parsed.

A folder written by ``Pipeline.to_disk`` holds ``config.cfg``, ``model.bin``,
``task.json``, ``meta.json``, any files of the task's own (``Task.write_files``) and
``manifest.json``::

    {
      "format": "arch-model-folder/1",
      "files": {"config.cfg": {"sha256": "...", "size": 502}, ...},
      "written_by": {"arch-tagger": "0.1.1", "arch-tok2vec": "0.1.1", "numpy": "2.4.6",
                     "python": "3.11.9", "thinc": "8.3.14"},
      "sha256": "..."
    }

``sha256`` at the end is the checksum of the rest (its JSON with sorted keys and no
spaces), so a changed byte anywhere in any file, the manifest included, is caught.
``read_folder`` checks, in this order: the manifest's form and checksum, every file
name (plain names only), the versions, that the folder holds exactly the listed files
(hidden names aside), and each file's size and checksum. Every failure raises
``ModelFileError`` naming the file (and the key or block).

The other checks live beside it: ``config_references`` (the registries a loaded
config may name), ``model_versions`` (the versions that wrote a folder and which
are refused), ``saved_json`` (parsing the JSON files; naming the key of task.json at
fault) and ``model_file_error`` (``ModelFileError``). Their public names are
importable from here too.
"""

import errno
import hashlib
import json
import os
import re
import stat
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

from . import verified_files
from .about import __version__
from .atomic_folder import sync_file, write_file
from .config_references import (
    NESTED_REGISTRIES,
    ROOT_REGISTRIES,
    check_config,
    disallowed_references,
    references,
)
from .model_file_error import ModelFileError
from .model_versions import (
    MINOR_ONLY,
    UNCHECKED_VERSIONS,
    check_versions,
    installed_version,
    is_newer,
    release,
    version_problem,
    versions_for,
)
from .saved_json import Tracked, first_difference, parse_json

__all__ = [
    "CONFIG",
    "CORE",
    "FORMAT",
    "MANIFEST",
    "MAX_MANIFEST_BYTES",
    "META",
    "MINOR_ONLY",
    "NESTED_REGISTRIES",
    "ROOT_REGISTRIES",
    "TASK",
    "UNCHECKED_VERSIONS",
    "WEIGHTS",
    "ModelFileError",
    "Tracked",
    "VerifiedFolder",
    "bad_name",
    "check_config",
    "check_meta",
    "check_replaceable",
    "check_versions",
    "digest",
    "disallowed_references",
    "first_difference",
    "installed_version",
    "is_newer",
    "manifest_bytes",
    "parse_json",
    "read_folder",
    "references",
    "release",
    "version_problem",
    "versions_for",
    "write_manifest",
]

MANIFEST = "manifest.json"
FORMAT = "arch-model-folder/1"
CONFIG, WEIGHTS, TASK, META = "config.cfg", "model.bin", "task.json", "meta.json"
CORE = (CONFIG, WEIGHTS, TASK, META)
"""The files every model folder has, read into memory by ``read_folder``."""
MAX_MANIFEST_BYTES = 1 << 20

_SHA256 = re.compile(r"^[0-9a-f]{64}$")


# -- names ----------------------------------------------------------------------


def bad_name(name: Any) -> Optional[str]:
    """Why ``name`` cannot be a file of a model folder (None: it can). Allowed: a plain
    name, no folder part, no leading dot, nothing a file system reads specially.

    name: The name stored in a manifest (or written by a task).
    """
    if not isinstance(name, str) or not name:
        return f"a file name must be a non-empty string, got {name!r}"
    if name in (".", "..") or name.startswith("."):
        return f"{name!r} is not allowed: a model file's name cannot start with a dot"
    if any(c in name for c in "/\\:\0") or name != name.strip() or len(name) > 255:
        return (
            f"{name!r} is not a plain file name (no folders, separators, colons, "
            "surrounding spaces or more than 255 characters)"
        )
    if any(ord(c) < 32 for c in name):
        return f"{name!r} has control characters"
    return None


# -- the manifest ------------------------------------------------------------------


def digest(body: Dict[str, Any]) -> str:
    """The checksum of a manifest without its own ``sha256`` entry.

    body: The manifest's other entries.
    """
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(text.encode("ascii")).hexdigest()


def write_manifest(folder: Path, versions: Dict[str, str]) -> None:
    """List every file of a folder being saved with its size and checksum, flush
    it to disk, and write manifest.json.

    folder: The (hidden, new) folder, complete but for the manifest.
    versions: What wrote it (``versions_for``).
    """
    files: Dict[str, Dict[str, Any]] = {}
    for name in sorted(os.listdir(folder)):
        problem = bad_name(name)
        if problem is not None or name == MANIFEST:
            raise ValueError(f"cannot save {name!r} in a model folder: {problem or 'reserved'}")
        path = folder / name
        if not stat.S_ISREG(path.lstat().st_mode):
            raise ValueError(f"cannot save {name!r} in a model folder: not a plain file")
        sync_file(path)
        size, checksum = _hash_file(path)
        files[name] = {"sha256": checksum, "size": size}
    body = {"files": files, "format": FORMAT, "written_by": versions}
    write_file(folder, MANIFEST, manifest_bytes({**body, "sha256": digest(body)}))


def manifest_bytes(manifest: Dict[str, Any]) -> bytes:
    """manifest.json as written: indented JSON with sorted keys, ASCII only. On load
    the file must be exactly this, so that no byte of it can change unnoticed.

    manifest: The manifest, its checksum included.
    """
    return (json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=True) + "\n").encode()


def _hash_file(path: Path) -> Tuple[int, str]:
    sha = hashlib.sha256()
    size = 0
    with open(path, "rb") as file:
        for chunk in iter(lambda: file.read(1 << 20), b""):
            sha.update(chunk)
            size += len(chunk)
    return size, sha.hexdigest()


def check_replaceable(path: Path) -> None:
    """Refuse to save over an existing folder that holds anything but a model
    folder's files (FileExistsError naming the folder and what it holds).

    path: The folder a model is about to be saved to.
    """
    if not path.is_dir():
        return
    listed = set(CORE) | {MANIFEST}
    try:
        manifest = json.loads((path / MANIFEST).read_text("utf8"))
        listed |= {name for name in manifest["files"] if bad_name(name) is None}
    except (OSError, ValueError, TypeError, KeyError):
        pass
    others = sorted(set(os.listdir(path)) - listed)
    if others:
        shown = ", ".join(others[:5]) + (", ..." if len(others) > 5 else "")
        raise FileExistsError(
            errno.EEXIST,
            f"cannot save a model to {path}: the folder exists and holds other things than "
            f"a saved model ({shown}), which saving would delete; choose another folder",
        )


# -- reading a folder ----------------------------------------------------------------


@dataclass
class VerifiedFolder:
    """A model folder that passed the checks: the core files' bytes as verified,
    and the names of the task's own files (verified on disk)."""

    path: Path
    contents: Dict[str, bytes]
    extra: List[str] = field(default_factory=list)
    written_by: Dict[str, str] = field(default_factory=dict)
    verified: bool = True


class _Folder:
    """Reads the files of one folder through a handle on the folder itself where
    the system allows, so that a folder swapped in by a save while it is being read
    gives its files consistently; symbolic links are never followed."""

    def __init__(self, path: Path):
        self.path = path
        self.fd: Optional[int] = None
        if os.open in os.supports_dir_fd and os.listdir in os.supports_fd:
            self.fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))

    def close(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None

    def names(self) -> List[str]:
        return os.listdir(self.fd if self.fd is not None else self.path)

    def lstat(self, name: str) -> os.stat_result:
        if self.fd is not None:
            return os.stat(name, dir_fd=self.fd, follow_symlinks=False)
        return os.lstat(self.path / name)

    def open(self, name: str) -> int:
        flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
        if self.fd is not None:
            return os.open(name, flags, dir_fd=self.fd)
        return os.open(self.path / name, flags)

    def read(
        self, name: str, limit: Optional[int], keep: bool = True, expected: Optional[str] = None
    ) -> Tuple[bytes, int, str]:
        """(content if ``keep``, size, sha256) of a plain file of at most ``limit``
        bytes (None: its size when opened); ModelFileError if it is missing, not a
        plain file or larger. A file not kept whose sha256 is ``expected`` (the
        manifest's) is recorded in ``verified_files``, and not read again while it
        stays the same file."""
        path = self.path / name
        try:
            info = self.lstat(name)
        except FileNotFoundError:
            raise ModelFileError(path, "missing from the model folder") from None
        if stat.S_ISLNK(info.st_mode):
            raise ModelFileError(
                path, "is a symbolic link; the files of a model folder must be plain files"
            )
        if not stat.S_ISREG(info.st_mode):
            raise ModelFileError(path, "is not a plain file")
        if limit is None:
            limit = info.st_size
        if info.st_size > limit:
            raise ModelFileError(
                path,
                f"has {info.st_size} bytes, but {MANIFEST} says {limit}: the file was changed "
                "after it was saved"
                if name != MANIFEST
                else f"has {info.st_size} bytes, more than a manifest can have ({limit})",
            )
        try:
            fd = self.open(name)
        except OSError as err:
            raise ModelFileError(path, f"cannot be opened: {err.strerror or err}") from None
        sha = hashlib.sha256()
        chunks: List[bytes] = []
        size = 0
        try:
            before = os.fstat(fd)
            if not keep and expected is not None and verified_files.checksum(before) == expected:
                return b"", before.st_size, expected
            started = verified_files.now_ns()
            while size <= limit:
                chunk = os.read(fd, min(1 << 20, limit + 1 - size))
                if not chunk:
                    break
                sha.update(chunk)
                size += len(chunk)
                if keep:
                    chunks.append(chunk)
            if not keep and sha.hexdigest() == expected:
                verified_files.record(before, os.fstat(fd), expected, started)
        except OSError as err:
            raise ModelFileError(path, f"cannot be read: {err.strerror or err}") from None
        finally:
            os.close(fd)
        return b"".join(chunks), size, sha.hexdigest()


def read_folder(path: Path, allow_unverified: bool = False) -> VerifiedFolder:
    """Check a model folder and read its core files (see the module docstring).

    path: The model folder.
    allow_unverified: Read a folder without manifest.json (saved before manifests
        existed) with a warning instead of refusing it; its files cannot be checked.
    Raises ModelFileError naming the file at fault.
    """
    path = Path(path)
    if not path.is_dir():
        what = "it is not a folder" if path.exists() else "it does not exist"
        raise ModelFileError(path, f"this is not a model folder ({what})")
    try:
        folder = _Folder(path)
    except OSError as err:
        raise ModelFileError(path, f"cannot be opened: {err.strerror or err}") from None
    try:
        if MANIFEST not in folder.names():
            if not allow_unverified:
                raise ModelFileError(
                    path / MANIFEST,
                    "missing, so nothing in this folder can be verified: it was saved by "
                    "arch-tok2vec 0.1.1 or older, or put together by hand. If you trust it, "
                    "load it once with arch_tok2vec.load(folder, allow_unverified=True) "
                    "and save it again with pipeline.to_disk(folder), which adds the "
                    "manifest",
                )
            return _read_unverified(path, folder)
        return _read_verified(path, folder)
    finally:
        folder.close()


def _read_verified(path: Path, folder: _Folder) -> VerifiedFolder:
    manifest_path = path / MANIFEST
    raw, _, _ = folder.read(MANIFEST, MAX_MANIFEST_BYTES)
    try:
        manifest = parse_json(raw, manifest_path)
    except ModelFileError as err:
        raise ModelFileError(
            manifest_path, f"{str(err)[len(err.path) + 2 :]}: it was damaged after it was saved"
        ) from None
    files, written_by = _check_manifest(manifest, manifest_path)
    if raw != manifest_bytes(manifest):
        raise ModelFileError(
            manifest_path,
            "its layout is not the one arch-tok2vec writes: it was changed after it was saved",
        )
    check_versions(written_by, manifest_path, "written_by")
    present = [n for n in folder.names() if n != MANIFEST and not n.startswith(".")]
    unlisted = sorted(set(present) - set(files))
    if unlisted:
        raise ModelFileError(
            path / unlisted[0],
            f"is not listed in {MANIFEST}: a model folder holds only the files it was "
            "saved with (remove it, or load the folder it belongs to)",
        )
    contents: Dict[str, bytes] = {}
    for name, entry in files.items():
        data, size, checksum = folder.read(
            name, entry["size"], keep=name in CORE, expected=entry["sha256"]
        )
        if size != entry["size"]:
            raise ModelFileError(
                path / name,
                f"has {size} bytes, but {MANIFEST} says {entry['size']}: the file was "
                f"{'cut short' if size < entry['size'] else 'changed'} after it was saved",
            )
        if checksum != entry["sha256"]:
            raise ModelFileError(
                path / name,
                f"its checksum differs from the one in {MANIFEST}: the file was changed or "
                "damaged after it was saved",
            )
        if name in CORE:
            contents[name] = data
    check_meta(contents[META], path / META)
    extra = sorted(name for name in files if name not in CORE)
    return VerifiedFolder(path, contents, extra, written_by)


def _check_manifest(manifest: Any, path: Path) -> Tuple[Dict[str, Dict[str, Any]], Dict]:
    if not isinstance(manifest, dict):
        raise ModelFileError(path, "must hold a JSON object")
    for key in ("format", "files", "written_by", "sha256"):
        if key not in manifest:
            raise ModelFileError(path, "missing", key=key)
    if manifest["format"] != FORMAT:
        raise ModelFileError(
            path,
            f"unknown format {manifest['format']!r} (this arch-tok2vec {__version__} reads "
            f"{FORMAT!r}); a newer arch-tok2vec may read it: pip install -U arch-tok2vec",
            key="format",
        )
    body = {key: value for key, value in manifest.items() if key != "sha256"}
    if manifest["sha256"] != digest(body):
        raise ModelFileError(
            path, "its own checksum does not match its content: it was changed or damaged"
        )
    files = manifest["files"]
    if not isinstance(files, dict):
        raise ModelFileError(path, "must be an object of files", key="files")
    for name, entry in files.items():
        problem = bad_name(name)
        if problem is not None or name == MANIFEST:
            raise ModelFileError(path, problem or "lists itself", key=f"files.{name}")
        if not isinstance(entry, dict):
            raise ModelFileError(path, "must be an object", key=f"files.{name}")
        size, checksum = entry.get("size"), entry.get("sha256")
        if isinstance(size, bool) or not isinstance(size, int) or size < 0:
            raise ModelFileError(path, f"not a size: {size!r}", key=f"files.{name}.size")
        if not isinstance(checksum, str) or not _SHA256.match(checksum):
            raise ModelFileError(
                path, f"not a sha256 checksum: {checksum!r}", key=f"files.{name}.sha256"
            )
    for name in CORE:
        if name not in files:
            raise ModelFileError(path, f"does not list {name}", key="files")
    return files, manifest["written_by"]


def _read_unverified(path: Path, folder: _Folder) -> VerifiedFolder:
    warnings.warn(
        f"{path} has no {MANIFEST}: its files are read without any check; save it again "
        "with pipeline.to_disk(folder) to add one",
        UserWarning,
        stacklevel=3,
    )
    contents: Dict[str, bytes] = {}
    for name in CORE:
        contents[name], _, _ = folder.read(name, None)
    check_meta(contents[META], path / META)
    return VerifiedFolder(path, contents, [], {}, verified=False)


def check_meta(data: bytes, path: Path) -> Dict[str, Any]:
    """Parse meta.json: a JSON object; its ``arch_tok2vec`` version (written by every
    release) must not be newer than the one installed.

    data: The file's bytes.
    path: The file, for messages.
    """
    meta = parse_json(data, path)
    if not isinstance(meta, dict):
        raise ModelFileError(path, "must hold a JSON object")
    if "arch_tok2vec" in meta:
        problem = version_problem("arch-tok2vec", meta["arch_tok2vec"])
        if problem is not None:
            raise ModelFileError(path, problem, key="arch_tok2vec")
    return meta
