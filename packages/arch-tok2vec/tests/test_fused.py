"""The fused Maxout / LayerNorm / window forwards (arch_tok2vec.fused) compute what
thinc's layers compute, gradients included, and step aside where they do not apply."""

import pickle

import numpy
import pytest
from thinc.api import Config, Maxout, NumpyOps, chain, clone, expand_window, residual

from arch_tok2vec import Doc, kernels, registry
from arch_tok2vec.fused import FusedForward, fuse_layers
from arch_tok2vec.ops import numpy_gemm_ops

CONFIG = """
[model]
@architectures = "spacy.HashEmbedCNN.v1"
pretrained_vectors = null
width = 32
depth = 3
embed_size = 200
window_size = {window}
maxout_pieces = {pieces}
subword_features = true
"""

WORDS = (
    "The cat sat on the mat . A dog barked at 3 cars , then slept . "
    "Colourless green ideas sleep furiously in Zürich today !"
).split()


def _docs(n_docs=9):
    rng = numpy.random.default_rng(0)
    return [
        Doc([WORDS[i] for i in rng.integers(0, len(WORDS), int(rng.integers(1, 40)))])
        for _ in range(n_docs)
    ]


def _build(window=1, pieces=3):
    text = CONFIG.format(window=window, pieces=pieces)
    return registry.resolve(Config().from_str(text))["model"]


def _unfused(model):
    """A copy of ``model`` whose nodes run thinc's own forwards."""
    copy = model.copy()
    for node in copy.walk():
        if isinstance(node._func, FusedForward):
            node._func = node._func.original
    return copy


def _noisy(model, seed=1):
    rng = numpy.random.default_rng(seed)
    for node in model.walk():
        for name in node.param_names:
            if node.has_param(name):
                value = node.get_param(name)
                node.set_param(name, rng.normal(0, 0.3, value.shape).astype("float32"))
    return model


def _grads(model):
    found = {}
    for i, node in enumerate(model.walk()):
        for name in node.param_names:
            if node.has_grad(name):
                found[(i, node.name, name)] = node.get_grad(name).copy()
    return found


def _train_step(model, docs, seed=3):
    numpy.random.seed(seed)  # the dropout masks
    Y, backprop = model.begin_update(docs)
    rng = numpy.random.default_rng(seed)
    dX = backprop([rng.normal(0, 1, y.shape).astype("float32") for y in Y])
    return Y, dX, _grads(model)


def test_encoder_nodes_run_fused(monkeypatch):
    """thinc's per-layer kernels for Maxout and the window (ops.maxout, ops.seq2col
    and their backward passes) are not called at all when a HashEmbedCNN
    predicts or trains: the fused nodes compute those layers."""
    docs = _docs()
    model = _build()
    model.initialize(X=docs)
    fused = [node.name for node in model.walk() if isinstance(node._func, FusedForward)]
    assert any(name.startswith("residual(") for name in fused)
    assert "maxout>>layernorm>>dropout" in fused
    called = []
    ops_class = type(numpy_gemm_ops())
    for name in ("maxout", "backprop_maxout", "seq2col", "backprop_seq2col"):
        original = getattr(ops_class, name)

        def spy(self, *args, original=original, name=name, **kwargs):
            called.append(name)
            return original(self, *args, **kwargs)

        monkeypatch.setattr(ops_class, name, spy)
    model.predict(docs)
    _train_step(model, docs)
    assert called == []


@pytest.mark.parametrize("window,pieces", [(1, 3), (0, 2), (2, 1), (1, 2)])
def test_same_outputs_and_gradients_as_thinc(window, pieces):
    docs = _docs()
    model = _build(window, pieces)
    model.initialize(X=docs)
    _noisy(model)
    reference = _unfused(model)
    for ours, theirs in zip(model.predict(docs), reference.predict(docs)):
        numpy.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=2e-5)
    Y_ours, _, g_ours = _train_step(model, docs)
    Y_ref, _, g_ref = _train_step(reference, docs)
    for ours, theirs in zip(Y_ours, Y_ref):
        numpy.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=2e-5)
    assert g_ours.keys() == g_ref.keys() and len(g_ours) > 0
    for key, value in g_ref.items():
        scale = float(numpy.abs(value).max()) or 1.0
        numpy.testing.assert_allclose(g_ours[key], value, rtol=0, atol=1e-4 * scale, err_msg=key)


def test_dropout_inside_the_blocks_matches_thinc(monkeypatch):
    """spaCy sets dropout_rate on every node that has one (Dropout layers included)
    while training; with the same masks, the fused blocks compute what thinc's
    layers compute (the masks are drawn by kernels.dropout_mask, replayed here
    to thinc's Dropout layers in the order they were drawn)."""
    docs = _docs()
    model = _build()
    model.initialize(X=docs)
    _noisy(model)
    reference = _unfused(model)
    for m in (model, reference):
        for node in m.walk():
            if node.name == "dropout":
                node.attrs["dropout_rate"] = 0.25
    drawn = []
    draw = kernels.dropout_mask

    def recording(shape, rate):
        drawn.append(draw(shape, rate))
        return drawn[-1]

    monkeypatch.setattr(kernels, "dropout_mask", recording)
    Y_ours, dX_ours, g_ours = _train_step(model, docs)
    assert len(drawn) == 4  # the embedding's Maxout and three window blocks
    queue = list(drawn)
    thinc_mask = NumpyOps.get_dropout_mask

    def replay(self, shape, drop):
        if not drop:  # HashEmbed asks for a mask at rate 0
            return thinc_mask(self, shape, drop)
        mask = queue.pop(0)
        return mask if mask.shape == tuple(shape) else mask.T  # blocks draw feature-major

    monkeypatch.setattr(NumpyOps, "get_dropout_mask", replay)
    Y_ref, dX_ref, g_ref = _train_step(reference, docs)
    assert queue == []
    for ours, theirs in zip(Y_ours, Y_ref):
        numpy.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=2e-5)
    for key, value in g_ref.items():
        scale = float(numpy.abs(value).max()) or 1.0
        numpy.testing.assert_allclose(g_ours[key], value, rtol=0, atol=1e-4 * scale, err_msg=key)


