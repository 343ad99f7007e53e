"""``spacy.TransitionBasedParser.v1``: the model behind the parser and the NER.

The tree is the one spaCy 3 released under this name (spacy-legacy 3.0.12):
``parser_model[tok2vec >> list2array >> Linear, precomputable_affine,
Linear | noop]``, node for node, so weights saved by spaCy load into it.
Both signatures are accepted: the released one (``state_type``,
``extra_state_tokens``) and the seed-era one (``nr_feature_tokens``).
"""

from typing import Any, List, Optional

from thinc.api import Linear, Model, chain, list2array, use_ops, zero_init
from thinc.types import Floats2d

from arch_tok2vec.ops import use_numpy_gemm
from arch_tok2vec.validation import check_int

from ..layers.precomputable_affine import PrecomputableAffine
from ..layers.transition_model import VALID_NF, StateFeatures, TransitionModel, resize_output_v1

DocLike = Any
AnyModel = Model[Any, Any]

STATE_TYPES = {"parser": (8, 13), "ner": (3, 6)}


def TransitionBasedParser(
    tok2vec: Model[List[DocLike], List[Floats2d]],
    state_type: Optional[str] = None,
    extra_state_tokens: Optional[bool] = None,
    hidden_width: int = 64,
    maxout_pieces: int = 2,
    use_upper: bool = True,
    nO: Optional[int] = None,
    nr_feature_tokens: Optional[int] = None,
) -> AnyModel:
    """A transition-based parser or NER model: states are scored from the vectors
    of a few context tokens.

    tok2vec: Maps Docs to one array of token vectors per Doc (for example
        spacy.HashEmbedCNN.v1).
    state_type: "parser" (arc-eager dependency parsing) or "ner" (BILUO entity
        recognition): picks the context tokens (released signature).
    extra_state_tokens: Use the larger context-token set: 13 instead of 8 for the
        parser, 6 instead of 3 for NER (released signature).
    hidden_width: Width of the hidden layer (and of the projection of the token
        vectors).
    maxout_pieces: Pieces of the hidden maxout units; 1 gives ReLU units.
    use_upper: Put a Linear output layer over the hidden layer; false: the hidden
        layer's units are the move scores (its width is then the number of moves).
    nO: The number of moves; null: set from the move set before initialize.
    nr_feature_tokens: Seed-era signature: the number of context tokens directly
        (1, 2, 3, 6, 8 or 13) instead of state_type and extra_state_tokens.
    """
    if not isinstance(tok2vec, Model):
        raise TypeError(f"tok2vec must be a thinc Model, got {type(tok2vec).__name__}")
    seed_ner6 = False
    if nr_feature_tokens is not None:
        if state_type is not None or extra_state_tokens is not None:
            raise ValueError(
                "spacy.TransitionBasedParser.v1: give either nr_feature_tokens (seed "
                "signature) or state_type and extra_state_tokens (released), not both"
            )
        check_int("nr_feature_tokens", nr_feature_tokens)
        if nr_feature_tokens not in VALID_NF:
            raise ValueError(
                f"spacy.TransitionBasedParser.v1: nr_feature_tokens must be one of "
                f"{', '.join(map(str, VALID_NF))}, got {nr_feature_tokens}"
            )
        nF = nr_feature_tokens
        seed_ner6 = nF == 6
    else:
        if state_type not in STATE_TYPES:
            raise ValueError(
                f"spacy.TransitionBasedParser.v1: state_type must be 'parser' or 'ner', "
                f"got {state_type!r} (or give the seed-era nr_feature_tokens instead)"
            )
        if extra_state_tokens is None:
            raise ValueError(
                "spacy.TransitionBasedParser.v1: extra_state_tokens (true/false) is "
                "required with state_type"
            )
        if not isinstance(extra_state_tokens, bool):
            raise TypeError(f"extra_state_tokens must be true or false, got {extra_state_tokens!r}")
        nF = STATE_TYPES[state_type][int(extra_state_tokens)]
    check_int("hidden_width", hidden_width)
    check_int("maxout_pieces", maxout_pieces)
    if not isinstance(use_upper, bool):
        raise TypeError(f"use_upper must be true or false, got {use_upper!r}")
    if nO is not None:
        check_int("nO", nO)
    t2v_width = tok2vec.maybe_get_dim("nO")
    projected: AnyModel = chain(tok2vec, list2array(), Linear(hidden_width, t2v_width))
    projected.set_dim("nO", hidden_width)
    lower = PrecomputableAffine(
        nO=hidden_width if use_upper else nO,
        nF=nF,
        nI=projected.get_dim("nO"),
        nP=maxout_pieces,
    )
    upper: Optional[AnyModel] = None
    if use_upper:
        with use_ops("numpy"):
            upper = Linear(nO=nO, init_W=zero_init)
        upper_ops = upper.ops
    model = TransitionModel(projected, lower, upper, resize_output=resize_output_v1)
    model.attrs["state_features"] = StateFeatures(nF, seed_ner6)
    model = use_numpy_gemm(model)
    if upper is not None:
        # spaCy's components run the upper layer once per parser step on a few dozen
        # states: keep thinc's single-threaded blis there (as spaCy's own CPU Linear).
        upper.ops = upper_ops
    return model
