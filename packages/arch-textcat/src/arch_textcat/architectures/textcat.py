"""Text classifiers: one row of class scores per Doc.

``TextCatBOW``, ``TextCatCNN`` and ``TextCatEnsemble`` build the same trees as
the v1 models spaCy 3 released (spacy-legacy 3.0.12), node for node, so weights
saved by spaCy load into them and give spaCy's outputs. ``TextCat`` is the
mid-2020 name of the ensemble. ``TextCatLowData`` departs from spaCy's tree,
which cannot be initialized; see docs/textcat.md.
"""

from functools import reduce
from typing import Any, Callable, List, Optional, Sequence, Tuple, cast

from thinc.api import (
    Dropout,
    HashEmbed,
    Linear,
    Logistic,
    Maxout,
    Model,
    ParametricAttention,
    Relu,
    Softmax,
    SparseLinear,
    chain,
    clone,
    concatenate,
    expand_window,
    list2ragged,
    reduce_mean,
    reduce_sum,
    residual,
    softmax_activation,
    uniqued,
    with_array,
    with_cpu,
)
from thinc.layers.chain import forward as _chain_forward
from thinc.types import Floats2d, Ragged

from arch_tok2vec.attrs import ID, LOWER, ORTH, PREFIX, SHAPE, SUFFIX
from arch_tok2vec.layers import FeatureExtractor, StaticVectors
from arch_tok2vec.ops import use_numpy_gemm
from arch_tok2vec.validation import check_int, check_rate

from ..layers import extract_ngrams
from ..layers.sparse_update import sparse_update

DocLike = Any  # arch_tok2vec.Doc, spacy.tokens.Doc, or anything with the same features
AnyModel = Model[Any, Any]

# The feature columns of the ensemble's own embedding, in spaCy's order.
_ENSEMBLE_COLUMNS = [ORTH, LOWER, PREFIX, SUFFIX, SHAPE, ID]


def TextCatBOW(
    exclusive_classes: bool,
    ngram_size: int,
    no_output_layer: bool,
    nO: Optional[int] = None,
) -> Model[List[DocLike], Floats2d]:
    """A sparse linear model over the bag of n-grams of each Doc.

    exclusive_classes: true: the classes exclude each other and the scores of a
        Doc sum to 1 (softmax); false: each class is scored on its own in [0, 1]
        (logistic), for multi-label classification.
    ngram_size: The longest n-gram used as a feature: 1 for single words, 2 for
        words and pairs of neighbouring words, and so on.
    no_output_layer: true: leave out the softmax/logistic activation and return
        the raw linear scores.
    nO: The number of classes. Left unset, it is read from the labels given to
        ``initialize``.
    """
    _check_flag("exclusive_classes", exclusive_classes)
    _check_flag("no_output_layer", no_output_layer)
    check_int("ngram_size", ngram_size)
    _check_nO(nO)
    sparse_linear = SparseLinear(nO)
    bag: AnyModel = chain(extract_ngrams(ngram_size, attr=ORTH), sparse_linear)
    model: AnyModel = with_cpu(bag, bag.ops)
    if not no_output_layer:
        activation: AnyModel = softmax_activation() if exclusive_classes else Logistic()
        model = chain(model, with_cpu(activation, activation.ops))
    model.set_ref("output_layer", sparse_linear)
    model.attrs["multi_label"] = not exclusive_classes
    return sparse_update(use_numpy_gemm(model))


def TextCatCNN(
    tok2vec: Model[List[DocLike], List[Floats2d]],
    exclusive_classes: bool,
    nO: Optional[int] = None,
) -> Model[List[DocLike], Floats2d]:
    """Average the token vectors of each Doc and map the mean to class scores.

    tok2vec: The token-to-vector model (for example spacy.HashEmbedCNN.v1) whose
        output vectors are averaged over each Doc.
    exclusive_classes: true: one softmax layer, the scores of a Doc sum to 1;
        false: a linear layer and a logistic activation, each class scored in
        [0, 1] on its own (multi-label).
    nO: The number of classes. Left unset, it is read from the labels given to
        ``initialize``.
    """
    if not isinstance(tok2vec, Model):
        raise ValueError(f"tok2vec must be a thinc Model, got {type(tok2vec).__name__}")
    _check_flag("exclusive_classes", exclusive_classes)
    _check_nO(nO)
    width = tok2vec.maybe_get_dim("nO")
    pooled: AnyModel = _sequence(tok2vec, list2ragged(), reduce_mean())
    model: AnyModel
    if exclusive_classes:
        output_layer: AnyModel = Softmax(nO=nO, nI=width)
        model = chain(pooled, output_layer)
    else:
        output_layer = Linear(nO=nO, nI=width)
        model = _sequence(pooled, output_layer, Logistic())
    model.set_ref("output_layer", output_layer)
    model.set_ref("tok2vec", tok2vec)
    model.set_dim("nO", cast(int, nO))  # None leaves it to initialize
    model.attrs["multi_label"] = not exclusive_classes
    return _empty_batches_ok(model, "reduce_mean")


