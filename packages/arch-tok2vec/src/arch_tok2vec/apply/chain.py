"""Several models applied in order to the same Docs: each sees what the ones
before it set (an entity linker links the entities an NER model found)."""

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

from ..doc import Doc
from ..pipeline import Pipeline, load
from ..task import Task


@dataclass
class Model:
    """A loaded model of a chain.

    spec: What it was loaded from, as given (a model folder, or an installed
        model's name).
    pipeline: The loaded model and its task.
    """

    spec: str
    pipeline: Pipeline

    @property
    def task(self) -> Task:
        return self.pipeline.task

    def describe(self) -> Dict[str, Any]:
        """Its name, task, architecture, the versions that saved it and a checksum
        of its files (the SHA-256 of its manifest, which holds every file's)."""
        meta = self.pipeline.meta
        config = self.pipeline.config
        versions = _saved_versions(self.folder)
        return {
            "model": self.spec,
            "name": meta.get("name") if isinstance(meta.get("name"), str) else None,
            "version": meta.get("version") if isinstance(meta.get("version"), str) else None,
            "task": self.task.name,
            "architecture": str(config.get("model", {}).get("@architectures", "")),
            "saved_with": versions,
            "sha256": self.digest(),
        }

    @property
    def folder(self) -> Path:
        """The model folder ``load`` read (an installed model's, for a name)."""
        return self.pipeline.path if self.pipeline.path is not None else Path(self.spec)

    def digest(self) -> str:
        """The SHA-256 of the model folder's manifest (which lists every file's
        SHA-256); for a model that has none, of its weights and task data."""
        manifest = self.folder / "manifest.json"
        if manifest.is_file():
            return hashlib.sha256(manifest.read_bytes()).hexdigest()
        hasher = hashlib.sha256(self.pipeline.model.to_bytes())
        hasher.update(json.dumps(self.task.to_dict(), sort_keys=True).encode("utf8"))
        return hasher.hexdigest()


def _saved_versions(folder: Path) -> Dict[str, str]:
    """The versions recorded in a model folder's manifest ({} if it has none)."""
    try:
        data = json.loads((folder / "manifest.json").read_text("utf8"))
    except (OSError, ValueError):
        return {}
    versions = data.get("written_by") if isinstance(data, dict) else None
    if not isinstance(versions, dict):
        return {}
    return {str(k): str(v) for k, v in sorted(versions.items())}


class Chain:
    """Models that annotate the same Docs one after the other.

    models: The loaded models, in the order they run.
    """

    def __init__(self, models: Sequence[Model]):
        if not models:
            raise ValueError("give at least one model")
        self.models = list(models)
        for model in self.models:
            if type(model.task).record is Task.record:
                raise ValueError(
                    f"{model.spec}: its task ({model.task.name}) cannot write its annotations "
                    "(no record method): upgrade its arch package"
                )

    @classmethod
    def load(cls, specs: Sequence[str]) -> "Chain":
        """Load every model (``arch_tok2vec.load``, as ``archs evaluate`` does) and
        chain them.

        specs: Model folders or installed models' names, in the order the models run.
        """
        return cls([Model(str(spec), load(spec)) for spec in specs])

    def notes(self) -> List[str]:
        """What the tasks say about how they run after the ones before them."""
        out = []
        for i, model in enumerate(self.models):
            note = model.task.chain_note([m.task for m in self.models[:i]])
            if note:
                out.append(f"{model.spec}: {note}")
        return out

    def check_conllu(self) -> None:
        """Raise ValueError naming the model whose annotations do not fit CoNLL-U."""
        for model in self.models:
            if type(model.task).conllu is Task.conllu:
                raise ValueError(
                    f"{model.spec}: the annotations of its task ({model.task.name}) do not fit "
                    "CoNLL-U: write JSONL (an OUTPUT ending in .jsonl)"
                )

    def __call__(self, docs: Sequence[Any]) -> None:
        """Annotate the Docs with every model in turn.

        docs: Docs (ours or spaCy's); empty ones are left as they are.
        """
        filled = [doc for doc in docs if len(doc)]
        if not filled:
            return
        for model in self.models:
            task = model.task
            task.annotate(filled, task.predict(model.pipeline.model, filled))

    def record(self, doc: Any, fields: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
        """The JSON record of an annotated Doc: ``text``, ``tokens``, ``spaces``, then
        each model's keys in order (a later model's key replaces an earlier one's
        in place: an entity linker's ``ents`` carry the NER model's with their
        ``kb_id``), then the input's other ``fields`` if there are any.

        doc: A Doc the chain annotated.
        fields: The input record's other fields, carried through.
        """
        if isinstance(doc, Doc):  # ours: its lists, without a Token view per token
            tokens, spaces = list(doc.words), list(doc.spaces)
        else:
            tokens = [token.text for token in doc]
            spaces = [bool(token.whitespace_) for token in doc]
        record: Dict[str, Any] = {"text": doc.text, "tokens": tokens, "spaces": spaces}
        for model in self.models:
            record.update(model.task.record(doc))
        if fields:
            record["fields"] = fields
        return record

    def conllu_columns(self, doc: Any) -> Dict[str, List[str]]:
        """Every model's CoNLL-U columns for an annotated Doc; MISC items joined."""
        columns: Dict[str, List[str]] = {}
        for model in self.models:
            for name, values in model.task.conllu(doc).items():
                if name == "MISC" and "MISC" in columns:
                    values = [_join_misc(a, b) for a, b in zip(columns["MISC"], values)]
                columns[name] = list(values)
        return columns


def _join_misc(a: str, b: str) -> str:
    return "|".join(item for item in (a, b) if item)
