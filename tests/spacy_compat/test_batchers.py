"""Issue 15: arch's spacy.batch_by_words.v1 and spacy.batch_by_sequence.v1 make the
batches spaCy 3.8's make, batch for batch, and spaCy still resolves its own names
(ours are declared in arch_batchers, a group spaCy does not read)."""

import random

import pytest
import spacy
from spacy.training.batchers import minibatch_by_words
from spacy.util import minibatch
from thinc.api import compounding

from arch_tok2vec import registry
from arch_tok2vec.batchers import batch_by_sequence, batch_by_words

SPECIAL = [1, 2, 5, 199, 200, 400, 999, 1000, 1199, 1200, 1201, 1500]


def _lengths(rng):
    n = rng.randint(0, 60)
    return [rng.choice(SPECIAL) if rng.random() < 0.3 else rng.randint(0, 300) for _ in range(n)]


@pytest.mark.parametrize("seed", range(20))
def test_batch_by_words_is_spacy_s(seed):
    rng = random.Random(seed)
    for _ in range(100):
        lengths = _lengths(rng)
        items = list(range(len(lengths)))
        size = rng.choice([100, 500, 1000])
        tolerance = rng.choice([0.0, 0.2, 0.5])
        discard = rng.random() < 0.5
        kwargs = dict(tolerance=tolerance, discard_oversize=discard, get_length=lengths.__getitem__)
        assert list(batch_by_words(items, size, **kwargs)) == list(
            minibatch_by_words(items, size, **kwargs)
        )
        ours = list(batch_by_words(items, compounding(10, 1000, 1.5), **kwargs))
        assert ours == list(minibatch_by_words(items, compounding(10, 1000, 1.5), **kwargs))


@pytest.mark.parametrize("seed", range(5))
def test_batch_by_sequence_is_spacy_s(seed):
    rng = random.Random(seed)
    for _ in range(100):
        items = list(range(rng.randint(0, 80)))
        size = rng.randint(1, 12)
        assert list(batch_by_sequence(items, size)) == list(minibatch(items, size))
        ours = list(batch_by_sequence(items, compounding(1, 16, 1.3)))
        assert ours == list(minibatch(items, compounding(1, 16, 1.3)))


def test_spacy_keeps_its_own_batchers():
    for name in ("spacy.batch_by_words.v1", "spacy.batch_by_sequence.v1"):
        assert spacy.util.registry.get("batchers", name).__module__.startswith("spacy.")
        assert registry.batchers.get(name).__module__ == "arch_tok2vec.batchers"
