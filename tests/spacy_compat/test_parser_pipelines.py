"""Item 4 for arch-parser: parser and NER pipelines trained and saved with spaCy +
spacy-legacy alone (make_parser_pipelines.py, in the venv without arch) load here,
where spaCy resolves spacy.TransitionBasedParser.v1 to ours, and predict exactly the
heads, deps and entities they predicted there."""

import json

import compat
import parser_compat as pc
import parser_fixtures
import pytest
import spacy

OURS_ROOT = "arch_parser.layers.transition_model"
SPECS = {spec["name"]: spec for spec in pc.PIPELINES}


@pytest.fixture(scope="module")
def parser_pipelines_dir():
    try:
        return parser_fixtures.parser_pipelines_path()
    except AssertionError as err:
        pytest.fail(str(err))


@pytest.fixture(scope="module")
def index(parser_pipelines_dir):
    return json.loads((parser_pipelines_dir / "INDEX.json").read_text("utf8"))


def test_pipelines_were_made_without_arch_with_the_verified_spacy(index):
    assert index["versions"]["spacy"] == compat.SPACY_VERSION
    assert [p["name"] for p in index["pipelines"]] == list(SPECS)


@pytest.mark.parametrize("name", sorted(SPECS))
def test_saved_pipeline_loads_into_ours_and_predicts_the_same(parser_pipelines_dir, index, name):
    spec = SPECS[name]
    nlp = spacy.load(parser_pipelines_dir / name)
    pipe = nlp.get_pipe(spec["factory"])
    arch = nlp.config["components"][spec["factory"]]["model"]["@architectures"]
    assert arch == "spacy.TransitionBasedParser.v1"
    assert compat.is_ours(spacy.util.registry.get("architectures", arch))
    assert pipe.model._func.__module__ == OURS_ROOT
    assert compat.arch_nodes(pipe.model)
    dev = pc.examples(nlp, spec["data"], "dev")
    got = pc.predictions(nlp, pc.bare(nlp, dev))
    expected = json.loads((parser_pipelines_dir / f"{name}.predictions.json").read_text("utf8"))
    assert len(got) == len(expected) == len(dev)
    problems = pc.count_differences(got, expected)
    assert not problems, f"{len(problems)} differences, first: {problems[:5]}"
    # the saved models learned something, and score here as they did there
    entry = next(p for p in index["pipelines"] if p["name"] == name)
    scores = pc.scores(nlp, dev)
    for key, value in entry["dev_scores"].items():
        assert scores[key] == pytest.approx(value, abs=1e-9), key
    for key, value in entry["baseline"].items():
        assert scores[key] > value + 0.1, (key, scores, entry["baseline"])
    compat.REPORT.append(
        f"saved without arch, loaded with arch: {name} ({len(dev)} dev docs) identical; "
        + ", ".join(f"{k} {v:.3f}" for k, v in scores.items())
    )


def test_predictions_differ_without_the_saved_weights(parser_pipelines_dir):
    """The comparison can fail: the same pipeline with fresh weights parses otherwise."""
    spec = SPECS["parser"]
    nlp = spacy.load(parser_pipelines_dir / "parser")
    dev = pc.examples(nlp, spec["data"], "dev")
    expected = pc.predictions(nlp, pc.bare(nlp, dev))
    nlp.get_pipe("parser").model.get_ref("upper").get_param("W")[:] *= 0.5
    nlp.get_pipe("parser").model.get_ref("lower").get_param("b")[:] += 0.5
    assert pc.count_differences(pc.predictions(nlp, pc.bare(nlp, dev)), expected)
