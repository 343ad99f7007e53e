"""A trained model with its task: saved as a folder, loaded with one call.

A model folder holds ``config.cfg`` (the training config), ``model.bin`` (the
weights, thinc's ``to_bytes``), ``task.json`` (what the task learned, e.g. its
labels), ``meta.json`` (scores, epoch, seed), any files of the task's own
(``Task.write_files``) and ``manifest.json`` (every file's size and checksum, and
the versions that wrote them: see ``model_files``).

Saving is atomic (``atomic_folder``): a crash or a full disk at any moment leaves
the previous complete folder or the new one. Loading treats the folder as untrusted
data: everything is verified before anything is parsed, a loaded config may name
only model-building registries, and every failure raises ``ModelFileError`` naming
the file (docs/security.md).
"""

import json
import os
import re
import warnings
from pathlib import Path
from typing import Any, Dict, Iterable, Iterator, List, Optional, Sequence, Union

from thinc.api import Config, Model

from .about import __version__
from .atomic_folder import replace_folder, siblings, write_file
from .config_references import check_config, disallowed_references
from .distribution_names import name_problem
from .doc import Doc
from .installed_models import model_folder
from .model_file_error import ModelFileError
from .model_files import (
    CONFIG,
    META,
    TASK,
    WEIGHTS,
    VerifiedFolder,
    check_replaceable,
    read_folder,
    write_manifest,
)
from .model_versions import versions_for
from .saved_json import Tracked, first_difference, parse_json
from .task import Example, Task

FILES = (CONFIG, WEIGHTS, TASK, META)


class Pipeline:
    """A model and the task that decodes its output.

    Call it on texts or Docs to get one decoded prediction per document.
    """

    def __init__(self, config: Config, model: Model, task: Task, meta: Optional[Dict] = None):
        self.config = config
        self.model = model
        self.task = task
        self.meta = meta or {}
        self.path: Optional[Path] = None
        """The model folder it was loaded from (``load``: a folder's path, or the
        folder of the installed model a name found); None for a pipeline built in
        memory."""

    def __call__(self, inputs: Iterable[Union[str, Any]], batch_size: int = 128) -> List[Any]:
        docs = [Doc.from_text(x) if isinstance(x, str) else x for x in inputs]
        predictions: List[Any] = []
        for start in range(0, len(docs), batch_size):
            predictions.extend(self.task.predict(self.model, docs[start : start + batch_size]))
        return predictions

    def pipe(
        self, texts: Iterable[Union[str, Any]], batch_size: int = 128, n_process: int = 1
    ) -> Iterator[Any]:
        """Annotated Docs for a stream of texts (or Docs), in order, as spaCy's
        ``nlp.pipe``; to run several models in order, ``arch_tok2vec.apply.pipe``.

        texts: Texts or Docs (ours or spaCy's).
        batch_size: Docs per batch.
        n_process: Worker processes (-1: every core); with more than one, each
            worker holds the model and the Docs come back as new
            ``arch_tok2vec.Doc`` objects (see ``arch_tok2vec.apply.pipe``).
        """
        from .apply import pipe

        return pipe([self], texts, batch_size=batch_size, n_process=n_process)

    def evaluate(self, examples: Sequence[Example], batch_size: int = 128) -> Dict[str, Any]:
        """Score the model on gold examples with the task's metric."""
        predictions = self([eg.doc for eg in examples], batch_size=batch_size)
        return self.task.score(examples, predictions)

    def to_disk(self, path: Union[str, Path]) -> None:
        """Save the model folder ``path`` atomically: the new folder is written
        complete beside it, flushed to disk, then swapped in.

        path: The folder (its parent is created if needed). An existing model
            folder there is replaced; an existing folder holding anything else is
            refused (FileExistsError).
        Raises OSError naming the folder if writing fails (e.g. the disk is full);
        the previous folder is then unchanged.
        """
        path = Path(path)
        config = self.config.interpolate() if isinstance(self.config, Config) else self.config
        for block, message in disallowed_references(config):
            raise ValueError(f"cannot save [{block}]: {message}")
        check_replaceable(path)
        config_text = self.config.to_str()
        weights = self.model.to_bytes()
        task_text = json.dumps(self.task.to_dict(), indent=2) + "\n"
        meta = {**self.meta, "arch_tok2vec": __version__}
        meta_text = json.dumps(meta, indent=2) + "\n"
        versions = versions_for(config)

        def fill(folder: Path) -> None:
            self.task.write_files(folder)
            for name, data in (
                (CONFIG, config_text.encode("utf8")),
                (TASK, task_text.encode("utf8")),
                (META, meta_text.encode("utf8")),
                (WEIGHTS, weights),
            ):
                if (folder / name).exists():
                    raise ValueError(f"the task wrote {name}, a name of the pipeline's files")
                write_file(folder, name, data)
            write_manifest(folder, versions)

        replace_folder(path, fill)


def load(path: Union[str, Path], *, allow_unverified: bool = False) -> Pipeline:
    """Load a model folder written by ``archs train`` (or ``Pipeline.to_disk``), or an
    installed model by its name.

    path: The folder. If it is missing because a save was interrupted between its
        two renames (systems without an atomic exchange), the complete copy that
        save left beside it is loaded, with a warning. A string that names no
        folder is looked up as the name of an installed model (a distribution made
        by ``archs package``, found through the ``arch_models`` entry points), whose
        folder is verified like any other.
    allow_unverified: Load a folder saved before manifests existed (no
        manifest.json), with a warning, instead of refusing it. Nothing in such a
        folder can be verified: use it only for folders you trust, and save them
        again to add a manifest.
    Raises ModelFileError (a ValueError) naming the file, and the key or config
    block, when a check fails or a file cannot be read; naming the path and the
    close model names when neither a folder nor an installed model is found.
    """
    return from_folder(_read(path, allow_unverified))


