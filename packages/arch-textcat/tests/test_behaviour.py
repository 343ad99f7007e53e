"""What the architectures promise beyond matching spaCy: inferred output widths,
exclusive and multi-label outputs, empty Docs, the older signatures, training
through every path."""

import numpy
import pytest
from thinc.api import Adam, Config, fix_random_seed

from arch_tok2vec import Doc, Vectors, Vocab, registry

TOK2VEC = """
[model.tok2vec]
@architectures = "spacy.HashEmbedCNN.v1"
pretrained_vectors = null
width = 16
depth = 2
embed_size = 100
window_size = 1
maxout_pieces = 3
subword_features = true
"""


def bow(exclusive, ngram_size=2, no_output_layer=False):
    return f"""
[model]
@architectures = "spacy.TextCatBOW.v1"
exclusive_classes = {str(exclusive).lower()}
ngram_size = {ngram_size}
no_output_layer = {str(no_output_layer).lower()}
"""


def cnn(exclusive):
    return f"""
[model]
@architectures = "spacy.TextCatCNN.v1"
exclusive_classes = {str(exclusive).lower()}
{TOK2VEC}"""


def ensemble(exclusive, vectors=False, name="spacy.TextCatEnsemble.v1", pv=None):
    pv = pv if pv is not None else ("true" if vectors else "null")
    return f"""
[model]
@architectures = "{name}"
width = 16
embed_size = 100
pretrained_vectors = {pv}
exclusive_classes = {str(exclusive).lower()}
ngram_size = 2
window_size = 1
conv_depth = 2
dropout = 0.1
"""


LOW_DATA = """
[model]
@architectures = "spacy.TextCatLowData.v1"
width = 16
dropout = 0.2
"""

CONFIGS = {
    "bow_exclusive": bow(True),
    "bow_multilabel": bow(False, ngram_size=1),
    "cnn_exclusive": cnn(True),
    "cnn_multilabel": cnn(False),
    "ensemble_exclusive": ensemble(True),
    "ensemble_multilabel": ensemble(False),
    "ensemble_vectors": ensemble(True, vectors=True),
    "low_data": LOW_DATA,
}
EXCLUSIVE = {"bow_exclusive", "cnn_exclusive", "ensemble_exclusive", "ensemble_vectors"}

TEXTS = [
    "I still have not received my new card, is it lost?",
    "What is the exchange rate for euros today?",
    "My card payment was declined at the shop.",
    "Can I top up by bank transfer?",
    "card card card",
]
N_LABELS = 4


@pytest.fixture(scope="module")
def vocab():
    vocab = Vocab()
    words = sorted({w for text in TEXTS for w in Doc.from_text(text, vocab=vocab).words})
    data = numpy.random.default_rng(0).normal(size=(len(words), 6)).astype("float32")
    vocab.vectors = Vectors(words, data)
    return vocab


@pytest.fixture
def docs(vocab):
    return [Doc.from_text(text, vocab=vocab) for text in TEXTS]


def labels(n_docs, n_labels=N_LABELS):
    return numpy.eye(n_labels, dtype="float32")[numpy.arange(n_docs) % n_labels]


def build(name):
    return registry.resolve(Config().from_str(CONFIGS[name]))["model"]


@pytest.fixture(params=sorted(CONFIGS))
def name(request):
    return request.param


def test_output_width_is_read_from_the_labels(name, docs):
    model = build(name)
    model.initialize(X=docs, Y=labels(len(docs)))
    Y = model.predict(docs)
    assert Y.shape == (len(docs), N_LABELS) and Y.dtype == numpy.float32
    assert model.get_dim("nO") == N_LABELS


def test_given_output_width_needs_no_labels(name, docs):
    config = Config().from_str(CONFIGS[name])
    config["model"]["nO"] = 3
    model = registry.resolve(config)["model"]
    model.initialize(X=docs)
    assert model.predict(docs).shape == (len(docs), 3)


