"""Train and save small parser and NER pipelines with spaCy + spacy-legacy alone (no arch).

Run with the Python of a venv that has spaCy 3.8 and NO arch package::

    python make_parser_pipelines.py OUTPUT_DIR

For every spec in parser_compat.PIPELINES this trains a blank English pipeline whose
component (spaCy's ``parser`` or ``ner``) uses spacy.TransitionBasedParser.v1 over
spacy.HashEmbedCNN.v1 (spaCy resolves both to spacy-legacy), saves it to
OUTPUT_DIR/<name>/ and writes its heads, deps and entities on the dev slice to
OUTPUT_DIR/<name>.predictions.json. OUTPUT_DIR/INDEX.json lists the pipelines with the
versions used and spaCy's dev scores. test_parser_pipelines.py loads them with arch.
"""

import argparse
import importlib.metadata
import json
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import compat  # noqa: E402  (imports no arch package)
import parser_compat  # noqa: E402
import spacy  # noqa: E402


def check_environment() -> dict:
    arch = sorted(
        d.metadata["Name"]
        for d in importlib.metadata.distributions()
        if (d.metadata["Name"] or "").startswith("arch-")
    )
    if arch:
        sys.exit(f"make_parser_pipelines.py must run without arch, but {arch} are installed")
    if spacy.__version__ != compat.SPACY_VERSION:
        sys.exit(f"spaCy {spacy.__version__} found, {compat.SPACY_VERSION} expected")
    return {
        "spacy": spacy.__version__,
        "spacy-legacy": importlib.metadata.version("spacy-legacy"),
        "thinc": importlib.metadata.version("thinc"),
    }


def check_legacy(nlp) -> None:
    """The component's model comes from spacy-legacy / spaCy core, nothing from arch."""
    for name, pipe in nlp.pipeline:
        modules = {getattr(node._func, "__module__", "") or "" for node in pipe.model.walk()}
        if any(m.startswith("arch_") for m in modules):
            sys.exit(f"{name}: the model has arch nodes ({sorted(modules)})")
        if pipe.model._func.__module__ != "spacy.ml.tb_framework":
            sys.exit(f"{name}: root node from {pipe.model._func.__module__}")


def train(spec: dict, out_dir: Path) -> dict:
    nlp = parser_compat.make_nlp(spec["factory"], spec["config"])
    check_legacy(nlp)
    train_examples = parser_compat.examples(nlp, spec["data"], "train")
    parser_compat.train(nlp, train_examples, spec["epochs"])
    nlp.to_disk(out_dir / spec["name"])
    dev = parser_compat.examples(nlp, spec["data"], "dev")
    preds = parser_compat.predictions(nlp, parser_compat.bare(nlp, dev))
    path = out_dir / f"{spec['name']}.predictions.json"
    path.write_text(json.dumps(preds, ensure_ascii=False) + "\n", encoding="utf8")
    return {
        "name": spec["name"],
        "pipeline": nlp.pipe_names,
        "n_moves": nlp.get_pipe(spec["factory"]).moves.n_moves,
        "train_examples": len(train_examples),
        "dev_docs": len(dev),
        "dev_scores": parser_compat.scores(nlp, dev),
        "baseline": parser_compat.baseline(spec["data"], dev),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("output", type=Path, help="folder for the pipelines (created)")
    args = parser.parse_args()
    versions = check_environment()
    args.output.mkdir(parents=True, exist_ok=True)
    index = []
    for spec in parser_compat.PIPELINES:
        start = time.time()
        entry = train(spec, args.output)
        entry["seconds"] = round(time.time() - start, 1)
        print(json.dumps(entry), flush=True)
        index.append(entry)
    (args.output / "INDEX.json").write_text(
        json.dumps({"versions": versions, "pipelines": index}, indent=1) + "\n", encoding="utf8"
    )


if __name__ == "__main__":
    main()
