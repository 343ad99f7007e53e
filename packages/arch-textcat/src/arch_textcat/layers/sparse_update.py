"""Training thinc's ``SparseLinear`` (v1) without touching its dead weights.

``SparseLinear.v1``, the output layer of ``spacy.TextCatBOW.v1``, holds
``nO * length`` weights (2^18 per class), but its v1 indexing reads weight
``(hash & (length - 1)) + class``: only the first ``length + nO - 1`` are ever
used, the rest never get a gradient (thinc's issue #752). thinc still passes
all of them through the optimizer at every step (Adam's moments, the weight
decay and the parameter averages included), which with 77 classes is 77 times
the work of the live part, and the backward pass allocates and adds a dense
gradient of the full size.

Here:

- the ``sparse_linear`` node's backward pass computes the gradient of the live
  part only (with the same hashes as thinc's kernel) and adds it to the
  gradient thinc keeps for ``W``; the rest of that gradient stays zero;
- the root of the models that own such a layer (``SparseUpdateModel``) updates
  ``W`` by calling the optimizer on the live part, with the optimizer's own
  state (moments, averages) kept at full size so ``use_params(averages)``,
  saving and any later full update see the usual shapes.

The update equals thinc's full update: the dead weights, their gradient and
their optimizer state are zero and a full update keeps them zero (checked
once for every new ``W``: if they are not zero, or the optimizer keeps no
per-parameter state this code knows, the full update runs). Parameter shapes,
``to_bytes`` and the tree are unchanged.
"""

from typing import Any, Callable, Dict, Optional, Tuple
from weakref import ref

import numpy
from thinc.api import Model

from arch_tok2vec.fused import FusedForward

AnyModel = Model[Any, Any]

_MASK32 = numpy.uint64(0xFFFFFFFF)
_C1 = numpy.uint32(0xCC9E2D51)
_C2 = numpy.uint32(0x1B873593)

# node id -> the W array checked to have zero dead weights (and zero optimizer
# state there)
_VERIFIED: Dict[Tuple[int, int], Any] = {}


def _rotl(x: Any, r: int) -> Any:
    return (x << numpy.uint32(r)) | (x >> numpy.uint32(32 - r))


def murmurhash3_32(keys: Any, seed: int) -> Any:
    """MurmurHash3_x86_32 of each uint64 key (its 8 bytes, little-endian) with
    ``seed``: the hash thinc's SparseLinear uses to pick a key's weights."""
    keys = numpy.asarray(keys, dtype=numpy.uint64)
    h = numpy.full(keys.shape, seed, dtype=numpy.uint32)
    with numpy.errstate(over="ignore"):
        for block in (keys & _MASK32, keys >> numpy.uint64(32)):
            k = block.astype(numpy.uint32)
            k *= _C1
            k = _rotl(k, 15)
            k *= _C2
            h ^= k
            h = _rotl(h, 13)
            h = h * numpy.uint32(5) + numpy.uint32(0xE6546B64)
        h ^= numpy.uint32(8)
        h ^= h >> numpy.uint32(16)
        h *= numpy.uint32(0x85EBCA6B)
        h ^= h >> numpy.uint32(13)
        h *= numpy.uint32(0xC2B2AE35)
        h ^= h >> numpy.uint32(16)
    return h


def live_size(node: AnyModel) -> Optional[int]:
    """How many leading weights of a SparseLinear node with v1 indexing are ever
    used (None for other layers or indexing)."""
    if node.name != "sparse_linear" or not node.attrs.get("v1_indexing"):
        return None
    if not (node.has_dim("nO") and node.has_dim("length")):
        return None
    nO, length = node.get_dim("nO"), node.get_dim("length")
    return min(nO * length, length + nO - 1)


# --------------------------------------------------------------------------
# backward pass: the live gradient only


def sparse_linear_backward_live(
    keys: Any, values: Any, lengths: Any, d_scores: Any, length: int, live: int
) -> Tuple[Any, Any]:
    """The gradient of the first ``live`` weights and of the bias of a
    SparseLinear.v1 layer.

    keys, values, lengths: The layer's input (uint64 keys, float32 values,
        int32 keys per row).
    d_scores: The gradient of the output, (n_rows, nO).
    length: The layer's ``length`` dim.
    """
    n_rows, nO = d_scores.shape
    d_bias = d_scores.sum(axis=0, dtype=numpy.float32)
    if len(keys) == 0:
        return numpy.zeros((live,), dtype=numpy.float32), d_bias
    mask = numpy.uint32(length - 1)
    rows = numpy.repeat(numpy.arange(n_rows), numpy.asarray(lengths, dtype=numpy.int64))
    per_key = d_scores[rows] * numpy.asarray(values, dtype=numpy.float32)[:, None]
    classes = numpy.arange(nO, dtype=numpy.int64)
    grad = numpy.zeros((live,), dtype=numpy.float64)
    for seed in (0, 1):
        start = (murmurhash3_32(keys, seed) & mask).astype(numpy.int64)
        positions = (start[:, None] + classes).ravel()
        grad += numpy.bincount(positions, weights=per_key.ravel(), minlength=live)
    return grad.astype(numpy.float32), d_bias


