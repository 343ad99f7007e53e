"""What the transformer hands downstream: one ``TransformerData`` per Doc."""

from dataclasses import dataclass
from typing import Any, List, Sequence, cast

from thinc.types import Floats3d, Ints2d, Ragged

SpanLike = Any


@dataclass
class TransformerData:
    """The transformer's output for one Doc.

    spans: The spans of the Doc that were read, one row of wordpieces each.
    wordpieces: Per row, the wordpiece strings (padding included, so every row
        has the batch's row length).
    input_ids: (n_rows, row_length) wordpiece ids.
    attention_mask: (n_rows, row_length), 1 for real wordpieces, 0 for padding.
    hidden: (n_rows, row_length, width) last hidden state of the transformer.
    align: One entry per token of the Doc: the indices of its wordpieces in
        ``hidden.reshape(-1, width)`` (a token seen in two overlapping spans has
        wordpieces from both rows; a token with no wordpiece has none).
    """

    spans: List[SpanLike]
    wordpieces: List[List[str]]
    input_ids: Ints2d
    attention_mask: Ints2d
    hidden: Floats3d
    align: Ragged

    @property
    def width(self) -> int:
        """The hidden size."""
        return int(self.hidden.shape[-1])

    @property
    def n_tokens(self) -> int:
        """The number of tokens of the Doc."""
        return int(len(self.align.lengths))

    def token_wordpieces(self, i: int) -> List[int]:
        """The flat wordpiece indices aligned to token ``i``."""
        starts = self.align.lengths.cumsum() - self.align.lengths
        start = int(starts[i])
        return [
            int(x)
            for x in cast(Any, self.align.data).reshape((-1,))[
                start : start + int(self.align.lengths[i])
            ]
        ]


def batch_id(docs: Sequence[Any]) -> int:
    """The id of a batch: the sum of the ORTH ids of all its tokens (a Python
    int, as spaCy's listeners compute it)."""
    total = 0
    for doc in docs:
        if len(doc):
            total += sum(int(x) for x in doc.to_array("ORTH").reshape(-1).tolist())
    return total
