"""The shared training loop, model folders and ``archs train`` / ``archs evaluate``,
driven by a small token task defined here (the family packages bring the real ones)."""

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy
import pytest
from thinc.api import Config, Softmax, chain, with_array

from arch_tok2vec import CorpusError, Doc, Example, Task, load, registry
from arch_tok2vec.cli import main
from arch_tok2vec.memory import ModelTooLargeError, check_memory, count_weights
from arch_tok2vec.outputs import OutputExistsError
from arch_tok2vec.training import TrainingDiverged, train

WORDS = "The cat sat on a Mat while Bob and Alice read books in Paris on Monday".split()


class CapitalTask(Task):
    """Tag each token 1 if it starts with a capital letter, else 0."""

    name = "capital"
    score_key = "acc"

    def sample(self):
        rng = numpy.random.default_rng(0)
        docs = [[WORDS[i] for i in rng.integers(0, len(WORDS), 8)] for _ in range(60)]
        examples = [Example(Doc(words), [int(w[0].isupper()) for w in words]) for words in docs]
        return examples[:45], examples[45:]

    def read(self, path):
        examples = []
        for i, line in enumerate(path.read_text().splitlines(), 1):
            words = line.split()
            if not words:
                raise CorpusError(path, i, "empty line")
            examples.append(Example(Doc(words), [int(w[0].isupper()) for w in words]))
        return examples

    def initialize(self, model, examples):
        model.initialize(X=[eg.doc for eg in examples[:5]], Y=self._truth(examples[:5]))

    def _truth(self, examples):
        eye = numpy.eye(2, dtype="float32")
        return [eye[eg.gold] for eg in examples]

    def get_loss(self, examples, guesses):
        grads = [g - t for g, t in zip(guesses, self._truth(examples))]
        return sum(float((d**2).sum()) for d in grads), grads

    def predict(self, model, docs):
        return [y.argmax(axis=1).tolist() for y in model.predict(docs)]

    def score(self, examples, predictions):
        pairs = [(p, g) for eg, pred in zip(examples, predictions) for p, g in zip(pred, eg.gold)]
        return {"acc": sum(p == g for p, g in pairs) / len(pairs)}

    def to_dict(self):
        return {"labels": [0, 1]}


def capital_task():
    return CapitalTask()


def capital_model(width: int = 16):
    tok2vec = registry.architectures.get("spacy.HashEmbedCNN.v1")(None, width, 1, 200, 2, 1, True)
    return chain(tok2vec, with_array(Softmax(2)))


class SabotagedTask(CapitalTask):
    """The capital task, sabotaged at a given update step (1-based; 0: never):
    a NaN loss, an infinite weight (with a finite loss), or Ctrl-C sent to this
    process (``signals`` times, from inside the step)."""

    def __init__(self, nan_loss_at=0, inf_weight_at=0, interrupt_at=0, signals=1):
        self.nan_loss_at = nan_loss_at
        self.inf_weight_at = inf_weight_at
        self.interrupt_at = interrupt_at
        self.signals = signals
        self.steps = 0

    def update(self, model, examples, sgd):
        loss = super().update(model, examples, sgd)
        self.steps += 1
        if self.steps == self.inf_weight_at:
            node = next(n for n in model.walk() if n.has_param("E"))
            table = node.get_param("E").copy()
            table[0, 0] = numpy.inf
            node.set_param("E", table)
        if self.steps == self.interrupt_at:
            for _ in range(self.signals):
                os.kill(os.getpid(), signal.SIGINT)
        return float("nan") if self.steps == self.nan_loss_at else loss


def sabotaged_task(
    nan_loss_at: int = 0, inf_weight_at: int = 0, interrupt_at: int = 0, signals: int = 1
):
    return SabotagedTask(nan_loss_at, inf_weight_at, interrupt_at, signals)


registry.tasks.register("test.capital.v1", func=capital_task)
registry.tasks.register("test.sabotaged.v1", func=sabotaged_task)
registry.architectures.register("test.capital_model.v1", func=capital_model)

