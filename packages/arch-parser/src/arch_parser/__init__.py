"""arch-parser: spaCy's transition-based parser architecture
(``spacy.TransitionBasedParser.v1``) on thinc, with a numpy runtime: arc-eager
dependency parsing and BILUO named-entity recognition, greedy decoding and
dynamic-oracle training.

Importing this package registers nothing: the names are declared as entry
points in the distribution's metadata, so installing it is what makes them
resolvable.
"""

from .about import __version__
from .arc_eager import ArcEager
from .architectures.parser import TransitionBasedParser
from .biluo import BiluoSystem
from .layers.precomputable_affine import PrecomputableAffine
from .layers.transition_model import TransitionModel, resize_output_v1
from .runtime import parse, update

__all__ = [
    "ArcEager",
    "BiluoSystem",
    "PrecomputableAffine",
    "TransitionBasedParser",
    "TransitionModel",
    "__version__",
    "parse",
    "resize_output_v1",
    "update",
]
