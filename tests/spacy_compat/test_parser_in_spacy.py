"""Item 6 (and the parser/NER parts of items 3 and 5 inside spaCy's components):
spaCy's own ``parser`` and ``ner`` components drive our spacy.TransitionBasedParser.v1.

spaCy's components call the model's forward on spaCy Docs and run the step model it
returns from compiled code; our TransitionModel hands them spaCy's ParserStepModel
over our layers (arch_parser.layers.spacy_step). These tests train, predict, save and
load with it inside spaCy, compare it number for number with spaCy's own model
(spacy-legacy, built with arch's entry points hidden) in the same component, and
compare our standalone numpy runtime on arch Docs with spaCy's component on spaCy Docs.
"""

import json

import compat
import numpy
import parser_compat as pc
import parser_fixtures
import pytest
import spacy
from spacy.training import Example
from thinc.api import fix_random_seed

NAME = "spacy.TransitionBasedParser.v1"
OURS_ROOT = "arch_parser.layers.transition_model"
THEIRS_ROOT = "spacy.ml.tb_framework"

SMALL_T2V = dict(pc.HASH_EMBED_CNN, width=32, embed_size=500)
"""A smaller tok2vec for the same-numbers cases (speed; the size does not matter there)."""

CASES = {
    "parser": ("parser", "ewt", pc.tbp("parser", tok2vec=SMALL_T2V, hidden_width=32)),
    "parser_extra": (
        "parser",
        "ewt",
        pc.tbp("parser", extra_state_tokens=True, tok2vec=SMALL_T2V, hidden_width=32),
    ),
    "ner": ("ner", "wnut", pc.tbp("ner", tok2vec=SMALL_T2V, hidden_width=32)),
    "ner_extra_no_upper": (
        "ner",
        "wnut",
        pc.tbp("ner", extra_state_tokens=True, use_upper=False, tok2vec=SMALL_T2V),
    ),
}
"""Same-numbers cases: (factory, data, model block). They cover nF = 3, 6, 8 and 13,
with and without the upper layer."""


def _root_module(pipe):
    return pipe.model._func.__module__


@pytest.fixture(scope="module")
def data():
    nlp = spacy.blank("en")
    return {
        (name, split): pc.examples(nlp, name, split)
        for name in ("ewt", "wnut")
        for split in ("train", "dev")
    }


def _relabel(nlp, egs):
    """The examples rebuilt on another pipeline's vocab."""
    return [Example(pc.bare(nlp, [eg])[0], eg.reference) for eg in egs]


@pytest.fixture(scope="module")
def parser_pipelines_dir():
    try:
        return parser_fixtures.parser_pipelines_path()
    except AssertionError as err:
        pytest.fail(str(err))


# --------------------------------------------------------------------------
# discovery inside the component


def test_components_build_our_model_through_the_entry_point():
    import catalogue

    (ep,) = [
        ep
        for ep in catalogue.AVAILABLE_ENTRY_POINTS.select(group="spacy_architectures")
        if ep.name == NAME
    ]
    assert ep.dist.metadata["Name"] == "arch-parser"
    func = spacy.util.registry.get("architectures", NAME)
    assert f"{func.__module__}:{func.__name__}" == ep.value
    for name in ("spacy.TransitionModel.v1", "spacy.PrecomputableAffine.v1"):
        assert compat.is_ours(spacy.util.registry.get("layers", name)), name
    for factory, block in (("parser", pc.tbp("parser")), ("ner", pc.tbp("ner"))):
        pipe = pc.make_nlp(factory, {"model": block}).get_pipe(factory)
        assert _root_module(pipe) == OURS_ROOT
        assert pipe.model.get_ref("lower")._func.__module__.startswith("arch_parser")
        assert compat.arch_nodes(pipe.model)
    # the default config of spaCy's components (TransitionBasedParser.v2, core) stays spaCy's
    default = spacy.blank("en").add_pipe("parser")
    assert _root_module(default) == THEIRS_ROOT


# --------------------------------------------------------------------------
# training, prediction, saving and loading inside spaCy


