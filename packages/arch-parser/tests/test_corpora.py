"""The NER readers drop and corrupt nothing (issue 14, finding 6): hashtags that
start a sentence are tokens, a BOM or CRLF changes nothing, invalid UTF-8 and
records of the wrong JSON types are errors naming the file and line."""

import json

import pytest

from arch_parser.corpora import read_ner
from arch_tok2vec import CorpusError, CorpusWarning, registry

BOM = b"\xef\xbb\xbf"


def _write(tmp_path, name, data):
    path = tmp_path / name
    path.write_bytes(data if isinstance(data, bytes) else data.encode("utf8"))
    return path


def _read(path, strict=False):
    return [(doc.words, spans, line) for doc, spans, line in read_ner(path, strict)]


def test_hashtags_that_start_a_sentence_are_tokens(tmp_path):
    text = "#yesterday\tO\n\t\n#Astros\tB-group\nwon\tO\n\n#\tO\nhi\tO\n"
    assert _read(_write(tmp_path, "a.conll", text)) == [
        (["#yesterday"], [], 1),
        (["#Astros", "won"], [(0, 1, "group")], 3),
        (["#", "hi"], [], 6),
    ]
    # Space-separated too, as long as the line is a token and a tag.
    assert _read(_write(tmp_path, "b.conll", "#NFL O\nrocks O\n")) == [(["#NFL", "rocks"], [], 1)]


def test_comments_are_still_comments(tmp_path):
    text = (
        "# newdoc id = x\n# sent_id = 1\n# text = in tampa\n"
        "1\tin\tO\t-\t-\n2\ttampa\tB-LOC\t-\ta\n\n"
        "# a comment of two words\n#comment\nhi\tO\n"
    )
    assert _read(_write(tmp_path, "a.iob2", text)) == [
        (["in", "tampa"], [(1, 2, "LOC")], 4),
        (["hi"], [], 9),
    ]


def test_wnut17_reads_every_sentence_token_and_entity(data_dir):
    """The counts of data/README.md; the '#' rule used to lose 1 sentence, 91
    tokens and 9 entities of train and 4 tokens of dev."""
    for name, counts in [
        ("wnut17train.conll", (3394, 62730, 1975)),
        ("emerging.dev.conll", (1009, 15733, 836)),
    ]:
        items = read_ner(data_dir / "wnut17" / name)
        found = (len(items), sum(len(d) for d, _, _ in items), sum(len(s) for _, s, _ in items))
        assert found == counts, name


def test_uner_reads_every_sentence_token_and_entity(data_dir):
    items = read_ner(data_dir / "uner_english_ewt" / "en_ewt-ud-dev.iob2")
    found = (len(items), sum(len(d) for d, _, _ in items), sum(len(s) for _, s, _ in items))
    assert found == (2001, 25149, 966)


@pytest.mark.parametrize(
    "name, text",
    [
        ("a.conll", "Ada\tB-PER\nLovelace\tI-PER\n\nParis\tU-LOC\n"),
        ("a.iob2", "# sent_id = x\n1\tin\tO\t-\t-\n2\ttampa\tB-LOC\t-\ta\n"),
        ("a.jsonl", json.dumps({"text": "Ada met Babbage.", "spans": [[0, 3, "PER"]]}) + "\n"),
    ],
)
def test_bom_and_crlf_read_as_the_plain_file(tmp_path, name, text):
    expected = _read(_write(tmp_path, name, text))
    for data in (BOM + text.encode("utf8"), text.replace("\n", "\r\n").encode("utf8")):
        assert _read(_write(tmp_path, name, data)) == expected


@pytest.mark.parametrize(
    "name, data",
    [
        ("a.conll", b"Ada\tB-PER\n\nCaf\xe9\tO\n"),
        ("a.iob2", b"1\tin\tO\t-\t-\n\n# text = caf\xe9\n"),
        ("a.jsonl", b'{"text": "Ada"}\n\n{"text": "Caf\xe9"}\n'),
    ],
)
def test_invalid_utf8_names_file_and_line(tmp_path, name, data):
    path = _write(tmp_path, name, data)
    with pytest.raises(CorpusError) as err:
        read_ner(path)
    assert str(err.value).startswith(f"{path}, line 3: invalid UTF-8 (byte 0xe9")


