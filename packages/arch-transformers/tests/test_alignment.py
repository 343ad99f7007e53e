"""Wordpiece-to-token alignment through TransformerModel.v1 on the tiny BERT,
checked against index lists written by hand. Flat index = row * row_length + j."""

import pytest
from thinc.api import reduce_mean

from arch_tok2vec import Doc
from arch_transformers import TransformerModel, doc_spans, strided_spans


@pytest.fixture(scope="module")
def whole(tiny_bert):
    model = TransformerModel(str(tiny_bert), doc_spans())
    model.initialize()
    return model


def aligned(data):
    return [data.token_wordpieces(i) for i in range(data.n_tokens)]


def run(model, doc):
    (data,) = model.predict([doc])
    return data


def test_word_split_into_several_wordpieces(whole):
    data = run(whole, Doc(["unbelievable", "cat"]))
    assert data.wordpieces == [["[CLS]", "un", "##believ", "##able", "cat", "[SEP]"]]
    assert aligned(data) == [[1, 2, 3], [4]]


def test_several_words_in_one_wordpiece(whole):
    data = run(whole, Doc(["can", "not", "sat"], spaces=[False, True, False]))
    assert data.wordpieces == [["[CLS]", "cannot", "sat", "[SEP]"]]
    assert aligned(data) == [[1], [1], [2]]
    # "do" + "n't" -> "don" "'" "t": the first piece covers both tokens
    data = run(whole, Doc(["do", "n't"], spaces=[False, False]))
    assert data.wordpieces == [["[CLS]", "don", "'", "t", "[SEP]"]]
    assert aligned(data) == [[1], [1, 2, 3]]


def test_special_tokens_and_padding_align_to_nothing(whole):
    short, long = whole.predict([Doc(["cat"]), Doc(["the", "cat", "sat", "on", "the", "mat"])])
    assert short.wordpieces == [["[CLS]", "cat", "[SEP]"] + ["[PAD]"] * 5]
    assert long.wordpieces == [["[CLS]", "the", "cat", "sat", "on", "the", "mat", "[SEP]"]]
    assert aligned(short) == [[1]]
    assert aligned(long) == [[1], [2], [3], [4], [5], [6]]
    assert short.attention_mask.tolist() == [[1, 1, 1, 0, 0, 0, 0, 0]]
    assert short.hidden.shape == long.hidden.shape == (1, 8, 32)


def test_whitespace_tokens(whole):
    doc = Doc.from_text("the  cat\nsat")
    assert doc.words == ["the", " ", "cat", "\n", "sat"]
    data = run(whole, doc)
    assert data.wordpieces == [["[CLS]", "the", "cat", "sat", "[SEP]"]]
    assert aligned(data) == [[1], [], [2], [], [3]]


def test_non_ascii(whole):
    data = run(whole, Doc(["café", "naïve", "😀", "cat"]))
    assert data.wordpieces == [
        ["[CLS]", "caf", "##é", "na", "##ï", "##ve", "[UNK]", "cat", "[SEP]"]
    ]
    assert aligned(data) == [[1, 2], [3, 4, 5], [6], [7]]


def test_empty_docs(whole, tiny_bert):
    empty, cat = whole.predict([Doc([]), Doc(["cat"])])
    assert empty.n_tokens == 0 and aligned(empty) == []
    assert empty.wordpieces == [["[CLS]", "[SEP]"] + ["[PAD]"]]  # doc_spans: one empty span
    assert aligned(cat) == [[1]]
    strided = TransformerModel(str(tiny_bert), strided_spans(4, 2))
    strided.initialize()
    outputs = strided.predict([Doc([]), Doc([])])  # no spans at all: no transformer call
    assert [o.hidden.shape for o in outputs] == [(0, 0, 32), (0, 0, 32)]
    assert [o.n_tokens for o in outputs] == [0, 0]


def test_overlapping_strided_spans(tiny_bert):
    model = TransformerModel(str(tiny_bert), strided_spans(4, 2))
    model.initialize()
    data = run(model, Doc(list("abcdefg")))
    assert [(s.start, s.end) for s in data.spans] == [(0, 4), (2, 6), (4, 7)]
    assert data.wordpieces == [
        ["[CLS]", "a", "b", "c", "d", "[SEP]"],
        ["[CLS]", "c", "d", "e", "f", "[SEP]"],
        ["[CLS]", "e", "f", "g", "[SEP]", "[PAD]"],
    ]
    # row length 6: row 1 starts at 6, row 2 at 12
    assert aligned(data) == [[1], [2], [3, 7], [4, 8], [9, 13], [10, 14], [15]]
    # the token vector of "c" is the mean of its two wordpiece vectors
    flat = data.hidden.reshape(-1, 32)
    pooled = reduce_mean().predict(
        data.align.__class__(flat[data.align.data.reshape(-1)], data.align.lengths)
    )
    assert abs(pooled[2] - (flat[3] + flat[7]) / 2).max() < 1e-6


def test_overlong_span_is_truncated_with_a_warning(whole):
    doc = Doc(list("abcdefghijklmnopqrst"))  # 20 wordpieces + 2 special > 16
    with pytest.warns(UserWarning, match="exceeds the model's maximum of 16"):
        data = run(whole, doc)
    assert data.wordpieces == [["[CLS]"] + list("abcdefghijklmn") + ["[SEP]"]]
    assert aligned(data) == [[i + 1] for i in range(14)] + [[]] * 6
