"""A trained model with its task: saved as a folder, loaded with one call.

A model folder holds ``config.cfg`` (the training config), ``model.bin`` (the
weights, thinc's ``to_bytes``), ``task.json`` (what the task learned, e.g. its
labels) and ``meta.json`` (scores, versions, date).
"""

import json
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Sequence, Union

from thinc.api import Config, Model

from .about import __version__
from .doc import Doc
from .task import Example, Task

FILES = ("config.cfg", "model.bin", "task.json", "meta.json")


class Pipeline:
    """A model and the task that decodes its output.

    Call it on texts or Docs to get one decoded prediction per document.
    """

    def __init__(self, config: Config, model: Model, task: Task, meta: Optional[Dict] = None):
        self.config = config
        self.model = model
        self.task = task
        self.meta = meta or {}

    def __call__(self, inputs: Iterable[Union[str, Any]], batch_size: int = 128) -> List[Any]:
        docs = [Doc.from_text(x) if isinstance(x, str) else x for x in inputs]
        predictions: List[Any] = []
        for start in range(0, len(docs), batch_size):
            predictions.extend(self.task.predict(self.model, docs[start : start + batch_size]))
        return predictions

    def evaluate(self, examples: Sequence[Example], batch_size: int = 128) -> Dict[str, Any]:
        """Score the model on gold examples with the task's metric."""
        predictions = self([eg.doc for eg in examples], batch_size=batch_size)
        return self.task.score(examples, predictions)

    def to_disk(self, path: Union[str, Path]) -> None:
        """Write the four files of a model folder (creating the folder)."""
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        self.config.to_disk(path / "config.cfg")
        (path / "model.bin").write_bytes(self.model.to_bytes())
        (path / "task.json").write_text(json.dumps(self.task.to_dict(), indent=2) + "\n")
        meta = {"arch_tok2vec": __version__, **self.meta}
        (path / "meta.json").write_text(json.dumps(meta, indent=2) + "\n")


def load(path: Union[str, Path]) -> Pipeline:
    """Load a model folder written by ``archs train`` (or ``Pipeline.to_disk``)."""
    from .registry import registry

    path = Path(path)
    missing = [name for name in FILES if not (path / name).exists()]
    if missing:
        raise ValueError(f"{path} is not a model folder: missing {', '.join(missing)}")
    config = Config().from_disk(path / "config.cfg")
    resolved = registry.resolve({"task": config["task"], "model": config["model"]})
    task: Task = resolved["task"]
    task.from_dict(json.loads((path / "task.json").read_text()))
    model: Model = resolved["model"]
    model.from_bytes((path / "model.bin").read_bytes())
    meta = json.loads((path / "meta.json").read_text())
    return Pipeline(config, model, task, meta)
