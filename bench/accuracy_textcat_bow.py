"""TextCatBOW on BANKING77 (77 intents): accuracy and training speed of the
live-weights update (arch's, arch_textcat.layers.sparse_update) against thinc's
full update of all 77 x 2^18 output weights, three seeds.

For each seed: the train file is split into a seeded, stratified 90% train and
10% dev (BANKING77 has no dev split); the same model (``spacy.TextCatBOW.v1``,
exclusive classes, ``ngram_size`` 1) starts from the same weights and is
trained twice on the same batches in the same order (batch 128, cross-entropy
gradient, spaCy's default optimizer: Adam 0.001, weight decay 0.01, gradient
clipping 1.0, parameter averages), once with arch's update and once with thinc's
(the model's root as a plain thinc ``Model`` and the ``sparse_linear`` node's own
backward pass). Dev accuracy is scored after every epoch with the averaged
parameters, as ``spacy train`` scores; the record has the last epoch's accuracy
of each seed, their means and the largest difference between the two updates,
and the training words per second of each.

    python bench/accuracy_textcat_bow.py --out /tmp/bow.json [--quick]
"""

from common import BANKING77_TRAIN, main, record  # noqa: I001  (first: pins the thread pools)

import csv  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from typing import Any, Dict, List, Tuple  # noqa: E402

import numpy  # noqa: E402
from thinc.api import Adam, Config, Model, fix_random_seed  # noqa: E402

from arch_tok2vec import Doc, registry  # noqa: E402
from arch_tok2vec.fused import FusedForward  # noqa: E402

SEEDS = (0, 1, 2)
BATCH = 128

CONFIG = """
[model]
@architectures = "spacy.TextCatBOW.v1"
exclusive_classes = true
ngram_size = {ngram_size}
no_output_layer = false
nO = null
"""


def read() -> Tuple[List[Any], List[str]]:
    docs: List[Any] = []
    labels: List[str] = []
    with BANKING77_TRAIN.open(encoding="utf8", newline="") as file:
        for row in csv.DictReader(file):
            docs.append(Doc.from_text(row["text"]))
            labels.append(row["category"])
    return docs, labels


def split(labels: List[str], seed: int) -> Tuple[List[int], List[int]]:
    """A seeded stratified 90/10 split of the row indices."""
    rng = numpy.random.default_rng(seed)
    train: List[int] = []
    dev: List[int] = []
    by_label: Dict[str, List[int]] = {}
    for i, label in enumerate(labels):
        by_label.setdefault(label, []).append(i)
    for label in sorted(by_label):
        rows = rng.permutation(by_label[label]).tolist()
        n_dev = max(1, round(len(rows) / 10))
        dev += rows[:n_dev]
        train += rows[n_dev:]
    return sorted(train), sorted(dev)


def thinc_update(model: Any) -> Any:
    """The same model trained as thinc trains it: plain Model root, thinc's
    SparseLinear backward pass."""
    model.__class__ = Model
    for node in model.walk():
        if node.name == "sparse_linear" and isinstance(node._func, FusedForward):
            node._func = node._func.original
    return model


def run_seed(
    docs: List[Any], labels: List[str], seed: int, epochs: int, ngram_size: int
) -> Dict[str, Any]:
    names = sorted(set(labels))
    Y = numpy.eye(len(names), dtype="float32")[[names.index(label) for label in labels]]
    train, dev = split(labels, seed)
    fix_random_seed(seed)
    config = Config().from_str(CONFIG.format(ngram_size=ngram_size))
    live = registry.resolve(config)["model"]
    live.initialize(X=[docs[i] for i in train[:200]], Y=Y[train[:200]])
    full = thinc_update(registry.resolve(config)["model"])
    full.initialize(X=[docs[i] for i in train[:200]], Y=Y[train[:200]])
    full.from_bytes(live.to_bytes())
    rng = numpy.random.default_rng(seed)
    orders = [rng.permutation(train) for _ in range(epochs)]
    dev_docs = [docs[i] for i in dev]
    gold = numpy.array([names.index(labels[i]) for i in dev])
    out: Dict[str, Any] = {"seed": seed, "train": len(train), "dev": len(dev)}
    for name, model in (("live", live), ("full", full)):
        optimizer = Adam(0.001, L2=0.01, grad_clip=1.0, use_averages=True)
        seconds = 0.0
        words = 0
        curve = []
        for order in orders:
            start = time.perf_counter()
            for i in range(0, len(order), BATCH):
                rows = order[i : i + BATCH]
                batch = [docs[r] for r in rows]
                scores, backprop = model.begin_update(batch)
                backprop(scores - Y[rows])
                model.finish_update(optimizer)
                words += sum(len(doc) for doc in batch)
            seconds += time.perf_counter() - start
            with model.use_params(optimizer.averages):
                guess = model.predict(dev_docs).argmax(axis=1)
            curve.append(round(float((guess == gold).mean()), 4))
        out[name] = {"accuracy": curve[-1], "curve": curve, "words_per_second": words / seconds}
    return out


def case(ngram_size: int):
    def run(quick: bool) -> List[Dict[str, Any]]:
        docs, labels = read()
        epochs = 3 if quick else 10
        seeds = SEEDS[:2] if quick else SEEDS
        runs = [run_seed(docs, labels, seed, epochs, ngram_size) for seed in seeds]
        acc = {name: [r[name]["accuracy"] for r in runs] for name in ("live", "full")}
        speed = {name: [r[name]["words_per_second"] for r in runs] for name in ("live", "full")}
        worst = max(abs(a - b) for a, b in zip(acc["live"], acc["full"]))
        notes = (
            f"{len(runs)} seeds, {epochs} epochs, ngram_size {ngram_size}; dev accuracy live "
            f"{acc['live']} (mean {statistics.mean(acc['live']):.4f}) vs full {acc['full']} "
            f"(mean {statistics.mean(acc['full']):.4f}); largest difference {worst:.4f}"
        )
        speed_record = record(
            "textcat BOW, 77 labels",
            f"BANKING77 training, live-weights update vs thinc's full (ngram_size {ngram_size})",
            1,
            [1 / s for s in speed["live"]],
            [1 / s for s in speed["full"]],
            notes,
        )
        speed_record["accuracy"] = {"live": acc["live"], "full": acc["full"], "runs": runs}
        return [speed_record]

    return run


if __name__ == "__main__":
    main({"banking77": case(1)})