@pytest.mark.parametrize("factory,data_name", [("parser", "ewt"), ("ner", "wnut")])
def test_component_trains_predicts_saves_and_loads(
    factory, data_name, data, tmp_path, parser_pipelines_dir
):
    spec = next(s for s in pc.PIPELINES if s["factory"] == factory)
    nlp = pc.make_nlp(factory, spec["config"])
    pipe = nlp.get_pipe(factory)
    assert _root_module(pipe) == OURS_ROOT
    train = _relabel(nlp, data[data_name, "train"])
    dev = _relabel(nlp, data[data_name, "dev"])
    pc.train(nlp, train, spec["epochs"])

    # what spaCy got from our forward: its own step model over our layers
    docs = pc.bare(nlp, dev[:4])
    step = pipe.model.predict(docs)
    assert type(step).__module__ == "spacy.ml.parser_model"
    assert step.vec2scores is pipe.model.get_ref("upper")
    assert step.state2vec.nF == pipe.model.get_ref("lower").get_dim("nF")

    ours = pc.scores(nlp, dev)
    base = pc.baseline(data_name, dev)
    index = json.loads((parser_pipelines_dir / "INDEX.json").read_text("utf8"))
    theirs = next(p for p in index["pipelines"] if p["name"] == spec["name"])["dev_scores"]
    key = "dep_las" if factory == "parser" else "ents_f"
    compat.REPORT.append(
        f"spaCy's {factory} component, {len(train)} train / {len(dev)} dev, "
        f"{spec['epochs']} epochs of nlp.update: ours "
        + ", ".join(f"{k} {v:.3f}" for k, v in ours.items())
        + "; spacy-legacy "
        + ", ".join(f"{k} {v:.3f}" for k, v in theirs.items())
        + "; trivial baseline "
        + ", ".join(f"{k} {v:.3f}" for k, v in base.items())
    )
    if factory == "parser":
        assert ours["dep_uas"] > base["dep_uas"] + 0.15, (ours, base)
        assert ours["dep_las"] > 0.3, ours
    else:
        assert ours["ents_f"] > base["ents_f"] + 0.05, (ours, base)
    assert abs(ours[key] - theirs[key]) <= 0.08, (ours, theirs)

    preds = pc.predictions(nlp, pc.bare(nlp, dev))
    nlp.to_disk(tmp_path / "nlp")
    loaded = spacy.load(tmp_path / "nlp")
    assert _root_module(loaded.get_pipe(factory)) == OURS_ROOT
    again = pc.predictions(loaded, pc.bare(loaded, dev))
    assert pc.count_differences(again, preds) == []
    # a blank text through the whole pipeline (tokenizer included)
    doc = loaded("Apple is looking at buying a U.K. startup in London for $1 billion.")
    assert len(doc) > 5


def test_beam_components_run_our_model(data):
    """beam_parser and beam_ner (beam search: the step model's predict on states)."""
    for factory, data_name, block in (
        ("beam_parser", "ewt", pc.tbp("parser", tok2vec=SMALL_T2V, hidden_width=32)),
        ("beam_ner", "wnut", pc.tbp("ner", tok2vec=SMALL_T2V, hidden_width=32)),
    ):
        nlp = pc.make_nlp(factory, {"model": block, "beam_width": 4})
        train = _relabel(nlp, data[data_name, "train"][:120])
        pc.train(nlp, train, 3, learn_rate=0.01)
        assert _root_module(nlp.get_pipe(factory)) == OURS_ROOT
        preds = pc.predictions(nlp, pc.bare(nlp, train[:30]))
        if factory == "beam_parser":
            assert all(len(p["heads"]) == len(p["words"]) for p in preds)
            right = sum(
                h == t.head.i
                for p, eg in zip(preds, train)
                for h, t in zip(p["heads"], eg.reference)
            )
            assert right / sum(len(p["words"]) for p in preds) > 0.3
        else:
            assert any(p["ents"] for p in preds)


