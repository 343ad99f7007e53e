"""numpy kernels for Maxout + LayerNorm units and the window (convolution) blocks
of the CNN models, computed in slices of tokens held feature-major.

thinc runs ``expand_window >> Maxout >> LayerNorm`` as three layers, each a pass
(or several) over the whole batch in token-major layout: the max over the pieces
reads every third float, the layer norm broadcasts rows of 96 floats, and every
intermediate array of a 3,000-token batch is larger than a core's L2 cache. Here
a unit is computed on ``CHUNK`` tokens at a time, held feature-major (one row per
feature, one column per token), so every elementwise step runs over long
contiguous rows that stay in cache:

- the product is ``W (nO * nP, nI) @ inputs (nI, n)``: thinc's weights as they
  are, so row ``o * nP + p`` holds piece p of unit o, and the max over the pieces
  is an elementwise max of nP row-strided views (each row still contiguous);
- the window of a token (``window_size`` neighbours each side) is the same
  feature-major array read at shifted columns: building it is
  (2 * window_size + 1) block copies, and its backward pass adds the same blocks
  back at shifted columns.

Results equal thinc's up to float32 rounding; the winning piece on ties is the
first one, as in thinc, so gradients match too.
"""

from typing import Any, Optional, Tuple

import numpy

Array = Any  # numpy.ndarray of float32 (uint8 for the winning-piece index)

CHUNK = 512
"""Tokens per slice in forward passes: the slice's buffers (about 4 * CHUNK *
(window_size * 2 + 1) * width bytes each) stay within a core's L2 cache."""

BACKWARD_CHUNK = 1024
"""Tokens per slice in backward passes, whose two products per slice (the
weights' gradient sums over the slice's tokens) run markedly faster on longer
slices than the cache saves."""

EPSILON = 1e-8
"""Added to the variance by thinc's LayerNorm."""


class MaxoutWeights:
    """A Maxout layer's parameters as the kernels use them (views, no copies).

    W: The layer's weights, shape (nO, nP, nI).
    b: The layer's bias, shape (nO, nP).
    """

    def __init__(self, W: Array, b: Array):
        nO, nP, nI = W.shape
        self.nO, self.nP, self.nI = nO, nP, nI
        self.W = W.reshape((nO * nP, nI))
        self.b = b.reshape((nO * nP, 1))

    def gradients(self, dW: Array, db: Array) -> Tuple[Array, Array]:
        """dW (nO * nP, nI) and db (nO * nP,) in the shapes of W and b."""
        return dW.reshape((self.nO, self.nP, self.nI)), db.reshape((self.nO, self.nP))


class NormParams:
    """A LayerNorm's scale and shift as columns (for feature-major slices).

    G: The scale, shape (nO,).
    b: The shift, shape (nO,).
    """

    def __init__(self, G: Array, b: Array):
        self.G = G.reshape((-1, 1))
        self.b = b.reshape((-1, 1))


class Workspace:
    """Scratch buffers for slices of up to ``n`` tokens.

    rows_in: Rows of the largest input slice (nI).
    nO: Units of the layer; nP: pieces per unit.
    """

    def __init__(self, n: int, rows_in: int, nO: int, nP: int):
        self.n = n
        self.inputs = numpy.empty((rows_in, n), dtype=numpy.float32)
        self.pieces = numpy.empty((nO * nP, n), dtype=numpy.float32)
        self.tmp = numpy.empty((nO, n), dtype=numpy.float32)
        self.tmp2 = numpy.empty((nO, n), dtype=numpy.float32)
        self.flags = numpy.empty((nO, n), dtype=bool)
        self.stat = numpy.empty((n,), dtype=numpy.float32)
        self.stat2 = numpy.empty((n,), dtype=numpy.float32)
        self.mean_of = numpy.full((nO,), 1.0 / nO, dtype=numpy.float32)
        self.ones = numpy.ones((n,), dtype=numpy.float32)


