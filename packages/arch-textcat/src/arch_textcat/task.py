"""The text-classification task for ``archs train``.

Registered as ``arch.textcat.v1`` in the ``arch_tasks`` entry-point group::

    [task]
    @tasks = "arch.textcat.v1"
    exclusive_classes = true   # one label per text (softmax) or any number (logistic)
    threshold = 0.5            # multi-label: a label is predicted at or above this score

Corpora, chosen by file suffix:
- ``.jsonl``: one ``{"text": ..., "cats": {label: 0 or 1}}`` per line (spaCy's convention);
- ``.csv``: rows ``text,label`` (a first row ``text,<name>`` is a header);
- ``.json``: NLU++ files, a list of ``{"text": ..., "intents": [...]}`` (no intents: no label).
A path may list several files separated by commas, each possibly a glob pattern
(``fold[0-9].json,fold1[0-5].json``). Files may start with a UTF-8 byte-order mark
(Excel writes one) and use CRLF line ends; a malformed record or invalid UTF-8
raises ``CorpusError`` naming the file and line (for NLU++, the line where the
example starts).
"""

import csv
import glob
import json
import numbers
import re
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy
from thinc.api import Model

from arch_tok2vec import CorpusError, Doc, Example, Task
from arch_tok2vec.corpus_io import (
    line_at,
    line_finder,
    read_jsonl,
    read_lines,
    read_text,
)
from arch_tok2vec.validation import check_bool, check_labels


