"""The released tree of spacy.TransitionBasedParser.v1, both signatures, and
weights saved by spaCy (fixtures made by fixtures/make_fixtures.py)."""

import json

import numpy
import pytest
from thinc.api import Config

from arch_parser import ArcEager, BiluoSystem, TransitionBasedParser
from arch_parser.runtime import init_batch
from arch_tok2vec import Doc, registry
from arch_tok2vec.architectures.tok2vec import HashEmbedCNN

CASES = ["parser_a9", "ner_a10"]


def _fixture(fixtures_dir, case):
    record = json.loads((fixtures_dir / "models" / f"{case}.json").read_text("utf8"))
    data = (fixtures_dir / "models" / f"{case}.bin").read_bytes()
    return record, data


def _system(record):
    labels = {int(a): f for a, f in record["labels"].items()}
    return (ArcEager if "parser" in record["case"] else BiluoSystem)(labels)


def _ours(record):
    model = registry.resolve(Config().from_str(record["config"]))["model"]
    system = _system(record)
    model.attrs["resize_output"](model, system.n_moves)
    model.initialize(X=[Doc(w) for w in record["docs"]])
    return model, system


def _tree(model):
    nodes = list(model.walk())
    where = {id(node): i for i, node in enumerate(nodes)}
    out = []
    for i, node in enumerate(nodes):
        out.append(
            {
                "index": i,
                "name": node.name,
                "dims": {d: node.maybe_get_dim(d) for d in node.dim_names},
                "params": {
                    p: list(node.get_param(p).shape) if node.has_param(p) else None
                    for p in sorted(node.param_names)
                },
                "layers": [where[id(layer)] for layer in node.layers],
                "refs": {r: where.get(id(node.get_ref(r))) for r in sorted(node.ref_names)},
            }
        )
    return out


@pytest.mark.parametrize("case", CASES)
def test_tree_equals_spacy(fixtures_dir, case):
    record, _ = _fixture(fixtures_dir, case)
    model, _ = _ours(record)
    expected = [{k: v for k, v in node.items() if k != "attrs"} for node in record["nodes"]]
    assert _tree(model) == expected
    assert len(expected) == 30


@pytest.mark.parametrize("case", CASES)
def test_class_order_equals_spacy(fixtures_dir, case):
    record, _ = _fixture(fixtures_dir, case)
    assert _system(record).names == record["class_names"]


def test_spec_node_lists():
    """A.9 and A.10 of the spec, node by node (names, dims, params)."""
    t2v = dict(width=8, depth=1, embed_size=20, window_size=1, maxout_pieces=2)
    parser = TransitionBasedParser(
        HashEmbedCNN(subword_features=False, pretrained_vectors=None, **t2v),
        state_type="parser", extra_state_tokens=False, hidden_width=6, maxout_pieces=2,
    )  # fmt: skip
    parser.attrs["resize_output"](parser, 7)
    parser.initialize(X=[Doc(["a", "b"])])
    nodes = list(parser.walk())
    assert len(nodes) == 30
    assert [n.name for n in nodes[2:4]] == ["precomputable_affine", "linear"]
    assert nodes[0].name == "parser_model" and nodes[0].attrs["has_upper"] is True
    assert nodes[0].attrs["unseen_classes"] == set()
    assert callable(nodes[0].attrs["resize_output"])
    lower = nodes[2]
    assert {p: lower.get_param(p).shape for p in ("W", "b", "pad")} == {
        "W": (8, 6, 2, 6), "b": (6, 2), "pad": (1, 8, 6, 2),
    }  # fmt: skip
    assert nodes[3].get_param("W").shape == (7, 6)
    assert nodes[6].name == "linear" and nodes[6].get_param("W").shape == (6, 8)
    assert nodes[5].name == "list2array"
    assert nodes[19].name == "hashembed" and nodes[19].get_param("E").shape == (20, 8)
    assert nodes[28].name == "maxout" and nodes[28].get_param("W").shape == (8, 2, 24)
    ner = TransitionBasedParser(
        HashEmbedCNN(subword_features=False, pretrained_vectors=None, **t2v),
        state_type="ner", extra_state_tokens=True, hidden_width=6, maxout_pieces=2,
        use_upper=False,
    )  # fmt: skip
    ner.attrs["resize_output"](ner, 10)
    ner.initialize(X=[Doc(["a", "b"])])
    nodes = list(ner.walk())
    assert len(nodes) == 30
    assert nodes[3].name == "noop" and nodes[0].attrs["has_upper"] is False
    assert nodes[2].get_param("W").shape == (6, 10, 2, 6)


