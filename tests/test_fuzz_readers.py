"""Every corpus reader, fed 1,000 seeded mutants of a slice of a real file per format.

A case passes when the reader returns its list of examples, or raises the
project's ``CorpusError`` naming the mutated file and (unless the whole file is
at fault, e.g. it is empty) a line that exists in it. Any other exception fails
the test with the case's description, from which ``fuzzing.mutants`` rebuilds it.
Two stronger checks ride along: a BOM or CRLF line ends alone change nothing in
what is read, and invalid UTF-8 alone is reported on the line where it was put.

The slices (tens of records) come from ``$ARCH_DATA`` or ``../shared/data``:
UD English EWT dev (CoNLL-U), WNUT17 train (IOB2, around the hashtag sentences),
UNER dev (5-column IOB2), Emerson (Prodigy JSONL with character spans: the 21
records whose spans fall on ``Doc.from_text`` tokens), cooking.stackexchange
(JSONL ``cats``), BANKING77 (CSV) and NLU++ banking fold 0 (a JSON list,
re-serialized as the original is). No real NER JSONL file gives ``tokens``, so
one more input is derived: the UNER slice as JSONL with ``tokens`` and spans.
The entity-linking readers are fuzzed in the entity linker's own tests.
"""

import json
import os
import re
import traceback
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, List, Tuple

import pytest

from arch_parser.corpora import read_ner
from arch_tok2vec import CorpusError, CorpusWarning, Example, registry
from arch_tok2vec.conllu import Sentence, read_conllu

from fuzzing import DEFAULT_KINDS, mutants

N_CASES = 1000
ROOT = Path(__file__).resolve().parents[1]
# Faults of a whole file, reported without a line.
WHOLE_FILE = (
    "no sentences found",
    "the corpus is empty",
    "file not found",
)


@pytest.fixture(scope="module")
def data_dir() -> Path:
    path = Path(os.environ.get("ARCH_DATA", ROOT.parent / "shared" / "data"))
    if not path.is_dir():
        pytest.fail(f"real corpora not found at {path}: set ARCH_DATA to the shared/data folder")
    return path


def _blocks(data: bytes) -> List[List[bytes]]:
    """The blank-line separated blocks of a token-per-line file, each with the
    separator line that ends it (WNUT17 separates some sentences by a lone tab)."""
    blocks: List[List[bytes]] = [[]]
    for line in data.split(b"\n"):
        blocks[-1].append(line)
        if not line.strip():
            blocks.append([])
    return [block for block in blocks if any(line.strip() for line in block)]


def _around(data: bytes, anchor: bytes, before: int, after: int) -> bytes:
    """The sentences from ``before`` sentences ahead of the one holding a line
    that starts with ``anchor`` to ``after`` sentences past it."""
    blocks = _blocks(data)
    at = next(i for i, b in enumerate(blocks) if any(x.startswith(anchor) for x in b))
    chosen = blocks[max(0, at - before) : at + after + 1]
    text = b"\n".join(b"\n".join(block) for block in chosen)
    return text if text.endswith(b"\n") else text + b"\n"


def _lines(path: Path, keep: Callable[[int, bytes], bool], limit: int) -> bytes:
    kept = [line for i, line in enumerate(path.read_bytes().split(b"\n"), 1) if keep(i, line)]
    return b"\n".join(kept[:limit]) + b"\n"


def _uner_as_jsonl(uner: bytes) -> bytes:
    """The UNER slice as NER JSONL with ``tokens`` (one space between tokens)."""
    out = []
    for block in _blocks(uner):
        rows = [line.decode("utf8").split("\t") for line in block if b"\t" in line]
        words = [row[1] for row in rows]
        starts, pos = [], 0
        for word in words:
            starts.append(pos)
            pos += len(word) + 1
        spans, open_at, label = [], -1, ""
        for i, row in enumerate(rows + [["", "", "O"]]):
            if open_at >= 0 and not row[2].startswith("I-"):
                spans.append([starts[open_at], starts[i - 1] + len(words[i - 1]), label])
                open_at = -1
            if row[2].startswith("B-"):
                open_at, label = i, row[2][2:]
        record = {"text": " ".join(words), "tokens": words, "spans": spans}
        out.append(json.dumps(record, ensure_ascii=False).encode("utf8"))
    return b"\n".join(out) + b"\n"


