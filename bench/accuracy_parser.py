"""Accuracy of arch's parser and NER against spaCy's, same architecture, seed
and time budget, trained in the same process.

* parser: UD English EWT train -> dev, ``spacy.TransitionBasedParser.v1``
  (parser, hidden_width 64, maxout_pieces 2) over ``spacy.HashEmbedCNN.v1``
  (width 96, depth 4, embed_size 2000, window 1, 3 pieces, subwords);
* ner: WNUT17 train -> dev, the same with state_type ner.

Ours runs arch-parser's numpy runtime; spaCy's is its own ``parser``/``ner``
component built from the same config with arch's entry points hidden (so the
names resolve to spacy-legacy and spaCy core). Both use thinc's Adam (lr 0.001),
batches of the same documents in the same order, dropout 0.1,
min_action_freq 30, and are scored with the same scorer on the raw (not
averaged) weights. Training alternates in slices (ours, spaCy, spaCy, ours, ...)
until each side used its budget.

Both sides are scored on dev every ``--eval-every`` seconds of their budget
(scoring time is not counted), as ``spacy train`` scores each checkpoint: the
record gives the final scores, the best checkpoint of each side (what
``spacy train`` would keep as model-best) and the whole curve with the epochs
each side had reached. Since ours trains faster, at the same time it is further
along; on a small set such as WNUT17, where dev F peaks early and then falls as
the model overfits, the final score alone compares two different points of
that curve.

    python bench/accuracy_parser.py --out /tmp/acc.json [--quick] [--budget 600]
"""

from common import DATA, TOK2VEC_V1, parser_v1, spacy_names  # noqa: I001  (first: pins the thread pools)

import argparse  # noqa: E402
import json  # noqa: E402
import random  # noqa: E402
import time  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any, Callable, Dict, List, Sequence  # noqa: E402

import numpy  # noqa: E402
from thinc.api import Adam, fix_random_seed, set_dropout_rate  # noqa: E402

from arch_parser.task import NerTask, ParserTask, score_ents, score_parse  # noqa: E402
from arch_tok2vec.architectures.tok2vec import HashEmbedCNN  # noqa: E402
from arch_parser import TransitionBasedParser  # noqa: E402
from arch_parser.biluo import spans_to_biluo  # noqa: E402

SEED = 0
BATCH_DOCS = 64
DROPOUT = 0.1
SLICE = 30.0


class Side:
    """One trainer: ``run(seconds)`` trains for about that long."""

    def __init__(self, batches: List[Sequence[int]], step: Callable[[Sequence[int]], None]):
        self.batches = batches
        self.step = step
        self.used = 0.0
        self.position = 0
        self.docs = 0  # training documents seen

    def run(self, seconds: float) -> None:
        start = time.perf_counter()
        while time.perf_counter() - start < seconds:
            batch = self.batches[self.position]
            self.step(batch)
            self.docs += len(batch)
            self.position = (self.position + 1) % len(self.batches)
        self.used += time.perf_counter() - start


def train_both(
    ours: Side, theirs: Side, budget: float, every: float, score: Callable[[], Dict[str, Any]]
) -> List[Dict[str, Any]]:
    """Train both sides in alternating slices; every ``every`` seconds of each side's
    budget (and at the end) call ``score`` and collect its results: the curve."""
    curve = []
    turn = 0
    mark = min(every, budget)
    while True:
        while ours.used < mark or theirs.used < mark:
            order = [ours, theirs] if turn % 2 == 0 else [theirs, ours]
            for side in order:
                left = mark - side.used
                if left > 0:
                    side.run(min(SLICE, left))
            turn += 1
        curve.append({"seconds": round(mark), **score()})
        if mark >= budget:
            return curve
        mark = min(mark + every, budget)


def epochs(side: Side, n_train: int) -> float:
    """Passes over the training set so far."""
    return round(side.docs / n_train, 2)


def summary(curve: List[Dict[str, Any]], key: str) -> Dict[str, Any]:
    """Final and best checkpoint of each side, by ``key``."""
    out: Dict[str, Any] = {}
    for who in ("ours", "spacy"):
        best = max(curve, key=lambda point: point[who][key])
        out[who] = {
            "final": curve[-1][who][key],
            "best": best[who][key],
            "best_at_seconds": best["seconds"],
            "best_at_epochs": best[f"{who}_epochs"],
            "final_epochs": curve[-1][f"{who}_epochs"],
        }
    return out


