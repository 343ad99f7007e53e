"""Token-to-vector architectures: embed each token, then encode its context.

The trees match the v1 models spaCy 3 shipped (spacy-legacy 3.0.12) node for
node, so weights saved by spaCy load into them. The earlier signatures of the
same names (spaCy's mid-2020 development versions) are accepted too and
translated onto the released construction; see docs/architectures.md.
"""

import warnings
from functools import partial
from typing import Any, Callable, List, Optional, Sequence, Tuple, Union, cast

from thinc.api import (
    HashEmbed,
    Maxout,
    Model,
    chain,
    concatenate,
    list2ragged,
    noop,
    ragged2list,
    with_array,
)
from thinc.types import Floats2d

from ..attrs import ID, NORM, ORTH, PREFIX, SHAPE, SUFFIX, intify_attr
from ..layers import CharEmbed, FeatureExtractor, StaticVectors
from ..ops import use_numpy_gemm
from ..validation import check_int, check_rate, check_same_length
from .encoders import BiLSTMEncoder, maxout_window_blocks

DocLike = Any  # arch_tok2vec.Doc, spacy.tokens.Doc, or anything with the same features
AttrList = List[Union[int, str]]
AnyModel = Model[Any, Any]

_SUBWORD_ATTRS: AttrList = ["NORM", "PREFIX", "SUFFIX", "SHAPE"]
# The column layout of the mid-2020 feature extractor.
_SEED_COLUMNS = [ID, NORM, PREFIX, SUFFIX, SHAPE, ORTH]


def Tok2Vec(
    embed: Model[List[DocLike], List[Floats2d]],
    encode: Model[Floats2d, Floats2d],
    extract: Optional[Model] = None,
) -> Model[List[DocLike], List[Floats2d]]:
    """Chain an embedding layer and a context encoder.

    embed: Maps Docs to one array of token vectors per Doc.
    encode: Maps the token vectors of a batch (one flat array) to new vectors
        of the same count. Its ``receptive_field`` attribute, if set, is the
        padding inserted between documents.
    extract: Older form only: a feature extractor run before ``embed``, for an
        ``embed`` layer that takes feature arrays rather than Docs. Ignored (with
        a warning) when ``embed`` extracts its own features.
    """
    if not encode.has_dim("nO"):
        raise ValueError("encode must have its output width (nO) set")
    pad = encode.attrs.get("receptive_field", 0)
    wrapped: AnyModel = encode if encode.attrs.get("takes_list") else with_array(encode, pad=pad)
    if extract is not None and not _reads_docs(embed):
        model: AnyModel
        if encode.attrs.get("takes_list"):
            model = chain(extract, with_array(cast(AnyModel, embed)), wrapped)
        else:
            inner: AnyModel = chain(cast(AnyModel, embed), cast(AnyModel, encode))
            model = chain(extract, with_array(inner, pad=pad))
        model.set_ref("embed", embed)
    else:
        if extract is not None:
            warnings.warn(
                "Tok2Vec.v1: 'extract' is ignored because 'embed' extracts its own "
                "features from the Docs",
                stacklevel=2,
            )
        model = chain(cast(AnyModel, embed), wrapped)
        model.set_ref("embed", embed)
    model.set_dim("nO", encode.get_dim("nO"))
    model.set_ref("encode", encode)
    return _empty_batches_ok(model, encode.get_dim("nO"))


def _empty_batches_ok(model: Model, width: int) -> Model:
    """Let a Docs-to-vectors model accept a batch in which every Doc is empty.

    thinc's Ragged collapses empty data to shape (0, 0), so such a batch loses
    its width on the way through ``concatenate`` and the next layer fails. The
    root node gets a forward that answers an all-empty batch directly; the tree,
    parameters and all other outputs are unchanged, and the model still pickles.
    Its matrix products run on numpy's BLAS (see ``arch_tok2vec.ops``).
    """
    model._func = partial(_guarded_forward, model._func, width)
    return use_numpy_gemm(model)


def _guarded_forward(
    forward: Callable, width: int, model: Model, docs: Any, is_train: bool
) -> Tuple[Any, Callable]:
    if docs and not any(len(doc) for doc in docs):
        return [model.ops.alloc2f(0, width) for _ in docs], _no_gradient
    return forward(model, docs, is_train)


def _no_gradient(d_outputs: Any) -> List[Any]:
    return []


def _wants_vectors(pretrained_vectors: Any) -> bool:
    """Read a ``pretrained_vectors`` setting: anything but null/false turns vectors on."""
    return pretrained_vectors is not None and pretrained_vectors is not False


def _reads_docs(model: Model) -> bool:
    return any(
        node.name in ("extract_features", "charembed", "static_vectors") for node in model.walk()
    )


