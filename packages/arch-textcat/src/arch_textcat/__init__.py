"""arch-textcat: spaCy's text classification architectures on thinc.

The architectures and the ``spacy.extract_ngrams.v1`` layer are declared as
entry points; importing this package registers nothing.
"""

from .about import __version__

__all__ = ["__version__"]
