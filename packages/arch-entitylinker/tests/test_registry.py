"""Every name is an entry point of arch-entitylinker, found by arch_tok2vec.registry;
nothing is registered by importing our modules; the KB functions sit in the
seed's ``assets`` registry."""

import subprocess
import sys
import textwrap

import catalogue
import numpy
import pytest
from thinc.api import Config

from arch_entitylinker import KnowledgeBase
from arch_entitylinker.about import __version__
from arch_tok2vec import Doc, registry
from arch_tok2vec.introspect import describe, find, registered

OURS = {
    "architectures": ["spacy.EntityLinker.v1"],
    "assets": ["spacy.EmptyKB.v1", "spacy.CandidateGenerator.v1", "spacy.KBFromFile.v1"],
    "tasks": ["arch.entity_linker.v1"],
}
PAIRS = [(r, n) for r, names in OURS.items() for n in names]


@pytest.mark.parametrize("registry_name,name", PAIRS)
def test_every_name_is_an_entry_point_of_arch_entitylinker(registry_name, name):
    found = [item for item in find(name) if item.package == "arch-entitylinker"]
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
        if item.package == "arch-entitylinker":
            item.load()
    names = {n for names in OURS.values() for n in names}
    assert not [key for key in catalogue.REGISTRY if key[-1] in names]


def test_archs_list_shows_the_kb_functions_under_assets():
    from arch_tok2vec.cli import main

    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "from arch_tok2vec.cli import main; main(['list', '--registry', 'assets'])",
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    rows = [line.split() for line in result.stdout.splitlines()]
    assert ["assets", "spacy.EmptyKB.v1", "arch-entitylinker", __version__] in rows
    assert ["assets", "spacy.CandidateGenerator.v1", "arch-entitylinker", __version__] in rows
    assert callable(main)


def test_kb_functions_from_a_config(tmp_path):
    kb = KnowledgeBase(4)
    kb.add_entity("Q1", 2, [1, 0, 0, 0])
    kb.add_alias("Emerson", ["Q1"], [1.0])
    kb.to_disk(tmp_path / "kb.bin")
    config = Config().from_str(
        f"""
        [empty]
        @assets = "spacy.EmptyKB.v1"
        entity_vector_length = 16

        [loaded]
        @assets = "spacy.KBFromFile.v1"
        kb_path = "{tmp_path / "kb.bin"}"

        [generator]
        @assets = "spacy.CandidateGenerator.v1"
        """
    )
    resolved = registry.resolve(config)
    assert resolved["empty"].entity_vector_length == 16 and resolved["empty"].is_empty()
    loaded = resolved["loaded"]
    assert loaded.entity_vector_length == 4 and loaded.get_entity_strings() == ["Q1"]
    get_candidates = resolved["generator"]
    doc = Doc(["Ralph", "Emerson", "wrote"])
    assert [c.entity_ for c in get_candidates(loaded, doc[1:2])] == ["Q1"]
    # case-sensitive, exact text
    assert get_candidates(loaded, "emerson") == [] and get_candidates(loaded, "Emerson ") == []


def test_kb_function_errors(tmp_path):
    EmptyKB = registry.assets.get("spacy.EmptyKB.v1")
    with pytest.raises(ValueError, match="entity_vector_length must be a positive integer"):
        EmptyKB(0)
    KBFromFile = registry.assets.get("spacy.KBFromFile.v1")
    with pytest.raises(ValueError, match="does not exist"):
        KBFromFile(tmp_path / "missing.bin")
    with pytest.raises(ValueError, match="nlp_path"):
        KBFromFile(tmp_path / "missing.bin", nlp_path=tmp_path / "no_pipeline")


def test_kb_imports_without_thinc():
    script = textwrap.dedent(
        """
        import sys
        from arch_entitylinker import KnowledgeBase
        kb = KnowledgeBase(2)
        kb.add_entity("a", 1, [0, 1])
        assert "thinc" not in sys.modules, "thinc imported"
        print("ok")
        """
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_a_name_resolves_without_importing_its_module_first():
    script = textwrap.dedent(
        """
        import sys
        from arch_tok2vec import registry
        module = "arch_entitylinker.architectures.entity_linker"
        assert module not in sys.modules, "imported too early"
        func = registry.architectures.get("spacy.EntityLinker.v1")
        assert func.__module__ == module
        print("ok")
        """
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_empty_docs_in_a_batch():
    model = registry.resolve(
        Config().from_str(
            """
        [model]
        @architectures = "spacy.EntityLinker.v1"
        nO = 8
        [model.tok2vec]
        @architectures = "spacy.HashEmbedCNN.v1"
        pretrained_vectors = null
        width = 16
        depth = 1
        embed_size = 50
        window_size = 1
        maxout_pieces = 2
        subword_features = false
        """
        )
    )["model"]
    docs = [Doc(["A", "test"]), Doc([])]
    model.initialize(X=docs)
    Y = model.predict(docs)
    assert Y.shape == (2, 8) and numpy.isfinite(Y).all()
