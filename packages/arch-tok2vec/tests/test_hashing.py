import json

import numpy
import pytest

from arch_tok2vec.hashing import SYMBOLS, murmurhash64a, string_id, string_ids


@pytest.fixture(scope="module")
def reference(fixtures_dir):
    return json.loads((fixtures_dir / "hash_reference.json").read_text("utf8"))


def test_murmurhash64a_matches_spacy_hash_string(reference):
    strings = [s for s, _ in reference["hash_string"]]
    expected = numpy.array([h for _, h in reference["hash_string"]], dtype=numpy.uint64)
    assert len(strings) >= 200
    assert set(len(s.encode("utf8")) for s in strings) >= set(range(18))
    numpy.testing.assert_array_equal(murmurhash64a(strings), expected)
    # Small batches take the scalar path: it must agree too.
    one_by_one = [int(murmurhash64a([s])[0]) for s in strings]
    assert one_by_one == expected.tolist()


def test_string_ids_match_spacy_string_store(reference):
    pairs = reference["string_store"]
    assert any(s in SYMBOLS for s, _ in pairs) and any(s not in SYMBOLS for s, _ in pairs)
    got = string_ids([s for s, _ in pairs]).tolist()
    assert got == [h for _, h in pairs]


def test_symbol_table_and_empty_string():
    assert len(SYMBOLS) == 456  # 457 ids, id 0 is the empty string
    assert string_id("") == 0
    assert string_id("ADJ") == 84
    assert string_id("PERSON") == 380
    assert string_id("X") == 101
    assert string_id("adj") != 84


def test_hashing_is_order_and_batch_independent():
    words = ["a" * n for n in range(40)] + ["日本語", "😀", "x"]
    together = murmurhash64a(words)
    alone = numpy.array([murmurhash64a([w])[0] for w in words], dtype=numpy.uint64)
    numpy.testing.assert_array_equal(together, alone)
    numpy.testing.assert_array_equal(murmurhash64a(words[::-1]), together[::-1])
