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
"""

import errno
import hashlib
import json
import math
import os
import platform
import re
import stat
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Tuple

from . import verified_files
from .about import __version__
from .atomic_folder import sync_file, write_file

MANIFEST = "manifest.json"
FORMAT = "arch-model-folder/1"
CONFIG, WEIGHTS, TASK, META = "config.cfg", "model.bin", "task.json", "meta.json"
CORE = (CONFIG, WEIGHTS, TASK, META)
"""The files every model folder has, read into memory by ``read_folder``."""
MAX_MANIFEST_BYTES = 1 << 20

ROOT_REGISTRIES = {"task": ("tasks",), "model": ("architectures", "layers")}
"""The registries the root of each block resolved on load may name."""
NESTED_REGISTRIES = ("architectures", "layers", "initializers", "span_getters")
"""The registries the blocks nested in [task] and [model] may name: functions that
build models, layers, initial weights and span getters. Nothing else (no readers,
no assets such as spacy.KBFromFile.v1, no vectors loaders) is resolved from a
loaded model's config."""

UNCHECKED_VERSIONS = ("python", "numpy")
"""Recorded for information; a model does not depend on them (arrays are stored
little-endian with their dtype)."""
MINOR_ONLY = ("thinc",)
"""Compared by major.minor: thinc changes its serialization only in minor releases."""

_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_RELEASE = re.compile(r"^v?(\d+(?:\.\d+)*)")


class ModelFileError(ValueError):
    """A model folder that fails a check on load; the message names the file and,
    where it applies, the key (JSON) or block (config).

    path: The file (or folder) at fault.
    message: What is wrong, and how to fix it where there is a fix.
    key: The JSON key at fault (dotted for nested keys), if any.
    block: The config block at fault, e.g. "model.tok2vec", if any.
    """

    def __init__(
        self, path: Any, message: str, key: Optional[str] = None, block: Optional[str] = None
    ):
        self.path = str(path)
        self.key = key
        self.block = block
        where = self.path
        if key is not None:
            where += f", key {key!r}"
        if block is not None:
            where += f", block [{block}]"
        super().__init__(f"{where}: {message}")


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


# -- config references -----------------------------------------------------------


