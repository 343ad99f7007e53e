"""Model folders as untrusted data (issue 14, findings 2 and 4): every file is
checksummed in manifest.json with the versions that wrote it and verified on load;
every failure names the file (and key or block); saves are atomic and a failed save
leaves the previous model loadable. Runs with arch-tok2vec alone (the test task is in
folder_task.py); tests/test_save_faults.py kills real training runs and
tests/test_model_corruption.py corrupts the folders of every family's task."""

import errno
import hashlib
import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy
import pytest
from thinc.api import Config

from arch_tok2vec import Pipeline, Task, load, registry
from arch_tok2vec.cli import main

sys.path.insert(0, str(Path(__file__).parent))
from folder_task import outputs, trained  # noqa: E402

FILES = ["config.cfg", "model.bin", "task.json", "meta.json", "manifest.json"]


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """A trained case model's folder (model-last), kept pristine: tests copy it."""
    out = tmp_path_factory.mktemp("trained")
    trained(out)
    return out / "model-last"


@pytest.fixture
def folder(saved, tmp_path):
    """A fresh copy of the saved folder."""
    copy = tmp_path / "model"
    copy.mkdir()
    for item in saved.iterdir():
        (copy / item.name).write_bytes(item.read_bytes())
    return copy


def refusal(path, **kwargs):
    """The error load(path) raises: a ModelFileError whose message starts with the
    file at fault."""
    with pytest.raises(ValueError) as info:
        load(path, **kwargs)
    assert type(info.value).__name__ == "ModelFileError", repr(info.value)
    return info.value


def assert_damaged(err, path):
    """``err`` says that the file ``path`` changed after it was saved."""
    assert str(err).startswith(f"{path}: "), str(err)
    assert "after it was saved" in str(err) or "checksum does not match" in str(err), str(err)


def resign(folder: Path) -> None:
    """Rewrite manifest.json to match the folder's files, as a crafted model would."""
    path = folder / "manifest.json"
    if not path.exists():
        return
    manifest = json.loads(path.read_text())
    manifest["files"] = {
        item.name: {
            "sha256": hashlib.sha256(item.read_bytes()).hexdigest(),
            "size": item.stat().st_size,
        }
        for item in sorted(folder.iterdir())
        if item.name != "manifest.json" and not item.name.startswith(".")
    }
    body = {k: v for k, v in manifest.items() if k != "sha256"}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    manifest["sha256"] = hashlib.sha256(text.encode("ascii")).hexdigest()
    path.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")


def edit_json(path: Path, change) -> None:
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data, indent=2) + "\n")


# -- what is saved ------------------------------------------------------------------


