"""The readers of the entity-linking files (issue 14, finding 6): the JSONL corpus
(GUM's and Prodigy's records), entity lists (.jsonl, .csv) and alias tables
(.tsv) accept a byte-order mark and CRLF, refuse invalid UTF-8 and every
malformed record with a CorpusError naming the file and line, and drop nothing
without saying how much."""

import codecs
import json
import warnings

import numpy
import pytest

from arch_entitylinker.kb_files import build_kb
from arch_entitylinker.task import EntityLinkerTask
from arch_tok2vec import CorpusError

BOM = codecs.BOM_UTF8
EMERSON = (
    b'"Q312545","Roy Stanley Emerson","Australian tennis player"\n'
    b'"Q48226","Ralph Waldo Emerson","American philosopher, essayist, and poet"\n'
    b'"Q215952","Emerson Ferreira da Rosa","Brazilian footballer"\n'
)
RECORD = {"text": "Emerson won.", "mentions": [{"start_char": 0, "end_char": 7, "kb_id": "Q1"}]}


def _jsonl(*records):
    return "".join(json.dumps(r) + "\n" for r in records).encode("utf8")


def _refused(read, path, line, message):
    with pytest.raises(CorpusError) as err:
        read(path)
    assert err.value.path == str(path) and err.value.line == line, str(err.value)
    assert message in str(err.value)
    return err.value


# -- byte-order marks and line ends -------------------------------------------


def test_a_bom_before_a_csv_header_is_not_an_entity(tmp_path):
    """What Excel writes: a BOM, then the header row. The header used to be read
    as an entity called "\\ufeffid"."""
    path = tmp_path / "entities.csv"
    path.write_bytes(BOM + b"id,name,description\r\n" + EMERSON.replace(b"\n", b"\r\n"))
    kb = build_kb(path, None, 8)
    assert kb.get_entity_strings() == ["Q312545", "Q48226", "Q215952"]


def test_a_bom_before_the_first_csv_row_keeps_its_id(tmp_path):
    path = tmp_path / "entities.csv"
    path.write_bytes(BOM + EMERSON)
    assert build_kb(path, None, 8).get_entity_strings() == ["Q312545", "Q48226", "Q215952"]


def test_a_bom_and_crlf_in_the_jsonl_corpus(tmp_path):
    path = tmp_path / "c.jsonl"
    path.write_bytes(BOM + _jsonl(RECORD, RECORD).replace(b"\n", b"\r\n"))
    examples = EntityLinkerTask().read(path)
    assert [eg.doc.text for eg in examples] == ["Emerson won.", "Emerson won."]
    assert [m.text for eg in examples for m in eg.gold["mentions"]] == ["Emerson", "Emerson"]


def test_a_bom_and_crlf_in_the_alias_table_and_entity_jsonl(tmp_path):
    aliases = tmp_path / "a.tsv"
    aliases.write_bytes(BOM + b"alias\tentity\tcount\r\nEmerson\tQ1\t3\r\nEmerson\tQ2\t1\r\n")
    entities = tmp_path / "e.jsonl"
    entities.write_bytes(BOM + b'{"id": "Q1", "name": "Ralph"}\r\n{"id": "Q2"}\r\n')
    kb = build_kb(entities, aliases, 8)
    assert [(c.entity_, c.prior_prob) for c in kb.get_candidates("Emerson")] == [
        ("Q1", 0.75),
        ("Q2", 0.25),
    ]


def test_a_second_bom_is_refused(tmp_path):
    """A BOM where a later line starts means files were joined: refused, not
    read into the first cell of the line."""
    path = tmp_path / "entities.csv"
    path.write_bytes(EMERSON + BOM + EMERSON)
    _refused(lambda p: build_kb(p, None, 8), path, 4, "byte-order mark")


# -- invalid UTF-8 ---------------------------------------------------------------


@pytest.mark.parametrize("suffix", ["c.jsonl", "e.jsonl", "e.csv", "a.tsv"])
def test_invalid_utf8_names_file_and_line(tmp_path, suffix):
    path = tmp_path / suffix
    lines = {
        "c.jsonl": _jsonl(RECORD) + b'{"text": "Caf\xe9", "mentions": []}\n',
        "e.jsonl": b'{"id": "Q1"}\n{"id": "Q2", "name": "Caf\xe9"}\n',
        "e.csv": b"Q1,Ralph,writer\nQ2,Caf\xe9,place\n",
        "a.tsv": b"alias\tentity\nEmerson\tQ1\nCaf\xe9\tQ2\n",
    }[suffix]
    path.write_bytes(lines)
    line = 3 if suffix == "a.tsv" else 2
    if suffix == "c.jsonl":
        read = EntityLinkerTask().read
    elif suffix == "a.tsv":
        read = lambda p: build_kb(None, p, 8)  # noqa: E731
    else:
        read = lambda p: build_kb(p, None, 8)  # noqa: E731
    _refused(read, path, line, "invalid UTF-8")


def test_a_lone_carriage_return_does_not_shift_line_numbers(tmp_path):
    """Lines are counted at "\\n" as an editor counts them; a stray "\\r" inside
    a line (JSON white space) used to start a new line and shift every number."""
    path = tmp_path / "c.jsonl"
    path.write_bytes(
        b'{"text": "Emerson won.",\r "mentions": []}\n' + b'{"text": 5, "mentions": []}\n'
    )
    _refused(EntityLinkerTask().read, path, 2, '"text" string')


# -- malformed records -------------------------------------------------------------


