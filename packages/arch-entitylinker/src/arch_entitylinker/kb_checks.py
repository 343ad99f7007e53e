"""The argument checks of the KnowledgeBase's calls.

Every mutating call of ``KnowledgeBase`` runs these on all its arguments before
it changes anything, so a bad call raises and leaves the KB as it was. Each
check returns the value in the form the KB stores (a str, a float, a float32
vector) or raises: TypeError for a value of the wrong type, ValueError for a
value out of range, the message naming the argument and the entity or alias.
Frequencies, priors and vectors must be finite once stored as float32.
"""

import numbers
from typing import Any, List, Sequence

import numpy

PRIOR_TOLERANCE = 1.00001
"""Prior probabilities of one alias may sum to at most this (spaCy's rounding allowance)."""
_FLOAT32_MAX = float(numpy.finfo(numpy.float32).max)
_NUMBER_KINDS = "iuf"  # numpy dtype kinds of real numbers (bool "b" excluded)
_CHUNK = 65536


def _describe(value: Any) -> str:
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{type(value).__name__} {text}"


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, numpy.bool_))


def _number(value: Any, top: float, what: str, expected: str) -> float:
    """``value`` as a float from 0 to ``top``; TypeError or ValueError saying
    ``what`` must be ``expected``."""
    if not _is_number(value):
        raise TypeError(f"{what} must be a number, got {_describe(value)}")
    number = float(value)
    if not 0 <= number <= top:  # NaN fails both comparisons
        raise ValueError(f"{what} must be {expected}, got {number!r}")
    return number


def entity_id(entity: Any, argument: str = "entity") -> str:
    """An entity ID: a non-empty str.

    entity: The value given.
    argument: The argument's name, for the message.
    """
    if not isinstance(entity, str):
        raise TypeError(f"{argument}: entity IDs must be strings, got {_describe(entity)}")
    if not entity:
        raise ValueError(f"{argument}: an entity ID must be a non-empty string")
    return entity


def alias_text(alias: Any) -> str:
    """An alias: a non-empty str (E890 for an empty one or None, as spaCy)."""
    if alias is None or (isinstance(alias, str) and not alias):
        raise ValueError(
            f"[E890] Cannot add the alias {alias!r} to the Knowledge Base: "
            "each alias should be a meaningful string."
        )
    if not isinstance(alias, str):
        raise TypeError(f"alias: aliases must be strings, got {_describe(alias)}")
    return alias


def frequency(freq: Any, entity: str, argument: str = "freq") -> float:
    """An entity's frequency: a finite number >= 0 (within float32).

    freq: The value given.
    entity: The entity's ID, for the message.
    argument: The argument's name, for the message.
    """
    what = f"{argument} of entity {entity!r}"
    return _number(freq, _FLOAT32_MAX, what, "a finite number >= 0 (within float32)")


def vector(values: Any, width: int, entity: str, argument: str = "entity_vector") -> numpy.ndarray:
    """An entity vector: ``width`` finite real numbers, as float32.

    values: The sequence or array given.
    width: The KB's entity_vector_length.
    entity: The entity's ID, for the message.
    argument: The argument's name, for the message.
    """
    if isinstance(values, (str, bytes)) or not hasattr(values, "__len__"):
        raise TypeError(
            f"{argument} of entity {entity!r} must be a sequence of numbers, "
            f"got {_describe(values)}"
        )
    try:
        array = numpy.asarray(values)
    except ValueError:  # ragged nesting
        array = numpy.asarray(values, dtype=object)
    if array.ndim != 1:
        raise ValueError(
            f"{argument} of entity {entity!r} must be one-dimensional, got shape {array.shape}"
        )
    if len(array) != width:
        raise ValueError(e141(width, len(array), entity))
    if array.dtype.kind not in _NUMBER_KINDS:
        bad = next((v for v in values if not _is_number(v)), array.dtype)
        raise TypeError(f"{argument} of entity {entity!r} must hold numbers, got {_describe(bad)}")
    fits = _fits_float32(array)
    if not fits.all():
        at = int(numpy.flatnonzero(~fits)[0])
        raise ValueError(
            f"{argument} of entity {entity!r} must be finite (within float32), "
            f"got {array[at]!r} at position {at}"
        )
    return array.astype(numpy.float32, copy=False)


def frequencies(freq_list: Any, entities: Sequence[str]) -> numpy.ndarray:
    """One frequency per entity (see ``frequency``), as float32."""
    try:
        array = numpy.asarray(freq_list)
    except ValueError:  # ragged nesting
        array = numpy.asarray(freq_list, dtype=object)
    if array.ndim != 1:
        raise ValueError(f"freq_list must be one-dimensional, got shape {array.shape}")
    if array.dtype.kind in _NUMBER_KINDS:
        bad = ~(_fits_float32(array) & (array >= 0))
        if not bad.any():
            return array.astype(numpy.float32, copy=False)
        at = int(numpy.flatnonzero(bad)[0])
        frequency(array[at], entities[at], "freq_list")  # raises, naming the entity
    values = [frequency(f, e, "freq_list") for f, e in zip(freq_list, entities)]
    return numpy.asarray(values, dtype=numpy.float32)