def test_manifest_lists_every_file_with_checksum_and_the_versions_that_wrote_it(saved):
    import thinc

    from arch_tok2vec import __version__

    manifest = json.loads((saved / "manifest.json").read_text())
    assert sorted(manifest["files"]) == sorted(set(FILES) - {"manifest.json"})
    for name, entry in manifest["files"].items():
        data = (saved / name).read_bytes()
        assert entry == {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
    written_by = manifest["written_by"]
    assert written_by["arch-tok2vec"] == __version__
    assert written_by["thinc"] == thinc.__version__
    assert written_by["numpy"] == numpy.__version__
    assert written_by["python"].startswith(f"{sys.version_info[0]}.{sys.version_info[1]}.")
    assert sorted(os.listdir(saved)) == sorted(FILES)  # no leftovers beside the files


# -- finding 4: nothing changed loads -----------------------------------------------


def test_flipped_bytes_in_any_file_are_refused_naming_the_file(saved, folder):
    """Finding 4: 15 of 60 random 4-byte flips in a model.bin changed predictions with
    no error. Now every flip in every file is refused, naming the file."""
    rng = numpy.random.default_rng(14)
    for name in FILES:
        original = (folder / name).read_bytes()
        for _ in range(12):
            data = bytearray(original)
            start = int(rng.integers(0, len(data) - 4))
            for i in range(start, start + 4):
                data[i] ^= int(rng.integers(1, 256))
            (folder / name).write_bytes(bytes(data))
            assert_damaged(refusal(folder), folder / name)
        (folder / name).write_bytes(original)
    assert numpy.array_equal(outputs(load(folder))[0], outputs(load(saved))[0])


def test_truncated_files_are_refused_naming_the_file(folder):
    for name in FILES:
        original = (folder / name).read_bytes()
        for keep in (0, len(original) // 2, len(original) - 1):
            (folder / name).write_bytes(original[:keep])
            assert_damaged(refusal(folder), folder / name)
        (folder / name).write_bytes(original)
    load(folder)


def test_reordered_labels_are_refused(folder):
    """Finding 4: labels reordered in task.json loaded and predicted differently."""
    edit_json(folder / "task.json", lambda data: data["labels"].reverse())
    assert str(refusal(folder)).startswith(f"{folder / 'task.json'}: its checksum differs")


def test_future_versions_are_refused_naming_the_package_versions_and_fix(folder):
    """Finding 4: a meta.json claiming a future version loaded without a word."""
    from arch_tok2vec import __version__

    edit_json(folder / "meta.json", lambda meta: meta.update(arch_tok2vec="99.0.0"))
    assert_damaged(refusal(folder), folder / "meta.json")
    resign(folder)  # a crafted folder: the claim is still refused, for what it says
    message = str(refusal(folder))
    assert message.startswith(f"{folder / 'meta.json'}, key 'arch_tok2vec': ")
    assert f"arch-tok2vec 99.0.0, newer than the arch-tok2vec {__version__}" in message
    assert "pip install -U 'arch-tok2vec>=99.0.0'" in message


@pytest.mark.parametrize(
    "package,version,refused",
    [
        ("arch-tok2vec", "99.0.0", "newer than the arch-tok2vec"),
        ("thinc", "9.0.0", "newer than the thinc"),
        ("thinc", "8.99.0", "newer than the thinc"),
        ("arch-nothing", "0.1.0", "arch-nothing 0.1.0, which is not installed here"),
        ("arch-tok2vec", "banana", "'banana' is not a version"),
        ("arch-tok2vec", "0.0.1", None),  # older: loads
        ("numpy", "99.0", None),  # recorded, not checked
        ("python", "3.99.0", None),
    ],
)
def test_versions_in_the_manifest_are_checked(folder, package, version, refused):
    edit_json(
        folder / "manifest.json", lambda manifest: manifest["written_by"].update({package: version})
    )
    assert "its own checksum does not match" in str(refusal(folder))
    resign(folder)
    if refused is None:
        load(folder)
        return
    message = str(refusal(folder))
    assert message.startswith(f"{folder / 'manifest.json'}, key 'written_by.{package}': ")
    assert refused in message


def test_a_newer_thinc_patch_release_is_accepted(folder):
    """thinc is compared by major.minor: it changes its serialization only there."""
    import thinc

    major, minor = thinc.__version__.split(".")[:2]
    edit_json(
        folder / "manifest.json",
        lambda manifest: manifest["written_by"].update(thinc=f"{major}.{minor}.999"),
    )
    resign(folder)
    load(folder)


@pytest.mark.parametrize(
    "change,key,says",
    [
        (lambda data: data.pop("labels"), "labels", "missing"),
        (lambda data: data.update(labels=5), "labels", "TypeError"),
        (lambda data: data.update(min_length="x"), "min_length", "ValueError"),
        (lambda data: data.update(min_length="1"), "min_length", "does not read this value"),
        (lambda data: data.update(min_length=True), "min_length", "does not read this value"),
        (lambda data: data.update(labels=[1, 2]), "labels.0", "does not read this value"),
    ],
)
def test_edited_task_json_names_the_file_and_key(folder, change, key, says):
    """Finding 4: an edited task.json gave bare KeyError/TypeError tracebacks. Even with
    a manifest made to match (a crafted folder), the error names task.json and the key."""
    edit_json(folder / "task.json", change)
    assert_damaged(refusal(folder), folder / "task.json")
    resign(folder)
    message = str(refusal(folder))
    assert message.startswith(f"{folder / 'task.json'}, key {key!r}: "), message
    assert says in message


class _Refusing(Task):
    """A task whose from_dict reads everything, then refuses with ``message``."""

    def __init__(self, message: str):
        self.message = message

    def from_dict(self, data):
        data["words"]["df"], data["moves"]["2"], data["labels"][1]
        raise ValueError(self.message)


@pytest.mark.parametrize(
    "message,key",
    [
        ("words.df must be counts", "words.df"),
        ("moves.2 (L) has an empty label", "moves.2"),
        ("labels.1 must be a non-empty string", "labels.1"),
        ("labels[1] must be a non-empty string", "labels"),
        ("words.nothing.here must be", "words"),
        ("moves.2.x must be", "moves.2"),
        ("labels.7 must be", "labels"),
        ("labels.0000000000001 must be", "labels"),
        ("something else went wrong", "labels"),  # no key first: the last one read
    ],
)
def test_a_task_error_names_the_nested_key_its_message_starts_with(tmp_path, message, key):
    """A family's from_dict names the entry at fault first in its message ("words.df must
    be ..."): load names the longest part of that path that task.json holds."""
    from arch_tok2vec.pipeline import _restore_task

    data = {"words": {"df": "AAAA"}, "moves": {"2": {"": 1}}, "labels": ["a", ""]}
    with pytest.raises(ValueError) as info:
        _restore_task(_Refusing(message), json.dumps(data).encode(), tmp_path / "task.json")
    assert str(info.value).startswith(f"{tmp_path / 'task.json'}, key {key!r}: "), info.value
    assert message in str(info.value)


@pytest.mark.parametrize(
    "text,says",
    [("[]", "must hold a JSON object"), ('{"labels": [', "not valid JSON"), ("\xff", "not UTF-8")],
)
def test_task_json_that_is_not_an_object_is_refused(folder, text, says):
    (folder / "task.json").write_text(text, encoding="latin-1")
    resign(folder)
    message = str(refusal(folder))
    assert message.startswith(f"{folder / 'task.json'}: ") and says in message


def test_damaged_model_bin_names_the_file(folder):
    """Finding 4: a corrupt model.bin gave "Unpack failed: incomplete input" without
    naming the file."""
    data = (folder / "model.bin").read_bytes()
    (folder / "model.bin").write_bytes(data[: len(data) // 2])
    assert_damaged(refusal(folder), folder / "model.bin")
    assert "cut short" in str(refusal(folder))
    resign(folder)
    message = str(refusal(folder))
    assert message.startswith(f"{folder / 'model.bin'}: cannot restore the weights: ")


def test_evaluate_prints_the_error_without_a_traceback(folder, tmp_path, capsys):
    corpus = tmp_path / "dev.txt"
    corpus.write_text("Bob saw the cat\n")
    assert main(["evaluate", str(folder), str(corpus)]) == 0
    capsys.readouterr()
    data = bytearray((folder / "model.bin").read_bytes())
    data[len(data) // 2] ^= 0xFF
    (folder / "model.bin").write_bytes(bytes(data))
    assert main(["evaluate", str(folder), str(corpus)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"error: {folder / 'model.bin'}: its checksum differs")
    assert "Traceback" not in err


# -- stored names, files and config references ----------------------------------------


@pytest.mark.parametrize(
    "name", ["../model.bin", "/etc/passwd", "sub/model.bin", "..", ".hidden", "a\\b", "c:x", ""]
)
def test_names_that_are_not_plain_are_refused(folder, name):
    def add(manifest):
        manifest["files"][name] = dict(manifest["files"]["meta.json"])

    edit_json(folder / "manifest.json", add)
    resign_manifest_only(folder)
    message = str(refusal(folder))
    assert message.startswith(f"{folder / 'manifest.json'}, key {'files.' + name!r}: ")


def resign_manifest_only(folder: Path) -> None:
    path = folder / "manifest.json"
    manifest = json.loads(path.read_text())
    body = {k: v for k, v in manifest.items() if k != "sha256"}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    manifest["sha256"] = hashlib.sha256(text.encode("ascii")).hexdigest()
    path.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")


def test_symbolic_links_and_unlisted_files_are_refused(folder, tmp_path):
    outside = tmp_path / "outside.bin"
    outside.write_bytes((folder / "model.bin").read_bytes())
    (folder / "model.bin").unlink()
    (folder / "model.bin").symlink_to(outside)
    assert str(refusal(folder)) == f"{folder / 'model.bin'}: is a symbolic link; " + (
        "the files of a model folder must be plain files"
    )
    (folder / "model.bin").unlink()
    (folder / "model.bin").write_bytes(outside.read_bytes())
    load(folder)
    (folder / "notes.txt").write_text("hello")
    assert str(refusal(folder)).startswith(f"{folder / 'notes.txt'}: is not listed in manifest")
    (folder / "notes.txt").unlink()
    (folder / ".DS_Store").write_text("hidden files are never read")
    load(folder)


CALLS = []


def side_effect(path: str = "") -> int:
    """A registered function that a config must not be able to reach on load (in a
    real registry it could read a file, as spacy.KBFromFile.v1 and readers do)."""
    CALLS.append(path)
    return 16


for _registry in ("misc", "readers", "assets", "optimizers"):
    getattr(registry, _registry).register("test.side_effect.v1", func=side_effect)


@pytest.mark.parametrize("registry_name", ["misc", "readers", "assets", "optimizers"])
def test_loaded_config_may_name_only_model_building_registries(folder, registry_name):
    """A reference to another registry, here giving the model's width, is refused
    naming config.cfg and the block, and the function is never called."""
    config = (folder / "config.cfg").read_text()
    assert "\nwidth = 16\n" in config
    config = config.replace("\nwidth = 16\n", "\n") + (
        f'\n[model.width]\n@{registry_name} = "test.side_effect.v1"\npath = "/etc/passwd"\n'
    )
    (folder / "config.cfg").write_text(config)
    resign(folder)
    CALLS.clear()
    message = str(refusal(folder))
    assert CALLS == []
    assert message.startswith(f"{folder / 'config.cfg'}, block [model.width]: @{registry_name}")
    assert "is not allowed in a model folder" in message


def test_task_block_must_name_a_task(folder):
    config = (folder / "config.cfg").read_text().replace("@tasks", "@architectures")
    (folder / "config.cfg").write_text(config)
    resign(folder)
    message = str(refusal(folder))
    assert message.startswith(f"{folder / 'config.cfg'}, block [task]: @architectures")


def test_a_config_that_could_not_be_loaded_is_not_saved(folder, tmp_path):
    pipeline = load(folder)
    config = Config().from_str(pipeline.config.to_str() + '\n[model.extra]\n@misc = "x.v1"\n')
    with pytest.raises(ValueError, match=r"cannot save \[model.extra\]: @misc = 'x.v1'"):
        Pipeline(config, pipeline.model, pipeline.task).to_disk(tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_folder_without_manifest_is_refused_unless_allowed(folder):
    from arch_tok2vec import __version__

    (folder / "manifest.json").unlink()
    edit_json(folder / "meta.json", lambda meta: meta.update(arch_tok2vec="0.0.1"))
    message = str(refusal(folder))
    assert message.startswith(f"{folder / 'manifest.json'}: missing")
    assert "allow_unverified=True" in message and "to_disk" in message
    with pytest.warns(UserWarning, match="read without any check"):
        pipeline = load(folder, allow_unverified=True)
    pipeline.to_disk(folder)
    assert (folder / "manifest.json").exists()
    # the version that wrote it now, not the one that wrote the folder it was loaded from
    assert json.loads((folder / "meta.json").read_text())["arch_tok2vec"] == __version__
    assert numpy.array_equal(outputs(load(folder))[1], outputs(pipeline)[1])


def test_task_files_are_in_the_manifest_and_verified(folder, tmp_path, monkeypatch):
    """A task's own files (e.g. a table to memory-map) travel in the folder, listed
    and verified like the pipeline's, and the task reads them on load."""
    pipeline = load(folder)
    task_class = type(pipeline.task)
    read = []
    monkeypatch.setattr(
        task_class, "write_files", lambda self, path: (path / "table.bin").write_bytes(b"1" * 99)
    )
    monkeypatch.setattr(
        task_class, "read_files", lambda self, path: read.append((path / "table.bin").read_bytes())
    )
    target = tmp_path / "with-table"
    pipeline.to_disk(target)
    manifest = json.loads((target / "manifest.json").read_text())
    assert manifest["files"]["table.bin"]["size"] == 99
    load(target)
    assert read == [b"1" * 99]
    (target / "table.bin").write_bytes(b"1" * 98 + b"2")
    assert str(refusal(target)).startswith(f"{target / 'table.bin'}: its checksum differs")
    monkeypatch.setattr(task_class, "write_files", lambda self, path: (path / "sub").mkdir())
    with pytest.raises(ValueError, match="'sub' in a model folder: not a plain file"):
        pipeline.to_disk(target)
    monkeypatch.setattr(
        task_class, "write_files", lambda self, path: (path / "task.json").write_text("{}")
    )
    with pytest.raises(ValueError, match="the task wrote task.json"):
        pipeline.to_disk(target)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


# -- finding 2: saving is atomic ------------------------------------------------------


def plain(step):
    """A step without the hidden folder it names (which differs from save to save)."""
    return re.sub(r" \.\S+\.new-\d+-[0-9a-f]{8}$", "", step)


def save_steps(pipeline, path):
    """The steps of a save of ``pipeline`` over a model folder at ``path``."""
    from arch_tok2vec import atomic_folder

    pipeline.to_disk(path)
    steps = []
    previous = atomic_folder.set_hook(steps.append)
    try:
        pipeline.to_disk(path)
    finally:
        atomic_folder.set_hook(previous)
    return steps


@pytest.mark.parametrize("use_exchange", [True, False])
def test_a_save_failing_at_any_step_keeps_the_previous_model(folder, tmp_path, use_exchange):
    """Finding 2: a full disk while saving left new config + old meta + truncated
    weights. An ENOSPC at any step before the swap leaves the previous model, whole."""
    from arch_tok2vec import atomic_folder

    before = outputs(load(folder))
    newer = trained(tmp_path / "newer", seed=1, epochs=3)
    assert not numpy.allclose(outputs(newer)[0], before[0])
    was_exchange = atomic_folder.use_exchange
    atomic_folder.use_exchange = use_exchange
    try:
        steps = save_steps(newer, tmp_path / "dry-run")
        failing = steps[: steps.index("swapped")]
        assert ("moved the previous folder aside" in failing) == (not use_exchange)
        assert len(failing) >= 10 and any(s.startswith("write model.bin") for s in failing)
        for step in failing:

            def full(done, step=step):
                if plain(done) == plain(step):
                    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

            previous = atomic_folder.set_hook(full)
            try:
                with pytest.raises(OSError) as info:
                    newer.to_disk(folder)
            finally:
                atomic_folder.set_hook(previous)
            assert info.value.errno == errno.ENOSPC
            assert str(info.value).startswith(f"[Errno 28] cannot save {folder}: No space left")
            assert str(info.value).endswith("the previous folder there is unchanged")
            after = outputs(load(folder))
            assert all(numpy.array_equal(a, b) for a, b in zip(before, after)), step
            assert sorted(os.listdir(folder)) == sorted(FILES)
            assert [p for p in folder.parent.iterdir() if p.name.startswith(".")] == [], step
        newer.to_disk(folder)
    finally:
        atomic_folder.use_exchange = was_exchange
    assert numpy.array_equal(outputs(load(folder))[0], outputs(newer)[0])


WRITE_FAILS = """
import resource, signal, sys
sys.path.insert(0, {tests!r})
import folder_task  # registers the test task
from arch_tok2vec import load
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
newer = load({newer!r})
soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
for limit in {limits!r}:
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, hard))
    try:
        newer.to_disk({target!r})
        print("saved")
    except OSError as err:
        print("failed:", err)
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
"""


@pytest.mark.skipif(sys.platform == "win32", reason="RLIMIT_FSIZE is POSIX")
def test_a_real_failing_write_keeps_the_previous_model(folder, tmp_path):
    """Finding 2 with a real failing write (the kernel refuses to grow a file past
    RLIMIT_FSIZE, part-way through, as with a full disk) at four points of the save:
    the previous model loads with identical predictions after each."""
    before = outputs(load(folder))
    trained(tmp_path / "newer", seed=1, epochs=3)
    sizes = {name: (folder / name).stat().st_size for name in ("task.json", "model.bin")}
    limits = [10, sizes["task.json"] + 1, 4096, sizes["model.bin"] // 2]
    script = WRITE_FAILS.format(
        tests=str(Path(__file__).parent),
        newer=str(tmp_path / "newer" / "model-last"),
        target=str(folder),
        limits=limits,
    )
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == len(limits) and all(line.startswith("failed:") for line in lines), lines
    assert all(f"cannot save {folder}: File too large" in line for line in lines), lines
    after = outputs(load(folder))
    assert all(numpy.array_equal(a, b) for a, b in zip(before, after))
    assert [p.name for p in folder.parent.iterdir() if p.name.startswith(".")] == []


def test_saving_over_a_folder_that_is_not_a_model_is_refused(folder, tmp_path):
    pipeline = load(folder)
    other = tmp_path / "documents"
    other.mkdir()
    (other / "thesis.tex").write_text("years of work")
    (other / "model.bin").write_text("not ours")
    with pytest.raises(FileExistsError, match=r"holds other things than a saved model \(thesis"):
        pipeline.to_disk(other)
    assert sorted(os.listdir(other)) == ["model.bin", "thesis.tex"]
    pipeline.to_disk(tmp_path / "empty")  # an empty or missing folder is fine
    (tmp_path / "empty2").mkdir()
    pipeline.to_disk(tmp_path / "empty2")
    pipeline.to_disk(folder)  # and so is a model folder


def test_leftovers_of_killed_saves_are_never_loaded_and_removed_by_the_next_save(folder):
    pipeline = load(folder)
    parent = folder.parent
    partial = parent / ".model.new-123-0123abcd"
    partial.mkdir()
    (partial / "model.bin").write_bytes(b"half")
    old = parent / ".model.old-123-89abcdef"
    old.mkdir()
    (old / "config.cfg").write_text("an older model")
    assert numpy.array_equal(outputs(load(folder))[0], outputs(pipeline)[0])
    pipeline.to_disk(folder)
    assert sorted(p.name for p in parent.iterdir()) == ["model"]


def test_a_missing_folder_is_loaded_from_the_complete_copy_a_save_left(folder):
    """With two renames (no atomic exchange) a save killed between them leaves the
    folder missing and the complete previous model beside it: load uses that."""
    before = outputs(load(folder))
    aside = folder.parent / ".model.old-4242-00ff00ff"
    folder.rename(aside)
    partial = folder.parent / ".model.new-4242-11ee11ee"
    partial.mkdir()
    (partial / "config.cfg").write_text("[model")
    with pytest.warns(
        UserWarning, match=r"is missing \(a save was interrupted\); loading \.model\.old"
    ):
        recovered = load(folder)
    assert numpy.array_equal(outputs(recovered)[0], before[0])
    recovered.to_disk(folder)
    assert sorted(p.name for p in folder.parent.iterdir()) == ["model"]


def test_exchange_swaps_two_folders_in_one_step(tmp_path):
    from arch_tok2vec.atomic_folder import exchange

    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "1").write_text("a")
    (tmp_path / "b").mkdir()
    if not exchange(tmp_path / "a", tmp_path / "b"):
        assert not sys.platform.startswith("linux"), "renameat2 should work on Linux"
        return
    assert os.listdir(tmp_path / "b") == ["1"] and os.listdir(tmp_path / "a") == []


def test_save_steps_flush_every_file_before_the_swap(folder, tmp_path):
    steps = save_steps(load(folder), tmp_path / "out")
    swapped = steps.index("swapped")
    for name in FILES:
        assert steps.index(f"wrote {name}") < swapped
    assert steps.index("synced the new folder") < swapped
    assert steps[-1] in ("synced the parent folder", "removed a leftover folder")
