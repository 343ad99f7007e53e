"""Issue 16, point 4: a task's own files (e.g. an entity linker's knowledge base of
hundreds of MB) whose sha256 matched the manifest are not read and hashed again by
the next load of the same model in this process (or in a worker forked from it),
while they stay the same file; a file changed since, or too recently changed to
tell, is hashed again."""

import json
import os
import sys
import time
import types
from pathlib import Path

import pytest

from arch_tok2vec import ModelFileError, load, model_files, verified_files

sys.path.insert(0, str(Path(__file__).parent))
from folder_task import trained  # noqa: E402

TABLE = b"0123456789" * 100


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    out = tmp_path_factory.mktemp("trained")
    trained(out)
    return out / "model-last"


@pytest.fixture
def with_table(saved, tmp_path, monkeypatch):
    """The case model saved again with a task file of its own, table.bin."""
    pipeline = load(saved)
    task_class = type(pipeline.task)
    read = []
    monkeypatch.setattr(
        task_class, "write_files", lambda self, path: (path / "table.bin").write_bytes(TABLE)
    )
    monkeypatch.setattr(
        task_class, "read_files", lambda self, path: read.append((path / "table.bin").read_bytes())
    )
    pipeline.to_disk(tmp_path / "model")
    verified_files.forget()
    return tmp_path / "model", read


class _Counting:
    """A sha256 that counts the bytes it hashes."""

    def __init__(self, counts, data=b""):
        import hashlib

        self.sha = hashlib.sha256(data)
        self.counts = counts
        counts.append(len(data))

    def update(self, data):
        self.counts.append(len(data))
        self.sha.update(data)

    def hexdigest(self):
        return self.sha.hexdigest()


def _hashed_by_load(folder, monkeypatch):
    """The bytes the manifest check hashes while loading ``folder``."""
    counts = []
    fake = types.SimpleNamespace(sha256=lambda *data: _Counting(counts, *data))
    with monkeypatch.context() as patch:
        patch.setattr(model_files, "hashlib", fake)
        load(folder)
    return sum(counts)


def test_a_verified_task_file_is_not_hashed_again(with_table, monkeypatch):
    folder, read = with_table
    monkeypatch.setattr(verified_files, "RACY_SECONDS", 0)
    first = _hashed_by_load(folder, monkeypatch)
    assert verified_files.checksum(os.stat(folder / "table.bin")) is not None
    second = _hashed_by_load(folder, monkeypatch)
    assert first - second == len(TABLE)
    assert read == [TABLE, TABLE]  # the task still reads its file
    # changed in place, same size: another identity, hashed again, refused
    time.sleep(0.05)  # past the clock tick of the file's last write
    (folder / "table.bin").write_bytes(TABLE[::-1])
    with pytest.raises(ModelFileError, match="table.bin: its checksum differs"):
        load(folder)
    # a file whose checksum does not match is never recorded
    assert verified_files.checksum(os.stat(folder / "table.bin")) is None


def test_a_file_changed_too_recently_is_not_recorded(with_table):
    """A file changed within RACY_SECONDS of its hashing could change again in the same
    clock tick without its times changing: it is hashed on every load."""
    folder, _ = with_table
    assert verified_files.RACY_SECONDS >= 1
    load(folder)  # table.bin was written a moment ago
    assert verified_files.checksum(os.stat(folder / "table.bin")) is None
    old = time.time() - 10
    os.utime(folder / "table.bin", (old, old))  # the status change time is still now
    load(folder)
    assert verified_files.checksum(os.stat(folder / "table.bin")) is None


def test_record_needs_the_same_file_before_and_after(tmp_path):
    path = tmp_path / "file"
    path.write_bytes(b"a")
    before = os.stat(path)
    started = before.st_ctime_ns + 3 * 10**9  # as if hashed three seconds later
    assert verified_files.record(before, before, "0" * 64, started)
    assert verified_files.checksum(before) == "0" * 64
    verified_files.forget()
    time.sleep(0.05)
    path.write_bytes(b"b")
    assert not verified_files.record(before, os.stat(path), "0" * 64, started)
    assert verified_files.checksum(before) is None


def test_the_manifest_still_lists_and_checks_the_file(with_table):
    folder, _ = with_table
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["files"]["table.bin"]["size"] == len(TABLE)
    (folder / "table.bin").write_bytes(TABLE[:-1])
    with pytest.raises(ModelFileError, match="table.bin: has 999 bytes"):
        load(folder)