def TextCatEnsemble(
    width: int,
    embed_size: int,
    pretrained_vectors: Any,
    exclusive_classes: bool,
    ngram_size: int,
    window_size: int,
    conv_depth: int,
    dropout: Optional[float],
    nO: Optional[int] = None,
) -> Model[List[DocLike], Floats2d]:
    """A bag-of-n-grams model and an attention CNN side by side, then combined.

    width: The width of the token vectors and of the CNN's hidden layers; the
        PREFIX, SUFFIX and SHAPE embeddings are width // 2 wide, so at least 2.
    embed_size: The number of rows of each of the four hash embedding tables
        (LOWER, PREFIX, SUFFIX, SHAPE).
    pretrained_vectors: Whether to add the Docs' static vectors to the token
        vectors (true, or false/null for none). Any value other than false/null
        counts as true; the vectors always come from the Docs' vocab.
    exclusive_classes: true: the classes exclude each other and the scores of a
        Doc sum to 1 (softmax); false: multi-label, each class in [0, 1].
    ngram_size: The longest n-gram of the bag-of-n-grams half (1: single words).
    window_size: How many neighbours on each side each convolution layer of the
        CNN half concatenates.
    conv_depth: The number of residual convolution layers of the CNN half (0:
        none).
    dropout: Dropout on the hash embeddings while training (null: none).
    nO: The number of classes. Left unset, it is read from the labels given to
        ``initialize``.
    """
    check_int("width", width, minimum=2)
    check_int("embed_size", embed_size)
    _check_flag("exclusive_classes", exclusive_classes)
    check_int("ngram_size", ngram_size)
    check_int("window_size", window_size, minimum=0)
    check_int("conv_depth", conv_depth, minimum=0)
    check_rate("dropout", dropout)
    _check_nO(nO)
    tok2vec = _ensemble_tok2vec(
        width, embed_size, _wants_vectors(pretrained_vectors), window_size, conv_depth, dropout
    )
    cnn: AnyModel = _sequence(
        tok2vec,
        list2ragged(),
        ParametricAttention(width),
        reduce_sum(),
        residual(Maxout(nO=width, nI=width)),
        Linear(nO=nO, nI=width),
        Dropout(0.0),
    )
    cnn = _empty_batches_ok(cnn, "reduce_sum")
    bow = TextCatBOW(exclusive_classes, ngram_size, no_output_layer=False, nO=nO)
    both = nO * 2 if nO else None
    combine: AnyModel
    if exclusive_classes:
        combine = Softmax(nO=nO, nI=both)
    else:
        combine = _sequence(Linear(nO=nO, nI=both), Dropout(0.0), Logistic())
    model: AnyModel = chain(concatenate(bow, cnn), combine)
    model.set_ref("tok2vec", tok2vec)
    model.set_dim("nO", cast(int, nO))  # None leaves it to initialize
    model.set_ref("output_layer", bow.get_ref("output_layer"))
    model.attrs["multi_label"] = not exclusive_classes
    return sparse_update(use_numpy_gemm(model))


def TextCat(
    width: int,
    embed_size: int,
    pretrained_vectors: Any,
    exclusive_classes: bool,
    ngram_size: int,
    window_size: int,
    conv_depth: int,
    dropout: Optional[float],
    nO: Optional[int] = None,
) -> Model[List[DocLike], Floats2d]:
    """The ensemble under its mid-2020 name; builds spacy.TextCatEnsemble.v1.

    width: The width of the token vectors and of the CNN's hidden layers (at
        least 2).
    embed_size: The number of rows of each of the four hash embedding tables.
    pretrained_vectors: The older form named the pipeline whose vectors to use;
        here any value other than false/null turns static vectors on, and the
        vectors come from the Docs' vocab.
    exclusive_classes: true: softmax over exclusive classes; false: multi-label.
    ngram_size: The longest n-gram of the bag-of-n-grams half.
    window_size: How many neighbours on each side each convolution concatenates.
    conv_depth: The number of residual convolution layers (0: none).
    dropout: Dropout on the hash embeddings while training (null: none).
    nO: The number of classes; read from the labels at ``initialize`` if unset.
    """
    return TextCatEnsemble(
        width=width,
        embed_size=embed_size,
        pretrained_vectors=pretrained_vectors,
        exclusive_classes=exclusive_classes,
        ngram_size=ngram_size,
        window_size=window_size,
        conv_depth=conv_depth,
        dropout=dropout,
        nO=nO,
    )


