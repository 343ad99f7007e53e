"""``spacy.StaticVectors.v1``: project the Docs' static word vectors."""

from typing import Any, Callable, List, Optional, Sequence, Tuple, cast

from thinc.api import Model, glorot_uniform_init
from thinc.types import Floats2d, Ragged

from ..validation import check_rate


def StaticVectors(
    nO: Optional[int] = None,
    nM: Optional[int] = None,
    *,
    dropout: Optional[float] = None,
    init_W: Callable = glorot_uniform_init,
    key_attr: str = "ORTH",
) -> Model[List[Any], Ragged]:
    """Look each token up in its vocab's vectors table and project it to ``nO``.

    nO: The output width.
    nM: The width of the vectors table (read from the Docs at initialize).
    dropout: Dropout rate applied per output dimension while training.
    init_W: Initializer for the projection ``W`` of shape (nO, nM).
    key_attr: The attribute whose value is the key into the vectors table.
    Behaves as spaCy's v1 layer: a token whose key has no vector gets the
    table's last row (spaCy's ``StaticVectors.v2`` gives zeros instead). Docs
    must carry ``doc.vocab.vectors`` with ``data`` and ``find(keys=...)``; for
    ``arch_tok2vec.Doc`` that is ``Vocab(vectors=Vectors(words, data))``.
    """
    check_rate("dropout", dropout)
    return Model(
        "static_vectors",
        _forward,
        init=lambda model, X=None, Y=None: _init(init_W, model, X, Y),
        params={"W": None},
        attrs={"key_attr": key_attr, "dropout_rate": dropout},
        dims={"nO": nO, "nM": nM},
    )


def _vectors_of(docs: Sequence[Any]) -> Any:
    vectors = getattr(docs[0].vocab, "vectors", None)
    data = getattr(vectors, "data", None)
    if data is None or not len(data.shape) == 2 or not data.shape[0] or not data.shape[1]:
        raise ValueError(
            "static vectors are enabled but the Docs' vocab has no vectors: give the "
            "Docs a vocab with a vectors table (arch_tok2vec: Vocab(vectors=Vectors(words, "
            "data)); spaCy: a pipeline with vectors), or set the static vectors option "
            "(pretrained_vectors / include_static_vectors) to false"
        )
    return vectors


def _forward(
    model: Model[List[Any], Ragged], docs: Sequence[Any], is_train: bool
) -> Tuple[Ragged, Callable]:
    nO = model.get_dim("nO")
    ops = model.ops
    if not sum(len(doc) for doc in docs):
        lengths = ops.asarray1i([0] * len(docs))
        return Ragged(ops.alloc2f(0, nO), lengths), lambda d: []
    vectors = _vectors_of(docs)
    key_attr = model.attrs["key_attr"]
    W = cast(Floats2d, ops.as_contig(cast(Floats2d, model.get_param("W"))))
    rows: Any = ops.flatten(
        [ops.asarray(vectors.find(keys=doc.to_array(key_attr))) for doc in docs]
    )
    V = cast(Floats2d, ops.as_contig(ops.asarray(vectors.data)[rows]))
    if V.shape[1] != W.shape[1]:
        raise ValueError(
            f"static vectors have width {V.shape[1]} but the layer was initialized "
            f"for width {W.shape[1]} (nM)"
        )
    lengths = ops.asarray1i([len(doc) for doc in docs])
    output = Ragged(ops.gemm(V, W, trans2=True), lengths)
    rate = model.attrs.get("dropout_rate")
    mask = ops.get_dropout_mask((nO,), rate) if is_train and rate is not None else None
    if mask is not None:
        output.data *= mask

    def backprop(d_output: Ragged) -> List[Any]:
        dY = cast(Floats2d, d_output.data * mask if mask is not None else d_output.data)
        model.inc_grad("W", ops.gemm(dY, V, trans1=True))
        return []

    return output, backprop


def _init(
    init_W: Callable, model: Model, X: Optional[Sequence[Any]] = None, Y: Optional[Ragged] = None
) -> None:
    if X is not None and len(X):
        model.set_dim("nM", _vectors_of(X).data.shape[1], force=True)
    if Y is not None:
        model.set_dim("nO", Y.data.shape[1], force=True)
    if not model.has_dim("nM"):
        raise ValueError("static_vectors: nM (the vectors width) is unknown; initialize with Docs")
    if not model.has_dim("nO"):
        raise ValueError("static_vectors: nO (the output width) is unknown")
    model.set_param("W", init_W(model.ops, (model.get_dim("nO"), model.get_dim("nM"))))
