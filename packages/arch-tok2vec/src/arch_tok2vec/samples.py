"""A few sample documents for building models without a corpus (``archs build``)."""

from typing import List

import numpy

from .doc import Doc
from .vocab import Vectors, Vocab

SAMPLE_TEXTS = [
    "The committee approved the new budget on Tuesday.",
    "Ms. Okafor's bakery sells 1,200 loaves a week — mostly sourdough.",
    "Where did you park the car?",
    "Prices rose 3.5% in São Paulo, according to the report.",
    "OK",
]

VECTORS_WIDTH = 8


def sample_docs(with_vectors: bool = True) -> List[Doc]:
    """The sample texts as Docs; their vocab has a small random vectors table
    (width ``VECTORS_WIDTH``) covering most of their words, so models with
    static vectors initialize too."""
    vocab = Vocab()
    docs = [Doc.from_text(text, vocab=vocab) for text in SAMPLE_TEXTS]
    if with_vectors:
        words = sorted({word for doc in docs for word in doc.words})[::2] or ["OK"]
        rng = numpy.random.default_rng(0)
        data = rng.normal(0.0, 1.0, (len(words), VECTORS_WIDTH)).astype("float32")
        vocab.vectors = Vectors(words, data)
    return docs
