"""The text-classification task: corpora (JSONL, CSV, NLU++ JSON), training with
``archs train``, metrics and errors."""

import csv
import json
from pathlib import Path

import numpy
import pytest
from thinc.api import Config

from arch_textcat.task import TextcatTask, _auc
from arch_tok2vec import load, registry
from arch_tok2vec.cli import main
from arch_tok2vec.training import train

CONFIG = Path(__file__).resolve().parents[3] / "configs" / "textcat.cfg"


def test_task_is_registered():
    task = registry.tasks.get("arch.textcat.v1")(exclusive_classes=False, threshold=0.3)
    assert isinstance(task, TextcatTask) and not task.exclusive
    with pytest.raises(ValueError, match="threshold must be between 0 and 1"):
        registry.tasks.get("arch.textcat.v1")(threshold=1.5)


SAVED = {"labels": ["FOOD", "SPORT"], "exclusive_classes": True, "threshold": 0.5}


@pytest.mark.parametrize(
    "key, value, message",
    [
        ("labels", ["FOOD", "FOOD"], r"labels\[1\] repeats the label 'FOOD'"),
        ("labels", ["FOOD", 5], r"labels\[1\] must be a non-empty string, got 5"),
        ("labels", ["FOOD"], "labels must hold at least 2 labels when exclusive_classes is true"),
        ("exclusive_classes", 1, "exclusive_classes must be true or false, got 1"),
        ("exclusive_classes", "false", "exclusive_classes must be true or false, got 'false'"),
        ("threshold", 5, "threshold must be between 0 and 1, got 5"),
        ("threshold", 0.0, "threshold must be between 0 and 1, got 0.0"),
        ("threshold", float("nan"), "threshold must be between 0 and 1, got nan"),
        ("threshold", float("inf"), "threshold must be between 0 and 1, got inf"),
        ("threshold", "0.5", "threshold must be between 0 and 1, got '0.5'"),
    ],
)
def test_from_dict_refuses_values_of_the_wrong_kind(key, value, message):
    """task.json's values are checked, not converted or kept as they are (a crafted folder
    rewrites its manifest to match: tests/test_model_corruption.py loads such folders);
    the message starts with the key, which arch_tok2vec.load names."""
    assert TextcatTask().from_dict(SAVED).to_dict() == SAVED
    multi_label = {**SAVED, "labels": ["FOOD"], "exclusive_classes": False}
    assert TextcatTask().from_dict(multi_label).to_dict() == multi_label
    with pytest.raises(ValueError, match=f"^{message}"):
        TextcatTask().from_dict({**SAVED, key: value})


def test_sample_corpus_trains_and_reloads(tmp_path):
    result = train(Config().from_disk(CONFIG), tmp_path, log=lambda s: None, progress=False)
    assert result.epochs[-1].loss < result.epochs[0].loss
    # Three balanced labels: always predicting one gives macro F of about 0.17.
    assert result.best_score > 0.45
    model = load(tmp_path / "model-best")
    (scores,) = model(["Heavy snow and strong winds are expected tonight."])
    assert set(scores) == {"FOOD", "SPORT", "WEATHER"}
    assert abs(sum(scores.values()) - 1.0) < 1e-5


def test_banking77_csv_exclusive(data_dir, tmp_path, capsys):
    with (data_dir / "banking77" / "train.csv").open(encoding="utf8", newline="") as file:
        header, *rows = list(csv.reader(file))
    # 15 intents keep it quick: SparseLinear's weights grow with the label count and
    # Adam updates all of them at every step.
    intents = sorted({label for _, label in rows})[:15]
    rows = [row for row in rows if row[1] in intents]
    rng = numpy.random.default_rng(0)
    picked = [rows[i] for i in rng.permutation(len(rows))]
    cut = len(picked) * 4 // 5
    for name, part in (("train.csv", picked[:cut]), ("dev.csv", picked[cut:])):
        with (tmp_path / name).open("w", encoding="utf8", newline="") as file:
            csv.writer(file).writerows([header] + part)
    args = ["train", str(CONFIG), "--output", str(tmp_path / "out")]
    args += ["--paths.train", str(tmp_path / "train.csv"), "--paths.dev", str(tmp_path / "dev.csv")]
    args += ["--training.max_epochs", "5"]
    assert main(args) == 0
    capsys.readouterr()
    best = load(tmp_path / "out" / "model-best")
    dev = best.task.read(tmp_path / "dev.csv")
    # Labels absent from the small training slice are unknown to the model.
    known = [eg for eg in dev if set(eg.gold["cats"]) <= set(best.task.labels)]
    scores = best.evaluate([eg for eg in known if max(eg.gold["cats"].values()) == 1.0])
    # 15 intents: a constant guess is right under 10% of the time.
    assert scores["accuracy"] > 0.6


