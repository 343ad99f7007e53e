"""spaCy's parser recipe (issue 15): batches of 1000 words, dev scored every N updates,
model-best chosen by 0.5 UAS + 0.5 LAS on real UD EWT, and the oracle cut of long
documents (update_with_oracle_cut_size)."""

import json
from pathlib import Path

import numpy
import pytest

from arch_parser.runtime import cut_batch, init_batch, oracle_sequence
from arch_parser.task import NerTask, ParserTask
from arch_tok2vec import load, registry
from arch_tok2vec.cli.common import load_config
from arch_tok2vec.training import train

CONFIGS = Path(__file__).resolve().parents[3] / "configs"

WORDS_1000 = {
    "@batchers": "spacy.batch_by_words.v1",
    "size": 1000,
    "tolerance": 0.2,
    "discard_oversize": False,
}


def _sentences(path, n):
    """The first n sentences of a CoNLL-U file."""
    blocks = path.read_text(encoding="utf8").split("\n\n")
    return "\n\n".join(blocks[:n]) + "\n\n"


def test_spacy_s_parser_recipe_trains_on_ewt(data_dir, tmp_path):
    ewt = data_dir / "ud_english_ewt"
    (tmp_path / "train.conllu").write_text(_sentences(ewt / "en_ewt-ud-train.conllu", 450))
    (tmp_path / "dev.conllu").write_text(_sentences(ewt / "en_ewt-ud-dev.conllu", 100))
    config = load_config(CONFIGS / "parser.cfg", {}, training=True).interpolate()
    config["paths"] = {"train": str(tmp_path / "train.conllu"), "dev": str(tmp_path / "dev.conllu")}
    config["task"]["update_with_oracle_cut_size"] = 100
    training = config["training"]
    del training["batch_size"]
    training["batcher"] = dict(WORDS_1000)
    training.update(
        max_epochs=3,
        max_seconds=0,
        patience=0,
        eval_frequency=4,
        score_weights={"uas": 0.5, "las": 0.5},
    )
    lines = []
    result = train(config, tmp_path / "out", log=lines.append, progress=False)
    records = [json.loads(line) for line in (tmp_path / "out" / "train.jsonl").open()]
    # an evaluation every 4 updates and one at the end; batches of at most 1000 words
    # (1200 with the overflow of an epoch's last batch)
    words = sum(len(eg.doc) for eg in ParserTask().read(tmp_path / "train.conllu"))
    steps = [r["step"] for r in records]
    assert steps[:-1] == list(range(4, steps[-1], 4)) and steps[-1] == result.epochs[-1].step
    assert records[-1]["epoch"] == 3 and records[-1]["words"] == 3 * words
    assert 3 * words / 1000 <= steps[-1] <= 3 * (words / 500 + 1)
    for r in records:
        assert r["score"] == pytest.approx(0.5 * r["scores"]["uas"] + 0.5 * r["scores"]["las"])
    best = max(records, key=lambda r: (r["score"], -r["step"]))
    meta = load(tmp_path / "out" / "model-best").meta
    assert meta["step"] == best["step"] and meta["score"] == pytest.approx(best["score"])
    assert meta["selected_by"] == result.score_key == "0.5 uas + 0.5 las"
    # it learns: the first evaluation (4 updates) is near chance
    assert best["scores"]["uas"] > 0.4 and best["score"] > records[0]["score"] + 0.1
    assert "best dev 0.5 uas + 0.5 las" in lines[1]


def _parser_state():
    config = load_config(CONFIGS / "parser.cfg", {}, training=True).interpolate()
    built = registry.resolve({"task": config["task"], "model": config["model"]})
    task, model = built["task"], built["model"]
    train_examples, _ = task.sample()
    task.initialize(model, train_examples)
    return task, model, train_examples


def _follow_oracle(system, batch, max_moves=None):
    """The oracle's moves from the batch's states: one list per state."""
    history = [[] for _ in range(len(batch.offsets))]
    n = 0
    while not batch.is_done() and (max_moves is None or n < max_moves):
        if hasattr(batch, "move_validity"):
            move_valid = batch.move_validity()
            valid = move_valid[:, system.cls_move]
            costs = batch.costs(move_valid)
        else:
            valid = batch.valid()
            costs = batch.costs(valid)
        costs = numpy.where(valid, costs, numpy.inf)
        best = (costs <= costs.min(axis=1, keepdims=True)).argmax(axis=1)
        for row, clas in zip(batch.active.tolist(), best.tolist()):
            history[row].append(clas)
        batch.apply(best)
        n += 1
    return history


