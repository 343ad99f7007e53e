"""Architectures that exist only in spaCy's mid-2020 development code, and the
older signatures of the released names. Expected trees: spec Appendix A.17/A.18."""

import warnings

import numpy
import pytest
from thinc.api import Adam, fix_random_seed

from arch_tok2vec import Doc
from arch_tok2vec.architectures.encoders import BiLSTMEncoder, MaxoutWindowEncoder
from arch_tok2vec.architectures.tok2vec import (
    CharacterEmbed,
    HashCharEmbedBiLSTM,
    HashCharEmbedCNN,
    HashEmbedCNN,
    MultiHashEmbed,
    Tok2Vec,
)
from arch_tok2vec.layers import FeatureExtractor

DOCS = [
    Doc.from_text("The quick brown fox jumps over the lazy dog."),
    Doc(["x"]),
    Doc.from_text("Naïve café owners in São Paulo 😀 sell 1,200 pães."),
]

# (leaf name, params) of the leaves in walk order, spec A.17 (24 nodes).
A17_LEAVES = [
    ("charembed", {"E": (3, 256, 4)}),
    ("extract_features", {}),
    ("dropout", {}),
    ("ints-getitem", {}),
    ("hashembed", {"E": (20, 8)}),
    ("maxout", {"W": (8, 2, 20), "b": (8, 2)}),
    ("layernorm", {"G": (8,), "b": (8,)}),
    ("expand_window", {}),
    ("dropout", {}),
    ("maxout", {"W": (8, 2, 24), "b": (8, 2)}),
    ("layernorm", {"G": (8,), "b": (8,)}),
]


def _leaves(model):
    return [
        (n.name, {p: n.get_param(p).shape for p in n.param_names if n.has_param(p)})
        for n in model.walk()
        if not n.layers
    ]


def _round_trip(model, X):
    before = model.predict(X)
    copy = model.from_bytes(model.to_bytes())
    for a, b in zip(copy.predict(X), before):
        numpy.testing.assert_array_equal(a, b)
    return before


def test_hash_char_embed_cnn_tree_a17():
    model = HashCharEmbedCNN(None, 8, 1, 20, 2, 1, 4, 3, 0.0)
    model.initialize(X=DOCS)
    nodes = list(model.walk())
    assert len(nodes) == 24
    assert _leaves(model) == A17_LEAVES
    assert nodes[2].attrs["pad"] == 1 and nodes[6].attrs["columns"] == [64, 67, 69, 70, 68, 65]
    assert nodes[15].attrs["seed"] == 0 and nodes[15].attrs["column"] == 1
    assert model.get_ref("embed") is nodes[1]
    Y = _round_trip(model, DOCS)
    assert [y.shape for y in Y] == [(len(d), 8) for d in DOCS]
    assert all(y.dtype == numpy.float32 for y in Y)


def test_hash_char_embed_bilstm_tree_a18_with_thinc_lstm():
    model = HashCharEmbedBiLSTM(None, 8, 2, 20, 2, 4, 3, 0.0)
    model.initialize(X=DOCS)
    nodes = list(model.walk())
    # A.18's layout (20 nodes at depth 1), with thinc's lstm where spaCy had a PyTorch shim.
    assert [n.name for n in nodes[:3]][2] == "with_padded(lstm)"
    assert nodes[5].name == "lstm" and nodes[5].get_dim("depth") == 2
    assert nodes[4].attrs["pad"] == 0 and nodes[12].name == "noop"
    assert model.get_ref("embed") is nodes[3]
    Y = _round_trip(model, DOCS)
    assert [y.shape for y in Y] == [(len(d), 8) for d in DOCS]


def test_bilstm_encoder_learns_to_copy_a_neighbour():
    """Output the sum of each token's features with the previous token's in the
    first half (the forward direction) and with the next token's in the second
    (the backward direction): a task no per-token layer can solve."""
    fix_random_seed(0)
    rng = numpy.random.default_rng(0)
    model = BiLSTMEncoder(8, 1)
    X = [rng.normal(size=(n, 8)).astype("float32") for n in (5, 9, 3, 7)]
    zero = numpy.zeros((1, 8), "float32")
    # LSTM outputs are bounded, so the target is a squashed copy.
    Y = [
        0.5
        * numpy.tanh(
            x
            + numpy.hstack(
                [numpy.vstack([zero, x[:-1]])[:, :4], numpy.vstack([x[1:], zero])[:, 4:]]
            )
        )
        for x in X
    ]
    model.initialize(X=X, Y=Y)
    optimizer = Adam(0.01)
    losses = []
    for _ in range(400):
        guesses, backprop = model.begin_update(X)
        grads = [g - y for g, y in zip(guesses, Y)]
        losses.append(sum(float((d**2).sum()) for d in grads))
        backprop(grads)
        model.finish_update(optimizer)
    assert losses[-1] < 0.3 * losses[0]


def test_seed_signature_hash_embed_cnn_positional_with_dropout():
    model = HashEmbedCNN(None, 8, 2, 40, 3, 1, True, 0.1)
    model.initialize(X=DOCS)
    seeds = [n.attrs["seed"] for n in model.walk() if n.name == "hashembed"]
    rates = {n.attrs["dropout_rate"] for n in model.walk() if n.name == "hashembed"}
    assert seeds == [8, 9, 10, 11] and rates == {0.1}
    assert len(list(model.walk())) == 43