def test_cooking_jsonl_multilabel(data_dir, tmp_path):
    source = data_dir / "cooking_stackexchange"
    (tmp_path / "train.jsonl").write_text(
        "".join((source / "cooking-train.jsonl").read_text(encoding="utf8").splitlines(True)[:800])
    )
    (tmp_path / "dev.jsonl").write_text(
        "".join((source / "cooking-dev.jsonl").read_text(encoding="utf8").splitlines(True)[:400])
    )
    config = Config().from_disk(CONFIG)
    config["model"]["exclusive_classes"] = False
    config["task"]["exclusive_classes"] = False
    config["paths"] = {"train": str(tmp_path / "train.jsonl"), "dev": str(tmp_path / "dev.jsonl")}
    config["training"]["max_epochs"] = 8
    config["training"]["batcher"]["size"] = 4000  # about 32 of these long posts
    result = train(config, None, log=lambda s: None, progress=False)
    best = max(result.epochs, key=lambda e: e.scores["macro_f"]).scores
    assert best["macro_auc"] > 0.75  # a random scorer gets 0.5
    assert 0.0 <= best["accuracy"] <= 1.0 and len(best["per_label"]) == 11


def test_reads_nlupp_folds_with_globs(data_dir):
    task = TextcatTask(exclusive_classes=False)
    folder = data_dir / "nlupp" / "banking"
    examples = task.read(Path(f"{folder}/fold[0-9].json,{folder}/fold1[0-5].json"))
    assert len(examples) == 1658  # the README's count for folds 0-15
    assert any(not any(eg.gold["cats"].values()) for eg in examples)  # no intent at all
    assert max(sum(eg.gold["cats"].values()) for eg in examples) >= 2


def test_metrics():
    task = TextcatTask(exclusive_classes=False)
    task.labels = ["a", "b"]
    from arch_tok2vec import Doc, Example

    examples = [Example(Doc(["x"]), {"cats": {"a": 1.0, "b": 0.0}}) for _ in range(2)]
    examples += [Example(Doc(["y"]), {"cats": {"a": 0.0, "b": 1.0}})]
    predictions = [{"a": 0.9, "b": 0.1}, {"a": 0.4, "b": 0.7}, {"a": 0.2, "b": 0.8}]
    scores = task.score(examples, predictions)
    assert scores["accuracy"] == pytest.approx(2 / 3)
    assert scores["per_label"]["a"] == {"p": 1.0, "r": 0.5, "f": pytest.approx(2 / 3)}
    assert scores["micro_f"] == pytest.approx(2 * (2 / 3) * (2 / 3) / (4 / 3))
    assert _auc(numpy.array([0.1, 0.4, 0.35, 0.8]), numpy.array([0, 0, 1, 1], bool)) == 0.75
    assert _auc(numpy.array([0.5, 0.5]), numpy.array([0, 1], bool)) == 0.5


def test_bad_corpora_name_file_and_line(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["train", str(CONFIG), "--output", str(out), "--training.max_epochs", "1"]) == 0
    saved = (out / "model-best" / "model.bin").read_bytes()
    capsys.readouterr()
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"text": "ok", "cats": {"FOOD": 1.0, "SPORT": 0.0}}\n{"text": oops}\n')
    # --overwrite: a run that fails on its corpus must still leave the saved models alone
    base = ["train", str(CONFIG), "--output", str(out), "--overwrite", "--paths.dev", str(broken)]
    assert main(base + ["--paths.train", str(broken)]) == 1
    assert f"{broken}, line 2: invalid JSON" in capsys.readouterr().err
    multi = tmp_path / "multi.jsonl"
    multi.write_text(json.dumps({"text": "a", "cats": {"FOOD": 1.0, "SPORT": 1.0}}) + "\n")
    assert main(base[:-1] + [str(multi), "--paths.train", str(multi)]) == 1
    err = capsys.readouterr().err
    assert f"{multi}, line 1: exclusive_classes is true but this text has 2 positive labels" in err
    unknown = tmp_path / "unknown.csv"
    unknown.write_text("text,label\nhello there,FOOD\nwhat a match,TENNIS\n")
    assert main(["evaluate", str(out / "model-best"), str(unknown)]) == 1
    assert f"{unknown}, line 3: unknown label 'TENNIS'" in capsys.readouterr().err
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n")
    assert main(["evaluate", str(out / "model-best"), str(empty)]) == 1
    assert "the corpus is empty" in capsys.readouterr().err
    assert (out / "model-best" / "model.bin").read_bytes() == saved