def test_labels_added_after_initialize_grow_the_output_as_spacys(data):
    """add_label after initialize: resize_output grows the upper layer, keeps the old
    rows, marks the new classes unseen (scored at the minimum), exactly as spaCy's."""
    results = {}
    for who in ("ours", "theirs"):
        with compat.without_arch() if who == "theirs" else _nothing():
            nlp = pc.make_nlp("ner", {"model": pc.tbp("ner", tok2vec=SMALL_T2V, hidden_width=32)})
        ner = nlp.get_pipe("ner")
        assert _root_module(ner) == (OURS_ROOT if who == "ours" else THEIRS_ROOT)
        train = _relabel(nlp, data["wnut", "train"][:60])
        pc.train(nlp, train, 1)
        before = ner.model.get_ref("upper").get_param("W").copy()
        n_before = ner.moves.n_moves
        ner.add_label("NEWTHING")
        upper = ner.model.get_ref("upper")
        assert upper.get_dim("nO") == ner.moves.n_moves == n_before + 4
        numpy.testing.assert_array_equal(upper.get_param("W")[:n_before], before)
        docs = pc.bare(nlp, train[:5])
        step = ner.model.predict(docs)
        states = ner.moves.init_batch(docs)
        scores = step.predict(states)
        assert (scores[:, n_before:] == scores.min()).all()
        list(nlp.pipe(docs))
        results[who] = (sorted(ner.model.attrs["unseen_classes"]), upper.get_dim("nO"))
        # after training on the new label, its classes are seen
        doc = pc.bare(nlp, train[:1])[0]
        eg = Example.from_dict(doc, {"entities": [(0, len(doc[0].text), "NEWTHING")]})
        nlp.update([eg], sgd=nlp.create_optimizer())
        assert not set(range(n_before, n_before + 4)) <= ner.model.attrs["unseen_classes"]
    assert results["ours"] == results["theirs"]


class _nothing:
    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return False


# --------------------------------------------------------------------------
# same numbers: our model and spaCy's in spaCy's component, and our own runtime


def _pair(factory, block, train):
    """Our pipeline and spaCy's (arch hidden) with the same moves, both initialized."""
    nlps = {}
    for who in ("ours", "theirs"):
        with compat.without_arch() if who == "theirs" else _nothing():
            nlp = pc.make_nlp(factory, {"model": block})
        fix_random_seed(0)
        nlp.initialize(lambda nlp=nlp: _relabel(nlp, train))
        nlps[who] = nlp
    ours, theirs = (nlps[w].get_pipe(factory) for w in ("ours", "theirs"))
    assert _root_module(ours) == OURS_ROOT and not compat.arch_nodes(theirs.model)
    assert _root_module(theirs) == THEIRS_ROOT
    assert ours.moves.n_moves == theirs.moves.n_moves
    names = [ours.moves.get_class_name(i) for i in range(ours.moves.n_moves)]
    assert names == [theirs.moves.get_class_name(i) for i in range(theirs.moves.n_moves)]
    return nlps["ours"], nlps["theirs"]


def _step_scores(nlp, factory, docs):
    pipe = nlp.get_pipe(factory)
    step = pipe.model.predict(docs)
    states = pipe.moves.init_batch(docs)
    return step.predict(states)