class TextcatTask(Task):
    """Score each text for every label.

    exclusive_classes: True if every text has exactly one label.
    threshold: In multi-label mode, the score from which a label counts as predicted.
    """

    name = "textcat"
    sample_files = ("arch_textcat", "train.jsonl", "dev.jsonl")
    score_key = "macro_f"
    metrics = ("accuracy", "macro_f", "micro_f", "macro_auc")
    provides = ("cats",)

    def __init__(self, exclusive_classes: bool = True, threshold: float = 0.5):
        self.exclusive = bool(exclusive_classes)
        self.threshold = _check_threshold(threshold)
        self.labels: List[str] = []

    # -- corpora -------------------------------------------------------------

    def read(self, path: Path) -> List[Example]:
        examples: List[Example] = []
        for file in _expand(str(path)):
            suffix = file.suffix.lower()
            if suffix == ".jsonl":
                records = _read_jsonl(file)
            elif suffix == ".csv":
                records = _read_csv(file)
            elif suffix == ".json":
                records = _read_nlupp(file)
            else:
                raise CorpusError(file, 0, "unknown corpus format: use .jsonl, .csv or .json")
            for text, cats, line, number in records:
                gold = {"cats": cats, "line": line, "example": number, "file": str(file)}
                self._check_exclusive(gold)
                examples.append(Example(Doc.from_text(text), gold))
        return examples

    def _check_exclusive(self, gold: Dict[str, Any]) -> None:
        if not self.exclusive:
            return
        positive = [label for label, value in gold["cats"].items() if value >= 0.5]
        if len(positive) != 1:
            raise _error(
                gold,
                f"exclusive_classes is true but this text has {len(positive)} positive labels"
                f" ({', '.join(positive) or 'none'}); set exclusive_classes = false for "
                "multi-label data",
            )

    def stratum(self, example: Example) -> Optional[str]:
        """Exclusive classes: the text's label (a held-out dev set keeps every
        label's share); multi-label: None (a plain random split)."""
        if not self.exclusive:
            return None
        cats = example.gold["cats"]
        return max(sorted(cats), key=lambda label: cats[label]) if cats else None

    def check(self, examples: Sequence[Example], path: Path) -> None:
        known = set(self.labels)
        if not known:
            return
        for eg in examples:
            # Only labels a text has count: files read as CSV or NLU++ list every
            # label of the file with 0 for the texts that lack it.
            unknown = [k for k, v in eg.gold["cats"].items() if v > 0 and k not in known]
            if unknown:
                raise _error(eg.gold, f"unknown label {unknown[0]!r}")

    # -- model ---------------------------------------------------------------

    def initialize(self, model: Model, examples: Sequence[Example]) -> None:
        self.labels = sorted({label for eg in examples for label in eg.gold["cats"]})
        if len(self.labels) < 2 and self.exclusive:
            raise ValueError("an exclusive text classifier needs at least 2 labels")
        multi_label = model.attrs.get("multi_label")
        if multi_label is not None and multi_label == self.exclusive:
            raise ValueError(
                f"exclusive_classes disagrees between [task] ({self.exclusive}) and "
                f"[model] ({not multi_label})"
            )
        sample = list(examples[:32])
        model.initialize(X=[eg.doc for eg in sample], Y=self._truth(sample))

    def _truth(self, examples: Sequence[Example]) -> numpy.ndarray:
        truth = numpy.zeros((len(examples), len(self.labels)), dtype="float32")
        index = {label: i for i, label in enumerate(self.labels)}
        for row, eg in enumerate(examples):
            for label, value in eg.gold["cats"].items():
                if label in index:
                    truth[row, index[label]] = value
        return truth

    def get_loss(self, examples: Sequence[Example], guesses: Any) -> Tuple[float, Any]:
        d_scores = guesses - self._truth(examples)
        return float((d_scores**2).sum()), d_scores

    def predict(self, model: Model, docs: Sequence[Any]) -> List[Dict[str, float]]:
        scores = model.predict(list(docs))
        return [dict(zip(self.labels, map(float, row))) for row in scores]

    def annotate(self, docs: Any, predictions: Any) -> None:
        """Set ``doc.cats``: every label with its score."""
        for doc, scores in zip(docs, predictions):
            doc.cats = dict(scores)

    def record(self, doc: Any) -> Dict[str, Any]:
        """``{"cats": {label: score}}``, the labels in the model's order; each score
        written as the shortest decimal that reads back as the same float32 (the
        model computes in float32: more digits would be noise)."""
        cats = doc.cats
        return {"cats": {label: float(str(numpy.float32(cats[label]))) for label in cats}}

    # -- metrics -------------------------------------------------------------

    def score(self, examples: Sequence[Example], predictions: Sequence[Any]) -> Dict[str, Any]:
        """accuracy (exclusive: top label right; multi-label: exact label set),
        macro and micro F over labels, and macro ROC AUC."""
        truth = self._truth(examples) >= 0.5
        scores = numpy.array(
            [[p.get(label, 0.0) for label in self.labels] for p in predictions], dtype="float32"
        ).reshape(truth.shape)
        if self.exclusive:
            decided = numpy.zeros_like(truth)
            decided[numpy.arange(len(scores)), scores.argmax(axis=1)] = True
        else:
            decided = scores >= self.threshold
        tp = (decided & truth).sum(axis=0)
        fp = (decided & ~truth).sum(axis=0)
        fn = (~decided & truth).sum(axis=0)
        per_label = {}
        for i, label in enumerate(self.labels):
            p = tp[i] / (tp[i] + fp[i]) if tp[i] + fp[i] else 0.0
            r = tp[i] / (tp[i] + fn[i]) if tp[i] + fn[i] else 0.0
            per_label[label] = {"p": float(p), "r": float(r), "f": _f(p, r)}
        micro_p = tp.sum() / max(tp.sum() + fp.sum(), 1)
        micro_r = tp.sum() / max(tp.sum() + fn.sum(), 1)
        aucs = [_auc(scores[:, i], truth[:, i]) for i in range(len(self.labels))]
        valid = [a for a in aucs if a is not None]
        return {
            "accuracy": float((decided == truth).all(axis=1).mean()) if len(truth) else 0.0,
            "macro_f": float(numpy.mean([v["f"] for v in per_label.values()])),
            "micro_f": _f(micro_p, micro_r),
            "macro_auc": float(numpy.mean(valid)) if valid else 0.0,
            "per_label": per_label,
        }

    def to_dict(self) -> Dict[str, Any]:
        return {
            "labels": self.labels,
            "exclusive_classes": self.exclusive,
            "threshold": self.threshold,
        }

    def from_dict(self, data: Dict[str, Any]) -> "TextcatTask":
        """Restore the labels and settings; ValueError naming the key if the labels
        are not distinct non-empty strings (at least 2 for exclusive classes),
        exclusive_classes is not a boolean or the threshold not strictly between 0
        and 1."""
        labels = check_labels("labels", data["labels"])
        exclusive = check_bool("exclusive_classes", data["exclusive_classes"])
        if exclusive and len(labels) < 2:
            raise ValueError(
                f"labels must hold at least 2 labels when exclusive_classes is true, got "
                f"{len(labels)}"
            )
        threshold = _check_threshold(data["threshold"])
        self.labels, self.exclusive, self.threshold = labels, exclusive, threshold
        return self


def textcat_task(exclusive_classes: bool = True, threshold: float = 0.5) -> TextcatTask:
    """The text-classification task (see TextcatTask).

    exclusive_classes: True if every text has exactly one label.
    threshold: In multi-label mode, the score from which a label counts as predicted.
    """
    return TextcatTask(exclusive_classes, threshold)


