"""Every tok2vec architecture against models built and saved by spaCy 3.8.18 +
spacy-legacy 3.0.12 (fixtures/make_fixtures.py): same tree, same parameters,
weights saved by spaCy load into ours and give spaCy's outputs."""

import json

import numpy
import pytest
from thinc.api import Config, Ragged

from arch_tok2vec import Doc, Vectors, Vocab, registry

# Deliberate differences from spaCy's tree, documented in docs/architectures.md:
# MishWindowEncoder.v1 sets receptive_field, so Tok2Vec.v1 pads between docs.
ALLOWED = {
    "tok2vec_multihash_mish": {2: {"pad": 2}, 8: {"receptive_field": 2}},
    "mishwindowencoder": {0: {"receptive_field": 1}},
}


def _cases(fixtures_dir):
    return json.loads((fixtures_dir / "models" / "INDEX.json").read_text())["cases"]


def pytest_generate_tests(metafunc):
    if "case" in metafunc.fixturenames:
        from pathlib import Path

        index = Path(__file__).parent / "fixtures" / "models" / "INDEX.json"
        names = [c["case"] for c in json.loads(index.read_text())["cases"]]
        metafunc.parametrize("case", names)


class Case:
    def __init__(self, fixtures_dir, name):
        base = fixtures_dir / "models" / name
        self.name = name
        self.data = json.loads(base.with_suffix(".json").read_text("utf8"))
        self.bytes = base.with_suffix(".bin").read_bytes()
        self.config = base.with_suffix(".cfg").read_text("utf8")
        vectors = self.data["vectors"]
        self.vocab = Vocab()
        if vectors:
            self.vocab.vectors = Vectors(vectors["words"], numpy.array(vectors["data"], "float32"))
        if "docs" in self.data["input"]:
            self.X = [Doc(words, vocab=self.vocab) for words in self.data["input"]["docs"]]
        else:
            self.X = numpy.array(self.data["input"]["array"], dtype="float32")

    def build(self):
        model = registry.resolve(Config().from_str(self.config))["model"]
        model.initialize(X=self.X)
        return model


@pytest.fixture
def fixture_case(fixtures_dir, case):
    return Case(fixtures_dir, case)


def _node_list(model):
    nodes = list(model.walk())
    position = {id(node): i for i, node in enumerate(nodes)}
    out = []
    for i, node in enumerate(nodes):
        params = {
            p: list(node.get_param(p).shape) if node.has_param(p) else None
            for p in node.param_names
        }
        attrs = {k: v for k, v in node.attrs.items() if _saved(v)}
        out.append(
            {
                "index": i,
                "name": node.name,
                "dims": {d: node.maybe_get_dim(d) for d in node.dim_names},
                "params": params,
                "attrs": attrs,
                "layers": [position[id(layer)] for layer in node.layers],
                "refs": {r: position[id(node.get_ref(r))] for r in node.ref_names},
            }
        )
    return out


def _saved(value):
    # What thinc keeps when serialising attrs (msgpack-able plain data).
    return isinstance(value, (int, float, str, bool, type(None), list, dict))


def _compare(got, expected, atol=1e-5):
    if isinstance(expected, dict):  # a Ragged
        numpy.testing.assert_allclose(
            got.data, numpy.array(expected["data"]).reshape(got.data.shape), atol=atol
        )
        assert got.lengths.tolist() == expected["lengths"]
    elif isinstance(got, list):
        assert len(got) == len(expected)
        for g, e in zip(got, expected):
            e = numpy.array(e, dtype=g.dtype).reshape(g.shape)
            if g.dtype == numpy.uint64:
                numpy.testing.assert_array_equal(g, e)
            else:
                numpy.testing.assert_allclose(g, e, atol=atol)
    else:
        numpy.testing.assert_allclose(got, numpy.array(expected, dtype=got.dtype), atol=atol)


def test_tree_matches_spacy(fixture_case):
    expected = fixture_case.data["nodes"]
    for i, attrs in ALLOWED.get(fixture_case.name, {}).items():
        expected[i]["attrs"].update(attrs)
    got = _node_list(fixture_case.build())
    assert len(got) == len(expected)
    for g, e in zip(got, expected):
        assert g == e, f"node #{e['index']} differs"


def test_spacy_weights_load_and_give_spacy_outputs(fixture_case):
    model = fixture_case.build()
    model.from_bytes(fixture_case.bytes)
    _compare(model.predict(fixture_case.X), fixture_case.data["outputs"])
    if fixture_case.name not in ALLOWED:
        assert model.to_bytes() == fixture_case.bytes


def test_outputs_per_doc_and_dtypes(fixture_case):
    model = fixture_case.build()
    model.from_bytes(fixture_case.bytes)
    if not isinstance(fixture_case.X, list):
        Y = model.predict(fixture_case.X)
        assert Y.dtype == numpy.float32 and Y.shape == fixture_case.X.shape
        return
    for doc, expected in zip(fixture_case.X, fixture_case.data["outputs_batch_of_one"]):
        Y = model.predict([doc])
        if isinstance(Y, Ragged):
            assert Y.data.shape[0] == len(doc)
            continue
        assert len(Y) == 1 and Y[0].shape[0] == len(doc)
        assert Y[0].dtype in (numpy.float32, numpy.uint64)
        if expected is not None:
            _compare(Y, [expected])


def test_bytes_and_disk_round_trip(fixture_case, tmp_path):
    model = fixture_case.build()
    before = model.predict(fixture_case.X)
    other = registry.resolve(Config().from_str(fixture_case.config))["model"]
    other.initialize(X=fixture_case.X)
    other.from_bytes(model.to_bytes())
    _same(other.predict(fixture_case.X), before)
    model.to_disk(tmp_path / "model")
    third = registry.resolve(Config().from_str(fixture_case.config))["model"]
    third.initialize(X=fixture_case.X)
    third.from_disk(tmp_path / "model")
    _same(third.predict(fixture_case.X), before)


def _same(a, b):
    if isinstance(a, Ragged):
        numpy.testing.assert_array_equal(a.data, b.data)
    elif isinstance(a, list):
        for x, y in zip(a, b):
            numpy.testing.assert_array_equal(x, y)
    else:
        numpy.testing.assert_array_equal(a, b)


def test_mish_tok2vec_is_batch_independent_when_built_here(fixtures_dir):
    case = Case(fixtures_dir, "tok2vec_multihash_mish")
    model = case.build()
    docs = [doc for doc in case.X if len(doc)]
    batched = model.predict(docs)
    for doc, y in zip(docs, batched):
        # BLAS blocking depends on the batch size: float32 rounding only
        numpy.testing.assert_allclose(model.predict([doc])[0], y, rtol=1e-5, atol=1e-5)
