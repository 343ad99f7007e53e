"""corpus_io: how every reader sees a file's lines (BOM, line ends, bad UTF-8)."""

import warnings

import pytest

from arch_tok2vec import CorpusError, CorpusWarning
from arch_tok2vec.corpus_io import (
    line_at,
    line_finder,
    parse_json,
    read_jsonl,
    read_lines,
    read_text,
    warn_skipped,
)


def _write(tmp_path, data: bytes):
    path = tmp_path / "corpus.txt"
    path.write_bytes(data)
    return path


def test_line_ends_of_every_kind_number_lines_as_an_editor_does(tmp_path):
    path = _write(tmp_path, b"a\nb\r\nc\rd\r\re\n\nf")
    assert list(read_lines(path)) == [
        (1, "a"), (2, "b"), (3, "c"), (4, "d"), (5, ""), (6, "e"), (7, ""), (8, "f")
    ]  # fmt: skip
    kept = [line for _, line in read_lines(path, keepends=True)]
    assert "".join(kept) == "a\nb\r\nc\rd\r\re\n\nf"
    assert list(read_lines(_write(tmp_path, b"x\r"))) == [(1, "x")]
    assert list(read_lines(_write(tmp_path, b""))) == []


def test_a_leading_bom_is_dropped_once_or_repeated(tmp_path):
    for data in (b"\xef\xbb\xbfa\tO\n", b"\xef\xbb\xbf\xef\xbb\xbfa\tO\n"):
        assert list(read_lines(_write(tmp_path, data))) == [(1, "a\tO")]
        assert read_text(_write(tmp_path, data)) == "a\tO\n"
    # Only at the start of the file: one where a later line starts means files were
    # joined, and would glue an invisible character to a token, an alias or a label.
    with pytest.raises(CorpusError, match="line 2: a byte-order mark where the line starts"):
        list(read_lines(_write(tmp_path, b"a\n\xef\xbb\xbfb\n")))
    # Inside a line it is text.
    assert list(read_lines(_write(tmp_path, b"a\nb\xef\xbb\xbf\n")))[1] == (2, "b\ufeff")


def test_jsonl_lines_end_at_newline_alone_and_json_is_strict(tmp_path):
    path = _write(tmp_path, b'{"a":\r 1}\r\n\n{"b": 2}\n')
    assert list(read_jsonl(path)) == [(1, {"a": 1}), (3, {"b": 2})]
    for line, message in [
        (b'{"a": NaN}', "NaN is not a JSON number"),
        (b'{"a": 1e999}', "too large"),
        (b'{"a": "\\ud800"}', "unpaired surrogate"),
    ]:
        with pytest.raises(CorpusError, match=f"line 2: .*{message}"):
            list(read_jsonl(_write(tmp_path, b'{"ok": 1}\n' + line + b"\n")))


@pytest.mark.parametrize("bad", [b"\xff", b"\xc3(", b"\xe2\x82", b"\xed\xa0\x80", b"\x80"])
def test_invalid_utf8_names_the_line(tmp_path, bad):
    path = _write(tmp_path, b"one\r\ntwo\rthr" + bad + b"ee\nfour\n")
    with pytest.raises(CorpusError) as err:
        list(read_lines(path))
    assert err.value.line == 3 and str(err.value).startswith(f"{path}, line 3: invalid UTF-8")
    with pytest.raises(CorpusError) as err:
        read_text(path)
    assert err.value.line == 3 and "invalid UTF-8 (byte" in str(err.value)


def test_utf16_is_named(tmp_path):
    path = _write(tmp_path, "text,label\n".encode("utf-16"))
    with pytest.raises(CorpusError, match="line 1: the file is UTF-16"):
        list(read_lines(path))
    with pytest.raises(CorpusError, match="line 1: the file is UTF-16"):
        read_text(path)


def test_a_file_that_cannot_be_opened_is_a_corpus_error(tmp_path):
    with pytest.raises(CorpusError, match="cannot open the file"):
        list(read_lines(tmp_path))
    with pytest.raises(CorpusError, match="cannot open the file"):
        read_text(tmp_path / "missing.json")


def test_line_at():
    text = "[\r\n  1,\r  2\n]\r\n"
    assert [line_at(text, text.index(c)) for c in "[12]"] == [1, 2, 3, 4]
    assert line_at(text, len(text)) == 4  # past the end: the last line
    assert line_at(text, 2) == 1  # the \n of a \r\n belongs to its line
    assert line_at("", 0) == 1


def test_parse_json_errors_name_file_and_line(tmp_path):
    assert parse_json("f.jsonl", 3, '{"a": [1]}') == {"a": [1]}
    with pytest.raises(CorpusError, match=r"^f.jsonl, line 3: invalid JSON: Expecting"):
        parse_json("f.jsonl", 3, '{"a": [1}')
    with pytest.raises(CorpusError, match=r"^f.jsonl, line 4: invalid JSON"):
        parse_json("f.jsonl", 4, "[" * 100_000)


def test_warn_skipped_names_file_and_count():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warn_skipped("f.conllu", 0, "empty nodes")
        warn_skipped("f.conllu", 3, "empty nodes")
    assert [(w.category, str(w.message)) for w in caught] == [
        (CorpusWarning, "f.conllu: skipped 3 empty nodes")
    ]


def test_line_finder_agrees_with_line_at():
    text = "a\r\nb\rc\n\nd"
    find = line_finder(text)
    assert [find(pos) for pos in range(len(text) + 2)] == [
        line_at(text, pos) for pos in range(len(text) + 2)
    ]
    assert [find(text.index(c)) for c in "abcd"] == [1, 2, 3, 5]
