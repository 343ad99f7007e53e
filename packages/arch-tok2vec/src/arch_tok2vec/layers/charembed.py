"""``spacy.CharEmbed.v1``: embed each token by a few of its UTF-8 bytes."""

from typing import Any, Callable, List, Optional, Sequence, Tuple

from thinc.api import Model
from thinc.types import Floats2d

from ..validation import check_int


def CharEmbed(nM: int, nC: int) -> Model[List[Any], List[Floats2d]]:
    """Represent a token by ``nC`` of its bytes, each looked up in its own table.

    nM: The width of the vector for one byte.
    nC: How many bytes of each token are used (taken alternately from the
        front and the back of the token's UTF-8 text; see ``Doc.to_utf8_array``).
    Output width is ``nM * nC``. The table ``E`` has shape (nC, 256, nM) and starts at zero.
    """
    check_int("nM", nM)
    check_int("nC", nC)
    return Model(
        "charembed",
        _forward,
        init=_init,
        dims={"nM": nM, "nC": nC, "nO": nM * nC, "nV": 256},
        params={"E": None},
    )


def _init(model: Model, X: Optional[Any] = None, Y: Optional[Any] = None) -> None:
    shape = (model.get_dim("nC"), model.get_dim("nV"), model.get_dim("nM"))
    model.set_param("E", model.ops.alloc3f(*shape))


def _forward(
    model: Model[List[Any], List[Floats2d]], docs: Sequence[Any], is_train: bool
) -> Tuple[List[Floats2d], Callable]:
    E: Any = model.get_param("E")
    nC, nM = model.get_dim("nC"), model.get_dim("nM")
    xp = model.ops.xp
    slots = xp.arange(nC)[None, :]
    ids_per_doc: List[Any] = [model.ops.asarray(doc.to_utf8_array(nr_char=nC)) for doc in docs]
    outputs = [E[slots, ids].reshape((ids.shape[0], nC * nM)) for ids in ids_per_doc]

    def backprop(d_outputs: List[Any]) -> List[Any]:
        # Scatter into E viewed as one (nC * 256, nM) table.
        nV = E.shape[1]
        dE: Any = model.ops.alloc2f(nC * nV, nM)
        for ids, d_out in zip(ids_per_doc, d_outputs):
            flat_ids = (slots * nV + ids).astype("int32").ravel()
            model.ops.scatter_add(dE, flat_ids, d_out.reshape((-1, nM)))
        model.inc_grad("E", dE.reshape(E.shape))
        return []

    return outputs, backprop
