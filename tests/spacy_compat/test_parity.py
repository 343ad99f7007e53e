"""Item 3: for every example config of the covered families, our model and spaCy's
(built from the functions imported explicitly from spacy-legacy / spaCy core, see
compat.build_theirs) give the same outputs, within 1e-5, on the same words, with
the weights copied through to_bytes/from_bytes in both directions: ours on our
Doc and on spaCy's Doc, theirs on spaCy's Doc.

Configs that spaCy's own builder cannot build are listed with the reason in the
family's SPACY_CANNOT (the failure is checked); configs naming something spaCy
does not have (NO_SPACY_PROVIDER, arch.* names) check that spaCy indeed lacks it.
Either way our model must build, initialize and predict."""

import re

import cases
import compat
import compat_data
import numpy
import pytest
from thinc.api import Config

CASES = cases.family_cases()
LABEL_COUNT = 3


@pytest.fixture(scope="module")
def inputs():
    sentences = [s.words for s in compat_data.ewt("dev", 0, 10)]
    return compat.Inputs(sentences + [compat_data.TRICKY_WORDS, ["Hello"]])


def _model_inputs(config_text, inputs):
    """(ours X, spaCy X, Y) for a config: Docs or arrays by the family's INPUT,
    labels by its LABELS."""
    top = compat.names_in(config_text)[0]
    family = compat.family_of(top)
    kind = family.INPUT.get(top, "docs")
    block = Config().from_str(config_text)["model"]
    if kind == "docs":
        X_ours, X_spacy = inputs.arch_docs, inputs.spacy_docs
    else:
        width = block["width"]
        rng = numpy.random.default_rng(5)
        lengths = [len(w) for w in inputs.words]
        arrays = [rng.normal(0, 1, (n, width)).astype("float32") for n in lengths]
        X_ours = X_spacy = numpy.vstack(arrays) if kind == "array" else arrays
    labels = family.LABELS.get(top)
    if callable(labels):  # the kind depends on the config (e.g. the model inside a wrapper)
        labels = labels(config_text)
    n_labels = block.get("nO") or LABEL_COUNT
    eye = numpy.eye(n_labels, dtype="float32")
    if labels == "tokens":
        Y = [eye[numpy.arange(len(w)) % n_labels] for w in inputs.words]
    elif labels == "docs":
        Y = eye[numpy.arange(len(inputs.words)) % n_labels]
    else:
        Y = None
    return X_ours, X_spacy, Y


def _spacy_cannot(config_text):
    for family in compat.families().values():
        for pattern, stage, error, why in family.SPACY_CANNOT:
            if re.search(pattern, config_text):
                return stage, error, why
    return None


def _no_provider(config_text):
    names = set()
    for family in compat.families().values():
        names |= set(family.NO_SPACY_PROVIDER)
    return [n for n in compat.names_in(config_text) if n in names or n.startswith("arch.")]


def _theirs(config_text, X, Y):
    """spaCy's model, or the stage at which spaCy failed and its error."""
    stage = "build"
    try:
        model = compat.build_theirs(config_text)
        stage = "initialize"
        model.initialize(X=X, Y=Y)
        stage = "predict"
        model.predict(X)
    except compat.NoSpacyProvider:
        raise
    except Exception as err:
        return None, stage, f"{type(err).__name__}: {err}"
    return model, None, None


def test_cases_cover_every_spacy_name():
    """Every name with a spaCy counterpart appears in at least one parity case."""
    used = {n for config in CASES.values() for n in compat.names_in(config)}
    missing = sorted(set(compat.theirs_table()) - used)
    assert not missing, f"no example config builds {missing}: add an EXTRA_CASES entry"


@pytest.mark.parametrize("case_id", sorted(CASES))
def test_same_numbers_as_spacy(case_id, inputs):
    config_text = CASES[case_id]
    X_ours, X_spacy, Y = _model_inputs(config_text, inputs)

    ours = compat.build_ours(config_text)
    ours.initialize(X=X_ours, Y=Y)
    ours.predict(X_ours)

    missing = _no_provider(config_text)
    if missing:
        with pytest.raises(compat.NoSpacyProvider):
            compat.build_theirs(config_text)
        return

    theirs, stage, error = _theirs(config_text, X_spacy, Y)
    expected_failure = _spacy_cannot(config_text)
    if expected_failure:
        want_stage, want_error, why = expected_failure
        assert theirs is None, f"spaCy builds this config, but SPACY_CANNOT says: {why}"
        assert stage == want_stage and re.search(want_error, error), (stage, error)
        return
    assert theirs is not None, f"spaCy's model failed at {stage}: {error}"

    # spaCy's weights -> ours
    compat.random_params(theirs, 1)
    data = theirs.to_bytes()
    ours.from_bytes(data)
    expected = theirs.predict(X_spacy)
    compat.assert_same(ours.predict(X_ours), expected, what="ours on arch Docs")
    compat.assert_same(ours.predict(X_spacy), expected, what="ours on spaCy Docs")
    assert compat.saved_differences(ours.to_bytes(), data) == []

    # our weights -> spaCy's
    ours2 = compat.build_ours(config_text)
    ours2.initialize(X=X_ours, Y=Y)
    compat.random_params(ours2, 2)
    theirs2, stage, error = _theirs(config_text, X_spacy, Y)
    assert theirs2 is not None, error
    theirs2.from_bytes(ours2.to_bytes())
    expected = theirs2.predict(X_spacy)
    compat.assert_same(ours2.predict(X_ours), expected, what="ours on arch Docs (2)")
    compat.assert_same(ours2.predict(X_spacy), expected, what="ours on spaCy Docs (2)")
