"""Seeded mutations of real corpus files, for the readers' fuzz tests.

``mutants(data, n, seed)`` yields ``n`` mutated copies of a file's bytes, each with
a short description of what was done to it, so a failing case can be rebuilt from
its seed and index. The mutations are the faults real files carry: flipped and
inserted bytes, a cut at any point, a UTF-8 byte-order mark, CRLF line ends,
invalid UTF-8, lines lost, doubled or swapped, tabs turned to spaces.
"""

import random
from typing import Callable, Dict, Iterator, List, Tuple

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
}


def mutants(data: bytes, n: int, seed: int) -> Iterator[Tuple[str, bytes]]:
    """``n`` mutated copies of ``data``: case ``i`` applies one to three mutations
    drawn with ``random.Random(seed * 1_000_003 + i)``, so it can be rebuilt alone.
    Every mutation kind comes up in turn as the first of a case."""
    if not data:
        raise ValueError("mutants needs a non-empty file to mutate")
    kinds = list(MUTATIONS)
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
