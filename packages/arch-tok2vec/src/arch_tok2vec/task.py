"""What a trainable task is: its corpus reader, loss, decoding and metric.

Each family package contributes a task through the ``arch_tasks`` entry-point
group (registry ``tasks``); ``archs train`` looks the task up by the name given
in the config's ``[task]`` block and drives it with the shared loop in
``arch_tok2vec.training``.
"""

from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Dict, Hashable, Iterable, List, Optional, Sequence, Tuple

from thinc.api import Model


class CorpusError(ValueError):
    """Bad corpus input; the message names the file and line at fault."""

    def __init__(self, path: Any, line: int, message: str):
        self.path = str(path)
        self.line = line
        where = f"{self.path}, line {line}" if line else self.path
        super().__init__(f"{where}: {message}")


class CorpusWarning(UserWarning):
    """A reader skipped part of a corpus on purpose; the message names the file
    and how much was skipped."""


@dataclass
class Example:
    """A Doc with its gold annotation (the shape of ``gold`` is the task's)."""

    doc: Any
    gold: Any


class Task:
    """Base class of the training tasks. Subclasses fill in the methods.

    ``score_key`` names the metric that selects the best model by default;
    ``metrics`` lists every score ``score`` returns that may select it
    (``[training] score_weights`` may weight any of them).
    """

    name: str = "task"
    score_key: str = "score"
    metrics: Tuple[str, ...] = ()
    # The embedded sample corpus: (package, train file, dev file) in <package>/sample/.
    sample_files: Tuple[str, str, str] = ("", "", "")
    provides: Tuple[str, ...] = ()
    """What ``annotate`` sets on a Doc, for the models after it in ``archs apply``:
    "tags", "parse" (heads, labels and sentences), "ents", "kb_ids", "cats"."""

    def sample(self) -> Tuple[List[Example], List[Example]]:
        """A small (train, dev) corpus embedded in the package, for trying
        ``archs train`` without data (read from ``sample_files``)."""
        package, train_name, dev_name = self.sample_files
        if not package:
            raise ValueError(f"task {self.name} has no sample corpus: give paths.train and dev")
        folder = resources.files(package) / "sample"
        with (
            resources.as_file(folder / train_name) as train,
            resources.as_file(folder / dev_name) as dev,
        ):
            return self.read(train), self.read(dev)

    def read(self, path: Path) -> List[Example]:
        """Read a corpus file into examples (raise CorpusError on bad input)."""
        raise NotImplementedError

    def initialize(self, model: Model, examples: Sequence[Example]) -> None:
        """Learn the label set from training examples and initialize the model."""
        raise NotImplementedError

    def get_loss(self, examples: Sequence[Example], guesses: Any) -> Tuple[float, Any]:
        """The loss of the model's output on a batch, and its gradient."""
        raise NotImplementedError

    def update(self, model: Model, examples: Sequence[Example], sgd: Any) -> float:
        """One training step on a batch; returns its loss. The default runs
        ``model.begin_update`` on the docs, ``get_loss``, the backward pass and
        ``model.finish_update(sgd)``; tasks whose model is not a plain
        docs-to-output function (e.g. a transition-based parser) override it."""
        guesses, backprop = model.begin_update([eg.doc for eg in examples])
        loss, d_guesses = self.get_loss(examples, guesses)
        backprop(d_guesses)
        model.finish_update(sgd)
        return float(loss)

    def predict(self, model: Model, docs: Sequence[Any]) -> List[Any]:
        """Decode the model's output into one annotation per doc."""
        raise NotImplementedError

    def score(self, examples: Sequence[Example], predictions: Sequence[Any]) -> Dict[str, Any]:
        """Metrics of predictions against gold; must include ``score_key``."""
        raise NotImplementedError

    def stratum(self, example: Example) -> Optional[Hashable]:
        """The class of a training example that ``[training] dev_fraction`` keeps
        in proportion when it holds out a dev set (e.g. the label of an exclusive
        text classifier); None: no class (a plain random split)."""
        return None

    def check(self, examples: Sequence[Example], path: Path) -> None:
        """Check examples read for evaluation against what the task learned
        (e.g. unknown labels); raise CorpusError naming the file."""

    def to_dict(self) -> Dict[str, Any]:
        """What must be saved beside the weights (e.g. the labels)."""
        return {}

    def from_dict(self, data: Dict[str, Any]) -> "Task":
        """Restore what ``to_dict`` saved. ``arch_tok2vec.load`` then checks that
        ``to_dict()`` gives back every value read (same JSON types), so a value the
        task would misread (e.g. "false" for a boolean) is refused, naming the key."""
        return self

    def write_files(self, folder: Path) -> None:
        """Write files of the task's own into a model folder being saved, beside
        task.json: for data too large for JSON (e.g. a table to memory-map). Plain
        names only (no subfolders, no leading dot, not the names of the pipeline's
        files). Each file is checksummed in the folder's manifest and verified on
        load. Default: none.

        folder: The new model folder, not yet in place.
        """

    def read_files(self, folder: Path) -> None:
        """Read the files ``write_files`` wrote, after ``from_dict``, from a model
        folder whose files have been verified. Default: nothing.

        folder: The model folder being loaded.
        """

    def annotate(self, docs: Iterable[Any], predictions: Iterable[Any]) -> None:
        """Set predictions on the docs (optional)."""

    def record(self, doc: Any) -> Dict[str, Any]:
        """What ``annotate`` set on a Doc, as JSON values under the task's own keys
        (e.g. ``{"upos": [...]}``): ``archs apply`` adds them to each document's
        output record, in a fixed order, so the same annotations always give the
        same bytes. Works on ``arch_tok2vec.Doc`` and spaCy's ``Doc`` alike.

        doc: A Doc the task annotated.
        """
        raise NotImplementedError(f"the {self.name} task cannot write its annotations")

    def conllu(self, doc: Any) -> Dict[str, List[str]]:
        """What ``annotate`` set on a Doc as CoNLL-U columns: {column: one value
        per token}, for the columns UPOS, XPOS, HEAD (1-based within the token's
        sentence, 0 for a root), DEPREL and MISC (``Key=Value`` items, joined
        with the other models' by ``|``).

        doc: A Doc the task annotated.
        Raises NotImplementedError when the task's annotations have no place in
        CoNLL-U (e.g. text categories): write JSONL instead.
        """
        raise NotImplementedError(f"the {self.name} task's annotations do not fit CoNLL-U")

    def chain_note(self, earlier: Sequence["Task"]) -> Optional[str]:
        """How the task will work after ``earlier`` tasks have annotated the same
        Docs, when the user should know (e.g. an entity linker with no model
        before it that sets entities); None when there is nothing to say.

        earlier: The tasks of the models run before this one, in order.
        """
        return None
