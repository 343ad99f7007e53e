"""Which CPU kernels arch's models run their matrix products on.

thinc's ``NumpyOps`` multiplies matrices with blis. On the machines we measure
(x86-64, AVX2), numpy's own BLAS (OpenBLAS in the numpy wheels) is about three
times faster for the shapes these models use, which makes a whole tok2vec
forward pass about 1.8x faster. Every other kernel (maxout, seq2col, hashing,
embeddings) stays thinc's. The results differ from blis's only by float32
rounding (about 1e-5 after a 4-layer tok2vec).

Set the environment variable ``ARCH_GEMM=blis`` before building a model to keep
thinc's default. On GPU (any ops other than CPU ``NumpyOps``) nothing changes.
"""

import os
from typing import Optional, TypeVar

from thinc.api import Model, NumpyOps, get_current_ops

_ModelT = TypeVar("_ModelT", bound=Model)
_NUMPY_GEMM: Optional[NumpyOps] = None


def numpy_gemm_ops() -> NumpyOps:
    """The shared CPU ops whose ``gemm`` is numpy's (blis switched off)."""
    global _NUMPY_GEMM
    if _NUMPY_GEMM is None:
        _NUMPY_GEMM = NumpyOps(use_blis=False)
    return _NUMPY_GEMM


def use_numpy_gemm(model: _ModelT) -> _ModelT:
    """Give every node of ``model`` CPU ops that multiply matrices with numpy's
    BLAS, when the current ops are thinc's blis-backed ``NumpyOps`` and
    ``ARCH_GEMM`` is not ``blis``. Returns the model."""
    current = get_current_ops()
    if os.environ.get("ARCH_GEMM", "numpy").lower() == "blis":
        return model
    if type(current) is not NumpyOps or not getattr(current, "use_blis", False):
        return model
    ops = numpy_gemm_ops()
    for node in model.walk():
        node.ops = ops
    return model
