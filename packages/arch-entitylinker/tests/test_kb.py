"""KnowledgeBase: the API spaCy's InMemoryLookupKB offers, its errors and
warnings, and the versioned file format (round trips, truncated, newer, corrupt)."""

import struct
import warnings

import numpy
import pytest

from arch_entitylinker import Candidate, KBFormatError, KnowledgeBase
from arch_entitylinker.kb_format import MAGIC, VERSION


def test_sizes_and_strings(kb):
    assert len(kb) == kb.get_size_entities() == 3
    assert kb.get_size_aliases() == 2
    assert kb.get_entity_strings() == ["Q1", "Q2", "Q3"]
    assert kb.get_alias_strings() == ["douglas", "adam"]
    assert not kb.is_empty() and KnowledgeBase(3).is_empty()
    assert kb.contains_entity("Q2") and not kb.contains_entity("Q9")
    assert kb.contains_alias("adam") and not kb.contains_alias("Adam")


def test_candidates(kb):
    candidates = kb.get_alias_candidates("douglas")
    assert [c.entity_ for c in candidates] == ["Q2", "Q3"]
    first = candidates[0]
    assert isinstance(first, Candidate)
    assert first.alias_ == "douglas"
    assert first.prior_prob == pytest.approx(0.8) and first.prior_prob == float(numpy.float32(0.8))
    assert first.entity_freq == 5.0
    numpy.testing.assert_array_equal(first.entity_vector, [2, 1, 0])
    assert first.entity_vector.dtype == numpy.float32
    assert kb.get_alias_candidates("unknown") == []
    # spaCy's StringStore keys of the strings
    from arch_tok2vec.hashing import string_id

    assert first.entity == string_id("Q2") and first.alias == string_id("douglas")


def test_get_candidates_takes_a_span_or_text(kb):
    from arch_tok2vec import Doc

    doc = Doc(["Ask", "douglas", "now"])
    span = doc[1:2]
    assert [c.entity_ for c in kb.get_candidates(span)] == ["Q2", "Q3"]
    assert [c.entity_ for c in kb.get_candidates("adam")] == ["Q2"]
    assert [len(x) for x in kb.get_candidates_batch([span, "adam", "nobody"])] == [2, 1, 0]


def test_vectors_and_priors(kb):
    numpy.testing.assert_array_equal(kb.get_vector("Q3"), [-1, -6, 5])
    numpy.testing.assert_array_equal(kb.get_vector("Q9"), [0, 0, 0])
    numpy.testing.assert_array_equal(kb.get_vectors(["Q1", "Q9"]), [[8, 4, 3], [0, 0, 0]])
    assert kb.get_prior_prob("Q2", "douglas") == pytest.approx(0.8)
    assert kb.get_prior_prob("Q1", "douglas") == 0.0
    assert kb.get_prior_prob("Q2", "nobody") == 0.0
    assert kb.vectors.shape == (3, 3) and not kb.vectors.flags.writeable


def test_wrong_vector_length(kb):
    with pytest.raises(ValueError, match=r"\[E141\].*length 3 instead of the provided 2"):
        kb.add_entity("Q4", 1, [1, 2])
    with pytest.raises(ValueError, match=r"\[E141\]"):
        kb.set_entities(["Q4"], [1], [[1, 2, 3, 4]])
    with pytest.raises(ValueError, match=r"\[E141\]"):
        kb.set_entities(["Q4"], [1], numpy.zeros((1, 2)))
    assert kb.get_size_entities() == 3


def test_priors_summing_above_one(kb):
    with pytest.raises(ValueError, match=r"\[E133\].*'emerson'.*exceed 1"):
        kb.add_alias("emerson", ["Q1", "Q2"], [0.6, 0.5])
    kb.add_alias("almost", ["Q1", "Q2"], [0.5, 0.500005])  # within spaCy's tolerance
    with pytest.raises(ValueError, match=r"\[E133\]"):
        kb.append_alias("douglas", "Q1", 0.1)
    assert not kb.contains_alias("emerson")
    assert len(kb.get_alias_candidates("douglas")) == 2


def test_alias_pointing_to_unknown_entity(kb):
    with pytest.raises(ValueError, match=r"\[E134\] Entity 'Q9' is not defined"):
        kb.add_alias("someone", ["Q1", "Q9"], [0.5, 0.5])
    assert not kb.contains_alias("someone")
    with pytest.raises(ValueError, match=r"\[E134\]"):
        kb.append_alias("adam", "Q9", 0.05)
    with pytest.raises(ValueError, match=r"\[E176\] Alias 'nobody' is not defined"):
        kb.append_alias("nobody", "Q1", 0.05)


