"""The parsing and NER tasks for ``archs train`` / ``archs evaluate``.

Registered in the ``arch_tasks`` entry-point group::

    [task]
    @tasks = "arch.parser.v1"     # CoNLL-U in; UAS, LAS, per-label LAS
    min_action_freq = 30
    update_with_oracle_cut_size = 0

    [task]
    @tasks = "arch.ner.v1"        # IOB2/BILUO token files, UNER, JSONL; P/R/F
    strict_iob = false
    update_with_oracle_cut_size = 0

Both drive a ``spacy.TransitionBasedParser.v1`` model with the numpy runtime of
this package (arc-eager or BILUO moves, dynamic-oracle training).
"""

from collections import Counter
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple, cast

from thinc.api import Model

from arch_tok2vec import CorpusError, Doc, Example, Task
from arch_tok2vec.conllu import read_conllu
from arch_tok2vec.validation import check_bool, check_int, check_label

from . import arc_eager, biluo
from .arc_eager import ROOT, ArcEager, ArcEagerBatch
from .biluo import BiluoBatch, BiluoSystem, spans_to_biluo
from .corpora import read_ner
from .nonproj import TreeError, check_tree, deprojectivize
from .runtime import check_model, parse, update

AnyModel = Model[Any, Any]
PUNCT = ("punct", "p")

ARC_EAGER_MOVES = {action: arc_eager.MOVE_NAMES[action] for action in range(5)}
"""The actions of the arc-eager system (SHIFT, REDUCE, LEFT, RIGHT, BREAK), by name."""
ARC_EAGER_LABEL_LESS = (arc_eager.SHIFT, arc_eager.REDUCE)
BILUO_MOVES = {
    action: biluo.MOVE_NAMES[action]
    for action in (biluo.BEGIN, biluo.IN, biluo.LAST, biluo.UNIT, biluo.OUT)
}
"""The actions of the BILUO system that are classes (MISSING is not), by name."""
BILUO_LABEL_LESS = (biluo.OUT,)
BILUO_BLANK_TOO = (biluo.UNIT,)
"""UNIT holds a label-less "U-" move beside its labelled ones (never valid)."""