@pytest.mark.parametrize(
    "line,message",
    [
        ('{"text": "Hi", "mentions": [], "x": NaN}', "NaN is not a JSON number"),
        ('{"text": "Hi", "mentions": [], "x": 1e999}', "too large"),
        ('{"text": "\\ud800 Hi", "mentions": []}', "unpaired surrogate (\\ud800)"),
        ('{"text": "Hi", "mentions": [], "doc_id": 7}', '"doc_id" must be a string'),
        (
            '{"text": "Hi", "mentions": [{"start_char": false, "end_char": 2, "kb_id": "Q"}]}',
            "needs integer start_char",
        ),
        (
            '{"text": "Hi", "spans": [{"start": 0, "end": 2}], "accept": ["Q"], "answer": "acept"}',
            '"answer" must be "accept", "reject" or "ignore"',
        ),
        ("[" * 100_000, "invalid JSON"),
    ],
)
def test_malformed_corpus_records(tmp_path, line, message):
    path = tmp_path / "c.jsonl"
    path.write_bytes(_jsonl(RECORD) + line.encode("utf8") + b"\n")
    _refused(EntityLinkerTask().read, path, 2, message)


def test_prodigy_records_not_accepted_are_counted(tmp_path):
    """Rejected and ignored Prodigy answers are left out, and the reader says
    how many and where (it used to drop them without a word)."""
    accepted = {"text": "Emerson won.", "spans": [{"start": 0, "end": 7}], "accept": ["Q1"]}
    path = tmp_path / "p.jsonl"
    path.write_bytes(
        _jsonl(
            accepted,
            {**accepted, "answer": "reject"},
            {**accepted, "answer": "accept"},
            {**accepted, "answer": "ignore"},
        )
    )
    with pytest.warns(UserWarning, match=r"p.jsonl: skipped 2 Prodigy record.*lines 2, 4.*2 rec"):
        examples = EntityLinkerTask().read(path)
    assert [eg.gold["line"] for eg in examples] == [1, 3]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        path.write_bytes(_jsonl(accepted))
        EntityLinkerTask().read(path)  # nothing skipped: no warning


@pytest.mark.parametrize(
    "line,message",
    [
        ('{"id": "Q2", "freq": NaN}', "NaN is not a JSON number"),
        ('{"id": "Q2", "freq": 1e39}', "\"freq\" of entity 'Q2'"),
        ('{"id": "Q2", "vector": [1, 2, 1e39]}', "\"vector\" of entity 'Q2'"),
        ('{"id": "Q2", "vector": [1, "2", 3]}', "\"vector\" of entity 'Q2' must hold numbers"),
        ('{"id": "\\udc80"}', "unpaired surrogate"),
        ('{"id": "Q2", "name": "\\ud83d"}', "unpaired surrogate"),
    ],
)
def test_malformed_entity_lines(tmp_path, line, message):
    path = tmp_path / "e.jsonl"
    path.write_bytes(b'{"id": "Q1"}\n' + line.encode("utf8") + b"\n")
    _refused(lambda p: build_kb(p, None, 3), path, 2, message)


@pytest.mark.parametrize(
    "header,row,message",
    [
        ("count", "inf", "count must be a number, got 'inf'"),
        ("count", "nan", "count must be a number, got 'nan'"),
        ("count", "1e39", "count must be a finite number >= 0"),
        ("count", "1_000", "count must be a number"),
        ("prior", "1.5", "prior must be a probability from 0 to 1"),
        ("prior", "-0.1", "prior must be a probability from 0 to 1"),
    ],
)
def test_malformed_alias_weights(tmp_path, header, row, message):
    path = tmp_path / "a.tsv"
    path.write_text(f"alias\tentity\t{header}\nEmerson\tQ1\t0.5\nEmerson\tQ2\t{row}\n", "utf8")
    _refused(lambda p: build_kb(None, p, 3), path, 3, message)


def test_a_pair_given_two_priors_is_refused(tmp_path):
    """A repeated alias-entity row used to add its priors up silently."""
    path = tmp_path / "a.tsv"
    path.write_text("alias\tentity\tprior\nEmerson\tQ1\t0.4\nEmerson\tQ1\t0.4\n", "utf8")
    _refused(lambda p: build_kb(None, p, 3), path, 3, "paired already at line 2")
    counts = tmp_path / "counts.tsv"  # counts of a repeated pair add up, as counts do
    counts.write_text("alias\tentity\tcount\nEmerson\tQ1\t2\nEmerson\tQ2\t1\nEmerson\tQ1\t1\n")
    kb = build_kb(None, counts, 3)
    assert [(c.entity_, c.prior_prob) for c in kb.get_candidates("Emerson")] == [
        ("Q1", 0.75),
        ("Q2", 0.25),
    ]


def test_files_without_entities_are_a_corpus_error(tmp_path):
    path = tmp_path / "a.tsv"
    path.write_text("alias\tentity\tcount\n\n", "utf8")
    err = _refused(lambda p: build_kb(None, p, 3), path, 0, "define no entities")
    assert isinstance(err, CorpusError)


def test_csv_errors_name_the_line_a_record_starts_on(tmp_path):
    path = tmp_path / "e.csv"
    path.write_bytes(b'Q1,"Ralph\nWaldo",writer\nQ2,"x"y,z,w\n')
    _refused(lambda p: build_kb(p, None, 3), path, 3, "expected id,name,description")
    kb = build_kb(_write_bytes(tmp_path / "ok.csv", b'Q1,"Ralph\nWaldo",writer\n'), None, 3)
    assert kb.get_entity_strings() == ["Q1"]
    assert numpy.isfinite(kb.vectors).all()


def _write_bytes(path, data):
    path.write_bytes(data)
    return path