def test_length_mismatches(kb):
    with pytest.raises(ValueError, match=r"\[E132\].*found 2 and 1"):
        kb.add_alias("someone", ["Q1", "Q2"], [0.5])
    with pytest.raises(ValueError, match=r"\[E140\]"):
        kb.set_entities(["Q1", "Q2"], [1], [[1, 2, 3], [1, 2, 3]])
    with pytest.raises(ValueError, match=r"\[E140\]"):
        kb.set_entities(["Q1"], [1], [[1, 2, 3], [1, 2, 3]])


def test_empty_alias(kb):
    for alias in ("", None):
        with pytest.raises(ValueError, match=r"\[E890\]"):
            kb.add_alias(alias, ["Q1"], [0.5])


def test_duplicate_entity_warns_and_keeps_the_first(kb):
    with pytest.warns(UserWarning, match=r"\[W018\] Entity 'Q1' already exists"):
        assert kb.add_entity("Q1", 1, [0, 0, 0]) is None
    numpy.testing.assert_array_equal(kb.get_vector("Q1"), [8, 4, 3])
    with pytest.warns(UserWarning, match=r"\[W018\] Entity 'Q5'"):
        kb.set_entities(["Q1", "Q5", "Q2", "Q3", "Q5"], [1, 2, 3, 4, 5], numpy.eye(5, 3))
    assert kb.get_entity_strings() == ["Q1", "Q5", "Q2", "Q3"]
    numpy.testing.assert_array_equal(kb.get_vector("Q5"), [0, 1, 0])
    assert kb.get_freq("Q5") == 2.0


def test_duplicate_alias_and_pair_warn(kb):
    with pytest.warns(UserWarning, match=r"\[W017\] Alias 'adam' already exists"):
        assert kb.add_alias("adam", ["Q1"], [0.1]) is None
    assert [c.entity_ for c in kb.get_alias_candidates("adam")] == ["Q2"]
    with pytest.warns(UserWarning, match=r"\[W024\] Entity 'Q2' - Alias 'adam'"):
        kb.append_alias("adam", "Q2", 0.05)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        kb.append_alias("adam", "Q2", 0.05, ignore_warnings=True)
    assert len(kb.get_alias_candidates("adam")) == 1


def test_append_alias(kb):
    kb.append_alias("douglas", "Q1", 0.0)  # not the last alias: its pairs move
    kb.append_alias("adam", "Q3", 0.1)  # the last alias: grows in place
    assert [(c.entity_, round(c.prior_prob, 3)) for c in kb.get_candidates("douglas")] == [
        ("Q2", 0.8),
        ("Q3", 0.2),
        ("Q1", 0.0),
    ]
    assert [c.entity_ for c in kb.get_candidates("adam")] == ["Q2", "Q3"]
    again = KnowledgeBase(1).from_bytes(kb.to_bytes())
    assert [c.entity_ for c in again.get_candidates("douglas")] == ["Q2", "Q3", "Q1"]
    assert again.to_bytes() == kb.to_bytes()


def test_set_entities_keeps_aliases_of_remaining_entities(kb):
    kb.set_entities(["Q3", "Q2"], [1, 2], [[1, 1, 1], [2, 2, 2]])
    assert [c.entity_ for c in kb.get_candidates("douglas")] == ["Q2", "Q3"]
    numpy.testing.assert_array_equal(kb.get_candidates("adam")[0].entity_vector, [2, 2, 2])
    with pytest.raises(ValueError, match=r"\[E134\] Entity 'Q2'"):
        kb.set_entities(["Q3"], [1], [[1, 1, 1]])
    assert kb.get_entity_strings() == ["Q3", "Q2"]


def test_bad_vector_length_setting():
    for bad in (0, -3, 2.5, True):
        with pytest.raises(ValueError, match="entity_vector_length"):
            KnowledgeBase(bad)


# -- persistence --------------------------------------------------------------


def _contents(kb):
    return (
        kb.entity_vector_length,
        kb.get_entity_strings(),
        kb.get_alias_strings(),
        kb.vectors.tolist(),
        [kb.get_freq(e) for e in kb.get_entity_strings()],
        [
            [(c.entity_, c.prior_prob) for c in kb.get_alias_candidates(a)]
            for a in kb.get_alias_strings()
        ],
    )


