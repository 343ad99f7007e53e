"""Train and save small spaCy pipelines with spaCy + spacy-legacy alone (no arch).

Run with the Python of a venv that has spaCy 3.8 and NO arch package::

    python make_pipelines.py OUTPUT_DIR

For every spec in the families' PIPELINES (families/*.py) this trains a blank
English pipeline with spaCy's own v1 architectures (the config names spacy.*.v1,
which spaCy resolves to spacy-legacy), saves it to OUTPUT_DIR/<name>/ and writes
its predictions on the dev slice to OUTPUT_DIR/<name>.predictions.json.
OUTPUT_DIR/INDEX.json lists the pipelines with the versions used and dev scores.
The tests in the venv with arch load the pipelines and compare.
"""

import argparse
import importlib.metadata
import json
import random
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import compat  # noqa: E402  (imports no arch package)
import compat_spacy  # noqa: E402
import spacy  # noqa: E402
from spacy.util import minibatch  # noqa: E402
from thinc.api import fix_random_seed  # noqa: E402

SEED = 0
BATCH_SIZE = 16


def check_environment() -> dict:
    arch = sorted(
        d.metadata["Name"]
        for d in importlib.metadata.distributions()
        if (d.metadata["Name"] or "").startswith("arch-")
    )
    if arch:
        sys.exit(f"make_pipelines.py must run without arch, but {arch} are installed")
    if spacy.__version__ != compat.SPACY_VERSION:
        sys.exit(f"spaCy {spacy.__version__} found, {compat.SPACY_VERSION} expected")
    return {
        "spacy": spacy.__version__,
        "spacy-legacy": importlib.metadata.version("spacy-legacy"),
        "thinc": importlib.metadata.version("thinc"),
    }


def check_legacy(nlp) -> None:
    """Every v1 name in the pipeline's config resolves to spacy-legacy or spaCy core."""
    for name, pipe in nlp.pipeline:
        for node in pipe.model.walk():
            module = getattr(node._func, "__module__", "") or ""
            if module.startswith("arch_"):
                sys.exit(f"{name}: node {node.name} comes from {module}")


def train(spec: dict, out_dir: Path) -> dict:
    fix_random_seed(SEED)
    nlp = compat_spacy.make_nlp(spec)
    check_legacy(nlp)
    train_examples = compat_spacy.examples(nlp, spec["data"], "train")
    sgd = nlp.initialize(lambda: train_examples)
    rng = random.Random(SEED)
    losses: dict = {}
    for _ in range(spec["epochs"]):
        rng.shuffle(train_examples)
        losses = {}
        for batch in minibatch(train_examples, size=BATCH_SIZE):
            nlp.update(batch, sgd=sgd, drop=0.1, losses=losses)
    nlp.to_disk(out_dir / spec["name"])
    docs = compat_spacy.unannotated(nlp, spec["data"])
    preds = compat_spacy.predictions(nlp, docs)
    path = out_dir / f"{spec['name']}.predictions.json"
    path.write_text(json.dumps(preds, ensure_ascii=False) + "\n", encoding="utf8")
    gold = compat_spacy.examples(nlp, spec["data"], "dev")
    return {
        "name": spec["name"],
        "pipeline": nlp.pipe_names,
        "architectures": {
            name: nlp.config["components"][name]["model"]["@architectures"]
            for name in nlp.pipe_names
        },
        "train_examples": len(train_examples),
        "dev_docs": len(docs),
        "final_losses": {k: round(float(v), 4) for k, v in losses.items()},
        "dev_scores": compat_spacy.accuracy(preds, gold),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("output", type=Path, help="folder for the pipelines (created)")
    parser.add_argument("--only", nargs="*", help="train only these pipelines")
    args = parser.parse_args()
    versions = check_environment()
    args.output.mkdir(parents=True, exist_ok=True)
    index = []
    for dist, family in sorted(compat.families().items()):
        for spec in family.PIPELINES:
            if args.only and spec["name"] not in args.only:
                continue
            start = time.time()
            entry = train(spec, args.output)
            entry["family"] = dist
            entry["seconds"] = round(time.time() - start, 1)
            print(json.dumps(entry), flush=True)
            index.append(entry)
    (args.output / "INDEX.json").write_text(
        json.dumps({"versions": versions, "pipelines": index}, indent=1) + "\n", encoding="utf8"
    )


if __name__ == "__main__":
    main()