def _sparse_linear_fast(model: AnyModel, X: Any, is_train: bool) -> Optional[Tuple[Any, Callable]]:
    """thinc's forward for the scores; a backward pass that fills only the live
    part of W's gradient (declines where that does not apply)."""
    live = live_size(model)
    if not is_train or live is None or model._params.proxy is not None:
        return None
    keys, values, lengths = X
    if not all(isinstance(a, numpy.ndarray) for a in (keys, values, lengths)):
        return None
    forward = model._func.original if isinstance(model._func, FusedForward) else None
    if forward is None:
        return None
    scores, _ = forward(model, X, is_train=False)
    length = model.get_dim("length")

    def backprop(d_scores: Any) -> Any:
        d_live, d_bias = sparse_linear_backward_live(
            keys, values, lengths, numpy.asarray(d_scores, dtype=numpy.float32), length, live
        )
        W = model.get_param("W")
        if model.has_grad("W"):
            model.get_grad("W")[:live] += d_live
        else:
            grad: Any = numpy.zeros(W.shape, dtype=numpy.float32)  # untouched pages stay unmapped
            grad[:live] = d_live
            model.set_grad("W", grad)
        model.inc_grad("b", d_bias)
        return X

    return scores, backprop


def sparse_backward(model: AnyModel) -> AnyModel:
    """Give every SparseLinear node of ``model`` the live-gradient backward pass.
    Returns the model."""
    for node in model.walk():
        if node.name == "sparse_linear" and not isinstance(node._func, FusedForward):
            node._func = FusedForward(_sparse_linear_fast, node._func)
    return model


# --------------------------------------------------------------------------
# the update


def _dead_part_is_zero(node: AnyModel, optimizer: Any, live: int) -> bool:
    """Whether W, its gradient and the optimizer's state for it are zero past
    ``live`` (checked once per W array)."""
    W = node.get_param("W")
    key = (node.id, "W")
    seen = _VERIFIED.get((id(optimizer), node.id))
    if seen is not None and seen() is W:
        return True
    arrays = [W, node.get_grad("W")]
    for table in (optimizer.mom1, optimizer.mom2, optimizer.averages or {}):
        if key in table:
            arrays.append(table[key])
    for array in arrays:
        if array.shape != W.shape or array.ndim != 1 or array[live:].any():
            return False
    _VERIFIED[(id(optimizer), node.id)] = ref(W)
    return True


def update_live_weights(node: AnyModel, optimizer: Any) -> bool:
    """Update the live part of a SparseLinear.v1 node's W with ``optimizer``, as
    a full update would; returns False (nothing done) where that is not known
    to be the same, and the caller must run the full update."""
    live = live_size(node)
    if live is None or not node.has_grad("W") or not node.has_param("W"):
        return False
    tables = [getattr(optimizer, name, None) for name in ("mom1", "mom2", "nr_update")]
    if any(not isinstance(table, dict) for table in tables):
        return False
    averages = getattr(optimizer, "averages", None)
    if averages is not None and not isinstance(averages, dict):
        return False
    W = node.get_param("W")
    if not isinstance(W, numpy.ndarray) or W.dtype != numpy.float32 or not W.flags.c_contiguous:
        return False
    if not _dead_part_is_zero(node, optimizer, live):
        return False
    key = (node.id, "W")
    full: Dict[str, Any] = {}
    for name in ("mom1", "mom2"):
        table = getattr(optimizer, name)
        full[name] = table.get(key)
        if full[name] is None:
            full[name] = numpy.zeros((W.size,), dtype=numpy.float32)
        table[key] = full[name][:live]
    if averages is not None:
        full["averages"] = averages.get(key)
        if full["averages"] is None:
            full["averages"] = numpy.zeros(W.shape, dtype=numpy.float32)
        averages[key] = full["averages"][:live]
    grad = node.get_grad("W")
    try:
        new_live, _ = optimizer(key, W[:live], grad[:live])
    finally:
        for name in ("mom1", "mom2"):
            table = getattr(optimizer, name)
            moved = table.get(key)
            if moved is not None and not numpy.may_share_memory(moved, full[name]):
                full[name][:live] = moved.reshape(-1)
            table[key] = full[name]
        if averages is not None:
            moved = averages.get(key)
            if moved is not None and not numpy.may_share_memory(moved, full["averages"]):
                full["averages"][:live] = moved.reshape(-1)
            averages[key] = full["averages"]
    if new_live is not None and not numpy.may_share_memory(new_live, W):
        W[:live] = numpy.asarray(new_live).reshape(-1)
    return True


class SparseUpdateModel(Model):
    """thinc's Model whose ``finish_update`` updates SparseLinear.v1 weights
    through their live part only (``update_live_weights``); every other
    parameter is updated as thinc does. Roots built by arch's text classifiers
    get this class; ``copy()`` keeps it."""

    __slots__ = ()

    def finish_update(self, optimizer: Any) -> None:
        """Update parameters with current gradients, as thinc's Model does."""
        for node in self.walk():
            for shim in node.shims:
                shim.finish_update(optimizer)
        for node in self.walk():
            for name in node.param_names:
                if not node.has_grad(name):
                    continue
                if name == "W" and update_live_weights(node, optimizer):
                    continue
                param, grad = optimizer((node.id, name), node.get_param(name), node.get_grad(name))
                node.set_param(name, param)

    def copy(self) -> "SparseUpdateModel":
        """A deep copy (see thinc's ``Model.copy``) of the same class."""
        copied = super().copy()
        copied.__class__ = SparseUpdateModel
        return copied


def sparse_update(model: AnyModel) -> AnyModel:
    """Make ``model`` (a root owning a SparseLinear layer) update that layer's
    live weights only, and give the layer its live-gradient backward pass.
    Returns the same object."""
    sparse_backward(model)
    if type(model) is Model:
        model.__class__ = SparseUpdateModel
    return model
