"""The training loop shared by every task (``archs train``).

The config names the task, the model, the corpus paths, the optimizer and the
budget::

    [paths]
    train = "train.conllu"      # null: the task's embedded sample corpus
    dev = "dev.conllu"

    [system]
    seed = 0

    [task]
    @tasks = "arch.tagger.v1"

    [model]
    @architectures = "spacy.Tagger.v1"
    ...

    [training]
    max_epochs = 10     # 0: no limit
    max_steps = 0       # updates; 0: no limit
    max_seconds = 0     # wall-clock budget; 0: no limit
    patience = 3        # epochs without a better dev score before stopping; 0: never
    batch_size = 32     # documents per update
    dropout = 0.1       # rate set on every dropout layer while training

    [training.optimizer]
    @optimizers = "Adam.v1"
    learn_rate = 0.001
"""

import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import numpy
from thinc.api import Config, Model, fix_random_seed, set_dropout_rate

from .pipeline import Pipeline
from .task import Example, Task

DEFAULTS = {
    "max_epochs": 10,
    "max_steps": 0,
    "max_seconds": 0,
    "patience": 3,
    "batch_size": 32,
    "dropout": 0.1,
}


@dataclass
class EpochResult:
    epoch: int
    loss: float
    scores: Dict[str, Any]
    words_per_second: float
    seconds: float


@dataclass
class TrainResult:
    best_score: float
    best_epoch: int
    epochs: List[EpochResult] = field(default_factory=list)
    stopped_because: str = ""


def training_settings(config: Config) -> Dict[str, Any]:
    """The [training] settings with defaults filled in, checked (errors name the setting)."""
    given = dict(config.get("training", {}))
    given.pop("optimizer", None)
    unknown = sorted(set(given) - set(DEFAULTS))
    if unknown:
        raise ValueError(f"[training] has unknown settings: {', '.join(unknown)}")
    settings = {**DEFAULTS, **given}
    for key in ("max_epochs", "max_steps", "patience"):
        value = settings[key]
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(f"[training] {key} must be an integer >= 0, got {value!r}")
    batch = settings["batch_size"]
    if isinstance(batch, bool) or not isinstance(batch, int) or batch < 1:
        raise ValueError(f"[training] batch_size must be a positive integer, got {batch!r}")
    seconds = settings["max_seconds"]
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or seconds < 0:
        raise ValueError(f"[training] max_seconds must be a number >= 0, got {seconds!r}")
    rate = settings["dropout"]
    if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 <= rate < 1:
        raise ValueError(f"[training] dropout must be a number in [0, 1), got {rate!r}")
    if not (settings["max_epochs"] or settings["max_steps"] or settings["max_seconds"]):
        raise ValueError("[training] needs a budget: max_epochs, max_steps or max_seconds")
    return settings


def read_corpora(config: Config, task: Task) -> Tuple[List[Example], List[Example], str]:
    """Train and dev examples from [paths], or the task's sample corpus."""
    paths = config.get("paths", {})
    train_path, dev_path = paths.get("train"), paths.get("dev")
    if train_path is None and dev_path is None:
        train, dev = task.sample()
        return train, dev, "the embedded sample corpus"
    if train_path is None or dev_path is None:
        raise ValueError("[paths] needs both train and dev (or neither, for the sample corpus)")
    train = task.read(Path(train_path))
    dev = task.read(Path(dev_path))
    return train, dev, f"{train_path} / {dev_path}"


