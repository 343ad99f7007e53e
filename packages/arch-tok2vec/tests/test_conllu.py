import pytest

from arch_tok2vec import CorpusError, CorpusWarning
from arch_tok2vec.conllu import read_conllu

GOOD = """# sent_id = s1
# text = I can't go.
1	I	I	PRON	PRP	_	3	nsubj	_	_
2-3	can't	_	_	_	_	_	_	_	_
2	ca	can	AUX	MD	_	4	aux	_	_
3	n't	not	PART	RB	_	4	advmod	_	_
4	go	go	VERB	VB	_	0	root	_	SpaceAfter=No
4.1	went	go	VERB	VBD	_	_	_	_	_
5	.	.	PUNCT	.	_	4	punct	_	_

1	Hi	hi	INTJ	UH	_	0	root	_	_
"""


def test_reads_words_ranges_and_empty_nodes(tmp_path):
    path = tmp_path / "a.conllu"
    path.write_text(GOOD)
    first, second = list(read_conllu(path))
    assert [w.form for w in first.words] == ["I", "ca", "n't", "go", "."]
    assert [w.upos for w in first.words] == ["PRON", "AUX", "PART", "VERB", "PUNCT"]
    assert [w.space_after for w in first.words] == [True, False, True, False, True]
    assert [w.head for w in first.words] == [3, 4, 4, 0, 4]
    assert first.sent_id == "s1" and first.text == "I can't go."
    assert second.words[0].line == 11 and second.words[0].space_after


@pytest.mark.parametrize(
    "line,message",
    [
        ("1\tI\tI\tPRON", "expected 10 tab-separated columns, found 4"),
        ("x\tI\tI\tPRON\tPRP\t_\t0\troot\t_\t_", "bad token id 'x'"),
        ("2\tI\tI\tPRON\tPRP\t_\t0\troot\t_\t_", "token id 2 out of order (expected 1)"),
        ("1\tI\tI\tPRON\tPRP\t_\tzero\troot\t_\t_", "HEAD must be a number or _, got 'zero'"),
    ],
)
def test_malformed_line_names_file_and_line(tmp_path, line, message):
    path = tmp_path / "bad.conllu"
    path.write_text("# sent_id = x\n" + line + "\n")
    with pytest.raises(CorpusError) as err:
        list(read_conllu(path))
    assert str(err.value) == f"{path}, line 2: {message}"


def test_empty_and_missing_files(tmp_path):
    path = tmp_path / "empty.conllu"
    path.write_text("\n\n")
    with pytest.raises(CorpusError, match="no sentences found"):
        list(read_conllu(path))
    with pytest.raises(CorpusError, match="file not found"):
        list(read_conllu(tmp_path / "nope.conllu"))


def test_reads_ud_english_ewt(data_dir):
    sentences = list(read_conllu(data_dir / "ud_english_ewt" / "en_ewt-ud-dev.conllu"))
    assert len(sentences) == 2001
    assert sum(len(s.words) for s in sentences) == 25147


# Issue 14, finding 6: readers drop or corrupt data silently.


def test_bom_and_crlf_read_as_the_plain_file(tmp_path):
    plain = tmp_path / "plain.conllu"
    plain.write_text(GOOD, encoding="utf8")
    expected = list(read_conllu(plain))
    for name, data in [
        ("bom.conllu", b"\xef\xbb\xbf" + GOOD.encode("utf8")),
        ("crlf.conllu", GOOD.replace("\n", "\r\n").encode("utf8")),
        ("both.conllu", b"\xef\xbb\xbf" + GOOD.replace("\n", "\r\n").encode("utf8")),
    ]:
        path = tmp_path / name
        path.write_bytes(data)
        assert list(read_conllu(path)) == expected, name


def test_invalid_utf8_names_file_and_line(tmp_path):
    path = tmp_path / "latin1.conllu"
    path.write_bytes(GOOD.replace("Hi\thi", "Caf\u00e9\tcaf\u00e9").encode("latin-1"))
    with pytest.raises(CorpusError) as err:
        list(read_conllu(path))
    assert str(err.value).startswith(f"{path}, line 11: invalid UTF-8 (byte 0xe9")


@pytest.mark.parametrize(
    "text,message",
    [
        # The words of a multi-word token never come: "can't" would vanish.
        ("1\tI\tI\tPRON\tPRP\t_\t0\troot\t_\t_\n2-3\tcan't\t_\t_\t_\t_\t_\t_\t_\t_\n",
         "line 2: multi-word token ends at word 3, after the sentence"),
        # A HEAD in digits Python reads but UD does not (int("²") raises ValueError).
        ("1\tI\tI\tPRON\tPRP\t_\t\u00b2\troot\t_\t_\n", "line 1: HEAD must be a number or _"),
        ("1\tI\tI\tPRON\tPRP\t_\t0\troot\t_\t_\n\n# sent_id = cut here\n",
         "line 3: sentence has comments but no words"),
        ("1\t \tI\tPRON\tPRP\t_\t0\troot\t_\t_\n", "line 1: empty FORM"),
    ],
)  # fmt: skip
def test_what_used_to_be_dropped_or_escape_is_a_corpus_error(tmp_path, text, message):
    path = tmp_path / "bad.conllu"
    path.write_text(text, encoding="utf8")
    with pytest.raises(CorpusError) as err:
        list(read_conllu(path))
    assert str(err.value).startswith(f"{path}, {message}")


def test_skipped_empty_nodes_are_counted_in_one_warning(tmp_path, data_dir):
    path = tmp_path / "a.conllu"
    path.write_text(GOOD + "\n" + GOOD, encoding="utf8")
    with pytest.warns(CorpusWarning) as caught:
        sentences = list(read_conllu(path))
    assert len(sentences) == 4
    assert [str(w.message) for w in caught] == [
        f"{path}: skipped 2 empty nodes (8.1-style enhanced-dependency words)"
    ]
    dev = data_dir / "ud_english_ewt" / "en_ewt-ud-dev.conllu"
    with pytest.warns(CorpusWarning, match="skipped 4 empty nodes"):
        list(read_conllu(dev))
