"""``spacy.EntityLinker.v1``: one context vector per document, compared with entity vectors.

The tree is the one spaCy 3 released under this name (spacy-legacy 3.0.12), node
for node, so a model saved by spaCy loads into it and gives the same vectors.
"""

from functools import partial
from typing import Any, Callable, List, Optional

from thinc.api import Linear, Maxout, Model, chain, list2ragged, reduce_mean, residual
from thinc.types import Floats2d

from arch_tok2vec.ops import use_numpy_gemm
from arch_tok2vec.validation import check_int

DocLike = Any  # arch_tok2vec.Doc, spacy.tokens.Doc, or anything with the same features
AnyModel = Model[Any, Any]
InitFunc = Callable[..., None]


def EntityLinker(
    tok2vec: Model[List[DocLike], List[Floats2d]], nO: Optional[int] = None
) -> Model[List[DocLike], Floats2d]:
    """Encode each Doc (a mention's context, e.g. its sentence) as one vector in
    the space of the knowledge base's entity vectors.

    tok2vec: Maps Docs to one array of token vectors per Doc (for example
        spacy.HashEmbedCNN.v1); the token vectors are averaged per Doc.
    nO: The width of the output, which is the knowledge base's
        entity_vector_length. null: read from the width of the entity vector
        array (Y) given to initialize.
    The output is one (n_docs, nO) float32 array: the mean token vector, passed
    through a residual two-piece Maxout layer and a linear projection. A linker
    scores each candidate entity of a mention by the cosine between this vector
    and the entity's vector.
    """
    if not isinstance(tok2vec, Model):
        raise TypeError(f"tok2vec must be a thinc Model, got {type(tok2vec).__name__}")
    if nO is not None:
        check_int("nO", nO)
    width = tok2vec.maybe_get_dim("nO")
    output_layer: AnyModel = Linear(nO=nO, nI=width)
    mixer: AnyModel = residual(Maxout(nO=width, nI=width, nP=2, dropout=0.0))
    # Left-nested binary chains, as ``a >> b >> c`` builds them in spaCy's version.
    model: AnyModel = chain(
        chain(chain(chain(tok2vec, list2ragged()), reduce_mean()), mixer), output_layer
    )
    model.set_ref("output_layer", output_layer)
    model.set_ref("tok2vec", tok2vec)
    if model.init is not None:
        model.init = partial(_checked_init, model.init)
    return use_numpy_gemm(model)


def _checked_init(
    chain_init: InitFunc, model: AnyModel, X: Optional[Any] = None, Y: Optional[Any] = None
) -> None:
    """Check that the widths can be known, then run the chain's own initialization."""
    # Found by position rather than by reference: thinc's Model.copy() drops refs.
    output_layer = model.layers[1]
    tok2vec = model.layers[0].layers[0].layers[0].layers[0]
    if X is not None and len(X) == 0:
        raise ValueError("spacy.EntityLinker.v1: initialize got an empty list of Docs as X")
    width = tok2vec.maybe_get_dim("nO")
    if width is None and not output_layer.has_dim("nI"):
        raise ValueError(
            "spacy.EntityLinker.v1: the output width of tok2vec is unknown (it has no nO); "
            "use a tok2vec that declares its width"
        )
    n_out = None
    shape = getattr(Y, "shape", None)
    if shape is not None and len(shape) == 2:
        n_out = int(shape[1])
    elif Y is not None:
        raise ValueError(
            "spacy.EntityLinker.v1: Y given to initialize must be one (n_docs, "
            "entity_vector_length) array"
        )
    if n_out is None and not output_layer.has_dim("nO"):
        raise ValueError(
            "spacy.EntityLinker.v1: the output width is unknown; give nO (the knowledge "
            "base's entity_vector_length), or initialize with an (n_docs, "
            "entity_vector_length) array as Y"
        )
    if n_out is not None and output_layer.has_dim("nO") and output_layer.get_dim("nO") != n_out:
        raise ValueError(
            f"spacy.EntityLinker.v1: nO is {output_layer.get_dim('nO')} but the entity "
            f"vectors (Y) given to initialize have {n_out} columns"
        )
    chain_init(model, X=X, Y=Y)
