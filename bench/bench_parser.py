"""Parse speed (words per second) of arch-parser's numpy runtime against spaCy's
Cython parser and NER, same architecture and sizes, same weights, one process.

Both components are built from the same config (``TransitionBasedParser.v1``,
hidden 64, 2 pieces, over ``HashEmbedCNN.v1`` 96x4), spaCy's with arch's entry
points hidden; spaCy is initialised on a few EWT/WNUT sentences, then its model
bytes are loaded into ours and the move set copied, so both run the same
network over the same moves. Timed: greedy parsing of EWT dev sentences in
batches of 128 (ours: ``task.predict``; spaCy: ``pipe.pipe``), A/B alternated.

    python bench/bench_parser.py --out /tmp/parse.json [--quick]
"""

from common import DATA, TOK2VEC_V1, parser_v1, ab_times, main, record, spacy_names  # noqa: I001

from typing import Any, Dict, List  # noqa: E402

import numpy  # noqa: E402
from thinc.api import fix_random_seed  # noqa: E402

from arch_parser import ArcEager, BiluoSystem, TransitionBasedParser  # noqa: E402
from arch_parser.biluo import spans_to_biluo  # noqa: E402
from arch_parser.task import NerTask, ParserTask  # noqa: E402
from arch_tok2vec.architectures.tok2vec import HashEmbedCNN  # noqa: E402


def _case(kind: str, quick: bool) -> List[Dict[str, Any]]:
    if kind == "parser":
        task: Any = ParserTask(min_action_freq=1)
        ud = DATA / "ud_english_ewt"
        train = task.read(ud / "en_ewt-ud-train.conllu")[:2000]
        dev = task.read(ud / "en_ewt-ud-dev.conllu")
    else:
        task = NerTask()
        train = task.read(DATA / "wnut17" / "wnut17train.conll")[:2000]
        dev = task.read(DATA / "wnut17" / "emerging.dev.conll")
    if quick:
        dev = dev[:300]
    fix_random_seed(0)
    with spacy_names():
        import spacy
        from spacy.tokens import Doc as SpacyDoc
        from spacy.training import Example as SpacyExample

        nlp = spacy.blank("en")
        extra = {"min_action_freq": 1} if kind == "parser" else {}
        pipe = nlp.add_pipe(kind, config={"model": parser_v1(kind), **extra})
        examples = []
        for eg in train:
            doc = SpacyDoc(nlp.vocab, words=eg.doc.words, spaces=eg.doc.spaces)
            if kind == "parser":
                gold = {"heads": eg.gold["heads"], "deps": eg.gold["deps"]}
            else:
                gold = {"entities": spans_to_biluo(len(eg.doc), eg.gold["spans"])}
            examples.append(SpacyExample.from_dict(doc, gold))
        nlp.initialize(lambda: examples)
        labels = {int(a): dict(f) for a, f in pipe.moves.labels.items()}
        # untrained, the upper layer is all zeros (every move ties): use seeded noise
        rng = numpy.random.default_rng(0)
        for node in pipe.model.walk():
            for name in node.param_names:
                if node.has_param(name):
                    param = node.get_param(name)
                    node.set_param(name, rng.normal(0, 0.3, param.shape).astype("float32"))
        data = pipe.model.to_bytes()
        sp_docs = [SpacyDoc(nlp.vocab, words=eg.doc.words, spaces=eg.doc.spaces) for eg in dev]
    cfg = parser_v1(kind)
    args = {k: cfg[k] for k in ("state_type", "extra_state_tokens", "hidden_width",
                                 "maxout_pieces", "use_upper", "nO")}  # fmt: skip
    model = TransitionBasedParser(HashEmbedCNN(**TOK2VEC_V1), **args)
    task.moves = ArcEager(labels) if kind == "parser" else BiluoSystem(labels)
    model.attrs["resize_output"](model, task.moves.n_moves)
    model.initialize(X=[eg.doc for eg in train[:8]])
    model.from_bytes(data)
    docs = [eg.doc for eg in dev]
    words = sum(len(doc) for doc in docs)

    def ours() -> None:
        for i in range(0, len(docs), 128):
            task.predict(model, docs[i : i + 128])

    def theirs() -> None:
        with spacy_names():
            for _ in pipe.pipe(sp_docs, batch_size=128):
                pass

    a, b = ab_times(ours, theirs, 3 if quick else 5)
    mine = task.predict(model, docs)
    with spacy_names():
        done = list(pipe.pipe(sp_docs, batch_size=128))
    if kind == "parser":
        same = sum(
            (h, d.lower()) == (t.head.i, t.dep_.lower())
            for p, doc in zip(mine, done)
            for h, d, t in zip(p["heads"], p["deps"], doc)
        )
        agree = f"{same / words:.4f} of words get spaCy's head and label"
    else:
        same = sum(
            set(p) == {(e.start, e.end, e.label_) for e in doc.ents} for p, doc in zip(mine, done)
        )
        agree = f"{same / len(docs):.4f} of docs get spaCy's entities"
    corpus = "EWT dev" if kind == "parser" else "WNUT17 dev"
    return [
        record(
            "parser",
            f"{kind} parse ({corpus})",
            words,
            a,
            b,
            notes=(
                f"batch 128 docs, {task.moves.n_moves} moves, hidden 64 x 2 pieces over "
                "HashEmbedCNN.v1 96x4, 1 thread, same random weights (spaCy's bytes loaded "
                f"into ours); {agree}"
            ),
        )
    ]


if __name__ == "__main__":
    main({"parser": lambda q: _case("parser", q), "ner": lambda q: _case("ner", q)})