def HashEmbedCNN(
    pretrained_vectors: Any,
    width: int,
    depth: int,
    embed_size: int,
    maxout_pieces: int,
    window_size: int,
    subword_features: bool,
    dropout: Optional[float] = None,
) -> Model[List[DocLike], List[Floats2d]]:
    """Hash embeddings of lexical attributes, mixed by Maxout, encoded by a CNN.

    pretrained_vectors: Whether to add the Docs' static vectors to the embedding
        (true, or false/null for none). The older form passed a vectors table
        here; any value other than false/null counts as true, and the vectors
        come from the Docs.
    width: The width of the output vectors and of every hidden layer.
    depth: The number of convolutional (window + Maxout) layers.
    embed_size: The number of rows of the NORM hash embedding table; PREFIX,
        SUFFIX and SHAPE tables get half as many.
    maxout_pieces: The number of pieces of the Maxout units of the encoder.
    window_size: How many neighbours on each side each convolution concatenates;
        a token sees ``window_size * depth`` tokens on each side.
    subword_features: Embed PREFIX, SUFFIX and SHAPE besides NORM.
    dropout: Older form only: dropout on the hash embeddings while training
        (default 0.0).
    """
    check_int("width", width)
    check_int("depth", depth)
    check_int("embed_size", embed_size)
    check_int("maxout_pieces", maxout_pieces)
    check_int("window_size", window_size, minimum=0)
    if subword_features:
        attrs: AttrList = list(_SUBWORD_ATTRS)
        rows = [embed_size] + [embed_size // 2] * 3
    else:
        attrs, rows = ["NORM"], [embed_size]
    if min(rows) < 1:
        raise ValueError(f"embed_size must be at least 2 with subword_features, got {embed_size}")
    embed = _multi_hash_embed(
        width,
        attrs,
        rows,
        _wants_vectors(pretrained_vectors),
        dropout=0.0 if dropout is None else dropout,
    )
    encode: AnyModel = with_array(
        maxout_window_blocks(width, window_size, maxout_pieces, depth), pad=window_size * depth
    )
    encode.set_dim("nO", width)
    model: AnyModel = chain(embed, encode)
    model.set_dim("nO", width)
    model.set_ref("embed", embed)
    model.set_ref("encode", encode)
    return _empty_batches_ok(model, width)


def MultiHashEmbed(
    width: int,
    attrs: Optional[AttrList] = None,
    rows: Union[List[int], int, None] = None,
    include_static_vectors: Optional[bool] = None,
    *,
    columns: Optional[AttrList] = None,
    use_subwords: Optional[bool] = None,
    pretrained_vectors: Any = None,
    mix: Optional[Model] = None,
    dropout: Optional[float] = None,
) -> Model[List[DocLike], List[Floats2d]]:
    """Embed several token attributes with hash tables and mix them with Maxout.

    width: The width of each embedding and of the output.
    attrs: The token attributes to embed, by name or id (e.g. NORM, PREFIX).
    rows: The number of rows of each attribute's table, in the order of attrs.
    include_static_vectors: Also project the Docs' static vectors and mix them in.
    columns: Older form only: the feature extractor's column list; with it,
        attrs become NORM (plus PREFIX, SUFFIX, SHAPE if use_subwords) and rows an int.
    use_subwords: Older form only: embed PREFIX, SUFFIX and SHAPE besides NORM.
    pretrained_vectors: Older form only: any value other than false/null adds
        static vectors.
    mix: Older form only: a layer replacing the mixing Maxout.
    dropout: Older form only: dropout on the hash embeddings (default 0.0).
    """
    check_int("width", width)
    if columns is not None:
        if attrs is not None or include_static_vectors is not None:
            raise ValueError(
                "columns belongs to the older form (columns, rows, use_subwords, "
                "pretrained_vectors); give either it or attrs and include_static_vectors"
            )
        attrs = ["NORM"]
        if use_subwords:
            attrs += ["PREFIX", "SUFFIX", "SHAPE"]
        known = {intify_attr(column) for column in columns}
        missing = [attr for attr in attrs if intify_attr(attr) not in known]
        if missing:
            raise ValueError(
                f"columns must include {', '.join(map(str, missing))}, got {columns!r}"
            )
        if not isinstance(rows, int):
            raise ValueError(f"rows must be an integer with columns given, got {rows!r}")
        rows = [rows] + [rows // 2] * (len(attrs) - 1)
        include_static_vectors = _wants_vectors(pretrained_vectors)
    if attrs is None or rows is None or include_static_vectors is None:
        raise ValueError("MultiHashEmbed needs attrs, rows and include_static_vectors")
    if isinstance(rows, int):
        raise ValueError(f"rows must be a list with one size per attribute, got {rows!r}")
    return _multi_hash_embed(
        width,
        attrs,
        rows,
        bool(include_static_vectors),
        dropout=0.0 if dropout is None else dropout,
        mix=mix,
    )


def _multi_hash_embed(
    width: int,
    attrs: Sequence[Union[int, str]],
    rows: Sequence[int],
    include_static_vectors: bool,
    *,
    dropout: float,
    mix: Optional[Model] = None,
) -> Model[List[DocLike], List[Floats2d]]:
    check_int("width", width)
    check_same_length("rows", rows, "attrs", attrs)
    if not attrs:
        raise ValueError("attrs must name at least one token attribute")
    for attr in attrs:
        try:
            intify_attr(attr)
        except ValueError as err:
            raise ValueError(f"attrs: {err}") from None
    for i, n_rows in enumerate(rows):
        check_int(f"rows[{i}]", n_rows)
    check_rate("dropout", dropout)
    embeddings: List[AnyModel] = [
        HashEmbed(width, n_rows, column=i, seed=8 + i, dropout=dropout)
        for i, n_rows in enumerate(rows)
    ]
    n_inputs = len(attrs) + int(include_static_vectors)
    if mix is None:
        mix = Maxout(width, width * n_inputs, nP=3, dropout=0.0, normalize=True)
    hashed: List[AnyModel] = [
        FeatureExtractor(list(attrs)),
        list2ragged(),
        with_array(concatenate(*embeddings)),
    ]
    tail: List[AnyModel] = [with_array(mix), ragged2list()]
    if include_static_vectors:
        vectors: AnyModel = StaticVectors(width, dropout=0.0)
        model: AnyModel = chain(concatenate(chain(*hashed), vectors), *tail)
    else:
        model = chain(*hashed, *tail)
    return _empty_batches_ok(model, width)


def CharacterEmbed(
    width: int,
    rows: int,
    nM: int,
    nC: int,
    include_static_vectors: bool = False,
    feature: Union[int, str] = "LOWER",
    *,
    columns: Optional[AttrList] = None,
    features: Optional[Model] = None,
    dropout: Optional[float] = None,
) -> Model[List[DocLike], List[Floats2d]]:
    """Embed tokens by their first and last characters plus a hashed attribute.

    width: The width of the output and of the attribute embedding.
    rows: The number of rows of the attribute's hash table.
    nM: The width of the vector of each character byte.
    nC: How many UTF-8 bytes per token are embedded (alternately from the front
        and the back of the token).
    include_static_vectors: Also project the Docs' static vectors and mix them in.
    feature: The token attribute to hash-embed (default LOWER).
    columns: Older form only: the feature extractor's column list; the NORM
        column is embedded and the output (width nM * nC + width) is not mixed.
    features: Older form only: the feature extractor layer to use.
    dropout: Older form only: dropout on the hash embedding.
    """
    check_int("width", width)
    check_int("rows", rows)
    check_int("nM", nM)
    check_int("nC", nC)
    if columns is not None or features is not None:
        return _seed_character_embed(width, rows, nM, nC, columns, features, dropout)
    try:
        feature_id = intify_attr(feature)
    except ValueError as err:
        raise ValueError(f"feature: {err}") from None
    char_branch: AnyModel = chain(CharEmbed(nM=nM, nC=nC), list2ragged())
    attr_branch: AnyModel = chain(
        FeatureExtractor([feature_id]),
        list2ragged(),
        with_array(HashEmbed(width, rows, column=0, seed=5)),
    )
    n_in = nM * nC + width
    embed: AnyModel
    if include_static_vectors:
        embed = concatenate(char_branch, attr_branch, StaticVectors(width, dropout=0.0))
        n_in += width
    else:
        embed = concatenate(char_branch, attr_branch)
    mix: AnyModel = with_array(Maxout(width, n_in, nP=3, dropout=0.0, normalize=True))
    unlist: AnyModel = ragged2list()
    return _empty_batches_ok(chain(embed, mix, unlist), width)


def _seed_character_embed(
    width: int,
    rows: int,
    nM: int,
    nC: int,
    columns: Optional[AttrList],
    features: Optional[Model],
    dropout: Optional[float],
) -> Model[List[DocLike], List[Floats2d]]:
    column_ids = [intify_attr(c) for c in (columns or _SEED_COLUMNS)]
    if NORM not in column_ids:
        raise ValueError(f"columns must include NORM, got {columns!r}")
    if features is None:
        features = FeatureExtractor(list(column_ids))
    norm: AnyModel = with_array(
        HashEmbed(width, rows, column=column_ids.index(NORM), seed=5, dropout=dropout)
    )
    chars: AnyModel = CharEmbed(nM=nM, nC=nC)
    model: AnyModel = concatenate(chars, chain(features, norm))
    model.set_dim("nO", nM * nC + width)
    return _empty_batches_ok(model, nM * nC + width)


def _seed_char_embed_and_mix(
    width: int, embed_size: int, nM: int, nC: int, maxout_pieces: int, dropout: Optional[float]
) -> Tuple[Model, Model]:
    norm: AnyModel = with_array(
        HashEmbed(width, embed_size, column=_SEED_COLUMNS.index(NORM), seed=0, dropout=dropout)
    )
    features: AnyModel = FeatureExtractor(list(_SEED_COLUMNS))
    chars: AnyModel = CharEmbed(nM=nM, nC=nC)
    embed: AnyModel = concatenate(chars, chain(features, norm))
    mix = Maxout(width, nM * nC + width, nP=maxout_pieces, dropout=0.0, normalize=True)
    return embed, mix


def HashCharEmbedCNN(
    pretrained_vectors: Any,
    width: int,
    depth: int,
    embed_size: int,
    maxout_pieces: int,
    window_size: int,
    nM: int,
    nC: int,
    dropout: Optional[float] = None,
) -> Model[List[DocLike], List[Floats2d]]:
    """Character bytes plus a hashed NORM, mixed by Maxout, encoded by a CNN.

    pretrained_vectors: Must be null: static vectors are not supported by this
        architecture (use CharacterEmbed.v1 with include_static_vectors).
    width: The width of the output vectors and of the NORM embedding.
    depth: The number of convolutional (window + Maxout) layers.
    embed_size: The number of rows of the NORM hash embedding table.
    maxout_pieces: The number of pieces of every Maxout unit.
    window_size: How many neighbours on each side each convolution concatenates.
    nM: The width of the vector of each character byte.
    nC: How many UTF-8 bytes per token are embedded.
    dropout: Dropout on the NORM hash embedding while training.
    """
    _check_char_args(pretrained_vectors, width, depth, embed_size, maxout_pieces, nM, nC, dropout)
    check_int("window_size", window_size, minimum=0)
    embed, mix = _seed_char_embed_and_mix(width, embed_size, nM, nC, maxout_pieces, dropout)
    blocks = maxout_window_blocks(width, window_size, maxout_pieces, depth)
    model = chain(embed, with_array(chain(mix, blocks), pad=window_size * depth))
    model.set_dim("nO", width)
    model.set_ref("embed", embed)
    return _empty_batches_ok(model, width)


def HashCharEmbedBiLSTM(
    pretrained_vectors: Any,
    width: int,
    depth: int,
    embed_size: int,
    maxout_pieces: int,
    nM: int,
    nC: int,
    dropout: Optional[float] = None,
) -> Model[List[DocLike], List[Floats2d]]:
    """Character bytes plus a hashed NORM, mixed by Maxout, encoded by a BiLSTM.

    pretrained_vectors: Must be null: static vectors are not supported by this
        architecture (use CharacterEmbed.v1 with include_static_vectors).
    width: The width of the output vectors; must be even (two LSTM directions).
    depth: The number of stacked bidirectional LSTM layers.
    embed_size: The number of rows of the NORM hash embedding table.
    maxout_pieces: The number of pieces of the mixing Maxout unit.
    nM: The width of the vector of each character byte.
    nC: How many UTF-8 bytes per token are embedded.
    dropout: Dropout on the NORM hash embedding while training.
    The LSTM is thinc's own, so no PyTorch is needed.
    """
    _check_char_args(pretrained_vectors, width, depth, embed_size, maxout_pieces, nM, nC, dropout)
    embed, mix = _seed_char_embed_and_mix(width, embed_size, nM, nC, maxout_pieces, dropout)
    model = chain(chain(embed, with_array(chain(mix, noop()), pad=0)), BiLSTMEncoder(width, depth))
    model.set_dim("nO", width)
    model.set_ref("embed", embed)
    return _empty_batches_ok(model, width)


def _check_char_args(
    pretrained_vectors: Any,
    width: int,
    depth: int,
    embed_size: int,
    maxout_pieces: int,
    nM: int,
    nC: int,
    dropout: Optional[float],
) -> None:
    if _wants_vectors(pretrained_vectors):
        raise ValueError(
            "pretrained_vectors must be null for the character-embedding architectures; "
            "use spacy.CharacterEmbed.v1 with include_static_vectors = true for vectors"
        )
    check_int("width", width)
    check_int("depth", depth)
    check_int("embed_size", embed_size)
    check_int("maxout_pieces", maxout_pieces)
    check_int("nM", nM)
    check_int("nC", nC)
    check_rate("dropout", dropout)
