"""A small real task for the model-folder tests, with arch-tok2vec alone installed:
tag every token "Upper" or "lower" by its first letter (imported by the tests and by
the scripts they run in subprocesses)."""

from pathlib import Path
from typing import Any, Dict, List

import numpy
from thinc.api import Config, Softmax, chain, with_array

from arch_tok2vec import Doc, Example, Pipeline, Task, load, registry
from arch_tok2vec.training import train

WORDS = "The cat sat on a Mat while Bob and Alice read books in Paris on Monday".split()
LABELS = ["lower", "Upper"]


class CaseTask(Task):
    """One label per token: "Upper" if it starts with a capital letter."""

    name = "case"
    score_key = "acc"

    def __init__(self) -> None:
        self.labels: List[str] = []
        self.min_length = 1

    def sample(self):
        rng = numpy.random.default_rng(0)
        docs = [[WORDS[i] for i in rng.integers(0, len(WORDS), 8)] for _ in range(60)]
        examples = [Example(Doc(words), self._gold(words)) for words in docs]
        return examples[:45], examples[45:]

    def read(self, path: Path) -> List[Example]:
        return [
            Example(Doc(line.split()), self._gold(line.split()))
            for line in path.read_text().splitlines()
        ]

    def _gold(self, words: List[str]) -> List[str]:
        return [LABELS[int(w[0].isupper())] for w in words]

    def initialize(self, model, examples):
        self.labels = list(LABELS)
        model.initialize(X=[eg.doc for eg in examples[:5]], Y=self._truth(examples[:5]))

    def _truth(self, examples):
        eye = numpy.eye(len(self.labels), dtype="float32")
        return [eye[[self.labels.index(tag) for tag in eg.gold]] for eg in examples]

    def get_loss(self, examples, guesses):
        grads = [g - t for g, t in zip(guesses, self._truth(examples))]
        return sum(float((d**2).sum()) for d in grads), grads

    def predict(self, model, docs):
        return [[self.labels[i] for i in y.argmax(axis=1)] for y in model.predict(list(docs))]

    def score(self, examples, predictions):
        pairs = [(p, g) for eg, pred in zip(examples, predictions) for p, g in zip(pred, eg.gold)]
        return {"acc": sum(p == g for p, g in pairs) / len(pairs)}

    def to_dict(self) -> Dict[str, Any]:
        return {"labels": self.labels, "min_length": self.min_length}

    def from_dict(self, data: Dict[str, Any]) -> "CaseTask":
        self.labels = [str(label) for label in data["labels"]]
        self.min_length = int(data["min_length"])
        return self


def case_model(width: int = 16):
    tok2vec = registry.architectures.get("spacy.HashEmbedCNN.v1")(None, width, 1, 300, 2, 1, True)
    return chain(tok2vec, with_array(Softmax(2)))


registry.tasks.register("test.case.v1", func=CaseTask)
registry.architectures.register("test.case_model.v1", func=case_model)

CONFIG = """
[paths]
train = null
dev = null

[system]
seed = {seed}

[task]
@tasks = "test.case.v1"

[model]
@architectures = "test.case_model.v1"
width = 16

[training]
max_epochs = {epochs}
patience = 0
batch_size = 8
dropout = 0.0

[training.optimizer]
@optimizers = "Adam.v1"
learn_rate = 0.01
"""

DOCS = [
    Doc(["Alice", "read", "a", "book", "in", "Paris"]),
    Doc(["the", "Cat", "sat"]),
    Doc(["Monday", "while", "Bob", "and", "Mat"]),
]


def trained(output: Path, seed: int = 0, epochs: int = 2) -> Pipeline:
    """Train a case model, save model-best and model-last under ``output`` and load
    model-last."""
    config = Config().from_str(CONFIG.format(seed=seed, epochs=epochs))
    train(config, output, log=lambda line: None, progress=False)
    return load(output / "model-last")


def outputs(pipeline: Pipeline) -> List[Any]:
    """The model's raw outputs on DOCS (one array per doc)."""
    return [numpy.asarray(y) for y in pipeline.model.predict(DOCS)]
