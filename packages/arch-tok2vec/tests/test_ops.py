import numpy
import pytest
from thinc.api import Config, NumpyOps, use_ops

from arch_tok2vec import Doc, registry
from arch_tok2vec.ops import numpy_gemm_ops, use_numpy_gemm

CONFIG = """
[model]
@architectures = "spacy.HashEmbedCNN.v1"
pretrained_vectors = null
width = 32
depth = 2
embed_size = 200
window_size = 1
maxout_pieces = 3
subword_features = true
"""


def build():
    return registry.resolve(Config().from_str(CONFIG))["model"]


@pytest.fixture
def docs():
    return [Doc("the cat sat on the mat".split()), Doc("a dog barked".split())]


def test_models_multiply_with_numpy(monkeypatch):
    monkeypatch.delenv("ARCH_GEMM", raising=False)
    model = build()
    assert all(node.ops is numpy_gemm_ops() for node in model.walk())
    assert numpy_gemm_ops().use_blis is False
    assert type(numpy_gemm_ops()).__name__ == "NumpyGemmOps"


def test_arch_gemm_blis_keeps_thinc_ops(monkeypatch):
    monkeypatch.setenv("ARCH_GEMM", "blis")
    model = build()
    assert all(node.ops.use_blis for node in model.walk())


def test_other_ops_are_left_alone(monkeypatch):
    monkeypatch.delenv("ARCH_GEMM", raising=False)
    with use_ops("numpy", use_blis=False):
        model = build()
    assert all(node.ops is not numpy_gemm_ops() for node in model.walk())


def test_numpy_gemm_gives_blis_results_up_to_rounding(monkeypatch, docs):
    monkeypatch.delenv("ARCH_GEMM", raising=False)
    ours = build()
    ours.initialize(X=docs)
    monkeypatch.setenv("ARCH_GEMM", "blis")
    blis = build()
    blis.initialize(X=docs)
    blis.from_bytes(ours.to_bytes())
    assert isinstance(blis.ops, NumpyOps) and blis.ops.use_blis
    for a, b in zip(ours.predict(docs), blis.predict(docs)):
        numpy.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)


def test_use_numpy_gemm_returns_the_model():
    model = build()
    assert use_numpy_gemm(model) is model


def test_products_run_on_one_blas_thread():
    from threadpoolctl import ThreadpoolController

    ops = numpy_gemm_ops()
    seen = []
    original = NumpyOps.gemm

    def spy(self, *args, **kwargs):
        seen.append(
            [info["num_threads"] for info in ThreadpoolController().select(user_api="blas").info()]
        )
        return original(self, *args, **kwargs)

    NumpyOps.gemm = spy
    try:
        x = numpy.ones((4, 3), dtype="f")
        y = numpy.ones((5, 3), dtype="f")
        numpy.testing.assert_array_equal(ops.gemm(x, y, trans2=True), numpy.full((4, 5), 3.0))
    finally:
        NumpyOps.gemm = original
    assert seen and all(threads == 1 for found in seen for threads in found)
