"""The [training] recipe the way spaCy users write it (issue 15): batchers, eval_frequency,
score_weights, accumulate_gradient, dev_fraction, the default optimizer, the log
train.jsonl and ``archs evaluate --output``; driven by the capital task of
test_training.py."""

import json
import sys
from pathlib import Path

import numpy
import pytest
from thinc.api import Adam, Config

from arch_tok2vec import load, registry
from arch_tok2vec.accumulate import Deferred, subdivide
from arch_tok2vec.batchers import batch_by_sequence, batch_by_words
from arch_tok2vec.cli import main
from arch_tok2vec.families import entry_points
from arch_tok2vec.outputs import OutputExistsError
from arch_tok2vec.recipe import optimizer_block
from arch_tok2vec.settings import ConfigError
from arch_tok2vec.training import TrainingDiverged, train
from arch_tok2vec.training_log import read_log

sys.path.insert(0, str(Path(__file__).parent))

from test_training import CONFIG, WORDS, CapitalTask  # noqa: E402


class RecordingTask(CapitalTask):
    """The capital task, recording the optimizer each update gets and, at each
    evaluation, whether the model's weights are the optimizer's averages."""

    def __init__(self):
        self.optimizers = []
        self.learn_rates = []
        self.evaluated_averages = []
        self.batches = []

    def update(self, model, examples, sgd):
        self.optimizers.append(sgd)
        self.learn_rates.append(sgd.learn_rate)
        self.batches.append([len(eg.doc) for eg in examples])
        self.model = model
        return super().update(model, examples, sgd)

    def predict(self, model, docs):
        averages = getattr(self.optimizers[-1], "averages", None) if self.optimizers else None
        if averages:
            same = all(
                numpy.array_equal(node.get_param(name), averages[(node.id, name)])
                for node in model.walk()
                for name in node.param_names
                if (node.id, name) in averages
            )
            self.evaluated_averages.append(same)
        return super().predict(model, docs)


RECORDED = []


def recording_task():
    RECORDED.append(RecordingTask())
    return RECORDED[-1]


registry.tasks.register("test.recording.v1", func=recording_task)


def _config(text=CONFIG, **training):
    config = Config().from_str(text)
    config["training"].update(training)
    return config


def _quiet(config, output=None, **kwargs):
    return train(config, output, log=lambda line: None, progress=False, **kwargs)


def _recorded(config, output=None):
    config["task"] = {"@tasks": "test.recording.v1"}
    result = _quiet(config, output)
    return result, RECORDED[-1]


# -- batchers -----------------------------------------------------------------


class Item:
    def __init__(self, n):
        self.doc = ["w"] * n


def _sizes(batches):
    return [[len(item.doc) for item in batch] for batch in batches]


@pytest.mark.parametrize(
    "lengths,expected",
    [
        # fill to 1000; the overflow margin (up to 1200) holds the next items; the item
        # that fits in neither ends the batch, and the overflow starts the next one
        ([400, 400, 199], [[400, 400, 199]]),
        ([400, 400, 199, 3], [[400, 400, 199, 3]]),
        ([400, 400, 199, 3, 200], [[400, 400, 199], [3, 200]]),
        ([400, 400, 150, 300, 50], [[400, 400, 150], [300, 50]]),
        # longer than 1200 words: a batch of its own
        ([10, 1500, 20], [[1500], [10, 20]]),
        ([1201, 1], [[1201], [1]]),
        # 1200 waits in the overflow; the next item fits neither beside it nor after it
        ([1200, 1], [[1200], [1]]),
        ([1200, 1, 999], [[1200], [1, 999]]),
    ],
)
def test_batch_by_words_follows_spacy(lengths, expected):
    items = [Item(n) for n in lengths]
    assert _sizes(batch_by_words(items, 1000, 0.2, False)) == expected