class ParserTask(Task):
    """Dependency parsing with the arc-eager system.

    min_action_freq: Labels seen fewer times in training (per move) are dropped;
        their arcs are learned with the backoff label "dep" (spaCy's default 30).
    update_with_oracle_cut_size: Training only: cut docs whose oracle needs more
        moves than about this many into segments, each trained from the state the
        oracle reaches (spaCy's setting of that name); 0: train whole docs.
    """

    name = "parser"
    sample_files = ("arch_parser", "parser-train.conllu", "parser-dev.conllu")
    score_key = "las"
    metrics = ("las", "uas", "las_no_punct")
    provides = ("parse",)

    def __init__(self, min_action_freq: int = 30, update_with_oracle_cut_size: int = 0):
        self.min_action_freq = check_int("min_action_freq", min_action_freq, minimum=0)
        self.oracle_cut = check_int(
            "update_with_oracle_cut_size", update_with_oracle_cut_size, minimum=0
        )
        self.moves: Optional[ArcEager] = None
        self.root_label = "root"

    def read(self, path: Path) -> List[Example]:
        examples = []
        for sentence in read_conllu(path):
            heads, deps = [], []
            n = len(sentence.words)
            for word in sentence.words:
                if word.head is None:
                    raise CorpusError(path, word.line, "no HEAD (the parser needs full trees)")
                if word.head > n:
                    raise CorpusError(
                        path, word.line, f"HEAD {word.head} is outside the sentence (1..{n})"
                    )
                if not word.deprel or word.deprel == "_":
                    raise CorpusError(path, word.line, "no DEPREL")
                heads.append(word.head - 1 if word.head else -1)
                deps.append(word.deprel)
            heads = [i if head == -1 else head for i, head in enumerate(heads)]
            try:
                check_tree(heads)
            except TreeError as err:
                raise CorpusError(path, sentence.line, f"not a tree: {err}") from None
            doc = Doc([w.form for w in sentence.words], [w.space_after for w in sentence.words])
            examples.append(Example(doc, {"heads": heads, "deps": deps, "line": sentence.line}))
        return examples

    def initialize(self, model: AnyModel, examples: Sequence[Example]) -> None:
        trees = [(eg.gold["heads"], eg.gold["deps"]) for eg in examples]
        self.moves = ArcEager.from_trees(trees, min_freq=self.min_action_freq)
        roots = Counter(
            dep for heads, deps in trees for i, (h, dep) in enumerate(zip(heads, deps)) if h == i
        )
        self.root_label = roots.most_common(1)[0][0] if roots else "root"
        model.attrs["resize_output"](model, self.moves.n_moves)
        check_model(model, self.moves)
        model.initialize(X=[eg.doc for eg in examples[:16]])

    def update(self, model: AnyModel, examples: Sequence[Example], sgd: Any) -> float:
        moves = self._moves()
        golds = [moves.gold_for(eg.gold["heads"], eg.gold["deps"]) for eg in examples]
        return update(model, moves, [eg.doc for eg in examples], golds, sgd, self.oracle_cut)

    def _moves(self) -> ArcEager:
        if self.moves is None:
            raise ValueError("the parser task has no moves yet: initialize or load it first")
        return self.moves

    def predict(self, model: AnyModel, docs: Sequence[Any]) -> List[Dict[str, Any]]:
        moves = self._moves()
        batch = cast(ArcEagerBatch, parse(model, moves, docs))
        out = []
        for s in range(len(docs)):
            heads, labels = batch.result(s)
            heads, labels = deprojectivize(heads, labels)
            labels = [self.root_label if label == ROOT else label for label in labels]
            out.append({"heads": heads, "deps": labels, "sent_starts": batch.sentence_starts(s)})
        return out

    def annotate(self, docs: Any, predictions: Any) -> None:
        """Set heads and deps on the docs (ours or spaCy's), and the sentences they
        imply: a sentence per tree, as spaCy derives them (the predicted sentences,
        split where one holds several roots)."""
        from arch_tok2vec.annotations import set_parse

        for doc, pred in zip(docs, predictions):
            set_parse(doc, pred["heads"], pred["deps"])

    def record(self, doc: Any) -> Dict[str, Any]:
        """``{"heads": [...], "deps": [...], "sents": [...]}``: each token's head (its
        index in the Doc; a root is its own head), its arc label, and the index of
        the first token of each sentence."""
        from arch_tok2vec.annotations import parse, sentence_starts

        heads, deps = parse(doc)
        return {"heads": heads, "deps": deps, "sents": sentence_starts(doc)}

    def conllu(self, doc: Any) -> Dict[str, List[str]]:
        """The HEAD and DEPREL columns."""
        from arch_tok2vec.annotations import conllu_heads, parse

        return {"HEAD": conllu_heads(doc), "DEPREL": parse(doc)[1]}

    def score(self, examples: Sequence[Example], predictions: Sequence[Any]) -> Dict[str, Any]:
        return score_parse(
            [(eg.gold["heads"], eg.gold["deps"]) for eg in examples],
            [(p["heads"], p["deps"]) for p in predictions],
        )

    def check(self, examples: Sequence[Example], path: Path) -> None:
        """Labels never seen in training are allowed: their arcs can only be
        scored wrong (see ``unknown_label_words`` in the scores)."""

    def to_dict(self) -> Dict[str, Any]:
        return {
            "min_action_freq": self.min_action_freq,
            "root_label": self.root_label,
            "moves": self._moves().to_dict(),
        }

    def from_dict(self, data: Dict[str, Any]) -> "ParserTask":
        """Restore the settings and the move set; ValueError naming the key if
        min_action_freq is not an integer >= 0, root_label not a non-empty string or
        the moves not those of the arc-eager system (``check_moves``)."""
        min_action_freq = check_int("min_action_freq", data["min_action_freq"], minimum=0)
        root_label = check_label("root_label", data["root_label"])
        moves = check_moves(data["moves"], ARC_EAGER_MOVES, label_less=ARC_EAGER_LABEL_LESS)
        self.min_action_freq, self.root_label = min_action_freq, root_label
        self.moves = ArcEager(moves)
        return self