@pytest.mark.parametrize("max_moves", [7, 20, 1000])
def test_cut_segments_start_where_the_oracle_stands(max_moves):
    task, model, examples = _parser_state()
    moves = task.moves
    egs = sorted(examples, key=lambda eg: -len(eg.doc))[:5] + examples[:3]
    docs = [eg.doc for eg in egs]
    golds = [moves.gold_for(eg.gold["heads"], eg.gold["deps"]) for eg in egs]
    whole = init_batch(moves, docs, model)
    whole.set_gold(golds)
    sequences = oracle_sequence(moves, whole)
    batch, remap = cut_batch(moves, model, docs, golds, max_moves)
    # the segments' own oracle moves, M each, put end to end, are each doc's oracle
    segments = _follow_oracle(moves, batch, max_moves)
    assert len(segments) == sum((len(s) - 1) // max_moves + 1 for s in sequences)
    k = 0
    for sequence in sequences:
        rebuilt = []
        while len(rebuilt) < len(sequence):
            rebuilt += segments[k]
            k += 1
        assert rebuilt == sequence
    # token positions of segment states map onto their doc's rows of the real batch
    assert len(remap) == batch.N + 1 and remap[-1] == -1
    offsets = numpy.cumsum([0] + [len(doc) for doc in docs])
    assert set(remap[:-1].tolist()) == set(range(offsets[-1]))


def test_cut_context_tokens_are_those_of_the_whole_doc_at_the_same_move():
    task, model, examples = _parser_state()
    moves = task.moves
    eg = max(examples, key=lambda eg: len(eg.doc))
    gold = moves.gold_for(eg.gold["heads"], eg.gold["deps"])
    whole = init_batch(moves, [eg.doc], model)
    whole.set_gold([gold])
    (sequence,) = oracle_sequence(moves, whole)
    whole = init_batch(moves, [eg.doc], model)
    ids_along = []
    for clas in sequence:
        ids_along.append(whole.token_ids()[0])
        whole.apply(numpy.array([clas]))
    batch, remap = cut_batch(moves, model, [eg.doc], [gold], 9)
    starts = list(range(0, len(sequence), 9))
    assert batch.active.tolist() == list(range(len(starts)))
    ids = remap[batch.token_ids()]
    for i, start in enumerate(starts):
        assert ids[i].tolist() == ids_along[start].tolist()


def test_ner_cut_segments_follow_the_oracle():
    config = load_config(CONFIGS / "ner.cfg", {}, training=True).interpolate()
    built = registry.resolve({"task": config["task"], "model": config["model"]})
    task, model = built["task"], built["model"]
    examples, _ = task.sample()
    task.initialize(model, examples)
    from arch_parser.biluo import spans_to_biluo

    egs = sorted(examples, key=lambda eg: -len(eg.doc))[:4]
    docs = [eg.doc for eg in egs]
    golds = [task.moves.gold_for(spans_to_biluo(len(eg.doc), eg.gold["spans"])) for eg in egs]
    whole = init_batch(task.moves, docs, model)
    whole.set_gold(golds)
    sequences = oracle_sequence(task.moves, whole)
    batch, _ = cut_batch(task.moves, model, docs, golds, 6)
    segments = _follow_oracle(task.moves, batch, 6)
    assert len(segments) == sum((len(s) - 1) // 6 + 1 for s in sequences) > len(docs)
    rebuilt = [clas for segment in segments for clas in segment]
    assert rebuilt == [clas for sequence in sequences for clas in sequence]


@pytest.mark.parametrize("cls", [ParserTask, NerTask])
def test_a_bad_cut_size_is_refused(cls):
    with pytest.raises(ValueError, match="update_with_oracle_cut_size must be an integer >= 0"):
        cls(update_with_oracle_cut_size=-1)
    with pytest.raises(ValueError, match="update_with_oracle_cut_size must be an integer, got"):
        cls(update_with_oracle_cut_size=2.5)


def test_training_with_the_cut_learns_the_sample():
    """With cut 8 (segments of 4 to 15 moves, where whole docs need up to 50) the
    parser still learns the sample corpus."""
    config = load_config(CONFIGS / "parser.cfg", {}, training=True).interpolate()
    config["task"]["update_with_oracle_cut_size"] = 8
    config["training"].update(max_epochs=6, max_seconds=0, patience=0)
    result = train(config, None, log=lambda s: None, progress=False)
    assert result.epochs[-1].loss < result.epochs[0].loss
    assert result.best_score > 0.3