@pytest.mark.parametrize("case", sorted(CASES))
def test_same_numbers_as_spacys_model_and_as_our_runtime(case, data):
    """Our model and spaCy's in spaCy's component: the same loss and gradients for one
    update from the same weights, the same scores and predictions with trained weights
    copied either way; and arch-parser's own numpy runtime (ArcEager / BiluoSystem built
    from the component's labels) on arch Docs parses as spaCy's component on spaCy Docs."""
    factory, data_name, block = CASES[case]
    train = data[data_name, "train"][:200]
    dev = data[data_name, "dev"]
    ours, theirs = _pair(factory, block, train)

    # one update from the same weights: the same loss and the same gradients
    compat.random_params(theirs.get_pipe(factory).model, 7)
    ours.get_pipe(factory).model.from_bytes(theirs.get_pipe(factory).model.to_bytes())
    batch = train[:16]
    losses, grads = {}, {}
    for who, nlp in (("ours", ours), ("theirs", theirs)):
        fix_random_seed(3)
        got = nlp.update(_relabel(nlp, batch), drop=0.0, sgd=None)
        losses[who] = got[factory]
        model = nlp.get_pipe(factory).model
        grads[who] = [
            (node.name, p, node.get_grad(p).copy())
            for node in model.walk()
            for p in sorted(node.param_names)
            if node.has_grad(p)
        ]
        for node in model.walk():  # drop the gradients (no optimizer step)
            for p in node.param_names:
                if node.has_grad(p):
                    node.set_grad(p, numpy.zeros_like(node.get_grad(p)))
    assert losses["ours"] > 0
    numpy.testing.assert_allclose(losses["ours"], losses["theirs"], rtol=1e-4)
    assert [g[:2] for g in grads["ours"]] == [g[:2] for g in grads["theirs"]]
    assert len(grads["ours"]) >= 8
    for (name, p, g_ours), (_, _, g_theirs) in zip(grads["ours"], grads["theirs"]):
        scale = max(1.0, float(numpy.abs(g_theirs).max()))
        numpy.testing.assert_allclose(g_ours, g_theirs, atol=1e-4 * scale, err_msg=f"{name}.{p}")

    # trained weights, ours -> theirs: the same scores, identical predictions
    pc.train(ours, _relabel(ours, train), 4, seed=1, learn_rate=0.01)
    theirs.get_pipe(factory).model.from_bytes(ours.get_pipe(factory).model.to_bytes())
    docs_ours, docs_theirs = pc.bare(ours, dev), pc.bare(theirs, dev)
    numpy.testing.assert_allclose(
        _step_scores(ours, factory, docs_ours),
        _step_scores(theirs, factory, docs_theirs),
        atol=1e-4,
        rtol=1e-4,
    )
    got = pc.predictions(ours, docs_ours)
    expected = pc.predictions(theirs, docs_theirs)
    assert pc.count_differences(got, expected) == []
    _assert_learned(factory, got, dev)
    assert pc.count_differences(_our_runtime(factory, block, theirs, dev), expected) == []

    # spaCy's (random) weights -> ours
    compat.random_params(theirs.get_pipe(factory).model, 11)
    ours.get_pipe(factory).model.from_bytes(theirs.get_pipe(factory).model.to_bytes())
    got = pc.predictions(ours, pc.bare(ours, dev))
    expected = pc.predictions(theirs, pc.bare(theirs, dev))
    assert pc.count_differences(got, expected) == []


def _assert_learned(factory, preds, dev):
    """Predictions that say something (so the equality above is not of empty output)."""
    if factory == "parser":
        right = sum(
            h == t.head.i for p, eg in zip(preds, dev) for h, t in zip(p["heads"], eg.reference)
        )
        assert right / sum(len(p["words"]) for p in preds) > 0.4
    else:
        assert sum(len(p["ents"]) for p in preds) > 10


def _our_runtime(factory, block, nlp, dev):
    """Predictions of arch-parser's numpy runtime on arch Docs, with the weights and
    the labels of the pipeline's component (a spaCy model)."""
    from arch_parser import ArcEager, BiluoSystem
    from arch_parser.nonproj import deprojectivize
    from arch_parser.runtime import parse
    from arch_tok2vec import Doc

    pipe = nlp.get_pipe(factory)
    ours = pc.make_nlp(factory, {"model": block}).get_pipe(factory).model
    n_moves = pipe.moves.n_moves
    ours.attrs["resize_output"](ours, n_moves)
    arch_docs = [Doc([t.text for t in eg.reference]) for eg in dev]
    ours.initialize(X=arch_docs[:4])
    ours.from_bytes(pipe.model.to_bytes())
    labels = {int(a): dict(f) for a, f in pipe.moves.labels.items()}
    system = (ArcEager if factory == "parser" else BiluoSystem)(labels)
    assert system.names == [pipe.moves.get_class_name(i) for i in range(n_moves)]
    batch = parse(ours, system, arch_docs)
    out = []
    for s, doc in enumerate(arch_docs):
        item = {"words": list(doc.words)}
        if factory == "parser":
            item["heads"], item["deps"] = deprojectivize(*batch.result(s))
        else:
            item["ents"] = [list(span) for span in batch.result(s)]
        out.append(item)
    return out
