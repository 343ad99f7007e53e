"""Seeded mutations of real corpus files, for the readers' fuzz tests.

``mutants(data, n, seed)`` yields ``n`` mutated copies of a file's bytes, each with
a short description of what was done to it, so a failing case can be rebuilt from
its seed and index. The mutations are the faults real files carry: flipped and
inserted bytes, a cut at any point, a UTF-8 byte-order mark, CRLF line ends,
invalid UTF-8, lines lost, doubled or swapped, tabs turned to spaces. Two more
kinds are opt-in (``kinds=``), for readers of structured records: ``json_value``
puts a value of another JSON type where a value was (``"tokens": 5``), and
``field`` puts a troublesome string in a tab- or comma-separated field.
"""

import random
import re
from typing import Callable, Dict, Iterator, List, Optional, Sequence, Tuple

BOM = b"\xef\xbb\xbf"
INVALID_UTF8 = (b"\xff", b"\xc3", b"\xe2\x82", b"\xed\xa0\x80", b"\x80\x80")


def _flip(rng: random.Random, data: bytearray) -> str:
    at = rng.randrange(len(data))
    data[at] = rng.randrange(256)
    return f"byte {at} set to {data[at]:#04x}"


def _insert(rng: random.Random, data: bytearray) -> str:
    at = rng.randrange(len(data) + 1)
    piece = bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
    data[at:at] = piece
    return f"{len(piece)} random bytes inserted at {at}"


def _truncate(rng: random.Random, data: bytearray) -> str:
    at = rng.randrange(len(data))
    del data[at:]
    return f"cut at byte {at}"


def _bom(rng: random.Random, data: bytearray) -> str:
    data[0:0] = BOM
    return "UTF-8 byte-order mark added"


def _crlf(rng: random.Random, data: bytearray) -> str:
    data[:] = bytes(data).replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    return "CRLF line ends"


def _invalid_utf8(rng: random.Random, data: bytearray) -> str:
    at = rng.randrange(len(data) + 1)
    piece = rng.choice(INVALID_UTF8)
    data[at:at] = piece
    return f"invalid UTF-8 {piece!r} inserted at {at}"


def _lines(data: bytearray) -> List[bytes]:
    return bytes(data).split(b"\n")


def _drop_line(rng: random.Random, data: bytearray) -> str:
    lines = _lines(data)
    at = rng.randrange(len(lines))
    del lines[at]
    data[:] = b"\n".join(lines)
    return f"line {at + 1} removed"


def _double_line(rng: random.Random, data: bytearray) -> str:
    lines = _lines(data)
    at = rng.randrange(len(lines))
    lines.insert(at, lines[at])
    data[:] = b"\n".join(lines)
    return f"line {at + 1} doubled"


def _swap_lines(rng: random.Random, data: bytearray) -> str:
    lines = _lines(data)
    a, b = rng.randrange(len(lines)), rng.randrange(len(lines))
    lines[a], lines[b] = lines[b], lines[a]
    data[:] = b"\n".join(lines)
    return f"lines {a + 1} and {b + 1} swapped"


def _tabs_to_spaces(rng: random.Random, data: bytearray) -> str:
    lines = _lines(data)
    at = rng.randrange(len(lines))
    lines[at] = lines[at].replace(b"\t", b" ")
    data[:] = b"\n".join(lines)
    return f"tabs of line {at + 1} turned to spaces"


JSON_VALUES = (
    b"5", b"-1", b"1.5", b"1e999", b"true", b"null", b'""', b'"x"', b'"\\u0000"',
    b"[]", b"{}", b"[1, 2, 3]", b'[["a"]]', b'{"a": 1}',
)  # fmt: skip
# A JSON string, number, literal, or the opening of an array or object.
_JSON_VALUE = re.compile(
    rb'"(?:[^"\\\n]|\\.)*"|-?[0-9]+(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?|true|false|null|[\[{]'
)
FIELD_VALUES = (
    b"", b" ", b"_", b"-", b"0", b"-1", b"99999", b"x", b"B-", b"I-X", b"O", b"#", b'"',
    b"1-2", b"3.1", b"#x",
)  # fmt: skip


