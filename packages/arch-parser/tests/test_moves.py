"""The arc-eager and BILUO transition systems on hand-made trees and entity
sequences, the gold oracle on real data, and (de)projectivisation."""

import numpy
import pytest

from arch_parser.arc_eager import ArcEager
from arch_parser.biluo import BiluoSystem, spans_to_biluo
from arch_parser.layers.transition_model import StateFeatures
from arch_parser.nonproj import (
    TreeError,
    check_tree,
    deprojectivize,
    is_nonproj_tree,
    projectivize,
)
from arch_parser.runtime import oracle_sequence
from arch_parser.task import NerTask, ParserTask

# "She ate green apples ." : ate is the root
TREE = ([1, 1, 3, 1, 1], ["nsubj", "root", "amod", "obj", "punct"])


def _system(trees=(TREE,)):
    return ArcEager.from_trees(list(trees))


def _batch(system, lengths, nF=8, trees=None):
    batch = system.init_batch(lengths, StateFeatures(nF))
    if trees is not None:
        batch.set_gold([system.gold_for(h, d) for h, d in trees])
    return batch


def _do(batch, system, *names):
    for name in names:
        batch.apply(numpy.array([system.names.index(name)] * len(batch.active)))


def _valid(batch, system):
    valid = batch.valid()[0]
    return {name for name, ok in zip(system.names, valid) if ok}


def _cost(batch, system, name):
    return float(batch.costs()[0, system.names.index(name)])


def test_class_order():
    system = ArcEager.from_trees(
        [([1, 1, 1], ["nsubj", "ROOT", "dobj"]), ([1, 1, 1], ["nsubj", "ROOT", "dobj"])]
    )
    assert system.names == ["S", "D", "L-nsubj", "L-dep", "R-dobj", "R-dep", "B-ROOT"]
    # ties in frequency: label descending
    system = ArcEager({0: {"": 1}, 1: {"": 1}, 2: {"a": 2, "b": 2, "c": 5}, 4: {"ROOT": 1}})
    assert system.names == ["S", "D", "L-c", "L-b", "L-a", "B-ROOT"]


def test_min_freq_keeps_shift_and_reduce():
    system = ArcEager.from_trees([TREE], min_freq=30)
    assert system.names[:2] == ["S", "D"]
    assert "L-nsubj" not in system.names and "L-dep" in system.names


def test_gold_oracle_reproduces_tree():
    system = _system()
    batch = _batch(system, [5], trees=[TREE])
    seq = oracle_sequence(system, batch)[0]
    assert [system.names[c] for c in seq] == [
        "S", "L-nsubj", "S", "S", "L-amod", "R-obj", "D", "R-punct", "D", "D",
    ]  # fmt: skip
    heads, labels = batch.result(0)
    assert heads == TREE[0]
    assert labels == ["nsubj", "ROOT", "amod", "obj", "punct"]


def test_validity_cases():
    system = _system()
    batch = _batch(system, [5], trees=[TREE])
    # empty stack: only shift (and break)
    assert _valid(batch, system) == {"S", "B-ROOT"}
    _do(batch, system, "S")
    assert {"S", "D", "B-ROOT"} <= _valid(batch, system)
    assert any(n.startswith("L-") for n in _valid(batch, system))
    # break marks B1 as a sentence start: then L/R/S at B0=B1 are invalid... after S
    _do(batch, system, "B-ROOT")  # token 2 starts a sentence now
    _do(batch, system, "S")  # push token 1: B0 = 2, a sentence start
    valid = _valid(batch, system)
    assert "S" not in valid and not any(n[0] in "LR" for n in valid)
    assert "D" in valid and "B-ROOT" in valid


def test_shift_invalid_with_one_word_left_and_unshift():
    system = _system()
    batch = _batch(system, [2])
    _do(batch, system, "S")
    assert "S" not in _valid(batch, system)  # buffer of 1 and a non-empty stack
    # reduce of a headless S0 deeper in the stack unshifts it
    batch = _batch(system, [4])
    _do(batch, system, "S", "S")
    assert batch.depth[0] == 2
    _do(batch, system, "D")  # token 1 has no head: back to the buffer, unshiftable
    assert batch.rdepth[0] == 1 and batch.unshiftable[1]
    assert batch.B[0][0] == 1 and "S" not in _valid(batch, system)
    _do(batch, system, "L-dep")  # 1 <- ... no: B0 = 1, S0 = 0: arc 1 -> 0
    assert batch.heads[0] == 1 and not batch.unshiftable[1]


