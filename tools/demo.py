"""The main job (``nox -s demo``): what is installed, the example models of the reference
built, and every config in ``configs/`` trained on its task's embedded sample corpus, each
model shown in a few lines: its dev scores as a table and one prediction beside the gold.

    python tools/demo.py [--models training/demo] [--retrain]

Models are kept in ``--models`` (one folder per config, with the training log). A model
trained earlier from the same config by the same package versions is reused, not trained
again (``--retrain`` forces it); the demo says which.
"""

import argparse
import hashlib
import json
import subprocess
import sys
import time
import warnings
from importlib.metadata import distributions
from pathlib import Path
from typing import Any, Callable, Dict, List, Sequence

ROOT = Path(__file__).resolve().parents[1]
STAMP = "demo-stamp.json"
"""What a model folder of the demo was trained from (config hash, package versions)."""


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", type=Path, default=ROOT / "training" / "demo")
    parser.add_argument("--retrain", action="store_true", help="train even when up to date")
    args = parser.parse_args(argv)
    archs = str(Path(sys.executable).parent / "archs")
    versions = _arch_versions()
    print("installed: " + ", ".join(f"{name} {v}" for name, v in versions.items()))
    _section("the example models of the reference (archs build --summary)")
    for config in sorted((ROOT / "docs" / "examples").glob("*.cfg")):
        _run([archs, "build", str(config), "--summary"], echo=True)
    for config in sorted((ROOT / "configs").glob("*.cfg")):
        folder = args.models / config.stem
        _section(f"{config.stem}: archs train configs/{config.name} (sample corpus)")
        stamp = {"config": hashlib.sha256(config.read_bytes()).hexdigest(), "versions": versions}
        if not args.retrain and _stamp(folder) == stamp:
            print(f"up to date: reusing {_shown(folder)} (trained earlier from this config)")
        else:
            _train(archs, config, folder, stamp)
        _show_model(folder)
    print()
    print(f"models and training logs are in {_shown(args.models)}/")
    return 0


def _arch_versions() -> Dict[str, str]:
    found = {d.metadata["Name"]: d.version for d in distributions()}
    return {name: found[name] for name in sorted(found) if name.startswith("arch-")}


def _section(title: str) -> None:
    print()
    print(f"== {title}")


def _shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _run(command: List[str], echo: bool = False, log: Any = None) -> str:
    done = subprocess.run(command, capture_output=True, text=True)
    if log is not None:
        log.write_text(done.stdout + done.stderr)
    if done.returncode != 0:
        sys.stderr.write(done.stdout + done.stderr)
        raise SystemExit(f"failed: {' '.join(command)}")
    if echo:
        print(done.stdout, end="")
    return done.stdout


def _stamp(folder: Path) -> Any:
    try:
        return json.loads((folder / STAMP).read_text())
    except (OSError, ValueError):
        return None


def _train(archs: str, config: Path, folder: Path, stamp: Dict[str, Any]) -> None:
    folder.parent.mkdir(parents=True, exist_ok=True)
    (folder / STAMP).unlink(missing_ok=True)
    log = folder.parent / f"{config.stem}.log"
    start = time.perf_counter()
    out = _run([archs, "train", str(config), "--output", str(folder), "--overwrite"], log=log)
    lines = [line for line in out.splitlines() if line.startswith(("epoch", "stopped"))]
    epochs = sum(line.startswith("epoch") for line in lines)
    print(f"trained {epochs} epochs in {time.perf_counter() - start:.0f} s ({_shown(log)})")
    if lines and lines[-1].startswith("stopped"):
        print(lines[-1])
    (folder / STAMP).write_text(json.dumps(stamp, indent=2) + "\n")


def _show_model(folder: Path) -> None:
    import arch_tok2vec

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", arch_tok2vec.CorpusWarning)  # the samples' empty nodes
        model = arch_tok2vec.load(folder / "model-best")
        _, dev = model.task.sample()
    meta = model.meta
    scores = {k: v for k, v in meta["scores"].items() if isinstance(v, (int, float))}
    print(f"model-best: epoch {meta['epoch']}, selected on dev {meta.get('score_key', '')}")
    print("  " + "  ".join(f"{key:>{max(len(key), 8)}}" for key in scores))
    print("  " + "  ".join(f"{_number(v):>{max(len(k), 8)}}" for k, v in scores.items()))
    show = SHOW.get(model.task.name)
    if show is not None:
        predictions = model([eg.doc for eg in dev])
        for line in show(dev, predictions):
            print("  " + line)


def _number(value: Any) -> str:
    return f"{value:.4f}" if isinstance(value, float) else f"{value:,}"


# -- one prediction per task, beside the gold -------------------------------------------


def _tagger(dev: List[Any], predictions: List[Any]) -> List[str]:
    eg, tags = dev[0], predictions[0]
    words = [t.text for t in eg.doc]
    shown = [
        f"{w}/{p}" if p == g else f"{w}/{p}(gold {g})"
        for w, p, g in zip(words, tags, eg.gold["tags"])
    ]
    return ["dev: " + " ".join(shown)]


def _textcat(dev: List[Any], predictions: List[Any]) -> List[str]:
    lines = []
    for eg, cats in list(zip(dev, predictions))[:3]:
        best = max(cats, key=cats.get)
        gold = [label for label, value in eg.gold["cats"].items() if value]
        lines.append(f"dev: {eg.doc.text!r} -> {best} {cats[best]:.2f} (gold {', '.join(gold)})")
    return lines


def _parser(dev: List[Any], predictions: List[Any]) -> List[str]:
    eg, parse = dev[0], predictions[0]
    words = [t.text for t in eg.doc]
    arcs = []
    for i, (head, dep) in enumerate(zip(parse["heads"], parse["deps"])):
        gold = (eg.gold["heads"][i], eg.gold["deps"][i])
        mark = "" if gold == (head, dep) else "*"
        arcs.append(f"{words[i]}<-{dep}-{words[head]}{mark}" if head != i else f"{words[i]}:ROOT")
    return ["dev: " + " ".join(arcs), "(* differs from the gold tree)"]


def _ner(dev: List[Any], predictions: List[Any]) -> List[str]:
    def found(eg: Any, spans: List[Any]) -> int:
        return len(set(map(tuple, spans)) & set(map(tuple, eg.gold["spans"])))

    eg, spans = max(zip(dev, predictions), key=lambda pair: found(*pair))

    def shown(found_spans: List[Any]) -> str:
        texts = [
            f"{' '.join(t.text for t in eg.doc[s:e])} ({label})" for s, e, label in found_spans
        ]
        return ", ".join(texts) or "none"

    return [f"dev: {eg.doc.text!r}", f"found: {shown(spans)}", f"gold:  {shown(eg.gold['spans'])}"]


def _entity_linker(dev: List[Any], predictions: List[Any]) -> List[str]:
    lines = []
    for eg, links in list(zip(dev, predictions))[:3]:
        gold = {(m.start_char, m.end_char): m.kb_id for m in eg.gold["mentions"]}
        for start, end, text, kb_id in links:
            if (start, end) in gold:
                lines.append(
                    f"dev: {text!r} in {eg.doc.text!r} -> {kb_id} (gold {gold[(start, end)]})"
                )
    return lines[:3]


SHOW: Dict[str, Callable[[List[Any], List[Any]], List[str]]] = {
    "tagger": _tagger,
    "textcat": _textcat,
    "parser": _parser,
    "ner": _ner,
    "entity_linker": _entity_linker,
}


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
