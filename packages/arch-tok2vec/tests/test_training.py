"""The shared training loop, model folders and ``archs train`` / ``archs evaluate``,
driven by a small token task defined here (the family packages bring the real ones)."""

import json

import numpy
import pytest
from thinc.api import Config, Softmax, chain, with_array

from arch_tok2vec import CorpusError, Doc, Example, Task, load, registry
from arch_tok2vec.cli import main
from arch_tok2vec.training import train

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


registry.tasks.register("test.capital.v1", func=capital_task)
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
        ("epochs", 3, "[training] has unknown settings: epochs"),
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
    assert main(base + ["--paths.train", str(bad), "--paths.dev", str(good)]) == 1
    assert f"{bad}, line 2: empty line" in capsys.readouterr().err
    assert (tmp_path / "out" / "model-best" / "model.bin").read_bytes() == saved
    assert main(["evaluate", str(tmp_path / "out" / "model-best"), str(bad)]) == 1
    assert "line 2" in capsys.readouterr().err
    assert main(["evaluate", str(tmp_path / "nowhere"), str(good)]) == 1
    assert "is not a model folder" in capsys.readouterr().err