def test_exclusive_scores_sum_to_one_and_multilabel_scores_are_independent(name, docs):
    fix_random_seed(1)
    model = build(name)
    model.initialize(X=docs, Y=labels(len(docs)))
    _train(model, docs, labels(len(docs)), steps=5)
    Y = model.predict(docs)
    assert ((Y >= 0) & (Y <= 1)).all()
    assert model.attrs["multi_label"] is (name not in EXCLUSIVE)
    if name in EXCLUSIVE:
        numpy.testing.assert_allclose(Y.sum(axis=1), 1.0, atol=1e-5)
    else:
        assert not numpy.allclose(Y.sum(axis=1), 1.0, atol=1e-3)


def test_refs(name, docs):
    model = build(name)
    model.initialize(X=docs, Y=labels(len(docs)))
    walked = list(model.walk())
    assert model.get_ref("output_layer") in walked
    if name.startswith("bow"):
        assert model.get_ref("output_layer").name == "sparse_linear"
    if name.startswith(("cnn", "ensemble")):
        assert model.get_ref("tok2vec") in walked


def _train(model, docs, Y, steps):
    optimizer = Adam(0.01)
    for _ in range(steps):
        guesses, backprop = model.begin_update(docs)
        backprop(guesses - Y)
        model.finish_update(optimizer)


def test_a_batch_of_empty_docs_gives_one_row_per_doc(name, docs, vocab):
    fix_random_seed(0)
    model = build(name)
    model.initialize(X=docs, Y=labels(len(docs)))
    _train(model, docs, labels(len(docs)), steps=3)
    empty = [Doc([], vocab=vocab) for _ in range(3)]
    Y_empty = model.predict(empty)
    assert Y_empty.shape == (3, N_LABELS)
    # The same scores as an empty Doc gets inside a batch with words.
    mixed = model.predict(docs[:2] + empty[:1])
    numpy.testing.assert_allclose(Y_empty, numpy.tile(mixed[-1], (3, 1)), atol=1e-6)
    numpy.testing.assert_allclose(mixed[:2], model.predict(docs[:2]), atol=1e-6)
    # Training on such a batch works too.
    guesses, backprop = model.begin_update(empty)
    assert backprop(guesses - labels(3)) == []
    assert model.predict([]).shape == (0, N_LABELS)


def test_copies_keep_working(name, docs, vocab):
    model = build(name)
    model.initialize(X=docs, Y=labels(len(docs)))
    copy = model.copy()
    # thinc gives a copy the current ops (blis matrix products), so the two may
    # differ by float32 rounding only
    numpy.testing.assert_allclose(copy.predict(docs), model.predict(docs), rtol=1e-5, atol=1e-6)
    assert copy.predict([Doc([], vocab=vocab)]).shape == (1, N_LABELS)


def test_static_vectors_of_the_ensemble_are_trained(docs):
    fix_random_seed(0)
    model = build("ensemble_vectors")
    model.initialize(X=docs, Y=labels(len(docs)))
    vectors = next(node for node in model.walk() if node.name == "static_vectors")
    before = vectors.get_param("W").copy()
    _train(model, docs, labels(len(docs)), steps=2)
    assert not numpy.array_equal(before, vectors.get_param("W"))


def test_ensemble_without_vectors_needs_none(docs):
    model = build("ensemble_exclusive")
    plain = [Doc(doc.words) for doc in docs]  # a vocab without vectors
    model.initialize(X=plain, Y=labels(len(plain)))
    assert model.predict(plain).shape == (len(plain), N_LABELS)


def test_every_architecture_learns_a_toy_task(name, docs):
    fix_random_seed(0)
    model = build(name)
    Y = labels(len(docs))
    model.initialize(X=docs, Y=Y)
    loss_before = float(((model.predict(docs) - Y) ** 2).sum())
    _train(model, docs, Y, steps=30)
    loss_after = float(((model.predict(docs) - Y) ** 2).sum())
    assert loss_after < loss_before / 2
    assert (model.predict(docs).argmax(axis=1) == Y.argmax(axis=1)).all()