JSON_KINDS = DEFAULT_KINDS + ("json_value",)
FIELD_KINDS = DEFAULT_KINDS + ("field",)


@dataclass
class Format:
    name: str
    suffix: str
    data: bytes
    readers: Dict[str, Callable[[Path], List[Any]]]
    seed: int
    kinds: Tuple[str, ...]


def _task(name: str, **settings: Any) -> Any:
    return registry.tasks.get(name)(**settings)


def _formats(data_dir: Path) -> Dict[str, Format]:
    ewt = (data_dir / "ud_english_ewt" / "en_ewt-ud-dev.conllu").read_bytes()
    wnut = (data_dir / "wnut17" / "wnut17train.conll").read_bytes()
    uner = _around((data_dir / "uner_english_ewt" / "en_ewt-ud-dev.iob2").read_bytes(), b"#", 0, 19)
    emerson = data_dir / "emerson_nel" / "emerson_annotated_train.jsonl"
    emerson_unread = {6, 8, 16}  # "Emerson's" is one token for Doc.from_text
    cooking = data_dir / "cooking_stackexchange" / "cooking-train.jsonl"
    banking = data_dir / "banking77" / "train.csv"
    nlupp = json.loads((data_dir / "nlupp" / "banking" / "fold0.json").read_text("utf8"))
    ner = {"ner": _task("arch.ner.v1").read, "strict": lambda p: read_ner(p, strict=True)}
    multi_label = {"textcat": _task("arch.textcat.v1", exclusive_classes=False).read}
    conllu = {
        "read_conllu": lambda p: list(read_conllu(p)),
        "tagger": _task("arch.tagger.v1").read,
        "tagger_xpos": _task("arch.tagger.v1", column="xpos").read,
        "parser": _task("arch.parser.v1").read,
    }
    formats = [
        Format("conllu", ".conllu", _around(ewt, b"8.1\twrite", 10, 14), conllu, 1, FIELD_KINDS),
        Format("iob_wnut17", ".conll", _around(wnut, b"#yesterday", 15, 15), ner, 2, FIELD_KINDS),
        Format("uner", ".iob2", uner, ner, 3, FIELD_KINDS),
        Format(
            "jsonl_entities",
            ".jsonl",
            _lines(emerson, lambda i, line: bool(line.strip()) and i not in emerson_unread, 12),
            {"ner": ner["ner"]},
            4,
            JSON_KINDS,
        ),
        Format(
            "jsonl_entities_tokens",
            ".jsonl",
            _uner_as_jsonl(uner),
            {"ner": ner["ner"]},
            5,
            JSON_KINDS,
        ),
        Format(
            "jsonl_cats",
            ".jsonl",
            _lines(cooking, lambda i, _: True, 12),
            multi_label,
            6,
            JSON_KINDS,
        ),
        Format(
            "csv_cats",
            ".csv",
            _lines(banking, lambda i, _: True, 41),
            {"textcat": _task("arch.textcat.v1").read},
            7,
            FIELD_KINDS,
        ),
        Format(
            "nlupp_cats",
            ".json",
            json.dumps(nlupp[:20], indent=2).encode("utf8"),  # as the original is written
            multi_label,
            8,
            JSON_KINDS,
        ),
    ]
    return {fmt.name: fmt for fmt in formats}


FORMATS = [
    "conllu",
    "iob_wnut17",
    "uner",
    "jsonl_entities",
    "jsonl_entities_tokens",
    "jsonl_cats",
    "csv_cats",
    "nlupp_cats",
]


