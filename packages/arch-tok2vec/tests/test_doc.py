import json

import numpy
import pytest

from arch_tok2vec import Doc, Vectors, Vocab
from arch_tok2vec.vocab import OOV_RANK


@pytest.fixture(scope="module")
def reference(fixtures_dir):
    return json.loads((fixtures_dir / "hash_reference.json").read_text("utf8"))


def test_to_array_matches_spacy_on_reference_tokens(reference):
    tokens = reference["tokens"]
    assert len(tokens) >= 2000
    categories = {t["category"] for t in tokens}
    assert {"ewt", "symbol", "non_ascii", "cjk", "emoji", "digits", "long"} <= categories
    assert any(len(t["text"]) >= 100 for t in tokens)
    words = [t["text"] for t in tokens]
    expected = numpy.array([t["values"] for t in tokens], dtype=numpy.uint64)
    got = Doc(words, vocab=Vocab()).to_array(reference["attrs"])
    mismatched = [words[i] for i in numpy.nonzero((got != expected).any(axis=1))[0]]
    assert not mismatched, f"{len(mismatched)} tokens differ, e.g. {mismatched[:10]!r}"


def test_to_array_is_the_same_in_any_batch(reference):
    words = [t["text"] for t in reference["tokens"]][:300]
    vocab = Vocab()
    whole = Doc(words, vocab=vocab).to_array(["NORM", "SHAPE"])
    pieces = numpy.vstack(
        [Doc(words[i : i + 7]).to_array(["NORM", "SHAPE"]) for i in range(0, 300, 7)]
    )
    numpy.testing.assert_array_equal(whole, pieces)


def test_to_utf8_array_matches_spacy(reference):
    tokens = reference["tokens"]
    doc = Doc([t["text"] for t in tokens])
    for nr_char in reference["utf8_nr_char"]:
        expected = numpy.array([t["utf8"][str(nr_char)] for t in tokens], dtype=numpy.uint8)
        got = doc.to_utf8_array(nr_char=nr_char)
        assert got.dtype == numpy.uint8 and got.shape == (len(tokens), nr_char)
        numpy.testing.assert_array_equal(got, expected)


def test_to_utf8_array_interleaves_from_both_ends():
    doc = Doc(["jumping", "ab"])
    assert doc.to_utf8_array(8)[0].tolist() == list(b"jgunmip") + [255]
    assert doc.to_utf8_array(4)[1].tolist() == [97, 98, 255, 255]


def test_to_array_shapes_and_names():
    doc = Doc(["Hello", "world"])
    assert doc.to_array("ORTH").shape == (2,)
    assert doc.to_array(["ORTH"]).shape == (2,)  # spaCy squeezes a one-item list too
    assert doc.to_array([65, "lower", "LENGTH"]).dtype == numpy.uint64
    assert doc.to_array("LENGTH").tolist() == [5, 5]
    with pytest.raises(ValueError, match="Unknown token attribute 'LEMMA'"):
        doc.to_array(["ORTH", "LEMMA"])


def test_id_is_the_vectors_row_or_oov():
    vocab = Vocab(vectors=Vectors(["cat", "dog"], numpy.ones((2, 3))))
    doc = Doc(["dog", "bird", "cat"], vocab=vocab)
    assert doc.to_array("ID").tolist() == [1, int(OOV_RANK), 0]
    vocab.vectors.add("bird", numpy.zeros(3))
    assert doc.to_array("ID").tolist() == [1, 2, 0]


def test_norm_override():
    doc = Doc(["I", "ca", "n't"], norms=[None, "can", "not"])
    plain = Doc(["can", "not"])
    assert doc.to_array("NORM")[1:].tolist() == plain.to_array("NORM").tolist()
    assert doc[2].norm_ == "not" and doc[0].norm_ == "i"


def test_from_text_round_trips_and_splits_sentences():
    text = "Hello, world!  Don't panic: it's 3.5°C.\nOK"
    doc = Doc.from_text(text)
    assert doc.text == text
    assert "Don't" in doc.words and "," in doc.words
    assert [s.text for s in doc.sents][0] == "Hello, world!"
    assert all(text[t.idx : t.idx + len(t.text)] == t.text for t in doc)


def test_tokens_and_spans():
    doc = Doc(["New", "York", "is", "big"], [True, True, True, False], ents=[(0, 2, "GPE")])
    assert doc.text == "New York is big"
    assert doc[1].idx == 4 and doc[-1].text == "big"
    span = doc[0:2]
    assert span.text == "New York" and (span.start_char, span.end_char) == (0, 8)
    assert doc.ents[0].label_ == "GPE" and doc.ents[0].text == "New York"
    assert [t.text for t in span] == ["New", "York"]
    assert doc[1].shape_ == "Xxxx" and doc[0].prefix_ == "N" and doc[1].suffix_ == "ork"


def test_bad_input_is_a_clear_error():
    with pytest.raises(ValueError, match="word 1 must be a non-empty string"):
        Doc(["a", ""])
    with pytest.raises(ValueError, match="2 words but 1 spaces"):
        Doc(["a", "b"], [True])
    with pytest.raises(ValueError, match="out of range"):
        Doc(["a"], ents=[(0, 3, "X")])
    with pytest.raises(ValueError, match="nr_char"):
        Doc(["a"]).to_utf8_array(0)
