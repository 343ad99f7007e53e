"""Close-match suggestions for a misspelled name (a setting, a registered function)."""

import difflib
from typing import Iterable, List

CUTOFF = 0.6
"""How alike (difflib's ratio, 0..1) a name must be to be suggested at all."""
MARGIN = 0.05
"""Suggest the names within this ratio of the closest one."""


def close_matches(name: str, candidates: Iterable[str], limit: int = 3) -> List[str]:
    """The candidates that look most like ``name``, best first: those about as
    close as the closest one (so "spacy.Tager.v1" suggests spacy.Tagger.v1 alone,
    not every name that shares "spacy."), compared case-insensitively.

    name: What the user wrote.
    candidates: The names that exist.
    limit: At most this many suggestions.
    """
    scored = []
    for candidate in sorted(set(candidates)):
        matcher = difflib.SequenceMatcher(None, name.lower(), candidate.lower())
        scored.append((matcher.ratio(), candidate))
    scored = [(ratio, c) for ratio, c in scored if ratio >= CUTOFF]
    if not scored:
        return []
    best = max(ratio for ratio, _ in scored)
    scored.sort(key=lambda item: -item[0])
    return [c for ratio, c in scored if ratio >= best - MARGIN][:limit]


def did_you_mean(name: str, candidates: Iterable[str], limit: int = 3) -> str:
    """The hint " Did you mean X?" (or " Did you mean X, Y or Z?"), or "" when no
    candidate is close.

    name: What the user wrote.
    candidates: The names that exist.
    limit: At most this many suggestions.
    """
    found = close_matches(name, candidates, limit)
    if not found:
        return ""
    if len(found) == 1:
        return f" Did you mean {found[0]}?"
    return f" Did you mean {', '.join(found[:-1])} or {found[-1]}?"
