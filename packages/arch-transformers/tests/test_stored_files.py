"""A model file is untrusted data: the Hugging Face files a TransformerModel's
bytes carry are restored into a temporary folder and nowhere else, no stored
file can make loading run code, and a crafted file is refused by name."""

import builtins
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Dict, List

import catalogue
import numpy
import pytest
import srsly
import torch
from thinc.api import Config

from arch_tok2vec import Doc, load, registry
from arch_tok2vec.pipeline import Pipeline
from arch_tok2vec.task import Task
from arch_transformers import TransformerModel, strided_spans
from arch_transformers.architectures.transformer import get_shim
from arch_transformers.hf import HFShim

DOCS = [Doc(["The", "cat", "sat", "on", "the", "mat", "."]), Doc(["A", "dog", "runs"])]
CRAFTED = "corrupt or crafted"


@pytest.fixture(scope="module")
def stored(tiny_bert) -> Dict[str, bytes]:
    """The files a real shim stores for the tiny BERT, by stored name."""
    model = TransformerModel(str(tiny_bert), strided_spans(5, 3))
    model.initialize()
    return srsly.msgpack_loads(get_shim(model).to_bytes())["files"]


@pytest.fixture
def sandbox(tmp_path, monkeypatch) -> Path:
    """tempfile's folder moved to tmp_path/sandbox/deep/temp, so that the shim's
    temporary folder, and anything a crafted name escapes to (``..``, ``../..``
    or an absolute path under tmp_path), lies inside tmp_path where the test sees it."""
    temp = tmp_path / "sandbox" / "deep" / "temp"
    temp.mkdir(parents=True)
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    return tmp_path


def snapshot(root: Path) -> List[str]:
    """Every path under root, with the size of each file."""
    found = []
    for path in sorted(root.rglob("*")):
        size = path.stat().st_size if path.is_file() else "dir"
        found.append(f"{path.relative_to(root).as_posix()} {size}")
    return found


def crafted(files: Dict[str, object]) -> bytes:
    return srsly.msgpack_dumps({"config": {}, "files": files})


def assert_refused(data: bytes, root: Path, *names: str) -> ValueError:
    """Loading data raises a ValueError naming every one of names and saying the
    model file is corrupt or crafted; nothing under root changed and the
    temporary folder is gone."""
    before = snapshot(root)
    shim = HFShim()
    with pytest.raises(ValueError) as err:
        shim.from_bytes(data)
    message = str(err.value)
    assert CRAFTED in message, message
    for name in names:
        assert repr(name) in message, message
    assert not shim.loaded
    assert snapshot(root) == before
    assert not any((root / "sandbox" / "deep" / "temp").iterdir())
    return err.value


def test_round_trip_restores_the_same_transformer(stored, sandbox, tiny_bert):
    model = TransformerModel(str(tiny_bert), strided_spans(5, 3))
    model.initialize()
    expected = model.predict(DOCS)
    before = snapshot(sandbox)
    fresh = TransformerModel(str(sandbox / "gone"), strided_spans(5, 3)).from_bytes(
        model.to_bytes()
    )
    for a, b in zip(expected, fresh.predict(DOCS)):
        assert numpy.array_equal(a.hidden, b.hidden)
    # the temporary folder is removed again; nothing else was written
    assert snapshot(sandbox) == before
    # what the shim stores: config, safetensors weights, tokenizer files; never a pickle
    assert "config.json" in stored and "model.safetensors" in stored
    assert all(name.endswith((".json", ".safetensors", ".txt")) for name in stored)


def test_a_sharded_model_round_trips(tiny_bert, sandbox, monkeypatch):
    """A large model is saved in shards with a safetensors index: all allowed."""
    model = TransformerModel(str(tiny_bert), strided_spans(5, 3))
    model.initialize()
    transformer = get_shim(model).transformer
    save = transformer.save_pretrained
    monkeypatch.setattr(
        transformer, "save_pretrained", lambda folder: save(folder, max_shard_size="40KB")
    )
    data = model.to_bytes()
    names = srsly.msgpack_loads(srsly.msgpack_loads(data)["shims"][1][0])["files"]
    assert "model.safetensors.index.json" in names
    assert sum(name.endswith(".safetensors") for name in names) > 1
    fresh = TransformerModel(str(sandbox / "gone"), strided_spans(5, 3)).from_bytes(data)
    for a, b in zip(model.predict(DOCS), fresh.predict(DOCS)):
        assert numpy.array_equal(a.hidden, b.hidden)


