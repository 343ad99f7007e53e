"""Issue 16, point 4: a saved entity linker keeps its knowledge base as a file of its
own (kb.bin, KB format version 2), checksummed in the manifest and mapped read-only
when the model is loaded; models saved with the KB inside task.json (arch-entitylinker
0.3.2 and older) still load and link as they did; a damaged or crafted kb.bin is
refused naming it."""

import hashlib
import json
import os
import shutil
import struct
import sys
import zlib
from pathlib import Path

import pytest
from thinc.api import Config

from arch_entitylinker import KnowledgeBase, kb_format_v2
from arch_entitylinker.task import KB_FILE
from arch_tok2vec import Doc, ModelFileError, load, verified_files
from arch_tok2vec.model_files import digest, manifest_bytes
from arch_tok2vec.training import train

FIXTURES = Path(__file__).parent / "fixtures"
sys.path.insert(0, str(FIXTURES))
from make_old_model import CONFIG, TEXTS  # noqa: E402


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """A tiny entity linker trained on the sample corpus and saved (model-last)."""
    out = tmp_path_factory.mktemp("el")
    train(Config().from_str(CONFIG), out / "run", log=lambda line: None, progress=False)
    return out / "run" / "model-last"


@pytest.fixture
def folder(saved, tmp_path):
    copy = tmp_path / "model"
    shutil.copytree(saved, copy)
    return copy


@pytest.fixture
def hashed_every_time(monkeypatch):
    """No file counts as verified earlier: kb.bin is hashed by the manifest check and
    its own CRC-32 checked on every load."""
    monkeypatch.setattr(verified_files, "RACY_SECONDS", 10**9)
    verified_files.forget()


def _docs():
    return [Doc.from_text(text) for text in TEXTS]


def _resign(folder: Path) -> None:
    """Rewrite manifest.json to match the folder's files, as a crafted model would."""
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["files"] = {
        item.name: {
            "sha256": hashlib.sha256(item.read_bytes()).hexdigest(),
            "size": len(item.read_bytes()),
        }
        for item in sorted(folder.iterdir())
        if item.name != "manifest.json"
    }
    body = {k: v for k, v in manifest.items() if k != "sha256"}
    (folder / "manifest.json").write_bytes(manifest_bytes({**body, "sha256": digest(body)}))


def _section(data: bytes, name: str) -> kb_format_v2.Section:
    header = kb_format_v2.parse_header(data, len(data), "")
    return next(s for s in kb_format_v2.layout(header)[0] if s.name == name)


def _resealed(data: bytearray) -> bytes:
    """The trailer checksum of a damaged KB file recomputed, as a crafted file's."""
    struct.pack_into("<I", data, len(data) - 4, zlib.crc32(bytes(data[:-4])))
    return bytes(data)


def _refusal(folder: Path) -> str:
    with pytest.raises(ModelFileError) as info:
        load(folder)
    return str(info.value)


def test_the_kb_is_a_file_of_the_folder_mapped_on_load(folder, tmp_path):
    task_json = json.loads((folder / "task.json").read_text())
    assert task_json["kb_file"] == KB_FILE and "kb" not in task_json
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["files"][KB_FILE]["size"] == (folder / KB_FILE).stat().st_size
    pipeline = load(folder)
    kb = pipeline.task.kb
    assert kb.read_only and kb.mapped_file.path == folder / KB_FILE
    links = pipeline(_docs())
    assert any(len(doc_links) for doc_links in links)
    # saved again from the mapped KB: the same file, and the same links
    pipeline.to_disk(tmp_path / "again")
    assert (tmp_path / "again" / KB_FILE).read_bytes() == (folder / KB_FILE).read_bytes()
    assert load(tmp_path / "again")(_docs()) == links
    # replacing the folder the KB is mapped from leaves the loaded model whole
    pipeline.to_disk(folder)
    assert pipeline(_docs()) == links == load(folder)(_docs())


