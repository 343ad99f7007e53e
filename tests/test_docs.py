"""The reference pages in docs/*.md: every example config builds, every registered
name has a section whose parameter table matches the function it documents."""

import inspect
import re

import pytest
from thinc.api import Config

from arch_tok2vec import registry
from arch_tok2vec.cli import initialize_on_samples
from arch_tok2vec.introspect import find

from declared import ROOT

PAGES = sorted((ROOT / "docs").glob("*.md"))


def _sections():
    sections = {}
    for page in PAGES:
        parts = re.split(r"^## ", page.read_text("utf8"), flags=re.M)[1:]
        sections.update({part.splitlines()[0].strip().strip("`"): part for part in parts})
    return sections


def _configs():
    configs = []
    for page in PAGES:
        configs += re.findall(r"^```ini\n(.*?)^```", page.read_text("utf8"), flags=re.M | re.S)
    return configs


def test_docs_have_examples():
    assert len(_configs()) >= 10


@pytest.fixture(scope="session")
def tiny_transformer(tmp_path_factory):
    """A tiny random BERT on disk, for the examples that load ${paths.transformer}."""
    from arch_transformers.tiny import write_tiny_bert

    return write_tiny_bert(tmp_path_factory.mktemp("tiny-bert"), max_length=512)


@pytest.mark.parametrize("index", range(len(_configs())))
def test_example_config_builds(index, request):
    text = _configs()[index]
    overrides = {}
    if "${paths.transformer}" in text:  # no download: point the example at a local model
        overrides["paths.transformer"] = str(request.getfixturevalue("tiny_transformer"))
    config = Config().from_str(text, overrides=overrides)
    model = registry.resolve(config)["model"]
    X, _ = initialize_on_samples(model)
    assert model.predict(X) is not None


def _registered_names():
    return sorted(
        {n for n in _sections() if find(n)}
        | {item.name for item in __import__("arch_tok2vec.introspect").introspect.registered()}
    )


@pytest.mark.parametrize("name", _registered_names())
def test_every_registered_name_has_a_section_with_its_parameters(name):
    sections = _sections()
    assert name in sections, f"no page in docs/ has a section '## {name}'"
    func = find(name)[0].load()
    params = [
        p.name
        for p in inspect.signature(func).parameters.values()
        if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
    ]
    # the rows of the section's parameter table (other tables may follow it)
    table = re.search(r"^\| Parameter \|.*\n(?:\|.*\n?)*", sections[name], flags=re.M)
    rows = re.findall(r"^\| `?(\w+)`? \|", table.group() if table else "", flags=re.M)
    rows = [r for r in rows if r != "Parameter"]
    assert rows == params, f"{name}: table lists {rows}, the function takes {params}"
    doc = inspect.getdoc(func) or ""
    for param in params:
        assert re.search(rf"^{param}: \S", doc, flags=re.M), (
            f"{name}: no docstring line for {param}"
        )