def make_batches(n: int, epochs: int = 50) -> List[Sequence[int]]:
    rng = random.Random(SEED)
    out: List[Sequence[int]] = []
    for _ in range(epochs):
        order = list(range(n))
        rng.shuffle(order)
        out.extend(order[i : i + BATCH_DOCS] for i in range(0, n, BATCH_DOCS))
    return out


def run_parser(budget: float, every: float, quick: bool) -> Dict[str, Any]:
    task = ParserTask(min_action_freq=30)
    ud = DATA / "ud_english_ewt"
    return compare(
        Case(
            name="parser UD EWT dev",
            unit="LAS",
            keys=("las", "uas", "las_no_punct"),
            pipe="parser",
            pipe_config={"min_action_freq": 30},
            spacy_gold=lambda eg: {"heads": eg.gold["heads"], "deps": eg.gold["deps"]},
            gold=lambda eg: (eg.gold["heads"], eg.gold["deps"]),
            ours_guess=lambda guess: (guess["heads"], guess["deps"]),
            spacy_guess=lambda doc: ([t.head.i for t in doc], [t.dep_ for t in doc]),
            scorer=score_parse,
            notes="LAS/UAS over all words incl. punctuation, labels case-insensitive",
        ),
        task,
        task.read(ud / "en_ewt-ud-train.conllu"),
        task.read(ud / "en_ewt-ud-dev.conllu"),
        budget,
        every,
        quick,
    )


def run_ner(budget: float, every: float, quick: bool) -> Dict[str, Any]:
    task = NerTask()
    return compare(
        Case(
            name="ner WNUT17 dev",
            unit="F",
            keys=("ents_f", "ents_p", "ents_r"),
            pipe="ner",
            pipe_config={},
            spacy_gold=lambda eg: {"entities": spans_to_biluo(len(eg.doc), eg.gold["spans"])},
            gold=lambda eg: eg.gold["spans"],
            ours_guess=lambda guess: guess,
            spacy_guess=lambda doc: [(e.start, e.end, e.label_) for e in doc.ents],
            scorer=score_ents,
            notes="exact-match entity P/R/F",
        ),
        task,
        task.read(DATA / "wnut17" / "wnut17train.conll"),
        task.read(DATA / "wnut17" / "emerging.dev.conll"),
        budget,
        every,
        quick,
    )


@dataclass
class Case:
    """What differs between the parser and the NER comparison."""

    name: str
    unit: str
    keys: Sequence[str]  # scores recorded; the first one picks the best checkpoint
    pipe: str  # spaCy's component (its state_type is ours)
    pipe_config: Dict[str, Any]
    spacy_gold: Callable[[Any], Dict[str, Any]]  # our example -> spaCy's annotations
    gold: Callable[[Any], Any]  # our example -> what the scorer compares
    ours_guess: Callable[[Any], Any]  # one of our task's predictions -> the same
    spacy_guess: Callable[[Any], Any]  # one of spaCy's annotated Docs -> the same
    scorer: Callable[[List[Any], List[Any]], Dict[str, Any]]
    notes: str