def TextCatLowData(
    width: int,
    dropout: Optional[float],
    nO: Optional[int] = None,
    pretrained_vectors: Any = None,
) -> Model[List[DocLike], Floats2d]:
    """Attention over projected static vectors, for small training sets.

    width: The width the Docs' static vectors are projected to, and of the
        hidden layers.
    dropout: Dropout rate before the output activation while training (null
        or 0: no dropout layer).
    nO: The number of classes. Left unset, it is read from the labels given to
        ``initialize``.
    pretrained_vectors: Older form only: the name of the pipeline whose vectors
        the model used. Not needed here: the vectors always come from the Docs'
        vocab, and the value is ignored.
    The output is always logistic (each class scored in [0, 1] on its own).
    """
    check_int("width", width)
    check_rate("dropout", dropout)
    _check_nO(nO)
    output_layer: AnyModel = Linear(nO, width)
    layers: List[AnyModel] = [
        StaticVectors(width),
        ParametricAttention(width),
        reduce_sum(),
        clone(residual(Relu(width, width)), 2),
        output_layer,
    ]
    if dropout:
        layers.append(Dropout(dropout))
    layers.append(Logistic())
    model = _sequence(*layers)
    model.set_ref("output_layer", output_layer)
    model.attrs["multi_label"] = True
    return _empty_batches_ok(model, "reduce_sum")


# --------------------------------------------------------------------------
# construction helpers


