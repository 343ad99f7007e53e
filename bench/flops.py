"""How much arithmetic a model does, and how fast its matrix products alone run.

``products(model, batches)`` runs a copy of the model with thinc's own layer
forwards (no fused kernels) over the batches once and records the shape of
every matrix product its dense layers compute (rows x inputs x outputs, for
Maxout, Linear, Softmax and the parser's precomputed lower layer). Both sides of
a comparison compute the same products, so the FLOP count of a run is the same
for both; a training step counts three products per layer (forward, the
gradient of the weights, the gradient of the input).

``replay(shapes, train, backend)`` times those products alone, with numpy's BLAS
(arch's kernels) or blis (thinc's default, spaCy's), one thread: the time the
model would need if everything outside its products were free. The share of the
model's time outside its products is ``1 - replay / measured``.
"""

import time
from typing import Any, Callable, Dict, List, Sequence, Tuple

import numpy

Shape = Tuple[int, int, int]  # rows, inputs, outputs

_DENSE = ("maxout", "linear", "softmax", "precomputable_affine")


def _outputs(node: Any) -> int:
    W = node.get_param("W")
    if node.name == "maxout":  # (nO, nP, nI)
        return int(W.shape[0] * W.shape[1])
    if node.name == "precomputable_affine":  # (nF, nO, nP, nI)
        return int(W.shape[0] * W.shape[1] * W.shape[2])
    return int(W.shape[0])  # (nO, nI)


def products(model: Any, batches: Sequence[Any]) -> List[Shape]:
    """The shapes of the matrix products ``model.predict`` computes on ``batches``."""
    from arch_tok2vec.fused import FusedForward

    copy = model.copy()
    shapes: List[Shape] = []
    for node in copy.walk():
        if isinstance(node._func, FusedForward):
            node._func = node._func.original
        if node.name in _DENSE:
            node._func = _recording(node._func, shapes)
    for batch in batches:
        copy.predict(batch)
    return shapes


def _recording(forward: Callable, shapes: List[Shape]) -> Callable:
    def record(node: Any, X: Any, is_train: bool) -> Any:
        if node.has_param("W") and hasattr(X, "shape") and len(X.shape) == 2:
            shapes.append((int(X.shape[0]), int(X.shape[1]), _outputs(node)))
        return forward(node, X, is_train)

    return record


def flops(shapes: Sequence[Shape], train: bool = False) -> float:
    """Floating-point operations of the products (x 3 for a training step)."""
    total = float(sum(2 * m * k * n for m, k, n in shapes))
    return 3 * total if train else total


def replay(shapes: Sequence[Shape], train: bool, backend: str) -> float:
    """CPU seconds to compute the products alone (best of three), with ``backend``
    "numpy" (numpy's BLAS, arch) or "blis" (thinc's NumpyOps, spaCy)."""
    from threadpoolctl import threadpool_limits

    rng = numpy.random.default_rng(0)
    arrays: Dict[Shape, Tuple[Any, Any, Any, Any]] = {}
    for shape in set(shapes):
        m, k, n = shape
        X = rng.standard_normal((m, k)).astype("float32")
        W = rng.standard_normal((n, k)).astype("float32")
        dY = rng.standard_normal((m, n)).astype("float32")
        arrays[shape] = (X, W, dY, numpy.empty((m, n), dtype="float32"))
    if backend == "blis":
        from thinc.api import NumpyOps

        ops = NumpyOps(use_blis=True)

        def one(X: Any, W: Any, dY: Any, out: Any) -> None:
            ops.gemm(X, W, trans2=True)
            if train:
                ops.gemm(dY, X, trans1=True)
                ops.gemm(dY, W)

    else:

        def one(X: Any, W: Any, dY: Any, out: Any) -> None:
            numpy.matmul(X, W.T, out=out)
            if train:
                numpy.matmul(dY.T, X)
                numpy.matmul(dY, W)

    best = float("inf")
    with threadpool_limits(limits=1, user_api="blas"):
        for _ in range(3):
            start = time.process_time()
            for shape in shapes:
                one(*arrays[shape])
            best = min(best, time.process_time() - start)
    return best
