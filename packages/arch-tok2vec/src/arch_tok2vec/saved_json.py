"""JSON files of a model folder: parsing them with errors that name the file, and
the tracking and comparison that let a failure while a task reads task.json name
the key at fault.
"""

import json
import math
from typing import Any, Dict, List, Optional

from .model_file_error import ModelFileError


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
