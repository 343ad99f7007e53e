"""The tagging task: CoNLL-U corpora, training with ``archs train``, evaluation."""

from pathlib import Path

import pytest
from thinc.api import Config

from arch_tagger.task import TaggerTask
from arch_tok2vec import CorpusError, load, registry
from arch_tok2vec.cli import main
from arch_tok2vec.training import train

CONFIG = Path(__file__).resolve().parents[3] / "configs" / "tagger.cfg"


def quick_config(**training):
    config = Config().from_disk(CONFIG)
    config["model"]["tok2vec"].update({"width": 32, "embed_size": 500})
    config["training"].update({"max_epochs": 12, "patience": 0, **training})
    return config


def test_task_is_registered():
    task = registry.tasks.get("arch.tagger.v1")(column="xpos")
    assert isinstance(task, TaggerTask) and task.column == "xpos"
    with pytest.raises(ValueError, match="column must be one of upos, xpos"):
        registry.tasks.get("arch.tagger.v1")(column="lemma")


SAVED = {"column": "upos", "labels": ["DET", "NOUN", "VERB"]}


@pytest.mark.parametrize(
    "key, value, message",
    [
        ("column", 5, "column must be one of upos, xpos, got 5"),
        ("column", "lemma", "column must be one of upos, xpos, got 'lemma'"),
        ("column", None, "column must be one of upos, xpos, got None"),
        ("labels", "DET", "labels must be a list of labels, got 'DET'"),
        ("labels", ["DET", "DET"], r"labels\[1\] repeats the label 'DET'"),
        ("labels", ["DET", ""], r"labels\[1\] must be a non-empty string, got ''"),
        ("labels", ["DET", 5], r"labels\[1\] must be a non-empty string, got 5"),
    ],
)
def test_from_dict_refuses_values_of_the_wrong_kind(key, value, message):
    """task.json's values are checked, not kept as they are (a crafted folder rewrites its
    manifest to match: tests/test_model_corruption.py loads such folders); the message
    starts with the key, which arch_tok2vec.load names."""
    assert TaggerTask().from_dict(SAVED).to_dict() == SAVED
    with pytest.raises(ValueError, match=f"^{message}"):
        TaggerTask().from_dict({**SAVED, key: value})


def test_sample_corpus_trains_above_baseline(tmp_path):
    result = train(quick_config(), tmp_path, log=lambda s: None, progress=False)
    assert result.epochs[-1].loss < result.epochs[0].loss
    # The majority tag (NOUN) covers under a third of the sample's dev tokens.
    assert result.best_score > 0.6
    tagger = load(tmp_path / "model-best")
    (tags,) = tagger(["The chef opened the old shop ."])
    assert len(tags) == 7 and tags[0] == "DET"


def test_reads_ud_ewt_with_mwt_and_empty_nodes(data_dir):
    examples = TaggerTask("upos").read(data_dir / "ud_english_ewt" / "en_ewt-ud-dev.conllu")
    assert len(examples) == 2001 and sum(len(eg.doc) for eg in examples) == 25147
    xpos = TaggerTask("xpos").read(data_dir / "ud_english_ewt" / "en_ewt-ud-dev.conllu")
    assert {tag for eg in xpos for tag in eg.gold["tags"]} >= {"NN", "VBD", "-LRB-"}


def test_archs_train_and_evaluate_on_ud_ewt(data_dir, tmp_path, capsys):
    """A slice of UD English EWT through the command line."""
    ewt = data_dir / "ud_english_ewt"
    train_file = tmp_path / "train.conllu"
    dev_file = tmp_path / "dev.conllu"
    train_file.write_text(_first_sentences(ewt / "en_ewt-ud-train.conllu", 1000))
    dev_file.write_text(_first_sentences(ewt / "en_ewt-ud-dev.conllu", 300))
    args = ["train", str(CONFIG), "--output", str(tmp_path / "out")]
    args += ["--paths.train", str(train_file), "--paths.dev", str(dev_file)]
    args += ["--training.max_epochs", "3", "--model.tok2vec.width", "48"]
    assert main(args) == 0
    assert "saved" in capsys.readouterr().out
    assert main(["evaluate", str(tmp_path / "out" / "model-best"), str(dev_file)]) == 0
    out = capsys.readouterr().out
    accuracy = float(
        next(line.split()[1] for line in out.splitlines() if line.startswith("tag_acc"))
    )
    assert accuracy > 0.75


def _first_sentences(path, n):
    blocks = path.read_text(encoding="utf8").split("\n\n")
    return "\n\n".join(blocks[:n]) + "\n\n"


def test_bad_corpora_name_file_and_line(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["train", str(CONFIG), "--output", str(out), "--training.max_epochs", "1"]) == 0
    saved = (out / "model-best" / "model.bin").read_bytes()
    unknown = tmp_path / "unknown.conllu"
    unknown.write_text(
        "1\tHello\t_\tINTJ\tUH\t_\t_\t_\t_\t_\n2\tthere\t_\tXYZ\tRB\t_\t_\t_\t_\t_\n"
    )
    capsys.readouterr()
    assert main(["evaluate", str(out / "model-best"), str(unknown)]) == 1
    assert f"{unknown}, line 2: unknown tag 'XYZ'" in capsys.readouterr().err
    broken = tmp_path / "broken.conllu"
    broken.write_text("1\tHello\t_\tINTJ\n")
    # --overwrite: a run that fails on its corpus must still leave the saved models alone
    args = ["train", str(CONFIG), "--output", str(out), "--overwrite", "--paths.train", str(broken)]
    assert main(args + ["--paths.dev", str(broken)]) == 1
    assert f"{broken}, line 1: expected 10 tab-separated columns" in capsys.readouterr().err
    empty = tmp_path / "empty.conllu"
    empty.write_text("")
    assert main(args[:-1] + [str(empty), "--paths.dev", str(empty)]) == 1
    assert "no sentences found" in capsys.readouterr().err
    no_xpos = tmp_path / "no_xpos.conllu"
    no_xpos.write_text("1\tHello\t_\tINTJ\t_\t_\t_\t_\t_\t_\n")
    with pytest.raises(CorpusError, match="line 1: no XPOS tag"):
        TaggerTask("xpos").read(no_xpos)
    assert (out / "model-best" / "model.bin").read_bytes() == saved
