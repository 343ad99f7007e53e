"""TransformerModel.v1: loading, the tree, forward/backward, saving."""

import numpy
import pytest
from thinc.api import Adam, Config, Softmax, chain, reduce_mean, with_array

from arch_tok2vec import Doc, registry
from arch_transformers import (
    Tok2VecListener,
    TransformerModel,
    WithTransformer,
    doc_spans,
    strided_spans,
)
from arch_transformers.architectures.transformer import get_shim
from arch_transformers.hf import LoadError

DOCS = [
    Doc(["The", "cat", "sat", "on", "the", "mat", "."]),
    Doc([]),
    Doc(["A", "dog", "runs", "fast"]),
]


def loaded(path, getter=None):
    model = TransformerModel(str(path), getter or strided_spans(5, 3))
    model.initialize(X=DOCS)
    return model


def test_tree_and_width(tiny_bert):
    model = TransformerModel(str(tiny_bert), doc_spans(), {"use_fast": True})
    assert [node.name for node in model.walk()] == ["transformer", "pytorch"]
    assert not get_shim(model).loaded and model.maybe_get_dim("nO") is None
    model.initialize()
    assert model.get_dim("nO") == 32
    assert model.attrs["name"] == str(tiny_bert)
    assert model.attrs["tokenizer_config"] == {"use_fast": True}
    assert not model.param_names and not model.layers[0].param_names  # weights are in the shim


def test_built_from_a_config(tiny_bert):
    config = Config().from_str(
        f"""
        [model]
        @architectures = "spacy-transformers.TransformerModel.v1"
        name = "{tiny_bert}"
        tokenizer_config = {{"use_fast": true}}

        [model.get_spans]
        @span_getters = "spacy-transformers.strided_spans.v1"
        window = 4
        stride = 3
        """
    )
    model = registry.resolve(config)["model"]
    model.initialize()
    outputs = model.predict(DOCS)
    assert [o.n_tokens for o in outputs] == [7, 0, 4]
    assert [len(o.spans) for o in outputs] == [2, 0, 1]
    assert all(o.hidden.shape[0] == len(o.spans) and o.width == 32 for o in outputs)


def test_forward_is_deterministic_and_independent_of_the_batch(tiny_bert):
    model = loaded(tiny_bert)
    alone = model.predict([DOCS[0]])[0]
    together = model.predict(DOCS)[0]
    n = alone.hidden.shape[1]
    # padding to a longer row must not change the real wordpieces' vectors
    mask = alone.attention_mask.astype(bool)
    numpy.testing.assert_allclose(
        alone.hidden[mask], together.hidden[:, :n][mask], rtol=1e-5, atol=1e-5
    )


def test_backprop_reaches_the_transformer_weights(tiny_bert):
    model = loaded(tiny_bert)
    torch_model = get_shim(model).transformer
    before = {k: v.detach().clone() for k, v in torch_model.state_dict().items()}
    outputs, backprop = model.begin_update(DOCS)
    assert backprop([numpy.ones_like(o.hidden) for o in outputs]) is DOCS
    model.finish_update(Adam(0.01))
    after = torch_model.state_dict()
    changed = [k for k in before if not numpy.array_equal(before[k].numpy(), after[k].numpy())]
    assert "embeddings.word_embeddings.weight" in changed
    assert any("encoder.layer.1" in k for k in changed)


def test_backprop_checks_gradient_shapes(tiny_bert):
    model = loaded(tiny_bert)
    outputs, backprop = model.begin_update(DOCS)
    with pytest.raises(ValueError, match="backprop got 2 gradients for 3 Docs"):
        backprop([o.hidden for o in outputs[:2]])
    with pytest.raises(ValueError, match="the gradient for Doc 0 has shape"):
        backprop([o.hidden[:, :1] for o in outputs])