def from_folder(folder: VerifiedFolder) -> Pipeline:
    """Build the pipeline a verified model folder holds (see ``load``).

    folder: What ``model_files.read_folder`` returned for the folder.
    """
    config_path = folder.path / CONFIG
    config = _parse_config(folder.contents[CONFIG], config_path)
    check_config(config, config_path)
    task = _resolve(config, "task", config_path)
    model = _resolve(config, "model", config_path)
    if not isinstance(task, Task):
        raise ModelFileError(config_path, "does not build a task", block="task")
    if not isinstance(model, Model):
        raise ModelFileError(config_path, "does not build a thinc Model", block="model")
    _restore_task(task, folder.contents[TASK], folder.path / TASK)
    _restore_weights(model, folder.contents[WEIGHTS], folder.path / WEIGHTS)
    try:
        task.read_files(folder.path)
    except ModelFileError:
        raise
    except Exception as err:
        raise ModelFileError(
            folder.path, f"the task cannot read its files: {type(err).__name__}: {err}"
        ) from None
    meta = parse_json(folder.contents[META], folder.path / META)
    pipeline = Pipeline(config, model, task, meta)
    pipeline.path = folder.path
    return pipeline


def _read(given: Union[str, Path], allow_unverified: bool) -> VerifiedFolder:
    """The verified folder at ``given``; or the complete copy an interrupted save left
    beside it if ``given`` is missing; or the folder of the installed model called
    ``given`` (a string naming no folder)."""
    path = Path(given)
    if not os.path.lexists(path):
        for candidate in siblings(path):
            try:
                folder = read_folder(candidate)
            except ModelFileError:
                continue
            warnings.warn(
                f"{path} is missing (a save was interrupted); loading {candidate.name}, the "
                "complete copy it left beside it. Saving the model again puts it in place.",
                UserWarning,
                stacklevel=3,
            )
            return folder
        if isinstance(given, str) and name_problem(given) is None:
            installed, why = model_folder(given)
            if installed is None:
                raise ModelFileError(given, f"no such model folder, and {why}")
            return read_folder(installed, allow_unverified)
    return read_folder(path, allow_unverified)


def _parse_config(data: bytes, path: Path) -> Config:
    try:
        text = data.decode("utf8")
    except UnicodeDecodeError as err:
        raise ModelFileError(path, f"not UTF-8 text (byte {err.start})") from None
    try:
        return Config().from_str(text)
    except Exception as err:  # confection raises several kinds for bad syntax
        raise ModelFileError(path, f"cannot be read: {err}") from None


def _resolve(config: Config, block: str, path: Path) -> Any:
    from .registry import registry

    try:
        return registry.resolve({block: config[block]})[block]
    except Exception as err:  # a registered function refusing its settings, or confection
        raise ModelFileError(
            path, f"cannot be built: {type(err).__name__}: {err}", block=block
        ) from None


def _restore_task(task: Task, raw: bytes, path: Path) -> None:
    """Give the task what task.json holds; errors name the key being read."""
    data = parse_json(raw, path)
    if not isinstance(data, dict):
        raise ModelFileError(path, "must hold a JSON object")
    trail = [""]
    try:
        task.from_dict(Tracked(data, trail))
    except KeyError as err:
        missing = err.args[0] if err.args else trail[0]
        parent = trail[0].rsplit(".", 1)[0] + "." if "." in trail[0] else ""
        raise ModelFileError(path, "missing", key=f"{parent}{missing}") from None
    except Exception as err:
        raise ModelFileError(
            path,
            f"the task cannot read it: {type(err).__name__}: {err}",
            key=_blamed(err, data, trail[0]),
        ) from None
    try:
        restored = json.loads(json.dumps(task.to_dict()))
    except Exception as err:
        raise ModelFileError(
            path, f"the task cannot use it: {type(err).__name__}: {err}", key=trail[0] or None
        ) from None
    key = first_difference(data, restored)
    if key is not None:
        raise ModelFileError(
            path,
            "the task does not read this value back as stored (a wrong type or value)",
            key=key,
        )


def _blamed(err: Exception, data: Dict[str, Any], last: str) -> Optional[str]:
    """The key an error from ``Task.from_dict`` is about: the one its message starts
    with (e.g. "combination must be one of ...", or a dotted key such as "words.df"
    or "moves.2": the longest part of it that task.json holds), else the last key
    the task read."""
    match = re.match(r"^\w+(?:\.\w+)*", str(err))
    found: List[str] = []
    node: Any = data
    for part in match.group(0).split(".") if match else ():
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif (
            isinstance(node, list) and part.isdecimal() and len(part) < 10 and int(part) < len(node)
        ):
            node = node[int(part)]
        else:
            break
        found.append(part)
    return ".".join(found) if found else last or None


def _restore_weights(model: Model, data: bytes, path: Path) -> None:
    try:
        model.from_bytes(data)
    except Exception as err:  # msgpack, thinc and the shims raise many kinds
        raise ModelFileError(
            path, f"cannot restore the weights: {type(err).__name__}: {err}"
        ) from None
