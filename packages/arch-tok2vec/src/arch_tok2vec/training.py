"""The training loop shared by every task (``archs train``).

The config names the task, the model, the corpus paths and the recipe
(docs/training.md lists every key)::

    [paths]
    train = "train.conllu"      # null: the task's embedded sample corpus
    dev = "dev.conllu"          # null with [training] dev_fraction: held out of train

    [system]
    seed = 0

    [task]
    @tasks = "arch.tagger.v1"

    [model]
    @architectures = "spacy.Tagger.v1"
    ...

    [training]
    max_epochs = 10             # 0: no limit
    max_steps = 0               # updates; 0: no limit
    max_seconds = 0             # wall-clock budget; 0: no limit
    patience = 3                # evaluations' unit: epochs, or steps with eval_frequency
    eval_frequency = 0          # score dev every N updates; 0: after every epoch
    score_weights = null        # {metric: weight} selecting model-best; null: the task's key
    batch_size = 32             # documents per update (or a [training.batcher] block)
    accumulate_gradient = 1     # sub-batches whose gradients make one update
    dropout = 0.1
    dev_fraction = 0.0          # share of train held out as dev when there is no dev file

    [training.optimizer]        # absent: arch's default (spaCy's Adam.v1 settings)
    @optimizers = "Adam.v1"
    learn_rate = 0.001

Each evaluation saves ``model-last`` (and ``model-best`` when the weighted dev
score improves) and appends a line to ``train.jsonl`` (``training_log``).
"""

import contextlib
import math
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence, Tuple

import numpy
from thinc.api import Config, Model, fix_random_seed, set_dropout_rate

from .accumulate import Deferred, subdivide
from .holdout import hold_out
from .interrupts import StopOnInterrupt
from .memory import check_memory
from .outputs import LOG_FILE, MODEL_FOLDERS, check_output
from .pipeline import Pipeline
from .recipe import Recipe, optimizer_block, read_recipe, read_settings
from .settings import ConfigError, check_seed, check_training_config, check_values
from .task import Example, Task
from .training_log import TrainingLog


@dataclass
class EpochResult:
    """One evaluation on the dev set (after an epoch, or every eval_frequency steps).

    epoch: The epoch it happened in.
    loss: The training loss summed over the updates since the previous evaluation.
    scores: The task's dev scores.
    words_per_second: Training speed since the previous evaluation.
    seconds: Elapsed since training started.
    step: Updates done so far.
    words: Training words seen so far.
    score: The weighted score that selects model-best.
    """

    epoch: int
    loss: float
    scores: Dict[str, Any]
    words_per_second: float
    seconds: float
    step: int = 0
    words: int = 0
    score: float = 0.0


@dataclass
class TrainResult:
    best_score: float
    best_epoch: int
    epochs: List[EpochResult] = field(default_factory=list)
    """Every evaluation, in order (one per epoch unless eval_frequency is set)."""
    stopped_because: str = ""
    score_key: str = ""
    """What selects model-best: the task's score_key, or the weighted mix
    ("0.5 uas + 0.5 las")."""
    replaced: List[str] = field(default_factory=list)
    """The models of an earlier run this run replaced (``overwrite``), described."""
    best_step: int = 0
    score_weights: Dict[str, float] = field(default_factory=dict)


class TrainingDiverged(ValueError):
    """The loss or the weights became NaN or infinite; nothing of that state was saved."""


class TrainingInterrupted(KeyboardInterrupt):
    """Ctrl-C stopped training after a step; ``model-last`` was saved (if there is
    an output folder).

    result: The evaluations completed before the interrupt.
    saved: The model folder written at the interrupt, or None.
    """

    def __init__(self, result: TrainResult, saved: Optional[Path]):
        super().__init__("training interrupted")
        self.result = result
        self.saved = saved