def test_costs_shift_reduce_left_right_break():
    system = _system()
    batch = _batch(system, [5], trees=[TREE])
    # stack empty, B0 = She: shift is free, break wrong (no sentence start at ate)
    assert _cost(batch, system, "S") == 0
    assert _cost(batch, system, "B-ROOT") >= 1
    _do(batch, system, "S")
    # S0 = She, B0 = ate (She's head): left is free with the right label only
    assert _cost(batch, system, "L-nsubj") == 0
    assert _cost(batch, system, "L-dep") == 1
    # right arc She -> ate loses She's head: cost 1 (+0 label: ate's gold head is itself)
    assert _cost(batch, system, "R-dep") >= 1
    # shift loses the arc ate -> She
    assert _cost(batch, system, "S") == 1
    _do(batch, system, "L-nsubj", "S", "S")  # stack: ate green; B0 = apples
    assert _cost(batch, system, "L-amod") == 0
    assert _cost(batch, system, "R-dep") == 2  # green's head is apples, and apples's is ate
    _do(batch, system, "L-amod")
    assert _cost(batch, system, "R-obj") == 0 and _cost(batch, system, "R-dep") == 1
    assert _cost(batch, system, "D") >= 1  # popping ate loses apples and punct
    _do(batch, system, "R-obj")
    assert _cost(batch, system, "D") == 0  # apples is done
    assert _cost(batch, system, "R-punct") == 1  # punct's head is ate, not apples


def test_costs_are_9000_when_invalid_and_zero_cost_move_exists():
    system = _system()
    egs = [([1, 1, 3, 1, 1], TREE[1]), ([2, 2, 2], ["det", "amod", "root"])]
    batch = _batch(system, [5, 3], trees=egs)
    while not batch.is_done():
        costs = batch.costs()
        valid = batch.valid()
        assert (costs[~valid] == 9000).all()
        assert ((costs <= 0) & valid).any(axis=1).all()
        # follow a random valid move: a zero-cost move must still exist (dynamic oracle)
        rng = numpy.random.default_rng(len(batch.active))
        choice = [rng.choice(numpy.flatnonzero(row)) for row in valid]
        batch.apply(numpy.array(choice))


def test_context_tokens_match_spec():
    """Spec 4.6: after S,S,L-x,S,R-y,R-z on a 6-token doc at offset 3."""
    system = ArcEager({0: {"": 1}, 1: {"": 1}, 2: {"x": 1}, 3: {"y": 2, "z": 1}, 4: {"ROOT": 1}})
    for nF, expected in [
        (8, [8, -1, 7, 6, 5, -1, -1, -1]),
        (13, [8, -1, 7, 6, 5, -1, -1, -1, -1, -1, -1, 7, -1]),
        (1, [8]),
        (2, [8, 7]),
    ]:
        batch = system.init_batch([3, 6], StateFeatures(nF))
        _do(batch, system, "S", "S", "L-x", "S", "R-y", "R-z")
        assert batch.token_ids()[-1].tolist() == expected


def test_empty_docs_are_final():
    system = _system()
    batch = _batch(system, [0, 3, 0])
    assert batch.active.tolist() == [1]
    assert batch.result(0) == ([], [])


def test_oracle_on_all_ewt_dev(data_dir):
    task = ParserTask(min_action_freq=0)
    examples = task.read(data_dir / "ud_english_ewt" / "en_ewt-ud-dev.conllu")
    trees = [(eg.gold["heads"], eg.gold["deps"]) for eg in examples]
    system = ArcEager.from_trees(trees)
    batch = _batch(system, [len(h) for h, _ in trees], trees=trees)
    oracle_sequence(system, batch)
    projective = exact = nonproj_restored = 0
    for s, (heads, labels) in enumerate(trees):
        got_heads, got_labels = batch.result(s)
        got_labels = ["root" if label == "ROOT" else label for label in got_labels]
        if not is_nonproj_tree(heads):
            projective += 1
            exact += got_heads == heads and got_labels == labels
        else:
            back = deprojectivize(got_heads, got_labels)
            nonproj_restored += back == (list(heads), list(labels))
    assert projective > 1900
    assert exact == projective
    assert nonproj_restored >= 20


def test_projectivize_round_trip():
    # 0 <- 2 is crossed by 1 -> 3 (non-projective)
    heads = [2, 2, 2, 1]
    labels = ["a", "b", "root", "c"]
    assert is_nonproj_tree(heads)
    proj, deco = projectivize(heads, labels)
    assert not is_nonproj_tree(proj)
    assert proj == [2, 2, 2, 2] and deco == ["a", "b", "root", "c||b"]
    assert deprojectivize(proj, deco) == (heads, labels)
    # projective trees are unchanged
    assert projectivize(TREE[0], TREE[1]) == (TREE[0], TREE[1])