CONFIG = """
[paths]
train = null
dev = null

[system]
seed = 0

[task]
@tasks = "test.capital.v1"

[model]
@architectures = "test.capital_model.v1"

[training]
max_epochs = 6
patience = 0
batch_size = 8
dropout = 0.0

[training.optimizer]
@optimizers = "Adam.v1"
learn_rate = 0.01
"""


def test_train_learns_saves_and_reloads(tmp_path):
    lines = []
    result = train(Config().from_str(CONFIG), tmp_path, log=lines.append, progress=False)
    assert [e.epoch for e in result.epochs] == list(range(1, 7))
    assert result.epochs[-1].loss < result.epochs[0].loss
    assert result.best_score > 0.95
    assert "max_epochs (6) reached" in result.stopped_because
    assert any("words/s" in line and "(best)" in line for line in lines)
    best = load(tmp_path / "model-best")
    assert (
        json.loads((tmp_path / "model-best" / "meta.json").read_text())["epoch"]
        == result.best_epoch
    )
    docs = [Doc(["Alice", "read", "a", "book"])]
    assert best(docs) == [[1, 0, 0, 0]]
    last = load(tmp_path / "model-last")
    assert last.meta["epoch"] == 6


def test_training_is_reproducible():
    first = train(Config().from_str(CONFIG), None, log=lambda s: None, progress=False)
    second = train(Config().from_str(CONFIG), None, log=lambda s: None, progress=False)
    assert [e.loss for e in first.epochs] == [e.loss for e in second.epochs]


def test_budgets_and_patience():
    config = Config().from_str(CONFIG)
    config["training"]["max_steps"] = 7
    result = train(config, None, log=lambda s: None, progress=False)
    assert result.stopped_because == "max_steps (7) reached" and len(result.epochs) == 2
    config = Config().from_str(CONFIG)
    config["training"].update({"max_epochs": 50, "patience": 2})
    result = train(config, None, log=lambda s: None, progress=False)
    assert "for 2 epochs" in result.stopped_because and len(result.epochs) < 50


@pytest.mark.parametrize(
    "key,value,message",
    [
        ("batch_size", 0, "[training] batch_size must be a positive integer"),
        ("max_epochs", -1, "[training] max_epochs must be an integer >= 0"),
        ("dropout", 1.0, "[training] dropout must be a number in [0, 1)"),
        ("epochs", 3, "[training] epochs is not a setting of [training]. Did you mean max_epochs?"),
    ],
)
def test_bad_training_settings(key, value, message):
    config = Config().from_str(CONFIG)
    config["training"][key] = value
    with pytest.raises(ValueError) as err:
        train(config, None, log=lambda s: None, progress=False)
    assert message in str(err.value)


def test_cli_train_and_evaluate(tmp_path, capsys):
    (tmp_path / "train.txt").write_text("The cat saw Bob\nAlice sat\n" * 20)
    (tmp_path / "dev.txt").write_text("Bob saw the cat\n")
    config = tmp_path / "capital.cfg"
    config.write_text(CONFIG)
    args = ["train", str(config), "--output", str(tmp_path / "out")]
    args += ["--paths.train", str(tmp_path / "train.txt"), "--paths.dev", str(tmp_path / "dev.txt")]
    assert main(args + ["--training.max_epochs", "3"]) == 0
    out = capsys.readouterr().out
    assert "2 dev docs" not in out and "40 train / 1 dev docs" in out
    assert (tmp_path / "out" / "model-best" / "model.bin").exists()
    assert main(["evaluate", str(tmp_path / "out" / "model-best"), str(tmp_path / "dev.txt")]) == 0
    assert "acc" in capsys.readouterr().out