def test_bytes_round_trip(kb):
    data = kb.to_bytes()
    assert data.startswith(MAGIC)
    other = KnowledgeBase(7).from_bytes(data)
    assert other.entity_vector_length == 3
    assert _contents(other) == _contents(kb)
    assert other.to_bytes() == data
    other.add_entity("Q4", 1, [1, 1, 1])  # a loaded KB can grow
    other.add_alias("new", ["Q4", "Q1"], [0.5, 0.5])
    assert [c.entity_ for c in other.get_candidates("new")] == ["Q4", "Q1"]


def test_disk_round_trip(kb, tmp_path):
    path = tmp_path / "kb.bin"
    kb.to_disk(path)
    assert path.read_bytes() == kb.to_bytes()
    loaded = KnowledgeBase.load(path)
    assert _contents(loaded) == _contents(kb)
    assert not (tmp_path / "kb.bin.tmp").exists()


def test_unicode_and_empty_round_trip(tmp_path):
    kb = KnowledgeBase(2)
    assert _contents(KnowledgeBase(5).from_bytes(kb.to_bytes())) == _contents(kb)
    kb.add_entity("Zürich_城市", 1.5, [0.25, -1])
    kb.add_alias("Zürich 😀", ["Zürich_城市"], [1.0])
    again = KnowledgeBase(1).from_bytes(kb.to_bytes())
    assert _contents(again) == _contents(kb)


def test_truncated_files(kb, tmp_path):
    data = kb.to_bytes()
    for cut in (len(data) - 1, len(data) // 2, 40, 8, 3, 0):
        with pytest.raises(KBFormatError, match="truncated|not a KB file"):
            KnowledgeBase(3).from_bytes(data[:cut])
    path = tmp_path / "short.bin"
    path.write_bytes(data[:-10])
    with pytest.raises(KBFormatError, match=rf"{path.name}: truncated KB file"):
        KnowledgeBase.load(path)


def test_newer_version_is_refused(kb, tmp_path):
    data = bytearray(kb.to_bytes())
    struct.pack_into("<I", data, 8, VERSION + 1)
    path = tmp_path / "newer.bin"
    path.write_bytes(bytes(data))
    with pytest.raises(KBFormatError, match=f"version {VERSION + 1} is newer"):
        KnowledgeBase.load(path)
    # refused before the length is even looked at
    with pytest.raises(KBFormatError, match="is newer"):
        KnowledgeBase(3).from_bytes(bytes(data[:60]))


def test_not_a_kb_and_corrupted(kb, tmp_path):
    with pytest.raises(KBFormatError, match="not a KB file"):
        KnowledgeBase(3).from_bytes(b"x" * 200)
    data = bytearray(kb.to_bytes())
    data[70] ^= 0xFF
    with pytest.raises(KBFormatError, match="corrupted"):
        KnowledgeBase(3).from_bytes(bytes(data))
    with pytest.raises(KBFormatError, match="unexpected bytes"):
        KnowledgeBase(3).from_bytes(kb.to_bytes() + b"\0")
    with pytest.raises(TypeError):
        KnowledgeBase(3).from_bytes("text")


def test_a_failed_load_leaves_the_kb_unchanged(kb):
    before = _contents(kb)
    with pytest.raises(KBFormatError):
        kb.from_bytes(kb.to_bytes()[:-1])
    assert _contents(kb) == before


def test_disk_errors(kb, tmp_path):
    with pytest.raises(ValueError, match=r"\[E929\].*does not exist"):
        KnowledgeBase.load(tmp_path / "missing.bin")
    with pytest.raises(ValueError, match="is a directory"):
        KnowledgeBase.load(tmp_path)
    with pytest.raises(ValueError, match="is a directory"):
        kb.to_disk(tmp_path)


def test_scales_with_arrays_not_objects():
    """Vectors live in one float32 matrix; building and round-tripping 20,000
    entities and 40,000 aliases is quick and exact."""
    n = 20_000
    rng = numpy.random.default_rng(0)
    ids = [f"Q{i}" for i in range(n)]
    kb = KnowledgeBase(16)
    kb.set_entities(ids, rng.random(n), rng.random((n, 16), dtype=numpy.float32))
    for i in range(2 * n):  # two distinct candidates (i and 7i + 1 differ modulo n)
        kb.add_alias(f"alias {i}", [ids[i % n], ids[(i * 7 + 1) % n]], [0.6, 0.3])
    assert kb.vectors.base is not None or kb.vectors.flags.c_contiguous
    data = kb.to_bytes()
    again = KnowledgeBase(1).from_bytes(data)
    assert again.to_bytes() == data
    assert [c.entity_ for c in again.get_candidates("alias 12345")] == ["Q12345", "Q6416"]
