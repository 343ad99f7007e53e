"""The category readers drop and corrupt nothing (issue 14, finding 6): a BOM or
CRLF line ends change nothing, invalid UTF-8 and malformed records are errors
naming the file and line."""

import json

import pytest

from arch_textcat.task import TextcatTask
from arch_tok2vec import CorpusError

BOM = b"\xef\xbb\xbf"
CSV = 'text,category\nI lost my card,lost_card\n"Where is it, please?",card_arrival\n'
JSONL = (
    json.dumps({"text": "Pasta sauce", "cats": {"sauce": 1.0, "bread": 0.0}})
    + "\n"
    + json.dumps({"text": "Sourdough", "cats": {"sauce": 0.0, "bread": 1.0}})
    + "\n"
)
NLUPP = json.dumps(
    [{"text": "new pin?", "intents": ["pin", "new"]}, {"text": "hello"}, {"text": "a card"}],
    indent=2,
)
PLAIN = {"a.csv": CSV, "a.jsonl": JSONL, "a.json": NLUPP}


def _write(tmp_path, name, data):
    path = tmp_path / name
    path.write_bytes(data if isinstance(data, bytes) else data.encode("utf8"))
    return path


def _read(path, exclusive=False):
    return [(eg.doc.words, eg.gold) for eg in TextcatTask(exclusive).read(path)]


@pytest.mark.parametrize("name", sorted(PLAIN))
def test_bom_and_crlf_read_as_the_plain_file(tmp_path, name):
    text = PLAIN[name]
    expected = _read(_write(tmp_path, name, text))
    for data in (
        BOM + text.encode("utf8"),
        text.replace("\n", "\r\n").encode("utf8"),
        BOM + text.replace("\n", "\r\n").encode("utf8"),
    ):
        assert _read(_write(tmp_path, name, data)) == expected


def test_a_bom_does_not_turn_the_csv_header_into_an_example(tmp_path):
    path = _write(tmp_path, "excel.csv", BOM + CSV.encode("utf8"))
    examples = TextcatTask(exclusive_classes=True).read(path)
    assert [eg.doc.text for eg in examples] == ["I lost my card", "Where is it, please?"]
    assert all(set(eg.gold["cats"]) == {"lost_card", "card_arrival"} for eg in examples)


@pytest.mark.parametrize(
    "name, data",
    [
        ("a.csv", b"text,label\nI lost it,lost\nCaf\xe9 card,lost\n"),
        ("a.jsonl", b'{"text": "a", "cats": {"x": 1}}\n\n{"text": "caf\xe9", "cats": {"x": 1}}\n'),
        ("a.json", b'[\n  {"text": "a"},\n  {"text": "caf\xe9"}\n]\n'),
    ],
)
def test_invalid_utf8_names_file_and_line(tmp_path, name, data):
    path = _write(tmp_path, name, data)
    with pytest.raises(CorpusError) as err:
        TextcatTask(False).read(path)
    assert str(err.value).startswith(f"{path}, line 3: invalid UTF-8 (byte 0xe9")


def test_csv_errors_name_the_line_after_a_quoted_newline(tmp_path):
    path = _write(tmp_path, "a.csv", 'text,label\n"two\nlines",x\nthree,columns,here\n')
    with pytest.raises(CorpusError) as err:
        TextcatTask(False).read(path)
    assert str(err.value) == f"{path}, line 4: expected 2 columns text,label, found 3"
    (eg,) = TextcatTask(False).read(_write(tmp_path, "b.csv", 'text,label\n"two\nlines",x\n'))
    assert eg.gold["line"] == 2 and eg.doc.text == "two\nlines"


def test_a_stray_csv_quote_does_not_swallow_the_rows_after_it(tmp_path):
    # Read leniently, the quote that opens row 2 runs to the one in row 4 and the
    # rows between vanish into one text.
    text = 'text,label\n"I lost my card,lost\nwhere is it,arrival\n"card" please,lost\n'
    path = _write(tmp_path, "a.csv", text)
    with pytest.raises(CorpusError) as err:
        TextcatTask(False).read(path)
    assert str(err.value).startswith(f"{path}, line 4: bad CSV")


def test_the_csv_header_may_follow_blank_lines(tmp_path):
    path = _write(tmp_path, "a.csv", "\ntext,label\nhello,greet\n")
    assert [eg.gold["cats"] for eg in TextcatTask(False).read(path)] == [{"greet": 1.0}]


@pytest.mark.parametrize(
    "items, message",
    [
        # A string of intents used to become one label per character.
        ([{"text": "a", "intents": ["pin"]}, {"text": "b", "intents": "pin"}], "line 8: "),
        ([{"text": "a"}, {"text": "b", "intents": [["pin"]]}], "line 5: "),
        ([{"text": "a"}, {"text": "b", "intents": [""]}], "line 5: "),
    ],
)
def test_nlupp_intents_must_be_a_list_of_strings(tmp_path, items, message):
    path = _write(tmp_path, "a.json", json.dumps(items, indent=2))
    with pytest.raises(CorpusError) as err:
        TextcatTask(False).read(path)
    assert str(err.value) == (
        f'{path}, {message}example 2: "intents" must be a list of non-empty strings'
    )


def test_nlupp_errors_name_the_line_of_the_example(tmp_path):
    path = _write(tmp_path, "a.json", '[\n  {"text": "a"},\n\n  {"txt": "b"}\n]\n')
    with pytest.raises(CorpusError) as err:
        TextcatTask(False).read(path)
    assert str(err.value) == f'{path}, line 4: example 2: needs a "text" string'
    examples = TextcatTask(False).read(_write(tmp_path, "b.json", NLUPP))
    assert [eg.gold["line"] for eg in examples] == [2, 9, 12]


def test_a_truncated_nlupp_file_is_refused_on_its_last_line(tmp_path):
    path = _write(tmp_path, "a.json", NLUPP[: NLUPP.rindex("}") + 1] + "\r\n")
    with pytest.raises(CorpusError) as err:
        TextcatTask(False).read(path)
    assert err.value.line == len(path.read_bytes().splitlines())
    assert "invalid JSON" in str(err.value)


@pytest.mark.parametrize(
    "line, message",
    [
        ('{"text": "a", "cats": {"": 1}}', "line 2: empty label in cats"),
        ('{"text": "a", "cats": {"x": NaN}}', "line 2: invalid JSON: NaN is not a JSON number"),
        ('{"text": "a", "cats": [1]}', 'line 2: each line needs a "cats" object'),
    ],
)
def test_jsonl_records_of_the_wrong_shape(tmp_path, line, message):
    path = _write(tmp_path, "a.jsonl", JSONL.splitlines()[0] + "\n" + line + "\n")
    with pytest.raises(CorpusError) as err:
        TextcatTask(False).read(path)
    assert str(err.value) == f"{path}, {message}"