def test_seed_signature_multi_hash_embed():
    model = MultiHashEmbed(
        width=8,
        rows=40,
        columns=["ID", "NORM", "PREFIX", "SUFFIX", "SHAPE", "ORTH"],
        use_subwords=True,
        pretrained_vectors=None,
        mix=None,
        dropout=None,
    )
    model.initialize(X=DOCS)
    tables = [n.get_param("E").shape for n in model.walk() if n.name == "hashembed"]
    assert tables == [(40, 8), (20, 8), (20, 8), (20, 8)]
    assert [y.shape[1] for y in model.predict(DOCS)] == [8, 8, 8]


def test_seed_signature_character_embed_and_tok2vec_extract():
    columns = ["ID", "NORM", "PREFIX", "SUFFIX", "SHAPE", "ORTH"]
    embed = CharacterEmbed(width=8, rows=20, nM=4, nC=3, columns=columns, dropout=None)
    assert embed.get_dim("nO") == 20
    encode = MaxoutWindowEncoder(20, 1, 2, 1)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = Tok2Vec(extract=FeatureExtractor(columns), embed=embed, encode=encode)
    assert "'extract' is ignored" in str(caught[0].message)
    model.initialize(X=DOCS)
    assert [y.shape for y in model.predict(DOCS)] == [(len(d), 20) for d in DOCS]


def test_tok2vec_with_extract_for_an_array_embedding():
    from thinc.api import HashEmbed

    embed = HashEmbed(8, 50, column=1, seed=3)
    model = Tok2Vec(
        embed, MaxoutWindowEncoder(8, 1, 2, 1), extract=FeatureExtractor(["ORTH", "NORM"])
    )
    model.initialize(X=DOCS)
    assert [y.shape for y in model.predict(DOCS)] == [(len(d), 8) for d in DOCS]
    assert model.get_ref("embed") is embed


@pytest.mark.parametrize("empty", [[Doc([])], [Doc([]), Doc([])]])
def test_all_empty_batches(empty):
    for model in (HashCharEmbedCNN(None, 8, 1, 20, 2, 1, 4, 3), CharacterEmbed(8, 10, 4, 3, False)):
        model.initialize(X=DOCS)
        assert [y.shape for y in model.predict(empty)] == [(0, 8)] * len(empty)


def test_tok2vec_extract_with_a_list_encoder():
    from thinc.api import HashEmbed

    model = Tok2Vec(
        HashEmbed(8, 50, column=0, seed=3), BiLSTMEncoder(8, 1), extract=FeatureExtractor(["NORM"])
    )
    model.initialize(X=DOCS)
    assert [y.shape for y in model.predict(DOCS)] == [(len(d), 8) for d in DOCS]


def test_hash_char_embed_cnn_is_batch_independent_with_wide_windows():
    model = HashCharEmbedCNN(None, 8, 2, 20, 2, 2, 4, 3)
    model.initialize(X=DOCS)
    together = model.predict(DOCS)
    for doc, y in zip(DOCS, together):
        numpy.testing.assert_allclose(model.predict([doc])[0], y, atol=1e-6)


def test_older_vector_flags():
    assert len(list(HashEmbedCNN(False, 8, 1, 20, 2, 1, False).walk())) == 24
    older = dict(width=8, rows=20, columns=["NORM"], use_subwords=False)
    assert not any(
        n.name == "static_vectors" for n in MultiHashEmbed(**older, pretrained_vectors=False).walk()
    )
    assert any(
        n.name == "static_vectors" for n in MultiHashEmbed(**older, pretrained_vectors=True).walk()
    )
    with pytest.raises(ValueError, match="give either it or attrs"):
        MultiHashEmbed(**older, attrs=["NORM"], pretrained_vectors=None)
    with pytest.raises(ValueError, match="columns must include PREFIX, SUFFIX, SHAPE"):
        MultiHashEmbed(width=8, rows=20, columns=["NORM"], use_subwords=True)


def test_bilstm_encoder_bytes_round_trip():
    rng = numpy.random.default_rng(1)
    X = [rng.normal(size=(n, 8)).astype("float32") for n in (4, 6)]
    model = BiLSTMEncoder(8, 2)
    model.initialize(X=X)
    before = model.predict(X)
    other = BiLSTMEncoder(8, 2)
    other.initialize(X=X)
    other.from_bytes(model.to_bytes())
    for a, b in zip(other.predict(X), before):
        assert a.dtype == numpy.float32 and a.shape == b.shape
        numpy.testing.assert_array_equal(a, b)


def test_models_pickle():
    import pickle

    for model in (HashEmbedCNN(None, 8, 1, 20, 2, 1, True), CharacterEmbed(8, 10, 4, 3, False)):
        model.initialize(X=DOCS)
        copy = pickle.loads(pickle.dumps(model))
        for a, b in zip(copy.predict(DOCS), model.predict(DOCS)):
            numpy.testing.assert_array_equal(a, b)
        assert [y.shape for y in copy.predict([Doc([])])] == [(0, 8)]
