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


def test_build_summary_is_one_line(config, capsys):
    assert main(["build", str(config(GOOD)), "--summary"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines() == [
        "model.cfg: spacy.HashEmbedCNN.v1, 43 nodes, 11,920 parameters; output list of 5 "
        "arrays (float32): (9, 16), (15, 16), (7, 16), ..."
    ]


def test_version_names_arch_tok2vec_and_the_installed_families(capsys):
    from importlib.metadata import version

    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"archs {__version__} (arch-tok2vec)"
    for line in lines[1:]:
        dist, installed = line.split()
        assert dist.startswith("arch-") and installed == version(dist)


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


# -- messages (issue 14, findings 7 and 9) --------------------------------------


def test_build_misspelled_architecture_suggests_the_close_name(config, capsys):
    assert main(["build", str(config(GOOD.replace("HashEmbedCNN", "HashEmbedCNNN")))]) == 1
    err = capsys.readouterr().err
    assert "[model] @architectures = 'spacy.HashEmbedCNNN.v1': no function" in err
    assert "Did you mean spacy.HashEmbedCNN.v1?" in err
    assert "spacy.MishWindowEncoder.v1" not in err  # no list of every name


def test_build_wrong_registry_says_which_one(config, capsys):
    text = GOOD.replace("@architectures", "@layers")
    assert main(["build", str(config(text))]) == 1
    err = capsys.readouterr().err
    assert "spacy.HashEmbedCNN.v1 is not in registry layers but in architectures" in err


def test_info_suggests_close_names(capsys):
    assert main(["info", "spacy.HashEmbedCN.v1"]) == 1
    assert "Did you mean spacy.HashEmbedCNN.v1?" in capsys.readouterr().err


class _EntryPointsWithout:
    """catalogue's view of the installed entry points, minus some (group, name) pairs."""

    def __init__(self, available, hidden):
        self.available = available
        self.hidden = hidden

    def select(self, group):
        if hasattr(self.available, "select"):
            found = self.available.select(group=group)
        else:  # Python 3.9: a dict of groups
            found = self.available.get(group, [])
        return [ep for ep in found if (group, ep.name) not in self.hidden]


def _uninstalled(monkeypatch, dist):
    """Make this process see ``dist`` as not installed (as after ``pip uninstall``):
    its entry points, its distribution and its version disappear."""
    from importlib.metadata import PackageNotFoundError, distribution

    import catalogue

    from arch_tok2vec import families, introspect

    try:
        hidden = {(ep.group, ep.name) for ep in distribution(dist).entry_points}
    except PackageNotFoundError:  # not installed in this session anyway
        hidden = set()
    kept = _EntryPointsWithout(catalogue.AVAILABLE_ENTRY_POINTS, hidden)
    monkeypatch.setattr(catalogue, "AVAILABLE_ENTRY_POINTS", kept)
    monkeypatch.setattr(families, "entry_points", kept.select)
    every = introspect.distributions
    monkeypatch.setattr(
        introspect, "distributions", lambda: [d for d in every() if d.metadata["Name"] != dist]
    )
    real = families.installed_version
    monkeypatch.setattr(families, "installed_version", lambda d: None if d == dist else real(d))


TAGGER = """
[model]
@architectures = "spacy.Tagger.v1"
nO = null

[model.tok2vec]
@architectures = "spacy.HashEmbedCNN.v1"
pretrained_vectors = null
width = 16
depth = 1
embed_size = 100
window_size = 1
maxout_pieces = 2
subword_features = true
"""


def test_a_name_whose_family_is_not_installed_says_what_to_install(config, monkeypatch, capsys):
    _uninstalled(monkeypatch, "arch-tagger")
    install = "spacy.Tagger.v1 is provided by arch-tagger, which is not installed: "
    install += "pip install arch-tagger"
    assert main(["build", str(config(TAGGER))]) == 1
    assert f"[model] @architectures = 'spacy.Tagger.v1': {install}" in capsys.readouterr().err
    assert main(["info", "spacy.Tagger.v1"]) == 1
    assert install in capsys.readouterr().err
    training = config(TAGGER + '\n[task]\n@tasks = "arch.tagger.v1"\n')
    assert main(["train", str(training), "--output", str(training.parent / "out")]) == 1
    assert install in capsys.readouterr().err
    training.write_text(GOOD + '\n[task]\n@tasks = "arch.tagger.v1"\n')
    assert main(["train", str(training), "--output", str(training.parent / "out")]) == 1
    err = capsys.readouterr().err
    assert "arch.tagger.v1 is provided by arch-tagger, which is not installed" in err


def test_a_close_name_of_a_family_not_installed_is_suggested(monkeypatch):
    from arch_tok2vec import registry
    from arch_tok2vec.families import UnknownNameError

    _uninstalled(monkeypatch, "arch-textcat")
    with pytest.raises(UnknownNameError) as err:
        registry.get("architectures", "spacy.TextCatBow.v1")
    assert "Did you mean spacy.TextCatBOW.v1 (from arch-textcat, not installed)?" in str(err.value)


def test_build_refuses_a_model_too_large_for_memory(config, capsys):
    assert main(["build", str(config(GOOD)), "--model.width", "1000000000"]) == 1
    err = capsys.readouterr().err
    assert "error: the model is too large" in err and "to initialize" in err
    assert "its size comes from [model] width = 1000000000" in err


def test_build_refuses_overrides_of_settings_the_config_lacks(config, capsys):
    path = config(GOOD + "\n[paths]\nvectors = null\n")
    assert main(["build", str(path), "--paths.vector", "x.bin"]) == 1
    assert "--paths.vector: [paths] has no setting 'vector'. Did you mean vectors?" in (
        capsys.readouterr().err
    )
    assert main(["build", str(path), "--model.dropout", "0.1"]) == 0  # a defaulted parameter
