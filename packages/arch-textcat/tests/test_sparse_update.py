"""TextCatBOW's SparseLinear.v1 layer is trained through its live weights only
(arch_textcat.layers.sparse_update), with the same result as thinc's full update."""

import pickle

import numpy
import pytest
from murmurhash.mrmr import hash_bytes
from thinc.api import Adam, Config, Model, SparseLinear, chain, noop

from arch_textcat.layers import sparse_update as su
from arch_tok2vec import Doc, registry
from arch_tok2vec.fused import FusedForward

N_LABELS = 12

BOW = """
[model]
@architectures = "spacy.TextCatBOW.v1"
exclusive_classes = true
ngram_size = 2
no_output_layer = false
nO = null
"""

ENSEMBLE = """
[model]
@architectures = "spacy.TextCatEnsemble.v1"
exclusive_classes = true
pretrained_vectors = null
width = 16
embed_size = 100
conv_depth = 1
window_size = 1
ngram_size = 1
dropout = null
nO = null
"""

TEXTS = [
    "how do I top up my card",
    "my card payment was declined twice today",
    "where is my new card , it has not arrived",
    "can I change my PIN at an ATM",
    "the exchange rate on my transfer looks wrong",
    "why was I charged a fee for withdrawing cash",
    "I want to close my account",
    "is there a limit on top ups",
]


def _docs_and_labels(n=64, seed=0):
    rng = numpy.random.default_rng(seed)
    docs, labels = [], []
    for _ in range(n):
        words = " ".join(TEXTS[int(i)] for i in rng.integers(0, len(TEXTS), 2)).split()
        docs.append(Doc(words))
        labels.append(int(rng.integers(0, N_LABELS)))
    return docs, numpy.eye(N_LABELS, dtype="float32")[labels]


def _build(config=BOW):
    docs, Y = _docs_and_labels(16)
    model = registry.resolve(Config().from_str(config))["model"]
    model.initialize(X=docs, Y=Y)
    return model


def _sparse_linear(model):
    return next(node for node in model.walk() if node.name == "sparse_linear")


def _thinc_version(model):
    """A copy whose SparseLinear layer is differentiated and updated as thinc
    does it (the rest of the model computes as in ``model``: the ensemble's
    gradients reach the bag of words through a softmax over nearly equal
    inputs, which turns float32 rounding differences into visible ones)."""
    copy = model.copy()
    copy.__class__ = Model
    for mine, theirs in zip(model.walk(), copy.walk()):
        theirs.ops = mine.ops  # thinc's copy() gives the copy the current ops
    layer = _sparse_linear(copy)
    assert isinstance(layer._func, FusedForward)
    layer._func = layer._func.original
    return copy


def _spacy_optimizer():
    # spaCy's default [training.optimizer]: Adam with weight decay, clipping, averages
    return Adam(0.01, L2=0.01, grad_clip=1.0, use_averages=True, L2_is_weight_decay=True)


def _train(model, optimizer, steps=6):
    docs, Y = _docs_and_labels(128, seed=1)
    for step in range(steps):
        X, T = docs[step * 20 : step * 20 + 20], Y[step * 20 : step * 20 + 20]
        scores, backprop = model.begin_update(X)
        backprop(scores - T)
        model.finish_update(optimizer)


def test_hash_is_thincs():
    keys = numpy.random.default_rng(0).integers(0, 2**63, 500, dtype=numpy.uint64)
    keys[:3] = [0, 1, 2**64 - 1]
    for seed in (0, 1):
        expected = [hash_bytes(key.tobytes(), seed) & 0xFFFFFFFF for key in keys]
        assert su.murmurhash3_32(keys, seed).tolist() == expected


def test_live_gradient_is_thincs_dense_gradient():
    layer = SparseLinear(5, length=64)
    layer.initialize()
    rng = numpy.random.default_rng(0)
    keys = rng.integers(0, 2**63, 40, dtype=numpy.uint64)
    values = rng.random(40).astype("float32")
    lengths = numpy.array([10, 0, 25, 5], dtype="int32")
    d_scores = rng.normal(0, 1, (4, 5)).astype("float32")
    _, backprop = layer((keys, values, lengths), is_train=True)
    backprop(d_scores)
    dense = layer.get_grad("W")
    live = su.live_size(layer)
    assert live == 64 + 5 - 1
    d_live, d_bias = su.sparse_linear_backward_live(keys, values, lengths, d_scores, 64, live)
    numpy.testing.assert_allclose(d_live, dense[:live], rtol=1e-5, atol=1e-6)
    assert not dense[live:].any()
    numpy.testing.assert_allclose(d_bias, layer.get_grad("b"), rtol=1e-6)


