"""spacy.EntityLinker.v1 against models built and saved by spaCy 3.8.18 + spacy-legacy
3.0.12 (fixtures/make_fixtures.py): same tree, and spaCy's weights load into ours
and give spaCy's context vectors."""

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
        self.width = self.data["width"]

    def build(self, initialize=True):
        model = registry.resolve(Config().from_str(self.config))["model"]
        if initialize:
            Y = numpy.zeros((len(self.docs), self.width), dtype="float32")
            model.initialize(X=self.docs, Y=Y)
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


def test_tree_matches_spacy(case):
    expected = case.data["nodes"]
    got = _tree(case.build())
    assert len(got) == len(expected)
    for g, e in zip(got, expected):
        assert g == e, f"node #{e['index']} differs"


def test_a19_tree_shape():
    model = Case("entity_linker_a19").build()
    nodes = list(model.walk())
    assert len(nodes) == 35
    assert model.get_ref("output_layer") is nodes[2] and nodes[2].name == "linear"
    assert model.get_ref("tok2vec") is nodes[8]
    assert nodes[2].get_param("W").shape == (5, 8)
    assert nodes[6].name == "reduce_mean" and nodes[9].name == "list2ragged"
    assert nodes[10].name == "maxout" and nodes[10].get_param("W").shape == (8, 2, 8)
    assert nodes[11].attrs["dropout_rate"] == 0.0
    assert model.get_dim("nO") == 5


def test_spacy_weights_load_and_give_spacy_outputs(case):
    model = case.loaded()
    Y = model.predict(case.docs)
    assert Y.dtype == numpy.float32 and Y.shape == (len(case.docs), case.width)
    numpy.testing.assert_allclose(Y, numpy.array(case.data["outputs"], dtype="float32"), atol=1e-5)
    assert model.to_bytes() == case.bytes


def test_spacy_weights_load_into_an_uninitialized_model(case):
    model = case.build(initialize=False)
    model.from_bytes(case.bytes)
    Y = model.predict(case.docs)
    numpy.testing.assert_allclose(Y, numpy.array(case.data["outputs"], dtype="float32"), atol=1e-5)


def test_each_doc_alone(case):
    model = case.loaded()
    for doc, expected in zip(case.docs, case.data["outputs_batch_of_one"]):
        Y = model.predict([doc])
        assert Y.shape == (1, case.width)
        numpy.testing.assert_allclose(Y[0], numpy.array(expected, dtype="float32"), atol=1e-5)


def test_bytes_and_disk_round_trip(case, tmp_path):
    model = case.loaded()
    rng = numpy.random.default_rng(1)
    for node in model.walk():
        for name in node.param_names:
            if node.has_param(name):
                shape = node.get_param(name).shape
                node.set_param(name, rng.normal(0, 0.2, shape).astype("float32"))
    before = model.predict(case.docs)
    other = case.build()
    other.from_bytes(model.to_bytes())
    numpy.testing.assert_array_equal(other.predict(case.docs), before)
    model.to_disk(tmp_path / "linker")
    third = case.build()
    third.from_disk(tmp_path / "linker")
    numpy.testing.assert_array_equal(third.predict(case.docs), before)


def test_nO_comes_from_Y_at_initialize():
    case = Case("entity_linker_a19")
    model = registry.resolve(Config().from_str(case.config))["model"]
    model.initialize(X=case.docs, Y=numpy.zeros((2, 64), dtype="float32"))
    assert model.get_dim("nO") == 64
    assert model.predict(case.docs).shape == (len(case.docs), 64)


def test_unknown_output_width_is_a_clear_error():
    case = Case("entity_linker_a19")
    model = registry.resolve(Config().from_str(case.config))["model"]
    with pytest.raises(ValueError, match="output width is unknown"):
        model.initialize(X=case.docs)
    model = Case("entity_linker_subword_nO").build(initialize=False)
    with pytest.raises(ValueError, match="nO is 16 but the entity vectors"):
        model.initialize(X=case.docs, Y=numpy.zeros((2, 8), dtype="float32"))
    with pytest.raises(ValueError, match="empty list of Docs"):
        model.initialize(X=[], Y=numpy.zeros((2, 16), dtype="float32"))


def test_bad_arguments():
    from arch_entitylinker import EntityLinker

    with pytest.raises(TypeError, match="tok2vec must be a thinc Model"):
        EntityLinker("not a model")
    tok2vec = Case("entity_linker_a19").build().get_ref("tok2vec")
    with pytest.raises(ValueError, match="nO must be a positive integer"):
        EntityLinker(tok2vec, nO=0)


def test_learns_to_point_at_a_target():
    """The context vector of a Doc moves towards a target vector when trained
    with the cosine loss."""
    from thinc.api import Adam, CosineDistance

    case = Case("entity_linker_subword_nO")
    model = case.build()
    rng = numpy.random.default_rng(0)
    target = rng.normal(size=(len(case.docs), case.width)).astype("float32")
    distance = CosineDistance(normalize=False)
    optimizer = Adam(0.01)
    first = None
    for _ in range(30):
        Y, backprop = model.begin_update(case.docs)
        loss = distance.get_loss(Y, target)
        first = loss if first is None else first
        backprop(distance.get_grad(Y, target))
        model.finish_update(optimizer)
    assert loss < 0.5 * first
