import pytest

from arch_tok2vec import CorpusError
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