def test_batch_by_words_discards_oversize_documents_when_asked():
    items = [Item(n) for n in [10, 1500, 20, 1201]]
    assert _sizes(batch_by_words(items, 1000, 0.2, True)) == [[10, 20]]


def test_batch_sizes_may_follow_a_schedule_across_calls():
    from thinc.api import compounding

    items = [Item(1) for _ in range(6)]
    sizes = compounding(1.0, 4.0, 2.0)  # 1, 2, 4, 4, ...
    assert [len(b) for b in batch_by_sequence(items, sizes)] == [1, 2, 3]
    assert [len(b) for b in batch_by_sequence(items, sizes)] == [4, 2]  # the schedule goes on


def test_the_batchers_are_arch_only_names():
    """Declared where arch's registry reads them and spaCy does not."""
    words = registry.batchers.get("spacy.batch_by_words.v1")
    assert words.__module__ == "arch_tok2vec.batchers"
    assert registry.batchers.get("spacy.batch_by_sequence.v1").__module__ == words.__module__
    ours = {ep.name for ep in entry_points(group="arch_batchers")}
    assert {"spacy.batch_by_words.v1", "spacy.batch_by_sequence.v1"} <= ours
    assert not {ep.name for ep in entry_points(group="spacy_batchers")} & ours


BY_WORDS = """
[training.batcher]
@batchers = "spacy.batch_by_words.v1"
size = 20
tolerance = 0.2
discard_oversize = false
"""


def test_training_batches_by_words():
    text = CONFIG.replace("batch_size = 8\n", "") + BY_WORDS
    result, task = _recorded(_config(text, max_epochs=1))
    # the capital corpus has 45 train docs of 8 words: 2 per batch (16 words), the third
    # fits in the 20% margin and waits for the next batch; the last batch takes it
    assert task.batches[:21] == [[8, 8]] * 21 and task.batches[21] == [8, 8, 8]
    assert result.epochs[-1].step == len(task.batches) == 22


def test_batch_size_and_a_batcher_together_are_refused():
    with pytest.raises(ConfigError, match="both batch_size and a \\[training.batcher\\]"):
        _quiet(_config(CONFIG + BY_WORDS))


