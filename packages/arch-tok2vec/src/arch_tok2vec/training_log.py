"""``train.jsonl``: the machine-readable record of a training run, one JSON object
per line and per evaluation, beside ``model-best`` and ``model-last``.

Each line is appended and flushed to disk as soon as its evaluation (and the
saves that follow it) are done, so a crash keeps every line written before it. A
run started with ``overwrite`` replaces the previous run's log at its first line,
the moment it first replaces the models.

A record holds: ``step``, ``epoch``, ``words`` (training words seen so far),
``loss`` (summed over the updates since the previous evaluation), ``score`` (the
weighted score that selects model-best), ``best`` (this evaluation saved
model-best), ``scores`` (every score the task reports, full precision; a value
that is not a finite number is written as null), ``words_per_second`` (training
speed since the previous evaluation) and ``seconds`` (elapsed since training
started).
"""

import json
import math
import os
from pathlib import Path
from typing import Any, Dict, Iterator, List

LOG_FILE = "train.jsonl"
"""The name of the log in a run's output folder."""

LOG_FIELDS = (
    "step",
    "epoch",
    "words",
    "loss",
    "score",
    "best",
    "scores",
    "words_per_second",
    "seconds",
)
"""The fields of every record, in order (docs/training.md describes each)."""


class TrainingLog:
    """Appends records to ``folder / LOG_FILE``; the first write of a run starts
    the file afresh.

    folder: The run's output folder.
    """

    def __init__(self, folder: Path):
        self.path = Path(folder) / LOG_FILE
        self.started = False

    def write(self, record: Dict[str, Any]) -> None:
        """Append one record (the fields of LOG_FIELDS) as a line of JSON and flush
        it to disk."""
        if tuple(record) != LOG_FIELDS:
            raise ValueError(f"a log record has the fields {LOG_FIELDS}, got {tuple(record)}")
        line = json.dumps(json_safe(record), allow_nan=False) + "\n"
        with open(self.path, "a" if self.started else "w", encoding="utf8") as file:
            file.write(line)
            file.flush()
            os.fsync(file.fileno())
        self.started = True


def json_safe(value: Any) -> Any:
    """A value with every float that is not finite replaced by None and numpy
    scalars turned into Python numbers (JSON has no NaN)."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if hasattr(value, "item") and callable(value.item) and not isinstance(value, (str, bytes)):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def read_log(path: Path) -> List[Dict[str, Any]]:
    """The records of a ``train.jsonl`` file (for scripts and tests)."""
    return list(_records(Path(path)))


def _records(path: Path) -> Iterator[Dict[str, Any]]:
    with open(path, encoding="utf8") as file:
        for number, line in enumerate(file, 1):
            if line.strip():
                try:
                    yield json.loads(line)
                except json.JSONDecodeError as err:
                    raise ValueError(f"{path}, line {number}: not JSON: {err.msg}") from None
