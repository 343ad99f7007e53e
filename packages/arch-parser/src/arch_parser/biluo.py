"""The BILUO transition system (named entities), vectorised over states.

Moves (action ids as spaCy's): MISSING 0 (never a class), BEGIN 1 ``B-L``, IN 2
``I-L``, LAST 3 ``L-L``, UNIT 4 ``U-L`` (plus a label-less ``U-`` that is only
valid for pre-blocked tokens, so never here), OUT 5 ``O``. Every move consumes
the first buffer word. Gold annotation is one (move, label) per token, with
MISSING where the annotation is unknown (anything goes there).
"""

from collections import Counter
from typing import Dict, List, Optional, Sequence, Tuple

import numpy

from .layers.transition_model import StateFeatures

MISSING, BEGIN, IN, LAST, UNIT, OUT = range(6)
MOVE_NAMES = ("M", "B", "I", "L", "U", "O")
INVALID_COST = 9000.0

IntArray = numpy.ndarray


def split_tag(tag: str) -> Tuple[str, str]:
    """'B-PER' -> ('B', 'PER'); 'O' -> ('O', ''); '-' or '' -> ('-', '')."""
    if tag in ("", "-"):
        return "-", ""
    move, _, label = tag.partition("-")
    return move, label


def spans_to_biluo(length: int, spans: Sequence[Tuple[int, int, str]]) -> List[str]:
    """BILUO tags for entity spans (token offsets, end exclusive)."""
    tags = ["O"] * length
    for start, end, label in spans:
        if end - start == 1:
            tags[start] = f"U-{label}"
        else:
            tags[start] = f"B-{label}"
            for i in range(start + 1, end - 1):
                tags[i] = f"I-{label}"
            tags[end - 1] = f"L-{label}"
    return tags


class BiluoSystem:
    """The moves of a BILUO entity recogniser and their class order.

    labels: {action id: {label: frequency}}, as spaCy stores them.
    """

    def __init__(self, labels: Dict[int, Dict[str, int]]):
        self.labels = {int(action): dict(freqs) for action, freqs in labels.items()}
        moves: List[int] = []
        names: List[str] = []
        for action in sorted(self.labels):
            if action == MISSING:
                continue
            ranked = sorted(((f, label) for label, f in self.labels[action].items()), reverse=True)
            for _, label in [item for item in ranked if item[0] >= 0] + [
                item for item in ranked if item[0] < 0
            ]:
                moves.append(action)
                names.append("O" if action == OUT else f"{MOVE_NAMES[action]}-{label}")
        self.names = names
        self.n_moves = len(names)
        self.label_names: List[str] = sorted(
            {label for a, freqs in self.labels.items() if a != OUT for label in freqs if label}
        )
        self.label_ids = {label: i + 1 for i, label in enumerate(self.label_names)}
        self.cls_move = numpy.array(moves, dtype=numpy.int64)
        self.cls_label = numpy.array(
            [self.label_ids.get(n.split("-", 1)[1], 0) if "-" in n else 0 for n in names],
            dtype=numpy.int64,
        )

    @classmethod
    def from_entities(cls, docs_spans: Sequence[Sequence[Tuple[int, int, str]]]) -> "BiluoSystem":
        """The move set for training entities (per doc: (start, end, label) spans)."""
        actions: Dict[int, Counter] = {a: Counter() for a in (BEGIN, IN, LAST, UNIT, OUT)}
        actions[OUT][""] = 1
        actions[UNIT][""] = 1
        for spans in docs_spans:
            for start, end, label in spans:
                for action in (BEGIN, IN, LAST, UNIT):
                    actions[action][label] += end - start
        return cls({a: dict(f) for a, f in actions.items()})

    def to_dict(self) -> Dict[str, Dict[str, int]]:
        return {str(a): f for a, f in self.labels.items()}

    def gold_for(self, tags: Sequence[str]) -> Tuple[IntArray, IntArray]:
        """Gold (move, label id) per token from BILUO tags ('-' = missing).
        Labels the system does not know make the token's annotation missing."""
        moves, labels = [], []
        for tag in tags:
            move, label = split_tag(tag)
            if move == "-":
                moves.append(MISSING)
                labels.append(0)
                continue
            if move not in MOVE_NAMES:
                raise ValueError(f"not a BILUO tag: {tag!r}")
            action = MOVE_NAMES.index(move)
            if action != OUT and label not in self.label_ids:
                moves.append(MISSING)
                labels.append(0)
                continue
            moves.append(action)
            labels.append(self.label_ids.get(label, 0))
        return numpy.array(moves, dtype=numpy.int64), numpy.array(labels, dtype=numpy.int64)

    def init_batch(
        self,
        lengths: Sequence[int],
        features: StateFeatures,
        space: Optional[IntArray] = None,
        sent_start: Optional[IntArray] = None,
    ) -> "BiluoBatch":
        return BiluoBatch(self, lengths, features, space, sent_start)


