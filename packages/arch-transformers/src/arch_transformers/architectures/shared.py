"""``arch.WithTransformer.v1``: a model over Tok2VecListener layers, bundled with
the transformer they listen to, as one Model.

Tree: ``with-transformer`` (refs ``transformer``, ``model``) over the
TransformerModel and the model. Forward runs the transformer once, hands its
output to every listener inside the model, then runs the model; backward sends
the listeners' summed gradient into the transformer. Saving the Model saves
both, transformer weights included.
"""

from typing import Any, Callable, List, Optional, Tuple

from thinc.api import Model

from ..sharing import broadcast, check_transformer, connect, find_listeners

DocLike = Any
NAME = "arch.WithTransformer.v1"


def WithTransformer(transformer: Model, model: Model) -> Model:
    """Run a transformer once per batch for every listener inside ``model``.

    transformer: The shared transformer (spacy-transformers.TransformerModel.v1).
    model: Any model whose token vectors come from one or more
        spacy-transformers.Tok2VecListener.v1 layers (e.g. spacy.Tagger.v1 with a
        listener as its tok2vec). Its output is this model's output.
    """
    check_transformer(transformer, f"{NAME}: transformer")
    if not isinstance(model, Model):
        raise TypeError(f"{NAME}: model must be a thinc Model, got {type(model).__name__}")
    if not find_listeners(model):
        raise ValueError(
            f"{NAME}: model has no spacy-transformers.Tok2VecListener.v1 layer, so the "
            "transformer's output would reach nothing"
        )
    combined: Model = Model(
        "with-transformer",
        _forward,
        init=_init,
        layers=[transformer, model],
        dims={"nO": model.maybe_get_dim("nO")},
    )
    combined.set_ref("transformer", transformer)
    combined.set_ref("model", model)
    return combined


def _init(model: Model, X: Optional[List[DocLike]] = None, Y: Optional[Any] = None) -> None:
    transformer, head = model.layers
    transformer.initialize(X=X)
    listeners = find_listeners(head)
    connect(transformer, listeners)
    if X is not None:
        broadcast(transformer, listeners, X, is_train=False)
    head.initialize(X=X, Y=Y)
    if head.has_dim("nO"):
        model.set_dim("nO", head.get_dim("nO"), force=True)


def _forward(model: Model, docs: List[DocLike], is_train: bool) -> Tuple[Any, Callable]:
    transformer, head = model.layers
    collector = broadcast(transformer, find_listeners(head), docs, is_train)
    Y, backprop_head = head(docs, is_train)

    def backprop(dY: Any) -> List[DocLike]:
        backprop_head(dY)
        if collector is not None:
            collector.flush()
        return docs

    return Y, backprop
