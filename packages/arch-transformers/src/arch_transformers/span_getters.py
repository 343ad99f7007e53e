"""Span getters: which stretches of each Doc the transformer reads.

A span getter maps ``List[Doc]`` to one list of spans per Doc. Each span becomes
one row of wordpieces for the transformer, so a span getter is how a document
longer than the model's maximum length is covered. The functions registered
here (registry ``span_getters``) are factories: called with their settings,
they return the getter.
"""

from typing import Any, Callable, List

from arch_tok2vec.validation import check_int

DocLike = Any  # arch_tok2vec.Doc, spacy.tokens.Doc, or anything with slices and sents
SpanLike = Any
SpanGetter = Callable[[List[DocLike]], List[List[SpanLike]]]


def strided_spans(window: int, stride: int) -> SpanGetter:
    """Cover each Doc with windows of ``window`` tokens that start every ``stride`` tokens.

    window: The number of tokens in each span (the last span of a Doc may be shorter).
    stride: How many tokens each span starts after the previous one. It may not
        exceed window, so every token is in at least one span; when it is smaller,
        neighbouring spans overlap and a token seen in two spans gets the mean of
        the wordpiece vectors from both.
    Per Doc: spans start at 0, stride, 2*stride, ...; the spans stop at the first
    one that reaches the end of the Doc; if len(doc) // stride windows all end
    before the end, the rest of the Doc is one more span. A Doc shorter than
    stride is one span; an empty Doc has no spans.
    """
    check_int("window", window)
    check_int("stride", stride)
    if stride > window:
        raise ValueError(
            f"stride ({stride}) must not exceed window ({window}): the tokens between "
            "two windows would be in no span and get no vector"
        )

    def get_strided_spans(docs: List[DocLike]) -> List[List[SpanLike]]:
        return [_strided(doc, window, stride) for doc in docs]

    return get_strided_spans


def _strided(doc: DocLike, window: int, stride: int) -> List[SpanLike]:
    spans = []
    start = 0
    for _ in range(len(doc) // stride):
        spans.append(doc[start : start + window])
        if start + window >= len(doc):
            break
        start += stride
    else:
        if start < len(doc):
            spans.append(doc[start:])
    return spans


def sent_spans() -> SpanGetter:
    """One span per sentence of each Doc (the Docs need sentence boundaries).

    An empty Doc has no spans.
    """

    def get_sent_spans(docs: List[DocLike]) -> List[List[SpanLike]]:
        return [list(doc.sents) for doc in docs]

    return get_sent_spans


def doc_spans() -> SpanGetter:
    """One span per Doc: the whole Doc (an empty Doc gives one empty span).

    Only for Docs that fit the model's maximum length; longer spans are
    truncated, with a warning.
    """

    def get_doc_spans(docs: List[DocLike]) -> List[List[SpanLike]]:
        return [[doc[:]] for doc in docs]

    return get_doc_spans
