"""arch-tagger: spaCy's tagger architecture (``spacy.Tagger.v1``) on thinc.

Importing this package registers nothing: the name is declared as an entry point
in the distribution's metadata, so installing it is what makes it resolvable.
"""

from .about import __version__
from .architectures.tagger import Tagger

__all__ = ["Tagger", "__version__"]
