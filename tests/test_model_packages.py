"""Trained models of the real families as distributions (issue 17): a tagger and an
entity linker (its knowledge base inside the model) trained briefly on their sample
corpora, packaged with ``archs package``, installed from their wheels (unpacked into
a folder on PYTHONPATH) and loaded by name in a fresh process: the same predictions
and raw outputs as the folders they came from. ``nox -s build`` does the same with
pip into fresh venvs (tests/check_model_package.py)."""

import json
import os
import subprocess
import sys
import zipfile

import pytest
import yaml

from arch_tok2vec import load
from arch_tok2vec.cli import load_config
from arch_tok2vec.model_package import package_model
from arch_tok2vec.training import train

from check_model_package import PREDICT, TEXTS
from declared import ROOT

MODELS = {
    "arch-test-tagger": ("tagger", "arch-tagger"),
    "arch-test-linker": ("entity_linker", "arch-entitylinker"),
}


@pytest.fixture(scope="module")
def packaged(tmp_path_factory):
    """{name: (model folder, built package)} for a tagger and an entity linker."""
    out = tmp_path_factory.mktemp("model-packages")
    found = {}
    for name, (config, _) in MODELS.items():
        overrides = {"training.max_epochs": 2}
        settings = load_config(ROOT / "configs" / f"{config}.cfg", overrides, training=True)
        train(settings, out / config, log=lambda line: None, progress=False)
        folder = out / config / "model-best"
        built = package_model(folder, out / "packages", name, "0.1.0", log=lambda line: None)
        found[name] = (folder, built)
    return found


@pytest.fixture(scope="module")
def site(packaged, tmp_path_factory):
    target = tmp_path_factory.mktemp("site")
    for _, built in packaged.values():
        with zipfile.ZipFile(built.wheel) as archive:
            archive.extractall(target)
    return target


def predict(model: str, site, cwd):
    env = {**os.environ, "PYTHONPATH": str(site)}
    done = subprocess.run(
        [sys.executable, "-c", PREDICT, model, json.dumps(TEXTS)],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_a_packaged_model_loads_by_name_and_predicts_as_its_folder(name, packaged, site, tmp_path):
    folder, built = packaged[name]
    by_name = predict(name, site, tmp_path)
    from_folder = predict(str(folder), site, tmp_path)
    assert by_name == from_folder
    assert by_name["predictions"] and any(by_name["predictions"])
    pipeline = load(folder)
    assert by_name["predictions"] == json.loads(json.dumps(pipeline(TEXTS)))


@pytest.mark.parametrize("name", sorted(MODELS))
def test_the_card_of_a_real_model_shows_its_scores(name, packaged):
    folder, built = packaged[name]
    task, family = MODELS[name]
    meta = json.loads((folder / "meta.json").read_text())
    block, body = built.card[4:].split("\n---\n", 1)
    data = yaml.safe_load(block)
    (result,) = data["model-index"][0]["results"]
    metrics = {metric["type"]: metric["value"] for metric in result["metrics"]}
    assert metrics[meta["score_key"]] == meta["scores"][meta["score_key"]]
    assert family in data["tags"] and task in data["tags"]
    assert list(built.requirements) == sorted([family, "arch-tok2vec"])
    assert f"| `{meta['score_key']}` | {meta['scores'][meta['score_key']]:.4f} |" in body
    if task == "entity_linker":
        kb = load(folder).task.kb
        sizes = f"{kb.get_size_entities():,} entities and {kb.get_size_aliases():,} aliases"
        assert f"Its knowledge base, shipped inside the model, holds {sizes}" in body
    else:
        labels = load(folder).task.labels
        assert f"It predicts {len(labels)} labels: `{labels[0]}`" in body
