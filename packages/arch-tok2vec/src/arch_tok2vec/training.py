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

import math
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence, Tuple

import numpy
from thinc.api import Config, Model, fix_random_seed, set_dropout_rate

from .interrupts import StopOnInterrupt
from .memory import check_memory
from .outputs import MODEL_FOLDERS, check_output
from .pipeline import Pipeline
from .settings import (
    TRAINING_DEFAULTS,
    ConfigError,
    check_seed,
    check_training_config,
    check_values,
)
from .task import Example, Task

DEFAULTS = TRAINING_DEFAULTS


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
    score_key: str = ""
    replaced: List[str] = field(default_factory=list)
    """The models of an earlier run this run replaced (``overwrite``), described."""


class TrainingDiverged(ValueError):
    """The loss or the weights became NaN or infinite; nothing of that state was saved."""


class TrainingInterrupted(KeyboardInterrupt):
    """Ctrl-C stopped training after a step; ``model-last`` was saved (if there is
    an output folder).

    result: The epochs completed before the interrupt.
    saved: The model folder written at the interrupt, or None.
    """

    def __init__(self, result: TrainResult, saved: Optional[Path]):
        super().__init__("training interrupted")
        self.result = result
        self.saved = saved


def training_settings(config: Config) -> Dict[str, Any]:
    """The [training] settings with defaults filled in, checked (errors name the setting)."""
    given = dict(config.get("training", {}))
    given.pop("optimizer", None)
    unknown = sorted(set(given) - set(DEFAULTS))
    if unknown:
        raise ConfigError(f"[training] has unknown settings: {', '.join(unknown)}")
    settings = {**DEFAULTS, **given}
    for key in ("max_epochs", "max_steps", "patience"):
        value = settings[key]
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ConfigError(f"[training] {key} must be an integer >= 0, got {value!r}")
    batch = settings["batch_size"]
    if isinstance(batch, bool) or not isinstance(batch, int) or batch < 1:
        raise ConfigError(f"[training] batch_size must be a positive integer, got {batch!r}")
    seconds = settings["max_seconds"]
    if (
        isinstance(seconds, bool)
        or not isinstance(seconds, (int, float))
        or not 0 <= seconds < math.inf
    ):
        raise ConfigError(f"[training] max_seconds must be a number >= 0, got {seconds!r}")
    rate = settings["dropout"]
    if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 <= rate < 1:
        raise ConfigError(f"[training] dropout must be a number in [0, 1), got {rate!r}")
    if not (settings["max_epochs"] or settings["max_steps"] or settings["max_seconds"]):
        raise ConfigError("[training] needs a budget: max_epochs, max_steps or max_seconds")
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
    overwrite: bool = False,
    log: Callable[[str], None] = print,
    progress: Optional[bool] = None,
) -> TrainResult:
    """Train the config's model on its task; save ``model-best`` and ``model-last``
    under ``output``.

    config: The training config (checked first: unknown sections or keys,
        non-finite numbers and a bad seed are errors naming the setting).
    output: The folder for the models; None: save nothing (said in the log).
    overwrite: Replace the models of an output folder that already holds
        something; without it such a folder is refused (OutputExistsError)
        before anything is trained.
    log: Where progress lines go.
    progress: Show a progress bar (None: when the terminal is interactive).

    A NaN or infinite loss stops training (TrainingDiverged) and weights that are
    not finite are never saved. Ctrl-C ends the current step, saves model-last
    and raises TrainingInterrupted.
    """
    from .registry import registry

    check_training_config(config)
    if not getattr(config, "is_interpolated", True):
        config = config.interpolate()
        check_values(config)
    settings = training_settings(config)
    seed = check_seed(config.get("system", {}).get("seed", 0))
    output = Path(output) if output is not None else None
    held = check_output(output, overwrite) if output is not None else {}
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
    check_memory(model, {"model": config["model"], "task": config["task"]})
    train_examples, dev_examples, source = read_corpora(config, task)
    if not train_examples:
        raise ValueError("the training corpus is empty")
    if not dev_examples:
        raise ValueError("the dev corpus is empty")
    task.check(dev_examples, Path(config.get("paths", {}).get("dev") or "sample"))
    n_train, n_dev = len(train_examples), len(dev_examples)
    log(f"task {task.name}: {n_train} train / {n_dev} dev docs from {source}")
    if output is None:
        log("not saving the models: no output folder given")
    else:
        log(
            f"saving to {output}/: model-best (best dev {task.score_key}) and "
            "model-last (the latest epoch)"
        )
        if held:
            listed = "; ".join(held.values())
            log(f"overwrite: {output}/ holds {listed}; its models will be replaced")
    task.initialize(model, train_examples)
    set_dropout_rate(model, settings["dropout"])
    run = _Run(config, model, task, optimizer, settings, seed, output, log)
    run.previous = {name: held[name] for name in MODEL_FOLDERS if name in held}
    with StopOnInterrupt() as interrupts:
        return run.loop(train_examples, dev_examples, interrupts, progress)