def vectors(vector_list: Any, width: int, entities: Sequence[str]) -> numpy.ndarray:
    """One vector per entity (see ``vector``), as a (n, width) float32 array."""
    n = len(entities)
    if isinstance(vector_list, numpy.ndarray) and vector_list.ndim == 2:
        if vector_list.shape[1] != width:
            raise ValueError(e141(width, vector_list.shape[1], entities[0] if n else ""))
        if vector_list.dtype.kind not in _NUMBER_KINDS:
            raise TypeError(f"vector_list must hold numbers, got dtype {vector_list.dtype}")
        for start in range(0, n, _CHUNK):  # in chunks: no (n, width) mask at once
            fits = _fits_float32(vector_list[start : start + _CHUNK]).all(axis=1)
            if not fits.all():
                row = start + int(numpy.flatnonzero(~fits)[0])
                vector(vector_list[row], width, entities[row], "vector_list")  # raises
        return vector_list.astype(numpy.float32, copy=False)
    out = numpy.zeros((n, width), dtype=numpy.float32)
    for i in range(n):
        out[i] = vector(vector_list[i], width, entities[i], "vector_list")
    return out


def priors(probabilities: Any, entities: Sequence[str], alias: str) -> List[float]:
    """The priors of an alias's candidates: each a finite number >= 0, summing
    to at most PRIOR_TOLERANCE (E133), one per entity (E132), no entity twice.

    probabilities: The values given.
    entities: The candidates' entity IDs (already checked).
    alias: The alias, for the message.
    """
    values = probabilities
    if type(values) is not list:
        if isinstance(values, (str, bytes)) or not hasattr(values, "__iter__"):
            raise TypeError(
                f"probabilities of alias {alias!r} must be a sequence of numbers, "
                f"got {_describe(values)}"
            )
        values = list(values)
    if len(entities) != len(values):
        raise ValueError(
            f"[E132] The entities and probabilities for alias '{alias}' should have "
            f"equal length, but found {len(entities)} and {len(values)} respectively."
        )
    for value in values:
        kind = type(value)
        if not ((kind is float or kind is int) and 0 <= value <= PRIOR_TOLERANCE):
            # not the common case: check (and convert) each value, naming a bad one
            values = [prior(v, entities[i], alias) for i, v in enumerate(values)]
            break
    total = sum(values)
    if total > PRIOR_TOLERANCE:
        raise ValueError(e133(alias, total))
    if len(set(entities)) != len(entities):
        seen = set()
        for entity in entities:
            if entity in seen:
                raise ValueError(
                    f"entities of alias {alias!r} name entity {entity!r} twice: "
                    "give each candidate once, with its whole prior"
                )
            seen.add(entity)
    return values


def prior(value: Any, entity: str, alias: str) -> float:
    """One prior probability: a finite number from 0 to 1."""
    what = f"the prior of entity {entity!r} for alias {alias!r}"
    return _number(value, PRIOR_TOLERANCE, what, "a probability from 0 to 1")


def entity_ids(entities: Any, alias: str) -> List[str]:
    """The candidate IDs of an alias: a list, tuple or array of IDs."""
    if isinstance(entities, (str, bytes)) or not hasattr(entities, "__iter__"):
        raise TypeError(
            f"entities of alias {alias!r} must be a list of entity IDs, got {_describe(entities)}"
        )
    ids = list(entities)
    for entity in ids:
        if type(entity) is not str or not entity:
            entity_id(entity, f"entities of alias {alias!r}")  # raises
    return ids


def mention_text(mention: Any) -> str:
    """The text of a mention given to ``get_candidates``: a str, or a Span (anything
    with a ``.text`` str)."""
    if isinstance(mention, str):
        return mention
    text = getattr(mention, "text", None)
    if not isinstance(text, str):
        raise TypeError(
            "get_candidates needs a mention: a Span (anything with a .text string) or a "
            f"string, got {_describe(mention)}"
        )
    return text


def e133(alias: str, total: float) -> str:
    return (
        f"[E133] The sum of prior probabilities for alias '{alias}' should not exceed "
        f"1, but found {total}."
    )


def e141(required: int, found: int, entity: str) -> str:
    return (
        f"[E141] Entity vectors should be of length {required} instead of the provided "
        f"{found} (entity '{entity}')."
    )


def _fits_float32(array: numpy.ndarray) -> numpy.ndarray:
    """Where the values are finite and stay finite as float32 (NaN fails every
    comparison, so it is caught with inf and overflow)."""
    return numpy.abs(array) <= _FLOAT32_MAX
