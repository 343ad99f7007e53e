"""Argument checks shared by the architectures and the tasks, with errors that name the
setting. The tasks use them both for their settings and for the values ``from_dict``
reads from a saved task.json, whose errors ``arch_tok2vec.load`` reports naming the key
(the name each message starts with)."""

from typing import Any, List, Sequence


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


def check_bool(name: str, value: Any) -> bool:
    """Require a real boolean (not 0, 1 or a string) for the setting ``name``."""
    if not isinstance(value, bool):
        raise ValueError(f"{name} must be true or false, got {_shown(value)}")
    return value


def check_choice(name: str, value: Any, choices: Sequence[str]) -> str:
    """Require one of the strings ``choices`` for the setting ``name``."""
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(choices)}, got {_shown(value)}")
    return value


def check_label(name: str, value: Any) -> str:
    """Require a non-empty string (a label, an ID) for the setting ``name``."""
    if not isinstance(value, str) or not value:
        raise ValueError(f"{name} must be a non-empty string, got {_shown(value)}")
    return value


def check_labels(name: str, value: Any) -> List[str]:
    """Require a list of distinct non-empty strings for the setting ``name``; returns
    a copy of it.

    name: The setting, for messages (an item is named ``name[i]``).
    value: The list.
    """
    if not isinstance(value, list):
        raise ValueError(f"{name} must be a list of labels, got {_shown(value)}")
    seen = set()
    for i, label in enumerate(value):
        check_label(f"{name}[{i}]", label)
        if label in seen:
            raise ValueError(f"{name}[{i}] repeats the label {label!r}: labels must be distinct")
        seen.add(label)
    return list(value)


def _shown(value: Any, limit: int = 60) -> str:
    """``repr(value)``, cut short if long (a value read from a file may be large)."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[: limit - 3]}..."