def test_round_trip_bytes_gives_identical_outputs(tiny_bert, tmp_path):
    model = loaded(tiny_bert)
    # train a little so the saved weights differ from the folder's
    outputs, backprop = model.begin_update(DOCS)
    backprop([numpy.ones_like(o.hidden) for o in outputs])
    model.finish_update(Adam(0.05))
    expected = model.predict(DOCS)
    data = model.to_bytes()
    # a fresh model whose name no longer exists: everything comes from the bytes
    fresh = TransformerModel(str(tmp_path / "gone"), strided_spans(5, 3))
    fresh.from_bytes(data)
    assert fresh.get_dim("nO") == 32
    for a, b in zip(expected, fresh.predict(DOCS)):
        assert numpy.array_equal(a.hidden, b.hidden)
        assert numpy.array_equal(a.align.data, b.align.data)
        assert a.wordpieces == b.wordpieces
    fresh.initialize()  # initialize keeps the loaded weights (no reload from name)
    assert numpy.array_equal(fresh.predict(DOCS)[0].hidden, expected[0].hidden)
    model.to_disk(tmp_path / "model.bin")
    from_disk = TransformerModel(str(tiny_bert), strided_spans(5, 3)).from_disk(
        tmp_path / "model.bin"
    )
    assert numpy.array_equal(from_disk.predict(DOCS)[0].hidden, expected[0].hidden)


def test_round_trip_with_listeners_and_head(tiny_bert):
    def build():
        head = chain(Tok2VecListener(reduce_mean()), with_array(Softmax(3)))
        return WithTransformer(TransformerModel(str(tiny_bert), strided_spans(5, 3)), head)

    model = build()
    Y = [numpy.eye(3, dtype="float32")[numpy.arange(len(d)) % 3] for d in DOCS]
    model.initialize(X=DOCS, Y=Y)
    optimizer = Adam(0.01)
    for _ in range(3):
        guesses, backprop = model.begin_update(DOCS)
        backprop([g - y for g, y in zip(guesses, Y)])
        model.finish_update(optimizer)
    expected = model.predict(DOCS)
    restored = build().from_bytes(model.to_bytes())
    for a, b in zip(expected, restored.predict(DOCS)):
        assert numpy.array_equal(a, b)


def test_uninitialized_model_says_so(tiny_bert):
    model = TransformerModel(str(tiny_bert), doc_spans())
    with pytest.raises(ValueError, match=r"not loaded; call model.initialize\(\) first"):
        model.predict(DOCS)


def test_missing_folder(tmp_path):
    model = TransformerModel(str(tmp_path / "nowhere"), doc_spans())
    with pytest.raises(LoadError, match="no such folder"):
        model.initialize()


def test_folder_without_a_model(tmp_path):
    model = TransformerModel(str(tmp_path), doc_spans())
    with pytest.raises(LoadError, match="folder without config.json"):
        model.initialize()


def test_hub_name_not_on_disk_says_how_to_get_it():
    model = TransformerModel("arch-tests/no-such-model", doc_spans())
    with pytest.raises(LoadError) as err:
        model.initialize()
    message = str(err.value)
    assert "is not on this machine" in message
    assert "save_pretrained('no-such-model')" in message
    assert '"local_files_only": false' in message


def test_slow_tokenizer_is_refused(tiny_bert):
    model = TransformerModel(str(tiny_bert), doc_spans(), {"use_fast": False})
    try:
        model.initialize()
    except LoadError as err:  # transformers 4 gives a slow tokenizer: refused clearly
        assert "not a fast (Rust) tokenizer" in str(err)
    else:  # transformers 5 has only fast tokenizers: it works
        assert model.predict([Doc(["cat"])])[0].token_wordpieces(0) == [1]


@pytest.mark.parametrize(
    "kwargs,error,message",
    [
        ({"name": ""}, ValueError, "name must be a model folder or hub name"),
        ({"get_spans": None}, TypeError, "get_spans must be a span getter"),
        ({"tokenizer_config": "fast"}, TypeError, "tokenizer_config must be a dict"),
    ],
)
def test_arguments_validated(kwargs, error, message):
    args = {"name": "x", "get_spans": doc_spans(), **kwargs}
    with pytest.raises(error, match=message):
        TransformerModel(**args)


def test_bad_span_getter_output(tiny_bert):
    model = TransformerModel(str(tiny_bert), lambda docs: [[doc[:]] for doc in docs[:1]])
    model.initialize()
    with pytest.raises(ValueError, match="one list of spans per Doc, got 1"):
        model.predict(DOCS[:2])
    other = Doc(["x"])
    model = TransformerModel(str(tiny_bert), lambda docs: [[other[:]] for doc in docs])
    model.initialize()
    with pytest.raises(ValueError, match="a span of another Doc for Doc 0"):
        model.predict(DOCS[:1])
