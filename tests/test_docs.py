"""docs/architectures.md: every example config builds, every parameter table
matches the function it documents."""

import inspect
import re

import pytest
from thinc.api import Config

from arch_tok2vec import registry
from arch_tok2vec.introspect import find
from arch_tok2vec.samples import sample_docs

from declared import ROOT

DOC = ROOT / "docs" / "architectures.md"


def _sections():
    text = DOC.read_text("utf8")
    parts = re.split(r"^## ", text, flags=re.M)[1:]
    return {part.splitlines()[0].strip().strip("`"): part for part in parts}


def _configs():
    text = DOC.read_text("utf8")
    return re.findall(r"^```ini\n(.*?)^```", text, flags=re.M | re.S)


def test_docs_have_examples():
    assert len(_configs()) >= 10


@pytest.mark.parametrize("index", range(len(_configs())))
def test_example_config_builds(index):
    config = Config().from_str(_configs()[index])
    model = registry.resolve(config)["model"]
    docs = sample_docs()
    try:
        model.initialize(X=docs)
        Y = model.predict(docs)
    except Exception:
        import numpy

        X = numpy.random.default_rng(0).normal(size=(12, model.get_dim("nO"))).astype("float32")
        if model.attrs.get("takes_list"):
            X = [X[:5], X[5:]]
        model.initialize(X=X)
        Y = model.predict(X)
    assert Y is not None


def _registered_names():
    return sorted(
        {n for n in _sections() if find(n)}
        | {item.name for item in __import__("arch_tok2vec.introspect").introspect.registered()}
    )


@pytest.mark.parametrize("name", _registered_names())
def test_every_registered_name_has_a_section_with_its_parameters(name):
    sections = _sections()
    assert name in sections, f"docs/architectures.md has no section '## {name}'"
    func = find(name)[0].load()
    params = [
        p.name
        for p in inspect.signature(func).parameters.values()
        if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
    ]
    rows = re.findall(r"^\| `?(\w+)`? \|", sections[name], flags=re.M)
    rows = [r for r in rows if r != "Parameter"]
    assert rows == params, f"{name}: table lists {rows}, the function takes {params}"
    doc = inspect.getdoc(func) or ""
    for param in params:
        assert re.search(rf"^{param}: \S", doc, flags=re.M), (
            f"{name}: no docstring line for {param}"
        )