@pytest.mark.parametrize("case", CASES)
def test_spacy_bytes_load_and_score_the_same(fixtures_dir, case):
    record, data = _fixture(fixtures_dir, case)
    model, system = _ours(record)
    model.from_bytes(data)
    assert model.to_bytes() == data
    docs = [Doc(w) for w in record["docs"]]
    step = model.predict(docs)
    batch = init_batch(system, docs, model)
    for expected in record["steps"]:
        ids = batch.token_ids()
        assert ids.tolist() == expected["ids"], expected["move"]
        scores = step.predict(ids)
        numpy.testing.assert_allclose(scores, expected["scores"], rtol=1e-4, atol=1e-5)
        batch.apply(numpy.full(len(batch.active), system.names.index(expected["move"])))


def test_seed_and_released_signatures_build():
    t2v = dict(width=8, depth=1, embed_size=20, window_size=1, maxout_pieces=2)
    for kwargs, nF in [
        ({"nr_feature_tokens": 8}, 8),
        ({"nr_feature_tokens": 6}, 6),
        ({"nr_feature_tokens": 13}, 13),
        ({"nr_feature_tokens": 1}, 1),
        ({"nr_feature_tokens": 2}, 2),
        ({"nr_feature_tokens": 3}, 3),
        ({"state_type": "parser", "extra_state_tokens": True}, 13),
        ({"state_type": "ner", "extra_state_tokens": False}, 3),
    ]:
        tok2vec = HashEmbedCNN(subword_features=False, pretrained_vectors=None, **t2v)
        model = TransitionBasedParser(tok2vec, hidden_width=6, maxout_pieces=2, nO=5, **kwargs)
        model.initialize(X=[Doc(["a", "b", "c"])])
        assert model.get_ref("lower").get_dim("nF") == nF
        assert model.attrs["state_features"].seed_ner6 == (
            "nr_feature_tokens" in kwargs and nF == 6
        )


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"state_type": "tagger", "extra_state_tokens": False}, "state_type"),
        ({"state_type": "parser"}, "extra_state_tokens"),
        ({"nr_feature_tokens": 7}, "nr_feature_tokens must be one of"),
        ({"nr_feature_tokens": 8, "state_type": "parser"}, "not both"),
        ({"state_type": "parser", "extra_state_tokens": False, "hidden_width": 0}, "hidden_width"),
    ],
)
def test_bad_settings(kwargs, message):
    tok2vec = HashEmbedCNN(
        width=8, depth=1, embed_size=20, window_size=1, maxout_pieces=2,
        subword_features=False, pretrained_vectors=None,
    )  # fmt: skip
    with pytest.raises(ValueError, match=message):
        TransitionBasedParser(tok2vec, **kwargs)


def test_missing_nO_is_a_clear_error():
    tok2vec = HashEmbedCNN(
        width=8, depth=1, embed_size=20, window_size=1, maxout_pieces=2,
        subword_features=False, pretrained_vectors=None,
    )  # fmt: skip
    model = TransitionBasedParser(tok2vec, state_type="parser", extra_state_tokens=False)
    with pytest.raises(ValueError, match="number of moves"):
        model.initialize(X=[Doc(["a"])])


def test_weights_round_trip_and_resize(fixtures_dir):
    record, _ = _fixture(fixtures_dir, "parser_a9")
    model, system = _ours(record)
    data = model.to_bytes()
    other, _ = _ours(record)
    other.from_bytes(data)
    assert other.to_bytes() == data
    docs = [Doc(w) for w in record["docs"]]
    ids = init_batch(system, docs, model).token_ids()
    numpy.testing.assert_array_equal(
        model.predict(docs).predict(ids), other.predict(docs).predict(ids)
    )
    # growing the output keeps the old rows and marks the new classes unseen
    upper_W = model.get_ref("upper").get_param("W").copy()
    model.attrs["resize_output"](model, 9)
    assert model.get_ref("upper").get_param("W").shape == (9, 6)
    numpy.testing.assert_array_equal(model.get_ref("upper").get_param("W")[:7], upper_W)
    assert model.attrs["unseen_classes"] == {7, 8}
    scores = model.predict(docs).predict(ids)
    assert (scores[:, 7:] == scores.min()).all()