# --------------------------------------------------------------------------
# the older (mid-2020) signatures


@pytest.mark.parametrize("pv", ['"en_vectors_web_lg"', "true"])
def test_textcat_v1_is_the_ensemble(docs, pv):
    older = registry.resolve(Config().from_str(ensemble(True, name="spacy.TextCat.v1", pv=pv)))
    newer = registry.resolve(Config().from_str(ensemble(True, vectors=True)))
    older, newer = older["model"], newer["model"]
    for model in (older, newer):
        model.initialize(X=docs, Y=labels(len(docs)))
    assert [n.name for n in older.walk()] == [n.name for n in newer.walk()]
    older.from_bytes(newer.to_bytes())
    numpy.testing.assert_array_equal(older.predict(docs), newer.predict(docs))


def test_textcat_v1_without_vectors(docs):
    model = registry.resolve(Config().from_str(ensemble(False, name="spacy.TextCat.v1")))
    model = model["model"]
    model.initialize(X=docs, Y=labels(len(docs)))
    assert not any(node.name == "static_vectors" for node in model.walk())
    assert len(list(model.walk())) == len(list(build("ensemble_multilabel").walk()))


def test_low_data_accepts_the_older_signature(docs):
    config = Config().from_str(LOW_DATA)
    config["model"]["pretrained_vectors"] = "en_vectors_web_lg"
    model = registry.resolve(config)["model"]
    model.initialize(X=docs, Y=labels(len(docs)))
    assert model.predict(docs).shape == (len(docs), N_LABELS)


def test_low_data_tree_is_spacys_without_list2ragged(docs):
    model = build("low_data")
    nodes = list(model.walk())
    names = [node.name for node in nodes if not node.layers]
    # spaCy's 19 nodes (A.14) minus list2ragged and the chain that held it.
    assert len(nodes) == 17 and "list2ragged" not in names
    assert names.count("relu") == 2 and names.count("dropout") == 1
    assert nodes[2].name == "logistic"
    no_dropout = Config().from_str(LOW_DATA)
    no_dropout["model"]["dropout"] = None
    model = registry.resolve(no_dropout)["model"]
    assert len(list(model.walk())) == 15


def test_low_data_needs_vectors():
    model = build("low_data")
    with pytest.raises(ValueError, match="vectors"):
        model.initialize(X=[Doc(["no", "vectors"])], Y=labels(1))


# --------------------------------------------------------------------------
# extract_ngrams


def ngrams(ngram_size, attr=None):
    config = f'[model]\n@layers = "spacy.extract_ngrams.v1"\nngram_size = {ngram_size}\n'
    if attr is not None:
        config += f"attr = {attr}\n"
    return registry.resolve(Config().from_str(config))["model"]


def test_extract_ngrams_counts_and_lengths():
    docs = [Doc(["a", "b", "a", "b"]), Doc(["a"]), Doc([])]
    keys, counts, lengths = ngrams(2).predict(docs)
    # doc 0: a, b, (a b) twice and (b a) once; doc 1: a; doc 2: nothing
    assert lengths.tolist() == [4, 1, 0]
    assert keys.dtype == numpy.uint64 and counts.dtype == numpy.float32
    assert sorted(counts[:4].tolist()) == [1.0, 2.0, 2.0, 2.0]
    assert keys[:4].tolist() == sorted(keys[:4].tolist())
    assert keys[4] == Doc(["a"]).to_array("LOWER")[0]


def test_extract_ngrams_attr_by_name_and_default():
    doc = Doc(["Card", "card"])
    lower_keys, counts, _ = ngrams(1).predict([doc])
    assert len(lower_keys) == 1 and counts.tolist() == [2.0]
    orth_keys, _, _ = ngrams(1, '"ORTH"').predict([doc])
    assert len(orth_keys) == 2
    assert ngrams(1, '"orth"').attrs["attr"] == 65


def test_extract_ngrams_of_no_docs():
    keys, counts, lengths = ngrams(3).predict([])
    assert keys.shape == counts.shape == lengths.shape == (0,)
