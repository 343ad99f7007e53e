"""Wordpiece-to-token alignment from the tokenizer's character offsets.

Each token claims its characters and the one character after it (a later token
overwrites); a wordpiece is aligned to every token that owns a character of its
``[start, end)`` range. Special tokens have empty ranges and so align to nothing.
"""

from typing import Any, List, Sequence, Set, Tuple, cast

import numpy
from thinc.types import Ragged

SpanLike = Any
Offsets = Sequence[Tuple[int, int]]


def align_doc(
    n_tokens: int, spans: Sequence[SpanLike], offsets: Sequence[Offsets], row_length: int
) -> Ragged:
    """Align one Doc's tokens to the wordpieces of its spans.

    n_tokens: The number of tokens of the Doc.
    spans: The Doc's spans, one wordpiece row each.
    offsets: Per row, the (start, end) character offsets of its wordpieces,
        relative to the span's text.
    row_length: The length of every (padded) row: wordpiece j of row r has the
        flat index r * row_length + j.
    Returns a Ragged with one entry per token: its sorted, de-duplicated flat
    wordpiece indices.
    """
    pieces: List[Set[int]] = [set() for _ in range(n_tokens)]
    for row, (span, row_offsets) in enumerate(zip(spans, offsets)):
        if not len(span):
            continue
        base = span.start_char
        length = span.end_char - base
        owner = [-1] * length
        for i, token in enumerate(span):
            start = token.idx - base
            end = min(start + len(token.text) + 1, length)
            for char in range(start, end):
                owner[char] = span.start + i
        for j, (start, end) in enumerate(row_offsets):
            for token_i in {owner[char] for char in range(start, min(end, length))}:
                if token_i >= 0:
                    pieces[token_i].add(row * row_length + j)
    lengths = numpy.array([len(p) for p in pieces], dtype="int32")
    data = [index for p in pieces for index in sorted(p)]
    return Ragged(cast(Any, numpy.array(data, dtype="int32")), cast(Any, lengths))