def score_parse(
    golds: Sequence[Tuple[Sequence[int], Sequence[str]]],
    guesses: Sequence[Tuple[Sequence[int], Sequence[str]]],
) -> Dict[str, Any]:
    """UAS, LAS (labels compared case-insensitively, punctuation included), LAS
    without punctuation, and LAS per gold label."""
    total = uas = las = 0
    total_np = las_np = 0
    per_label: Dict[str, List[int]] = {}
    for (gh, gd), (ph, pd) in zip(golds, guesses):
        for g_head, g_dep, p_head, p_dep in zip(gh, gd, ph, pd):
            head_ok = g_head == p_head
            label_ok = head_ok and g_dep.lower() == p_dep.lower()
            total += 1
            uas += head_ok
            las += label_ok
            if g_dep.lower() not in PUNCT:
                total_np += 1
                las_np += label_ok
            counts = per_label.setdefault(g_dep, [0, 0])
            counts[0] += label_ok
            counts[1] += 1
    return {
        "las": las / total if total else 0.0,
        "uas": uas / total if total else 0.0,
        "las_no_punct": las_np / total_np if total_np else 0.0,
        "words": total,
        "per_label_las": {label: c / n for label, (c, n) in sorted(per_label.items())},
    }


class NerTask(Task):
    """Named-entity recognition with the BILUO system.

    strict_iob: Reject an I- tag that does not continue an entity of its type
        (false: it starts a new entity, as conlleval reads it).
    update_with_oracle_cut_size: Training only: cut docs longer than about this
        many words into segments, each trained from the state the oracle reaches
        (spaCy's setting of that name); 0: train whole docs.
    """

    name = "ner"
    sample_files = ("arch_parser", "ner-train.iob", "ner-dev.iob")
    score_key = "ents_f"
    metrics = ("ents_f", "ents_p", "ents_r")
    provides = ("ents",)

    def __init__(self, strict_iob: bool = False, update_with_oracle_cut_size: int = 0):
        self.strict_iob = check_bool("strict_iob", strict_iob)
        self.oracle_cut = check_int(
            "update_with_oracle_cut_size", update_with_oracle_cut_size, minimum=0
        )
        self.moves: Optional[BiluoSystem] = None

    def read(self, path: Path) -> List[Example]:
        return [
            Example(doc, {"spans": spans, "line": line})
            for doc, spans, line in read_ner(path, self.strict_iob)
        ]

    def initialize(self, model: AnyModel, examples: Sequence[Example]) -> None:
        self.moves = BiluoSystem.from_entities([eg.gold["spans"] for eg in examples])
        model.attrs["resize_output"](model, self.moves.n_moves)
        check_model(model, self.moves)
        model.initialize(X=[eg.doc for eg in examples[:16]])

    def _moves(self) -> BiluoSystem:
        if self.moves is None:
            raise ValueError("the NER task has no moves yet: initialize or load it first")
        return self.moves

    def update(self, model: AnyModel, examples: Sequence[Example], sgd: Any) -> float:
        moves = self._moves()
        golds = [moves.gold_for(spans_to_biluo(len(eg.doc), eg.gold["spans"])) for eg in examples]
        return update(model, moves, [eg.doc for eg in examples], golds, sgd, self.oracle_cut)

    def predict(self, model: AnyModel, docs: Sequence[Any]) -> List[List[Tuple[int, int, str]]]:
        moves = self._moves()
        batch = cast(BiluoBatch, parse(model, moves, docs))
        return [batch.result(s) for s in range(len(docs))]

    def annotate(self, docs: Any, predictions: Any) -> None:
        """Set the entity spans on the docs (ours or spaCy's), and mark their
        mentions as given: an entity linker after this model links these
        entities, and none where it found none."""
        from arch_tok2vec.annotations import set_ents

        for doc, spans in zip(docs, predictions):
            set_ents(doc, [(start, end, label, "") for start, end, label in spans])

    def record(self, doc: Any) -> Dict[str, Any]:
        """``{"ents": [{"start", "end", "start_char", "end_char", "label", "text"}]}``:
        token and character offsets of each entity (ends exclusive)."""
        from arch_tok2vec.annotations import entity_records

        return {"ents": entity_records(doc, with_kb_id=False)}

    def conllu(self, doc: Any) -> Dict[str, List[str]]:
        """MISC items ``NER=B-LABEL`` / ``NER=I-LABEL`` on the tokens of entities."""
        misc = [""] * len(doc)
        for span in doc.ents:
            for i in range(span.start, span.end):
                misc[i] = f"NER={'B' if i == span.start else 'I'}-{span.label_}"
        return {"MISC": misc}

    def score(self, examples: Sequence[Example], predictions: Sequence[Any]) -> Dict[str, Any]:
        return score_ents([eg.gold["spans"] for eg in examples], predictions)

    def check(self, examples: Sequence[Example], path: Path) -> None:
        """Refuse entity labels training never saw (the model cannot predict them,
        so scoring them would only measure their absence): CorpusError naming
        the file, the line of the first one and every such label."""
        if self.moves is None:
            return
        known = set(self.moves.label_names)
        unseen: Counter = Counter()
        first_line = 0
        for eg in examples:
            for _, _, label in eg.gold["spans"]:
                if label not in known:
                    if not unseen:
                        first_line = int(eg.gold.get("line") or 0)
                    unseen[label] += 1
        if unseen:
            listed = ", ".join(f"{label!r} ({n})" for label, n in sorted(unseen.items()))
            raise CorpusError(
                path,
                first_line,
                f"entity labels the model never saw in training: {listed}; "
                f"it knows {', '.join(sorted(known)) or 'no labels'}",
            )

    def to_dict(self) -> Dict[str, Any]:
        return {"strict_iob": self.strict_iob, "moves": self._moves().to_dict()}

    def from_dict(self, data: Dict[str, Any]) -> "NerTask":
        """Restore the setting and the move set; ValueError naming the key if
        strict_iob is not a boolean or the moves not those of the BILUO system
        (``check_moves``)."""
        strict_iob = check_bool("strict_iob", data["strict_iob"])
        moves = check_moves(
            data["moves"], BILUO_MOVES, label_less=BILUO_LABEL_LESS, blank_too=BILUO_BLANK_TOO
        )
        self.strict_iob = strict_iob
        self.moves = BiluoSystem(moves)
        return self


