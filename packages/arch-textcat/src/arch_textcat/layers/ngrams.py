"""``spacy.extract_ngrams.v1``: the bag of n-gram keys of each Doc."""

from typing import Any, Callable, List, Sequence, Tuple, Union

from thinc.api import Model
from thinc.types import Floats1d, Ints1d

from arch_tok2vec.attrs import LOWER, intify_attr
from arch_tok2vec.validation import check_int

NgramBag = Tuple[Ints1d, Floats1d, Ints1d]


def extract_ngrams(ngram_size: int, attr: Union[int, str] = LOWER) -> Model[List[Any], NgramBag]:
    """Count the distinct n-grams of one token attribute in each Doc.

    ngram_size: The longest n-gram counted: 1 counts single tokens only, 2 adds
        pairs of neighbouring tokens, and so on.
    attr: The token attribute the n-grams are made of, by name or id (default
        LOWER; the bag-of-words classifiers use ORTH).
    The output is a triple ``(keys, counts, lengths)``: the uint64 keys of every
    Doc's distinct n-grams (sorted, Doc after Doc), a float32 count for each key
    and an int32 number of keys per Doc. A single token's key is its attribute
    value; a longer n-gram's key is thinc's ``ops.ngrams`` hash of the values it
    spans, so the keys are the same as spaCy's. No gradient flows back.
    """
    check_int("ngram_size", ngram_size)
    try:
        attr_id = intify_attr(attr)
    except ValueError as err:
        raise ValueError(f"attr: {err}") from None
    return Model("extract_ngrams", _forward, attrs={"ngram_size": ngram_size, "attr": attr_id})


def _forward(
    model: Model[List[Any], NgramBag], docs: Sequence[Any], is_train: bool
) -> Tuple[NgramBag, Callable]:
    ops = model.ops
    xp = ops.xp
    size = model.attrs["ngram_size"]
    attr = model.attrs["attr"]
    all_keys = []
    all_counts = []
    for doc in docs:
        # One attribute gives a 1-d array; it must be contiguous for ops.ngrams.
        ids = xp.ascontiguousarray(ops.asarray(doc.to_array(attr)).ravel(), dtype="uint64")
        grams = [ids]
        # A Doc shorter than n has no n-grams (and ops.ngrams rejects empty input).
        grams += [ops.ngrams(n, ids) for n in range(2, min(size, len(ids)) + 1)]
        keys, counts = xp.unique(xp.concatenate(grams), return_counts=True)
        all_keys.append(keys)
        all_counts.append(counts)
    lengths = ops.asarray1i([len(keys) for keys in all_keys])
    if all_keys:
        keys = xp.concatenate(all_keys).astype("uint64")
        counts = ops.asarray1f(xp.concatenate(all_counts))
    else:
        keys = xp.zeros((0,), dtype="uint64")
        counts = ops.alloc1f(0)

    def backprop(d_output: Any) -> List[Any]:
        return []

    return (keys, counts, lengths), backprop