def compare(
    case: Case, task: Any, train: List[Any], dev: List[Any], budget: float, every: float,
    quick: bool,
) -> Dict[str, Any]:  # fmt: skip
    """Train ours and spaCy's component on ``train`` with the same config, seed,
    batches and budget; score both on ``dev`` every ``every`` seconds."""
    if quick:
        train, dev = train[:600], dev[:200]
    fix_random_seed(SEED)
    model = TransitionBasedParser(HashEmbedCNN(**TOK2VEC_V1), **_arch_args(case.pipe))
    task.initialize(model, train)
    set_dropout_rate(model, DROPOUT)
    opt = Adam(0.001)
    batches = make_batches(len(train))

    def ours_step(batch: Sequence[int]) -> None:
        task.update(model, [train[i] for i in batch], opt)

    with spacy_names():
        import spacy
        from spacy.tokens import Doc as SpacyDoc
        from spacy.training import Example as SpacyExample

        fix_random_seed(SEED)
        nlp = spacy.blank("en")
        config = {"model": parser_v1(case.pipe), **case.pipe_config}
        pipe = nlp.add_pipe(case.pipe, config=config)
        sp_train = [
            SpacyExample.from_dict(
                SpacyDoc(nlp.vocab, words=eg.doc.words, spaces=eg.doc.spaces), case.spacy_gold(eg)
            )
            for eg in train
        ]
        nlp.initialize(lambda: sp_train)
        sp_opt = Adam(0.001)

    def spacy_step(batch: Sequence[int]) -> None:
        with spacy_names():
            pipe.update([sp_train[i] for i in batch], drop=DROPOUT, sgd=sp_opt)

    ours, theirs = Side(batches, ours_step), Side(batches, spacy_step)
    golds = [case.gold(eg) for eg in dev]

    def score() -> Dict[str, Any]:
        guesses = [case.ours_guess(g) for g in task.predict(model, [eg.doc for eg in dev])]
        with spacy_names():
            docs = [SpacyDoc(nlp.vocab, words=eg.doc.words, spaces=eg.doc.spaces) for eg in dev]
            sp_guesses = [case.spacy_guess(doc) for doc in pipe.pipe(docs, batch_size=128)]
        return {
            "ours": _pick(case.scorer(golds, guesses), case.keys),
            "spacy": _pick(case.scorer(golds, sp_guesses), case.keys),
            "ours_epochs": epochs(ours, len(train)),
            "spacy_epochs": epochs(theirs, len(train)),
        }

    curve = train_both(ours, theirs, budget, every, score)
    best = summary(curve, case.keys[0])
    return {
        "group": "accuracy",
        "name": case.name + (" (quick: 600 train / 200 dev)" if quick else ""),
        "unit": case.unit,
        "ours": curve[-1]["ours"],
        "spacy": curve[-1]["spacy"],
        "checkpoints": best,
        "curve": curve,
        "budget_seconds": budget,
        "notes": (
            f"TransitionBasedParser.v1 {case.pipe} (extra_state_tokens false) hidden 64 pieces 2 "
            f"over HashEmbedCNN.v1 96x4; batch {BATCH_DOCS} sentences, Adam 0.001, dropout 0.1, "
            f"seed {SEED}; epochs ours {epochs(ours, len(train))}, spaCy "
            f"{epochs(theirs, len(train))}; {case.notes}; dev scored every {every:g} s of each "
            f"side's budget; {_best_note(best)}"
        ),
    }


def _best_note(best: Dict[str, Any]) -> str:
    return "best checkpoint " + ", ".join(
        f"{who} {b['best']} at {b['best_at_epochs']} epochs"
        for who, b in (("ours", best["ours"]), ("spaCy", best["spacy"]))
    )


def _arch_args(state_type: str) -> Dict[str, Any]:
    cfg = parser_v1(state_type)
    return {k: cfg[k] for k in ("state_type", "extra_state_tokens", "hidden_width",
                                "maxout_pieces", "use_upper", "nO")}  # fmt: skip


def _pick(scores: Dict[str, Any], keys: Sequence[str]) -> Dict[str, float]:
    return {k: round(float(scores[k]) * 100, 2) for k in keys}


def main() -> None:
    global SEED
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--budget", type=float, default=600.0, help="seconds per side, parser")
    parser.add_argument("--ner-budget", type=float, default=None, help="default: --budget")
    parser.add_argument("--case", choices=["parser", "ner"], action="append")
    parser.add_argument("--seed", type=int, default=0, help="random seed of both sides")
    parser.add_argument(
        "--eval-every", type=float, default=60.0, help="score dev every this many seconds"
    )
    args = parser.parse_args()
    SEED = args.seed
    numpy.random.seed(SEED)
    budget = 20.0 if args.quick else args.budget
    ner_budget = 20.0 if args.quick else (args.ner_budget or args.budget)
    every = 10.0 if args.quick else args.eval_every
    results = []
    for case in args.case or ["parser", "ner"]:
        start = time.perf_counter()
        if case == "parser":
            results.append(run_parser(budget, every, args.quick))
        else:
            results.append(run_ner(ner_budget, every, args.quick))
        print(json.dumps(results[-1]), f"({time.perf_counter() - start:.0f} s)", flush=True)
    text = json.dumps({"results": results}, indent=2)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf8")
    else:
        print(text)


if __name__ == "__main__":
    main()
