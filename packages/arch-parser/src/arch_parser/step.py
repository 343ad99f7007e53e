"""The step model: scores parser states from precomputed feature blocks.

``ParserStepModel(model, docs)`` runs the tok2vec and the lower layer once for
the batch (a table of (n_tokens + 1, nF, nO, nP) blocks, row 0 = padding).
Each step then scores all active states at once: gather the nF blocks of each
state's context tokens, sum them, add the bias, maxout (or ReLU), optional
dropout and the upper Linear, with unseen classes pinned to the minimum score.
Gradients of every step are kept and pushed through the lower layer and the
tok2vec in one go by ``finish_steps``.
"""

from typing import Any, List, Optional, Tuple

import numpy
from thinc.api import Model

AnyModel = Model[Any, Any]
Array = numpy.ndarray

STATE_DROPOUT = 0.1  # spaCy 3.8 hard-codes this rate on the hidden state vector


class ParserStepModel:
    """Scores the states of one batch of docs (see the module docstring).

    model: The TransitionModel (parser_model) root.
    docs: The batch.
    train: Whether gradients will be computed (enables the state dropout).
    """

    def __init__(self, model: AnyModel, docs: Any, train: bool = False):
        self.model = model
        self.train = train
        tok2vec, lower, upper = model.layers
        self.lower = lower
        self.has_upper = bool(model.attrs["has_upper"])
        self.upper = upper if self.has_upper else None
        self.features = model.attrs["state_features"]
        self.tokvecs, self.bp_tokvecs = tok2vec(docs, is_train=train)
        self.tokvecs = numpy.ascontiguousarray(self.tokvecs, dtype=numpy.float32)
        nF, nO, nP = (lower.get_dim(d) for d in ("nF", "nO", "nP"))
        self.nF, self.nO, self.nP = nF, nO, nP
        W: Any = lower.get_param("W")
        nI = W.shape[-1]
        N = self.tokvecs.shape[0]
        table = numpy.empty((N + 1, nF * nO * nP), dtype=numpy.float32)
        numpy.matmul(self.tokvecs, W.reshape((nF * nO * nP, nI)).T, out=table[1:])
        pad: Any = lower.get_param("pad")
        table[0] = pad.reshape(-1)
        # One row per (token, slot): row (t + 1) * nF + f holds token t's block for slot f.
        self.table = table.reshape(((N + 1) * nF, nO * nP))
        bias: Any = lower.get_param("b")
        self.bias = bias.reshape(-1)
        self.slot = numpy.arange(nF, dtype=numpy.int64)
        if self.upper is not None:
            self.W_up = self.upper.get_param("W")
            self.b_up = self.upper.get_param("b")
            self.n_classes = self.W_up.shape[0]
        else:
            self.n_classes = nO
        unseen = sorted(c for c in model.attrs["unseen_classes"] if c < self.n_classes)
        self.unseen = numpy.array(unseen, dtype=numpy.int64)
        self._ids: List[Array] = []
        self._d_pre: List[Array] = []
        self._d_W_up: Optional[Array] = None
        self._d_b_up: Optional[Array] = None

    # ------------------------------------------------------------- forward

    def _hidden(self, ids: Array) -> Tuple[Array, Array]:
        """Hidden vectors (n, nO) and the winning piece (or ReLU mask) per unit."""
        nF, nP = self.nF, self.nP
        rows = (ids.astype(numpy.int64) + 1) * nF + self.slot
        # the sum of the nF blocks, one contiguous gather per slot
        pre = numpy.take(self.table, rows[:, 0], axis=0)
        for f in range(1, nF):
            pre += numpy.take(self.table, rows[:, f], axis=0)
        pre += self.bias
        if nP == 1:
            mask = pre > 0
            return pre * mask, mask
        # row-major (nO, nP) blocks: piece p of every unit is the view pre[:, p::nP]
        hidden = numpy.maximum(pre[:, 0::nP], pre[:, 1::nP])
        which = (pre[:, 1::nP] > pre[:, 0::nP]).astype(numpy.int8)
        for p in range(2, nP):
            piece = pre[:, p::nP]
            which[piece > hidden] = p  # the first winning piece, as argmax gives it
            numpy.maximum(hidden, piece, out=hidden)
        return hidden, which

    def predict(self, ids: Array) -> Array:
        """Scores (n_states, n_classes) for the context-token ids (n_states, nF)."""
        hidden, _ = self._hidden(ids)
        scores = hidden @ self.W_up.T + self.b_up if self.upper is not None else hidden
        if len(self.unseen):
            scores[:, self.unseen] = numpy.nanmin(scores)
        return scores

    def begin_update(self, ids: Array) -> Tuple[Array, Any]:
        """Scores and a callback taking d_scores (it records the step's gradient)."""
        hidden, which = self._hidden(ids)
        mask = None
        if self.upper is not None:
            if self.train:
                mask = (numpy.random.uniform(0.0, 1.0, hidden.shape) >= STATE_DROPOUT).astype(
                    numpy.float32
                ) / (1.0 - STATE_DROPOUT)
                hidden = hidden * mask
            scores = hidden @ self.W_up.T + self.b_up
        else:
            scores = hidden.copy()
        if len(self.unseen):
            scores[:, self.unseen] = numpy.nanmin(scores)

        def backprop(d_scores: Array) -> None:
            if len(self.unseen):
                d_scores[:, self.unseen] = 0.0
            if self.upper is not None:
                dW = d_scores.T @ hidden
                db = d_scores.sum(axis=0)
                if self._d_W_up is None:
                    self._d_W_up, self._d_b_up = dW, db
                else:
                    self._d_W_up += dW
                    self._d_b_up += db
                d_hidden = d_scores @ self.W_up
                if mask is not None:
                    d_hidden *= mask
            else:
                d_hidden = d_scores
            self._record(ids, d_hidden, which)

        return scores, backprop

    def _record(self, ids: Array, d_hidden: Array, which: Array) -> None:
        nO, nP = self.nO, self.nP
        d_pre = numpy.zeros((d_hidden.shape[0], nO * nP), dtype=numpy.float32)
        if nP >= 2:
            for p in range(nP):
                numpy.multiply(d_hidden, which == p, out=d_pre[:, p::nP])
        else:
            numpy.multiply(d_hidden, which, out=d_pre)
        self._ids.append(ids)
        self._d_pre.append(d_pre)

    # ------------------------------------------------------------ backward

    def finish_steps(self, _: Any = None) -> Array:
        """Push the recorded step gradients through the upper, lower and tok2vec
        layers (gradients are added to the layers; call finish_update after)."""
        if self.upper is not None and self._d_W_up is not None and self._d_b_up is not None:
            d_W: Any = self._d_W_up.astype(numpy.float32)
            d_b: Any = self._d_b_up.astype(numpy.float32)
            self.upper.inc_grad("W", d_W)
            self.upper.inc_grad("b", d_b)
        nF, nO, nP = self.nF, self.nO, self.nP
        N, nI = self.tokvecs.shape
        if not self._ids:
            d_tokvecs = numpy.zeros((N, nI), dtype=numpy.float32)
            self.bp_tokvecs(d_tokvecs)
            return d_tokvecs
        ids = numpy.concatenate(self._ids).astype(numpy.int64)
        d_pre = numpy.concatenate(self._d_pre)
        # d_table[(t + 1) * nF + f] = sum of d_pre over the states that used token t in slot f.
        rows = ((ids + 1) * nF + self.slot).ravel()
        d_table = numpy.zeros(((N + 1) * nF, nO * nP), dtype=numpy.float32)
        order = numpy.argsort(rows, kind="stable")
        sorted_rows = rows[order]
        starts = numpy.flatnonzero(numpy.r_[True, sorted_rows[1:] != sorted_rows[:-1]])
        src = numpy.repeat(d_pre, nF, axis=0)[order]
        d_table[sorted_rows[starts]] = numpy.add.reduceat(src, starts, axis=0)
        d_table = d_table.reshape((N + 1, nF * nO * nP))
        lower = self.lower
        W = lower.get_param("W")
        lower.inc_grad("pad", d_table[0].reshape((1, nF, nO, nP)))
        lower.inc_grad("b", d_pre.sum(axis=0).reshape((nO, nP)))
        d_tok_table = d_table[1:]
        dW = (d_tok_table.T @ self.tokvecs).reshape((nF, nO, nP, nI))
        lower.inc_grad("W", dW)
        d_tokvecs = d_tok_table @ W.reshape((nF * nO * nP, nI))
        self.bp_tokvecs(d_tokvecs)
        return d_tokvecs


