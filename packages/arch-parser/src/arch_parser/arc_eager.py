"""The arc-eager transition system (dependency parsing), vectorised over states.

Moves (action ids as spaCy's): SHIFT 0 ``S``, REDUCE 1 ``D``, LEFT 2 ``L-x``,
RIGHT 3 ``R-x``, BREAK 4 ``B-x``. The states of a whole batch live in a few
numpy arrays indexed by global token position (doc offset + index) or by state,
so every step (context tokens, validity, costs, transitions) is a handful of
array operations for all states at once.

Arrays over tokens have one extra last element that always holds the "none"
value, so looking up token -1 reads it (numpy's index -1 is the last element).
"""

from collections import Counter
from typing import Dict, List, Optional, Sequence, Tuple

import numpy

from .layers.transition_model import StateFeatures
from .nonproj import projectivize

SHIFT, REDUCE, LEFT, RIGHT, BREAK = range(5)
MOVE_NAMES = ("S", "D", "L", "R", "B")
ROOT = "ROOT"
BACKOFF = "dep"
INVALID_COST = 9000.0

IntArray = numpy.ndarray


class ArcEager:
    """The moves of an arc-eager parser and their class order.

    labels: {action id: {label: frequency}}, as spaCy stores them in
        ``parser/moves``; the class list is rebuilt from it by spaCy's rule.
    """

    def __init__(self, labels: Dict[int, Dict[str, int]]):
        self.labels = {int(action): dict(freqs) for action, freqs in labels.items()}
        moves: List[int] = []
        names: List[str] = []
        for action in sorted(self.labels):
            ranked = sorted(((f, label) for label, f in self.labels[action].items()), reverse=True)
            for _, label in [item for item in ranked if item[0] >= 0] + [
                item for item in ranked if item[0] < 0
            ]:
                moves.append(action)
                names.append(MOVE_NAMES[action] + (f"-{label}" if label else ""))
        self.names = names
        self.n_moves = len(names)
        self.label_names: List[str] = sorted(
            {name.split("-", 1)[1] for name in names if "-" in name}
        )
        self.label_ids = {label: i for i, label in enumerate(self.label_names)}
        self.cls_move = numpy.array(moves, dtype=numpy.int64)
        self.cls_label = numpy.array(
            [self.label_ids[n.split("-", 1)[1]] if "-" in n else -1 for n in names],
            dtype=numpy.int64,
        )
        self.left_labels = set(self.labels.get(LEFT, {}))
        self.right_labels = set(self.labels.get(RIGHT, {}))
        self.break_labels = set(self.labels.get(BREAK, {}))

    @classmethod
    def from_trees(
        cls, trees: Sequence[Tuple[Sequence[int], Sequence[str]]], min_freq: int = 0
    ) -> "ArcEager":
        """The move set for training trees (heads: 0-based, root = itself).

        min_freq: Labels seen fewer times (per action) are dropped (spaCy's
            min_action_freq); the label-less S and D moves are always kept.
        """
        actions: Dict[int, Counter] = {a: Counter() for a in range(5)}
        actions[SHIFT][""] = 1
        actions[REDUCE][""] = 1
        for heads, labels in trees:
            proj_heads, proj_labels = projectivize(heads, labels)
            for child, (head, label) in enumerate(zip(proj_heads, proj_labels)):
                if label.upper() == ROOT:
                    label = ROOT
                if head == child:
                    actions[BREAK][label] += 1
                elif head < child:
                    actions[RIGHT][label] += 1
                    actions[REDUCE][""] += 1
                else:
                    actions[LEFT][label] += 1
                    actions[SHIFT][""] += 1
        if min_freq:
            for freqs in actions.values():
                for label, freq in list(freqs.items()):
                    if freq < min_freq and label != "":
                        del freqs[label]
        actions[BREAK].setdefault(ROOT, 0)
        actions[RIGHT].setdefault(BACKOFF, 0)
        actions[LEFT].setdefault(BACKOFF, 0)
        return cls({a: dict(f) for a, f in actions.items() if f})

    def to_dict(self) -> Dict[str, Dict[str, int]]:
        return {str(a): f for a, f in self.labels.items()}

    def gold_for(self, heads: Sequence[int], labels: Sequence[str]) -> Tuple[IntArray, IntArray]:
        """Gold (heads, label ids) for one training tree: projectivised, and labels
        the move set lacks backed off to "dep" (or ROOT for roots)."""
        proj_heads, proj_labels = projectivize(heads, labels)
        ids = []
        for child, (head, label) in enumerate(zip(proj_heads, proj_labels)):
            if head == child:
                label = label if label in self.break_labels else ROOT
            elif head > child and label not in self.left_labels:
                label = BACKOFF
            elif head < child and label not in self.right_labels:
                label = BACKOFF
            ids.append(self.label_ids.get(label, -1))
        return numpy.array(proj_heads, dtype=numpy.int64), numpy.array(ids, dtype=numpy.int64)

    def init_batch(self, lengths: Sequence[int], features: StateFeatures) -> "ArcEagerBatch":
        return ArcEagerBatch(self, lengths, features)