def check_moves(
    value: Any,
    actions: Mapping[int, str],
    label_less: Sequence[int] = (),
    blank_too: Sequence[int] = (),
) -> Dict[int, Dict[str, int]]:
    """A saved move set, ``{"action id": {label: frequency}}`` as ``to_dict`` writes
    it, checked and keyed by int: ValueError naming the key ("moves" or
    "moves.<action id>") unless it holds exactly the system's actions, each with
    integer frequencies of string labels, "" alone for an action without labels, and
    non-empty labels for the others. (Without SHIFT or REDUCE, a state can have no
    valid move: the parser then applies an invalid one and fails at prediction time.)

    value: What task.json holds under "moves".
    actions: The system's actions, {action id: move name}.
    label_less: The actions that take no label.
    blank_too: The labelled actions that may also hold the label "".
    """
    listed = ", ".join(f"{action} ({name})" for action, name in actions.items())
    if not isinstance(value, dict):
        raise ValueError(f"moves must be an object of actions {listed}, got {value!r:.60}")
    if set(value) != {str(action) for action in actions}:
        got = sorted(map(str, value))
        raise ValueError(f"moves must hold exactly the actions {listed}, got {got!r:.200}")
    moves: Dict[int, Dict[str, int]] = {}
    for action, name in actions.items():
        labels = value[str(action)]
        where = f"moves.{action} ({name})"
        if not isinstance(labels, dict):
            raise ValueError(f"{where} must be an object of label frequencies")
        for label, freq in labels.items():
            if not isinstance(label, str):
                raise ValueError(f"{where}: a label must be a string, got {label!r:.60}")
            if isinstance(freq, bool) or not isinstance(freq, int):
                raise ValueError(
                    f"{where}: the frequency of {label!r:.60} must be an integer, got {freq!r:.60}"
                )
        if action in label_less:
            if list(labels) != [""]:
                raise ValueError(
                    f'{where} takes no label: it must be {{"": frequency}}, got the labels '
                    f"{sorted(labels)!r:.200}"
                )
        elif "" in labels and action not in blank_too:
            raise ValueError(f"{where} has an empty label; its labels must be non-empty")
        moves[action] = dict(labels)
    return moves


