"""Training recipes measured on real corpora (run by hand; not a ``common.main`` script).

Each case trains a config of ``configs/`` with a few settings changed, through
``arch_tok2vec.training.train``, and reads the run's ``train.jsonl``: words per second
(training time only, from the log's records), dev scores, steps. Results go to
``bench/results/recipes-DATE.json`` and a table on stdout.

    python bench/recipes.py --list
    python bench/recipes.py banking77-bow banking77-bow-words banking77-cnn
    python bench/recipes.py --seconds 120 ewt-parser ewt-parser-cut

Cases:
- ``banking77-*``: BANKING77 train.csv alone, dev_fraction 0.1 (stratified, seed 0):
  the default text classifier (TextCatBOW, ``configs/textcat.cfg``) as it is, with a
  batcher by words, and spacy.TextCatCNN.v1 (HashEmbedCNN, width 64) with the same recipe.
- ``ewt-parser*``: UD English EWT train/dev with ``configs/parser.cfg``, batches of 1000
  words, eval_frequency 200, score_weights {uas: 0.5, las: 0.5}, with and without
  update_with_oracle_cut_size 100.
"""

import argparse
import copy
import datetime
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any, Callable, Dict, List

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("ARCH_DATA", ROOT.parent / "shared" / "data"))

WORDS_1000 = {
    "@batchers": "spacy.batch_by_words.v1",
    "size": 1000,
    "tolerance": 0.2,
    "discard_oversize": False,
}
CNN = {
    "@architectures": "spacy.TextCatCNN.v1",
    "exclusive_classes": True,
    "nO": None,
    "tok2vec": {
        "@architectures": "spacy.HashEmbedCNN.v1",
        "pretrained_vectors": None,
        "width": 64,
        "depth": 2,
        "embed_size": 2000,
        "window_size": 1,
        "maxout_pieces": 3,
        "subword_features": True,
    },
}


def _config(name: str) -> Any:
    from arch_tok2vec.cli.common import load_config

    return load_config(ROOT / "configs" / f"{name}.cfg", {}, training=True).interpolate()


def banking77(model: Any = None, batcher: Any = None, **training: Any) -> Callable[[], Any]:
    def make() -> Any:
        config = _config("textcat")
        config["paths"]["train"] = str(DATA / "banking77" / "train.csv")
        config["paths"]["dev"] = None
        config["training"]["dev_fraction"] = 0.1
        if model is not None:
            config["model"] = copy.deepcopy(model)
        if batcher is not None:
            config["training"].pop("batch_size", None)
            config["training"]["batcher"] = dict(batcher)
        config["training"].update(training)
        return config

    return make


def ewt_parser(cut: int) -> Callable[[], Any]:
    def make() -> Any:
        config = _config("parser")
        ewt = DATA / "ud_english_ewt"
        config["paths"]["train"] = str(ewt / "en_ewt-ud-train.conllu")
        config["paths"]["dev"] = str(ewt / "en_ewt-ud-dev.conllu")
        config["task"]["min_action_freq"] = 30
        config["task"]["update_with_oracle_cut_size"] = cut
        config["training"].pop("batch_size", None)
        config["training"]["batcher"] = dict(WORDS_1000)
        config["training"].update(
            eval_frequency=200, score_weights={"uas": 0.5, "las": 0.5}, patience=0, max_epochs=0
        )
        return config

    return make


CASES: Dict[str, Callable[[], Any]] = {
    "banking77-bow": banking77(),
    "banking77-bow-words": banking77(batcher=WORDS_1000),
    "banking77-cnn": banking77(model=CNN),
    "banking77-cnn-words": banking77(model=CNN, batcher=WORDS_1000),
    "ewt-parser": ewt_parser(0),
    "ewt-parser-cut": ewt_parser(100),
}


def run_case(name: str, seconds: float) -> Dict[str, Any]:
    from arch_tok2vec.training import train
    from arch_tok2vec.training_log import read_log

    config = CASES[name]()
    if seconds:
        config["training"]["max_seconds"] = seconds
    with tempfile.TemporaryDirectory() as folder:
        result = train(config, Path(folder) / "run", log=print, progress=False)
        records = read_log(Path(folder) / "run" / "train.jsonl")
    train_seconds = sum(
        (r["words"] - (records[i - 1]["words"] if i else 0)) / r["words_per_second"]
        for i, r in enumerate(records)
        if r["words_per_second"]
    )
    best = max(records, key=lambda r: r["score"])
    return {
        "case": name,
        "words_per_second": records[-1]["words"] / train_seconds if train_seconds else 0.0,
        "steps": records[-1]["step"],
        "epochs": records[-1]["epoch"],
        "words": records[-1]["words"],
        "seconds": records[-1]["seconds"],
        "stopped": result.stopped_because,
        "selected_by": result.score_key,
        "best": {k: v for k, v in best["scores"].items() if isinstance(v, float)},
        "best_step": best["step"],
        "last": {k: v for k, v in records[-1]["scores"].items() if isinstance(v, float)},
    }


def main(argv: List[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("cases", nargs="*", help="cases to run (default: all)")
    parser.add_argument("--list", action="store_true", help="list the cases")
    parser.add_argument("--seconds", type=float, default=0, help="max_seconds for each run")
    parser.add_argument("--out", type=Path, default=None, help="the JSON file to write")
    args = parser.parse_args(argv)
    if args.list:
        print("\n".join(CASES))
        return 0
    unknown = [c for c in args.cases if c not in CASES]
    if unknown:
        parser.error(f"unknown cases {unknown}; --list shows them")
    results = []
    for name in args.cases or list(CASES):
        results.append(run_case(name, args.seconds))
        print(json.dumps(results[-1]), flush=True)
    out = args.out or ROOT / "bench" / "results" / f"recipes-{datetime.date.today()}.json"
    out.write_text(json.dumps({"results": results}, indent=1) + "\n")
    for r in results:
        scores = "  ".join(f"{k} {v:.4f}" for k, v in r["best"].items())
        print(
            f"{r['case']:22s} {r['words_per_second']:9,.0f} words/s  {r['steps']:6d} steps  "
            f"{r['seconds']:6.0f} s  best {scores}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
