"""spacy.Tagger.v1 against taggers built and saved by spaCy 3.8.18 + spacy-legacy
3.0.12 (fixtures/make_fixtures.py): same tree, and spaCy's weights load into ours
and give spaCy's probabilities."""

import json
from pathlib import Path

import numpy
import pytest
from thinc.api import Config

from arch_tok2vec import Doc, registry

MODELS = Path(__file__).parent / "fixtures" / "models"
CASES = [c["case"] for c in json.loads((MODELS / "INDEX.json").read_text())["cases"]]


class Case:
    def __init__(self, name):
        base = MODELS / name
        self.name = name
        self.data = json.loads(base.with_suffix(".json").read_text("utf8"))
        self.bytes = base.with_suffix(".bin").read_bytes()
        self.config = base.with_suffix(".cfg").read_text("utf8")
        self.docs = [Doc(words) for words in self.data["input"]["docs"]]
        self.n_tags = self.data["n_tags"]

    def tags(self, docs):
        eye = numpy.eye(self.n_tags, dtype="float32")
        return [eye[numpy.arange(len(doc)) % self.n_tags] for doc in docs]

    def build(self, initialize=True):
        model = registry.resolve(Config().from_str(self.config))["model"]
        if initialize:
            if self.data["nO_given"]:
                model.initialize(X=self.docs)
            else:
                model.initialize(X=self.docs, Y=self.tags(self.docs))
        return model

    def loaded(self):
        return self.build().from_bytes(self.bytes)


@pytest.fixture(params=CASES)
def case(request):
    return Case(request.param)


def _tree(model):
    nodes = list(model.walk())
    where = {id(node): i for i, node in enumerate(nodes)}
    return [
        {
            "index": i,
            "name": node.name,
            "dims": {d: node.maybe_get_dim(d) for d in node.dim_names},
            "params": {
                p: list(node.get_param(p).shape) if node.has_param(p) else None
                for p in sorted(node.param_names)
            },
            "attrs": {
                k: v
                for k, v in sorted(node.attrs.items())
                if isinstance(v, (int, float, str, bool, type(None), list, dict))
            },
            "layers": [where[id(layer)] for layer in node.layers],
            "refs": {r: where.get(id(node.get_ref(r))) for r in sorted(node.ref_names)},
        }
        for i, node in enumerate(nodes)
    ]


def _close(got, expected, atol=1e-5):
    assert len(got) == len(expected)
    for g, e in zip(got, expected):
        assert g.dtype == numpy.float32
        numpy.testing.assert_allclose(
            g, numpy.array(e, dtype="float32").reshape(g.shape), atol=atol
        )


def test_tree_matches_spacy(case):
    expected = case.data["nodes"]
    got = _tree(case.build())
    assert len(got) == len(expected)
    for g, e in zip(got, expected):
        assert g == e, f"node #{e['index']} differs"


def test_a11_tree_shape():
    model = Case("tagger_a11").build()
    nodes = list(model.walk())
    assert len(nodes) == 27
    softmax = nodes[5]
    assert softmax.name == "softmax"
    assert model.get_ref("softmax") is softmax and model.get_ref("output_layer") is softmax
    assert model.get_ref("tok2vec") is nodes[1]
    assert softmax.get_param("W").shape == (3, 8) and softmax.get_param("b").shape == (3,)
    assert softmax.attrs["softmax_normalize"] is True
    assert softmax.attrs["softmax_temperature"] == 1.0
    assert nodes[2].name == "with_array(softmax)" and nodes[2].attrs["pad"] == 0
    assert model.get_dim("nO") == 3


def test_spacy_weights_load_and_give_spacy_outputs(case):
    model = case.loaded()
    _close(model.predict(case.docs), case.data["outputs"])
    assert model.to_bytes() == case.bytes


def test_spacy_weights_load_into_an_uninitialized_model(case):
    model = case.build(initialize=False)
    model.from_bytes(case.bytes)
    _close(model.predict(case.docs), case.data["outputs"])


def test_each_doc_alone_shapes_and_dtypes(case):
    model = case.loaded()
    for doc, expected in zip(case.docs, case.data["outputs_batch_of_one"]):
        (Y,) = model.predict([doc])
        assert Y.shape == (len(doc), case.n_tags) and Y.dtype == numpy.float32
        _close([Y], [expected])


def test_rows_are_probabilities(case):
    model = case.loaded()
    for Y in model.predict(case.docs):
        assert (Y >= 0).all() and (Y <= 1).all()
        numpy.testing.assert_allclose(Y.sum(axis=1), 1.0, atol=1e-5)


def test_empty_docs(case):
    model = case.loaded()
    with_empty = model.predict(case.docs + [Doc([])])
    shapes = [list(y.shape) for y in with_empty]
    assert shapes == case.data["output_shapes_with_empty_doc_last"]
    _close(with_empty[:-1], case.data["outputs_with_empty_doc_last"][:-1])
    all_empty = model.predict([Doc([]), Doc([])])
    assert [list(y.shape) for y in all_empty] == case.data["output_shapes_two_empty_docs"]
    assert all(y.dtype == numpy.float32 for y in all_empty)
    # and while training: the backward pass accepts the empty gradients
    Y, backprop = model.begin_update([Doc([]), Doc([])])
    assert [y.shape for y in Y] == [(0, case.n_tags)] * 2
    backprop([numpy.zeros_like(y) for y in Y])


def test_untrained_output_is_uniform(case):
    assert case.data["untrained_uniform"]
    model = case.build()
    for doc, Y in zip(case.docs, model.predict(case.docs)):
        assert Y.shape == (len(doc), case.n_tags)
        numpy.testing.assert_allclose(Y, 1.0 / case.n_tags, atol=1e-7)


def test_bytes_and_disk_round_trip(case, tmp_path):
    model = case.loaded()
    # change the weights away from the fixture's, so the round trip is what restores them
    rng = numpy.random.default_rng(1)
    for node in model.walk():
        for name in node.param_names:
            if node.has_param(name):
                shape = node.get_param(name).shape
                node.set_param(name, rng.normal(0, 0.2, shape).astype("float32"))
    before = model.predict(case.docs)
    other = case.build()
    other.from_bytes(model.to_bytes())
    for a, b in zip(other.predict(case.docs), before):
        numpy.testing.assert_array_equal(a, b)
    model.to_disk(tmp_path / "tagger")
    third = case.build()
    third.from_disk(tmp_path / "tagger")
    for a, b in zip(third.predict(case.docs), before):
        numpy.testing.assert_array_equal(a, b)
    assert third.to_bytes() == model.to_bytes()
