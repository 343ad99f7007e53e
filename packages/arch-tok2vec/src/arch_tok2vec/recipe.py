"""The [training] section read into a recipe: budgets, batches, evaluation
schedule, the weighted score that selects model-best, gradient accumulation, the
dev hold-out and the optimizer (docs/training.md lists every key).

Every value is checked here, before anything is trained; an error names the
setting (``[training] eval_frequency must be ...``).
"""

import math
from dataclasses import dataclass
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, Tuple

from .batchers import batch_by_documents
from .settings import DEFAULT_OPTIMIZER, TRAINING_DEFAULTS, ConfigError, config_literal
from .suggest import did_you_mean
from .task import Example, Task

BatchFn = Callable[[Sequence[Example]], Iterable[List[Example]]]


@dataclass
class Recipe:
    """The checked [training] settings (see docs/training.md for each).

    settings: The plain settings, defaults filled in.
    weights: {metric: weight} whose weighted sum of dev scores selects model-best.
    batches: Cuts an epoch's shuffled examples into update batches.
    """

    settings: Dict[str, Any]
    weights: Dict[str, float]
    batches: BatchFn

    def __getitem__(self, key: str) -> Any:
        return self.settings[key]

    def weighted(self, scores: Dict[str, Any]) -> float:
        """The selection score: the weighted sum of the dev scores."""
        return float(sum(weight * float(scores[key]) for key, weight in self.weights.items()))

    def describe_score(self) -> str:
        """What selects model-best, e.g. "las" or "0.5 uas + 0.5 las"."""
        if len(self.weights) == 1 and next(iter(self.weights.values())) == 1.0:
            return next(iter(self.weights))
        return " + ".join(f"{weight:g} {key}" for key, weight in self.weights.items())


def read_settings(config: Dict[str, Any]) -> Dict[str, Any]:
    """The plain [training] settings with defaults filled in, each checked (errors
    name the setting). Blocks (batcher, optimizer) are read by ``optimizer_block``
    and ``read_recipe``."""
    given = {k: v for k, v in dict(config.get("training", {})).items()}
    for block in ("optimizer", "batcher"):
        given.pop(block, None)
    unknown = sorted(set(given) - set(TRAINING_DEFAULTS))
    if unknown:
        raise ConfigError(f"[training] has unknown settings: {', '.join(unknown)}")
    settings = {**TRAINING_DEFAULTS, **given}
    for key in ("max_epochs", "max_steps", "patience", "eval_frequency"):
        _integer(settings, key, 0)
    for key in ("batch_size", "accumulate_gradient"):
        _integer(settings, key, 1)
    seconds = settings["max_seconds"]
    if not _number(seconds) or not 0 <= seconds < math.inf:
        raise ConfigError(f"[training] max_seconds must be a number >= 0, got {seconds!r}")
    rate = settings["dropout"]
    if not _number(rate) or not 0 <= rate < 1:
        raise ConfigError(f"[training] dropout must be a number in [0, 1), got {rate!r}")
    fraction = settings["dev_fraction"]
    if not _number(fraction) or not (fraction == 0 or 0 < fraction < 1):
        raise ConfigError(
            f"[training] dev_fraction must be a number between 0 and 1 (the share of the "
            f"training corpus held out as dev; 0: none), got {fraction!r}"
        )
    if not (settings["max_epochs"] or settings["max_steps"] or settings["max_seconds"]):
        raise ConfigError("[training] needs a budget: max_epochs, max_steps or max_seconds")
    weights = settings["score_weights"]
    if weights is not None and not isinstance(weights, dict):
        raise ConfigError(
            f"[training] score_weights must be a table of metric = weight, e.g. "
            f'{{"uas": 0.5, "las": 0.5}}, got {weights!r}'
        )
    if config.get("training", {}).get("batcher") is not None and "batch_size" in given:
        raise ConfigError(
            "[training] has both batch_size and a [training.batcher] block: give one "
            "(batch_size counts documents; the batcher decides the batches itself)"
        )
    return settings


def optimizer_block(config: Dict[str, Any]) -> Dict[str, Any]:
    """The [training.optimizer] block to build: arch's default optimizer (spaCy's)
    when the config has none; an ``Adam.v1`` block completed with the default's
    settings it leaves out (as spaCy's config does); any other block as written."""
    block = config.get("training", {}).get("optimizer")
    if block is None:
        return dict(DEFAULT_OPTIMIZER)
    if block.get("@optimizers") == DEFAULT_OPTIMIZER["@optimizers"]:
        return {**DEFAULT_OPTIMIZER, **block}
    return dict(block)


def read_recipe(settings: Dict[str, Any], batcher: Optional[Any], task: Task) -> Recipe:
    """The recipe of a run, checked against its task.

    settings: From ``read_settings``.
    batcher: The [training.batcher] built (None: batches of batch_size documents).
    task: The task: its metrics are the names score_weights may use.
    """
    weights = score_weights(settings["score_weights"], task)
    if batcher is None:
        size = settings["batch_size"]

        def batches(examples: Sequence[Example]) -> Iterable[List[Example]]:
            return batch_by_documents(examples, size)

    else:
        if not callable(batcher):
            raise ConfigError(f"[training.batcher] must build a batcher, got {batcher!r}")
        batches = batcher
    return Recipe(settings, weights, batches)


def task_metrics(task: Task) -> Tuple[str, ...]:
    """The scores of a task that may select a model (``Task.metrics``; a task
    that lists none: its ``score_key``)."""
    return tuple(task.metrics) or (task.score_key,)


def score_weights(given: Optional[Dict[str, Any]], task: Task) -> Dict[str, float]:
    """{metric: weight} from [training] score_weights (None: the task's score_key
    alone). Unknown metrics are refused with the close names; a weight of null
    leaves the metric out (spaCy's meaning); at least one weight must be nonzero."""
    if given is None:
        return {task.score_key: 1.0}
    metrics = task_metrics(task)
    weights: Dict[str, float] = {}
    for key, weight in given.items():
        if key not in metrics:
            raise ConfigError(
                f"[training] score_weights: {key!r} is not a score of task {task.name}."
                + did_you_mean(key, metrics)
                + f" Its scores: {', '.join(metrics)}."
            )
        if weight is None:
            continue
        if not _number(weight) or not math.isfinite(weight):
            raise ConfigError(
                f"[training] score_weights: the weight of {key} must be a number, got "
                + config_literal(weight)
            )
        weights[key] = float(weight)
    if not any(weights.values()):
        raise ConfigError(
            "[training] score_weights: give at least one metric a nonzero weight "
            f"(task {task.name} has {', '.join(metrics)})"
        )
    return weights


def _integer(settings: Dict[str, Any], key: str, minimum: int) -> None:
    value = settings[key]
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        kind = "a positive integer" if minimum == 1 else f"an integer >= {minimum}"
        raise ConfigError(f"[training] {key} must be {kind}, got {value!r}")


def _number(value: Any) -> bool:
    return not isinstance(value, bool) and isinstance(value, (int, float))