def test_cli_bad_corpus_names_file_and_line_and_keeps_models(tmp_path, capsys):
    good = tmp_path / "good.txt"
    good.write_text("Bob saw Alice\n")
    bad = tmp_path / "bad.txt"
    bad.write_text("Bob saw\n\nAlice\n")
    config = tmp_path / "capital.cfg"
    config.write_text(CONFIG)
    base = ["train", str(config), "--output", str(tmp_path / "out")]
    assert main(base + ["--paths.train", str(good), "--paths.dev", str(good)]) == 0
    saved = (tmp_path / "out" / "model-best" / "model.bin").read_bytes()
    capsys.readouterr()
    # --overwrite: a run that fails on its corpus must still leave the saved models alone
    base.append("--overwrite")
    assert main(base + ["--paths.train", str(bad), "--paths.dev", str(good)]) == 1
    assert f"{bad}, line 2: empty line" in capsys.readouterr().err
    assert (tmp_path / "out" / "model-best" / "model.bin").read_bytes() == saved
    assert main(["evaluate", str(tmp_path / "out" / "model-best"), str(bad)]) == 1
    assert "line 2" in capsys.readouterr().err
    assert main(["evaluate", str(tmp_path / "nowhere"), str(good)]) == 1
    assert "is not a model folder" in capsys.readouterr().err


# -- where models are saved (issue 14, finding 3) ------------------------------


def _quiet(config, output, **kwargs):
    return train(config, output, log=lambda s: None, progress=False, **kwargs)


def _config(**training):
    config = Config().from_str(CONFIG)
    config["training"].update(training)
    return config


def test_an_output_folder_holding_models_is_refused_before_training(tmp_path):
    out = tmp_path / "out"
    _quiet(_config(max_epochs=2), out)
    before = {p.name: p.read_bytes() for p in (out / "model-best").iterdir()}
    lines = []
    with pytest.raises(OutputExistsError) as err:
        train(_config(max_epochs=1), out, log=lines.append, progress=False)
    message = str(err.value)
    assert f"{out}/ already holds model-best (task capital, acc 1.0000, epoch 1, saved " in message
    assert "model-last (task capital, acc 1.0000, epoch 2, saved " in message
    assert "overwrite=True" in message
    assert lines == []  # refused before reading or training anything
    assert {p.name: p.read_bytes() for p in (out / "model-best").iterdir()} == before
    # anything at all counts, not only models
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("mine")
    with pytest.raises(OutputExistsError, match="already holds a file notes.txt"):
        _quiet(_config(max_epochs=1), other)
    assert [p.name for p in other.iterdir()] == ["notes.txt"]


def test_overwrite_replaces_the_models_and_says_so(tmp_path):
    out = tmp_path / "out"
    _quiet(_config(max_epochs=3), out)
    lines = []
    result = train(_config(max_epochs=1), out, overwrite=True, log=lines.append, progress=False)
    # the run's log train.jsonl is replaced too (a folder never mixes two runs)
    replaced = [r.split(" ")[0] for r in result.replaced]
    assert replaced == ["model-best", "model-last", "train.jsonl"]
    text = "\n".join(lines)
    assert f"overwrite: {out}/ holds model-best (task capital" in text
    assert "replaced the previous model-best (task capital, acc 1.0000, epoch 1" in text
    assert "replaced the previous model-last (task capital, acc 1.0000, epoch 3" in text
    assert load(out / "model-last").meta["epoch"] == 1


