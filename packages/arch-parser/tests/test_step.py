"""The step model's per-step work: the hidden layer (gather-sum of the
precomputed blocks, bias, maxout) and its recorded gradient equal the plain
argmax formulation, and parsing runs its products on one BLAS thread."""

import numpy
import pytest
from thinc.api import Adam
from threadpoolctl import ThreadpoolController

from arch_parser import ArcEager, TransitionBasedParser
from arch_parser import step as step_module
from arch_parser.runtime import parse, update
from arch_tok2vec import Doc
from arch_tok2vec.architectures.tok2vec import HashEmbedCNN

WORDS = "the cat sat on the mat and the dog barked at it".split()


def _model(pieces, n_moves):
    tok2vec = HashEmbedCNN(
        pretrained_vectors=None,
        width=16,
        depth=1,
        embed_size=50,
        window_size=1,
        maxout_pieces=2,
        subword_features=False,
    )
    model = TransitionBasedParser(
        tok2vec, state_type="parser", extra_state_tokens=False, hidden_width=8,
        maxout_pieces=pieces, use_upper=True, nO=None,
    )  # fmt: skip
    model.attrs["resize_output"](model, n_moves)
    model.initialize(X=[Doc(WORDS)])
    rng = numpy.random.default_rng(0)
    for node in model.walk():
        for name in node.param_names:
            if node.has_param(name):
                value = node.get_param(name)
                node.set_param(name, rng.normal(0, 0.1, value.shape).astype("float32"))
    return model


def _reference_hidden(step, ids):
    """The hidden layer as an argmax over the (nO, nP) blocks."""
    rows = (ids.astype(numpy.int64) + 1) * step.nF + step.slot
    pre = step.table[rows.ravel()].reshape((ids.shape[0], step.nF, -1)).sum(axis=1)
    pre = pre + step.bias
    if step.nP == 1:
        return pre * (pre > 0), pre > 0
    pre = pre.reshape((ids.shape[0], step.nO, step.nP))
    which = pre.argmax(axis=-1)
    return numpy.take_along_axis(pre, which[..., None], axis=-1)[..., 0], which


@pytest.mark.parametrize("pieces", [1, 2, 3])
def test_hidden_and_its_gradient_equal_the_argmax_form(pieces):
    model = _model(pieces, n_moves=5)
    docs = [Doc(WORDS), Doc(WORDS[:4])]
    step = step_module.ParserStepModel(model, docs, train=True)
    rng = numpy.random.default_rng(1)
    ids = rng.integers(-1, sum(len(d) for d in docs), (20, step.nF)).astype("int32")
    ids[3] = ids[2]  # repeated states
    # ties between pieces: the first piece wins, as argmax decides
    if pieces >= 2:
        step.table[:] = numpy.round(step.table * 2) / 2
        step.bias[:] = 0.0
    hidden, which = step._hidden(ids)
    ref_hidden, ref_which = _reference_hidden(step, ids)
    numpy.testing.assert_allclose(hidden, ref_hidden, rtol=1e-6, atol=1e-6)
    numpy.testing.assert_array_equal(numpy.asarray(which, dtype=int), ref_which.astype(int))
    d_hidden = rng.normal(0, 1, hidden.shape).astype("float32")
    step._record(ids, d_hidden, which)
    expected = numpy.zeros((ids.shape[0], step.nO, step.nP), dtype="float32")
    if pieces >= 2:
        numpy.put_along_axis(expected, ref_which[..., None], d_hidden[..., None], axis=-1)
    else:
        expected[..., 0] = d_hidden * ref_which
    numpy.testing.assert_allclose(step._d_pre[-1], expected.reshape((ids.shape[0], -1)))


@pytest.mark.parametrize("training", [False, True])
def test_the_step_loop_runs_on_one_blas_thread(monkeypatch, training):
    """The per-step products are small; a threaded BLAS only adds overhead (and on
    a busy machine, waits), so the step loops of parsing and training hold
    numpy's BLAS at one thread."""
    blas = ThreadpoolController().select(user_api="blas")
    if not blas.lib_controllers:
        pytest.skip("numpy has no BLAS library threadpoolctl can see")
    before = [lib.get_num_threads() for lib in blas.lib_controllers]
    for lib in blas.lib_controllers:
        lib.set_num_threads(2)
    try:
        seen = []
        name = "begin_update" if training else "predict"
        original = getattr(step_module.ParserStepModel, name)

        def spy(self, ids):
            seen.append([lib.get_num_threads() for lib in blas.lib_controllers])
            return original(self, ids)

        monkeypatch.setattr(step_module.ParserStepModel, name, spy)
        system = ArcEager({0: {"": 1}, 1: {"": 1}, 2: {"x": 1}, 3: {"y": 1}, 4: {"ROOT": 1}})
        model = _model(2, n_moves=system.n_moves)
        docs = [Doc(WORDS), Doc(WORDS[:5])]
        if training:
            golds = [
                system.gold_for(
                    [1, 2, 2] + list(range(3, len(doc))), ["x", "ROOT"] + ["y"] * (len(doc) - 2)
                )
                for doc in docs
            ]
            update(model, system, docs, golds, Adam(0.001))
        else:
            parse(model, system, docs)
        assert seen and all(threads == [1] * len(threads) for threads in seen)
        assert [lib.get_num_threads() for lib in blas.lib_controllers] == [2] * len(before)
    finally:
        for lib, threads in zip(blas.lib_controllers, before):
            lib.set_num_threads(threads)


def test_lower_layer_backward_per_step(monkeypatch):
    """spaCy's step model calls the lower layer's backward pass once per parser
    step: it gives spaCy's gradients (pad, b, W and the token vectors'), on
    numpy's BLAS (not thinc's blis gemm, about half as fast on AVX-512 CPUs)."""
    from thinc.api import NumpyOps

    from arch_parser.layers.precomputable_affine import PrecomputableAffine

    nF, nO, nP, nI = 3, 4, 2, 5
    layer = PrecomputableAffine(nO=nO, nI=nI, nF=nF, nP=nP)
    layer.initialize()
    rng = numpy.random.default_rng(0)
    X = rng.normal(0, 1, (7, nI)).astype("float32")
    Yf, backward = layer(X, is_train=True)
    W = layer.get_param("W")
    numpy.testing.assert_allclose(Yf[1:], numpy.einsum("ni,fopi->nfop", X, W), rtol=1e-5, atol=1e-6)
    blis_calls = []
    monkeypatch.setattr(NumpyOps, "gemm", lambda self, *a, **k: blis_calls.append(a))
    expected = {"pad": 0.0, "b": 0.0, "W": 0.0}
    for _ in range(3):
        ids = rng.integers(-1, 7, (6, nF)).astype("int32")
        dY = rng.normal(0, 1, (6, nO, nP)).astype("float32")
        dX = backward((dY, ids))
        numpy.testing.assert_allclose(
            dX, numpy.einsum("nop,fopi->nfi", dY, W), rtol=1e-5, atol=1e-5
        )
        expected["W"] = expected["W"] + numpy.einsum("nop,nfi->fopi", dY, X[ids])
        expected["b"] = expected["b"] + dY.sum(axis=0)
        expected["pad"] = expected["pad"] + numpy.einsum("nf,nop->fop", ids < 0, dY)[None]
    for name, value in expected.items():
        numpy.testing.assert_allclose(layer.get_grad(name), value, rtol=1e-4, atol=1e-5)
    assert blis_calls == []
