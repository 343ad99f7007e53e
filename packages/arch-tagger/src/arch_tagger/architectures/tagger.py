"""``spacy.Tagger.v1``: a softmax over the token vectors of a tok2vec model.

The tree is the one spaCy 3 released under this name (spacy-legacy 3.0.12),
node for node, so a tagger saved by spaCy loads into it and predicts the same.
"""

from functools import partial
from typing import Any, Callable, List, Optional

from thinc.api import Model, Softmax, chain, with_array, zero_init
from thinc.types import Floats2d

from arch_tok2vec.ops import use_numpy_gemm
from arch_tok2vec.validation import check_int

DocLike = Any  # arch_tok2vec.Doc, spacy.tokens.Doc, or anything with the same features
AnyModel = Model[Any, Any]
InitFunc = Callable[..., None]


def Tagger(
    tok2vec: Model[List[DocLike], List[Floats2d]],
    nO: Optional[int] = None,
) -> Model[List[DocLike], List[Floats2d]]:
    """Assign one tag per token: a softmax layer over each token's vector.

    tok2vec: Maps Docs to one array of token vectors per Doc (for example
        spacy.HashEmbedCNN.v1); its output width is the softmax's input width.
    nO: The number of tags. null: read from the width of the one-hot tag
        arrays (Y) given to initialize.
    The output is one (n_tokens, nO) float32 array of tag probabilities per Doc
    (each row sums to 1). The softmax weights start at zero, so an untrained
    tagger gives every tag the same probability.
    """
    if not isinstance(tok2vec, Model):
        raise TypeError(f"tok2vec must be a thinc Model, got {type(tok2vec).__name__}")
    if nO is not None:
        check_int("nO", nO)
    width = tok2vec.maybe_get_dim("nO")
    output_layer: AnyModel = Softmax(nO, width, init_W=zero_init)
    head: AnyModel = with_array(output_layer)
    model: AnyModel = chain(tok2vec, head)
    model.set_ref("tok2vec", tok2vec)
    model.set_ref("softmax", output_layer)
    model.set_ref("output_layer", output_layer)
    if model.init is not None:
        model.init = partial(_checked_init, model.init)
    return use_numpy_gemm(model)


def _checked_init(
    chain_init: InitFunc, model: AnyModel, X: Optional[Any] = None, Y: Optional[Any] = None
) -> None:
    """Check that both widths of the softmax can be known, then run the chain's
    own initialization (which infers them from X and Y)."""
    # Found by position rather than by reference: thinc's Model.copy() drops refs.
    tok2vec = model.layers[0]
    softmax = model.layers[1].layers[0]
    if X is not None and len(X) == 0:
        raise ValueError("spacy.Tagger.v1: initialize got an empty list of Docs as X")
    if X is None and not softmax.has_dim("nI"):
        width = tok2vec.maybe_get_dim("nO")
        if width is None:
            raise ValueError(
                "spacy.Tagger.v1: the output width of tok2vec is unknown (it has no nO), "
                "so the softmax's input width cannot be set; initialize with sample Docs "
                "(X) or use a tok2vec that declares its width"
            )
        softmax.set_dim("nI", width)
    n_tags = _label_width(Y)
    if n_tags is None and not softmax.has_dim("nO"):
        raise ValueError(
            "spacy.Tagger.v1: the number of tags is unknown; give nO, or initialize "
            "with one-hot tag arrays (Y), one (n_tokens, n_tags) array per Doc"
        )
    if n_tags is not None and softmax.has_dim("nO") and softmax.get_dim("nO") != n_tags:
        raise ValueError(
            f"spacy.Tagger.v1: nO is {softmax.get_dim('nO')} but the tag arrays (Y) "
            f"given to initialize have {n_tags} columns"
        )
    chain_init(model, X=X, Y=Y)


def _label_width(Y: Optional[Any]) -> Optional[int]:
    """Columns of the tag arrays: one 2d array per Doc, or one flat 2d array."""
    if Y is None:
        return None
    arrays = list(Y) if isinstance(Y, (list, tuple)) else [Y]
    for array in arrays:
        shape = getattr(array, "shape", None)
        if shape is not None and len(shape) == 2:
            return int(shape[1])
    return None