class _Run:
    """The state of one training run: the epoch loop, its checks and its saves."""

    def __init__(
        self,
        config: Config,
        model: Model,
        task: Task,
        optimizer: Any,
        settings: Dict[str, Any],
        seed: int,
        output: Optional[Path],
        log: Callable[[str], None],
    ):
        self.config = config
        self.model = model
        self.task = task
        self.optimizer = optimizer
        self.settings = settings
        self.seed = seed
        self.output = output
        self.log = log
        self.result = TrainResult(best_score=-numpy.inf, best_epoch=0, score_key=task.score_key)
        self.previous: Dict[str, str] = {}
        """The model folders of an earlier run in the output folder (overwrite)."""
        self.written: List[str] = []

    def loop(
        self,
        train_examples: List[Example],
        dev_examples: List[Example],
        interrupts: StopOnInterrupt,
        progress: Optional[bool],
    ) -> TrainResult:
        settings, task, result = self.settings, self.task, self.result
        rng = numpy.random.default_rng(self.seed)
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
                batch_loss = task.update(self.model, batch, self.optimizer)
                step += 1
                if not math.isfinite(batch_loss):
                    self._diverged(f"the loss became {batch_loss} at step {step} (epoch {epoch})")
                loss += batch_loss
                words += sum(len(eg.doc) for eg in batch)
                if interrupts.requested:
                    self._interrupted(epoch, step, interrupts)
                if settings["max_steps"] and step >= settings["max_steps"]:
                    stop = f"max_steps ({settings['max_steps']}) reached"
                    break
                if (
                    settings["max_seconds"]
                    and time.perf_counter() - start >= settings["max_seconds"]
                ):
                    stop = f"max_seconds ({settings['max_seconds']}) reached"
                    break
            bad = list(non_finite_weights(self.model))
            if bad:
                self._diverged(f"after epoch {epoch} (step {step}) {bad[0]} is not finite")
            train_seconds = time.perf_counter() - epoch_start
            scores = evaluate(self.model, task, dev_examples)
            epoch_result = EpochResult(
                epoch, loss, scores, words / max(train_seconds, 1e-9), time.perf_counter() - start
            )
            result.epochs.append(epoch_result)
            score = float(scores[task.score_key])
            improved = score > result.best_score
            self.log(_epoch_line(task, epoch_result, improved))
            meta = self._meta(epoch, step, scores)
            if improved:
                result.best_score, result.best_epoch = score, epoch
                epochs_without_gain = 0
                self._save("model-best", {**meta, "best": True}, interrupts)
            else:
                epochs_without_gain += 1
            self._save("model-last", meta, interrupts)
            if interrupts.requested:
                self._interrupted(epoch, step, interrupts, saved_last=True)
            if not stop and settings["max_epochs"] and epoch >= settings["max_epochs"]:
                stop = f"max_epochs ({settings['max_epochs']}) reached"
            if not stop and settings["patience"] and epochs_without_gain >= settings["patience"]:
                stop = f"no better {task.score_key} for {settings['patience']} epochs"
            if stop:
                result.stopped_because = stop
                best = f"best {task.score_key} {result.best_score:.4f} (epoch {result.best_epoch})"
                self.log(f"stopped: {stop}; {best}")
                return result

    def _meta(self, epoch: int, step: int, scores: Dict[str, Any]) -> Dict[str, Any]:
        return {
            "task": self.task.name,
            "epoch": epoch,
            "step": step,
            "score_key": self.task.score_key,
            "scores": scores,
            "seed": self.seed,
        }

    def _save(self, name: str, meta: Dict[str, Any], interrupts: StopOnInterrupt) -> None:
        """Write one model folder; Ctrl-C during the write waits for its end."""
        if self.output is None:
            return
        with interrupts.saving():
            Pipeline(self.config, self.model, self.task, meta).to_disk(self.output / name)
        if name not in self.written:
            self.written.append(name)
            if name in self.previous:
                self.result.replaced.append(self.previous[name])
                self.log(f"replaced the previous {self.previous[name]} in {self.output}/")

    def _interrupted(
        self, epoch: int, step: int, interrupts: StopOnInterrupt, saved_last: bool = False
    ) -> None:
        """Stop after Ctrl-C: save model-last (unless the epoch's save just did),
        say where, raise TrainingInterrupted."""
        where = f"step {step} (epoch {epoch})"
        saved: Optional[Path] = None
        if self.output is None:
            self.log(f"interrupted at {where}; nothing saved (no output folder)")
        elif saved_last:
            saved = self.output / "model-last"
            self.log(f"interrupted at {where}; saved {saved} (epoch {epoch}, evaluated)")
        else:
            bad = list(non_finite_weights(self.model))
            if bad:
                self._diverged(f"at the interrupt, {where}, {bad[0]} is not finite")
            meta = {**self._meta(epoch, step, {}), "interrupted": True}
            self._save("model-last", meta, interrupts)
            saved = self.output / "model-last"
            self._drop_stale_best(interrupts)
            self.log(f"interrupted at {where}; saved {saved} (not evaluated)")
        self.result.stopped_because = f"interrupted (Ctrl-C) at {where}"
        if self.result.best_epoch:
            best = self.output / "model-best" if self.output is not None else "model-best"
            score = f"{self.task.score_key} {self.result.best_score:.4f}"
            self.log(f"best so far: {best} ({score}, epoch {self.result.best_epoch})")
        raise TrainingInterrupted(self.result, saved)

    def _drop_stale_best(self, interrupts: StopOnInterrupt) -> None:
        """Interrupted before this run saved a model-best, in a folder it was asked
        to overwrite: the previous run's model-best does not belong beside this
        run's model-last."""
        if self.output is None or "model-best" in self.written:
            return
        if "model-best" in self.previous and (self.output / "model-best").is_dir():
            with interrupts.saving():
                shutil.rmtree(self.output / "model-best")
            self.result.replaced.append(self.previous["model-best"])
            self.log(f"removed the previous {self.previous['model-best']} from {self.output}/")

    def _diverged(self, what: str) -> None:
        """Stop: the model is no longer finite; nothing of it is saved."""
        if self.output is not None and self.written:
            kept = f"{self.output}/ keeps the models saved before ({', '.join(self.written)})"
        elif self.output is not None:
            kept = f"nothing was saved in {self.output}/"
        else:
            kept = "nothing was saved"
        raise TrainingDiverged(
            f"{what}: training stopped and this state was not saved; {kept}. "
            "A smaller [training.optimizer] learn_rate usually helps."
        )


def non_finite_weights(model: Model) -> Iterator[str]:
    """Each weight array of the model holding NaN or infinity, as "layer NAME param P"."""
    for node in model.walk():
        for name in node.param_names:
            if node.has_param(name) and not node.ops.xp.isfinite(node.get_param(name)).all():
                yield f"layer {node.name} param {name}"


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