@pytest.mark.parametrize(
    "heads, message",
    [
        ([0, 1, 1], "2 roots"),
        ([1, 2, 0], "0 roots"),
        ([1, 1, 5], "outside"),
        ([1, 2, 1, 3], "cycle"),
    ],
)
def test_bad_trees(heads, message):
    with pytest.raises(TreeError, match=message):
        check_tree(heads)


# ---------------------------------------------------------------- BILUO

SPANS = [(0, 2, "PER"), (4, 5, "LOC")]  # "Ada Lovelace lived in London today"


def _ner(spans=SPANS, n=6, nF=3):
    system = BiluoSystem.from_entities([spans])
    batch = system.init_batch([n], StateFeatures(nF))
    batch.set_gold([system.gold_for(spans_to_biluo(n, spans))])
    return system, batch


def test_biluo_class_order():
    system = BiluoSystem.from_entities([[(0, 2, "PERSON"), (3, 4, "GPE")], [(0, 1, "GPE")]])
    # PERSON: 2 tokens, GPE: 2 tokens -> tie broken by label descending
    assert system.names == [
        "B-PERSON", "B-GPE", "I-PERSON", "I-GPE", "L-PERSON", "L-GPE",
        "U-PERSON", "U-GPE", "U-", "O",
    ]  # fmt: skip


def test_biluo_oracle_and_validity():
    system, batch = _ner()
    seq = oracle_sequence(system, batch)[0]
    assert [system.names[c] for c in seq] == ["B-PER", "L-PER", "O", "O", "U-LOC", "O"]
    assert batch.result(0) == SPANS
    system, batch = _ner()
    assert _valid(batch, system) == {"B-PER", "B-LOC", "U-PER", "U-LOC", "O"}
    _do(batch, system, "B-PER")
    assert _valid(batch, system) == {"I-PER", "L-PER"}
    # at the last word an entity can only end
    system, batch = _ner(n=6)
    _do(batch, system, "O", "O", "O", "O", "O")
    assert _valid(batch, system) == {"U-PER", "U-LOC", "O"}
    system2, batch2 = _ner(spans=[(0, 2, "LOC")], n=2)
    _do(batch2, system2, "B-LOC")
    assert _valid(batch2, system2) == {"L-LOC"}


def test_biluo_costs():
    system, batch = _ner()
    assert _cost(batch, system, "B-PER") == 0
    assert _cost(batch, system, "B-LOC") == 1
    assert _cost(batch, system, "U-PER") == 1
    assert _cost(batch, system, "O") == 1
    _do(batch, system, "B-PER")
    assert _cost(batch, system, "L-PER") == 0
    assert _cost(batch, system, "I-PER") == 1  # gold L, entity not sunk
    system, batch = _ner()
    _do(batch, system, "O")  # the entity is lost; at "Lovelace" (gold L)
    assert _cost(batch, system, "O") == 0
    assert _cost(batch, system, "U-PER") == 1
    assert _cost(batch, system, "B-PER") == 1
    # missing annotation: anything goes
    system = BiluoSystem.from_entities([SPANS])
    batch = system.init_batch([3], StateFeatures(3))
    batch.set_gold([system.gold_for(["-", "-", "O"])])
    costs = batch.costs()[0]
    valid = batch.valid()[0]
    assert (costs[valid] == 0).all()


def test_biluo_context_tokens():
    system = BiluoSystem.from_entities([[(0, 5, "X")]])
    for nF, expected in [(3, [4, 1, 3]), (6, [4, 1, 2, 3, -1, -1])]:
        batch = system.init_batch([8], StateFeatures(nF))
        _do(batch, system, "O", "B-X", "I-X", "I-X")
        assert batch.token_ids()[0].tolist() == expected
    batch = system.init_batch([8], StateFeatures(6, seed_ner6=True))
    _do(batch, system, "O", "B-X", "I-X", "I-X")
    assert batch.token_ids()[0].tolist() == [4, 3, 5, 1, 0, 2]


def test_biluo_oracle_on_wnut_dev(data_dir):
    examples = NerTask().read(data_dir / "wnut17" / "emerging.dev.conll")
    spans = [eg.gold["spans"] for eg in examples]
    system = BiluoSystem.from_entities(spans)
    batch = system.init_batch([len(eg.doc) for eg in examples], StateFeatures(6))
    batch.set_gold(
        [system.gold_for(spans_to_biluo(len(eg.doc), s)) for eg, s in zip(examples, spans)]
    )
    oracle_sequence(system, batch)
    assert all(batch.result(i) == sorted(s) for i, s in enumerate(spans))
