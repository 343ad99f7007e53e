"""The seam to spaCy's ``parser`` and ``ner`` components.

spaCy's transition-based components call the model's forward on a batch of
``spacy.tokens.Doc`` and drive the step model it returns from compiled code:
greedy decoding reads the precomputed feature table, the lower bias and the
upper weights through C pointers (``get_c_weights``), so only spaCy's own
``spacy.ml.parser_model.ParserStepModel`` will do. Our layers have spaCy's
tree, parameter names and shapes and the lower layer's forward/backward
contract, so that class runs over them as it runs over spaCy's.

spaCy is never imported here unless the batch is made of spaCy Docs, which
can only exist once spaCy has been imported: arch-parser does not depend on it.
"""

import sys
from typing import Any, Callable, Sequence, Tuple

from thinc.api import Model

AnyModel = Model[Any, Any]


def is_spacy_batch(docs: Any) -> bool:
    """Whether ``docs`` is a non-empty sequence of ``spacy.tokens.Doc`` objects.

    docs: The input the parser model was called on.
    """
    tokens = sys.modules.get("spacy.tokens")
    if tokens is None or not isinstance(docs, Sequence) or len(docs) == 0:
        return False
    return isinstance(docs[0], tokens.Doc)


def spacy_step_model(model: AnyModel, docs: Any, is_train: bool) -> Tuple[Any, Callable]:
    """spaCy's step model over our tok2vec, lower and upper layers, with the
    callback (``finish_steps``) that backpropagates the recorded steps.

    model: The TransitionModel (parser_model) root.
    docs: A batch of spaCy Docs.
    is_train: Whether spaCy will call the step model's backprop callbacks.
    """
    from spacy.ml.parser_model import ParserStepModel

    step = ParserStepModel(
        docs,
        model.layers,
        unseen_classes=model.attrs["unseen_classes"],
        train=is_train,
        has_upper=model.attrs["has_upper"],
    )
    return step, step.finish_steps
