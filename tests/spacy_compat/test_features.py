"""Item 2: arch_tok2vec.Doc and spacy.tokens.Doc built from the same words give the
same token features, on real text and on tricky tokens; and the checked-in
fixtures made with spaCy regenerate (byte for byte but for the last bits of
spaCy's float outputs on another CPU family)."""

import json
import shutil
import sys
from typing import Any

import compat
import compat_data
import numpy
import pytest
import spacy
from spacy.tokens import Doc as SpacyDoc

from arch_tok2vec import Doc

ATTRS = ["ORTH", "LOWER", "NORM", "PREFIX", "SUFFIX", "SHAPE"]
MIN_TOKENS = 10_000


@pytest.fixture(scope="module")
def vocab():
    return spacy.blank("en").vocab


def _both(vocab, words):
    return Doc(words).to_array(ATTRS), SpacyDoc(vocab, words=words).to_array(ATTRS)


def test_ewt_train_features_are_identical(vocab, data_dir):
    sentences = compat_data.ewt_tokens(12_000)
    n_tokens = sum(len(words) for words in sentences)
    assert n_tokens >= MIN_TOKENS
    ours, theirs = zip(*(_both(vocab, words) for words in sentences))
    ours_all, theirs_all = numpy.vstack(ours), numpy.vstack(theirs)
    assert ours_all.dtype == theirs_all.dtype == numpy.uint64
    assert ours_all.shape == (n_tokens, len(ATTRS))
    for j, attr in enumerate(ATTRS):
        bad = numpy.flatnonzero(ours_all[:, j] != theirs_all[:, j])
        words = [w for s in sentences for w in s]
        assert bad.size == 0, f"{attr} differs for {[words[i] for i in bad[:10]]}"


def test_tricky_tokens_are_identical(vocab):
    words = compat_data.TRICKY_WORDS
    ours, theirs = _both(vocab, words)
    for j, attr in enumerate(ATTRS):
        bad = [words[i] for i in numpy.flatnonzero(ours[:, j] != theirs[:, j])]
        assert not bad, f"{attr} differs for {bad}"
    for word in words:  # alone, too (no context effects)
        a, b = _both(vocab, [word])
        numpy.testing.assert_array_equal(a, b, err_msg=repr(word))


def test_attribute_spellings_agree(vocab):
    """Integer ids, a single name (spaCy then returns a 1-d array) and ID."""
    from spacy.attrs import IDS

    words = ["The", "storm", "closed", "the", "old", "bridge", "."]
    ours, theirs = Doc(words), SpacyDoc(vocab, words=words)
    ints = [IDS[a] for a in ATTRS]
    numpy.testing.assert_array_equal(ours.to_array(ints), theirs.to_array(ints))
    for attr in ATTRS + ["ID"]:
        numpy.testing.assert_array_equal(ours.to_array(attr), theirs.to_array(attr))
        assert ours.to_array(attr).shape == theirs.to_array(attr).shape


SCRIPTS = sorted(
    script for family in compat.families().values() for script in family.FIXTURE_SCRIPTS
)


def _same_json(got: Any, expected: Any, where: str) -> None:
    """Equal JSON values; floats within float32 rounding (spaCy's blis kernel rounds
    differently on another CPU family: the fixtures were made on an AMD EPYC)."""
    if isinstance(expected, dict):
        assert isinstance(got, dict) and got.keys() == expected.keys(), where
        for key in expected:
            _same_json(got[key], expected[key], f"{where}/{key}")
    elif isinstance(expected, list):
        assert isinstance(got, list) and len(got) == len(expected), where
        for i, (g, e) in enumerate(zip(got, expected)):
            _same_json(g, e, f"{where}[{i}]")
    elif isinstance(expected, float) and not isinstance(got, bool):
        assert isinstance(got, (int, float)), where
        assert abs(got - expected) <= 1e-6 + 1e-5 * abs(expected), f"{where}: {got} != {expected}"
    else:
        assert got == expected and type(got) is type(expected), f"{where}: {got!r} != {expected!r}"


@pytest.mark.parametrize("script", SCRIPTS)
def test_checked_in_fixtures_regenerate(script, tmp_path, data_dir):
    """Run the package's fixture script on a copy (it writes beside itself) and
    compare every file it writes with the checked-in one: byte for byte, except
    the floats of spaCy's outputs in JSON files, which must agree within float32
    rounding (they are byte for byte on the CPU family that made them). Files
    another script makes (the family's FIXTURE_OTHERS) are not compared."""
    source = compat.ROOT / script
    others = [
        compat.ROOT / other
        for family in compat.families().values()
        for other in getattr(family, "FIXTURE_OTHERS", [])
    ]
    copy = tmp_path / script
    copy.parent.mkdir(parents=True)
    shutil.copy(source, copy)
    compat.run([sys.executable, str(copy), "--data", str(data_dir)])
    made = sorted(
        p.relative_to(copy.parent)
        for p in copy.parent.rglob("*")
        if p.is_file() and p != copy and "__pycache__" not in p.parts
    )
    assert made, f"{script} wrote nothing"
    checked_in = sorted(
        p.relative_to(source.parent)
        for p in source.parent.rglob("*")
        if p.is_file()
        and p != source
        and "__pycache__" not in p.parts
        and not any(p == other or other in p.parents for other in others)
    )
    assert made == checked_in, "the script writes other files than the checked-in ones"
    for rel in made:
        got, expected = (copy.parent / rel).read_bytes(), (source.parent / rel).read_bytes()
        if got == expected:
            continue
        assert rel.suffix == ".json", f"{rel} differs from the checked-in fixture"
        _same_json(_json_values(got), _json_values(expected), str(rel))


def _json_values(data: bytes) -> Any:
    """A JSON file's value, or the list of a JSON Lines file's values."""
    try:
        return json.loads(data)
    except json.JSONDecodeError:
        return [json.loads(line) for line in data.splitlines() if line.strip()]
