"""Greedy decoding and dynamic-oracle training of a TransitionModel.

Both loops keep every state of the batch in one ``ArcEagerBatch`` or
``BiluoBatch`` and do one vectorised step for all unfinished states at a time.
"""

from typing import Any, List, Optional, Sequence, Tuple, Union

import numpy
from thinc.api import Model

from arch_tok2vec.ops import one_blas_thread

from .arc_eager import ArcEager, ArcEagerBatch
from .biluo import BiluoBatch, BiluoSystem
from .step import ParserStepModel, log_loss_gradient

AnyModel = Model[Any, Any]
System = Union[ArcEager, BiluoSystem]
Batch = Union[ArcEagerBatch, BiluoBatch]


def check_model(model: AnyModel, system: System) -> None:
    """The model's output width must be the number of moves."""
    if "state_features" not in model.attrs:
        raise TypeError(
            "expected a spacy.TransitionBasedParser.v1 model (a parser_model root), got "
            f"a {model.name!r} model"
        )
    top = model.get_ref("upper") if model.attrs["has_upper"] else model.get_ref("lower")
    n_out = top.maybe_get_dim("nO")
    if n_out != system.n_moves:
        raise ValueError(
            f"the model has {n_out} outputs but the move set has {system.n_moves} moves; "
            "set nO to null (or to the number of moves) in the model config"
        )


def init_batch(system: System, docs: Sequence[Any], model: AnyModel) -> Batch:
    lengths = [len(doc) for doc in docs]
    features = model.attrs["state_features"]
    if isinstance(system, ArcEager):
        return system.init_batch(lengths, features)
    space = (
        numpy.array([word.isspace() for doc in docs for word in doc.words], dtype=bool)
        if docs
        else None
    )
    starts = numpy.array([s for doc in docs for s in doc.sent_starts], dtype=bool) if docs else None
    return system.init_batch(lengths, features, space, starts)


def parse(model: AnyModel, system: System, docs: Sequence[Any]) -> Batch:
    """Greedy decoding of a batch: returns the final states (see ``result``)."""
    batch = init_batch(system, docs, model)
    if batch.is_done():
        return batch
    step, _ = model(list(docs), is_train=False)
    with one_blas_thread():
        while not batch.is_done():
            scores = step.predict(batch.token_ids())
            scores[~batch.valid()] = -numpy.inf
            batch.apply(scores.argmax(axis=1))
    return batch


def update(
    model: AnyModel,
    system: System,
    docs: Sequence[Any],
    golds: Sequence[Optional[Tuple[Any, Any]]],
    sgd: Any,
) -> float:
    """One dynamic-oracle training step on a batch; returns the loss (sum of
    squared score gradients, as spaCy reports it). Each state follows the
    model's own best valid move."""
    keep = [i for i, (doc, gold) in enumerate(zip(docs, golds)) if gold is not None and len(doc)]
    if not keep:
        return 0.0
    docs = [docs[i] for i in keep]
    golds = [golds[i] for i in keep]
    batch = init_batch(system, docs, model)
    batch.set_gold(golds)
    step: ParserStepModel
    step, finish = model.begin_update(list(docs))
    unseen = model.attrs["unseen_classes"]
    loss = 0.0
    with one_blas_thread():
        while not batch.is_done():
            ids = batch.token_ids()
            scores, backprop = step.begin_update(ids)
            if isinstance(batch, ArcEagerBatch):
                move_valid = batch.move_validity()
                valid = move_valid[:, system.cls_move]
                costs = batch.costs(move_valid)
            else:
                valid = batch.valid()
                costs = batch.costs(valid)
            if unseen:
                for clas in numpy.flatnonzero((costs <= 0).any(axis=0)).tolist():
                    unseen.discard(clas)
            d_scores = log_loss_gradient(scores, costs, valid)
            loss += float((d_scores**2).sum())
            backprop(d_scores)
            scores[~valid] = -numpy.inf
            batch.apply(scores.argmax(axis=1))
        finish(None)
    model.finish_update(sgd)
    return loss


def oracle_sequence(system: System, batch: Batch) -> List[List[int]]:
    """Follow the static oracle (first valid move of least cost) to the end;
    returns the class sequence of every state (the batch must have gold)."""
    history: List[List[int]] = [[] for _ in range(len(batch.offsets))]
    while not batch.is_done():
        if isinstance(batch, ArcEagerBatch):
            move_valid = batch.move_validity()
            valid = move_valid[:, system.cls_move]
            costs = batch.costs(move_valid)
        else:
            valid = batch.valid()
            costs = batch.costs(valid)
        costs = numpy.where(valid, costs, numpy.inf)
        best = (costs <= costs.min(axis=1, keepdims=True)).argmax(axis=1)
        for row, clas in zip(batch.active.tolist(), best.tolist()):
            history[row].append(clas)
        batch.apply(best)
    return history
