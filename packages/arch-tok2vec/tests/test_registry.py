import subprocess
import sys
import textwrap

import catalogue
import pytest
from thinc.api import Config

from arch_tok2vec import registry
from arch_tok2vec.introspect import find, registered

OURS = {
    "architectures": [
        "spacy.HashEmbedCNN.v1",
        "spacy.Tok2Vec.v1",
        "spacy.MultiHashEmbed.v1",
        "spacy.CharacterEmbed.v1",
        "spacy.HashCharEmbedCNN.v1",
        "spacy.HashCharEmbedBiLSTM.v1",
        "spacy.MaxoutWindowEncoder.v1",
        "spacy.MishWindowEncoder.v1",
        "arch.BiLSTMEncoder.v1",
    ],
    "layers": ["spacy.FeatureExtractor.v1", "spacy.CharEmbed.v1", "spacy.StaticVectors.v1"],
}


@pytest.mark.parametrize("registry_name,name", [(r, n) for r, names in OURS.items() for n in names])
def test_every_name_is_an_entry_point_of_arch_tok2vec(registry_name, name):
    found = [item for item in find(name) if item.package == "arch-tok2vec"]
    assert len(found) == 1 and found[0].registry == registry_name
    assert callable(getattr(registry, registry_name).get(name))


def test_nothing_is_registered_in_memory():
    # Loading every entry point imports all our modules; none may register itself.
    for item in registered():
        item.load()
    ours = {(ns, n) for ns, names in OURS.items() for n in names}
    in_memory = {(key[1], key[-1]) for key in catalogue.REGISTRY if key[-1] in {n for _, n in ours}}
    assert not in_memory


def test_a_name_resolves_from_metadata_without_importing_its_module():
    script = textwrap.dedent(
        """
        import sys
        from arch_tok2vec import registry
        module = "arch_tok2vec.architectures.tok2vec"
        assert module not in sys.modules, "imported too early"
        func = registry.architectures.get("spacy.HashEmbedCNN.v1")
        assert module in sys.modules and func.__module__ == module
        print("ok")
        """
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_resolve_a_whole_config():
    config = Config().from_str(
        """
        [model]
        @architectures = "spacy.Tok2Vec.v1"

        [model.embed]
        @architectures = "spacy.MultiHashEmbed.v1"
        width = 8
        attrs = ["NORM", "PREFIX"]
        rows = [10, 5]
        include_static_vectors = false

        [model.encode]
        @architectures = "spacy.MaxoutWindowEncoder.v1"
        width = 8
        window_size = 1
        maxout_pieces = 2
        depth = 2
        """
    )
    model = registry.resolve(config)["model"]
    assert model.get_dim("nO") == 8
    assert model.get_ref("encode").attrs["receptive_field"] == 2


def test_thinc_layers_still_resolve():
    assert registry.layers.get("reduce_mean.v1") is not None
