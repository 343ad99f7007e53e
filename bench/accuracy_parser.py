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

    python bench/accuracy_parser.py --out /tmp/acc.json [--quick] [--budget 600]
"""

from common import DATA, spacy_names  # noqa: I001  (first: pins the thread pools)

import argparse  # noqa: E402
import json  # noqa: E402
import random  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any, Callable, Dict, List, Sequence  # noqa: E402

import numpy  # noqa: E402
from thinc.api import Adam, fix_random_seed, set_dropout_rate  # noqa: E402

from arch_parser.task import NerTask, ParserTask, score_ents, score_parse  # noqa: E402
from arch_tok2vec.architectures.tok2vec import HashEmbedCNN  # noqa: E402
from arch_parser import TransitionBasedParser  # noqa: E402
from arch_parser.biluo import spans_to_biluo  # noqa: E402

TOK2VEC = dict(
    width=96, depth=4, embed_size=2000, window_size=1, maxout_pieces=3,
    subword_features=True, pretrained_vectors=None,
)  # fmt: skip
SEED = 0
BATCH_DOCS = 64
DROPOUT = 0.1
SLICE = 30.0


def model_config(state_type: str) -> Dict[str, Any]:
    return {
        "@architectures": "spacy.TransitionBasedParser.v1",
        "state_type": state_type,
        "extra_state_tokens": False,
        "hidden_width": 64,
        "maxout_pieces": 2,
        "use_upper": True,
        "nO": None,
        "tok2vec": {"@architectures": "spacy.HashEmbedCNN.v1", **TOK2VEC},
    }


class Side:
    """One trainer: ``run(seconds)`` trains for about that long."""

    def __init__(self, batches: List[Sequence[int]], step: Callable[[Sequence[int]], None]):
        self.batches = batches
        self.step = step
        self.used = 0.0
        self.position = 0
        self.epochs = 0
        self.words = 0

    def run(self, seconds: float) -> None:
        start = time.perf_counter()
        while time.perf_counter() - start < seconds:
            self.step(self.batches[self.position])
            self.position += 1
            if self.position == len(self.batches):
                self.position = 0
                self.epochs += 1
        self.used += time.perf_counter() - start


def train_both(ours: Side, theirs: Side, budget: float) -> None:
    turn = 0
    while ours.used < budget or theirs.used < budget:
        order = [ours, theirs] if turn % 2 == 0 else [theirs, ours]
        for side in order:
            left = budget - side.used
            if left > 0:
                side.run(min(SLICE, left))
        turn += 1


def make_batches(n: int, epochs: int = 50) -> List[Sequence[int]]:
    rng = random.Random(SEED)
    out: List[Sequence[int]] = []
    for _ in range(epochs):
        order = list(range(n))
        rng.shuffle(order)
        out.extend(order[i : i + BATCH_DOCS] for i in range(0, n, BATCH_DOCS))
    return out


def run_parser(budget: float, quick: bool) -> Dict[str, Any]:
    task = ParserTask(min_action_freq=30)
    ud = DATA / "ud_english_ewt"
    train = task.read(ud / "en_ewt-ud-train.conllu")
    dev = task.read(ud / "en_ewt-ud-dev.conllu")
    if quick:
        train, dev = train[:600], dev[:200]
    fix_random_seed(SEED)
    model = TransitionBasedParser(HashEmbedCNN(**TOK2VEC), **_arch_args("parser"))
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
        pipe = nlp.add_pipe(
            "parser", config={"model": model_config("parser"), "min_action_freq": 30}
        )
        sp_train = [
            SpacyExample.from_dict(
                SpacyDoc(nlp.vocab, words=eg.doc.words, spaces=eg.doc.spaces),
                {"heads": eg.gold["heads"], "deps": eg.gold["deps"]},
            )
            for eg in train
        ]
        nlp.initialize(lambda: sp_train)
        sp_opt = Adam(0.001)

    def spacy_step(batch: Sequence[int]) -> None:
        with spacy_names():
            pipe.update([sp_train[i] for i in batch], drop=DROPOUT, sgd=sp_opt)

    ours, theirs = Side(batches, ours_step), Side(batches, spacy_step)
    train_both(ours, theirs, budget)
    guesses = task.predict(model, [eg.doc for eg in dev])
    ours_scores = score_parse(
        [(eg.gold["heads"], eg.gold["deps"]) for eg in dev],
        [(p["heads"], p["deps"]) for p in guesses],
    )
    with spacy_names():
        sp_docs = [SpacyDoc(nlp.vocab, words=eg.doc.words, spaces=eg.doc.spaces) for eg in dev]
        parsed = list(pipe.pipe(sp_docs, batch_size=128))
    sp_scores = score_parse(
        [(eg.gold["heads"], eg.gold["deps"]) for eg in dev],
        [([t.head.i for t in doc], [t.dep_ for t in doc]) for doc in parsed],
    )
    return {
        "group": "accuracy",
        "name": "parser UD EWT dev" + (" (quick: 600 train / 200 dev)" if quick else ""),
        "unit": "LAS",
        "ours": _pick(ours_scores, ("las", "uas", "las_no_punct")),
        "spacy": _pick(sp_scores, ("las", "uas", "las_no_punct")),
        "budget_seconds": budget,
        "notes": (
            f"TransitionBasedParser.v1 parser hidden 64 pieces 2 over HashEmbedCNN.v1 96x4; "
            f"batch {BATCH_DOCS} sentences, Adam 0.001, dropout 0.1, seed {SEED}; "
            f"epochs ours {ours.epochs + ours.position / len(train) * BATCH_DOCS:.2f}, "
            f"spaCy {theirs.epochs + theirs.position / len(train) * BATCH_DOCS:.2f}; "
            "LAS/UAS over all words incl. punctuation, labels case-insensitive"
        ),
    }


def _arch_args(state_type: str) -> Dict[str, Any]:
    cfg = model_config(state_type)
    return {k: cfg[k] for k in ("state_type", "extra_state_tokens", "hidden_width",
                                "maxout_pieces", "use_upper", "nO")}  # fmt: skip


def _pick(scores: Dict[str, Any], keys: Sequence[str]) -> Dict[str, float]:
    return {k: round(float(scores[k]) * 100, 2) for k in keys}


def run_ner(budget: float, quick: bool) -> Dict[str, Any]:
    task = NerTask()
    train = task.read(DATA / "wnut17" / "wnut17train.conll")
    dev = task.read(DATA / "wnut17" / "emerging.dev.conll")
    if quick:
        train, dev = train[:600], dev[:200]
    fix_random_seed(SEED)
    model = TransitionBasedParser(HashEmbedCNN(**TOK2VEC), **_arch_args("ner"))
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
        pipe = nlp.add_pipe("ner", config={"model": model_config("ner")})
        sp_train = [
            SpacyExample.from_dict(
                SpacyDoc(nlp.vocab, words=eg.doc.words, spaces=eg.doc.spaces),
                {"entities": spans_to_biluo(len(eg.doc), eg.gold["spans"])},
            )
            for eg in train
        ]
        nlp.initialize(lambda: sp_train)
        sp_opt = Adam(0.001)

    def spacy_step(batch: Sequence[int]) -> None:
        with spacy_names():
            pipe.update([sp_train[i] for i in batch], drop=DROPOUT, sgd=sp_opt)

    ours, theirs = Side(batches, ours_step), Side(batches, spacy_step)
    train_both(ours, theirs, budget)
    golds = [eg.gold["spans"] for eg in dev]
    ours_scores = score_ents(golds, task.predict(model, [eg.doc for eg in dev]))
    with spacy_names():
        sp_docs = [SpacyDoc(nlp.vocab, words=eg.doc.words, spaces=eg.doc.spaces) for eg in dev]
        parsed = list(pipe.pipe(sp_docs, batch_size=128))
    sp_scores = score_ents(
        golds, [[(e.start, e.end, e.label_) for e in doc.ents] for doc in parsed]
    )
    return {
        "group": "accuracy",
        "name": "ner WNUT17 dev" + (" (quick: 600 train / 200 dev)" if quick else ""),
        "unit": "F",
        "ours": _pick(ours_scores, ("ents_f", "ents_p", "ents_r")),
        "spacy": _pick(sp_scores, ("ents_f", "ents_p", "ents_r")),
        "budget_seconds": budget,
        "notes": (
            f"TransitionBasedParser.v1 ner (extra_state_tokens false) hidden 64 pieces 2 over "
            f"HashEmbedCNN.v1 96x4; batch {BATCH_DOCS} sentences, Adam 0.001, dropout 0.1, "
            f"seed {SEED}; epochs ours {ours.epochs}, spaCy {theirs.epochs} (+ partial); "
            "exact-match entity P/R/F"
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--budget", type=float, default=600.0, help="seconds per side, parser")
    parser.add_argument("--ner-budget", type=float, default=None, help="default: --budget")
    parser.add_argument("--case", choices=["parser", "ner"], action="append")
    args = parser.parse_args()
    budget = 20.0 if args.quick else args.budget
    ner_budget = 20.0 if args.quick else (args.ner_budget or args.budget)
    results = []
    for case in args.case or ["parser", "ner"]:
        start = time.perf_counter()
        if case == "parser":
            results.append(run_parser(budget, args.quick))
        else:
            results.append(run_ner(ner_budget, args.quick))
        print(json.dumps(results[-1]), f"({time.perf_counter() - start:.0f} s)", flush=True)
    text = json.dumps({"results": results}, indent=2)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf8")
    else:
        print(text)


if __name__ == "__main__":
    numpy.random.seed(SEED)
    main()