def references(node: Any, block: str) -> Iterator[Tuple[str, str, Any]]:
    """Every ``@registry = name`` reference in a config block and the blocks (and
    inline values) nested in it, as (block, registry, name).

    node: The block (a dict), as parsed.
    block: Its dotted name, e.g. "model".
    """
    if isinstance(node, dict):
        for key, value in node.items():
            if isinstance(key, str) and key.startswith("@"):
                yield block, key[1:], value
        for key, value in node.items():
            if isinstance(value, (dict, list)):
                yield from references(value, f"{block}.{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from references(value, f"{block}[{i}]")


def disallowed_references(config: Any) -> List[Tuple[str, str]]:
    """The references of [task] and [model] that a saved model may not make, as
    (block, what is wrong); also a missing [task] or [model] block.

    config: The parsed (interpolated) training config.
    """
    found: List[Tuple[str, str]] = []
    for root, allowed_at_root in ROOT_REGISTRIES.items():
        node = config.get(root) if isinstance(config, dict) else None
        if not isinstance(node, dict):
            found.append((root, f"there is no [{root}] block"))
            continue
        if not any(isinstance(key, str) and key.startswith("@") for key in node):
            names = " or ".join(f"@{name}" for name in allowed_at_root)
            found.append((root, f"[{root}] must name a registered function ({names})"))
        for block, registry_name, name in references(node, root):
            allowed = allowed_at_root if block == root else NESTED_REGISTRIES
            if registry_name not in allowed or not isinstance(name, str):
                listed = ", ".join(f"@{r}" for r in allowed)
                found.append(
                    (
                        block,
                        f"@{registry_name} = {name!r} is not allowed in a model folder "
                        f"(here only {listed}: a loaded model runs no reader, asset or "
                        "other function that could touch files or the network)",
                    )
                )
    return found


def check_config(config: Any, path: Any) -> None:
    """Refuse a loaded config whose [task] or [model] names registries other than
    the allowed ones (ModelFileError naming ``path`` and the block).

    config: The parsed config.
    path: The config.cfg it was read from.
    """
    for block, message in disallowed_references(config):
        raise ModelFileError(path, message, block=block)


# -- versions ----------------------------------------------------------------------


def versions_for(config: Any) -> Dict[str, str]:
    """The versions that write a model: Python, numpy, thinc, arch-tok2vec and every
    installed distribution that declares a function named in [task] or [model].

    config: The training config.
    """
    import numpy
    import thinc

    from .introspect import registered

    found = {
        "python": platform.python_version(),
        "numpy": numpy.__version__,
        "thinc": thinc.__version__,
        "arch-tok2vec": __version__,
    }
    providers = {(item.registry, item.name): item for item in registered()}
    for root in ROOT_REGISTRIES:
        for _, registry_name, name in references(config.get(root, {}), root):
            item = providers.get((registry_name, name))
            if item is not None and item.package not in ("?", "arch-tok2vec"):
                found[item.package] = item.version
    return dict(sorted(found.items()))


def installed_version(package: str) -> Optional[str]:
    """The installed version of a distribution (None: not installed).

    package: The distribution's name, e.g. "arch-tagger".
    """
    from importlib.metadata import PackageNotFoundError, version

    if package == "arch-tok2vec":
        return __version__
    try:
        return version(package)
    except PackageNotFoundError:
        return None


def release(version: str) -> Tuple[int, ...]:
    """The release numbers of a version string ("0.3.2rc1" -> (0, 3, 2)); () if it
    has none.

    version: A version string.
    """
    match = _RELEASE.match(version.strip()) if isinstance(version, str) else None
    return tuple(int(x) for x in match.group(1).split(".")) if match else ()


def is_newer(saved: str, installed: str, depth: Optional[int] = None) -> bool:
    """Whether ``saved`` is a later release than ``installed`` (comparing the first
    ``depth`` numbers only, if given; pre-release tags are ignored).

    saved: The version that wrote the model.
    installed: The version installed here.
    depth: How many numbers to compare (None: all).
    """
    a, b = release(saved)[:depth], release(installed)[:depth]
    width = max(len(a), len(b))
    return a + (0,) * (width - len(a)) > b + (0,) * (width - len(b))


def version_problem(package: str, saved: Any) -> Optional[str]:
    """Why a model written with ``package`` at version ``saved`` cannot be loaded
    here (None: it can). Python and numpy are not checked; thinc is compared by
    major.minor; every other distribution by its full release: a newer release than
    the installed one, or one not installed, is refused.

    package: The distribution's name.
    saved: The version recorded when the model was saved.
    """
    if not isinstance(saved, str) or not release(saved):
        return f"{saved!r} is not a version"
    if package in UNCHECKED_VERSIONS:
        return None
    installed = installed_version(package)
    if installed is None:
        return (
            f"the model was written with {package} {saved}, which is not installed "
            f"here: pip install '{package}>={saved}'"
        )
    depth = 2 if package in MINOR_ONLY else None
    if is_newer(saved, installed, depth):
        return (
            f"the model was written with {package} {saved}, newer than the {package} "
            f"{installed} installed here, which may not read it correctly: upgrade with "
            f"pip install -U '{package}>={saved}'"
        )
    return None


def check_versions(versions: Any, path: Any, key: str) -> None:
    """Refuse a model written by a release that ``version_problem`` refuses
    (ModelFileError naming the file, the key, the package, both versions and the fix).

    versions: The recorded {distribution: version}.
    path: The file they were read from.
    key: The key holding them, for messages.
    """
    if not isinstance(versions, dict):
        raise ModelFileError(path, "must be an object of versions", key=key)
    for package, saved in versions.items():
        problem = version_problem(package, saved)
        if problem is not None:
            raise ModelFileError(path, problem, key=f"{key}.{package}")


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


def parse_json(data: bytes, path: Any) -> Any:
    """Parse a JSON file's bytes (UTF-8); ModelFileError naming the file, line and
    column if they are not JSON.

    data: The bytes.
    path: The file, for messages.
    """
    try:
        text = data.decode("utf8")
    except UnicodeDecodeError as err:
        raise ModelFileError(path, f"not UTF-8 text (byte {err.start})") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise ModelFileError(
            path, f"not valid JSON: {err.msg} (line {err.lineno}, column {err.colno})"
        ) from None
    except RecursionError:
        raise ModelFileError(path, "not valid JSON: nested too deeply") from None


# -- reading task.json -------------------------------------------------------------------


class Tracked(dict):
    """A JSON object that remembers the last key read from it or from an object
    nested in it (as a dotted path), so that an error raised while a task reads
    task.json can name the key it was reading."""

    def __init__(
        self,
        data: Optional[Dict[str, Any]] = None,
        trail: Optional[List[str]] = None,
        prefix: str = "",
    ):
        self._trail = trail if trail is not None else [""]
        self._prefix = prefix
        items = (data or {}).items()
        super().__init__({k: _tracked(v, self._trail, f"{prefix}{k}.") for k, v in items})

    def __getitem__(self, key: Any) -> Any:
        self._trail[0] = f"{self._prefix}{key}"
        return super().__getitem__(key)

    def get(self, key: Any, default: Any = None) -> Any:
        self._trail[0] = f"{self._prefix}{key}"
        return super().get(key, default)


def _tracked(value: Any, trail: List[str], prefix: str) -> Any:
    if isinstance(value, dict):
        return Tracked(value, trail, prefix)
    if isinstance(value, list):
        return [_tracked(v, trail, f"{prefix}{i}.") for i, v in enumerate(value)]
    return value


def first_difference(stored: Any, restored: Any, prefix: str = "") -> Optional[str]:
    """The dotted key of the first value of ``stored`` that ``restored`` does not
    give back equal (same JSON type and value; keys only in ``stored`` are skipped,
    as are keys a task no longer writes); None if there is none.

    stored: What task.json holds.
    restored: What the task's to_dict() gives after reading it, through JSON.
    """
    if isinstance(stored, dict) and isinstance(restored, dict):
        for key, value in stored.items():
            if key in restored:
                found = first_difference(value, restored[key], f"{prefix}{key}.")
                if found is not None:
                    return found
        return None
    if isinstance(stored, list) and isinstance(restored, list):
        if len(stored) != len(restored):
            return prefix.rstrip(".") or "(top)"
        for i, (a, b) in enumerate(zip(stored, restored)):
            found = first_difference(a, b, f"{prefix}{i}.")
            if found is not None:
                return found
        return None
    if _is_number(stored) and _is_number(restored):
        if stored == restored or (math.isnan(stored) and math.isnan(restored)):
            return None
        return prefix.rstrip(".") or "(top)"
    if type(stored) is not type(restored) or stored != restored:
        return prefix.rstrip(".") or "(top)"
    return None


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)