def _check_threshold(value: Any) -> float:
    """A threshold strictly between 0 and 1 (ValueError naming the setting)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 < float(value) < 1:
        raise ValueError(f"threshold must be between 0 and 1, got {value!r}")
    return float(value)


def _error(gold: Dict[str, Any], message: str) -> CorpusError:
    """An error naming the file and the line (or, for JSON lists, the example)."""
    if gold["line"]:
        return CorpusError(gold["file"], gold["line"], message)
    return CorpusError(gold["file"], 0, f"example {gold['example']}: {message}")


def _f(p: float, r: float) -> float:
    return float(2 * p * r / (p + r)) if p + r else 0.0


def _auc(scores: numpy.ndarray, truth: numpy.ndarray) -> Optional[float]:
    """ROC AUC by the rank-sum statistic (ties share their average rank);
    None when the gold has only one class."""
    n_pos = int(truth.sum())
    n_neg = len(truth) - n_pos
    if not n_pos or not n_neg:
        return None
    order = numpy.argsort(scores, kind="mergesort")
    ranks = numpy.empty(len(scores), dtype="float64")
    sorted_scores = scores[order]
    start = 0
    for end in range(1, len(scores) + 1):
        if end == len(scores) or sorted_scores[end] != sorted_scores[start]:
            ranks[order[start:end]] = (start + end + 1) / 2.0
            start = end
    return float((ranks[truth].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def _expand(spec: str) -> List[Path]:
    files: List[Path] = []
    for part in spec.split(","):
        part = part.strip()
        matches = sorted(glob.glob(part)) if any(c in part for c in "*?[") else [part]
        if not matches:
            raise CorpusError(part, 0, "no file matches this pattern")
        files.extend(Path(m) for m in matches)
    for file in files:
        if not file.exists():
            raise CorpusError(file, 0, "file not found")
    return files


# (text, cats, line in the file or 0, example number)
Record = Tuple[str, Dict[str, float], int, int]


def _read_jsonl(path: Path) -> List[Record]:
    records: List[Record] = []
    for number, data in read_jsonl(path):
        if not isinstance(data, dict) or not isinstance(data.get("text"), str):
            raise CorpusError(path, number, 'each line needs a "text" string')
        cats = data.get("cats")
        if not isinstance(cats, dict):
            raise CorpusError(path, number, 'each line needs a "cats" object')
        for label, value in cats.items():
            if not label.strip():
                raise CorpusError(path, number, "empty label in cats")
            if (
                isinstance(value, bool)
                or not isinstance(value, (int, float))
                or not 0 <= value <= 1
            ):
                raise CorpusError(path, number, f"cats[{label!r}] must be 0 or 1, got {value!r}")
        cats = {k: float(v) for k, v in cats.items()}
        records.append((data["text"], cats, number, len(records) + 1))
    if not records:
        raise CorpusError(path, 0, "the corpus is empty")
    return records


def _read_csv(path: Path) -> List[Record]:
    records: List[Record] = []
    lines = (line for _, line in read_lines(path, keepends=True))
    # strict: a stray quote is an error, not a field that swallows the rows after it
    reader = csv.reader(lines, strict=True)
    seen_row = False
    while True:
        number = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as err:
            raise CorpusError(path, reader.line_num, f"bad CSV: {err}") from None
        if not row or not "".join(row).strip():
            continue
        if not seen_row:
            seen_row = True
            if row[0].strip().lower() == "text":
                continue
        if len(row) != 2:
            raise CorpusError(path, number, f"expected 2 columns text,label, found {len(row)}")
        if not row[1].strip():
            raise CorpusError(path, number, "empty label")
        records.append((row[0], {row[1].strip(): 1.0}, number, len(records) + 1))
    if not records:
        raise CorpusError(path, 0, "the corpus is empty")
    return _with_all_labels(records)


_JSON_SPACE = re.compile(r"[ \t\n\r]*")


def _read_nlupp(path: Path) -> List[Record]:
    text = read_text(path)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise CorpusError(path, line_at(text, err.pos), f"invalid JSON: {err.msg}") from None
    except (ValueError, RecursionError) as err:
        raise CorpusError(path, 1, f"invalid JSON: {err}") from None
    if not isinstance(data, list):
        raise CorpusError(path, 1, "expected a JSON list of examples")
    records: List[Record] = []
    for i, (item, line) in enumerate(zip(data, _item_lines(text))):
        if not isinstance(item, dict) or not isinstance(item.get("text"), str):
            raise CorpusError(path, line, f'example {i + 1}: needs a "text" string')
        intents = item.get("intents", [])
        if not isinstance(intents, list) or not all(
            isinstance(intent, str) and intent.strip() for intent in intents
        ):
            raise CorpusError(
                path, line, f'example {i + 1}: "intents" must be a list of non-empty strings'
            )
        records.append((item["text"], {intent: 1.0 for intent in intents}, line, i + 1))
    if not records:
        raise CorpusError(path, 0, "the corpus is empty")
    return _with_all_labels(records)


def _item_lines(text: str) -> List[int]:
    """The line where each item of a JSON list starts (``text`` is valid JSON
    holding a list)."""
    decoder = json.JSONDecoder()
    find_line = line_finder(text)
    pos = _JSON_SPACE.match(text).end() + 1  # type: ignore[union-attr]
    lines: List[int] = []
    while True:
        pos = _JSON_SPACE.match(text, pos).end()  # type: ignore[union-attr]
        if text[pos] == "]":
            return lines
        lines.append(find_line(pos))
        _, pos = decoder.raw_decode(text, pos)
        pos = _JSON_SPACE.match(text, pos).end()  # type: ignore[union-attr]
        if text[pos] == ",":
            pos += 1


def _with_all_labels(records: List[Record]) -> List[Record]:
    """Give every record an explicit 0 for the labels of the file it lacks."""
    labels = sorted({label for _, cats, _, _ in records for label in cats})
    return [
        (text, {label: cats.get(label, 0.0) for label in labels}, line, number)
        for text, cats, line, number in records
    ]
