"""Fused forward passes for the Maxout, LayerNorm and window nodes of the CNN models.

``fuse_layers(model)`` finds, in a model's tree, the nodes thinc builds for

- ``Maxout(..., normalize=True)`` (and with a dropout layer): ``maxout >> layernorm
  [>> dropout]``, and ``maxout >> dropout``;
- a window block, ``residual(expand_window >> maxout >> layernorm [>> dropout])``,
  and a chain of such blocks (what ``clone`` builds in ``MaxoutWindowEncoder``);

and gives each a forward that computes the whole node with the kernels of
``arch_tok2vec.kernels`` (one pass per slice of tokens instead of one layer per
pass over the batch). The tree is unchanged: same nodes, names, dims, parameters
and children, and gradients still go to each child's parameters, so weights,
saved files and ``to_bytes`` are the same as thinc's. Each call checks that the
node still has the children it had (``replace_node`` or a resize may change them)
and that the input is a float32 numpy array; anything else runs the node's
original forward.
"""

from typing import Any, Callable, List, Optional, Tuple

import numpy
from thinc.api import Model, NumpyOps
from thinc.layers.chain import forward as chain_forward
from thinc.layers.dropout import forward as dropout_forward
from thinc.layers.expand_window import forward as expand_window_forward
from thinc.layers.layernorm import forward as layernorm_forward
from thinc.layers.maxout import forward as maxout_forward
from thinc.layers.residual import forward as residual_forward

from . import kernels
from .kernels import MaxoutWeights, NormParams, WindowBlock

AnyModel = Model[Any, Any]
Result = Optional[Tuple[Any, Callable]]
Unit = Tuple[AnyModel, Optional[AnyModel], Optional[AnyModel]]  # maxout, layernorm, dropout
Block = Tuple[int, AnyModel, AnyModel, Optional[AnyModel]]  # window, maxout, layernorm, dropout


class FusedForward:
    """A node's forward: ``fast(model, X, is_train)``, or ``original`` where
    ``fast`` declines (returns None).

    fast: The fused forward.
    original: The forward thinc gave the node.
    """

    def __init__(self, fast: Callable[[AnyModel, Any, bool], Result], original: Callable):
        self.fast = fast
        self.original = original
        self.__wrapped__ = original

    def __call__(self, model: AnyModel, X: Any, is_train: bool) -> Tuple[Any, Callable]:
        result = self.fast(model, X, is_train)
        if result is None:
            return self.original(model, X, is_train)
        return result


def fuse_layers(model: AnyModel) -> AnyModel:
    """Give every Maxout unit, window block and chain of window blocks in
    ``model`` its fused forward (nodes already fused are left as they are).
    Returns the model."""
    for node in model.walk():
        if isinstance(node._func, FusedForward):
            continue
        if _window_blocks(node) is not None:
            node._func = FusedForward(_window_stack, node._func)
        elif _unit_parts(node) is not None:
            node._func = FusedForward(_unit, node._func)
    return model


# --------------------------------------------------------------------------
# recognising the nodes


def _forward_of(node: AnyModel) -> Callable:
    func = node._func
    return func.original if isinstance(func, FusedForward) else func


def _leaves(node: AnyModel) -> List[AnyModel]:
    """The layers of a chain with nested chains flattened (the node itself if
    it is not a chain)."""
    if _forward_of(node) is not chain_forward:
        return [node]
    leaves: List[AnyModel] = []
    for layer in node.layers:
        leaves.extend(_leaves(layer))
    return leaves


def _unit_from(leaves: List[AnyModel]) -> Optional[Unit]:
    funcs = [_forward_of(leaf) for leaf in leaves]
    if not funcs or funcs[0] is not maxout_forward:
        return None
    if funcs[1:] == [layernorm_forward]:
        return leaves[0], leaves[1], None
    if funcs[1:] == [layernorm_forward, dropout_forward]:
        return leaves[0], leaves[1], leaves[2]
    if funcs[1:] == [dropout_forward]:
        return leaves[0], None, leaves[1]
    return None


def _unit_parts(node: AnyModel) -> Optional[Unit]:
    """(maxout, layernorm or None, dropout or None) if ``node`` is a chain
    ``maxout >> layernorm [>> dropout]`` or ``maxout >> dropout``."""
    if _forward_of(node) is not chain_forward:
        return None
    return _unit_from(_leaves(node))


def _block_parts(node: AnyModel) -> Optional[Block]:
    """(window_size, maxout, layernorm, dropout) of a window block
    ``residual(expand_window >> maxout >> layernorm [>> dropout])``."""
    if _forward_of(node) is not residual_forward or len(node.layers) != 1:
        return None
    leaves = _leaves(node.layers[0])
    if len(leaves) < 3 or _forward_of(leaves[0]) is not expand_window_forward:
        return None
    unit = _unit_from(leaves[1:])
    if unit is None:
        return None
    maxout, norm, dropout = unit
    if norm is None:
        return None
    window = leaves[0].attrs.get("window_size")
    if not isinstance(window, int) or window < 0:
        return None
    return window, maxout, norm, dropout


def _window_blocks(node: AnyModel) -> Optional[List[Block]]:
    """The window blocks of a window block, or of a chain of them."""
    block = _block_parts(node)
    if block is not None:
        return [block]
    if _forward_of(node) is not chain_forward or not node.layers:
        return None
    blocks = [_block_parts(layer) for layer in node.layers]
    if any(block is None for block in blocks):
        return None
    return [block for block in blocks if block is not None]