def test_cli_without_output_saves_under_training_and_says_so(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    config = tmp_path / "capital.cfg"
    config.write_text(CONFIG)
    assert main(["train", str(config), "--training.max_epochs", "2"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"no --output given: the models go to training/ ({tmp_path / 'training'})"
    assert out[-1] == (
        "saved training/model-best (epoch 1, dev acc 1.0000) and training/model-last (epoch 2)"
    )
    assert load(tmp_path / "training" / "model-best")([Doc(["Bob", "ran"])]) == [[1, 0]]
    # a second run is refused, naming what is there and the two ways out
    assert main(["train", str(config), "--training.max_epochs", "1"]) == 1
    err = capsys.readouterr().err
    assert "training/ already holds model-best (task capital, acc 1.0000, epoch 1" in err
    assert "choose another --output, or pass --overwrite" in err
    assert load(tmp_path / "training" / "model-last").meta["epoch"] == 2
    assert main(["train", str(config), "--training.max_epochs", "1", "--overwrite"]) == 0
    assert "replaced the previous model-last" in capsys.readouterr().out
    assert load(tmp_path / "training" / "model-last").meta["epoch"] == 1


# -- nonsense settings, typos, NaN, sizes (issue 14, finding 7) -----------------


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-Infinity"])
def test_cli_refuses_non_finite_learn_rate(tmp_path, capsys, value):
    config = tmp_path / "capital.cfg"
    config.write_text(CONFIG)
    out = tmp_path / "out"
    args = ["train", str(config), "--output", str(out), "--training.optimizer.learn_rate", value]
    assert main(args) == 1
    err = capsys.readouterr().err
    assert "[training.optimizer] learn_rate = " in err and "must be finite numbers" in err
    assert not (out / "model-best").exists()


def test_non_finite_settings_anywhere_are_refused():
    config = Config().from_str(CONFIG.replace("dropout = 0.0", "dropout = NaN"))
    with pytest.raises(ValueError, match=r"\[training\] dropout = (nan|'NaN'): settings must be"):
        _quiet(config, None)
    config = Config().from_str(CONFIG.replace("learn_rate = 0.01", 'learn_rate = "nan"'))
    with pytest.raises(ValueError, match=r"\[training.optimizer\] learn_rate = 'nan': settings"):
        _quiet(config, None)
    config = Config().from_str(
        CONFIG.replace("max_epochs = 6", "max_epochs = 6\nmax_seconds = 1e999")
    )
    with pytest.raises(ValueError, match=r"\[training\] max_seconds = inf"):
        _quiet(config, None)


def _sabotaged(**task):
    config = Config().from_str(CONFIG.replace("test.capital.v1", "test.sabotaged.v1"))
    config["task"].update(task)
    return config


def test_a_nan_loss_stops_training_naming_the_step_and_keeps_earlier_models(tmp_path):
    out = tmp_path / "out"
    # 45 docs in batches of 8: 6 steps per epoch, so step 14 is in epoch 3
    with pytest.raises(TrainingDiverged) as err:
        _quiet(_sabotaged(nan_loss_at=14), out)
    assert str(err.value).startswith("the loss became nan at step 14 (epoch 3): training stopped")
    assert f"{out}/ keeps the models saved before (model-best, model-last)" in str(err.value)
    assert load(out / "model-last").meta["epoch"] == 2
    assert load(out / "model-best").meta["epoch"] == 1


def test_cli_exits_nonzero_on_a_nan_loss(tmp_path, capsys):
    config = tmp_path / "capital.cfg"
    config.write_text(CONFIG.replace("test.capital.v1", "test.sabotaged.v1"))
    out = tmp_path / "out"
    assert main(["train", str(config), "--output", str(out), "--task.nan_loss_at", "3"]) == 1
    assert "error: the loss became nan at step 3 (epoch 1)" in capsys.readouterr().err
    assert not (out / "model-best").exists() and not (out / "model-last").exists()


def test_weights_that_are_not_finite_are_never_saved(tmp_path):
    out = tmp_path / "out"
    with pytest.raises(TrainingDiverged, match=r"after epoch 2 \(step 12\) layer hashembed"):
        _quiet(_sabotaged(inf_weight_at=9), out)
    for name in ("model-best", "model-last"):
        model = load(out / name).model
        assert all(
            numpy.isfinite(node.get_param(p)).all()
            for node in model.walk()
            for p in node.param_names
            if node.has_param(p)
        )
        assert load(out / name).meta["epoch"] == 1


def test_a_diverging_run_saves_no_nan_model(tmp_path):
    # a real divergence: a huge learning rate turns the loss to NaN in epoch 1
    config = _config()
    config["training"]["optimizer"]["learn_rate"] = 1e300
    with pytest.raises(TrainingDiverged, match=r"the loss became nan at step \d+ \(epoch 1\)"):
        _quiet(config, tmp_path / "out")
    assert list((tmp_path / "out").iterdir()) == []


@pytest.mark.parametrize(
    "change,message",
    [
        (("seed = 0", "sed = 3"), "[system] sed is not a setting of [system]. Did you mean seed?"),
        (("train = null", "trian = null"), "[paths] trian is not a setting of [paths]."),
        (("[system]\n", "[sytem]\nseed = 1\n\n[system]\n"), "a section [sytem] that training"),
        (("max_epochs = 6", "max_epoch = 6"), "Did you mean max_epochs?"),
        (
            ('"test.capital_model.v1"', '"test.capital_model.v1"\nwidht = 8'),
            "[model] widht: test.capital_model.v1 has no parameter 'widht'. Did you mean width?",
        ),
        (("learn_rate", "learning_rate"), "Did you mean learn_rate?"),
    ],
)
def test_unknown_keys_are_refused_with_close_names(change, message):
    config = Config().from_str(CONFIG.replace(*change), interpolate=False)
    with pytest.raises(ValueError) as err:
        _quiet(config, None)
    assert message in str(err.value)


def test_cli_refuses_overrides_of_settings_the_config_lacks(tmp_path, capsys):
    config = tmp_path / "capital.cfg"
    config.write_text(CONFIG)
    base = ["train", str(config), "--output", str(tmp_path / "out")]
    assert main(base + ["--system.sed", "3"]) == 1
    assert "--system.sed: [system] has no setting 'sed'. Did you mean seed?" in (
        capsys.readouterr().err
    )
    assert main(base + ["--trainig.max_epochs", "3"]) == 1
    assert "no [trainig] section" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
    # a parameter or a [training] setting the config leaves at its default can be overridden
    assert main(base + ["--model.width", "8", "--training.max_steps", "7"]) == 0
    assert load(tmp_path / "out" / "model-best").config["model"]["width"] == 8
    assert load(tmp_path / "out" / "model-last").meta["step"] == 7


def test_sections_the_config_refers_to_are_allowed(tmp_path, capsys):
    text = CONFIG.replace('"test.capital_model.v1"', '"test.capital_model.v1"\nwidth = ${vars.w}')
    text = text.replace("seed = 0", "seed = ${vars.seed}")
    config = tmp_path / "capital.cfg"
    config.write_text(text + "\n[vars]\nw = 12\nseed = 3\n")
    args = ["train", str(config), "--output", str(tmp_path / "out"), "--training.max_epochs", "1"]
    assert main(args) == 0, capsys.readouterr().err
    assert load(tmp_path / "out" / "model-best").config["model"]["width"] == 12
    assert load(tmp_path / "out" / "model-best").meta["seed"] == 3


@pytest.mark.parametrize("seed", ['"abc"', "-1", "4294967296", "1.5"])
def test_a_bad_seed_names_the_setting(tmp_path, capsys, seed):
    config = tmp_path / "capital.cfg"
    config.write_text(CONFIG)
    assert main(["train", str(config), "--system.seed", seed]) == 1
    err = capsys.readouterr().err
    assert "error: [system] seed must be an integer from 0 to 4294967295, got" in err


def test_a_model_too_large_for_memory_is_refused_before_allocating(tmp_path, capsys):
    config = tmp_path / "capital.cfg"
    config.write_text(CONFIG)
    out = tmp_path / "out"
    assert main(["train", str(config), "--output", str(out), "--model.width", "1000000000"]) == 1
    err = capsys.readouterr().err
    assert "error: the model is too large" in err
    assert "its size comes from [model] width = 1000000000" in err
    assert not (out / "model-best").exists()


def test_memory_check_counts_weights_without_allocating_them():
    model = registry.resolve(Config().from_str(CONFIG))["model"]
    layers = count_weights(model)
    counted = {id(layer.node): layer.weights for layer in layers}
    with pytest.raises(ModelTooLargeError) as err:
        check_memory(model, {"model": {"width": 16}}, available=1000)
    assert "about 1000 bytes" not in str(err.value) and "1000 bytes of memory" in str(err.value)
    assert "[model] width = 16" in str(err.value)
    assert not any(node.has_param(p) for node in model.walk() for p in node.param_names)
    model.initialize(X=[Doc(["A", "b"])], Y=[numpy.eye(2, dtype="float32")[[1, 0]]])
    # exact for the embedding tables and maxout layers; a lower bound overall
    for node in model.walk():
        held = sum(node.get_param(p).size for p in node.param_names)
        if node.name in ("hashembed", "maxout"):
            assert counted[id(node)] == held
        assert counted.get(id(node), 0) <= held


# -- Ctrl-C (issue 14, finding 7) -----------------------------------------------

DRIVER = Path(__file__).with_name("train_driver.py")


def _drive(tmp_path, *args, config_text=CONFIG):
    config = tmp_path / "capital.cfg"
    config.write_text(config_text)
    argv = [sys.executable, str(DRIVER), *args[:-1], "train", str(config), *args[-1]]
    return subprocess.run(argv, capture_output=True, text=True, timeout=300)


# Epoch 1 writes model-best (save 1) and model-last (save 2); epoch 2 does not
# improve on acc 1.0, so it writes model-last alone (save 3).
@pytest.mark.parametrize("call,epoch", [(1, 1), (2, 1), (3, 2)])
def test_ctrl_c_inside_a_save_finishes_it_then_stops(tmp_path, call, epoch):
    out = tmp_path / "out"
    run = _drive(tmp_path, "--sigint-in-save", str(call), ["--output", str(out)])
    assert run.returncode == 130, run.stderr
    assert "Traceback" not in run.stderr and "KeyboardInterrupt" not in run.stderr
    assert f"interrupted at step {6 * epoch} (epoch {epoch}); saved {out}/model-last" in run.stdout
    for name in ("model-best", "model-last"):
        assert load(out / name)([Doc(["Bob", "ran"])]) == [[1, 0]]
    assert load(out / "model-last").meta["epoch"] == epoch


def test_training_restores_the_sigint_handler():
    before = signal.getsignal(signal.SIGINT)
    _quiet(_config(max_epochs=1), None)
    assert signal.getsignal(signal.SIGINT) is before


def test_ctrl_c_during_a_step_saves_model_last_and_exits_130(tmp_path):
    out = tmp_path / "out"
    text = CONFIG.replace("test.capital.v1", "test.sabotaged.v1")
    run = _drive(tmp_path, ["--output", str(out), "--task.interrupt_at", "9"], config_text=text)
    assert run.returncode == 130, run.stderr
    assert "Traceback" not in run.stderr and run.stderr.strip() == "stopped by Ctrl-C"
    assert f"interrupted at step 9 (epoch 2); saved {out}/model-last (not evaluated)" in run.stdout
    last = load(out / "model-last")
    assert last.meta["interrupted"] is True and last.meta["step"] == 9
    assert last([Doc(["Alice", "read"])]) == [[1, 0]]
    assert load(out / "model-best").meta["epoch"] == 1


def test_ctrl_c_twice_stops_at_once_without_saving(tmp_path):
    out = tmp_path / "out"
    text = CONFIG.replace("test.capital.v1", "test.sabotaged.v1")
    args = ["--output", str(out), "--task.interrupt_at", "9", "--task.signals", "2"]
    run = _drive(tmp_path, args, config_text=text)
    assert run.returncode == 130
    assert "Traceback" not in run.stderr and "stopped at once" in run.stderr
    assert load(out / "model-last").meta["epoch"] == 1  # epoch 1's save is intact


def test_ctrl_c_before_a_first_save_with_overwrite_leaves_no_stale_model_best(tmp_path):
    out = tmp_path / "out"
    _quiet(_config(max_epochs=1), out)
    text = CONFIG.replace("test.capital.v1", "test.sabotaged.v1")
    args = ["--output", str(out), "--overwrite", "--task.interrupt_at", "2"]
    run = _drive(tmp_path, args, config_text=text)
    assert run.returncode == 130, run.stderr
    assert "removed the previous model-best (task capital" in run.stdout
    assert sorted(p.name for p in out.iterdir()) == ["model-last"]
    assert load(out / "model-last").meta["step"] == 2