def log_loss_gradient(scores: Array, costs: Array, valid: Array) -> Array:
    """spaCy's per-state loss gradient (multi-label log loss over zero-cost moves).

    best = the highest-scoring valid move among those with cost <= min(1, the
    lowest valid cost); gold = every move costing no more than best. States with
    no such move get a zero row.
    """
    n, n_classes = scores.shape
    valid_costs = numpy.where(valid, costs, numpy.inf)
    cost_star = numpy.minimum(1.0, valid_costs.min(axis=1))
    candidate = valid & (costs <= cost_star[:, None])
    has_best = candidate.any(axis=1)
    best = numpy.where(candidate, scores, -numpy.inf).argmax(axis=1)
    ar = numpy.arange(n)
    guess = scores.argmax(axis=1)
    gold = costs <= costs[ar, best][:, None]
    exp_all = numpy.exp(scores - scores[ar, guess][:, None])
    Z = exp_all.sum(axis=1, keepdims=True) + 1e-10
    exp_gold = numpy.where(gold, numpy.exp(scores - scores[ar, best][:, None]), 0.0)
    gZ = exp_gold.sum(axis=1, keepdims=True) + 1e-10
    d = exp_all / Z - exp_gold / gZ
    d[~has_best] = 0.0
    return d.astype(numpy.float32)