@pytest.mark.parametrize("config", [BOW, ENSEMBLE])
def test_same_weights_and_optimizer_state_as_thincs_full_update(config):
    ours = _build(config)
    assert isinstance(ours, su.SparseUpdateModel)
    theirs = _thinc_version(ours)
    ours_opt, their_opt = _spacy_optimizer(), _spacy_optimizer()
    _train(ours, ours_opt)
    _train(theirs, their_opt)
    a, b = _sparse_linear(ours), _sparse_linear(theirs)
    W = b.get_param("W")
    assert numpy.count_nonzero(W) > 100  # the update did move the weights
    numpy.testing.assert_allclose(a.get_param("W"), W, rtol=1e-5, atol=1e-7)
    numpy.testing.assert_allclose(a.get_param("b"), b.get_param("b"), rtol=1e-5, atol=1e-7)
    for name in ("mom1", "mom2", "averages"):
        mine = getattr(ours_opt, name)[(a.id, "W")]
        full = getattr(their_opt, name)[(b.id, "W")]
        assert mine.shape == full.shape == W.shape
        numpy.testing.assert_allclose(mine, full, rtol=1e-5, atol=1e-7, err_msg=name)
    docs, _ = _docs_and_labels(30, seed=5)
    numpy.testing.assert_allclose(ours.predict(docs), theirs.predict(docs), rtol=1e-5, atol=1e-6)
    with ours.use_params(ours_opt.averages):
        assert a.get_param("W").shape == W.shape


def test_the_optimizer_sees_only_the_live_weights():
    """The point of it all: the optimizer is called with the live part of W (and
    the gradient of the full W is never added densely)."""
    model = _build()
    layer = _sparse_linear(model)
    live = su.live_size(layer)
    assert live < layer.get_param("W").size // 2
    optimizer = _spacy_optimizer()
    sizes = {}

    class Spy:
        def __getattr__(self, name):
            return getattr(optimizer, name)

        def __call__(self, key, weights, gradient, **kwargs):
            sizes[key[1], key[0] == layer.id] = weights.size
            return optimizer(key, weights, gradient, **kwargs)

    spy = Spy()
    docs, Y = _docs_and_labels(20)
    scores, backprop = model.begin_update(docs)
    backprop(scores - Y)
    model.finish_update(spy)
    assert sizes[("W", True)] == live


def test_dead_weights_that_are_not_zero_get_the_full_update():
    ours = _build()
    layer = _sparse_linear(ours)
    W = layer.get_param("W").copy()
    W[-10:] = 1.0  # a weight no key can reach: only weight decay moves it
    layer.set_param("W", W)
    theirs = _thinc_version(ours)
    _train(ours, _spacy_optimizer(), steps=3)
    _train(theirs, _spacy_optimizer(), steps=3)
    after = layer.get_param("W")
    assert after[-1] < 1.0  # decayed, as the full update does
    numpy.testing.assert_allclose(
        after, _sparse_linear(theirs).get_param("W"), rtol=1e-5, atol=1e-7
    )


def test_a_foreign_root_still_trains_the_layer_fully():
    """Nested in a root built elsewhere (thinc's own finish_update), the layer's
    gradient is a full-size array and the full update applies it."""
    bow = _build()
    outer = chain(bow, noop())
    assert type(outer) is Model
    reference = chain(_thinc_version(bow), noop())
    _train(outer, _spacy_optimizer(), steps=3)
    _train(reference, _spacy_optimizer(), steps=3)
    numpy.testing.assert_allclose(
        _sparse_linear(outer).get_param("W"),
        _sparse_linear(reference).get_param("W"),
        rtol=1e-5,
        atol=1e-7,
    )


def test_copy_and_pickle_keep_the_sparse_update():
    model = _build()
    assert isinstance(model.copy(), su.SparseUpdateModel)
    restored = pickle.loads(pickle.dumps(model))
    assert isinstance(restored, su.SparseUpdateModel)
    docs, _ = _docs_and_labels(10)
    numpy.testing.assert_array_equal(restored.predict(docs), model.predict(docs))
    fresh = _build()
    fresh.from_bytes(model.to_bytes())
    numpy.testing.assert_array_equal(fresh.predict(docs), model.predict(docs))
