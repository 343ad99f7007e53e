"""One transformer, run once per batch, feeding every listener of that batch.

``SharedTransformer(transformer, models)`` finds the listener layers
(``spacy-transformers.Tok2VecListener.v1``) inside the given models. Per batch:

    shared.begin_update(docs)         # the transformer runs once
    for model in models:              # each model reads its listener's copy
        Y, backprop = model.begin_update(docs)
        backprop(dY)                  # the listener's gradient is collected
        model.finish_update(optimizer)
    shared.finish_update(optimizer)   # the summed gradient reaches the transformer

The transformer's backward pass runs once, on the sum of the listeners'
gradients, as soon as every listener has sent its gradient (or at
``finish_update`` for a listener that was not used in the batch).
"""

from typing import Any, Callable, List, Optional, Sequence

from thinc.api import Model, Optimizer
from thinc.types import Floats3d

from .architectures.listener import LISTENER, receive
from .data import TransformerData, batch_id

DocLike = Any


def find_listeners(model: Model) -> List[Model]:
    """Every listener layer inside ``model`` (in walk order, no duplicates)."""
    return [node for node in model.walk() if node.name == LISTENER]


class GradientCollector:
    """Sums the listeners' gradients for one batch and runs the transformer's
    backward pass once, when every expected listener has reported (or on
    ``flush``)."""

    def __init__(self, backprop: Callable, expected: int):
        self._backprop: Optional[Callable] = backprop
        self.expected = expected
        self.reported = 0
        self.total: Optional[List[Floats3d]] = None

    def __call__(self, d_hidden: List[Floats3d]) -> None:
        if self._backprop is None:
            raise ValueError(
                "the transformer's backward pass for this batch has already run; "
                "each listener may send its gradient once per batch"
            )
        if self.total is None:
            self.total = [d.copy() for d in d_hidden]
        else:
            for total, d in zip(self.total, d_hidden):
                total += d
        self.reported += 1
        if self.reported >= self.expected:
            self.flush()

    @property
    def pending(self) -> bool:
        return self._backprop is not None and self.total is not None

    def flush(self) -> None:
        """Run the transformer's backward pass with what has been collected."""
        if self._backprop is not None and self.total is not None:
            backprop, self._backprop = self._backprop, None
            backprop(self.total)
            self.total = None


def broadcast(
    transformer: Model, listeners: Sequence[Model], docs: List[DocLike], is_train: bool
) -> Optional[GradientCollector]:
    """Run the transformer on ``docs`` once and hand its output to every listener.
    Returns the gradient collector when training, else None."""
    if not listeners:
        raise ValueError("no transformer listener to hand the transformer's output to")
    collector: Optional[GradientCollector] = None
    if is_train:
        outputs, backprop = transformer.begin_update(docs)
        collector = GradientCollector(backprop, len(listeners))
    else:
        outputs = transformer.predict(docs)
    batch = batch_id(docs)
    for listener in listeners:
        receive(listener, batch, outputs, collector)
    return collector


def connect(transformer: Model, listeners: Sequence[Model]) -> None:
    """Give listeners the transformer's width (once it is known)."""
    width = transformer.maybe_get_dim("nO")
    if width is not None:
        for listener in listeners:
            listener.set_dim("nO", width, force=True)


def check_transformer(transformer: Any, where: str) -> None:
    if not isinstance(transformer, Model) or transformer.name != "transformer":
        got = transformer.name if isinstance(transformer, Model) else type(transformer).__name__
        raise TypeError(
            f"{where} must be a spacy-transformers.TransformerModel.v1 model, got {got}"
        )


class SharedTransformer:
    """One TransformerModel shared by the listeners inside several models.

    transformer: A spacy-transformers.TransformerModel.v1 model.
    models: The models whose Tok2VecListener layers read its output (e.g. a
        tagger and a text classifier built over Tok2VecListener.v1).
    """

    def __init__(self, transformer: Model, models: Sequence[Model]):
        check_transformer(transformer, "SharedTransformer: transformer")
        self.transformer = transformer
        self.models = list(models)
        self.listeners: List[Model] = []
        for model in self.models:
            found = find_listeners(model)
            if not found:
                raise ValueError(
                    f"SharedTransformer: the model {model.name!r} has no "
                    "spacy-transformers.Tok2VecListener.v1 layer"
                )
            self.listeners.extend(l for l in found if l not in self.listeners)
        self._collector: Optional[GradientCollector] = None

    def initialize(self, docs: List[DocLike]) -> None:
        """Load the transformer and hand its output for ``docs`` to the listeners,
        so the models can then be initialized on the same Docs."""
        self.transformer.initialize(X=docs)
        connect(self.transformer, self.listeners)
        self.predict(docs)

    def predict(self, docs: List[DocLike]) -> None:
        """Run the transformer (no gradient) for the models' next predict(docs)."""
        self._flush()
        broadcast(self.transformer, self.listeners, docs, is_train=False)

    def begin_update(self, docs: List[DocLike]) -> List[TransformerData]:
        """Run the transformer for training on ``docs``; the models' next
        begin_update(docs) reads its output, and their backprop reaches it."""
        self._flush()
        self._collector = broadcast(self.transformer, self.listeners, docs, is_train=True)
        return self.listeners[0].attrs["received"].outputs

    def finish_update(self, optimizer: Optimizer) -> None:
        """Update the transformer's weights (after the models' backprop)."""
        self._flush()
        self.transformer.finish_update(optimizer)

    def _flush(self) -> None:
        if self._collector is not None:
            self._collector.flush()
            self._collector = None
