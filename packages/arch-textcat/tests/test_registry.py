"""Every name is an entry point of arch-textcat, found by arch_tok2vec.registry;
nothing is registered by importing our modules."""

import subprocess
import sys
import textwrap

import catalogue
import pytest

from arch_tok2vec import registry
from arch_tok2vec.introspect import describe, find, registered

OURS = {
    "architectures": [
        "spacy.TextCatEnsemble.v1",
        "spacy.TextCat.v1",
        "spacy.TextCatBOW.v1",
        "spacy.TextCatCNN.v1",
        "spacy.TextCatLowData.v1",
    ],
    "layers": ["spacy.extract_ngrams.v1"],
}
PAIRS = [(r, n) for r, names in OURS.items() for n in names]


@pytest.mark.parametrize("registry_name,name", PAIRS)
def test_every_name_is_an_entry_point_of_arch_textcat(registry_name, name):
    found = [item for item in find(name) if item.package == "arch-textcat"]
    assert len(found) == 1 and found[0].registry == registry_name
    assert callable(getattr(registry, registry_name).get(name))


@pytest.mark.parametrize("registry_name,name", PAIRS)
def test_every_parameter_is_described(registry_name, name):
    info = describe(find(name)[0].load())
    assert info.summary
    for param in info.params:
        assert param.description, f"{name}: {param.name} has no description"


def test_nothing_is_registered_in_memory():
    for item in registered():
        if item.package == "arch-textcat":
            item.load()
    names = {n for names in OURS.values() for n in names}
    assert not [key for key in catalogue.REGISTRY if key[-1] in names]


def test_a_name_resolves_without_importing_its_module_first():
    script = textwrap.dedent(
        """
        import sys
        from arch_tok2vec import registry
        module = "arch_textcat.architectures.textcat"
        assert module not in sys.modules, "imported too early"
        func = registry.architectures.get("spacy.TextCatBOW.v1")
        assert func.__module__ == module
        print("ok")
        """
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"
