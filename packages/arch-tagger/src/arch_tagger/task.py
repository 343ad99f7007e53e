"""The tagging task for ``archs train``: CoNLL-U in, one tag per token, token accuracy.

Registered as ``arch.tagger.v1`` in the ``arch_tasks`` entry-point group::

    [task]
    @tasks = "arch.tagger.v1"
    column = "upos"     # or "xpos"
"""

from pathlib import Path
from typing import Any, Dict, List, Sequence, Tuple

import numpy
from thinc.api import Model

from arch_tok2vec import CorpusError, Doc, Example, Task
from arch_tok2vec.conllu import read_conllu
from arch_tok2vec.validation import check_choice, check_labels

COLUMNS = ("upos", "xpos")


class TaggerTask(Task):
    """Predict one tag per token from a CoNLL-U column.

    column: Which CoNLL-U column holds the tags: "upos" or "xpos".
    """

    name = "tagger"
    sample_files = ("arch_tagger", "train.conllu", "dev.conllu")
    score_key = "tag_acc"
    metrics = ("tag_acc",)
    provides = ("tags",)

    def __init__(self, column: str = "upos"):
        self.column = check_choice("column", column, COLUMNS)
        self.labels: List[str] = []

    def read(self, path: Path) -> List[Example]:
        examples = []
        for sentence in read_conllu(path):
            tags = []
            for word in sentence.words:
                tag = word.upos if self.column == "upos" else word.xpos
                if not tag or tag == "_":
                    raise CorpusError(path, word.line, f"no {self.column.upper()} tag")
                tags.append(tag)
            doc = Doc([w.form for w in sentence.words], [w.space_after for w in sentence.words])
            examples.append(Example(doc, {"tags": tags, "lines": [w.line for w in sentence.words]}))
        return examples

    def initialize(self, model: Model, examples: Sequence[Example]) -> None:
        self.labels = sorted({tag for eg in examples for tag in eg.gold["tags"]})
        sample = list(examples[:16])
        model.initialize(X=[eg.doc for eg in sample], Y=self._truth(sample))

    def check(self, examples: Sequence[Example], path: Path) -> None:
        known = set(self.labels)
        if not known:
            return
        for eg in examples:
            for tag, line in zip(eg.gold["tags"], eg.gold["lines"]):
                if tag not in known:
                    raise CorpusError(
                        path, line, f"unknown tag {tag!r}: the model knows {len(known)} tags"
                    )

    def _truth(self, examples: Sequence[Example]) -> List[Any]:
        index = {label: i for i, label in enumerate(self.labels)}
        eye = numpy.eye(len(self.labels), dtype="float32")
        # Tags unseen in training (only possible in dev) get no gradient.
        rows = [[index.get(tag, -1) for tag in eg.gold["tags"]] for eg in examples]
        return [numpy.where(numpy.array(r)[:, None] >= 0, eye[r], 0.0) for r in rows]

    def get_loss(self, examples: Sequence[Example], guesses: Any) -> Tuple[float, Any]:
        truths = self._truth(examples)
        grads = [guess - truth for guess, truth in zip(guesses, truths)]
        loss = -sum(
            float(numpy.log(numpy.maximum((guess * truth).sum(axis=1), 1e-8)).sum())
            for guess, truth in zip(guesses, truths)
        )
        return loss, grads

    def predict(self, model: Model, docs: Sequence[Any]) -> List[List[str]]:
        return [[self.labels[i] for i in y.argmax(axis=1)] for y in model.predict(list(docs))]

    def annotate(self, docs: Any, predictions: Any) -> None:
        """Set each token's tag: ``token.pos_`` for the "upos" column, ``token.tag_``
        for "xpos"."""
        from arch_tok2vec.annotations import set_tags

        for doc, tags in zip(docs, predictions):
            set_tags(doc, tags, self.column)

    def record(self, doc: Any) -> Dict[str, Any]:
        """``{"upos": [tag per token]}`` (or ``"xpos"``, the task's column)."""
        from arch_tok2vec.annotations import tags

        return {self.column: tags(doc, self.column)}

    def conllu(self, doc: Any) -> Dict[str, List[str]]:
        """The UPOS (or XPOS) column."""
        from arch_tok2vec.annotations import tags

        return {self.column.upper(): tags(doc, self.column)}

    def score(self, examples: Sequence[Example], predictions: Sequence[Any]) -> Dict[str, Any]:
        total = correct = 0
        per_label: Dict[str, List[int]] = {}
        for eg, predicted in zip(examples, predictions):
            for gold, guess in zip(eg.gold["tags"], predicted):
                total += 1
                correct += gold == guess
                counts = per_label.setdefault(gold, [0, 0])
                counts[0] += gold == guess
                counts[1] += 1
        return {
            "tag_acc": correct / total if total else 0.0,
            "tokens": total,
            "per_tag_acc": {tag: c / n for tag, (c, n) in sorted(per_label.items())},
        }

    def to_dict(self) -> Dict[str, Any]:
        return {"column": self.column, "labels": self.labels}

    def from_dict(self, data: Dict[str, Any]) -> "TaggerTask":
        """Restore the column and the labels; ValueError naming the key if the column
        is not one of COLUMNS or the labels are not distinct non-empty strings."""
        self.column = check_choice("column", data["column"], COLUMNS)
        self.labels = check_labels("labels", data["labels"])
        return self


def tagger_task(column: str = "upos") -> TaggerTask:
    """The tagging task (see TaggerTask).

    column: Which CoNLL-U column holds the tags: "upos" or "xpos".
    """
    return TaggerTask(column)
