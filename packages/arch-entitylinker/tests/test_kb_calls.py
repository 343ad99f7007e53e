"""KnowledgeBase: a call that raises leaves the KB exactly as it was (its bytes),
and the values spaCy users would expect to be refused are (NaN, infinite or
negative frequencies and priors, NaN vectors, an entity twice in one alias,
arguments of the wrong type), each error naming the argument and the entity or
alias."""

import math

import numpy
import pytest

from arch_entitylinker import KnowledgeBase

NAN, INF = math.nan, math.inf


def _round_trips(kb):
    data = kb.to_bytes()
    assert KnowledgeBase(1).from_bytes(data).to_bytes() == data


def test_a_failed_add_entity_keeps_no_half_of_the_call(kb, tmp_path):
    """Issue 14, finding 5: a bad freq used to raise after the vector was stored,
    so every later entity got the previous one's vector and the saved file could
    not be read back."""
    with pytest.raises(TypeError, match="freq of entity 'Q4' must be a number, got str '12'"):
        kb.add_entity("Q4", freq="12", entity_vector=[7, 7, 7])
    assert not kb.contains_entity("Q4")
    kb.add_entity("Q5", freq=2, entity_vector=[1, 2, 3])
    numpy.testing.assert_array_equal(kb.get_vector("Q5"), [1, 2, 3])
    assert [c.entity_vector.tolist() for c in kb.get_candidates("douglas")] == [
        [2, 1, 0],
        [-1, -6, 5],
    ]
    kb.to_disk(tmp_path / "kb.bin")
    loaded = KnowledgeBase.load(tmp_path / "kb.bin")
    numpy.testing.assert_array_equal(loaded.get_vector("Q5"), [1, 2, 3])
    assert loaded.to_bytes() == kb.to_bytes()


BAD_CALLS = [
    # add_entity: the entity, its frequency, its vector
    ("add_entity", (5, 1, [1, 2, 3]), TypeError, "entity IDs must be strings, got int 5"),
    ("add_entity", ("", 1, [1, 2, 3]), ValueError, "non-empty"),
    ("add_entity", ("Q4", "12", [1, 2, 3]), TypeError, "freq of entity 'Q4'"),
    ("add_entity", ("Q4", None, [1, 2, 3]), TypeError, "freq of entity 'Q4'"),
    ("add_entity", ("Q4", True, [1, 2, 3]), TypeError, "freq of entity 'Q4'"),
    ("add_entity", ("Q4", NAN, [1, 2, 3]), ValueError, "freq of entity 'Q4'.*got nan"),
    ("add_entity", ("Q4", INF, [1, 2, 3]), ValueError, "freq of entity 'Q4'.*got inf"),
    ("add_entity", ("Q4", -1, [1, 2, 3]), ValueError, "freq of entity 'Q4'.*>= 0"),
    ("add_entity", ("Q4", 1e39, [1, 2, 3]), ValueError, "freq of entity 'Q4'.*float32"),
    ("add_entity", ("Q4", 1, [1, NAN, 3]), ValueError, "entity_vector of entity 'Q4'.*position 1"),
    ("add_entity", ("Q4", 1, [1, 2, -INF]), ValueError, "entity_vector of entity 'Q4'.*finite"),
    ("add_entity", ("Q4", 1, [1e39, 2, 3]), ValueError, "entity_vector of entity 'Q4'.*float32"),
    ("add_entity", ("Q4", 1, [1, 2]), ValueError, r"\[E141\].*entity 'Q4'"),
    ("add_entity", ("Q4", 1, ["1", "2", "3"]), TypeError, "entity_vector of entity 'Q4'.*numbers"),
    ("add_entity", ("Q4", 1, [1, None, 3]), TypeError, "entity_vector of entity 'Q4'"),
    ("add_entity", ("Q4", 1, [[1, 2, 3]]), ValueError, "entity_vector of entity 'Q4'.*one-dim"),
    ("add_entity", ("Q4", 1, None), TypeError, "entity_vector of entity 'Q4'"),
    ("add_entity", ("Q1", "12", [1, 2, 3]), TypeError, "freq of entity 'Q1'"),  # a duplicate too
    # set_entities: lists of each
    ("set_entities", (["Q1", "Q2"], [1], [[1, 2, 3]] * 2), ValueError, r"\[E140\]"),
    ("set_entities", (["Q1", 7], [1, 2], [[1, 2, 3]] * 2), TypeError, "entity_list"),
    ("set_entities", (["Q1", "Q5"], [1, NAN], [[1, 2, 3]] * 2), ValueError, "entity 'Q5'"),
    ("set_entities", (["Q1", "Q5"], [1, -2], [[1, 2, 3]] * 2), ValueError, "entity 'Q5'.*>= 0"),
    ("set_entities", (["Q1", "Q5"], [1, "2"], [[1, 2, 3]] * 2), TypeError, "entity 'Q5'"),
    ("set_entities", (["Q1", "Q5"], numpy.array([1, INF]), numpy.ones((2, 3))), ValueError, "Q5"),
    (
        "set_entities",
        (["Q1", "Q5"], [1, 2], numpy.array([[1, 2, 3], [1, NAN, 3]])),
        ValueError,
        "vector_list of entity 'Q5'.*position 1",
    ),
    ("set_entities", (["Q1", "Q5"], [1, 2], [[1, 2, 3], [NAN] * 3]), ValueError, "entity 'Q5'"),
    ("set_entities", (["Q1", "Q5"], [1, 2], [[1, 2, 3], [1, 2]]), ValueError, r"E141.*'Q5'"),
    ("set_entities", (["Q1", "Q5"], [1, 2], numpy.ones((2, 4))), ValueError, r"\[E141\]"),
    ("set_entities", (["Q1"], [1], [[1, 2, 3]]), ValueError, r"\[E134\] Entity 'Q2'"),
    # add_alias: the alias, its entities, their priors
    ("add_alias", ("", ["Q1"], [0.5]), ValueError, r"\[E890\]"),
    ("add_alias", (None, ["Q1"], [0.5]), ValueError, r"\[E890\]"),
    ("add_alias", (5, ["Q1"], [0.5]), TypeError, "alias"),
    ("add_alias", ("x", ["Q1", "Q2"], [0.5]), ValueError, r"\[E132\].*'x'"),
    ("add_alias", ("x", ["Q1", "Q2"], [0.6, 0.5]), ValueError, r"\[E133\].*'x'"),
    ("add_alias", ("x", ["Q1", "Q2"], [0.5, NAN]), ValueError, "entity 'Q2' for alias 'x'.*nan"),
    ("add_alias", ("x", ["Q1", "Q2"], [-0.1, 0.5]), ValueError, "entity 'Q1' for alias 'x'"),
    ("add_alias", ("x", ["Q1"], [INF]), ValueError, "entity 'Q1' for alias 'x'"),
    ("add_alias", ("x", ["Q1"], ["0.5"]), TypeError, "entity 'Q1' for alias 'x'"),
    ("add_alias", ("x", ["Q1"], None), TypeError, "probabilities of alias 'x'"),
    ("add_alias", ("x", "Q1", [0.5, 0.5]), TypeError, "entities of alias 'x'"),
    ("add_alias", ("x", ["Q1", None], [0.5, 0.5]), TypeError, "entities of alias 'x'"),
    ("add_alias", ("x", ["Q1", "Q1"], [0.3, 0.3]), ValueError, "alias 'x'.*'Q1' twice"),
    ("add_alias", ("x", ["Q1", "Q9"], [0.5, 0.5]), ValueError, r"\[E134\] Entity 'Q9'.*'x'"),
    ("add_alias", ("adam", ["Q1"], [NAN]), ValueError, "alias 'adam'"),  # an existing alias too
    # append_alias: the alias, one more entity, its prior
    ("append_alias", ("adam", "Q1", NAN), ValueError, "entity 'Q1' for alias 'adam'.*nan"),
    ("append_alias", ("adam", "Q1", -0.1), ValueError, "entity 'Q1' for alias 'adam'"),
    ("append_alias", ("adam", "Q1", INF), ValueError, "entity 'Q1' for alias 'adam'"),
    ("append_alias", ("adam", "Q1", "0.1"), TypeError, "entity 'Q1' for alias 'adam'"),
    ("append_alias", ("adam", "Q1", 0.6), ValueError, r"\[E133\].*'adam'"),
    ("append_alias", ("adam", 3, 0.1), TypeError, "entity IDs must be strings"),
    ("append_alias", ("nobody", "Q1", 0.1), ValueError, r"\[E176\].*'nobody'"),
    ("append_alias", ("adam", "Q9", 0.1), ValueError, r"\[E134\] Entity 'Q9'.*'adam'"),
]


