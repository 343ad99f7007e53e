"""Trained models as distributions, end to end (issue 17), run by ``nox -s build`` once
the wheelhouse ``dist/`` holds every arch package's wheel:

1. a trainer venv installs arch-tagger and arch-entitylinker from the wheelhouse (with
   arch-tok2vec[package] for hatchling, and PyYAML for the card check), trains a tiny
   tagger and an entity linker (configs/, sample corpora, 2 epochs) and packages each
   with ``archs package --test`` (its sample dev corpus);
2. each model's card has valid YAML front matter whose model-index holds its dev and
   test scores, equal to meta.json's and to what ``archs evaluate`` prints;
3. each model's wheel is installed ALONE into a fresh venv (pip, ``--find-links`` the
   wheelhouse: its arch requirements come from there, thinc and numpy from the index);
   the venv holds exactly the arch distributions the model requires; the model loads
   there by name and predicts exactly what the folder it came from predicts (decoded
   output and raw model output, bit for bit); ``archs list --models``, ``archs info``
   and ``archs evaluate`` find it by name.

    python tests/check_model_package.py DIST WORKDIR
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, List

ROOT = Path(__file__).resolve().parents[1]
MODELS = {
    # name: (config, family, the family's sample dev corpus)
    "arch-check-tagger": (
        "tagger.cfg",
        "arch-tagger",
        "packages/arch-tagger/src/arch_tagger/sample/dev.conllu",
    ),
    "arch-check-linker": (
        "entity_linker.cfg",
        "arch-entitylinker",
        "packages/arch-entitylinker/src/arch_entitylinker/sample/dev.jsonl",
    ),
}
TEXTS = [
    "The museum in Paris reopened after the storm.",
    "Jordan led the Bulls to another title on Monday.",
    "Photographers crowded around Paris Hilton at the party.",
]
PREDICT = """
import json, sys
import numpy
import arch_tok2vec
from arch_tok2vec import Doc

model = arch_tok2vec.load(sys.argv[1])
texts = json.loads(sys.argv[2])
raw = model.model.predict([Doc.from_text(text) for text in texts])
raw = [numpy.asarray(y) for y in raw] if isinstance(raw, list) else [numpy.asarray(raw)]
print(json.dumps({
    "predictions": model(texts),
    "raw": [[y.dtype.str, list(y.shape), y.tobytes().hex()] for y in raw],
    "meta": model.meta,
}))
"""
CARD = """
import json, sys, yaml

text = open(sys.argv[1], encoding="utf8").read()
assert text.startswith("---\\n"), "no front matter"
data = yaml.safe_load(text[4:].split("\\n---\\n", 1)[0])
print(json.dumps(data))
"""


def main(dist: Path, work: Path) -> int:
    work.mkdir(parents=True, exist_ok=True)
    trainer = venv(work / "venv-trainer")
    families = sorted({family for _, family, _ in MODELS.values()})
    pip(trainer, "--find-links", str(dist), *families, "arch-tok2vec[package]", "pyyaml")
    for name, (config, family, dev) in MODELS.items():
        check_model(name, ROOT / "configs" / config, family, ROOT / dev, trainer, dist, work)
    print(f"model packages: {', '.join(MODELS)} built, installed alone, loaded by name")
    return 0


def check_model(
    name: str, config: Path, family: str, dev: Path, trainer: Path, dist: Path, work: Path
) -> None:
    runs, packages = work / "runs" / name, work / "packages"
    for stale in (runs, packages / f"{name}-0.1.0"):
        shutil.rmtree(stale, ignore_errors=True)
    archs(trainer, "train", str(config), "--output", str(runs), "--training.max_epochs", "2")
    folder = runs / "model-best"
    archs(
        trainer,
        "package",
        str(folder),
        str(packages),
        "--name",
        name,
        "--version",
        "0.1.0",
        "--test",
        str(dev),
    )
    project = packages / f"{name}-0.1.0"
    (wheel,) = (project / "dist").glob("*.whl")
    expected = predict(trainer, str(folder), work)
    check_card(trainer, project / "README.md", expected["meta"], family)

    fresh = venv(work / f"venv-{name}")
    pip(fresh, "--find-links", str(dist), str(wheel))
    arch = sorted(d for d in installed(fresh) if d.startswith("arch-") or d == name)
    assert arch == sorted([name, family, "arch-tok2vec"]), f"{name} installed {arch}"
    got = predict(fresh, name, work)
    assert got["predictions"] == expected["predictions"], (name, got, expected)
    assert got["raw"] == expected["raw"], f"{name}: raw outputs differ from the folder's"
    assert got["meta"] == expected["meta"]
    listed = archs(fresh, "list", "--models")
    assert name in listed.split(), listed
    info = archs(fresh, "info", name)
    assert info.startswith(f"{name}  (model; {name} 0.1.0;") and "model-index:" in info, info
    scored = archs(fresh, "evaluate", name, str(dev))
    card = read_card(trainer, project / "README.md")
    test = card["model-index"][0]["results"][1]
    for metric in test["metrics"]:
        assert f"{metric['type']} " in scored and f"{metric['value']:.4f}" in scored, (
            f"{name}: archs evaluate disagrees with the card's test {metric}:\n{scored}"
        )
    print(f"{name}: {wheel.name} alone in a fresh venv ({', '.join(arch)}): same predictions")


def check_card(trainer: Path, card: Path, meta: Dict[str, Any], family: str) -> None:
    data = read_card(trainer, card)
    assert data["library_name"] == "arch" and family in data["tags"], data
    dev, test = data["model-index"][0]["results"]
    assert (dev["dataset"]["split"], test["dataset"]["split"]) == ("dev", "test"), data
    scores = {m["type"]: m["value"] for m in dev["metrics"]}
    floats = {k: v for k, v in meta["scores"].items() if isinstance(v, float)}
    assert scores == floats and meta["score_key"] in scores, (scores, meta["scores"])
    assert test["metrics"], test


def read_card(python: Path, card: Path) -> Dict[str, Any]:
    return json.loads(run([str(python), "-c", CARD, str(card)]))


def predict(python: Path, model: str, cwd: Path) -> Dict[str, Any]:
    """The model's predictions, raw outputs and meta, from a process in ``cwd``."""
    return json.loads(run([str(python), "-c", PREDICT, model, json.dumps(TEXTS)], cwd=cwd))


def installed(python: Path) -> List[str]:
    out = run([str(python), "-m", "pip", "list", "--format", "json", "--disable-pip-version-check"])
    return [item["name"] for item in json.loads(out)]


def venv(path: Path) -> Path:
    shutil.rmtree(path, ignore_errors=True)
    run([sys.executable, "-m", "venv", str(path)])
    return path / ("Scripts" if os.name == "nt" else "bin") / "python"


def pip(python: Path, *args: str) -> None:
    run([str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", *args])


def archs(python: Path, *args: str) -> str:
    code = "import sys; from arch_tok2vec.cli import main; sys.exit(main(sys.argv[1:]))"
    return run([str(python), "-c", code, *args])


def run(command: List[str], cwd: Path = ROOT) -> str:
    done = subprocess.run(command, capture_output=True, text=True, cwd=cwd)
    if done.returncode != 0:
        shown = " ".join(command[:3] + ["..."] if len(command) > 6 else command)
        raise SystemExit(f"failed ({done.returncode}): {shown}\n{done.stdout}\n{done.stderr}")
    return done.stdout


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]).resolve(), Path(sys.argv[2]).resolve()))