def train(
    config: Config,
    output: Optional[Path] = None,
    *,
    log: Callable[[str], None] = print,
    progress: Optional[bool] = None,
) -> TrainResult:
    """Train the config's model on its task; save ``model-best`` and ``model-last``
    under ``output`` if given. ``progress``: show a progress bar (None: when the
    terminal is interactive)."""
    from .registry import registry

    settings = training_settings(config)
    seed = config.get("system", {}).get("seed", 0)
    fix_random_seed(seed)
    resolved = registry.resolve(
        {
            "task": config["task"],
            "model": config["model"],
            "optimizer": config.get("training", {}).get("optimizer", {"@optimizers": "Adam.v1"}),
        }
    )
    task: Task = resolved["task"]
    model: Model = resolved["model"]
    optimizer = resolved["optimizer"]
    train_examples, dev_examples, source = read_corpora(config, task)
    if not train_examples:
        raise ValueError("the training corpus is empty")
    if not dev_examples:
        raise ValueError("the dev corpus is empty")
    task.check(dev_examples, Path(config.get("paths", {}).get("dev") or "sample"))
    n_train, n_dev = len(train_examples), len(dev_examples)
    log(f"task {task.name}: {n_train} train / {n_dev} dev docs from {source}")
    task.initialize(model, train_examples)
    set_dropout_rate(model, settings["dropout"])
    rng = numpy.random.default_rng(seed)
    result = TrainResult(best_score=-numpy.inf, best_epoch=0)
    start = time.perf_counter()
    step = 0
    epochs_without_gain = 0
    epoch = 0
    while True:
        epoch += 1
        epoch_start = time.perf_counter()
        order = rng.permutation(len(train_examples))
        batches = [
            [train_examples[i] for i in order[j : j + settings["batch_size"]]]
            for j in range(0, len(order), settings["batch_size"])
        ]
        loss = 0.0
        words = 0
        stop = ""
        for batch in _progress(batches, f"epoch {epoch}", progress):
            loss += task.update(model, batch, optimizer)
            words += sum(len(eg.doc) for eg in batch)
            step += 1
            if settings["max_steps"] and step >= settings["max_steps"]:
                stop = f"max_steps ({settings['max_steps']}) reached"
                break
            if settings["max_seconds"] and time.perf_counter() - start >= settings["max_seconds"]:
                stop = f"max_seconds ({settings['max_seconds']}) reached"
                break
        train_seconds = time.perf_counter() - epoch_start
        scores = evaluate(model, task, dev_examples)
        epoch_result = EpochResult(
            epoch, loss, scores, words / max(train_seconds, 1e-9), time.perf_counter() - start
        )
        result.epochs.append(epoch_result)
        score = float(scores[task.score_key])
        improved = score > result.best_score
        log(_epoch_line(task, epoch_result, improved))
        meta = {"task": task.name, "epoch": epoch, "scores": scores, "seed": seed}
        if improved:
            result.best_score, result.best_epoch = score, epoch
            epochs_without_gain = 0
            if output is not None:
                Pipeline(config, model, task, {**meta, "best": True}).to_disk(output / "model-best")
        else:
            epochs_without_gain += 1
        if output is not None:
            Pipeline(config, model, task, meta).to_disk(output / "model-last")
        if not stop and settings["max_epochs"] and epoch >= settings["max_epochs"]:
            stop = f"max_epochs ({settings['max_epochs']}) reached"
        if not stop and settings["patience"] and epochs_without_gain >= settings["patience"]:
            stop = f"no better {task.score_key} for {settings['patience']} epochs"
        if stop:
            result.stopped_because = stop
            best = f"best {task.score_key} {result.best_score:.4f} (epoch {result.best_epoch})"
            log(f"stopped: {stop}; {best}")
            return result


def evaluate(
    model: Model, task: Task, examples: Sequence[Example], batch_size: int = 128
) -> Dict[str, Any]:
    """Score a model on examples with its task's metric."""
    predictions: List[Any] = []
    docs = [eg.doc for eg in examples]
    for start in range(0, len(docs), batch_size):
        predictions.extend(task.predict(model, docs[start : start + batch_size]))
    return task.score(examples, predictions)


def _epoch_line(task: Task, result: EpochResult, improved: bool) -> str:
    shown = {k: v for k, v in result.scores.items() if isinstance(v, float)}
    scores = "  ".join(f"{k} {v:.4f}" for k, v in shown.items())
    mark = "  (best)" if improved else ""
    return (
        f"epoch {result.epoch:3d}  loss {result.loss:10.3f}  {scores}  "
        f"{result.words_per_second:,.0f} words/s{mark}"
    )


def _progress(batches: List[Any], description: str, enabled: Optional[bool]) -> Any:
    from tqdm import tqdm

    disable = (not sys.stderr.isatty()) if enabled is None else not enabled
    return tqdm(batches, desc=description, unit="batch", leave=False, disable=disable)
