"""spacy.Tagger.v1 is found through its entry point; importing registers nothing."""

import inspect
import subprocess
import sys

from thinc.api import Config

import arch_tagger
from arch_tagger.architectures.tagger import Tagger
from arch_tok2vec import registry
from arch_tok2vec.introspect import describe, find

CONFIG = """
[model]
@architectures = "spacy.Tagger.v1"
nO = 4

[model.tok2vec]
@architectures = "spacy.HashEmbedCNN.v1"
pretrained_vectors = null
width = 16
depth = 2
embed_size = 100
window_size = 1
maxout_pieces = 3
subword_features = true
"""


def test_entry_point_resolves_to_our_function():
    assert registry.architectures.get("spacy.Tagger.v1") is Tagger
    (item,) = find("spacy.Tagger.v1")
    assert item.package == "arch-tagger" and item.version == arch_tagger.__version__
    assert item.target == "arch_tagger.architectures.tagger:Tagger"


def test_config_resolves():
    model = registry.resolve(Config().from_str(CONFIG))["model"]
    assert model.get_ref("output_layer").get_dim("nO") == 4
    assert model.get_ref("tok2vec").get_dim("nO") == 16


def test_import_registers_nothing():
    code = (
        "import catalogue, arch_tagger, arch_tagger.architectures.tagger\n"
        "print(sorted(k for k in catalogue.REGISTRY if 'Tagger' in ''.join(k)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_docstring_describes_every_parameter():
    info = describe(Tagger)
    assert [p.name for p in info.params] == list(inspect.signature(Tagger).parameters)
    assert all(p.description for p in info.params)
    assert [p.default for p in info.params] == ["(required)", "None"]
