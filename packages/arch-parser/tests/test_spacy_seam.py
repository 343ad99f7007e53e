"""The seam to spaCy's components (arch_parser.layers.spacy_step): only spaCy Docs get
spaCy's step model; arch Docs get ours, and running the model never imports spaCy.
(spaCy's components driving the model are tested in tests/spacy_compat/ at the repo root.)"""

import subprocess
import sys

from arch_parser import TransitionBasedParser
from arch_parser.layers.spacy_step import is_spacy_batch
from arch_parser.step import ParserStepModel
from arch_tok2vec import Doc
from arch_tok2vec.architectures.tok2vec import HashEmbedCNN

SCRIPT = """
import sys
from arch_parser import TransitionBasedParser
from arch_tok2vec import Doc
from arch_tok2vec.architectures.tok2vec import HashEmbedCNN
t2v = HashEmbedCNN(width=8, depth=1, embed_size=20, window_size=1, maxout_pieces=2,
                   subword_features=False, pretrained_vectors=None)
model = TransitionBasedParser(t2v, state_type="ner", extra_state_tokens=False, nO=5)
docs = [Doc(["a", "b", "c"])]
model.initialize(X=docs)
step, finish = model.begin_update(docs)
print(type(step).__module__, "spacy" in sys.modules)
"""


def _model():
    t2v = HashEmbedCNN(
        width=8, depth=1, embed_size=20, window_size=1, maxout_pieces=2,
        subword_features=False, pretrained_vectors=None,
    )  # fmt: skip
    model = TransitionBasedParser(t2v, state_type="parser", extra_state_tokens=False, nO=7)
    model.initialize(X=[Doc(["a", "b"])])
    return model


def test_arch_docs_get_our_step_model():
    model = _model()
    docs = [Doc(["She", "ate", "."]), Doc(["Hi"])]
    assert not is_spacy_batch(docs)
    assert isinstance(model.predict(docs), ParserStepModel)


def test_only_spacy_docs_are_a_spacy_batch():
    for value in ([], (), None, [Doc(["a"])], ["a", "b"], [[1, 2]]):
        assert not is_spacy_batch(value), value


def test_running_the_model_never_imports_spacy():
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, check=True
    ).stdout.split()
    assert out == ["arch_parser.step", "False"]