class ArcEagerBatch:
    """The states of a batch of docs (one state per doc), as arrays."""

    def __init__(self, system: ArcEager, lengths: Sequence[int], features: StateFeatures):
        self.system = system
        self.nF = features.nF
        self.seed_ner6 = features.seed_ner6
        n = len(lengths)
        lens = numpy.asarray(lengths, dtype=numpy.int64)
        self.offsets = numpy.zeros(n, dtype=numpy.int64)
        if n:
            self.offsets[1:] = numpy.cumsum(lens)[:-1]
        self.ends = self.offsets + lens
        N = int(lens.sum())
        self.N = N
        width = max(int(lens.max()) if n else 1, 1)
        self.stack = numpy.zeros((n, width), dtype=numpy.int64)
        self.depth = numpy.zeros(n, dtype=numpy.int64)
        self.rebuf = numpy.zeros((n, width), dtype=numpy.int64)
        self.rdepth = numpy.zeros(n, dtype=numpy.int64)
        self.b_i = self.offsets.copy()
        self.heads = numpy.full(N + 1, -1, dtype=numpy.int64)
        self.labels = numpy.full(N + 1, -1, dtype=numpy.int64)
        self.last_l = numpy.full(N + 1, -1, dtype=numpy.int64)
        self.last_r = numpy.full(N + 1, -1, dtype=numpy.int64)
        self.prev = numpy.full(N + 1, -1, dtype=numpy.int64)
        self.unshiftable = numpy.zeros(N + 1, dtype=bool)
        self.sent_start = numpy.zeros(N + 1, dtype=bool)
        self.in_stack = numpy.zeros(N + 1, dtype=bool)
        self.in_rebuf = numpy.zeros(N + 1, dtype=bool)
        self.state_of = numpy.repeat(numpy.arange(n), lens)
        self.active = numpy.flatnonzero(lens > 0)
        self.gold_heads: Optional[IntArray] = None
        self._context()

    # ------------------------------------------------------------------ gold

    def set_gold(self, golds: Sequence[Optional[Tuple[IntArray, IntArray]]]) -> None:
        """Gold (local heads, label ids) per doc; None = no annotation."""
        N = self.N
        self.gold_heads = numpy.full(N + 1, -1, dtype=numpy.int64)
        self.gold_labels = numpy.full(N + 1, -1, dtype=numpy.int64)
        self.gold_sent_start = numpy.full(N + 1, -1, dtype=numpy.int64)
        for s, gold in enumerate(golds):
            start, end = int(self.offsets[s]), int(self.ends[s])
            if gold is None or start == end:
                continue
            heads, labels = gold
            self.gold_heads[start:end] = numpy.where(heads >= 0, heads + start, -1)
            self.gold_labels[start:end] = labels
            self.gold_sent_start[start:end] = 0
            self.gold_sent_start[start] = 1

    # ---------------------------------------------------------------- access

    def _context(self) -> None:
        """S0, S1, S2, B0, B1 of the active states (recomputed after each move)."""
        rows = self.active
        depth = self.depth[rows]
        stack = self.stack[rows]
        n = len(rows)
        ar = numpy.arange(n)
        self.S = []
        for i in range(3):
            idx = depth - 1 - i
            self.S.append(numpy.where(idx >= 0, stack[ar, numpy.maximum(idx, 0)], -1))
        rdepth = self.rdepth[rows]
        rebuf = self.rebuf[rows]
        b_i = self.b_i[rows]
        ends = self.ends[rows]
        self.B = []
        for i in range(2):
            main = b_i + (i - rdepth)
            main = numpy.where(main < ends, main, -1)
            ridx = rdepth - 1 - i
            self.B.append(numpy.where(ridx >= 0, rebuf[ar, numpy.maximum(ridx, 0)], main))
        self.buf_len = rdepth + (ends - b_i)
        self.cur_depth = depth

    def token_ids(self) -> IntArray:
        """(n_active, nF) int32 context-token ids (global positions, -1 = none)."""
        B0, B1 = self.B
        S0, S1, S2 = self.S
        nF = self.nF
        last_l, last_r, prev = self.last_l, self.last_r, self.prev
        if nF == 8:
            cols = [B0, B1, S0, S1, S2, last_l[B0], last_l[S0], last_r[S0]]
        elif nF == 13:
            rs0 = last_r[S0]
            ls1 = last_l[S1]
            rs1 = last_r[S1]
            cols = [
                B0, B1, S0, S1, S2, last_l[S0], rs0, last_l[B0],
                prev[rs0], ls1, prev[ls1], rs1, prev[rs1],
            ]  # fmt: skip
        elif nF == 1:
            cols = [B0]
        elif nF == 2:
            cols = [B0, S0]
        elif nF == 3:
            none = numpy.full_like(B0, -1)
            cols = [B0, none, none]
        elif nF == 6 and self.seed_ner6:
            none = numpy.full_like(B0, -1)
            start = self.offsets[self.active]
            before = numpy.where((B0 - 1 >= start) & (B0 >= 0), B0 - 1, -1)
            cols = [B0, before, B1, none, none, none]
        else:  # nF == 6, released: B0 and the open entity (never open here)
            none = numpy.full_like(B0, -1)
            cols = [B0, none, none, none, none, none]
        return numpy.stack(cols, axis=1).astype(numpy.int32)

    def is_done(self) -> bool:
        return len(self.active) == 0

    def focus(self, rows: IntArray) -> None:
        """Make exactly these (unfinished) states the active ones: the next moves
        apply to them alone (the oracle cut moves some states ahead this way)."""
        self.active = numpy.asarray(rows, dtype=numpy.int64)
        self._context()

    # -------------------------------------------------------------- validity

    def move_validity(self) -> IntArray:
        """(n_active, 5) bool: which of S, D, L, R, B each state may do."""
        B0, B1 = self.B
        depth = self.cur_depth
        buf_len = self.buf_len
        b0_ss = self.sent_start[B0]
        valid = numpy.empty((len(B0), 5), dtype=bool)
        valid[:, SHIFT] = (depth == 0) | ((buf_len >= 2) & ~b0_ss & ~self.unshiftable[B0])
        valid[:, REDUCE] = depth > 0
        arc = (depth > 0) & (buf_len > 0) & ~b0_ss
        valid[:, LEFT] = arc
        valid[:, RIGHT] = arc
        valid[:, BREAK] = (buf_len >= 2) & (B1 == B0 + 1) & ~self.sent_start[B1]
        return valid

    def valid(self) -> IntArray:
        """(n_active, n_classes) bool validity of every class."""
        return self.move_validity()[:, self.system.cls_move]

    # ----------------------------------------------------------------- costs

    def costs(self, move_valid: Optional[IntArray] = None) -> IntArray:
        """(n_active, n_classes) float32 dynamic-oracle costs (9000 = invalid)."""
        if self.gold_heads is None:
            raise ValueError("costs need gold annotation: call set_gold first")
        if move_valid is None:
            move_valid = self.move_validity()
        N = self.N
        gh = self.gold_heads
        glab = self.gold_labels
        tokens = numpy.arange(N + 1)
        known = gh >= 0
        nonroot = known & (gh != tokens)
        nonroot[N] = False
        B0, B1 = self.B
        S0, S1 = self.S[0], self.S[1]
        rows = self.active
        # The buffer region: rebuffered words and unshifted words, up to the next
        # sentence start; nothing if B0 starts a sentence.
        n_states = len(self.offsets)
        cut = self.ends.copy()
        ss_tokens = numpy.flatnonzero(self.sent_start[:N])
        if len(ss_tokens):
            owner = self.state_of[ss_tokens]
            ahead = ss_tokens >= self.b_i[owner]
            numpy.minimum.at(cut, owner[ahead], ss_tokens[ahead])
        b0_ss = numpy.zeros(n_states, dtype=bool)
        b0_ss[rows] = self.sent_start[B0]
        in_region = numpy.zeros(N + 1, dtype=bool)
        st = self.state_of
        in_region[:N] = (self.in_rebuf[:N] | (tokens[:N] >= self.b_i[st])) & (tokens[:N] < cut[st])
        in_region[:N] &= ~b0_ss[st]
        in_stack = self.in_stack
        head_in_stack = nonroot & in_stack[gh]
        head_in_buf = nonroot & in_region[gh]
        kids_in_stack = numpy.bincount(gh[in_stack & nonroot], minlength=N + 1)
        kids_in_buf = numpy.bincount(gh[in_region & nonroot], minlength=N + 1)
        gss_b1 = self.gold_sent_start[B1] == 1
        push = (head_in_stack[B0] + kids_in_stack[B0] + (move_valid[:, BREAK] & gss_b1)).astype(
            numpy.float32
        )
        push[B0 < 0] = INVALID_COST
        pop = (head_in_buf[S0] + kids_in_buf[S0]).astype(numpy.float32)
        pop[S0 < 0] = INVALID_COST
        has_head = self.heads[S0] >= 0
        saved = head_in_stack[S0].astype(numpy.float32) + kids_in_stack[S0]
        n = len(rows)
        base = numpy.empty((n, 5), dtype=numpy.float32)
        base[:, SHIFT] = push
        base[:, REDUCE] = numpy.where(self.sent_start[B0], 0.0, pop - (~has_head) * saved)
        left_hit = (B0 >= 0) & (S0 >= 0) & known[S0] & (gh[S0] == B0)
        base[:, LEFT] = pop + numpy.where(has_head, known[S0] & (gh[S0] == S1), saved) - left_hit
        right_hit = (B0 >= 0) & (S0 >= 0) & known[B0] & (gh[B0] == S0)
        base[:, RIGHT] = push + numpy.where(
            right_hit, -1.0, head_in_buf[B0] & ~self.unshiftable[B0]
        )
        # Break: arcs between the stack and B1.. that become impossible.
        stack_tokens = numpy.flatnonzero(in_stack[:N])
        owner = st[stack_tokens]
        b0_of = numpy.full(n_states, -1, dtype=numpy.int64)
        b0_of[rows] = B0
        value = (
            head_in_buf[stack_tokens].astype(numpy.float32)
            + kids_in_buf[stack_tokens]
            - (known[stack_tokens] & (gh[stack_tokens] == b0_of[owner]))
        )
        per_state = numpy.bincount(owner, weights=value, minlength=n_states)
        base[:, BREAK] = per_state[rows] - head_in_stack[B0] + (self.gold_sent_start[B1] == 0)
        cls_move = self.system.cls_move
        cls_label = self.system.cls_label
        costs = base[:, cls_move]
        is_left = cls_move == LEFT
        is_right = cls_move == RIGHT
        if is_left.any():
            wrong = left_hit[:, None] & (glab[S0][:, None] != cls_label[None, is_left])
            costs[:, is_left] += wrong
        if is_right.any():
            wrong = right_hit[:, None] & (glab[B0][:, None] != cls_label[None, is_right])
            costs[:, is_right] += wrong
        costs[~move_valid[:, cls_move]] = INVALID_COST
        return costs

    # ----------------------------------------------------------- transitions

    def apply(self, classes: IntArray) -> None:
        """Do one move per active state (classes: (n_active,) class indices)."""
        rows = self.active
        moves = self.system.cls_move[classes]
        labels = self.system.cls_label[classes]
        B0, B1 = self.B
        S0 = self.S[0]
        depth = self.cur_depth
        sel = moves == SHIFT
        if sel.any():
            self._push(rows[sel])
        sel = moves == REDUCE
        if sel.any():
            r, s0 = rows[sel], S0[sel]
            pop = (self.heads[s0] >= 0) | (depth[sel] == 1)
            self.depth[r] -= 1
            self.in_stack[s0] = False
            unshift = ~pop
            if unshift.any():
                ur, us0 = r[unshift], s0[unshift]
                self.unshiftable[us0] = True
                self.rebuf[ur, self.rdepth[ur]] = us0
                self.rdepth[ur] += 1
                self.in_rebuf[us0] = True
        sel = moves == LEFT
        if sel.any():
            r, b0, s0 = rows[sel], B0[sel], S0[sel]
            self._add_arcs(b0, s0, labels[sel])
            self.unshiftable[b0] = False
            self.depth[r] -= 1
            self.in_stack[s0] = False
        sel = moves == RIGHT
        if sel.any():
            self._add_arcs(S0[sel], B0[sel], labels[sel])
            self._push(rows[sel])
        sel = moves == BREAK
        if sel.any():
            self.sent_start[B1[sel]] = True
        done = (
            (self.depth[rows] == 0) & (self.rdepth[rows] == 0) & (self.b_i[rows] >= self.ends[rows])
        )
        if done.any():
            self.active = rows[~done]
        self._context()

    def _push(self, rows: IntArray) -> None:
        rd = self.rdepth[rows]
        from_rebuf = rd > 0
        tokens = self.b_i[rows].copy()
        if from_rebuf.any():
            rr = rows[from_rebuf]
            tokens[from_rebuf] = self.rebuf[rr, rd[from_rebuf] - 1]
            self.rdepth[rr] -= 1
            self.in_rebuf[tokens[from_rebuf]] = False
        main = rows[~from_rebuf]
        self.b_i[main] += 1
        self.stack[rows, self.depth[rows]] = tokens
        self.depth[rows] += 1
        self.in_stack[tokens] = True

    def _add_arcs(self, heads: IntArray, children: IntArray, labels: IntArray) -> None:
        old = self.heads[children]
        had = old >= 0
        if had.any():
            for head, child in zip(old[had].tolist(), children[had].tolist()):
                self._unlink(head, child)
        self.heads[children] = heads
        self.labels[children] = labels
        left = heads > children
        if left.any():
            h, c = heads[left], children[left]
            self.prev[c] = self.last_l[h]
            self.last_l[h] = c
        right = ~left
        if right.any():
            h, c = heads[right], children[right]
            self.prev[c] = self.last_r[h]
            self.last_r[h] = c

    def _unlink(self, head: int, child: int) -> None:
        """Remove child from head's (left or right) list of dependents."""
        last = self.last_l if head > child else self.last_r
        if last[head] == child:
            last[head] = self.prev[child]
        else:
            node = int(last[head])
            while node >= 0 and self.prev[node] != child:
                node = int(self.prev[node])
            if node >= 0:
                self.prev[node] = self.prev[child]
        self.prev[child] = -1

    # ---------------------------------------------------------------- output

    def result(self, s: int) -> Tuple[List[int], List[str]]:
        """Local heads and labels of doc s; headless words become roots (ROOT)."""
        start, end = int(self.offsets[s]), int(self.ends[s])
        heads = self.heads[start:end]
        labels = self.labels[start:end]
        names = self.system.label_names
        out_heads, out_labels = [], []
        for i, (head, label) in enumerate(zip(heads.tolist(), labels.tolist())):
            if head < 0:
                out_heads.append(i)
                out_labels.append(ROOT)
            else:
                out_heads.append(head - start)
                out_labels.append(ROOT if head - start == i else names[label])
        return out_heads, out_labels

    def sentence_starts(self, s: int) -> List[bool]:
        start, end = int(self.offsets[s]), int(self.ends[s])
        starts = self.sent_start[start:end].tolist()
        if starts:
            starts[0] = True
        return starts
