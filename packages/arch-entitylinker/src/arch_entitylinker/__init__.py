"""arch-entitylinker: spaCy's entity linker architecture (``spacy.EntityLinker.v1``)
on thinc, with an in-memory knowledge base and the KB functions of the seed's
``assets`` registry.

Importing this package registers nothing: the names are declared as entry points
in the distribution's metadata, so installing it is what makes them resolvable.
The knowledge base (``KnowledgeBase``, ``Candidate``) imports without thinc; the
model function is loaded on first use.
"""

from typing import Any

from .about import __version__
from .kb import Candidate, KnowledgeBase, ReadOnlyKBError
from .kb_format import KBFormatError

__all__ = [
    "Candidate",
    "EntityLinker",
    "KBFormatError",
    "KnowledgeBase",
    "ReadOnlyKBError",
    "__version__",
]


def __getattr__(name: str) -> Any:
    if name == "EntityLinker":
        from .architectures.entity_linker import EntityLinker

        return EntityLinker
    raise AttributeError(f"module 'arch_entitylinker' has no attribute {name!r}")