def test_a_mapped_kb_links_as_the_kb_in_memory(saved):
    """The loaded model (its KB mapped) and the same model with the KB read into
    memory link every mention of the sample dev corpus identically."""
    mapped = load(saved)
    in_memory = load(saved)
    in_memory.task.set_kb(KnowledgeBase.load(saved / KB_FILE))
    assert mapped.task.kb.read_only and not in_memory.task.kb.read_only
    docs = [eg.doc for eg in mapped.task.sample()[1]] + _docs()
    links = mapped(docs)
    assert links == in_memory(docs)
    assert sum(len(doc_links) for doc_links in links) > 10


def test_a_model_saved_with_the_kb_in_task_json_still_loads(tmp_path):
    """fixtures/old_model was saved by arch-entitylinker 0.3.2 (make_old_model.py):
    its task.json holds the KB; it loads and links as it did then, and saved again it
    gets a kb.bin."""
    recorded = json.loads((FIXTURES / "old_model_links.json").read_text())
    pipeline = load(FIXTURES / "old_model")
    assert not pipeline.task.kb.read_only
    expected = [[list(link) for link in links] for links in recorded["links"]]
    got = pipeline([Doc.from_text(text) for text in recorded["texts"]])
    assert [[list(link) for link in links] for links in got] == expected
    pipeline.to_disk(tmp_path / "resaved")
    assert (tmp_path / "resaved" / KB_FILE).exists()
    again = load(tmp_path / "resaved")
    assert again.task.kb.read_only
    assert [[list(link) for link in links] for links in again(_docs())] == expected


def test_a_damaged_kb_file_is_refused_naming_it(folder, hashed_every_time):
    path = folder / KB_FILE
    data = path.read_bytes()
    damaged = bytearray(data)
    damaged[_section(data, "vectors").offset + 3] ^= 0x01
    path.write_bytes(bytes(damaged))
    assert _refusal(folder).startswith(f"{path}: its checksum differs from the one in")
    # a crafted folder, its manifest rewritten to match: the KB's own checks refuse it
    _resign(folder)
    assert _refusal(folder).startswith(f"{path}: the KB file is corrupted (checksum")
    damaged = bytearray(data)
    pairs = _section(data, "pair_entities").offset
    damaged[pairs : pairs + 4] = (10**6).to_bytes(4, "little")
    path.write_bytes(_resealed(damaged))
    _resign(folder)
    assert _refusal(folder).startswith(f"{path}: a candidate points past the")
    path.write_bytes(data[:100])
    _resign(folder)
    assert _refusal(folder).startswith(f"{path}: truncated KB file")
    path.unlink()
    _resign(folder)
    assert _refusal(folder).startswith(f"{path}: missing from the model folder")


def test_a_crafted_kb_file_name_is_refused(folder):
    task_json = json.loads((folder / "task.json").read_text())
    for name in ("../kb.bin", "other.bin", 5):
        (folder / "task.json").write_text(json.dumps({**task_json, "kb_file": name}))
        _resign(folder)
        message = _refusal(folder)
        assert message.startswith(f"{folder / 'task.json'}, key 'kb_file': "), message


def test_a_kb_file_verified_by_the_manifest_is_not_checked_twice(folder, monkeypatch):
    """The KB file's own CRC-32 is checked on load unless the manifest check verified
    the file's sha256 in this process (arch_tok2vec.verified_files, whose own tests
    show that a recorded file is not hashed again)."""
    checked = []
    original = kb_format_v2.check_checksum
    monkeypatch.setattr(
        kb_format_v2, "check_checksum", lambda *args: checked.append(1) or original(*args)
    )
    monkeypatch.setattr(verified_files, "RACY_SECONDS", 10**9)  # nothing recorded
    verified_files.forget()
    load(folder)
    assert checked == [1]
    assert verified_files.checksum(os.stat(folder / KB_FILE)) is None
    monkeypatch.setattr(verified_files, "RACY_SECONDS", 0)  # everything recorded
    load(folder)
    load(folder)
    assert checked == [1]  # verified by the manifest check, then recorded: no CRC-32
    assert verified_files.checksum(os.stat(folder / KB_FILE)) is not None
    # the same file changed in place (same size): its identity changed, it is hashed again
    data = bytearray((folder / KB_FILE).read_bytes())
    data[-5] ^= 0x01
    (folder / KB_FILE).write_bytes(bytes(data))
    assert _refusal(folder).startswith(f"{folder / KB_FILE}: its checksum differs")
