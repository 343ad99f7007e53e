"""``spacy.TransitionModel.v1``: the root of the parser model (``parser_model``).

It holds the tok2vec, the precomputable lower layer and the optional upper
layer, and maps a batch of Docs to a ``ParserStepModel`` that scores parser
states (see ``arch_parser.step``). Called on spaCy Docs (by spaCy's ``parser``
or ``ner`` component) it returns spaCy's own step model instead (see
``arch_parser.layers.spacy_step``).
"""

from dataclasses import dataclass
from typing import Any, Callable, Iterable, Optional, Tuple

from thinc.api import Linear, Model, noop, use_ops

from .spacy_step import is_spacy_batch, spacy_step_model

AnyModel = Model[Any, Any]
ResizeFunc = Callable[[AnyModel, int], Any]

VALID_NF = (1, 2, 3, 6, 8, 13)


@dataclass(frozen=True)
class StateFeatures:
    """Which context tokens a parser state offers the model.

    nF: Number of context tokens (1, 2, 3, 6, 8 or 13).
    seed_ner6: With nF = 6, use the seed-era NER set (B0, B0-1, B1, E0, E0-1,
        E0+1) instead of the released one (B0 and the open entity's tokens).

    Kept in the root's attrs as an object msgpack cannot store, so it is not part
    of the saved bytes (which stay identical to spaCy's).
    """

    nF: int
    seed_ner6: bool = False


def TransitionModel(
    tok2vec: AnyModel,
    lower: AnyModel,
    upper: Optional[AnyModel] = None,
    resize_output: Optional[ResizeFunc] = None,
    dropout: float = 0.2,
    unseen_classes: Iterable[int] = (),
) -> AnyModel:
    """The parser model's root node: tok2vec, lower and upper layers.

    tok2vec: Maps Docs to one (n_tokens, width) array (the tok2vec chained with
        list2array and a Linear projection to the lower layer's nI).
    lower: A spacy.PrecomputableAffine.v1 layer.
    upper: A Linear output layer over the hidden units, or null: the lower
        layer's outputs are the move scores.
    resize_output: Function (model, n_moves) that sets or grows the output width
        (default: spaCy's v1 behaviour, resize_output_v1).
    dropout: Accepted for spaCy 3.8 compatibility; unused.
    unseen_classes: Output classes with no training evidence yet; their scores
        are pinned to the batch minimum.
    """
    has_upper = upper is not None
    top: AnyModel = upper if upper is not None else noop()
    nF = lower.get_dim("nF")
    return Model(
        name="parser_model",
        forward=forward,
        init=init,
        dims={"nI": tok2vec.maybe_get_dim("nI")},
        layers=[tok2vec, lower, top],
        refs={"tok2vec": tok2vec, "lower": lower, "upper": top},
        attrs={
            "has_upper": has_upper,
            "unseen_classes": set(unseen_classes),
            "resize_output": resize_output if resize_output is not None else resize_output_v1,
            "state_features": StateFeatures(nF),
        },
    )


def forward(model: AnyModel, X: Any, is_train: bool) -> Tuple[Any, Callable]:
    if is_spacy_batch(X):
        return spacy_step_model(model, X, is_train)
    from ..step import ParserStepModel

    step_model = ParserStepModel(model, X, train=is_train)
    return step_model, step_model.finish_steps


def init(model: AnyModel, X: Optional[Any] = None, Y: Optional[Any] = None) -> None:
    if X is not None and len(X) == 0:
        raise ValueError("spacy.TransitionBasedParser.v1: initialize got an empty list of Docs")
    lower = model.get_ref("lower")
    n_out = (model.get_ref("upper") if model.attrs["has_upper"] else lower).maybe_get_dim("nO")
    if n_out is None:
        raise ValueError(
            "spacy.TransitionBasedParser.v1: the number of moves (nO) is unknown at "
            "initialize; give nO, or call model.attrs['resize_output'](model, n_moves) "
            "first (the parser and NER tasks do this from their move set)"
        )
    model.get_ref("tok2vec").initialize(X=X)
    lower.initialize()
    if model.attrs["has_upper"]:
        import numpy

        model.get_ref("upper").initialize(X=numpy.zeros((2, lower.get_dim("nO")), "f"))


def resize_output_v1(model: AnyModel, new_nO: int) -> AnyModel:
    """Set or grow the number of output classes (spaCy's v1 behaviour).

    Without an upper layer only an unset lower nO is set. With one, an unset nO
    is set; a larger one replaces the upper layer by a wider Linear whose first
    rows are the old weights, and marks the new classes unseen.
    """
    lower = model.get_ref("lower")
    upper = model.get_ref("upper")
    if not model.attrs["has_upper"]:
        if not lower.has_dim("nO"):
            lower.set_dim("nO", new_nO)
        return model
    if not upper.has_dim("nO"):
        upper.set_dim("nO", new_nO)
        return model
    if new_nO == upper.get_dim("nO"):
        return model
    nI = upper.maybe_get_dim("nI")
    with use_ops("numpy"):
        larger = Linear(nO=new_nO, nI=nI)
    larger.init = upper.init
    if nI is not None and upper.has_param("W"):
        import numpy

        old = upper.get_dim("nO")
        W: Any = numpy.zeros((new_nO, nI), dtype="float32")
        b: Any = numpy.zeros((new_nO,), dtype="float32")
        W[:old] = upper.get_param("W")
        b[:old] = upper.get_param("b")
        model.attrs["unseen_classes"].update(range(old, new_nO))
        larger.set_param("W", W)
        larger.set_param("b", b)
    model._layers[-1] = larger
    model.set_ref("upper", larger)
    return model
