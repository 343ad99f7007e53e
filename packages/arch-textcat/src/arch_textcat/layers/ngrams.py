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
    # The whole batch at once: the attribute values of all Docs end to end, the
    # n-grams of that sequence minus those that cross a Doc boundary, then one
    # sort by (Doc, key) instead of a ``unique`` per Doc.
    ops = model.ops
    xp = ops.xp
    size = model.attrs["ngram_size"]
    attr = model.attrs["attr"]
    lengths = [len(doc) for doc in docs]
    n_docs = len(lengths)
    if sum(lengths) == 0:
        keys = xp.zeros((0,), dtype="uint64")
        return (keys, ops.alloc1f(0), ops.alloc1i(n_docs)), _no_gradient
    ids = xp.ascontiguousarray(
        xp.concatenate([ops.asarray(doc.to_array(attr)).ravel() for doc in docs]), dtype="uint64"
    )
    doc_lengths = xp.asarray(lengths, dtype="int64")
    doc_of = xp.repeat(xp.arange(n_docs, dtype="int64"), doc_lengths)
    # tokens left in the Doc from each position on (itself included)
    ends = xp.cumsum(doc_lengths)
    left = ends[doc_of] - xp.arange(len(ids), dtype="int64")
    all_keys = [ids]
    all_docs = [doc_of]
    for n in range(2, min(size, int(doc_lengths.max())) + 1):
        inside = left[: len(ids) - n + 1] >= n
        all_keys.append(ops.ngrams(n, ids)[inside])
        all_docs.append(doc_of[: len(ids) - n + 1][inside])
    keys = xp.concatenate(all_keys)
    owner = xp.concatenate(all_docs)
    order = xp.lexsort((keys, owner))
    keys = keys[order]
    owner = owner[order]
    new = xp.ones(len(keys), dtype=bool)
    new[1:] = (keys[1:] != keys[:-1]) | (owner[1:] != owner[:-1])
    starts = xp.flatnonzero(new)
    counts = xp.diff(xp.append(starts, len(keys)))
    unique_keys = keys[starts]
    per_doc = xp.bincount(owner[starts], minlength=n_docs)
    return (
        (unique_keys, ops.asarray1f(counts), ops.asarray1i(per_doc)),
        _no_gradient,
    )


def _no_gradient(d_output: Any) -> List[Any]:
    return []