def _summary(result: List[Any]) -> List[Any]:
    """What a reader read, in a form that compares by value."""
    out: List[Any] = []
    for item in result:
        if isinstance(item, Sentence):
            out.append(item)
        elif isinstance(item, Example):
            out.append((item.doc.words, item.doc.spaces, item.gold))
        else:
            out.append((item[0].words, item[0].spaces, item[1:]))
    return out


def _line_count(data: bytes) -> int:
    return len(data.splitlines())  # bytes split at \n, \r\n and \r only, as the readers do


def _line_of_byte(data: bytes, at: int) -> int:
    before = data[:at]
    return len(before.splitlines()) + (1 if not before or before[-1:] in b"\r\n" else 0)


def _kinds(description: str) -> List[str]:
    return re.findall(r"(?:\): |; )([a-z_0-9]+): ", description)


def _check_error(err: CorpusError, path: Path, data: bytes, kinds: List[str], where: str) -> str:
    """What is wrong with a CorpusError a mutant raised ("" if nothing)."""
    message = str(err)
    lines = _line_count(data)
    if err.path != str(path) or not message.startswith(f"{path}"):
        return f"the error does not name the file: {message}"
    if err.line == 0 and not any(whole in message for whole in WHOLE_FILE):
        return f"no line in: {message}"
    if not 0 <= err.line <= lines:
        return f"line {err.line} is not in the file ({lines} lines): {message}"
    if kinds == ["invalid_utf8"] and "UTF-8" in message:
        expected = _line_of_byte(data, int(where))
        if err.line != expected:
            return f"the invalid UTF-8 is on line {expected}: {message}"
    if set(kinds) <= {"bom", "crlf"}:
        return f"a BOM or CRLF alone made the file unreadable: {message}"
    return ""


def _check_case(
    path: Path, data: bytes, description: str, reader: Callable[[Path], List[Any]], baseline: Any
) -> Tuple[str, str]:
    """Run one reader on one mutant: (what is wrong or "", "read" or "refused")."""
    kinds = _kinds(description)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = reader(path)
        except CorpusError as err:
            where = description.rsplit(" ", 1)[1]
            return _check_error(err, path, data, kinds, where), "refused"
        except Exception:
            return traceback.format_exc(limit=-3), "crashed"
    for warning in caught:
        if not issubclass(warning.category, CorpusWarning) or not str(warning.message).startswith(
            str(path)
        ):
            return f"a warning that does not name the file: {warning.message}", "read"
    if not isinstance(result, list):
        return f"the reader returned {type(result).__name__}, not a list", "read"
    if set(kinds) <= {"bom", "crlf"} and _summary(result) != baseline:
        return "a BOM or CRLF alone changed what was read", "read"
    return "", "read"


@pytest.mark.parametrize("name", FORMATS)
def test_readers_survive_mutants(name: str, data_dir: Path, tmp_path: Path) -> None:
    fmt = _formats(data_dir)[name]
    path = tmp_path / f"corpus{fmt.suffix}"
    path.write_bytes(fmt.data)
    baselines = {}
    for reader_name, reader in fmt.readers.items():
        # The slice itself must read cleanly, or the fuzzing proves little.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", CorpusWarning)  # the EWT slice has an empty node
            baselines[reader_name] = _summary(reader(path))
        assert baselines[reader_name], f"{name}: {reader_name} read nothing from the slice"
    problems: List[Tuple[str, str, str]] = []
    outcomes: Dict[str, int] = {"read": 0, "refused": 0, "crashed": 0}
    for description, data in mutants(fmt.data, N_CASES, fmt.seed, fmt.kinds):
        path.write_bytes(data)
        for reader_name, reader in fmt.readers.items():
            problem, outcome = _check_case(path, data, description, reader, baselines[reader_name])
            outcomes[outcome] += 1
            if problem:
                problems.append((description, reader_name, problem))
    report = "\n\n".join(f"{d}\n  [{r}] {p}" for d, r, p in problems[:8])
    assert not problems, f"{len(problems)} failing case(s) of {name}, first ones:\n{report}"
    # Both outcomes occur: the mutants are neither all harmless nor all fatal.
    assert outcomes["read"] and outcomes["refused"], outcomes
