"""``[training] accumulate_gradient``: one optimizer step for the gradients of
several sub-batches, as spaCy does (``spacy.training.loop.subdivide_batch``).

A task's ``update`` always ends with ``model.finish_update(sgd)``. To add up the
gradients of N sub-batches, the loop hands the task a ``Deferred`` optimizer for
the first N - 1 of them: it keeps each gradient (a copy, since thinc's optimizer
contract is to zero the gradient it is given, and shims such as PyTorch's zero
theirs after the call) and changes no weight; the last sub-batch gets the
``Deferred`` in its final state, which adds the kept gradients and makes the
real optimizer step once.
"""

from typing import Any, Dict, Hashable, List, Sequence, Tuple

from thinc.api import Model

from .task import Example


def subdivide(batch: Sequence[Example], parts: int) -> List[List[Example]]:
    """spaCy's sub-batches: the batch sorted by length (stable), cut into
    ``parts`` pieces of ``len(batch) // parts`` examples and a last piece with the
    rest; empty pieces are left out.

    batch: The examples of one update.
    parts: accumulate_gradient.
    """
    ordered = sorted(batch, key=lambda eg: len(eg.doc))
    size = len(ordered) // parts
    pieces: List[List[Example]] = []
    start = 0
    for _ in range(parts):
        piece = ordered[start : start + size]
        if piece:
            pieces.append(piece)
        start += len(piece)
    if ordered[start:]:
        pieces.append(ordered[start:])
    return pieces


class Deferred:
    """An optimizer stand-in that keeps gradients until its last call.

    optimizer: The real (thinc) optimizer.
    """

    def __init__(self, optimizer: Any):
        self.optimizer = optimizer
        self.final = False
        self.kept: Dict[Hashable, Any] = {}

    def __call__(
        self, key: Hashable, weights: Any, gradient: Any, *, lr_scale: float = 1.0
    ) -> Tuple[Any, Any]:
        if key in self.kept:
            gradient += self.kept.pop(key)
        if not self.final:
            self.kept[key] = gradient.copy()
            gradient *= 0
            return weights, gradient
        return self.optimizer(key, weights, gradient, lr_scale=lr_scale)

    def __getattr__(self, name: str) -> Any:
        # Anything else a task reads (learn_rate, averages, ...) is the real one's.
        if name == "optimizer":
            raise AttributeError(name)
        return getattr(self.optimizer, name)

    def flush(self, model: Model) -> None:
        """Step for the kept gradients the last sub-batch did not reach (a
        parameter it gave no gradient, or a task that skipped its update)."""
        if self.kept:
            model.finish_update(_Only(self))  # type: ignore[arg-type]
            self.kept.clear()


class _Only:
    """Hand the optimizer only the keys still kept (a zero gradient for the
    others is not a step: Adam would move them by momentum)."""

    def __init__(self, deferred: Deferred):
        self.deferred = deferred

    def __call__(
        self, key: Hashable, weights: Any, gradient: Any, *, lr_scale: float = 1.0
    ) -> Tuple[Any, Any]:
        if key not in self.deferred.kept:
            return weights, gradient
        gradient += self.deferred.kept.pop(key)
        return self.deferred.optimizer(key, weights, gradient, lr_scale=lr_scale)
