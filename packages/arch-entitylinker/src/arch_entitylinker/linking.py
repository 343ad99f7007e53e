"""Linking a mention: its candidates' scores under the task's two combinations,
the settings that choose between them, and the mentions of a Doc that comes
without any (the longest aliases of the KB found in it)."""

import math
from collections import Counter, defaultdict
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, Tuple

import numpy

NIL = "NIL"
MAX_ALIAS_TOKENS = 8
"""Longest alias (in tokens) searched for when a Doc comes without mentions."""
COMBINATIONS = ("spacy", "softmax")
"""How several candidates are scored (the task's ``combination``)."""
WORDS_SCOPES = ("context", "document")
"""Which words the word signal compares (the task's ``words_scope``)."""
PRIOR_FLOOR = 1e-6
"""The prior a candidate with prior 0 gets in ``log(prior)`` ("softmax"): far
behind any real prior, but finite, so context can still rank it."""


def check_combination(
    combination: Any, tau_context: Any, tau_words: Any, words_scope: Any, type_weight: Any
) -> None:
    """Raise ValueError naming the setting if the combination's settings do not
    fit (see ``entity_linker_task`` for what each means)."""
    if combination not in COMBINATIONS:
        raise ValueError(
            f"combination must be one of {', '.join(COMBINATIONS)}, got {combination!r}"
        )
    for name, value in (("tau_context", tau_context), ("tau_words", tau_words)):
        if value is None and name == "tau_words":
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
            raise ValueError(f"{name} must be a number > 0, got {value!r}")
    if words_scope not in WORDS_SCOPES:
        raise ValueError(
            f"words_scope must be one of {', '.join(WORDS_SCOPES)}, got {words_scope!r}"
        )
    if (
        isinstance(type_weight, bool)
        or not isinstance(type_weight, (int, float))
        or not 0 <= type_weight < math.inf
    ):
        raise ValueError(f"type_weight must be a finite number >= 0, got {type_weight!r}")
    if combination != "softmax":
        if words_scope != "context":
            raise ValueError('words_scope = "document" needs combination = "softmax"')
        if type_weight:
            raise ValueError('type_weight > 0 needs combination = "softmax"')
    elif words_scope != "context" and tau_words is None:
        raise ValueError('words_scope = "document" needs tau_words (the word signal) set')


def entity_types(labelled: Iterable[Tuple[str, str]]) -> Dict[str, str]:
    """Each entity's most frequent label over (entity, label) pairs (the first
    seen wins a tie; empty labels are not counted)."""
    counts: Dict[str, Counter] = defaultdict(Counter)
    for entity, label in labelled:
        if label:
            counts[entity][label] += 1
    return {entity: by_label.most_common(1)[0][0] for entity, by_label in counts.items()}


def cosines(vectors: numpy.ndarray, context: numpy.ndarray) -> numpy.ndarray:
    """The cosine between each row of ``vectors`` and ``context`` (0 where a
    norm is 0)."""
    norms = numpy.linalg.norm(vectors, axis=1) * numpy.linalg.norm(context)
    dots = vectors @ context
    return numpy.where(norms > 0, dots / numpy.maximum(norms, 1e-12), 0.0)


def spacy_scores(priors: Sequence[float], sims: Optional[numpy.ndarray]) -> numpy.ndarray:
    """spaCy's ``prior + sim - prior * sim`` per candidate.

    priors: The candidates' prior probabilities (zeros to leave them out).
    sims: The cosine between the context and each candidate; None: left out.
    """
    scores = numpy.asarray(priors)
    if sims is not None:
        scores = scores + sims - scores * sims
    return scores


def softmax_scores(
    n: int,
    priors: Optional[Sequence[float]],
    sims: Optional[numpy.ndarray],
    tau_context: float,
    words: Optional[numpy.ndarray],
    tau_words: Optional[float],
    label_fits: Optional[Sequence[bool]],
    type_weight: float,
) -> numpy.ndarray:
    """``log(prior) + sim / tau_context + words / tau_words + type_weight *
    [label fits]`` per candidate (the log of an unnormalised softmax over them);
    a prior of 0 counts as PRIOR_FLOOR.

    n: The number of candidates.
    priors: Their prior probabilities; None: left out.
    sims: The cosine between the context and each candidate; None: left out.
    tau_context: The temperature of ``sims``.
    words: The word-profile cosine of each candidate; None: left out.
    tau_words: The temperature of ``words``.
    label_fits: Whether the mention's label is each candidate's usual label;
        None: left out.
    type_weight: The bonus of a fitting label.
    """
    scores = numpy.zeros(n, dtype="float64")
    if priors is not None:
        scores += numpy.log(numpy.maximum(numpy.asarray(priors, dtype="float64"), PRIOR_FLOOR))
    if sims is not None:
        scores += sims / tau_context
    if words is not None and tau_words is not None:
        scores += words / tau_words
    if label_fits is not None:
        scores += type_weight * numpy.asarray(label_fits, dtype="float64")
    return scores


def find_aliases(
    doc: Any, contains_alias: Callable[[str], bool], max_tokens: int = MAX_ALIAS_TOKENS
) -> List[Any]:
    """Greedy longest-first alias matches over token spans, in time linear in
    the length of the Doc: each candidate text is built from the token texts
    around it (at most ``max_tokens`` of them), never from the whole Doc's text.

    doc: The Doc to search (ours or spaCy's: tokens with ``text`` and
        ``whitespace_``, spans by slicing).
    contains_alias: Whether a text is an alias of the KB.
    max_tokens: The longest alias searched for, in tokens.
    """
    texts = [token.text for token in doc]
    gaps = [token.whitespace_ for token in doc]
    found, i, n = [], 0, len(texts)
    while i < n:
        last = min(n, i + max_tokens)
        # the texts of the spans [i, i + 1), [i, i + 2), ... up to [i, last)
        pieces = [texts[i]]
        for j in range(i + 1, last):
            pieces.append(pieces[-1] + gaps[j - 1] + texts[j])
        for j in range(last, i, -1):
            if contains_alias(pieces[j - i - 1]):
                found.append(doc[i:j])
                i = j
                break
        else:
            i += 1
    return found