@pytest.mark.parametrize(
    "record, message",
    [
        ({"text": "a b c", "tokens": [1, 2, 3]}, "'tokens' must be a list of non-empty strings"),
        ({"text": "a b c", "tokens": "a b c"}, "'tokens' must be a list"),
        ({"text": "a b", "tokens": [{"text": "a"}, {"start": 2}]}, "'tokens' must be a list"),
        ({"text": "a b c", "spans": 5}, "'spans' must be a list of spans, got 5"),
        ({"text": "a b c", "spans": None}, "'spans' must be a list of spans"),
        ({"text": "a b c", "entities": {"start": 0}}, "'entities' must be a list of spans"),
        ({"text": "a b c", "spans": [[True, 1, "X"]]}, "bad span [True, 1, 'X']"),
        ({"text": "a b c", "spans": [[0, 1, ""]]}, "label a non-empty string"),
        # Tokens that stop early used to drop the rest of the text silently.
        ({"text": "a b c", "tokens": ["a", "b"]}, "the tokens end before the text does"),
        ({"text": "a b c", "tokens": []}, "the tokens end before the text does"),
        ("[1, 2]", "each line needs an object with a 'text' string"),
    ],
)
def test_records_of_the_wrong_shape_name_file_and_line(tmp_path, record, message):
    line = record if isinstance(record, str) else json.dumps(record)
    path = _write(tmp_path, "a.jsonl", '{"text": "fine"}\n' + line + "\n")
    with pytest.raises(CorpusError) as err:
        read_ner(path)
    assert str(err.value).startswith(f"{path}, line 2: ")
    assert message in str(err.value)


def test_prodigy_tokens_are_read(tmp_path):
    record = {
        "text": "Ada met Babbage",
        "tokens": [{"text": "Ada", "start": 0}, {"text": "met"}, {"text": "Babbage"}],
        "spans": [{"start": 8, "end": 15, "label": "PER"}],
    }
    assert _read(_write(tmp_path, "a.jsonl", json.dumps(record) + "\n")) == [
        (["Ada", "met", "Babbage"], [(2, 3, "PER")], 1)
    ]


def test_prodigy_records_answered_reject_or_ignore_are_not_gold(tmp_path):
    # They used to be read as gold annotations, their spans taught as entities.
    lines = [
        {"text": "Ada met Babbage", "spans": [{"start": 0, "end": 3, "label": "PER"}]},
        {
            "text": "Ada met Babbage",
            "spans": [{"start": 8, "end": 15, "label": "ORG"}],
            "answer": "reject",
        },
        {"text": "Paris is big", "spans": [], "answer": "ignore"},
        {
            "text": "Rome is old",
            "spans": [{"start": 0, "end": 4, "label": "LOC"}],
            "answer": "accept",
        },
    ]
    path = _write(tmp_path, "a.jsonl", "".join(json.dumps(r) + "\n" for r in lines))
    with pytest.warns(CorpusWarning, match="skipped 2 records answered reject or ignore"):
        read = _read(path)
    assert read == [
        (["Ada", "met", "Babbage"], [(0, 1, "PER")], 1),
        (["Rome", "is", "old"], [(0, 1, "LOC")], 4),
    ]


def test_a_prodigy_answer_that_is_not_one_of_the_three_is_refused(tmp_path):
    path = _write(tmp_path, "a.jsonl", json.dumps({"text": "Ada", "answer": "maybe"}) + "\n")
    with pytest.raises(CorpusError, match="line 1: 'answer' must be accept, reject or ignore"):
        read_ner(path)


@pytest.mark.parametrize(
    "text, message",
    [
        # A token line lost from a UNER sentence used to go unnoticed.
        ("1\tin\tO\t-\t-\n3\tbay\tO\t-\t-\n", "line 2: token index '3' out of order (expected 2)"),
        ("x\tin\tO\t-\t-\n", "line 1: token index 'x' out of order (expected 1)"),
        (" \tO\n", "line 1: empty token"),
        ("#tag\tX-PER\n", "line 1: not an IOB2/BILUO tag: 'X-PER'"),
    ],
)
def test_token_lines_that_are_wrong(tmp_path, text, message):
    path = _write(tmp_path, "a.iob2", text)
    with pytest.raises(CorpusError) as err:
        read_ner(path)
    assert str(err.value).startswith(f"{path}, {message}")


def test_the_ner_task_reads_through_the_same_rules(tmp_path):
    task = registry.tasks.get("arch.ner.v1")()
    path = _write(tmp_path, "a.conll", BOM + b"#NFL\tB-ORG\r\nwins\tO\r\n")
    (example,) = task.read(path)
    assert example.doc.words == ["#NFL", "wins"] and example.gold["spans"] == [(0, 1, "ORG")]
