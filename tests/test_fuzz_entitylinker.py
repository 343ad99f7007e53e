"""Seeded fuzz test of the entity-linking readers (issue 14, finding 6).

Real files, mutated 1,000 times per format with ``fuzzing.mutants`` (flipped,
inserted and cut bytes, a byte-order mark, CRLF, invalid UTF-8, lines lost,
doubled or swapped), go through the public readers: the task's ``read(path)``
(resolved through ``registry.tasks``) for GUM's entity-linking JSONL and
Prodigy's JSONL, and ``build_kb`` for GUM's alias table and the entity lists
(Emerson's CSV, the package's sample JSONL). Every case must end in a result or
in a ``CorpusError`` naming the mutated file and (for a fault of the whole file,
line 0) a line the mutated file has; any other exception fails the test with the
case that raised it, so it can be rebuilt from its seed and number.
"""

import os
import warnings
from importlib import resources
from pathlib import Path
from typing import Any, Callable, List, Tuple

import numpy
import pytest

from arch_entitylinker.kb import KnowledgeBase
from arch_entitylinker.kb_files import build_kb
from arch_tok2vec import CorpusError
from arch_tok2vec.registry import registry

from fuzzing import mutants

N_CASES = 1000
SEED = 14
WHOLE_FILE = ("define no entities", "alias table is empty")
"""The refusals that are about a whole file, not a line (line 0 or 1 allowed)."""
TASK_SETTINGS = [{}, {"n_sents": 1}, {"combination": "softmax", "words_scope": "document"}]


@pytest.fixture(scope="module")
def data_dir() -> Path:
    """The shared real corpora: $ARCH_DATA, or ../shared/data beside the repo."""
    path = Path(os.environ.get("ARCH_DATA", Path(__file__).resolve().parents[2] / "shared/data"))
    if not (path / "gum_entity_linking").exists():
        pytest.fail(f"real corpora not found at {path}: set ARCH_DATA to the shared/data folder")
    return path


def _head(path: Path, n_lines: int) -> bytes:
    """The first lines of a real file (its start, as a file is cut)."""
    with path.open("rb") as file:
        return b"".join(line for _, line in zip(range(n_lines), file))


def _check_examples(examples: List[Any]) -> None:
    """What a reader returned is consistent: every mention is its text's slice."""
    for eg in examples:
        text = eg.doc.text
        for m in eg.gold["mentions"]:
            assert text[m.start_char : m.end_char] == m.text
            assert isinstance(m.kb_id, str) and m.kb_id


def _check_kb(kb: KnowledgeBase) -> None:
    """A KB built from the files is finite and round-trips, and no byte-order
    mark became part of an entity ID or alias."""
    assert numpy.isfinite(kb.vectors).all()
    strings = kb.get_entity_strings() + kb.get_alias_strings()
    assert not [s for s in strings if s.startswith("\ufeff")]
    data = kb.to_bytes()
    assert KnowledgeBase(1).from_bytes(data).to_bytes() == data


def _task_reader(settings: dict) -> Callable[[Path], None]:
    task = registry.tasks.get("arch.entity_linker.v1")(**settings)
    return lambda path: _check_examples(task.read(path))


def _kb_reader(role: str, partner: Path = None) -> Callable[[Path], None]:
    def read(path: Path) -> None:
        if role == "aliases":
            _check_kb(build_kb(partner, path, 8))
        else:
            _check_kb(build_kb(path, partner, 8))

    return read


def _run(
    name: str, data: bytes, tmp_path: Path, file_name: str, readers: List[Callable[[Path], None]]
) -> Tuple[int, int]:
    """Every mutant through a reader (the readers in turn); returns (results,
    refusals) and fails with every case that ended otherwise."""
    path = tmp_path / file_name
    results = refusals = 0
    failures: List[str] = []
    for i, (description, mutated) in enumerate(mutants(data, N_CASES, SEED)):
        path.write_bytes(mutated)
        n_lines = mutated.count(b"\n") + 1
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # skipped records are reported by a warning
                readers[i % len(readers)](path)
        except CorpusError as err:
            refusals += 1
            whole_file = any(text in str(err) for text in WHOLE_FILE)
            if err.path != str(path):
                failures.append(f"{description}: the error names {err.path}, not the file: {err}")
            elif not (1 <= err.line <= n_lines or (whole_file and err.line in (0, 1))):
                failures.append(f"{description}: line {err.line} of {n_lines}: {err}")
        except Exception as err:  # noqa: BLE001 - the point: nothing else may escape
            failures.append(f"{description}: {type(err).__name__}: {err}")
        else:
            results += 1
    if failures:
        shown = "\n".join(failures[:15])
        pytest.fail(f"{name}: {len(failures)} of {N_CASES} cases failed, the first:\n{shown}")
    return results, refusals


def test_gum_entity_linking_jsonl(data_dir, tmp_path):
    data = _head(data_dir / "gum_entity_linking" / "train.jsonl", 40)
    readers = [_task_reader(settings) for settings in TASK_SETTINGS]
    results, refusals = _run("GUM JSONL", data, tmp_path, "train.jsonl", readers)
    assert results > 50 and refusals > 300  # the mutations do both, and are read through


def test_prodigy_jsonl(data_dir, tmp_path):
    data = (data_dir / "emerson_nel" / "emerson_annotated_train.jsonl").read_bytes()
    readers = [_task_reader(settings) for settings in TASK_SETTINGS[:2]]
    results, refusals = _run("Prodigy JSONL", data, tmp_path, "emerson.jsonl", readers)
    assert results > 50 and refusals > 300


def test_alias_table(data_dir, tmp_path):
    data = _head(data_dir / "gum_entity_linking" / "aliases_train.tsv", 120)
    results, refusals = _run("alias table", data, tmp_path, "aliases.tsv", [_kb_reader("aliases")])
    assert results > 50 and refusals > 50


def test_entity_csv(data_dir, tmp_path):
    data = (data_dir / "emerson_nel" / "entities.csv").read_bytes()
    results, refusals = _run("entity CSV", data, tmp_path, "entities.csv", [_kb_reader("entities")])
    assert results > 50 and refusals > 50


def test_entity_jsonl(tmp_path):
    sample = resources.files("arch_entitylinker") / "sample" / "entities.jsonl"
    data = sample.read_bytes()
    results, refusals = _run(
        "entity JSONL", data, tmp_path, "entities.jsonl", [_kb_reader("entities")]
    )
    assert results > 50 and refusals > 50
