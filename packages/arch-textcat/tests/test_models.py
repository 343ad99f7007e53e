"""Every text classification architecture against models built and saved by
spaCy 3.8.18 + spacy-legacy 3.0.12 (fixtures/make_fixtures.py): same tree, same
parameters; weights saved by spaCy load into ours and give spaCy's outputs."""

import gzip
import json
from pathlib import Path

import numpy
import pytest
from thinc.api import Config

from arch_tok2vec import Doc, Vectors, Vocab, registry

INDEX = Path(__file__).parent / "fixtures" / "models" / "INDEX.json"
CASES = [case["case"] for case in json.loads(INDEX.read_text())["cases"]]
ARCHITECTURES = [
    case["case"] for case in json.loads(INDEX.read_text())["cases"] if case["kind"] != "layer"
]


class Case:
    def __init__(self, fixtures_dir, name):
        base = fixtures_dir / "models" / name
        self.name = name
        self.data = json.loads(base.with_suffix(".json").read_text("utf8"))
        self.bytes = gzip.decompress((fixtures_dir / "models" / f"{name}.bin.gz").read_bytes())
        self.config = base.with_suffix(".cfg").read_text("utf8")
        vectors = self.data["vectors"]
        self.vocab = Vocab()
        if vectors:
            self.vocab.vectors = Vectors(vectors["words"], numpy.array(vectors["data"], "float32"))
        self.X = [Doc(words, vocab=self.vocab) for words in self.data["input"]["docs"]]
        labels = self.data["labels"]
        self.Y = None if labels is None else numpy.array(labels, dtype="float32")

    def build(self, initialize=True):
        model = registry.resolve(Config().from_str(self.config))["model"]
        if initialize:
            model.initialize(X=self.X, Y=self.Y)
        return model


@pytest.fixture(params=CASES)
def case(request, fixtures_dir):
    return Case(fixtures_dir, request.param)


@pytest.fixture(params=ARCHITECTURES)
def arch_case(request, fixtures_dir):
    return Case(fixtures_dir, request.param)


def node_list(model):
    nodes = list(model.walk())
    position = {id(node): i for i, node in enumerate(nodes)}
    out = []
    for i, node in enumerate(nodes):
        out.append(
            {
                "index": i,
                "name": node.name,
                "dims": {d: node.maybe_get_dim(d) for d in node.dim_names},
                "params": {
                    p: list(node.get_param(p).shape) if node.has_param(p) else None
                    for p in node.param_names
                },
                "attrs": {k: v for k, v in node.attrs.items() if _kept_when_saved(v)},
                "layers": [position[id(layer)] for layer in node.layers],
                "refs": {r: position[id(node.get_ref(r))] for r in node.ref_names},
            }
        )
    return out


def _kept_when_saved(value):
    return isinstance(value, (int, float, str, bool, type(None), list, dict))


def compare(got, expected, atol=1e-5):
    if isinstance(expected, dict):  # the (keys, counts, lengths) of extract_ngrams
        keys, counts, lengths = got
        assert keys.dtype == numpy.uint64
        numpy.testing.assert_array_equal(keys, numpy.array(expected["keys"], dtype="uint64"))
        numpy.testing.assert_array_equal(counts, numpy.array(expected["values"], "float32"))
        assert lengths.tolist() == expected["lengths"]
    else:
        assert got.dtype == numpy.float32
        numpy.testing.assert_allclose(got, numpy.array(expected, dtype="float32"), atol=atol)


def test_tree_matches_spacy(case):
    expected = case.data["nodes"]
    got = node_list(case.build())
    assert len(got) == len(expected)
    for g, e in zip(got, expected):
        assert g == e, f"node #{e['index']} differs"


def test_spacy_weights_load_and_give_spacy_outputs(case):
    model = case.build()
    model.from_bytes(case.bytes)
    compare(model.predict(case.X), case.data["outputs"])
    assert model.to_bytes() == case.bytes


def test_spacy_weights_load_into_an_uninitialized_model(arch_case):
    # What spaCy does when it loads a pipeline: build from the config, then
    # from_bytes, with no initialize in between.
    model = arch_case.build(initialize=False)
    model.from_bytes(arch_case.bytes)
    compare(model.predict(arch_case.X), arch_case.data["outputs"])


def test_each_doc_alone_gives_its_row(case):
    model = case.build()
    model.from_bytes(case.bytes)
    for doc, expected in zip(case.X, case.data["outputs_batch_of_one"]):
        compare(model.predict([doc]), expected)


def test_output_shape_dtype_and_range(arch_case):
    model = arch_case.build()
    model.from_bytes(arch_case.bytes)
    Y = model.predict(arch_case.X)
    n_labels = arch_case.Y.shape[1]
    assert Y.shape == (len(arch_case.X), n_labels) and Y.dtype == numpy.float32
    assert model.get_dim("nO") == n_labels
    if "no_output_layer" not in arch_case.name:
        assert ((Y >= 0) & (Y <= 1)).all()
    if not model.attrs["multi_label"]:
        numpy.testing.assert_allclose(Y.sum(axis=1), 1.0, atol=1e-6)


def test_bytes_and_disk_round_trip(case, tmp_path):
    model = case.build()
    model.from_bytes(case.bytes)
    before = model.predict(case.X)
    other = case.build()
    other.from_bytes(model.to_bytes())
    _same(other.predict(case.X), before)
    model.to_disk(tmp_path / "model")
    third = case.build()
    third.from_disk(tmp_path / "model")
    _same(third.predict(case.X), before)


def _same(a, b):
    if isinstance(a, tuple):
        for x, y in zip(a, b):
            numpy.testing.assert_array_equal(x, y)
    else:
        numpy.testing.assert_array_equal(a, b)
