"""arch-transformers: spacy-transformers' TransformerModel.v1, Tok2VecListener.v1 and
span getters on thinc, for Hugging Face models on local disk.

Importing this package registers nothing: the names are declared as entry points
in the distribution's metadata, so installing it is what makes them resolvable.
"""

from .about import __version__
from .architectures.listener import Tok2VecListener
from .architectures.shared import WithTransformer
from .architectures.transformer import TransformerModel
from .data import TransformerData, batch_id
from .sharing import SharedTransformer, find_listeners
from .span_getters import doc_spans, sent_spans, strided_spans

__all__ = [
    "SharedTransformer",
    "Tok2VecListener",
    "TransformerData",
    "TransformerModel",
    "WithTransformer",
    "__version__",
    "batch_id",
    "doc_spans",
    "find_listeners",
    "sent_spans",
    "strided_spans",
]
