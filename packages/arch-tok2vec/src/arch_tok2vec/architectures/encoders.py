"""Context encoders: layers that mix each token vector with its neighbours."""

from typing import List

from thinc.api import LSTM, Maxout, Mish, Model, chain, clone, expand_window, residual, with_padded
from thinc.types import Floats2d

from ..ops import use_numpy_gemm
from ..validation import check_int, check_rate


def MaxoutWindowEncoder(
    width: int, window_size: int, maxout_pieces: int, depth: int
) -> Model[Floats2d, Floats2d]:
    """Encode context with ``depth`` residual blocks of window + Maxout + LayerNorm.

    width: The width of the token vectors (input and output).
    window_size: How many neighbours on each side each block concatenates; the
        receptive field is ``window_size * depth`` tokens on each side.
    maxout_pieces: The number of pieces of each Maxout unit (1 is a plain linear
        unit followed by the max over one piece).
    depth: The number of residual blocks.
    """
    model = maxout_window_blocks(width, window_size, maxout_pieces, depth)
    model.attrs["receptive_field"] = window_size * depth
    return use_numpy_gemm(model)


def maxout_window_blocks(
    width: int, window_size: int, maxout_pieces: int, depth: int
) -> Model[Floats2d, Floats2d]:
    """``MaxoutWindowEncoder`` without the ``receptive_field`` attribute (the
    form spaCy nests inside ``HashEmbedCNN.v1``)."""
    check_int("width", width)
    check_int("window_size", window_size, minimum=0)
    check_int("maxout_pieces", maxout_pieces)
    check_int("depth", depth)
    block = chain(
        expand_window(window_size=window_size),
        Maxout(
            nO=width,
            nI=width * (window_size * 2 + 1),
            nP=maxout_pieces,
            dropout=0.0,
            normalize=True,
        ),
    )
    model = clone(residual(block), depth)
    model.set_dim("nO", width)
    return model


def MishWindowEncoder(width: int, window_size: int, depth: int) -> Model[Floats2d, Floats2d]:
    """Encode context with ``depth`` residual blocks of window + Mish + LayerNorm.

    width: The width of the token vectors (input and output).
    window_size: How many neighbours on each side each block concatenates.
    depth: The number of residual blocks.
    Unlike spaCy's version this sets ``receptive_field``, so ``Tok2Vec.v1`` pads
    between documents and a document's vectors do not depend on its batch.
    """
    check_int("width", width)
    check_int("window_size", window_size, minimum=0)
    check_int("depth", depth)
    block = chain(
        expand_window(window_size=window_size),
        Mish(nO=width, nI=width * (window_size * 2 + 1), dropout=0.0, normalize=True),
    )
    model = clone(residual(block), depth)
    model.set_dim("nO", width)
    model.attrs["receptive_field"] = window_size * depth
    return use_numpy_gemm(model)


def BiLSTMEncoder(
    width: int, depth: int, dropout: float = 0.0
) -> Model[List[Floats2d], List[Floats2d]]:
    """Encode context with a bidirectional LSTM (thinc's own; no PyTorch needed).

    width: The width of the token vectors (input and output); each direction
        has ``width // 2`` hidden units, so it must be even.
    depth: The number of stacked LSTM layers.
    dropout: Dropout rate applied inside the LSTM while training (also with one layer).
    Takes and returns one array per document.
    """
    check_int("width", width)
    check_int("depth", depth)
    check_rate("dropout", dropout)
    if width % 2:
        raise ValueError(f"width must be even for a bidirectional LSTM, got {width}")
    model: Model[List[Floats2d], List[Floats2d]] = with_padded(
        LSTM(width, width, bi=True, depth=depth, dropout=dropout)
    )
    model.attrs["takes_list"] = True
    return use_numpy_gemm(model)
