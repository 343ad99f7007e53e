"""``spacy.PrecomputableAffine.v1``: the parser's lower (hidden) layer.

The layer multiplies every token vector of a batch by the weights of every
feature slot at once, so that a parser state's hidden pre-activation is just a
sum of ``nF`` precomputed ``(nO, nP)`` blocks (one per context token) plus the
bias. Row 0 of the output holds the learned padding used for missing context
tokens (id -1).
"""

from typing import Any, Callable, List, Optional, Tuple, cast

import numpy
from thinc.api import Model

from arch_tok2vec.ops import one_blas_thread
from arch_tok2vec.validation import check_int

AnyModel = Model[Any, Any]


def PrecomputableAffine(
    nO: Optional[int], nI: Optional[int], nF: int, nP: int, dropout: float = 0.1
) -> AnyModel:
    """The lower layer of spacy.TransitionBasedParser.v1, precomputed per token.

    nO: Hidden width (the output width when the parser has no upper layer).
    nI: Width of the token vectors it reads.
    nF: Number of context-token feature slots per parser state.
    nP: Maxout pieces (1: a ReLU unit).
    dropout: Stored as the attr dropout_rate, as spaCy 3.8 does; the forward pass
        does not use it.
    Forward maps a (n_tokens, nI) array to (n_tokens + 1, nF, nO, nP); row 0 is the
    padding for missing tokens. The backward pass takes (dY, ids): the gradient of
    the summed state blocks, (n_states, nO, nP), and the (n_states, nF) token ids
    (-1 = missing) they were summed from; it returns (n_states, nF, nI).
    """
    check_int("nF", nF)
    check_int("nP", nP)
    if nO is not None:
        check_int("nO", nO)
    if nI is not None:
        check_int("nI", nI)
    return Model(
        "precomputable_affine",
        forward,
        init=init,
        dims={"nO": nO, "nI": nI, "nF": nF, "nP": nP},
        params={"W": None, "b": None, "pad": None},
        attrs={"dropout_rate": dropout},
    )


def forward(model: AnyModel, X: Any, is_train: bool) -> Tuple[Any, Callable]:
    nF, nO, nP, nI = (model.get_dim(d) for d in ("nF", "nO", "nP", "nI"))
    W: Any = model.get_param("W")
    Yf = numpy.empty((X.shape[0] + 1, nF * nO * nP), dtype="float32")
    numpy.matmul(X, W.reshape((nF * nO * nP, nI)).T, out=Yf[1:])
    Yf = Yf.reshape((X.shape[0] + 1, nF, nO, nP))
    Yf[0] = model.get_param("pad")[0]

    # W as (nO * nP, nF * nI), made on the first backward call and reused by the
    # others: spaCy's step model calls the backward pass once per parser step
    W_opfi: List[Any] = []

    def backward(dY_ids: Tuple[Any, Any]) -> Any:
        dY, ids = dY_ids
        nB = dY.shape[0]
        dY2 = numpy.ascontiguousarray(dY.reshape((nB, nO * nP)), dtype="float32")
        missing = (ids < 0).astype("float32")
        Xf = numpy.ascontiguousarray(X[ids].reshape((nB, nF * nI)), dtype="float32")
        if not W_opfi:
            W_opfi.append(numpy.ascontiguousarray(W.transpose((1, 2, 0, 3)).reshape((nO * nP, -1))))
        with one_blas_thread():
            d_pad = numpy.matmul(missing.T, dY2)
            dXf = numpy.matmul(dY2, W_opfi[0])
            dW = numpy.matmul(dY2.T, Xf)
        model.inc_grad("pad", d_pad.reshape((1, nF, nO, nP)))
        model.inc_grad("b", dY.sum(axis=0))
        # (o, p, f, i) -> (f, o, p, i): added into the gradient as a strided view
        model.inc_grad("W", cast(Any, dW.reshape((nO, nP, nF, nI)).transpose((2, 0, 1, 3))))
        return dXf.reshape((nB, nF, nI))

    return Yf, backward


def init(model: AnyModel, X: Optional[Any] = None, Y: Optional[Any] = None) -> None:
    """Random weights scaled so whitened inputs give roughly whitened hidden
    units (a layer-sequential unit-variance loop on synthetic data, as spaCy's).
    Does nothing if W already holds non-zero values (e.g. loaded weights)."""
    if model.has_param("W") and model.get_param("W").any():
        return
    for dim in ("nO", "nI"):
        if not model.has_dim(dim):
            raise ValueError(
                f"spacy.PrecomputableAffine.v1: {dim} is unknown at initialize; set it "
                "(the parser model sets nO from the number of moves)"
            )
    nF, nO, nP, nI = (model.get_dim(d) for d in ("nF", "nO", "nP", "nI"))
    # spaCy's source computes the std as sqrt(1.0 / nF * nI) = sqrt(nI / nF).
    W: Any = numpy.random.normal(0.0, numpy.sqrt(nI / nF), (nF, nO, nP, nI)).astype("float32")
    pad: Any = numpy.random.normal(0.0, 1.0, (1, nF, nO, nP)).astype("float32")
    b: Any = numpy.zeros((nO, nP), dtype="float32")
    ids = numpy.random.uniform(0, 1000, (5000, nF)).astype("int32")
    tokvecs = numpy.random.normal(0.0, 1.0, (5000, nI)).astype("float32")
    model.set_param("W", W)
    model.set_param("b", b)
    model.set_param("pad", pad)
    for _ in range(10):
        acts = _synthetic_activations(model, ids, tokvecs)
        var = float(acts.var())
        mean = float(acts.mean())
        if abs(var - 1.0) >= 0.01:
            W = W / numpy.sqrt(var)
            model.set_param("W", W.astype("float32"))
        elif abs(mean) >= 0.01:
            b = b - mean
            model.set_param("b", b.astype("float32"))
        else:
            break


def _synthetic_activations(model: AnyModel, ids: Any, tokvecs: Any) -> Any:
    """Hidden activations for synthetic states, computed as spaCy's init does
    (feature blocks scattered into state rows by id, plus bias, maxout/ReLU)."""
    nF, nO, nP = (model.get_dim(d) for d in ("nF", "nO", "nP"))
    table, _ = model(tokvecs[:-1], is_train=False)
    table = table.reshape((table.shape[0] * nF, nO * nP))
    vectors = numpy.zeros((ids.shape[0], nO * nP), dtype="float32")
    numpy.add.at(vectors, ids.ravel(), table[: ids.size])
    vectors = vectors.reshape((ids.shape[0], nO, nP)) + model.get_param("b")
    if nP >= 2:
        return vectors.max(axis=-1)
    return vectors * (vectors >= 0)