class BiluoBatch:
    """The states of a batch of docs (one per doc), as arrays."""

    def __init__(
        self,
        system: BiluoSystem,
        lengths: Sequence[int],
        features: StateFeatures,
        space: Optional[IntArray] = None,
        sent_start: Optional[IntArray] = None,
    ):
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
        self.b_i = self.offsets.copy()
        self.open = numpy.zeros(n, dtype=bool)
        self.ent_start = numpy.full(n, -1, dtype=numpy.int64)
        self.ent_label = numpy.zeros(n, dtype=numpy.int64)
        self.space = numpy.zeros(N + 1, dtype=bool)
        if space is not None:
            self.space[:N] = space
        self.preset_ss = numpy.zeros(N + 1, dtype=bool)
        if sent_start is not None:
            self.preset_ss[:N] = sent_start
        self.out_move = numpy.full(N + 1, OUT, dtype=numpy.int64)
        self.out_label = numpy.zeros(N + 1, dtype=numpy.int64)
        self.active = numpy.flatnonzero(lens > 0)
        self.gold_moves: Optional[IntArray] = None
        self._context()

    def set_gold(self, golds: Sequence[Optional[Tuple[IntArray, IntArray]]]) -> None:
        N = self.N
        self.gold_moves = numpy.full(N + 1, MISSING, dtype=numpy.int64)
        self.gold_labels = numpy.zeros(N + 1, dtype=numpy.int64)
        for s, gold in enumerate(golds):
            start, end = int(self.offsets[s]), int(self.ends[s])
            if gold is None or start == end:
                continue
            self.gold_moves[start:end], self.gold_labels[start:end] = gold

    def _context(self) -> None:
        rows = self.active
        b = self.b_i[rows]
        ends = self.ends[rows]
        self.B0 = b
        self.B1 = numpy.where(b + 1 < ends, b + 1, -1)
        self.buf_len = ends - b
        self.cur_open = self.open[rows]
        self.E0 = numpy.where(self.cur_open, self.ent_start[rows], -1)
        self.cur_label = self.ent_label[rows]

    def is_done(self) -> bool:
        return len(self.active) == 0

    def focus(self, rows: IntArray) -> None:
        """Make exactly these (unfinished) states the active ones: the next moves
        apply to them alone (the oracle cut moves some states ahead this way)."""
        self.active = numpy.asarray(rows, dtype=numpy.int64)
        self._context()

    def token_ids(self) -> IntArray:
        B0, B1, E0 = self.B0, self.B1, self.E0
        nF = self.nF
        none = numpy.full_like(B0, -1)
        start = self.offsets[self.active]
        if nF == 1:
            cols = [B0]
        elif nF == 2:
            cols = [B0, none]
        elif nF == 3:
            cols = [B0, E0, numpy.where(E0 >= 0, B0 - 1, -1)]
        elif nF == 6 and self.seed_ner6:
            ends = self.ends[self.active]
            cols = [
                B0,
                numpy.where(B0 - 1 >= start, B0 - 1, -1),
                B1,
                E0,
                numpy.where((E0 >= 0) & (E0 - 1 >= start), E0 - 1, -1),
                numpy.where((E0 >= 0) & (E0 + 1 < ends), E0 + 1, -1),
            ]
        elif nF == 6:
            cols = [B0]
            for j in range(5):
                tok = E0 + j
                cols.append(numpy.where((E0 >= 0) & (tok < B0), tok, -1))
        else:  # 8 and 13: B0, B1, then stack and dependents (none in NER)
            cols = [B0, B1] + [none] * (nF - 2)
        return numpy.stack(cols, axis=1).astype(numpy.int32)

    def valid(self) -> IntArray:
        """(n_active, n_classes) bool validity of every class."""
        cls_move = self.system.cls_move
        cls_label = self.system.cls_label
        open_ = self.cur_open[:, None]
        two = (self.buf_len >= 2)[:, None]
        space0 = self.space[self.B0][:, None]
        ss1 = self.preset_ss[self.B1][:, None]
        same = self.cur_label[:, None] == cls_label[None, :]
        labelled = (cls_label != 0)[None, :]
        m = cls_move[None, :]
        valid = (
            ((m == BEGIN) & ~open_ & two & labelled & ~ss1 & ~space0)
            | ((m == IN) & open_ & same & two & labelled & ~ss1)
            | ((m == LAST) & open_ & same & labelled)
            | ((m == UNIT) & ~open_ & labelled & ~space0)
            | ((m == OUT) & ~open_)
        )
        return valid

    def costs(self, valid: Optional[IntArray] = None) -> IntArray:
        if self.gold_moves is None:
            raise ValueError("costs need gold annotation: call set_gold first")
        if valid is None:
            valid = self.valid()
        gm, gl = self.gold_moves, self.gold_labels
        g = gm[self.B0][:, None]
        glab = gl[self.B0][:, None]
        nxt = numpy.where(self.B1 >= 0, gm[self.B1], OUT)[:, None]
        E0 = self.E0
        sunk = (
            self.cur_open & (((gm[E0] != BEGIN) & (gm[E0] != UNIT)) | (gl[E0] != self.cur_label))
        )[:, None]
        m = self.system.cls_move[None, :]
        lab = self.system.cls_label[None, :]
        next_free = (nxt == OUT) | (nxt == MISSING)
        begin = numpy.where(g == MISSING, 0, numpy.where(g == BEGIN, lab != glab, 1))
        inside = numpy.select(
            [g == LAST, g == OUT, g == UNIT],
            [~(sunk & next_free), ~next_free, nxt != OUT],
            0,
        )
        last = (g == IN) & ~sunk
        unit = numpy.where(g == MISSING, 0, numpy.where(g == UNIT, lab != glab, 1))
        out = (g == BEGIN) | (g == UNIT)
        costs = numpy.select(
            [m == BEGIN, m == IN, m == LAST, m == UNIT, m == OUT],
            [begin, inside, last, unit, out],
            INVALID_COST,
        ).astype(numpy.float32)
        costs[~valid] = INVALID_COST
        return costs

    def apply(self, classes: IntArray) -> None:
        rows = self.active
        moves = self.system.cls_move[classes]
        labels = self.system.cls_label[classes]
        b = self.B0
        self.out_move[b] = moves
        self.out_label[b] = labels
        begin = moves == BEGIN
        self.open[rows[begin]] = True
        self.ent_start[rows[begin]] = b[begin]
        self.ent_label[rows[begin]] = labels[begin]
        last = moves == LAST
        self.open[rows[last]] = False
        self.b_i[rows] += 1
        done = self.b_i[rows] >= self.ends[rows]
        if done.any():
            self.active = rows[~done]
        self._context()

    def result(self, s: int) -> List[Tuple[int, int, str]]:
        """Entity spans (local start, end, label) of doc s."""
        start, end = int(self.offsets[s]), int(self.ends[s])
        names = self.system.label_names
        spans = []
        ent_start = -1
        for i, (move, label) in enumerate(
            zip(self.out_move[start:end].tolist(), self.out_label[start:end].tolist())
        ):
            if move == UNIT and label:
                spans.append((i, i + 1, names[label - 1]))
            elif move == BEGIN:
                ent_start = i
            elif move == LAST and ent_start >= 0:
                spans.append((ent_start, i + 1, names[label - 1]))
                ent_start = -1
        return spans
