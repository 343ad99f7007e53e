"""``spacy-transformers.Tok2VecListener.v1``: token vectors from a shared transformer.

Tree: ``chain`` (ref ``listener``) of ``transformer-listener`` (receives the
upstream transformer's output for a batch) and ``trfs2arrays`` (attr
``grad_factor``) over the pooling layer. The listener runs no transformer
itself: ``arch.WithTransformer.v1`` or ``arch_transformers.SharedTransformer``
run one and hand its output (and backprop) to every listener of the batch.
"""

import math
from typing import Any, Callable, List, Optional, Tuple, cast

from thinc.api import Model, chain
from thinc.types import Floats2d, Floats3d, Ragged

from ..data import TransformerData, batch_id

DocLike = Any
LISTENER = "transformer-listener"
NAME = "spacy-transformers.Tok2VecListener.v1"


def Tok2VecListener(
    pooling: Model[Ragged, Floats2d], grad_factor: float = 1.0
) -> Model[List[DocLike], List[Floats2d]]:
    """Token vectors from an upstream transformer: one (n_tokens, width) array per Doc.

    pooling: Reduces the wordpiece vectors aligned to each token to one vector,
        e.g. {"@layers": "reduce_mean.v1"} (or reduce_max.v1, reduce_sum.v1,
        reduce_first.v1, reduce_last.v1). A token with no wordpiece gets zeros.
    grad_factor: Multiplies the gradient sent back to the transformer: 1.0
        trains it with the task, 0.0 leaves it as it is, larger values make it
        move faster than the layers above.
    The listener must be connected to a transformer that runs on the same batch
    (arch.WithTransformer.v1, or arch_transformers.SharedTransformer for several
    models sharing one transformer).
    """
    if not isinstance(pooling, Model):
        raise TypeError(f"pooling must be a thinc Model (e.g. reduce_mean.v1), got {pooling!r}")
    if (
        isinstance(grad_factor, bool)
        or not isinstance(grad_factor, (int, float))
        or not math.isfinite(grad_factor)
        or grad_factor < 0
    ):
        raise ValueError(f"grad_factor must be a number >= 0, got {grad_factor!r}")
    listener = TransformerListener()
    model: Model = chain(listener, trfs2arrays(pooling, float(grad_factor)))
    model.set_ref("listener", listener)
    return model


class Received:
    """What a listener holds: the last batch handed to it."""

    def __init__(self) -> None:
        self.batch_id: Optional[int] = None
        self.outputs: Optional[List[TransformerData]] = None
        self.backprop: Optional[Callable] = None

    def __repr__(self) -> str:  # keeps model summaries short
        return f"Received(batch_id={self.batch_id})"


def TransformerListener() -> Model[List[DocLike], List[TransformerData]]:
    """The layer that receives a transformer's output for a batch (``receive``)
    and returns it when called on the same Docs."""
    return Model(LISTENER, _listener_forward, dims={"nO": None}, attrs={"received": Received()})


def receive(
    listener: Model, batch: int, outputs: List[TransformerData], backprop: Optional[Callable]
) -> None:
    """Hand a listener the transformer's output for the batch with id ``batch``."""
    received: Received = listener.attrs["received"]
    received.batch_id, received.outputs, received.backprop = batch, outputs, backprop


def _listener_forward(
    model: Model, docs: List[DocLike], is_train: bool
) -> Tuple[List[TransformerData], Callable]:
    received: Received = model.attrs["received"]
    if received.outputs is None:
        raise ValueError(
            f"{NAME}: the listener has received no transformer output. Run its model "
            "inside arch.WithTransformer.v1, or run the transformer first with "
            "arch_transformers.SharedTransformer (begin_update or predict on these Docs)"
        )
    got = batch_id(docs)
    if got != received.batch_id or len(docs) != len(received.outputs):
        raise ValueError(
            f"{NAME}: mismatched batch: the listener holds the transformer output of batch "
            f"{received.batch_id} ({len(received.outputs)} Docs) but was called on batch "
            f"{got} ({len(docs)} Docs). The shared transformer must run on exactly the "
            "Docs its listeners are then called with"
        )
    outputs = received.outputs
    upstream = received.backprop

    def backprop(d_hidden: List[Floats3d]) -> List[DocLike]:
        if upstream is None:
            raise ValueError(
                f"{NAME}: this batch came from a prediction (no gradient can flow into "
                "the transformer); use begin_update on the shared transformer to train"
            )
        upstream(d_hidden)
        return docs

    return outputs, backprop


def trfs2arrays(
    pooling: Model[Ragged, Floats2d], grad_factor: float
) -> Model[List[TransformerData], List[Floats2d]]:
    """Pool each token's aligned wordpiece vectors into one row per token."""
    return Model(
        "trfs2arrays",
        _trfs2arrays_forward,
        init=_trfs2arrays_init,
        layers=[pooling],
        dims={"nO": None},
        attrs={"grad_factor": grad_factor},
    )


def _trfs2arrays_init(
    model: Model, X: Optional[List[TransformerData]] = None, Y: Optional[Any] = None
) -> None:
    if X:
        model.set_dim("nO", X[0].width, force=True)


def _trfs2arrays_forward(
    model: Model, datas: List[TransformerData], is_train: bool
) -> Tuple[List[Floats2d], Callable]:
    ops = model.ops
    xp = ops.xp
    pooling = model.layers[0]
    grad_factor = model.attrs["grad_factor"]
    width = datas[0].width if datas else (model.maybe_get_dim("nO") or 0)
    flat = [cast(Any, d.hidden).reshape((-1, width)) for d in datas]
    sizes = [x.shape[0] for x in flat]
    X = xp.concatenate(flat, axis=0) if flat else ops.alloc2f(0, width)
    shifts = xp.cumsum(xp.asarray([0] + sizes[:-1], dtype="int32"))
    index = xp.concatenate(
        [
            cast(Any, d.align.data).reshape((-1,)).astype("int32") + shift
            for d, shift in zip(datas, shifts)
        ]
        or [xp.zeros((0,), dtype="int32")]
    )
    lengths = xp.concatenate(
        [d.align.lengths.astype("int32") for d in datas] or [xp.zeros((0,), dtype="int32")]
    )
    has_pieces = lengths > 0
    n_tokens = int(lengths.shape[0])
    Y = ops.alloc2f(n_tokens, width)
    backprop_pool: Optional[Callable] = None
    if bool(has_pieces.any()):
        pooled, backprop_pool = pooling(Ragged(X[index], lengths[has_pieces]), is_train)
        Y[has_pieces] = pooled
    counts = [d.n_tokens for d in datas]
    splits = xp.cumsum(xp.asarray(counts, dtype="int64"))[:-1] if counts else []
    outputs = list(xp.split(Y, splits)) if counts else []

    def backprop(dY: List[Floats2d]) -> List[Floats3d]:
        dX = ops.alloc2f(*X.shape)
        if backprop_pool is not None:
            d_all = xp.concatenate(dY, axis=0)
            d_pieces = backprop_pool(d_all[has_pieces])
            ops.scatter_add(dX, index, d_pieces.data)
            if grad_factor != 1.0:
                dX *= grad_factor
        parts = xp.split(dX, xp.cumsum(xp.asarray(sizes, dtype="int64"))[:-1]) if sizes else []
        return [part.reshape(d.hidden.shape) for part, d in zip(parts, datas)]

    return outputs, backprop
