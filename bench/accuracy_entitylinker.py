"""Entity-linking accuracy on GUM dev (proper-noun mentions): the trained
spacy.EntityLinker.v1 (arch.entity_linker.v1 task) beside the prior-only and
random-choice baselines.

Setup: GUM train sentences as contexts, the train alias table as the only
source of candidates (so only dev mentions whose text occurred as a name in
train have candidates), entity vectors from the words of each entity's
Wikipedia title (``entity_vectors = "words"``), HashEmbedCNN (width 96,
depth 2, embed_size 2000, subword features) under the linker, Adam 0.001,
batch 32, dropout 0.1, fixed seed. All three numbers are accuracies over the
dev proper-noun mentions that have at least one candidate; "random" is the
expected accuracy of a uniform choice among the candidates. The best epoch on
dev is reported (as ``archs train`` keeps it), together with every epoch.

    python bench/accuracy_entitylinker.py --out /tmp/el.json          # 6 epochs
    python bench/accuracy_entitylinker.py --out /tmp/el.json --quick  # 1 epoch on 2,000 sentences
"""

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]

CONFIG = """
[paths]
train = null
dev = null

[system]
seed = 0

[task]
@tasks = "arch.entity_linker.v1"
aliases = null
entity_vector_length = 64
entity_vectors = "words"
incl_prior = true
incl_context = true
propn_only = true

[model]
@architectures = "spacy.EntityLinker.v1"
nO = null

[model.tok2vec]
@architectures = "spacy.HashEmbedCNN.v1"
pretrained_vectors = null
width = 96
depth = 2
embed_size = 2000
window_size = 1
maxout_pieces = 3
subword_features = true

[training]
max_epochs = 6
patience = 0
batch_size = 32
dropout = 0.1

[training.optimizer]
@optimizers = "Adam.v1"
learn_rate = 0.001
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, help="write the JSON results here")
    parser.add_argument("--quick", action="store_true", help="1 epoch on 2,000 train sentences")
    parser.add_argument(
        "--data",
        type=Path,
        default=Path(os.environ.get("ARCH_DATA", ROOT.parent / "shared" / "data")),
    )
    parser.add_argument("--epochs", type=int, default=6)
    args = parser.parse_args()

    from thinc.api import Config

    from arch_tok2vec.training import train

    gum = args.data / "gum_entity_linking"
    config = Config().from_str(CONFIG)
    config["task"]["aliases"] = str(gum / "aliases_train.tsv")
    config["training"]["max_epochs"] = 1 if args.quick else args.epochs
    with tempfile.TemporaryDirectory() as tmp:
        train_path = gum / "train.jsonl"
        if args.quick:
            lines = train_path.read_text("utf8").splitlines()[:2000]
            train_path = Path(tmp) / "train.jsonl"
            train_path.write_text("\n".join(lines) + "\n", "utf8")
        config["paths"] = {"train": str(train_path), "dev": str(gum / "dev.jsonl")}
        start = time.perf_counter()
        result = train(config, None, log=print, progress=False)
        seconds = time.perf_counter() - start
    best = result.epochs[result.best_epoch - 1].scores
    per_epoch = [round(e.scores["accuracy"], 4) for e in result.epochs]
    record = {
        "group": "accuracy",
        "name": "entity linker GUM dev (PROPN mentions with a candidate)",
        "unit": "accuracy",
        "ours": {
            "accuracy": best["accuracy"],
            "prior_only": best["prior_accuracy"],
            "random": best["random_accuracy"],
            "oracle": best["oracle_accuracy"],
            "ambiguous_accuracy": best["ambiguous_accuracy"],
        },
        "spacy": None,
        "budget_seconds": round(seconds),
        "notes": (
            f"best epoch {result.best_epoch} of {len(result.epochs)} (dev accuracy per epoch "
            f"{per_epoch}); {best['mentions_with_candidates']} of {best['mentions']} PROPN "
            f"mentions have a candidate, {best['ambiguous_mentions']} of them ambiguous; "
            "candidates from aliases_train.tsv; entity vectors from title words; "
            + ("QUICK run (2,000 train sentences, 1 epoch)" if args.quick else "full train set")
        ),
    }
    text = json.dumps({"results": [record]}, indent=2)
    if args.out:
        args.out.write_text(text + "\n", "utf8")
    print(text)


if __name__ == "__main__":
    main()