def _json_end(data: bytearray, start: int) -> int:
    """Where the array or object opening at ``start`` closes (or the end of data)."""
    depth, in_string, at = 0, False, start
    while at < len(data):
        byte = data[at]
        if in_string:
            if byte == 0x5C:  # backslash: skip the escaped byte
                at += 1
            elif byte == 0x22:
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in b"[{":
            depth += 1
        elif byte in b"]}":
            depth -= 1
            if not depth:
                return at + 1
        at += 1
    return len(data)


def _json_value(rng: random.Random, data: bytearray) -> str:
    values = []
    for match in _JSON_VALUE.finditer(bytes(data)):
        before = bytes(data[max(0, match.start() - 64) : match.start()]).rstrip()[-1:]
        after = bytes(data[match.end() : match.end() + 64]).lstrip()[:1]
        if before in (b":", b"[", b",") and after != b":":  # a value, not a key
            values.append(match)
    if not values:
        return "no JSON value to replace"
    match = rng.choice(values)
    start = match.start()
    end = _json_end(data, start) if match.group() in (b"[", b"{") else match.end()
    value = rng.choice(JSON_VALUES)
    data[start:end] = value
    return f"the JSON value at byte {start} replaced by {value!r}"


def _field(rng: random.Random, data: bytearray) -> str:
    lines = _lines(data)
    candidates = [i for i, line in enumerate(lines) if b"\t" in line or b"," in line]
    if not candidates:
        return "no field to replace"
    at = rng.choice(candidates)
    sep = b"\t" if b"\t" in lines[at] else b","
    fields = lines[at].split(sep)
    which = rng.randrange(len(fields))
    fields[which] = rng.choice(FIELD_VALUES)
    lines[at] = sep.join(fields)
    data[:] = b"\n".join(lines)
    return f"field {which + 1} of line {at + 1} replaced by {fields[which]!r}"


MUTATIONS: Dict[str, Callable[[random.Random, bytearray], str]] = {
    "flip": _flip,
    "insert": _insert,
    "truncate": _truncate,
    "bom": _bom,
    "crlf": _crlf,
    "invalid_utf8": _invalid_utf8,
    "drop_line": _drop_line,
    "double_line": _double_line,
    "swap_lines": _swap_lines,
    "tabs_to_spaces": _tabs_to_spaces,
    "json_value": _json_value,
    "field": _field,
}
# The kinds used when none are named (every byte- and line-level fault).
DEFAULT_KINDS = (
    "flip", "insert", "truncate", "bom", "crlf", "invalid_utf8",
    "drop_line", "double_line", "swap_lines", "tabs_to_spaces",
)  # fmt: skip


def mutants(
    data: bytes, n: int, seed: int, kinds: Optional[Sequence[str]] = None
) -> Iterator[Tuple[str, bytes]]:
    """``n`` mutated copies of ``data``: case ``i`` applies one to three mutations
    drawn with ``random.Random(seed * 1_000_003 + i)``, so it can be rebuilt alone.
    Every mutation kind comes up in turn as the first of a case.

    kinds: The names in ``MUTATIONS`` to draw from (default ``DEFAULT_KINDS``).
    """
    if not data:
        raise ValueError("mutants needs a non-empty file to mutate")
    kinds = list(DEFAULT_KINDS if kinds is None else kinds)
    unknown = [kind for kind in kinds if kind not in MUTATIONS]
    if unknown or not kinds:
        raise ValueError(f"unknown mutation kinds {unknown}: choose from {list(MUTATIONS)}")
    for i in range(n):
        rng = random.Random(seed * 1_000_003 + i)
        mutated = bytearray(data)
        done = []
        first = kinds[i % len(kinds)]
        for kind in [first] + rng.sample(kinds, rng.randint(0, 2)):
            if not mutated:
                break
            done.append(f"{kind}: {MUTATIONS[kind](rng, mutated)}")
        yield f"case {i} (seed {seed}): " + "; ".join(done), bytes(mutated)
