"""arch-tok2vec: spaCy's tok2vec architectures on thinc, with the shared registry,
the lightweight Doc and the ``archs`` command line of the arch family."""

from .about import __version__
from .doc import Doc, Span, Token
from .registry import registry
from .vocab import Vectors, Vocab

__all__ = ["Doc", "Span", "Token", "Vectors", "Vocab", "registry", "__version__"]