def read_corpora(
    config: Config, task: Task, dev_fraction: float = 0.0, seed: int = 0
) -> Tuple[List[Example], List[Example], str]:
    """Train and dev examples from [paths], the task's sample corpus, or [paths]
    train split by ``dev_fraction``.

    config: The training config.
    task: Reads the corpora (and gives the classes a held-out dev keeps in
        proportion).
    dev_fraction: The share of train to hold out as dev (0: use [paths] dev).
    seed: The seed of the hold-out.
    """
    paths = config.get("paths", {})
    train_path, dev_path = paths.get("train"), paths.get("dev")
    if dev_fraction:
        if dev_path is not None:
            raise ConfigError(
                f"[training] dev_fraction = {dev_fraction:g} and [paths] dev = {dev_path!r} "
                "are both given: hold out part of train, or use the dev file (set dev_fraction "
                "to 0 or paths.dev to null)"
            )
        if train_path is None:
            raise ConfigError(
                f"[training] dev_fraction = {dev_fraction:g} holds out part of [paths] train, "
                "which is null (the sample corpus has a dev set of its own)"
            )
        train, dev, how = hold_out(task.read(Path(train_path)), dev_fraction, seed, task)
        return train, dev, f"{train_path} ({how})"
    if train_path is None and dev_path is None:
        train, dev = task.sample()
        return train, dev, "the embedded sample corpus"
    if train_path is None or dev_path is None:
        raise ValueError(
            "[paths] needs both train and dev (or neither, for the sample corpus); "
            "without a dev file, set [training] dev_fraction to hold out part of train"
        )
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
    """Train the config's model on its task; save ``model-best``, ``model-last``
    and the log ``train.jsonl`` under ``output``.

    config: The training config (checked first: unknown sections or keys,
        non-finite numbers and a bad seed are errors naming the setting).
    output: The folder for the models and the log; None: save nothing (said in
        the log).
    overwrite: Replace the models (and the log) of an output folder that already
        holds something; without it such a folder is refused (OutputExistsError)
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
    settings = read_settings(config)
    seed = check_seed(config.get("system", {}).get("seed", 0))
    output = Path(output) if output is not None else None
    held = check_output(output, overwrite) if output is not None else {}
    fix_random_seed(seed)
    blocks = {
        "task": config["task"],
        "model": config["model"],
        "optimizer": optimizer_block(config),
    }
    batcher_block = config.get("training", {}).get("batcher")
    if batcher_block is not None:
        blocks["batcher"] = batcher_block
    resolved = registry.resolve(blocks)
    task: Task = resolved["task"]
    model: Model = resolved["model"]
    optimizer = resolved["optimizer"]
    recipe = read_recipe(settings, resolved.get("batcher"), task)
    check_memory(model, {"model": config["model"], "task": config["task"]})
    train_examples, dev_examples, source = read_corpora(
        config, task, settings["dev_fraction"], seed
    )
    if not train_examples:
        raise ValueError("the training corpus is empty")
    if not dev_examples:
        raise ValueError("the dev corpus is empty")
    paths = config.get("paths", {})
    task.check(dev_examples, Path(paths.get("dev") or paths.get("train") or "sample"))
    n_train, n_dev = len(train_examples), len(dev_examples)
    log(f"task {task.name}: {n_train} train / {n_dev} dev docs from {source}")
    selected_by = recipe.describe_score()
    if output is None:
        log("not saving the models: no output folder given")
    else:
        log(
            f"saving to {output}/: model-best (best dev {selected_by}), model-last (the "
            f"latest evaluation) and {LOG_FILE} (every evaluation)"
        )
        if held:
            listed = "; ".join(held.values())
            log(f"overwrite: {output}/ holds {listed}; its models will be replaced")
    task.initialize(model, train_examples)
    set_dropout_rate(model, settings["dropout"])
    run = _Run(config, model, task, optimizer, recipe, seed, output, log)
    run.previous = {name: held[name] for name in (*MODEL_FOLDERS, LOG_FILE) if name in held}
    with StopOnInterrupt() as interrupts:
        return run.loop(train_examples, dev_examples, interrupts, progress)


class _Run:
    """The state of one training run: the update loop, its evaluations, checks
    and saves."""

    def __init__(
        self,
        config: Config,
        model: Model,
        task: Task,
        optimizer: Any,
        recipe: Recipe,
        seed: int,
        output: Optional[Path],
        log: Callable[[str], None],
    ):
        self.config = config
        self.model = model
        self.task = task
        self.optimizer = optimizer
        self.recipe = recipe
        self.settings = recipe.settings
        self.seed = seed
        self.output = output
        self.log = log
        self.result = TrainResult(
            best_score=-numpy.inf,
            best_epoch=0,
            score_key=recipe.describe_score(),
            score_weights=dict(recipe.weights),
        )
        self.previous: Dict[str, str] = {}
        """What an earlier run left in the output folder (overwrite): its model
        folders and its log."""
        self.written: List[str] = []
        self.journal = TrainingLog(output) if output is not None else None
        self.step = 0
        self.words = 0
        self.evaluations_without_gain = 0
        self.start = 0.0
        self.since = _Since()

    def loop(
        self,
        train_examples: List[Example],
        dev_examples: List[Example],
        interrupts: StopOnInterrupt,
        progress: Optional[bool],
    ) -> TrainResult:
        settings, result = self.settings, self.result
        every = settings["eval_frequency"]
        rng = numpy.random.default_rng(self.seed)
        self.start = time.perf_counter()
        self.since = _Since(started=self.start)
        epoch = 0
        while True:
            epoch += 1
            order = rng.permutation(len(train_examples))
            batches = list(self.recipe.batches([train_examples[i] for i in order]))
            if not batches:
                raise ConfigError(
                    "[training.batcher] gave no batch for an epoch: every document is longer "
                    "than its size allows (discard_oversize = true)"
                )
            stop = ""
            for batch in _progress(batches, f"epoch {epoch}", progress):
                batch_loss = self._update(batch)
                self.step += 1
                if not math.isfinite(batch_loss):
                    self._diverged(
                        f"the loss became {batch_loss} at step {self.step} (epoch {epoch})"
                    )
                self.since.loss += batch_loss
                self.since.words += sum(len(eg.doc) for eg in batch)
                if interrupts.requested:
                    self._interrupted(epoch, interrupts)
                if settings["max_steps"] and self.step >= settings["max_steps"]:
                    stop = f"max_steps ({settings['max_steps']}) reached"
                elif (
                    settings["max_seconds"]
                    and time.perf_counter() - self.start >= settings["max_seconds"]
                ):
                    stop = f"max_seconds ({settings['max_seconds']}) reached"
                if stop:
                    break
                if every and self.step % every == 0:
                    stop = self._evaluate(epoch, dev_examples, interrupts)
                    if stop:
                        break
            if not stop and settings["max_epochs"] and epoch >= settings["max_epochs"]:
                stop = f"max_epochs ({settings['max_epochs']}) reached"
            evaluated = bool(result.epochs) and result.epochs[-1].step == self.step
            if not every or (stop and not evaluated):
                stop = self._evaluate(epoch, dev_examples, interrupts) or stop
            if stop:
                result.stopped_because = stop
                best = (
                    f"best {result.score_key} {result.best_score:.4f} "
                    f"(epoch {result.best_epoch}, step {result.best_step})"
                )
                self.log(f"stopped: {stop}; {best}")
                return result

    def _update(self, batch: List[Example]) -> float:
        """One optimizer step on a batch (its sub-batches' gradients added up
        first with accumulate_gradient); returns the loss."""
        parts = self.settings["accumulate_gradient"]
        if parts == 1:
            loss = self.task.update(self.model, batch, self.optimizer)
        else:
            pieces = subdivide(batch, parts)
            deferred = Deferred(self.optimizer)
            loss = 0.0
            for i, piece in enumerate(pieces):
                deferred.final = i == len(pieces) - 1
                loss += self.task.update(self.model, piece, deferred)
            deferred.flush(self.model)
        if hasattr(self.optimizer, "step_schedules"):
            self.optimizer.step_schedules()
        return loss

    def _evaluate(
        self, epoch: int, dev_examples: List[Example], interrupts: StopOnInterrupt
    ) -> str:
        """Score dev, save model-best (if better) and model-last, append to the
        log; returns why to stop (patience) or ""."""
        result, settings = self.result, self.settings
        bad = list(non_finite_weights(self.model))
        if bad:
            self._diverged(f"after epoch {epoch} (step {self.step}) {bad[0]} is not finite")
        self.words += self.since.words
        train_seconds = time.perf_counter() - self.since.started
        with self._averages():
            scores = evaluate(self.model, self.task, dev_examples)
        missing = [key for key in self.recipe.weights if key not in scores]
        if missing:
            raise ValueError(
                f"task {self.task.name} reported no {missing[0]!r} score, which "
                "[training] score_weights uses"
            )
        score = self.recipe.weighted(scores)
        evaluation = EpochResult(
            epoch=epoch,
            loss=self.since.loss,
            scores=scores,
            words_per_second=self.since.words / max(train_seconds, 1e-9),
            seconds=time.perf_counter() - self.start,
            step=self.step,
            words=self.words,
            score=score,
        )
        result.epochs.append(evaluation)
        improved = score > result.best_score
        self.log(_evaluation_line(evaluation, improved, self.recipe))
        meta = self._meta(epoch, scores, score)
        if improved:
            result.best_score, result.best_epoch, result.best_step = score, epoch, self.step
            self.evaluations_without_gain = 0
            self._save("model-best", {**meta, "best": True}, interrupts)
        else:
            self.evaluations_without_gain += 1
        self._save("model-last", meta, interrupts)
        self._record(evaluation, improved)
        if interrupts.requested:
            self._interrupted(epoch, interrupts, saved_last=True)
        self.since = _Since(started=time.perf_counter())
        patience = settings["patience"]
        if not patience:
            return ""
        if settings["eval_frequency"]:
            if self.step - result.best_step >= patience:
                return f"no better {result.score_key} for {patience} steps"
        elif self.evaluations_without_gain >= patience:
            return f"no better {result.score_key} for {patience} epochs"
        return ""

    def _averages(self) -> Any:
        """Use the optimizer's averaged weights (use_averages = true), as spaCy
        does when it scores and saves; else the weights as they are."""
        averages = getattr(self.optimizer, "averages", None)
        if averages:
            return self.model.use_params(averages)
        return contextlib.nullcontext()

    def _record(self, evaluation: EpochResult, best: bool) -> None:
        """Append the evaluation to train.jsonl."""
        if self.journal is None:
            return
        self.journal.write(
            {
                "step": evaluation.step,
                "epoch": evaluation.epoch,
                "words": evaluation.words,
                "loss": evaluation.loss,
                "score": evaluation.score,
                "best": best,
                "scores": evaluation.scores,
                "words_per_second": evaluation.words_per_second,
                "seconds": evaluation.seconds,
            }
        )
        self._note_replaced(LOG_FILE)

    def _meta(self, epoch: int, scores: Dict[str, Any], score: Optional[float]) -> Dict[str, Any]:
        meta = {
            "task": self.task.name,
            "epoch": epoch,
            "step": self.step,
            "score_key": self.task.score_key,
            "scores": scores,
            "seed": self.seed,
        }
        if score is not None:
            meta.update(
                score=score, selected_by=self.result.score_key, score_weights=self.recipe.weights
            )
        return meta

    def _save(self, name: str, meta: Dict[str, Any], interrupts: StopOnInterrupt) -> None:
        """Write one model folder; Ctrl-C during the write waits for its end."""
        if self.output is None:
            return
        with interrupts.saving(), self._averages():
            Pipeline(self.config, self.model, self.task, meta).to_disk(self.output / name)
        if name not in self.written:
            self.written.append(name)
        self._note_replaced(name)

    def _note_replaced(self, name: str) -> None:
        """Say once that this run replaced what an earlier run left under ``name``."""
        if name in self.previous:
            self.result.replaced.append(self.previous.pop(name))
            self.log(f"replaced the previous {self.result.replaced[-1]} in {self.output}/")

    def _interrupted(
        self, epoch: int, interrupts: StopOnInterrupt, saved_last: bool = False
    ) -> None:
        """Stop after Ctrl-C: save model-last (unless the evaluation's save just
        did), say where, raise TrainingInterrupted."""
        where = f"step {self.step} (epoch {epoch})"
        saved: Optional[Path] = None
        if self.output is None:
            self.log(f"interrupted at {where}; nothing saved (no output folder)")
        elif saved_last:
            saved = self.output / "model-last"
            self.log(f"interrupted at {where}; saved {saved} (step {self.step}, evaluated)")
        else:
            bad = list(non_finite_weights(self.model))
            if bad:
                self._diverged(f"at the interrupt, {where}, {bad[0]} is not finite")
            meta = {**self._meta(epoch, {}, None), "interrupted": True}
            self._save("model-last", meta, interrupts)
            saved = self.output / "model-last"
            self._drop_stale(interrupts)
            self.log(f"interrupted at {where}; saved {saved} (not evaluated)")
        self.result.stopped_because = f"interrupted (Ctrl-C) at {where}"
        if self.result.best_epoch:
            best = self.output / "model-best" if self.output is not None else "model-best"
            score = f"{self.result.score_key} {self.result.best_score:.4f}"
            self.log(
                f"best so far: {best} ({score}, epoch {self.result.best_epoch}, "
                f"step {self.result.best_step})"
            )
        raise TrainingInterrupted(self.result, saved)

    def _drop_stale(self, interrupts: StopOnInterrupt) -> None:
        """Interrupted before this run saved a model-best (or wrote its log), in a
        folder it was asked to overwrite: the previous run's model-best and log do
        not belong beside this run's model-last."""
        if self.output is None:
            return
        for name in ("model-best", LOG_FILE):
            if name not in self.previous:
                continue
            path = self.output / name
            with interrupts.saving():
                if path.is_dir():
                    shutil.rmtree(path)
                elif path.exists():
                    path.unlink()
            self.result.replaced.append(self.previous.pop(name))
            self.log(f"removed the previous {self.result.replaced[-1]} from {self.output}/")

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


def _evaluation_line(result: EpochResult, improved: bool, recipe: Recipe) -> str:
    shown = {k: v for k, v in result.scores.items() if isinstance(v, float)}
    scores = "  ".join(f"{k} {v:.4f}" for k, v in shown.items())
    if recipe.describe_score() not in shown:
        scores += f"  score {result.score:.4f}"
    mark = "  (best)" if improved else ""
    return (
        f"epoch {result.epoch:3d}  step {result.step:6d}  loss {result.loss:10.3f}  {scores}  "
        f"{result.words_per_second:,.0f} words/s{mark}"
    )


@dataclass
class _Since:
    """What happened since the previous evaluation."""

    started: float = 0.0
    loss: float = 0.0
    words: int = 0


def _progress(batches: List[Any], description: str, enabled: Optional[bool]) -> Any:
    from tqdm import tqdm

    disable = (not sys.stderr.isatty()) if enabled is None else not enabled
    return tqdm(batches, desc=description, unit="batch", leave=False, disable=disable)