ESCAPING = [
    "../x.pth",  # into tempfile's folder, beside the shim's temporary folder
    "../../x.pth",
    "a/../../x.pth",
    "additional_chat_templates/../../x.json",
    "..",
    "../",
    "ABSOLUTE",  # replaced by an absolute path under tmp_path
]


@pytest.mark.parametrize("name", ESCAPING)
def test_a_name_that_leaves_the_folder_is_refused_and_nothing_is_written(stored, sandbox, name):
    if name == "ABSOLUTE":
        name = str(sandbox / "abs" / "x.pth")
    data = crafted({**stored, name: b"import os; os.mkdir('pwned')\n"})
    assert_refused(data, sandbox, name)
    assert not (sandbox / "sandbox" / "deep" / "x.pth").exists()
    assert not (sandbox / "abs").exists()


NOT_PLAIN = [
    "",
    ".",
    "./config.json",
    "a//b.json",
    "trailing/",
    "..\\x.json",
    "C:x.json",
    "c:\\x.json",
    "x\x00.json",
    "x\n.json",
    ".hidden.json",
    "-x.json",
    "con.json",
    "LPT1.txt",
    "sp ace.json",
    "caf\u00e9.json",
    "deep/er/x.json",
    "other/x.json",
    "additional_chat_templates/x.json",
    "x" * 300 + ".json",
]


@pytest.mark.parametrize("name", NOT_PLAIN)
def test_a_name_that_is_not_a_plain_file_name_is_refused(stored, sandbox, name):
    assert_refused(crafted({**stored, name: b"{}"}), sandbox, name)


def test_chat_templates_in_their_sub_folder_are_allowed(stored, sandbox):
    """The one sub-folder save_pretrained writes (a tokenizer's extra chat templates)."""
    files = {**stored, "additional_chat_templates/tool_use.jinja": b"{{ messages }}"}
    shim = HFShim().from_bytes(crafted(files))
    assert shim.loaded
    assert not any((sandbox / "sandbox" / "deep" / "temp").iterdir())


class MakesMarker:
    """Unpickling this creates a folder: a stand-in for any code a pickle may run."""

    def __init__(self, marker: Path):
        self.marker = str(marker)

    def __reduce__(self):
        return (os.mkdir, (self.marker,))


def pickled(marker: Path) -> bytes:
    path = marker.parent / "pickle.bin"
    torch.save({"embeddings.word_embeddings.weight": MakesMarker(marker)}, path)
    data = path.read_bytes()
    path.unlink()
    return data


@pytest.mark.parametrize("keep_safetensors", [True, False], ids=["beside", "instead"])
def test_a_planted_pickle_is_refused_and_never_unpickled(stored, sandbox, keep_safetensors):
    marker = sandbox / "pwned"
    files = dict(stored)
    if not keep_safetensors:
        del files["model.safetensors"]
    files["pytorch_model.bin"] = pickled(marker)
    err = assert_refused(crafted(files), sandbox, "pytorch_model.bin")
    assert "pickle" in str(err)
    assert not marker.exists()


@pytest.mark.parametrize("name", ["weights.pt", "x.pth", "data.pkl", "model.ckpt", "tf_model.h5"])
def test_other_pickle_or_code_kinds_are_refused(stored, sandbox, name):
    marker = sandbox / "pwned"
    assert_refused(crafted({**stored, name: pickled(marker)}), sandbox, name)
    assert not marker.exists()


