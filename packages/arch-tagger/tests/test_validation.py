"""Bad settings and impossible initializations give errors that say what is wrong."""

import copy
import pickle

import numpy
import pytest
from thinc.api import Model, Relu, chain, with_array
from thinc.types import Floats2d

from arch_tagger import Tagger
from arch_tok2vec import Doc
from arch_tok2vec.architectures.tok2vec import HashEmbedCNN

DOCS = [Doc(["The", "dog", "barks", "."]), Doc(["Hello"])]


def _tok2vec(width=8):
    return HashEmbedCNN(
        pretrained_vectors=None,
        width=width,
        depth=1,
        embed_size=20,
        maxout_pieces=2,
        window_size=1,
        subword_features=False,
    )


def _constant_vectors(model, docs, is_train):
    return [model.ops.alloc2f(len(doc), 4) + 1.0 for doc in docs], lambda d_out: []


def _unsized_tok2vec():
    """Docs -> (n_tokens, 4) arrays, from a model that declares no output width."""
    return Model("unsized", _constant_vectors)


def _tags(n_tags, docs=DOCS):
    eye = numpy.eye(n_tags, dtype="float32")
    return [eye[numpy.arange(len(doc)) % n_tags] for doc in docs]


@pytest.mark.parametrize(
    "nO,message",
    [
        (0, "nO must be a positive integer, got 0"),
        (-2, "nO must be a positive integer, got -2"),
        (2.5, "nO must be an integer, got 2.5"),
        (True, "nO must be an integer, got True"),
        ("3", "nO must be an integer, got '3'"),
    ],
)
def test_bad_nO(nO, message):
    with pytest.raises(ValueError) as err:
        Tagger(_tok2vec(), nO=nO)
    assert message in str(err.value)


def test_tok2vec_must_be_a_model():
    with pytest.raises(TypeError, match="tok2vec must be a thinc Model, got dict"):
        Tagger({"width": 8})  # type: ignore[arg-type]


def test_unknown_tok2vec_width_is_a_clear_error():
    model = Tagger(_unsized_tok2vec(), nO=3)
    with pytest.raises(ValueError, match="output width of tok2vec is unknown"):
        model.initialize()
    with pytest.raises(ValueError, match="output width of tok2vec is unknown"):
        model.initialize(Y=_tags(3))


def test_unknown_tok2vec_width_is_read_from_sample_docs():
    model = Tagger(_unsized_tok2vec())
    model.initialize(X=DOCS, Y=_tags(3))
    softmax = model.get_ref("output_layer")
    assert softmax.get_dim("nI") == 4 and softmax.get_dim("nO") == 3
    assert [y.shape for y in model.predict(DOCS)] == [(4, 3), (1, 3)]


def test_initialize_without_docs_when_widths_are_known():
    model = Tagger(_tok2vec(), nO=4)
    model.initialize()
    assert model.get_ref("output_layer").get_param("W").shape == (4, 8)
    Y = model.predict(DOCS)
    assert [y.shape for y in Y] == [(4, 4), (1, 4)]


def test_unknown_tag_count_is_a_clear_error():
    model = Tagger(_tok2vec())
    with pytest.raises(ValueError, match="number of tags is unknown; give nO"):
        model.initialize(X=DOCS)
    # nothing was changed: initializing properly still works
    model.initialize(X=DOCS, Y=_tags(5))
    assert model.get_dim("nO") == 5


def test_tag_arrays_must_agree_with_nO():
    model = Tagger(_tok2vec(), nO=4)
    with pytest.raises(ValueError, match="nO is 4 but the tag arrays"):
        model.initialize(X=DOCS, Y=_tags(3))


def test_empty_sample_is_a_clear_error():
    model = Tagger(_tok2vec(), nO=4)
    with pytest.raises(ValueError, match="empty list of Docs"):
        model.initialize(X=[])


def test_flat_tag_array_sets_nO():
    model = Tagger(_tok2vec())
    model.initialize(X=DOCS, Y=numpy.vstack(_tags(6)))
    assert model.get_dim("nO") == 6


def test_all_empty_batch_when_initialized_on_it():
    model = Tagger(_tok2vec(), nO=3)
    model.initialize(X=[Doc([]), Doc([])])
    assert [y.shape for y in model.predict([Doc([])])] == [(0, 3)]
    assert [y.shape for y in model.predict(DOCS)] == [(4, 3), (1, 3)]


def test_works_on_a_tok2vec_with_a_further_layer():
    inner: Model[Floats2d, Floats2d] = Relu(6, 8)
    tok2vec = chain(_tok2vec(), with_array(inner))
    model = Tagger(tok2vec)
    model.initialize(X=DOCS, Y=_tags(2))
    assert model.get_ref("output_layer").get_dim("nI") == 6


def test_copies_keep_the_checks_and_initialize():
    model = Tagger(_tok2vec())
    for other in (model.copy(), copy.deepcopy(model)):
        with pytest.raises(ValueError, match="number of tags is unknown"):
            other.initialize(X=DOCS)
        other.initialize(X=DOCS, Y=_tags(3))
        assert [y.shape for y in other.predict(DOCS)] == [(4, 3), (1, 3)]
    # a tagger over a picklable tok2vec pickles
    unsized = Tagger(_unsized_tok2vec(), nO=2)
    restored = pickle.loads(pickle.dumps(unsized))
    restored.initialize(X=DOCS)
    assert [y.shape for y in restored.predict(DOCS)] == [(4, 2), (1, 2)]