def test_a_bad_batcher_setting_names_it(tmp_path, capsys):
    config = tmp_path / "words.cfg"
    text = CONFIG.replace("batch_size = 8\n", "") + BY_WORDS.replace("0.2", "-1")
    config.write_text(text)
    assert main(["train", str(config), "--output", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err
    assert "[training.batcher] tolerance = -1" in err and "must be a number >= 0" in err


# -- evaluation schedule, score weights, patience ------------------------------


def test_eval_frequency_scores_every_n_steps_and_at_the_end(tmp_path):
    result = _quiet(_config(max_epochs=2, eval_frequency=4), tmp_path)
    records = read_log(tmp_path / "train.jsonl")
    # 45 docs in batches of 8: 6 steps per epoch, 12 in all
    assert [r["step"] for r in records] == [4, 8, 12]
    assert [r["epoch"] for r in records] == [1, 2, 2]
    assert [e.step for e in result.epochs] == [4, 8, 12]
    assert load(tmp_path / "model-last").meta["step"] == 12


def test_score_weights_select_model_best_by_the_weighted_sum(tmp_path):
    class TwoScores(CapitalTask):
        metrics = ("acc", "inverse")

        def score(self, examples, predictions):
            scores = super().score(examples, predictions)
            return {**scores, "inverse": 1.0 - scores["acc"]}

    registry.tasks.register("test.two_scores.v1", func=TwoScores)
    config = _config(max_epochs=4, eval_frequency=2)
    config["task"] = {"@tasks": "test.two_scores.v1"}
    config["training"]["score_weights"] = {"acc": 0.25, "inverse": 0.75}
    lines = []
    result = train(config, tmp_path, log=lines.append, progress=False)
    records = read_log(tmp_path / "train.jsonl")
    for r in records:
        assert r["score"] == pytest.approx(
            0.25 * r["scores"]["acc"] + 0.75 * r["scores"]["inverse"]
        )
    best = max(records, key=lambda r: (r["score"], -r["step"]))
    assert [r["best"] for r in records].count(True) >= 1
    meta = load(tmp_path / "model-best").meta
    assert meta["step"] == best["step"] == result.best_step
    assert (
        meta["score"] == pytest.approx(best["score"])
        and result.score_key == "0.25 acc + 0.75 inverse"
    )
    # the weights make a model that learns less the best one
    assert best["scores"]["acc"] < max(r["scores"]["acc"] for r in records)
    assert "best dev 0.25 acc + 0.75 inverse" in lines[1]


@pytest.mark.parametrize(
    "weights,message",
    [
        (
            {"accc": 1.0},
            "'accc' is not a score of task capital. Did you mean acc? Its scores: acc.",
        ),
        ({"acc": "high"}, 'the weight of acc must be a number, got "high"'),
        ({"acc": 0}, "give at least one metric a nonzero weight"),
        ([1.0], "score_weights must be a table of metric = weight"),
    ],
)
def test_bad_score_weights_are_refused_before_training(weights, message):
    lines = []
    with pytest.raises(ConfigError) as err:
        train(_config(score_weights=weights), None, log=lines.append, progress=False)
    assert message in str(err.value)
    assert lines == []


def test_patience_counts_steps_with_eval_frequency():
    # acc reaches 1.0 early and cannot improve: stop 6 steps after the best evaluation
    result = _quiet(_config(max_epochs=50, eval_frequency=2, patience=6))
    assert result.stopped_because == "no better acc for 6 steps"
    assert result.epochs[-1].step - result.best_step == 6


# -- accumulate_gradient --------------------------------------------------------


def _weights(model):
    return [node.get_param(n).copy() for node in model.walk() for n in node.param_names]


def test_accumulated_gradients_make_the_same_step_as_the_whole_batch():
    """Two sub-batches of 4 summed, one Adam step: the weights of one update on
    the batch of 8 (the model has no batch-dependent layer; dropout is 0)."""
    _, whole = _recorded(_config(max_steps=3, eval_frequency=3))
    _, halves = _recorded(_config(max_steps=3, eval_frequency=3, accumulate_gradient=2))
    assert len(whole.optimizers) == 3 and len(halves.optimizers) == 6
    assert [len(b) for b in halves.batches[:2]] == [4, 4]
    for a, b in zip(_weights(whole.model), _weights(halves.model)):
        numpy.testing.assert_allclose(a, b, rtol=1e-3, atol=1e-4)


def test_subdivide_splits_as_spacy_does():
    items = [Item(n) for n in [5, 1, 4, 2, 3]]
    assert _sizes(subdivide(items, 2)) == [[1, 2], [3, 4], [5]]
    assert _sizes(subdivide(items[:1], 3)) == [[5]]


def test_deferred_keeps_gradients_a_shim_zeroes():
    """A PyTorch shim zeroes its gradient after each optimizer call: the kept copy
    still reaches the final step."""
    w1 = numpy.ones((3,), dtype="float32")
    w2 = w1.copy()
    g_a = numpy.array([0.1, -0.2, 0.3], dtype="float32")
    g_b = numpy.array([0.3, 0.1, -0.1], dtype="float32")
    one = Adam(0.1, use_averages=False)
    expected, _ = one(("k", "W"), w1, g_a + g_b)
    deferred = Deferred(Adam(0.1, use_averages=False))
    grad = g_a.copy()
    deferred(("k", "W"), w2, grad)
    grad[:] = 0  # what the shim does
    deferred.final = True
    got, _ = deferred(("k", "W"), w2, g_b.copy())
    numpy.testing.assert_allclose(got, expected)
    assert deferred.learn_rate == 0.1


# -- the optimizer --------------------------------------------------------------


def test_the_default_optimizer_is_spacys():
    no_block = Config().from_str(CONFIG)
    del no_block["training"]["optimizer"]
    partial = Config().from_str(CONFIG)
    for config in (no_block, partial):
        _, task = _recorded(config)
        sgd = task.optimizers[0]
        assert (sgd.L2, sgd.L2_is_weight_decay, sgd.grad_clip) == (0.01, True, 1.0)
        assert sgd.averages is None and (sgd.b1, sgd.b2, sgd.eps) == (0.9, 0.999, 1e-8)
    assert task.optimizers[0].learn_rate == 0.01  # the block's own setting wins
    other = {"@optimizers": "SGD.v1", "learn_rate": 0.1}
    assert optimizer_block({"training": {"optimizer": other}}) == other


def test_use_averages_scores_and_saves_the_averaged_weights(tmp_path):
    config = _config(max_epochs=2)
    config["training"]["optimizer"]["use_averages"] = True
    _, task = _recorded(config, tmp_path)
    assert task.evaluated_averages == [True, True]
    averages = task.optimizers[-1].averages
    saved = load(tmp_path / "model-last").model
    for ours, node in zip(saved.walk(), task.model.walk()):
        for name in node.param_names:
            numpy.testing.assert_array_equal(ours.get_param(name), averages[(node.id, name)])
            assert not numpy.array_equal(node.get_param(name), averages[(node.id, name)])


def test_learn_rate_schedules_advance_every_step():
    config = _config(max_steps=4)
    config["training"]["optimizer"]["learn_rate"] = {
        "@schedules": "decaying.v1",
        "base_rate": 0.01,
        "decay": 1.0,
    }
    _, task = _recorded(config)
    assert task.learn_rates == pytest.approx([0.01, 0.005, 0.01 / 3, 0.0025])


# -- dev_fraction ----------------------------------------------------------------


def _corpus(tmp_path, n=50):
    rng = numpy.random.default_rng(1)
    lines = [" ".join(WORDS[i] for i in rng.integers(0, len(WORDS), 6)) for _ in range(n)]
    (tmp_path / "train.txt").write_text("\n".join(lines) + "\n")
    return str(tmp_path / "train.txt")


def test_dev_fraction_holds_out_part_of_train(tmp_path):
    lines = []
    config = _config(max_epochs=1, dev_fraction=0.2)
    config["paths"]["train"] = _corpus(tmp_path)
    train(config, None, log=lines.append, progress=False)
    assert lines[0].startswith("task capital: 40 train / 10 dev docs from ")
    assert "(10 of 50 held out as dev (dev_fraction 0.2, seed 0))" in lines[0]


@pytest.mark.parametrize(
    "fraction,dev,message",
    [
        (1.0, None, "dev_fraction must be a number between 0 and 1"),
        (-0.1, None, "dev_fraction must be a number between 0 and 1"),
        (0.1, "dev.txt", "dev_fraction = 0.1 and [paths] dev = 'dev.txt' are both given"),
    ],
)
def test_bad_dev_fraction_is_refused(tmp_path, fraction, dev, message):
    config = _config(dev_fraction=fraction)
    config["paths"].update(train=_corpus(tmp_path), dev=dev)
    with pytest.raises(ConfigError) as err:
        _quiet(config)
    assert message in str(err.value)


def test_dev_fraction_needs_a_train_file():
    with pytest.raises(ConfigError, match="holds out part of \\[paths\\] train, which is null"):
        _quiet(_config(dev_fraction=0.1))


def test_train_without_dev_says_how_to_hold_out(tmp_path):
    config = _config()
    config["paths"]["train"] = _corpus(tmp_path)
    with pytest.raises(ValueError, match="set \\[training\\] dev_fraction to hold out"):
        _quiet(config)


# -- the log train.jsonl -----------------------------------------------------------


def test_the_log_has_one_record_per_evaluation(tmp_path):
    result = _quiet(_config(max_epochs=3), tmp_path)
    records = read_log(tmp_path / "train.jsonl")
    assert [r["epoch"] for r in records] == [1, 2, 3] and [r["step"] for r in records] == [
        6,
        12,
        18,
    ]
    assert [r["words"] for r in records] == [45 * 8, 90 * 8, 135 * 8]
    for record, evaluation in zip(records, result.epochs):
        assert set(record) == {
            "step", "epoch", "words", "loss", "score", "best", "scores",
            "words_per_second", "seconds",
        }  # fmt: skip
        assert record["loss"] == evaluation.loss  # full precision
        assert record["scores"] == evaluation.scores and record["score"] == evaluation.scores["acc"]
        assert record["words_per_second"] > 0 and record["seconds"] > 0
    assert [r["best"] for r in records] == [True, False, False]  # acc is 1.0 at once


def test_a_crash_keeps_the_lines_written(tmp_path):
    config = _config(max_epochs=5)
    config["task"] = {"@tasks": "test.sabotaged.v1", "nan_loss_at": 14}
    with pytest.raises(TrainingDiverged):
        _quiet(config, tmp_path)
    assert [r["step"] for r in read_log(tmp_path / "train.jsonl")] == [6, 12]


def test_overwrite_starts_a_new_log_and_the_folder_rule_names_the_log(tmp_path):
    _quiet(_config(max_epochs=3), tmp_path)
    with pytest.raises(OutputExistsError) as err:
        _quiet(_config(max_epochs=1), tmp_path)
    assert "train.jsonl (the log of 3 evaluations, the last at step 18)" in str(err.value)
    lines = []
    train(_config(max_epochs=1), tmp_path, overwrite=True, log=lines.append, progress=False)
    assert [r["step"] for r in read_log(tmp_path / "train.jsonl")] == [6]
    assert any("replaced the previous train.jsonl (the log of 3 evaluations" in x for x in lines)


def test_cli_train_says_where_the_log_is(tmp_path, capsys):
    config = tmp_path / "capital.cfg"
    config.write_text(CONFIG)
    assert main(["train", str(config), "--output", str(tmp_path / "out")]) == 0
    out = capsys.readouterr().out
    assert f"log: {tmp_path / 'out' / 'train.jsonl'} (6 evaluations)" in out


# -- archs evaluate --output ----------------------------------------------------------


def test_evaluate_writes_every_score_with_full_precision(tmp_path, capsys):
    (tmp_path / "dev.txt").write_text("The cat saw Bob\nAlice sat on a Mat in Paris\nthe a\n")
    _quiet(_config(max_epochs=1), tmp_path / "run")
    scores_file = tmp_path / "scores.json"
    model = tmp_path / "run" / "model-best"
    assert (
        main(["evaluate", str(model), str(tmp_path / "dev.txt"), "--output", str(scores_file)]) == 0
    )
    out = capsys.readouterr().out
    assert "metric" in out and "acc" in out and f"scores written to {scores_file}" in out
    written = json.loads(scores_file.read_text())
    pipeline = load(model)
    expected = pipeline.evaluate(pipeline.task.read(tmp_path / "dev.txt"))
    assert written["scores"] == expected  # every score, not rounded to 4 decimals
    assert (written["docs"], written["words"], written["task"]) == (3, 13, "capital")
    assert written["model"] == str(model)


def test_evaluate_output_that_cannot_be_written_is_an_error(tmp_path, capsys):
    (tmp_path / "dev.txt").write_text("The cat saw Bob\n")
    _quiet(_config(max_epochs=1), tmp_path / "run")
    target = tmp_path / "missing" / "scores.json"
    args = ["evaluate", str(tmp_path / "run" / "model-best"), str(tmp_path / "dev.txt")]
    assert main(args + ["--output", str(target)]) == 1
    assert f"cannot write {target}" in capsys.readouterr().err
