"""The fused CNN kernels (arch_tok2vec.fused) do not change what a tagger learns:
``spacy.Tagger.v1`` over ``spacy.HashEmbedCNN.v1`` (width 96, depth 4) trained
on UD English EWT train (UPOS) and scored on dev, twice per seed from the same
initial weights on the same batches: once with the fused forwards and once
with thinc's own layer forwards (the model arch built before them).

Batch 128 sentences, Adam 0.001, dropout 0.1 on the CNN blocks (as spaCy's
default training sets it), cross-entropy gradient; dev accuracy with the
averaged parameters after every epoch. The record gives each seed's last dev
accuracy for both, the largest difference, and the training words per second.

    python bench/accuracy_tagger.py --out /tmp/tagger.json [--quick]
"""

from common import DATA, main, record  # noqa: I001  (first: pins the thread pools)

import statistics  # noqa: E402
import time  # noqa: E402
from typing import Any, Dict, List, Tuple  # noqa: E402

import numpy  # noqa: E402
from thinc.api import Adam, Config, fix_random_seed, set_dropout_rate  # noqa: E402

from arch_tok2vec import Doc, registry  # noqa: E402
from arch_tok2vec.fused import FusedForward  # noqa: E402

SEEDS = (0, 1)
BATCH = 128
CONFIG = """
[model]
@architectures = "spacy.Tagger.v1"
nO = null

[model.tok2vec]
@architectures = "spacy.HashEmbedCNN.v1"
pretrained_vectors = null
width = 96
depth = 4
embed_size = 2000
window_size = 1
maxout_pieces = 3
subword_features = true
"""


def read(path: Any, max_sents: int = 0) -> List[Tuple[Any, List[str]]]:
    """(Doc, UPOS tags) per sentence of a CoNLL-U file (multi-word tokens as
    their surface form)."""
    out: List[Tuple[Any, List[str]]] = []
    words: List[str] = []
    tags: List[str] = []
    skip = 0
    for line in path.open(encoding="utf8"):
        line = line.rstrip("\n")
        if not line:
            if words:
                out.append((Doc(words), tags))
                if max_sents and len(out) >= max_sents:
                    break
            words, tags, skip = [], [], 0
            continue
        if line.startswith("#"):
            continue
        cols = line.split("\t")
        if "." in cols[0]:
            continue
        if "-" in cols[0]:
            skip = int(cols[0].split("-")[1])
            words.append(cols[1])
            tags.append("MWT")
            continue
        if int(cols[0]) <= skip:
            continue
        words.append(cols[1])
        tags.append(cols[3])
    return out


def unfused(model: Any) -> Any:
    for node in model.walk():
        if isinstance(node._func, FusedForward):
            node._func = node._func.original
    return model


def run_seed(train: List[Any], dev: List[Any], seed: int, epochs: int) -> Dict[str, Any]:
    labels = sorted({tag for _, tags in train for tag in tags})
    eye = numpy.eye(len(labels), dtype="float32")

    def targets(batch: List[Any]) -> List[Any]:
        return [eye[[labels.index(t) for t in tags]] for _, tags in batch]

    fix_random_seed(seed)
    fused = registry.resolve(Config().from_str(CONFIG))["model"]
    fused.initialize(X=[doc for doc, _ in train[:100]], Y=targets(train[:100]))
    thinc_path = unfused(registry.resolve(Config().from_str(CONFIG))["model"])
    thinc_path.initialize(X=[doc for doc, _ in train[:100]], Y=targets(train[:100]))
    thinc_path.from_bytes(fused.to_bytes())
    rng = numpy.random.default_rng(seed)
    orders = [rng.permutation(len(train)) for _ in range(epochs)]
    gold = numpy.array([labels.index(t) for _, tags in dev for t in tags])
    out: Dict[str, Any] = {"seed": seed}
    for name, model in (("fused", fused), ("thinc", thinc_path)):
        fix_random_seed(seed)  # the same dropout masks on both
        optimizer = Adam(0.001)
        set_dropout_rate(model, 0.1)
        seconds, words, curve = 0.0, 0, []
        for order in orders:
            start = time.perf_counter()
            for i in range(0, len(order), BATCH):
                batch = [train[j] for j in order[i : i + BATCH]]
                scores, backprop = model.begin_update([doc for doc, _ in batch])
                backprop([s - t for s, t in zip(scores, targets(batch))])
                model.finish_update(optimizer)
                words += sum(len(doc) for doc, _ in batch)
            seconds += time.perf_counter() - start
            with model.use_params(optimizer.averages):
                guess = numpy.concatenate(
                    [s.argmax(axis=1) for s in model.predict([doc for doc, _ in dev])]
                )
            curve.append(round(float((guess == gold).mean()), 4))
        out[name] = {"accuracy": curve[-1], "curve": curve, "words_per_second": words / seconds}
    return out


def ewt(quick: bool) -> List[Dict[str, Any]]:
    ud = DATA / "ud_english_ewt"
    train = read(ud / "en_ewt-ud-train.conllu", 3000 if quick else 0)
    dev = read(ud / "en_ewt-ud-dev.conllu", 500 if quick else 0)
    epochs = 2 if quick else 5
    runs = [run_seed(train, dev, seed, epochs) for seed in SEEDS]
    acc = {name: [r[name]["accuracy"] for r in runs] for name in ("fused", "thinc")}
    speed = {name: [r[name]["words_per_second"] for r in runs] for name in ("fused", "thinc")}
    worst = max(abs(a - b) for a, b in zip(acc["fused"], acc["thinc"]))
    result = record(
        "tagger accuracy",
        "EWT UPOS tagger, fused kernels vs thinc's layers",
        1,
        [1 / s for s in speed["fused"]],
        [1 / s for s in speed["thinc"]],
        f"{len(runs)} seeds, {epochs} epochs, dev accuracy fused {acc['fused']} (mean "
        f"{statistics.mean(acc['fused']):.4f}) vs thinc's layers {acc['thinc']} (mean "
        f"{statistics.mean(acc['thinc']):.4f}); largest difference {worst:.4f}; the "
        "'spaCy' column here is arch's model on thinc's own layers",
    )
    result["accuracy"] = {"fused": acc["fused"], "thinc": acc["thinc"], "runs": runs}
    return [result]


if __name__ == "__main__":
    main({"ewt": ewt})
