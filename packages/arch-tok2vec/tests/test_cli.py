import shutil
import subprocess
import sys
import textwrap

import pytest

from arch_tok2vec import __version__
from arch_tok2vec.cli import main

GOOD = """
[model]
@architectures = "spacy.HashEmbedCNN.v1"
pretrained_vectors = null
width = 16
depth = 2
embed_size = 100
window_size = 1
maxout_pieces = 3
subword_features = true
"""

MISMATCH = """
[model]
@architectures = "spacy.MultiHashEmbed.v1"
width = 8
attrs = ["NORM", "PREFIX", "SHAPE"]
rows = [100, 50]
include_static_vectors = false
"""


@pytest.fixture
def config(tmp_path):
    def write(text):
        path = tmp_path / "model.cfg"
        path.write_text(textwrap.dedent(text))
        return path

    return write


def test_archs_is_installed_and_lists_our_names():
    exe = shutil.which("archs") or str(__import__("pathlib").Path(sys.executable).parent / "archs")
    result = subprocess.run([exe, "list"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    lines = [line.split() for line in result.stdout.splitlines()]
    for name in ("spacy.HashEmbedCNN.v1", "spacy.CharEmbed.v1", "arch.BiLSTMEncoder.v1"):
        assert [name, "arch-tok2vec", __version__] in [row[1:4] for row in lines]


def test_info_shows_parameters_and_descriptions(capsys):
    assert main(["info", "spacy.MultiHashEmbed.v1"]) == 0
    out = capsys.readouterr().out
    assert "arch-tok2vec" in out
    assert "rows" in out and "The number of rows of each attribute's table" in out


def test_info_unknown_name(capsys):
    assert main(["info", "HashEmbed"]) == 1
    err = capsys.readouterr().err
    assert "no registered function" in err and "spacy.HashEmbedCNN.v1" in err


def test_build_prints_tree_and_parameter_count(config, capsys):
    assert main(["build", str(config(GOOD))]) == 0
    out = capsys.readouterr().out
    assert "43 nodes" in out and "hashembed" in out and "E(100, 16)" in out
    assert "output: list of 5 arrays (float32)" in out


def test_build_applies_overrides(config, capsys):
    assert main(["build", str(config(GOOD)), "--model.width", "24"]) == 0
    assert "E(100, 24)" in capsys.readouterr().out


@pytest.mark.parametrize(
    "text,override,needle",
    [
        (GOOD, ["--model.width", "0"], "[model] width = 0: width must be a positive integer"),
        (MISMATCH, [], "rows and attrs must have the same length"),
        (GOOD, ["--model.maxout_pieces", "0"], "maxout_pieces must be a positive integer"),
        (GOOD.replace("HashEmbedCNN", "HashEmbedCNNN"), [], "spacy.HashEmbedCNNN.v1"),
        (GOOD.replace("depth = 2", ""), [], "depth"),
    ],
)
def test_build_bad_config_exits_nonzero_naming_the_setting(config, text, override, needle):
    exe = str(__import__("pathlib").Path(sys.executable).parent / "archs")
    result = subprocess.run(
        [exe, "build", str(config(text)), *override], capture_output=True, text=True
    )
    assert result.returncode == 1
    assert needle in result.stderr
    assert "Traceback" not in result.stderr


def test_build_missing_file(tmp_path, capsys):
    assert main(["build", str(tmp_path / "nope.cfg")]) == 1
    assert "config file not found" in capsys.readouterr().err