def test_dropout_masks_have_thincs_distribution_and_follow_the_seed():
    numpy.random.seed(0)
    mask = kernels.dropout_mask((400, 1000), 0.3)
    assert mask.dtype == numpy.float32 and mask.shape == (400, 1000)
    assert set(numpy.unique(mask).tolist()) == {0.0, numpy.float32(1 / 0.7)}
    assert abs(float((mask > 0).mean()) - 0.7) < 0.005
    assert abs(float(mask.mean()) - 1.0) < 0.01  # an unbiased mask
    numpy.random.seed(7)
    first = kernels.dropout_mask((30, 20), 0.5)
    numpy.random.seed(7)
    assert numpy.array_equal(first, kernels.dropout_mask((30, 20), 0.5))
    assert not kernels.dropout_mask((3, 4), 1.0).any()


def test_batches_longer_than_a_slice(monkeypatch):
    """Window blocks read neighbours across the edges of the slices."""
    monkeypatch.setattr(kernels, "CHUNK", 7)
    docs = _docs()
    model = _build(window=2)
    model.initialize(X=docs)
    _noisy(model)
    reference = _unfused(model)
    assert sum(len(doc) for doc in docs) > 3 * 7
    for ours, theirs in zip(model.predict(docs), reference.predict(docs)):
        numpy.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=2e-5)
    _, dX, g_ours = _train_step(model, docs)
    _, dX, g_ref = _train_step(reference, docs)
    for key, value in g_ref.items():
        scale = float(numpy.abs(value).max()) or 1.0
        numpy.testing.assert_allclose(g_ours[key], value, rtol=0, atol=1e-4 * scale, err_msg=key)


def test_input_gradient_of_a_block_stack():
    width = 8
    stack = clone(
        residual(
            chain(expand_window(window_size=1), Maxout(width, 3 * width, nP=3, normalize=True))
        ),
        2,
    )
    stack.ops = numpy_gemm_ops()
    for node in stack.walk():
        node.ops = numpy_gemm_ops()
    rng = numpy.random.default_rng(0)
    X = rng.normal(0, 1, (30, width)).astype("float32")
    stack.initialize(X=X)
    _noisy(stack)
    reference = _unfused(fuse_layers(stack))
    assert isinstance(stack._func, FusedForward)
    dY = rng.normal(0, 1, (30, width)).astype("float32")
    Y1, bp1 = stack(X, is_train=True)
    Y2, bp2 = reference(X, is_train=True)
    numpy.testing.assert_allclose(Y1, Y2, rtol=1e-5, atol=1e-5)
    numpy.testing.assert_allclose(bp1(dY), bp2(dY), rtol=1e-4, atol=1e-4)


def test_falls_back_when_a_child_is_replaced():
    """After replace_node the node no longer has the shape the fused forward
    knows: thinc's forward runs, with the new child."""
    docs = _docs()
    model = _build()
    model.initialize(X=docs)
    before = model.predict(docs)
    norm = next(node for node in model.walk() if node.name == "layernorm")
    from thinc.api import noop

    assert model.replace_node(norm, noop())
    after = model.predict(docs)
    reference = _unfused(model)
    for ours, theirs in zip(after, reference.predict(docs)):
        numpy.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-5)
    assert any(not numpy.allclose(a, b) for a, b in zip(before, after))


def test_float64_input_runs_thinc_forward():
    unit = Maxout(4, 6, nP=2, normalize=True)
    for node in unit.walk():
        node.ops = numpy_gemm_ops()
    fuse_layers(unit)
    X = numpy.random.default_rng(0).normal(0, 1, (5, 6))
    unit.initialize(X=X.astype("float32"))
    Y, _ = unit(X, is_train=False)  # float64 in: thinc's layers handle it as before
    Yf, _ = unit(X.astype("float32"), is_train=False)
    numpy.testing.assert_allclose(Y, Yf, rtol=1e-4, atol=1e-5)


def test_copies_and_pickles_use_their_own_weights():
    docs = _docs()
    model = _build()
    model.initialize(X=docs)
    copy = model.copy()
    _noisy(copy, seed=9)
    restored = pickle.loads(pickle.dumps(copy))
    assert all(
        isinstance(a._func, FusedForward) == isinstance(b._func, FusedForward)
        for a, b in zip(model.walk(), restored.walk())
    )
    for a, b in zip(copy.predict(docs), restored.predict(docs)):
        numpy.testing.assert_array_equal(a, b)
    for a, b in zip(copy.predict(docs), model.predict(docs)):
        assert not numpy.allclose(a, b)


def test_arch_gemm_blis_leaves_thinc_forwards(monkeypatch):
    monkeypatch.setenv("ARCH_GEMM", "blis")
    model = _build()
    assert not any(isinstance(node._func, FusedForward) for node in model.walk())
