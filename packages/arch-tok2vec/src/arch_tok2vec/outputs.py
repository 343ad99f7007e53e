"""The output folder of a training run: what it already holds, and the rule that
nothing in it is replaced silently.

A run writes ``model-best``, ``model-last`` and its log ``train.jsonl`` into its
output folder. A folder that already holds anything is refused before training
starts, naming what is there, unless the caller asked to overwrite it; then the
old models and log are replaced by the run's first evaluation, and the run's
messages say so.
"""

import datetime
import json
from pathlib import Path
from typing import Any, Dict, List

from .training_log import LOG_FILE, read_log

MODEL_FOLDERS = ("model-best", "model-last")
"""The model folders a training run writes into its output folder."""

SHOWN = 6
"""List at most this many entries of a folder in a message."""


class OutputExistsError(ValueError):
    """The output folder already holds something (and overwriting was not asked for).

    path: The output folder.
    contents: One description per entry (e.g. "model-best (task tagger, tag_acc
        0.8412, epoch 4, saved 2026-12-05)").
    """

    def __init__(self, path: Path, contents: List[str]):
        self.path = path
        self.contents = contents
        super().__init__(
            f"{path}/ already holds {join_descriptions(contents)}: give another output folder, "
            "or overwrite=True to replace the models in it"
        )


def check_output(path: Path, overwrite: bool) -> Dict[str, str]:
    """Refuse an output folder that holds anything unless ``overwrite``; create it
    (so that a folder that cannot be written fails now, not after an epoch).
    Returns what it held: {entry name: description} (empty for a new folder).

    path: The output folder of the run.
    overwrite: Allow replacing the model folders it holds.
    """
    if path.exists() and not path.is_dir():
        raise ValueError(f"the output folder {path} is a file: give a folder")
    held = describe_folder(path) if path.exists() else {}
    if held and not overwrite:
        raise OutputExistsError(path, list(held.values()))
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise OSError(f"cannot create the output folder {path}: {err.strerror or err}") from None
    return held


def describe_folder(path: Path) -> Dict[str, str]:
    """{entry name: description} for each entry of a folder, model folders first:
    a model folder by its task, score, epoch and date; anything else as a file or
    folder."""
    entries = sorted(path.iterdir(), key=lambda p: (p.name not in MODEL_FOLDERS, p.name))
    return {entry.name: describe_entry(entry) for entry in entries}


def describe_entry(entry: Path) -> str:
    """A model folder as "model-best (task tagger, tag_acc 0.8412, epoch 4, saved
    2026-12-05)"; a run's log as "train.jsonl (the log of 12 evaluations, the last
    at step 600)"; other entries as "a file NAME" / "a folder NAME"."""
    if entry.name == LOG_FILE and entry.is_file():
        return _describe_log(entry)
    meta_path = entry / "meta.json"
    if entry.is_dir() and meta_path.is_file():
        try:
            meta = json.loads(meta_path.read_text("utf8"))
        except (OSError, ValueError):
            return f"{entry.name} (a model folder whose meta.json cannot be read)"
        if isinstance(meta, dict):
            saved = datetime.date.fromtimestamp(meta_path.stat().st_mtime).isoformat()
            return f"{entry.name} ({', '.join(_meta_facts(meta) + [f'saved {saved}'])})"
    kind = "folder" if entry.is_dir() else "file"
    return f"a {kind} {entry.name}"


def _describe_log(entry: Path) -> str:
    try:
        records = read_log(entry)
    except (OSError, ValueError, UnicodeDecodeError):
        return f"{entry.name} (a training log that cannot be read)"
    steps = [r.get("step") for r in records if isinstance(r, dict)]
    if not steps:
        return f"{entry.name} (an empty training log)"
    return f"{entry.name} (the log of {len(steps)} evaluations, the last at step {steps[-1]})"


def _meta_facts(meta: Dict[str, Any]) -> List[str]:
    facts = []
    if isinstance(meta.get("task"), str):
        facts.append(f"task {meta['task']}")
    scores: Dict[str, Any] = meta["scores"] if isinstance(meta.get("scores"), dict) else {}
    key = meta.get("score_key")
    selected_by = meta.get("selected_by")
    if isinstance(selected_by, str) and selected_by not in scores and _number(meta.get("score")):
        facts.append(f"{selected_by} {meta['score']:.4f}")
        key = None
    elif key not in scores:
        key = next((k for k, v in scores.items() if isinstance(v, float)), None)
    if key is not None and isinstance(scores.get(key), (int, float)):
        facts.append(f"{key} {scores[key]:.4f}")
    if meta.get("interrupted"):
        facts.append(f"interrupted at step {meta.get('step', '?')}")
    elif isinstance(meta.get("epoch"), int):
        facts.append(f"epoch {meta['epoch']}")
    return facts


def join_descriptions(items: List[str]) -> str:
    """Descriptions joined into a phrase ("a, b and c"), at most SHOWN of them."""
    shown = items[:SHOWN]
    if len(items) > SHOWN:
        shown.append(f"{len(items) - SHOWN} more entries")
    if len(shown) == 1:
        return shown[0]
    return ", ".join(shown[:-1]) + " and " + shown[-1]


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)