@pytest.fixture
def answers_yes(sandbox, monkeypatch) -> List[str]:
    """A user who answers yes when transformers asks on the terminal whether to run
    a model's code; transformers' copy of such code goes under the sandbox. The
    prompts asked are collected in the returned list."""
    import transformers.dynamic_module_utils as dynamic

    asked: List[str] = []

    def say_yes(prompt: str = "") -> str:
        asked.append(prompt)
        return "y"

    monkeypatch.setattr(builtins, "input", say_yes)
    monkeypatch.setattr(dynamic, "HF_MODULES_CACHE", str(sandbox / "sandbox" / "modules"))
    monkeypatch.setattr(sys, "path", list(sys.path))
    return asked


@pytest.mark.parametrize("model_type", [True, False], ids=["bert", "no_model_type"])
def test_python_code_with_auto_map_is_refused_and_never_run(
    stored, sandbox, answers_yes, model_type
):
    marker = sandbox / "pwned"
    config = json.loads(stored["config.json"])
    if not model_type:
        del config["model_type"]
    config["auto_map"] = {"AutoConfig": "evil.EvilConfig", "AutoModel": "evil.EvilModel"}
    code = f"import os\nos.mkdir({str(marker)!r})\n".encode()
    files = {**stored, "config.json": json.dumps(config).encode(), "evil.py": code}
    err = assert_refused(crafted(files), sandbox, "evil.py")
    assert "code" in str(err)
    assert not marker.exists()
    assert answers_yes == []


def test_auto_map_without_code_neither_asks_nor_runs_anything(stored, sandbox, answers_yes):
    """A config that only names remote code (no known model_type): transformers
    would ask on the terminal whether to run it; we never ask, and refuse."""
    config = json.loads(stored["config.json"])
    del config["model_type"]
    config["auto_map"] = {"AutoConfig": "evil.EvilConfig", "AutoModel": "evil.EvilModel"}
    err = assert_refused(crafted({**stored, "config.json": json.dumps(config).encode()}), sandbox)
    assert "never runs code" in str(err)
    assert answers_yes == []


def test_a_name_stored_twice_is_refused(stored, sandbox):
    packer = srsly.msgpack.Packer(use_bin_type=True)
    pairs = list(stored.items()) + [("config.json", b"{}")]
    data = packer.pack_map_header(2) + packer.pack("config") + packer.pack({})
    data += packer.pack("files") + packer.pack_map_pairs(pairs)
    assert_refused(data, sandbox, "config.json")


def test_names_that_differ_only_in_case_are_refused(stored, sandbox):
    """On a case-insensitive disk the second would overwrite the first."""
    assert_refused(crafted({**stored, "CONFIG.json": b"{}"}), sandbox, "CONFIG.json")


def test_more_files_than_a_model_has_are_refused(stored, sandbox):
    files = {**stored, **{f"extra{i}.txt": b"" for i in range(2000)}}
    assert_refused(crafted(files), sandbox)


@pytest.mark.parametrize("value", ["text", 7, None, [1, 2]])
def test_file_data_that_is_not_bytes_is_refused(stored, sandbox, value):
    assert_refused(crafted({**stored, "vocab.txt": value}), sandbox, "vocab.txt")


@pytest.mark.parametrize(
    "message",
    [
        [1, 2],
        {"config": {}},
        {"files": {}},
        {"config": [], "files": {}},
        {"config": {}, "files": []},
    ],
)
def test_bytes_that_are_not_the_shims_message_are_refused(sandbox, message):
    assert_refused(srsly.msgpack_dumps(message), sandbox)


def test_bytes_that_are_not_msgpack_are_refused(sandbox):
    assert_refused(b"\xc1 not msgpack", sandbox)


def test_a_safetensors_index_naming_a_file_outside_is_refused(stored, sandbox):
    outside = sandbox / "outside.safetensors"
    outside.write_bytes(stored["model.safetensors"])
    index = {"metadata": {}, "weight_map": {"embeddings.word_embeddings.weight": str(outside)}}
    files = {**stored, "model.safetensors.index.json": json.dumps(index).encode()}
    assert_refused(crafted(files), sandbox, str(outside))


