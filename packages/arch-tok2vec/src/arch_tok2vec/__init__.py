"""arch-tok2vec: spaCy's tok2vec architectures on thinc, with the shared registry,
the lightweight Doc and the ``archs`` command line of the arch family."""

from .about import __version__
from .doc import Doc, Span, Token
from .model_file_error import ModelFileError
from .pipeline import Pipeline, load
from .registry import registry
from .task import CorpusError, CorpusWarning, Example, Task
from .vocab import Vectors, Vocab

__all__ = [
    "CorpusError",
    "CorpusWarning",
    "Doc",
    "Example",
    "ModelFileError",
    "Pipeline",
    "Span",
    "Task",
    "Token",
    "Vectors",
    "Vocab",
    "load",
    "registry",
    "__version__",
]