def _ensemble_tok2vec(
    width: int,
    embed_size: int,
    with_vectors: bool,
    window_size: int,
    conv_depth: int,
    dropout: Optional[float],
) -> AnyModel:
    """The ensemble's own token-to-vector model (not spacy.HashEmbedCNN.v1)."""
    column = _ENSEMBLE_COLUMNS.index
    tables: List[AnyModel] = [
        HashEmbed(width, embed_size, column=column(LOWER), seed=10, dropout=dropout),
        HashEmbed(width // 2, embed_size, column=column(PREFIX), seed=11, dropout=dropout),
        HashEmbed(width // 2, embed_size, column=column(SUFFIX), seed=12, dropout=dropout),
        HashEmbed(width // 2, embed_size, column=column(SHAPE), seed=13, dropout=dropout),
    ]
    mixed_width = width + 3 * (width // 2)
    embed: AnyModel = chain(_join(*tables), Maxout(width, mixed_width, normalize=True))
    # uniqued: each distinct ORTH in the batch is embedded once.
    unique = cast(Model[Floats2d, Floats2d], uniqued(embed, column=column(ORTH)))
    trained: AnyModel = chain(FeatureExtractor(list(_ENSEMBLE_COLUMNS)), with_array(unique))
    vectors: AnyModel
    if with_vectors:
        vectors = _concatenate_per_doc(trained, StaticVectors(width))
        vectors_width = 2 * width
    else:
        vectors, vectors_width = trained, width
    window = residual(
        chain(
            expand_window(window_size=window_size),
            Maxout(width, width * (2 * window_size + 1), normalize=True),
        )
    )
    encode = cast(
        Model[Floats2d, Floats2d],
        chain(Maxout(width, vectors_width, normalize=True), clone(window, conv_depth)),
    )
    return chain(vectors, with_array(encode, pad=conv_depth))


def _sequence(*layers: AnyModel) -> AnyModel:
    """``a >> b >> c``: chains nested to the left, as spaCy's operators build them."""
    return reduce(lambda left, right: chain(left, right), layers)


def _join(*layers: AnyModel) -> AnyModel:
    """``a | b | c``: thinc folds the later layers into the first concatenate
    node, which keeps the name it got from ``a | b``; spaCy's trees carry
    that name, and so do ours."""
    return reduce(lambda left, right: concatenate(left, right), layers)


def _concatenate_per_doc(*layers: AnyModel) -> AnyModel:
    """thinc's ``concatenate`` node, with a forward that also accepts a Ragged.

    spaCy concatenates the ensemble's hashed vectors (a list of arrays) with
    StaticVectors (a Ragged), which thinc cannot do, so spaCy's ensemble with
    pretrained vectors fails at initialize. The node here is the same (name,
    dims, children), so the tree and saved weights are unchanged; its forward
    turns every child's output into one array per Doc and joins them per Doc.
    """
    model: AnyModel = concatenate(*layers)
    model._func = _concatenate_per_doc_forward
    return model


def _concatenate_per_doc_forward(
    model: AnyModel, docs: Sequence[DocLike], is_train: bool
) -> Tuple[List[Floats2d], Callable]:
    ops = model.ops
    lengths = [len(doc) for doc in docs]
    outputs, callbacks = zip(*(layer(docs, is_train) for layer in model.layers))
    per_layer: List[List[Floats2d]] = []
    for layer, output in zip(model.layers, outputs):
        if isinstance(output, Ragged):
            width = layer.get_dim("nO")
            data = cast(Floats2d, output.dataXd)
            if not data.size:
                per_layer.append([ops.alloc2f(n, width) for n in lengths])
            else:
                per_layer.append(cast(List[Floats2d], ops.unflatten(data, output.lengths)))
        else:
            per_layer.append(list(output))
    widths = [layer.get_dim("nO") for layer in model.layers]
    joined = [
        cast(Floats2d, ops.xp.hstack([arrays[i] for arrays in per_layer])) for i in range(len(docs))
    ]

    def backprop(d_joined: List[Floats2d]) -> Any:
        d_docs: Any = []
        start = 0
        for output, callback, width in zip(outputs, callbacks, widths):
            pieces = [d[:, start : start + width] for d in d_joined]
            start += width
            if isinstance(output, Ragged):
                flat = cast(Floats2d, ops.xp.ascontiguousarray(ops.flatten(pieces)))
                d_docs = callback(Ragged(flat, ops.asarray1i(lengths)))
            else:
                d_docs = callback([ops.xp.ascontiguousarray(p) for p in pieces])
        return d_docs

    return joined, backprop


def _empty_batches_ok(model: AnyModel, pool_name: str) -> AnyModel:
    """Let a Docs-to-scores model take a batch in which every Doc is empty
    (or no Doc at all).

    thinc's pooling and attention layers fail when a batch has no tokens at
    all (a Ragged with no rows loses its width). The scores of an empty Doc in
    a mixed batch are what the layers after the pooling layer make of a zero
    vector, so for an all-empty batch the root answers exactly that. The tree,
    the parameters and every other output are unchanged.
    """
    forward = model._func

    def guarded(model: AnyModel, docs: Any, is_train: bool) -> Tuple[Floats2d, Callable]:
        if any(len(doc) for doc in docs):
            return forward(model, docs, is_train)
        head = _layers_after(model, pool_name)
        if head is None:  # pragma: no cover - the trees built here always pool
            return forward(model, docs, is_train)
        width = head[0].maybe_get_dim("nI")
        if width is None:
            raise ValueError(f"{model.name}: initialize the model before predicting")
        X: Any = model.ops.alloc2f(len(docs), width)
        callbacks = []
        for layer in head:
            X, callback = layer(X, is_train)
            callbacks.append(callback)

        def backprop(dY: Floats2d) -> List[Any]:
            for callback in reversed(callbacks):
                dY = callback(dY)
            return []

        return X, backprop

    guarded.__wrapped__ = forward  # type: ignore[attr-defined]
    model._func = guarded
    return use_numpy_gemm(model)


def _layers_after(node: AnyModel, name: str) -> Optional[List[AnyModel]]:
    """The layers a chain applies after its (possibly nested) layer ``name``."""
    for i, layer in enumerate(node.layers):
        if layer.name == name:
            return list(node.layers[i + 1 :])
        if _is_chain(layer):
            inner = _layers_after(layer, name)
            if inner is not None:
                return inner + list(node.layers[i + 1 :])
    return None


def _is_chain(node: AnyModel) -> bool:
    forward = getattr(node._func, "__wrapped__", node._func)
    return forward is _chain_forward


# --------------------------------------------------------------------------
# argument checks


def _check_flag(name: str, value: Any) -> None:
    if not isinstance(value, bool):
        raise ValueError(f"{name} must be true or false, got {value!r}")


def _check_nO(nO: Optional[int]) -> None:
    if nO is not None:
        check_int("nO", nO)


def _wants_vectors(pretrained_vectors: Any) -> bool:
    """Anything but null/false turns static vectors on."""
    return pretrained_vectors is not None and pretrained_vectors is not False