def score_ents(
    golds: Sequence[Sequence[Tuple[int, int, str]]],
    guesses: Sequence[Sequence[Tuple[int, int, str]]],
) -> Dict[str, Any]:
    """Exact-match entity precision, recall and F, overall and per label."""
    counts: Dict[str, List[int]] = {}  # label -> [true positives, guessed, gold]
    for gold, guess in zip(golds, guesses):
        gold_set = {(s[0], s[1], s[2]) for s in gold}
        guess_set = {(s[0], s[1], s[2]) for s in guess}
        for span in gold_set:
            counts.setdefault(span[2], [0, 0, 0])[2] += 1
        for span in guess_set:
            row = counts.setdefault(span[2], [0, 0, 0])
            row[1] += 1
            row[0] += span in gold_set

    def prf(tp: int, guessed: int, gold: int) -> Dict[str, float]:
        p = tp / guessed if guessed else 0.0
        r = tp / gold if gold else 0.0
        return {"p": p, "r": r, "f": 2 * p * r / (p + r) if p + r else 0.0}

    tp = sum(c[0] for c in counts.values())
    guessed = sum(c[1] for c in counts.values())
    gold_n = sum(c[2] for c in counts.values())
    overall = prf(tp, guessed, gold_n)
    return {
        "ents_p": overall["p"],
        "ents_r": overall["r"],
        "ents_f": overall["f"],
        "entities": gold_n,
        "per_label": {label: prf(*c) for label, c in sorted(counts.items())},
    }


def parser_task(min_action_freq: int = 30, update_with_oracle_cut_size: int = 0) -> ParserTask:
    """The dependency-parsing task (see ParserTask).

    min_action_freq: Labels seen fewer times in training (per move) are dropped;
        their arcs are learned with the backoff label "dep" (spaCy's default 30).
    update_with_oracle_cut_size: Training only: cut docs whose oracle needs more
        moves than about this many into segments, each trained from the state the
        oracle reaches (spaCy's setting of that name); 0: train whole docs.
    """
    return ParserTask(min_action_freq, update_with_oracle_cut_size)


def ner_task(strict_iob: bool = False, update_with_oracle_cut_size: int = 0) -> NerTask:
    """The named-entity task (see NerTask).

    strict_iob: Reject an I- tag that does not continue an entity of its type
        (false: it starts a new entity, as conlleval reads it).
    update_with_oracle_cut_size: Training only: cut docs longer than about this
        many words into segments, each trained from the state the oracle reaches
        (spaCy's setting of that name); 0: train whole docs.
    """
    return NerTask(strict_iob, update_with_oracle_cut_size)
