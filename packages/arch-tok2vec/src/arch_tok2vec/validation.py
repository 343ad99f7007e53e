"""Argument checks shared by the architectures, with errors that name the setting."""

from typing import Any, Sequence


def check_int(name: str, value: Any, minimum: int = 1) -> int:
    """Require an integer of at least ``minimum`` for the setting ``name``."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    if value < minimum:
        kind = "a positive integer" if minimum == 1 else f"an integer >= {minimum}"
        raise ValueError(f"{name} must be {kind}, got {value}")
    return value


def check_rate(name: str, value: Any) -> Any:
    """Require a dropout rate in [0, 1) for ``name`` (None allowed)."""
    if value is None:
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value < 1.0:
        raise ValueError(f"{name} must be a number in [0, 1), got {value!r}")
    return float(value)


def check_same_length(name_a: str, a: Sequence, name_b: str, b: Sequence) -> None:
    """Require two lists of settings to line up."""
    if len(a) != len(b):
        raise ValueError(
            f"{name_a} and {name_b} must have the same length: "
            f"{name_a} has {len(a)} ({list(a)!r}), {name_b} has {len(b)} ({list(b)!r})"
        )
