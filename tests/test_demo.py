"""tools/demo.py, the README's main job: every config's model is shown with its scores and
a prediction beside the gold (tiny training budgets here; `nox -s demo` trains for real)."""

import importlib.util

import pytest

from arch_tok2vec.cli import load_config
from arch_tok2vec.training import train

from declared import ROOT

CONFIGS = sorted(path.stem for path in (ROOT / "configs").glob("*.cfg"))


def _demo():
    spec = importlib.util.spec_from_file_location("demo", ROOT / "tools" / "demo.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_config_has_a_way_to_show_its_predictions():
    demo = _demo()
    tasks = {
        load_config(ROOT / "configs" / f"{name}.cfg", {})["task"]["@tasks"] for name in CONFIGS
    }
    assert {f"arch.{name}.v1" for name in demo.SHOW} >= tasks


@pytest.mark.parametrize("name", CONFIGS)
def test_a_trained_model_is_shown_with_scores_and_a_prediction(name, tmp_path, capsys):
    overrides = {"training.max_epochs": 1, "training.max_steps": 2, "training.max_seconds": 0}
    config = load_config(ROOT / "configs" / f"{name}.cfg", overrides, training=True)
    train(config, tmp_path / name, log=lambda line: None, progress=False)
    _demo()._show_model(tmp_path / name)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("model-best: epoch 1, selected on dev ")
    header, values = lines[1].split(), lines[2].split()
    assert len(header) == len(values) >= 1
    assert any(line.strip().startswith("dev:") for line in lines[3:]), lines
