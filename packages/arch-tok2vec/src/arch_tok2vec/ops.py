"""Which CPU kernels arch's models run their matrix products on.

thinc's ``NumpyOps`` multiplies matrices with blis, on one thread. On the
machines we measure (x86-64, AVX2), numpy's own BLAS (OpenBLAS in the numpy
wheels), also held to one thread, is about three times faster for the shapes
these models use, which makes a whole tok2vec forward pass about 1.8x faster.
Every other kernel (maxout, seq2col, hashing, embeddings) stays thinc's. The
results differ from blis's only by float32 rounding (about 1e-5 after a 4-layer
tok2vec).

The product runs on one BLAS thread (through threadpoolctl, for the duration of
the call only): a multi-threaded BLAS is slower on the small matrices of a
parser step and many times slower on a busy machine, and one thread per process
is how thinc and spaCy run on CPU.

Set the environment variable ``ARCH_GEMM=blis`` before building a model to keep
thinc's default. On GPU (any ops other than CPU ``NumpyOps``) nothing changes.
"""

import os
from typing import Any, List, Optional, Tuple, TypeVar

from thinc.api import Model, NumpyOps, get_current_ops

_ModelT = TypeVar("_ModelT", bound=Model)
_NUMPY_GEMM: Optional["NumpyGemmOps"] = None
_BLAS: Any = None


class NumpyGemmOps(NumpyOps):
    """thinc's CPU ops with ``gemm`` done by numpy's BLAS on one thread."""

    def __init__(self) -> None:
        super().__init__(use_blis=False)

    def gemm(self, x: Any, y: Any, out: Any = None, trans1: bool = False, trans2: bool = False):
        with one_blas_thread():
            return super().gemm(x, y, out=out, trans1=trans1, trans2=trans2)

    def __reduce__(self) -> Any:
        # pickles and copies of a model share the one instance (the BLAS
        # controller holds ctypes handles, which cannot be pickled)
        return (numpy_gemm_ops, ())


def _blas() -> Any:
    """The threadpoolctl controller of the BLAS libraries numpy has loaded."""
    global _BLAS
    if _BLAS is None:
        from threadpoolctl import ThreadpoolController

        _BLAS = ThreadpoolController().select(user_api="blas")
    return _BLAS


class one_blas_thread:
    """A context in which numpy's BLAS runs on one thread: each library not
    already on one is set to one on entry and back to its count on exit (a few
    microseconds; threadpoolctl's ``limit`` takes several times longer, which
    shows on the small products of a parser step)."""

    __slots__ = ("changed",)

    def __init__(self) -> None:
        self.changed: List[Tuple[Any, int]] = []

    def __enter__(self) -> "one_blas_thread":
        for lib in _blas().lib_controllers:
            threads = lib.get_num_threads()
            if threads != 1:
                lib.set_num_threads(1)
                self.changed.append((lib, threads))
        return self

    def __exit__(self, *exc: Any) -> None:
        for lib, threads in self.changed:
            lib.set_num_threads(threads)
        self.changed = []


def numpy_gemm_ops() -> NumpyGemmOps:
    """The shared CPU ops whose ``gemm`` is numpy's, on one thread."""
    global _NUMPY_GEMM
    if _NUMPY_GEMM is None:
        _NUMPY_GEMM = NumpyGemmOps()
    return _NUMPY_GEMM


def use_numpy_gemm(model: _ModelT) -> _ModelT:
    """Give every node of ``model`` CPU ops that multiply matrices with numpy's
    BLAS, and its Maxout units and window blocks their fused forwards
    (``arch_tok2vec.fused``), when the current ops are thinc's blis-backed
    ``NumpyOps`` and ``ARCH_GEMM`` is not ``blis``. Returns the model."""
    current = get_current_ops()
    if os.environ.get("ARCH_GEMM", "numpy").lower() == "blis":
        return model
    if type(current) is not NumpyOps or not getattr(current, "use_blis", False):
        return model
    ops = numpy_gemm_ops()
    for node in model.walk():
        node.ops = ops
    from .fused import fuse_layers

    fuse_layers(model)
    return model
