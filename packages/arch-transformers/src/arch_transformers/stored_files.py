"""The Hugging Face files inside a TransformerModel's bytes, treated as untrusted data.

``HFShim.to_bytes`` stores, by name, what ``save_pretrained`` of the model and its
tokenizer writes: ``config.json``, the weights as ``model.safetensors``, and the
tokenizer's JSON and vocabulary files. ``HFShim.from_bytes`` writes them back into a
fresh temporary folder for ``from_pretrained``. A model file may be crafted, so the
whole stored set is checked before one byte is written: every name must be a plain
file name of a kind ``save_pretrained`` writes (a kind that cannot run code when
loaded), and the names the JSON files give for other files must be stored names.
"""

import json
import os
import re
from pathlib import Path
from typing import Any, Dict, Iterable, List, Tuple

import srsly


class StoredFileError(ValueError):
    """The transformer files stored in a model file are corrupt or crafted."""


# The kinds of file save_pretrained writes for a model and a fast tokenizer: JSON
# (config, tokenizer, safetensors index), safetensors weights, vocabularies and merges
# as text, sentencepiece models (.model, .spm), BPE codes and chat templates (.jinja).
# All are data: loading them cannot run code.
DATA_SUFFIXES = (".json", ".safetensors", ".txt", ".model", ".spm", ".codes", ".jinja")
# Kinds that torch, numpy or Python would unpickle, import or execute: never stored
# by the shim (its weights are safetensors), so never restored.
CODE_SUFFIXES = (
    ".bin", ".pt", ".pth", ".pkl", ".pickle", ".ckpt", ".h5", ".npy",
    ".npz", ".joblib", ".py", ".pyc", ".pyo", ".pyd", ".so", ".dll", ".dylib",
)  # fmt: skip
# The one sub-folder save_pretrained writes: a tokenizer's extra chat templates.
SUBFOLDERS = {"additional_chat_templates": (".jinja",)}
# A stored file is in tokenizer_config.json by name under these keys; transformers 4.x
# opened such a path verbatim, wherever it pointed. save_pretrained drops them.
FILE_KEY = re.compile(r".+_files?\Z")
HARMLESS_FILE_KEYS = ("special_tokens_map_file", "added_tokens_file", "tokenizer_config_file")
PART = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]*\Z")
WINDOWS_DEVICES = {"CON", "PRN", "AUX", "NUL"} | {
    f"{d}{i}" for d in ("COM", "LPT") for i in "123456789"
}
MAX_NAME_LENGTH = 200
# save_pretrained writes a handful of files (a sharded model some dozens); each one's
# bytes are in the model file, so what is written never exceeds what was read.
MAX_FILES = 256


def _refuse(name: object, reason: str) -> StoredFileError:
    where = f"stored file {name!r}" if name is not None else "stored transformer files"
    return StoredFileError(
        f"the model file is corrupt or crafted: {where} {reason}; nothing was written or loaded"
    )


def read_stored(bytes_data: bytes) -> Tuple[Dict[str, Any], Dict[str, bytes]]:
    """The (config, files) that ``HFShim.to_bytes`` wrote, every file checked.

    bytes_data: The shim's bytes from a model file.
    Raises StoredFileError, naming the stored name, for anything that is not
    what to_bytes writes.
    """
    try:
        msg = srsly.msgpack.loads(bytes_data, raw=False, object_pairs_hook=_unique_map)
    except StoredFileError:
        raise
    except Exception as err:  # msgpack raises many kinds for bytes it cannot read
        raise _refuse(None, f"are not readable msgpack ({type(err).__name__}: {err})") from None
    if not isinstance(msg, dict) or set(msg) != {"config", "files"}:
        keys = sorted(map(str, msg)) if isinstance(msg, dict) else type(msg).__name__
        raise _refuse(None, f"are not a map of 'config' and 'files' (got {keys})")
    config, files = msg["config"], msg["files"]
    if not isinstance(config, dict):
        raise _refuse(None, f"have a 'config' that is not a map ({type(config).__name__})")
    if not isinstance(files, dict):
        raise _refuse(None, f"have 'files' that are not a map ({type(files).__name__})")
    check_stored(files)
    return config, files


def _unique_map(pairs: List[Tuple[Any, Any]]) -> Dict[Any, Any]:
    found: Dict[Any, Any] = {}
    for key, value in pairs:
        if key in found:
            raise _refuse(key, "is stored twice")
        found[key] = value
    return found


def check_stored(files: Dict[Any, Any]) -> None:
    """Raise StoredFileError unless files (stored name to bytes) is a set of
    files save_pretrained could have written: plain names, kinds that hold only
    data, no two names for one file, and JSON that names no file outside them.

    files: The stored names and their bytes.
    """
    if len(files) > MAX_FILES:
        raise _refuse(None, f"are {len(files)} files; a saved model has at most {MAX_FILES}")
    seen: Dict[str, str] = {}
    for name, data in files.items():
        check_name(name)
        if not isinstance(data, bytes):
            raise _refuse(name, f"holds {type(data).__name__}, not bytes")
        folded = name.casefold()
        if folded in seen:
            raise _refuse(name, f"and {seen[folded]!r} are one file on a case-insensitive disk")
        seen[folded] = name
    _check_named_files(files)