@pytest.mark.parametrize("key", ["vocab_file", "tokenizer_file"])
def test_a_tokenizer_config_naming_a_file_outside_is_refused(stored, sandbox, key):
    """transformers 4.x opened these settings of tokenizer_config.json verbatim."""
    outside = sandbox / "outside.json"
    outside.write_bytes(stored["tokenizer.json"])
    config = json.loads(stored["tokenizer_config.json"])
    config[key] = str(outside)
    files = {**stored, "tokenizer_config.json": json.dumps(config).encode()}
    assert_refused(crafted(files), sandbox, str(outside))


def test_files_that_do_not_load_are_refused(stored, sandbox):
    files = {**stored, "model.safetensors": b"not safetensors"}
    assert_refused(crafted(files), sandbox)


def test_saving_refuses_a_file_the_loader_would_refuse(tiny_bert, monkeypatch):
    """to_bytes never writes a model that from_bytes would refuse."""
    model = TransformerModel(str(tiny_bert), strided_spans(5, 3))
    model.initialize()
    transformer = get_shim(model).transformer
    save = transformer.save_pretrained

    def save_with_pickle(folder, **kwargs):
        save(folder, **kwargs)
        (Path(folder) / "training_args.bin").write_bytes(b"pickle")

    monkeypatch.setattr(transformer, "save_pretrained", save_with_pickle)
    with pytest.raises(ValueError, match="training_args.bin"):
        model.to_bytes()


PLAIN_TASK = "arch-transformers-tests.plain_task.v1"
MODEL_CONFIG = """
[task]
@tasks = "arch-transformers-tests.plain_task.v1"

[model]
@architectures = "spacy-transformers.TransformerModel.v1"
name = "{path}"

[model.get_spans]
@span_getters = "spacy-transformers.strided_spans.v1"
window = 5
stride = 3
"""


def test_loading_a_crafted_model_folder_writes_nothing_outside(tiny_bert, sandbox, monkeypatch):
    """arch_tok2vec.load (what archs evaluate calls) on a model folder whose
    model.bin carries a name escaping the temporary folder."""
    # a task with nothing to save, registered for this test alone (no family installed)
    monkeypatch.setitem(catalogue.REGISTRY, ("arch", "tasks", PLAIN_TASK), Task)
    config = Config().from_str(MODEL_CONFIG.format(path=tiny_bert))
    resolved = registry.resolve(config)
    model = resolved["model"]
    model.initialize()
    msg = srsly.msgpack_loads(model.to_bytes())
    shim_bytes = msg["shims"][1][0]
    files = srsly.msgpack_loads(shim_bytes)["files"]
    files["../../x.pth"] = b"import os; os.mkdir('pwned')\n"
    msg["shims"][1][0] = crafted(files)
    # saved as a crafted folder would be: its manifest (arch-tok2vec > 0.1.1) matches
    # the crafted model.bin, so the shim's own checks are what refuses it
    folder = sandbox / "model"
    with monkeypatch.context() as patch:
        patch.setattr(type(model), "to_bytes", lambda self: srsly.msgpack_dumps(msg))
        Pipeline(config, model, resolved["task"]).to_disk(folder)
    before = snapshot(sandbox)
    with pytest.raises(ValueError, match=CRAFTED) as err:
        load(folder)
    assert "'../../x.pth'" in str(err.value)
    assert snapshot(sandbox) == before


NO_NETWORK = """
import socket, sys
import srsly
from arch_transformers.hf import HFShim

attempts = []

def refuse(*args, **kwargs):
    attempts.append(args)
    raise OSError("network used")

socket.socket.connect = refuse
socket.create_connection = refuse
socket.getaddrinfo = refuse
shim = HFShim().from_bytes(sys.stdin.buffer.read())
assert shim.loaded, "not loaded"
print("attempts", len(attempts))
"""


def test_restoring_never_reaches_the_network(stored):
    """Without the offline switches the tests set, restoring still opens no
    connection and resolves no host name."""
    env = {k: v for k, v in os.environ.items() if not k.endswith("_OFFLINE")}
    done = subprocess.run(
        [sys.executable, "-c", NO_NETWORK],
        input=crafted(stored),
        capture_output=True,
        env=env,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    assert done.stdout.decode().split() == ["attempts", "0"]
