"""YAML front matter for a model card (the metadata block between ``---`` lines that
Hugging Face reads), written without a YAML library.

Only a safe subset is written: nested mappings and lists in block style, every
string double-quoted with escapes, numbers, booleans and null. Each scalar is
also valid JSON, so what is written reads back as exactly the data given, with any
YAML reader, whatever the strings hold.
"""

import math
import re
from typing import Any, Dict, List

_PLAIN_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")
_YAML_WORDS = {"true", "false", "null", "yes", "no", "on", "off", "y", "n"}
"""Keys a YAML 1.1 reader would not take as strings if left unquoted."""


def front_matter(data: Dict[str, Any]) -> str:
    """The block ``---`` / YAML of ``data`` / ``---``, ending with a newline.

    data: The metadata: dicts, lists, strings, numbers, booleans and None (a float
        that is not finite is written as null: YAML and JSON disagree on them).
    """
    return "---\n" + "\n".join(_block(data, 0)) + "\n---\n"


def _block(value: Any, indent: int) -> List[str]:
    pad = " " * indent
    lines: List[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            if _is_nested(item):
                lines.append(f"{pad}{_key(key)}:")
                # a list under a key sits at the key's indent, as Hugging Face writes it
                lines += _block(item, indent if isinstance(item, list) else indent + 2)
            else:
                lines.append(f"{pad}{_key(key)}: {scalar(item)}")
    else:
        for item in value:
            if _is_nested(item):
                nested = _block(item, indent + 2)
                lines.append(f"{pad}- {nested[0][indent + 2 :]}")
                lines += nested[1:]
            else:
                lines.append(f"{pad}- {scalar(item)}")
    return lines


def _is_nested(value: Any) -> bool:
    return isinstance(value, (dict, list, tuple)) and len(value) > 0


def _key(key: Any) -> str:
    if not isinstance(key, str):
        raise TypeError(f"front matter keys must be strings, got {key!r}")
    if _PLAIN_KEY.match(key) and key.lower() not in _YAML_WORDS:
        return key
    return quote(key)


def scalar(value: Any) -> str:
    """One value as a YAML scalar that is also JSON.

    value: None, a bool, an int, a float, a string, or an empty dict or list.
    """
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            return "null"
        text = repr(value)
        mantissa, e, exponent = text.partition("e")
        # YAML 1.1 readers take 1e-12 for a string: a float needs a point (1.0e-12)
        return f"{mantissa}.0e{exponent}" if e and "." not in mantissa else text
    if isinstance(value, str):
        return quote(value)
    if isinstance(value, dict) and not value:
        return "{}"
    if isinstance(value, (list, tuple)) and not value:
        return "[]"
    raise TypeError(f"cannot write {type(value).__name__} {value!r} in front matter")


_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\t": "\\t", "\r": "\\r"}


def quote(text: str) -> str:
    """``text`` as a double-quoted scalar: quotes and backslashes escaped, and every
    character YAML would not keep as it is (controls, line and paragraph
    separators, the byte order mark, surrogates) written as an escape.

    text: The string.
    """
    out = []
    for char in text:
        code = ord(char)
        if char in _ESCAPES:
            out.append(_ESCAPES[char])
        elif (
            code < 0x20
            or 0x7F <= code <= 0x9F
            or code in (0x2028, 0x2029, 0xFEFF)
            or 0xD800 <= code <= 0xDFFF
            or code in (0xFFFE, 0xFFFF)
        ):
            out.append(f"\\u{code:04x}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'