def check_name(name: object) -> None:
    """Raise StoredFileError unless name is a plain relative file name of a kind
    save_pretrained writes: letters, digits, '.', '_' and '-', in the folder
    itself or in additional_chat_templates/.

    name: A stored name.
    """
    if not isinstance(name, str):
        raise _refuse(name, f"has a name that is not text ({type(name).__name__})")
    if not name:
        raise _refuse(name, "has an empty name")
    if len(name) > MAX_NAME_LENGTH:
        raise _refuse(name, f"has a name longer than {MAX_NAME_LENGTH} characters")
    if name.startswith(("/", "\\")) or re.match(r"[A-Za-z]:", name):
        raise _refuse(name, "is an absolute path, not a file name in the model's folder")
    if "\\" in name or ":" in name or any(ord(c) < 32 or ord(c) == 127 for c in name):
        raise _refuse(name, "has a backslash, ':' or a control character in its name")
    parts = name.split("/")
    if any(part in ("", ".", "..") for part in parts):
        raise _refuse(name, "has an empty, '.' or '..' part: not a plain relative file name")
    for part in parts:
        if not PART.match(part):
            raise _refuse(
                name, "has a name of other characters than letters, digits, '.', '_' and '-'"
            )
        if part.split(".")[0].upper() in WINDOWS_DEVICES:
            raise _refuse(name, "has a name Windows reserves for a device")
    suffix = os.path.splitext(parts[-1])[1].lower()
    if suffix in CODE_SUFFIXES:
        raise _refuse(
            name,
            f"is a {suffix} file, a kind that is unpickled or run as code when loaded; "
            "the shim never stores one (its weights are .safetensors)",
        )
    allowed: Tuple[str, ...] = DATA_SUFFIXES
    if len(parts) > 2 or (len(parts) == 2 and parts[0] not in SUBFOLDERS):
        raise _refuse(
            name, f"is in a sub-folder save_pretrained does not write (only {list(SUBFOLDERS)})"
        )
    if len(parts) == 2:
        allowed = SUBFOLDERS[parts[0]]
    if suffix not in allowed:
        raise _refuse(
            name, f"is not a kind of file save_pretrained writes there (only {', '.join(allowed)})"
        )


def _check_named_files(files: Dict[str, bytes]) -> None:
    """The JSON files that name other files (the safetensors index of a sharded
    model; tokenizer settings that are paths) may name only stored files."""
    index = "model.safetensors.index.json"
    if index in files:
        weight_map = _json(index, files[index]).get("weight_map")
        if not isinstance(weight_map, dict) or not all(
            isinstance(v, str) for v in weight_map.values()
        ):
            raise _refuse(index, "has no 'weight_map' from weight names to file names")
        _check_refs(index, "weight_map", weight_map.values(), files)
    tokenizer_config = "tokenizer_config.json"
    if tokenizer_config in files:
        settings = _json(tokenizer_config, files[tokenizer_config])
        for key, value in settings.items():
            if FILE_KEY.match(key) and key not in HARMLESS_FILE_KEYS and value is not None:
                values = value if isinstance(value, list) else [value]
                _check_refs(tokenizer_config, key, values, files)


def _json(name: str, data: bytes) -> Dict[str, Any]:
    try:
        found = json.loads(data)
    except ValueError as err:
        raise _refuse(name, f"is not valid JSON ({err})") from None
    if not isinstance(found, dict):
        raise _refuse(name, f"holds a JSON {type(found).__name__}, not an object")
    return found


def _check_refs(name: str, key: str, refs: Iterable[Any], files: Dict[str, bytes]) -> None:
    for ref in refs:
        if isinstance(ref, str) and ref not in files:
            raise _refuse(
                name, f"names {ref!r} under {key!r}, which is not a file stored beside it"
            )


def write_stored(folder: Path, files: Dict[str, bytes]) -> None:
    """Write checked files (``read_stored``) into folder, which must be empty:
    each file is created new, and only inside folder.

    folder: An empty folder, e.g. a fresh temporary one.
    files: Stored names (checked) and their bytes.
    """
    root = folder.resolve()
    for name, data in files.items():
        target = root.joinpath(*name.split("/"))
        if len(name.split("/")) > 1:
            target.parent.mkdir(exist_ok=True)
        if target.parent.resolve() not in (root, *[root / sub for sub in SUBFOLDERS]):
            raise _refuse(name, f"would be written outside {root}")
        # "x": a new file only, never through an existing file or link
        with open(target, "xb") as file:
            file.write(data)