# --------------------------------------------------------------------------
# when the fused path applies


def _usable(model: AnyModel, X: Any) -> bool:
    return (
        isinstance(model.ops, NumpyOps)
        and isinstance(X, numpy.ndarray)
        and X.ndim == 2
        and X.dtype == numpy.float32
        and X.shape[0] > 0
    )


def _maxout_params(maxout: AnyModel) -> Optional[Tuple[Any, Any]]:
    if not (maxout.has_param("W") and maxout.has_param("b")):
        return None
    W, b = maxout.get_param("W"), maxout.get_param("b")
    if W.ndim != 3 or b.shape != W.shape[:2] or W.dtype != numpy.float32:
        return None
    return W, b


def _norm_params(norm: AnyModel, width: int) -> Optional[NormParams]:
    if not (norm.has_param("G") and norm.has_param("b")):
        return None
    G, b = norm.get_param("G"), norm.get_param("b")
    if G.shape != (width,) or b.shape != (width,):
        return None
    return NormParams(G, b)


def _dropout_mask(dropout: Optional[AnyModel], shape: Tuple[int, int], is_train: bool) -> Any:
    """A Dropout layer's mask for an output of ``shape`` (``kernels.dropout_mask``:
    thinc's distribution, drawn faster), or None when the layer would pass its
    input through."""
    if dropout is None or not is_train:
        return None
    rate = dropout.attrs.get("dropout_rate", 0.0)
    if not rate or not dropout.attrs.get("is_enabled", True):
        return None
    return kernels.dropout_mask(shape, rate)


def _add_gradients(
    maxout: AnyModel, norm: Optional[AnyModel], unit: MaxoutWeights, grads: kernels.UnitGrads
) -> None:
    dW, db = unit.gradients(grads.dW, grads.db)
    maxout.inc_grad("W", dW)
    maxout.inc_grad("b", db)
    if norm is not None:
        dG: Any = grads.dG
        d_shift: Any = grads.db_norm
        norm.inc_grad("G", dG)
        norm.inc_grad("b", d_shift)


def _one_blas_thread() -> Any:
    from .ops import one_blas_thread

    return one_blas_thread()


# --------------------------------------------------------------------------
# the fused forwards


def _unit(model: AnyModel, X: Any, is_train: bool) -> Result:
    """``maxout >> layernorm [>> dropout]`` (or ``maxout >> dropout``)."""
    parts = _unit_parts(model)
    if parts is None or not _usable(model, X):
        return None
    maxout, norm, dropout = parts
    params = _maxout_params(maxout)
    if params is None or params[0].shape[2] != X.shape[1]:
        return None
    unit = MaxoutWeights(*params)
    norm_params = None
    if norm is not None:
        norm_params = _norm_params(norm, unit.nO)
        if norm_params is None:
            return None
    X = numpy.ascontiguousarray(X)
    N = X.shape[0]
    with _one_blas_thread():
        work = kernels.workspace_for(N, unit.nI, unit.nO, unit.nP)
        Y, state = kernels.unit_forward(unit, norm_params, X, work, is_train)
    mask = _dropout_mask(dropout, Y.shape, is_train)
    if mask is not None:
        Y *= mask

    def backprop(dY: Any) -> Any:
        assert state is not None
        if mask is not None:
            dY = dY * mask
        with _one_blas_thread():
            back = kernels.workspace_for(N, unit.nI, unit.nO, unit.nP, backward=True)
            dX, grads = kernels.unit_backward(
                unit, norm_params, state, numpy.ascontiguousarray(dY, dtype=numpy.float32), back
            )
        _add_gradients(maxout, norm, unit, grads)
        return dX

    return Y, backprop


def _window_stack(model: AnyModel, X: Any, is_train: bool) -> Result:
    """A window block, or a chain of them, computed feature-major throughout."""
    found = _window_blocks(model)
    if found is None or not _usable(model, X):
        return None
    N, width = X.shape
    blocks: List[WindowBlock] = []
    nodes: List[Block] = []
    for window, maxout, norm, dropout in found:
        params = _maxout_params(maxout)
        if params is None or params[0].shape != (
            width,
            params[0].shape[1],
            (2 * window + 1) * width,
        ):
            return None
        norm_params = _norm_params(norm, width)
        if norm_params is None:
            return None
        blocks.append(WindowBlock(window, MaxoutWeights(*params), norm_params))
        nodes.append((window, maxout, norm, dropout))
    rows_in = max(block.maxout.nI for block in blocks)
    nP = max(block.maxout.nP for block in blocks)
    with _one_blas_thread():
        work = kernels.workspace_for(N, rows_in, width, nP)
        XT = numpy.ascontiguousarray(X.T)
        for block, (_, _, _, dropout) in zip(blocks, nodes):
            mask = _dropout_mask(dropout, (width, N), is_train)  # feature-major
            XT = kernels.window_block_forward(block, XT, work, is_train, mask)
        Y = numpy.ascontiguousarray(XT.T)

    def backprop(dY: Any) -> Any:
        with _one_blas_thread():
            back = kernels.workspace_for(N, rows_in, width, nP, backward=True)
            dXT = numpy.ascontiguousarray(numpy.asarray(dY, dtype=numpy.float32).T)
            for block, (_, maxout, norm, _) in zip(reversed(blocks), reversed(nodes)):
                dXT, grads = kernels.window_block_backward(block, dXT, back)
                _add_gradients(maxout, norm, block.maxout, grads)
            return numpy.ascontiguousarray(dXT.T)

    return Y, backprop