def test_task_and_model_must_agree_on_exclusive_classes(tmp_path, capsys):
    args = ["train", str(CONFIG), "--task.exclusive_classes", "false"]
    args += ["--output", str(tmp_path / "out")]
    assert main(args + ["--training.max_epochs", "1"]) == 1
    err = capsys.readouterr().err
    assert "exclusive_classes disagrees between [task] (False) and [model] (True)" in err


# -- recipes (issue 15): dev_fraction, macro AUC selection -------------------------------

MULTILABEL = Path(__file__).resolve().parents[3] / "configs" / "textcat_multilabel.cfg"


def _banking77_slice(data_dir, path, step=8):
    """Every ``step``-th row of BANKING77 train.csv (its rows are grouped by intent, so
    every intent keeps about 1/step of its texts)."""
    with (data_dir / "banking77" / "train.csv").open(encoding="utf8", newline="") as file:
        header, *rows = list(csv.reader(file))
    with path.open("w", encoding="utf8", newline="") as file:
        csv.writer(file).writerows([header] + rows[::step])
    return path


def test_dev_fraction_holds_out_every_intent_in_proportion(data_dir, tmp_path):
    from collections import Counter

    from arch_tok2vec.holdout import hold_out

    task = TextcatTask()
    examples = task.read(_banking77_slice(data_dir, tmp_path / "slice.csv"))
    train_part, dev, how = hold_out(examples, 0.1, 0, task)
    counts = Counter(task.stratum(eg) for eg in examples)
    in_dev = Counter(task.stratum(eg) for eg in dev)
    assert len(counts) == 77 and len(dev) == round(len(examples) * 0.1)
    assert "stratified over 77 classes" in how
    assert all(in_dev[label] >= 1 for label, n in counts.items() if n >= 10)
    for label, n in counts.items():  # each intent gives its share, rounded
        assert int(n * 0.1) <= in_dev[label] <= int(n * 0.1) + 1
        assert in_dev[label] < n
    assert len(train_part) + len(dev) == len(examples)
    assert {id(eg) for eg in train_part}.isdisjoint(id(eg) for eg in dev)
    # the same seed holds out the same texts; another seed others
    again = [eg.gold["line"] for eg in hold_out(examples, 0.1, 0, task)[1]]
    assert again == [eg.gold["line"] for eg in dev]
    other = [eg.gold["line"] for eg in hold_out(examples, 0.1, 1, task)[1]]
    assert other != again


def test_banking77_trains_from_its_train_file_alone(data_dir, tmp_path, capsys):
    train_file = _banking77_slice(data_dir, tmp_path / "train.csv", step=20)
    args = ["train", str(CONFIG), "--output", str(tmp_path / "out"), "--paths.train"]
    args += [str(train_file), "--training.dev_fraction", "0.1", "--training.max_epochs", "2"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "held out as dev (dev_fraction 0.1, seed 0, stratified over 77 classes)" in out
    records = [json.loads(line) for line in (tmp_path / "out" / "train.jsonl").open()]
    assert [r["epoch"] for r in records] == [1, 2]
    assert records[-1]["scores"]["macro_auc"] > 0.6  # above chance after two epochs
    assert load(tmp_path / "out" / "model-best").meta["score_key"] == "macro_f"


def test_the_multilabel_config_selects_on_macro_auc(data_dir, tmp_path):
    source = data_dir / "cooking_stackexchange"
    for name, n in (("train", 400), ("dev", 300)):
        lines = (source / f"cooking-{name}.jsonl").read_text(encoding="utf8").splitlines(True)
        (tmp_path / f"{name}.jsonl").write_text("".join(lines[:n]), encoding="utf8")
    from arch_tok2vec.cli.common import load_config

    overrides = {
        "paths.train": str(tmp_path / "train.jsonl"),
        "paths.dev": str(tmp_path / "dev.jsonl"),
        "training.max_epochs": 6,
        "training.patience": 0,
    }
    config = load_config(MULTILABEL, overrides, training=True)
    result = train(config, tmp_path / "out", log=lambda s: None, progress=False)
    assert result.score_key == "macro_auc"
    records = [json.loads(line) for line in (tmp_path / "out" / "train.jsonl").open()]
    assert all(r["score"] == r["scores"]["macro_auc"] for r in records)
    best = max(records, key=lambda r: (r["score"], -r["step"]))
    meta = load(tmp_path / "out" / "model-best").meta
    assert meta["step"] == best["step"] and meta["scores"]["macro_auc"] == best["score"]
    assert best["score"] > 0.7  # a random scorer gets 0.5