@pytest.mark.parametrize(
    "method,args,error,message", BAD_CALLS, ids=[f"{c[0]}-{i}" for i, c in enumerate(BAD_CALLS)]
)
def test_a_bad_call_raises_and_changes_nothing(kb, method, args, error, message):
    before = kb.to_bytes()
    with pytest.raises(error, match=message):
        getattr(kb, method)(*args)
    assert kb.to_bytes() == before
    _round_trips(kb)
    kb.add_entity("Q6", 4, [6, 6, 6])  # the KB still grows correctly
    numpy.testing.assert_array_equal(kb.get_vector("Q6"), [6, 6, 6])
    assert kb.get_entity_strings()[-1] == "Q6" and kb.vectors.shape == (len(kb), 3)
    _round_trips(kb)


def test_good_values_of_every_numeric_type_are_taken():
    kb = KnowledgeBase(3)
    kb.add_entity("Q1", numpy.float32(2.5), numpy.array([1, 2, 3], dtype=numpy.int64))
    kb.add_entity("Q2", numpy.int64(0), (0.5, 0.25, 0.0))
    kb.set_entities(["Q1", "Q2", "Q3"], numpy.array([1, 2, 3]), numpy.ones((3, 3), "float64"))
    kb.add_alias("a", ("Q1", "Q2"), numpy.array([0.5, 0.5]))
    kb.add_alias("b", ["Q3"], [1])
    kb.add_alias("c", [], [])  # spaCy allows an alias without candidates
    kb.append_alias("c", "Q1", numpy.float64(0.25))
    kb.add_alias("d", ["Q1", "Q2"], [0.5, 0.500005])  # within spaCy's rounding allowance
    assert [c.entity_ for c in kb.get_candidates("a")] == ["Q1", "Q2"]
    assert kb.get_freq("Q3") == 3.0
    _round_trips(kb)
    for dtype in ("float32", "float64"):  # the KB keeps a copy, never the caller's array
        given = numpy.ones((3, 3), dtype)
        kb.set_entities(["Q1", "Q2", "Q3"], [1, 2, 3], given)
        given[:] = 7
        assert kb.vectors.tolist() == [[1.0] * 3] * 3


@pytest.mark.parametrize("mention", [None, 5, b"adam", ["adam"], object()])
def test_get_candidates_of_a_non_mention_is_a_type_error(kb, mention):
    with pytest.raises(TypeError, match="get_candidates needs a mention"):
        kb.get_candidates(mention)
    with pytest.raises(TypeError, match="get_candidates needs a mention"):
        kb.get_candidates_batch(["adam", mention])
    with pytest.raises(TypeError, match="get_alias_candidates needs a string"):
        kb.get_alias_candidates(mention)
