"""Greedy decoding and dynamic-oracle training of a TransitionModel.

Both loops keep every state of the batch in one ``ArcEagerBatch`` or
``BiluoBatch`` and do one vectorised step for all unfinished states at a time.
"""

import random
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

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
    oracle_cut: int = 0,
) -> float:
    """One dynamic-oracle training step on a batch; returns the loss (sum of
    squared score gradients, as spaCy reports it). Each state follows the
    model's own best valid move.

    oracle_cut: spaCy's update_with_oracle_cut_size: 0 trains every doc from its
        first move to its last; N > 0 draws a length M from [N // 2, 2N) for the
        update, cuts each doc whose oracle needs more than M moves into segments
        that start where the oracle stands after 0, M, 2M, ... moves, and trains
        every state (segment or whole doc) for at most M moves.
    """
    keep = [i for i, (doc, gold) in enumerate(zip(docs, golds)) if gold is not None and len(doc)]
    if not keep:
        return 0.0
    docs = [docs[i] for i in keep]
    golds = [golds[i] for i in keep]
    max_moves = 0
    if oracle_cut:
        max_moves = int(random.uniform(max(oracle_cut // 2, 1), oracle_cut * 2))
        batch, remap = cut_batch(system, model, docs, golds, max_moves)
    else:
        batch = init_batch(system, docs, model)
        batch.set_gold(golds)
        remap = None
    step: ParserStepModel
    step, finish = model.begin_update(list(docs))
    unseen = model.attrs["unseen_classes"]
    loss = 0.0
    n_moves = 0
    with one_blas_thread():
        while not batch.is_done() and (not max_moves or n_moves < max_moves):
            ids = batch.token_ids()
            if remap is not None:
                ids = remap[ids]
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
            n_moves += 1
        finish(None)
    model.finish_update(sgd)
    return loss


def cut_batch(
    system: System,
    model: AnyModel,
    docs: Sequence[Any],
    golds: Sequence[Optional[Tuple[Any, Any]]],
    max_moves: int,
) -> Tuple[Batch, Any]:
    """The states of an oracle-cut update: one per doc whose oracle needs at most
    ``max_moves`` moves, and one per segment of ``max_moves`` oracle moves of the
    others, moved along the oracle to the segment's start. Returns the batch (gold
    set) and the map from its token positions to those of ``docs`` (the step
    model scores the docs once; a segment reads its doc's rows), with -1 kept.
    """
    # A doc of n words needs at least n moves (BILUO: exactly n; arc-eager: about 2n).
    candidates = [i for i, doc in enumerate(docs) if 2 * len(doc) > max_moves]
    sequences: Dict[int, List[int]] = {}
    if candidates:
        probe = init_batch(system, [docs[i] for i in candidates], model)
        probe.set_gold([golds[i] for i in candidates])
        for i, sequence in zip(candidates, oracle_sequence(system, probe)):
            if len(sequence) > max_moves:
                sequences[i] = sequence
    owners: List[int] = []
    starts: List[int] = []
    for i in range(len(docs)):
        n_segments = (len(sequences[i]) - 1) // max_moves + 1 if i in sequences else 1
        for k in range(n_segments):
            owners.append(i)
            starts.append(k * max_moves)
    batch = init_batch(system, [docs[i] for i in owners], model)
    batch.set_gold([golds[i] for i in owners])
    ahead = numpy.array(starts, dtype=numpy.int64)
    for t in range(int(ahead.max()) if len(ahead) else 0):
        rows = numpy.flatnonzero(ahead > t)
        batch.focus(rows)
        batch.apply(numpy.array([sequences[owners[r]][t] for r in rows.tolist()]))
    batch.focus(numpy.arange(len(owners)))
    doc_offsets = numpy.cumsum([0] + [len(doc) for doc in docs])
    remap = numpy.concatenate(
        [numpy.arange(len(docs[i])) + doc_offsets[i] for i in owners] + [numpy.array([-1])]
    ).astype(numpy.int32)
    return batch, remap


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
