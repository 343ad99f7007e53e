"""Item 4: pipelines trained and saved with spaCy + spacy-legacy alone (in the venv
without arch, by make_pipelines.py) load here, where spaCy resolves their v1 names
to our functions, and predict exactly what they predicted there."""

import json

import compat
import compat_spacy
import pytest
import spacy

SPECS = sorted(
    (spec["name"], dist, spec)
    for dist, family in compat.families().items()
    for spec in family.PIPELINES
)


@pytest.fixture(scope="module")
def index(pipelines_dir):
    return json.loads((pipelines_dir / "INDEX.json").read_text("utf8"))


def test_pipelines_were_made_without_arch_with_the_verified_spacy(index):
    assert index["versions"]["spacy"] == compat.SPACY_VERSION
    assert {p["name"] for p in index["pipelines"]} == {name for name, _, _ in SPECS}


@pytest.mark.parametrize("name,dist,spec", SPECS, ids=[s[0] for s in SPECS])
def test_saved_pipeline_loads_into_ours_and_predicts_the_same(pipelines_dir, name, dist, spec):
    nlp = spacy.load(pipelines_dir / name)
    for pipe_name, pipe in nlp.pipeline:
        arch = nlp.config["components"][pipe_name]["model"]["@architectures"]
        func = spacy.util.registry.get("architectures", arch)
        assert compat.is_ours(func), f"{pipe_name}: spaCy resolved {arch} to {func.__module__}"
        assert compat.arch_nodes(pipe.model), f"{pipe_name}: the loaded model has no arch node"
    docs = compat_spacy.unannotated(nlp, spec["data"])
    got = compat_spacy.predictions(nlp, docs)
    expected = json.loads((pipelines_dir / f"{name}.predictions.json").read_text("utf8"))
    assert len(got) == len(expected) > 0
    problems = compat_spacy.differences(got, expected, atol=1e-5)
    assert not problems, f"{len(problems)} differences, first: {problems[:5]}"
    # the predictions are not trivial: the saved models learned something
    gold = compat_spacy.examples(nlp, spec["data"], "dev")
    scores = compat_spacy.accuracy(got, gold)
    assert scores and min(scores.values()) > 0.5, scores


def test_predictions_differ_without_the_saved_weights(pipelines_dir):
    """The comparison can fail: a freshly initialized tagger predicts otherwise."""
    spec = next(spec for name, _, spec in SPECS if name == "tagger")
    trained = spacy.load(pipelines_dir / "tagger")
    nlp = compat_spacy.make_nlp(spec)
    nlp.initialize(lambda: compat_spacy.examples(nlp, spec["data"], "train")[:20])
    docs = compat_spacy.unannotated(trained, spec["data"])
    fresh = compat_spacy.predictions(nlp, compat_spacy.unannotated(nlp, spec["data"]))
    assert compat_spacy.differences(fresh, compat_spacy.predictions(trained, docs))
