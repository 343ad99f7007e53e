"""Every config of configs/ trains on its task's sample corpus, and its task reports each
score of its ``metrics`` (the names ``[training] score_weights`` may weight) as a number."""

import math

import pytest

from arch_tok2vec.cli.common import load_config
from arch_tok2vec.training import train

from declared import ROOT

CONFIGS = sorted((ROOT / "configs").glob("*.cfg"))


@pytest.mark.parametrize("path", CONFIGS, ids=[p.stem for p in CONFIGS])
def test_every_metric_of_the_task_is_reported(path):
    overrides = {"training.max_epochs": 1, "training.max_steps": 2}
    config = load_config(path, overrides, training=True)
    result = train(config, None, log=lambda line: None, progress=False)
    from arch_tok2vec import registry

    task = registry.resolve({"task": config.interpolate()["task"]})["task"]
    assert task.metrics and task.score_key in task.metrics
    scores = result.epochs[-1].scores
    for metric in task.metrics:
        value = scores[metric]
        assert isinstance(value, float) and math.isfinite(value), (metric, value)