def workspace_for(
    n_tokens: int, rows_in: int, nO: int, nP: int, backward: bool = False
) -> Workspace:
    """Scratch buffers for a batch of ``n_tokens`` (slices of at most CHUNK, or
    BACKWARD_CHUNK for a backward pass)."""
    size = BACKWARD_CHUNK if backward else CHUNK
    return Workspace(max(1, min(size, n_tokens)), rows_in, nO, nP)


def dropout_mask(shape: Tuple[int, ...], rate: float) -> Array:
    """A float32 dropout mask: each entry 1 / (1 - rate) with probability
    1 - rate, else 0, as thinc's ``get_dropout_mask`` draws it. thinc draws
    float64 numbers from numpy's legacy global generator and divides in float64
    (about 2 ms for the mask of one block of a 3,000-token batch); here each
    entry compares 32 random bits of a PCG64 generator with ``rate * 2**32``
    (about a fifth of that). The generator is seeded from numpy's global one, so
    ``fix_random_seed`` still makes training reproducible."""
    if rate >= 1.0:
        return numpy.zeros(shape, dtype=numpy.float32)
    n = 1
    for size in shape:
        n *= int(size)
    seed = numpy.random.randint(0, 2**31 - 1)
    raw = numpy.random.PCG64(seed).random_raw((n + 1) // 2)
    bits = raw.view(numpy.uint32)[:n].reshape(shape)
    threshold = numpy.uint32(min(2**32 - 1, int(numpy.ceil(rate * 2.0**32))))
    keep = numpy.greater_equal(bits, threshold)
    return numpy.multiply(keep, numpy.float32(1.0 / (1.0 - rate)), dtype=numpy.float32)


# --------------------------------------------------------------------------
# forward pieces (one slice, feature-major)


def maxout_slice(pieces: Array, nP: int, out: Array, which: Optional[Array]) -> Array:
    """The max over the pieces of ``pieces`` (nO * nP, n; row o * nP + p is
    piece p of unit o) into ``out`` (nO, n); ``which`` (uint8, nO x n), if
    given, gets the first winning piece."""
    if nP == 1:
        numpy.copyto(out, pieces)
        if which is not None:
            which.fill(0)
        return out
    first, second = pieces[0::nP], pieces[1::nP]
    numpy.maximum(first, second, out=out)
    if which is not None:
        numpy.greater(second, first, out=which.view(bool))
    for p in range(2, nP):
        piece = pieces[p::nP]
        if which is not None:
            wins = numpy.greater(piece, out)
            # p is larger than every earlier piece index: max() takes it where it wins
            numpy.maximum(which, wins.view(numpy.uint8) * numpy.uint8(p), out=which)
        numpy.maximum(out, piece, out=out)
    return out


def layer_norm_slice(
    X: Array, norm: NormParams, work: Workspace, xhat: Optional[Array], rstd: Optional[Array]
) -> Array:
    """Normalize each column of ``X`` (nO, n) in place to ``xhat``, then scale and
    shift it in place: returns X. ``xhat`` and ``rstd`` (1 / std per column), if
    given, receive what the backward pass needs."""
    n = X.shape[1]
    mean = numpy.matmul(work.mean_of, X, out=work.stat[:n])
    numpy.subtract(X, mean, out=X)
    square = numpy.multiply(X, X, out=work.tmp[:, :n])
    inv_std = numpy.matmul(work.mean_of, square, out=work.stat2[:n])
    inv_std += EPSILON
    numpy.sqrt(inv_std, out=inv_std)
    numpy.divide(1.0, inv_std, out=inv_std)
    numpy.multiply(X, inv_std, out=X)
    if xhat is not None:
        numpy.copyto(xhat, X)
    if rstd is not None:
        numpy.copyto(rstd, inv_std)
    numpy.multiply(X, norm.G, out=X)
    numpy.add(X, norm.b, out=X)
    return X


def unit_slice(
    unit: MaxoutWeights,
    norm: Optional[NormParams],
    inputs: Array,
    work: Workspace,
    which: Optional[Array],
    xhat: Optional[Array],
    rstd: Optional[Array],
) -> Array:
    """LayerNorm(Maxout(x)) (or Maxout(x) without ``norm``) of a feature-major
    slice ``inputs`` (nI, n); returns a view of ``work.tmp2`` (nO, n)."""
    n = inputs.shape[1]
    pieces = numpy.matmul(unit.W, inputs, out=work.pieces[:, :n])
    numpy.add(pieces, unit.b, out=pieces)
    M = maxout_slice(pieces, unit.nP, work.tmp2[:, :n], which)
    if norm is not None:
        M = layer_norm_slice(M, norm, work, xhat, rstd)
    return M


# --------------------------------------------------------------------------
# backward pieces (one slice, feature-major)


def layer_norm_backward_slice(
    dY: Array, xhat: Array, rstd: Array, norm: NormParams, work: Workspace, dG: Array, db: Array
) -> Array:
    """The gradient of a LayerNorm's input from its output gradient ``dY`` (nO, n),
    written into ``dY``; adds the slice's gradients of G and b to ``dG``, ``db``."""
    n = dY.shape[1]
    ones = work.ones[:n]
    db += numpy.matmul(dY, ones)
    prod = numpy.multiply(dY, xhat, out=work.tmp[:, :n])
    dG += numpy.matmul(prod, ones)
    d_xhat = numpy.multiply(dY, norm.G, out=dY)
    mean_d = numpy.matmul(work.mean_of, d_xhat, out=work.stat[:n])
    prod = numpy.multiply(d_xhat, xhat, out=work.tmp[:, :n])
    mean_dx = numpy.matmul(work.mean_of, prod, out=work.stat2[:n])
    numpy.multiply(xhat, mean_dx, out=prod)
    numpy.subtract(d_xhat, prod, out=d_xhat)
    numpy.subtract(d_xhat, mean_d, out=d_xhat)
    numpy.multiply(d_xhat, rstd, out=d_xhat)
    return d_xhat


def maxout_backward_slice(dM: Array, which: Array, nP: int, work: Workspace) -> Array:
    """The gradient of the pieces (nO * nP, n), from the gradient ``dM`` (nO, n)
    of the max and the winning piece of each unit."""
    n = dM.shape[1]
    d_pieces = work.pieces[:, :n]
    if nP == 1:
        numpy.copyto(d_pieces, dM)
        return d_pieces
    flags = work.flags[:, :n]
    for p in range(nP):
        numpy.equal(which, p, out=flags)
        numpy.multiply(dM, flags, out=d_pieces[p::nP])
    return d_pieces


def unit_backward_slice(
    unit: MaxoutWeights,
    norm: Optional[NormParams],
    dY: Array,
    inputs: Array,
    which: Array,
    xhat: Optional[Array],
    rstd: Optional[Array],
    work: Workspace,
    grads: "UnitGrads",
) -> Array:
    """The gradient of a slice's pieces (nO * nP, n; a view of ``work.pieces``)
    from that of its outputs ``dY`` (nO, n; overwritten), adding the
    parameters' gradients to ``grads``. The inputs' gradient is then
    ``W.T @ d_pieces``."""
    n = dY.shape[1]
    if norm is not None:
        dY = layer_norm_backward_slice(dY, xhat, rstd, norm, work, grads.dG, grads.db_norm)
    d_pieces = maxout_backward_slice(dY, which, unit.nP, work)
    grads.dW += numpy.matmul(d_pieces, inputs.T)
    grads.db += numpy.matmul(d_pieces, work.ones[:n])
    return d_pieces


class UnitGrads:
    """Gradients of a Maxout unit's W (nO * nP, nI) and b, and of its
    LayerNorm's G and b, summed over the slices."""

    def __init__(self, unit: MaxoutWeights):
        self.dW = numpy.zeros((unit.nO * unit.nP, unit.nI), dtype=numpy.float32)
        self.db = numpy.zeros((unit.nO * unit.nP,), dtype=numpy.float32)
        self.dG = numpy.zeros((unit.nO,), dtype=numpy.float32)
        self.db_norm = numpy.zeros((unit.nO,), dtype=numpy.float32)


# --------------------------------------------------------------------------
# window blocks: X + LayerNorm(Maxout(window(X))), feature-major whole batch


class WindowBlock:
    """One residual block's parameters and the state its backward pass needs.

    window_size: Neighbours on each side in the window.
    maxout: The Maxout weights (nI = (2 * window_size + 1) * width).
    norm: The LayerNorm's scale and shift.
    """

    def __init__(self, window_size: int, maxout: MaxoutWeights, norm: NormParams):
        self.window_size = window_size
        self.maxout = maxout
        self.norm = norm
        self.inputs: Optional[Array] = None
        self.xhat: Optional[Array] = None
        self.rstd: Optional[Array] = None
        self.which: Optional[Array] = None
        self.drop_mask: Optional[Array] = None  # (width, N), feature-major


def fill_window(XT: Array, start: int, end: int, nW: int, out: Array) -> Array:
    """The window rows of tokens start..end of ``XT`` (width, N) into ``out``
    ((2 * nW + 1) * width, end - start): block k holds token t + k - nW (zeros
    past either end)."""
    width, N = XT.shape
    n = end - start
    buf = out[: (2 * nW + 1) * width, :n]
    for k in range(2 * nW + 1):
        offset = k - nW
        rows = buf[k * width : (k + 1) * width]
        lo, hi = start + offset, end + offset
        src_lo, src_hi = max(lo, 0), min(hi, N)
        if src_hi <= src_lo:
            rows.fill(0.0)
            continue
        if src_lo > lo:
            rows[:, : src_lo - lo].fill(0.0)
        if src_hi < hi:
            rows[:, n - (hi - src_hi) :].fill(0.0)
        rows[:, src_lo - lo : n - (hi - src_hi)] = XT[:, src_lo:src_hi]
    return buf


def add_window_gradient(d_window: Array, start: int, end: int, nW: int, dXT: Array) -> None:
    """Add the gradient of a slice's window rows (as ``fill_window`` laid them
    out) to the gradient ``dXT`` (width, N) of the tokens they were read from."""
    width, N = dXT.shape
    n = end - start
    for k in range(2 * nW + 1):
        offset = k - nW
        lo, hi = start + offset, end + offset
        src_lo, src_hi = max(lo, 0), min(hi, N)
        if src_hi <= src_lo:
            continue
        rows = d_window[k * width : (k + 1) * width, src_lo - lo : n - (hi - src_hi)]
        dXT[:, src_lo:src_hi] += rows


def window_block_forward(
    block: WindowBlock, XT: Array, work: Workspace, train: bool, drop: Optional[Array]
) -> Array:
    """X + LayerNorm(Maxout(window(X))) (times the dropout mask ``drop``
    (width, N) before the sum, if given) for ``XT`` (width, N); returns a new
    (width, N) array. With ``train``, keeps what the backward pass needs."""
    width, N = XT.shape
    nO = block.maxout.nO
    out = numpy.empty((nO, N), dtype=numpy.float32)
    if train:
        block.inputs = XT
        block.xhat = numpy.empty((nO, N), dtype=numpy.float32)
        block.rstd = numpy.empty((N,), dtype=numpy.float32)
        block.which = numpy.empty((nO, N), dtype=numpy.uint8)
        block.drop_mask = drop
    for start in range(0, N, work.n):
        end = min(N, start + work.n)
        buf = fill_window(XT, start, end, block.window_size, work.inputs)
        Y = unit_slice(
            block.maxout,
            block.norm,
            buf,
            work,
            block.which[:, start:end] if train and block.which is not None else None,
            block.xhat[:, start:end] if train and block.xhat is not None else None,
            block.rstd[start:end] if train and block.rstd is not None else None,
        )
        if drop is not None:
            numpy.multiply(Y, drop[:, start:end], out=Y)
        numpy.add(XT[:, start:end], Y, out=out[:, start:end])
    return out


def window_block_backward(
    block: WindowBlock, dOutT: Array, work: Workspace
) -> Tuple[Array, UnitGrads]:
    """The gradient of the block's input (width, N) from that of its output,
    and the gradients of its parameters."""
    XT = block.inputs
    assert XT is not None and block.xhat is not None and block.rstd is not None
    assert block.which is not None
    width, N = XT.shape
    grads = UnitGrads(block.maxout)
    dXT = dOutT.copy()  # the residual path
    for start in range(0, N, work.n):
        end = min(N, start + work.n)
        dY = work.tmp2[:, : end - start]
        if block.drop_mask is not None:
            numpy.multiply(dOutT[:, start:end], block.drop_mask[:, start:end], out=dY)
        else:
            numpy.copyto(dY, dOutT[:, start:end])
        buf = fill_window(XT, start, end, block.window_size, work.inputs)
        d_pieces = unit_backward_slice(
            block.maxout,
            block.norm,
            dY,
            buf,
            block.which[:, start:end],
            block.xhat[:, start:end],
            block.rstd[start:end],
            work,
            grads,
        )
        # the window rows are no longer needed: their buffer takes their gradient
        d_window = numpy.matmul(block.maxout.W.T, d_pieces, out=work.inputs[:, : end - start])
        add_window_gradient(d_window, start, end, block.window_size, dXT)
    return dXT, grads


# --------------------------------------------------------------------------
# a Maxout (+ LayerNorm) unit on token-major input and output


class UnitState:
    """What the backward pass of ``unit_forward`` needs."""

    def __init__(self, X: Array, nO: int, N: int):
        self.X = X
        self.xhat = numpy.empty((nO, N), dtype=numpy.float32)
        self.rstd = numpy.empty((N,), dtype=numpy.float32)
        self.which = numpy.empty((nO, N), dtype=numpy.uint8)


def unit_forward(
    unit: MaxoutWeights,
    norm: Optional[NormParams],
    X: Array,
    work: Workspace,
    train: bool,
) -> Tuple[Array, Optional[UnitState]]:
    """LayerNorm(Maxout(X)) (or Maxout(X) without ``norm``) for a token-major
    ``X`` (N, nI); returns a token-major (N, nO) array and, with ``train``, the
    state for ``unit_backward``."""
    N = X.shape[0]
    out = numpy.empty((N, unit.nO), dtype=numpy.float32)
    state = UnitState(X, unit.nO, N) if train else None
    for start in range(0, N, work.n):
        end = min(N, start + work.n)
        M = unit_slice(
            unit,
            norm,
            X[start:end].T,
            work,
            state.which[:, start:end] if state is not None else None,
            state.xhat[:, start:end] if state is not None and norm is not None else None,
            state.rstd[start:end] if state is not None and norm is not None else None,
        )
        numpy.copyto(out[start:end], M.T)
    return out, state


def unit_backward(
    unit: MaxoutWeights,
    norm: Optional[NormParams],
    state: UnitState,
    dY: Array,
    work: Workspace,
) -> Tuple[Array, UnitGrads]:
    """The gradient of the input (N, nI) from that of the output ``dY`` (N, nO),
    and the gradients of the parameters."""
    X = state.X
    N = X.shape[0]
    dX = numpy.empty((N, unit.nI), dtype=numpy.float32)
    grads = UnitGrads(unit)
    for start in range(0, N, work.n):
        end = min(N, start + work.n)
        dM = work.tmp2[:, : end - start]
        numpy.copyto(dM, dY[start:end].T)
        d_pieces = unit_backward_slice(
            unit,
            norm,
            dM,
            X[start:end].T,
            state.which[:, start:end],
            state.xhat[:, start:end],
            state.rstd[start:end],
            work,
            grads,
        )
        numpy.matmul(d_pieces.T, unit.W, out=dX[start:end])
    return dX, grads
