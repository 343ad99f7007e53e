"""Tok2VecListener.v1, WithTransformer.v1 and SharedTransformer: one transformer
run per batch, its output and backprop handed to every listener."""

import numpy
import pytest
from thinc.api import (
    Adam,
    Config,
    Softmax,
    chain,
    list2ragged,
    reduce_first,
    reduce_max,
    reduce_mean,
    reduce_sum,
    with_array,
)

from arch_tok2vec import Doc, registry
from arch_transformers import (
    SharedTransformer,
    Tok2VecListener,
    TransformerModel,
    WithTransformer,
    batch_id,
    find_listeners,
    strided_spans,
)
from arch_transformers.architectures.transformer import get_shim
from arch_transformers.sharing import GradientCollector, broadcast

DOCS = [
    Doc(["The", "cat", "sat", "on", "the", "mat", "."]),
    Doc(["A", " ", "dog"], spaces=[True, False, False]),  # the " " token has no wordpiece
    Doc([]),
]


def transformer(path):
    model = TransformerModel(str(path), strided_spans(4, 2))
    model.initialize(X=DOCS)
    return model


def test_tree():
    model = Tok2VecListener(reduce_mean(), grad_factor=0.5)
    assert [n.name for n in model.walk()] == [
        "transformer-listener>>trfs2arrays",
        "transformer-listener",
        "trfs2arrays",
        "reduce_mean",
    ]
    assert model.get_ref("listener") is model.layers[0]
    assert model.layers[1].attrs["grad_factor"] == 0.5


@pytest.mark.parametrize("pooling", [reduce_mean, reduce_max, reduce_sum, reduce_first])
def test_one_row_per_token_for_every_pooling(tiny_bert, pooling):
    trf = transformer(tiny_bert)
    listener = Tok2VecListener(pooling())
    broadcast(trf, find_listeners(listener), DOCS, is_train=False)
    arrays = listener.predict(DOCS)
    assert [a.shape for a in arrays] == [(7, 32), (3, 32), (0, 32)]
    assert not arrays[1][1].any()  # no wordpiece: zeros
    assert arrays[1][0].any() and arrays[1][2].any()


def test_mean_pooling_matches_the_alignment(tiny_bert):
    trf = transformer(tiny_bert)
    (data,) = trf.predict(DOCS[:1])
    listener = Tok2VecListener(reduce_mean())
    broadcast(trf, find_listeners(listener), DOCS[:1], is_train=False)
    (vectors,) = listener.predict(DOCS[:1])
    flat = data.hidden.reshape(-1, 32)
    for i in range(7):
        rows = data.token_wordpieces(i)
        assert len(rows) >= 1
        numpy.testing.assert_allclose(vectors[i], flat[rows].mean(axis=0), rtol=1e-5, atol=1e-6)


def gradient_into_transformer(path, grad_factor):
    trf = transformer(path)
    listener = Tok2VecListener(reduce_mean(), grad_factor=grad_factor)
    captured = []
    outputs, _ = trf.begin_update(DOCS)
    from arch_transformers.architectures.listener import receive

    receive(listener.layers[0], batch_id(DOCS), outputs, captured.append)
    arrays, backprop = listener.begin_update(DOCS)
    backprop([numpy.ones_like(a) for a in arrays])
    return captured[0]


def test_grad_factor_scales_the_gradient(tiny_bert):
    one = gradient_into_transformer(tiny_bert, 1.0)
    two = gradient_into_transformer(tiny_bert, 2.5)
    zero = gradient_into_transformer(tiny_bert, 0.0)
    # rows: "[CLS] T ##h ##e cat sat on [SEP]", "[CLS] sat on the mat [SEP] ..", ...
    assert [g.shape for g in one] == [(3, 8, 32), (1, 8, 32), (0, 8, 32)]
    for a, b, c in zip(one, two, zero):
        numpy.testing.assert_allclose(b, 2.5 * a)
        assert not c.any()
    # mean pooling splits a token's gradient over its wordpieces: "The" has three,
    # "cat" one (row 0 only), "sat" one in each of rows 0 and 1
    numpy.testing.assert_allclose(one[0][0, 1:4], numpy.full((3, 32), 1 / 3), rtol=1e-6)
    assert one[0][0, 4].tolist() == [1.0] * 32
    assert one[0][0, 5].tolist() == [0.5] * 32 and one[0][1, 1].tolist() == [0.5] * 32
    assert not one[0][:, 0].any()  # [CLS] gets nothing


@pytest.mark.parametrize("value", [-1.0, float("nan"), "1", True])
def test_grad_factor_validated(value):
    with pytest.raises(ValueError, match="grad_factor must be a number >= 0"):
        Tok2VecListener(reduce_mean(), grad_factor=value)


def test_pooling_validated():
    with pytest.raises(TypeError, match="pooling must be a thinc Model"):
        Tok2VecListener("reduce_mean")


def test_listener_without_a_transformer():
    listener = Tok2VecListener(reduce_mean())
    with pytest.raises(ValueError, match="has received no transformer output"):
        listener.predict(DOCS)


def test_mismatched_batch_is_an_error(tiny_bert):
    trf = transformer(tiny_bert)
    listener = Tok2VecListener(reduce_mean())
    broadcast(trf, find_listeners(listener), DOCS[:1], is_train=True)
    with pytest.raises(ValueError, match="mismatched batch") as err:
        listener.begin_update(DOCS[1:2])
    assert f"batch {batch_id(DOCS[:1])} (1 Docs)" in str(err.value)
    assert f"called on batch {batch_id(DOCS[1:2])} (1 Docs)" in str(err.value)
    listener.begin_update(DOCS[:1])  # the right batch works


def test_prediction_batch_cannot_backprop(tiny_bert):
    trf = transformer(tiny_bert)
    listener = Tok2VecListener(reduce_mean())
    broadcast(trf, find_listeners(listener), DOCS, is_train=False)
    arrays, backprop = listener.begin_update(DOCS)
    with pytest.raises(ValueError, match="came from a prediction"):
        backprop(arrays)


def test_gradient_collector_sums_and_runs_once():
    calls = []
    collector = GradientCollector(calls.append, expected=2)
    collector([numpy.ones((1, 2, 3))])
    assert calls == []
    collector([2 * numpy.ones((1, 2, 3))])
    assert len(calls) == 1 and calls[0][0].tolist() == numpy.full((1, 2, 3), 3.0).tolist()
    with pytest.raises(ValueError, match="already run"):
        collector([numpy.ones((1, 2, 3))])
    partial = GradientCollector(calls.append, expected=3)
    partial([numpy.ones((1,))])
    partial.flush()  # a listener that never reported: flush sends what there is
    assert len(calls) == 2


def tagger_head():
    return chain(Tok2VecListener(reduce_mean()), with_array(Softmax()))


def doc_classifier_head():
    return chain(Tok2VecListener(reduce_mean()), list2ragged(), reduce_mean(), Softmax())


def test_with_transformer_validates(tiny_bert):
    trf = TransformerModel(str(tiny_bert), strided_spans(4, 2))
    with pytest.raises(ValueError, match="has no spacy-transformers.Tok2VecListener.v1"):
        WithTransformer(trf, with_array(Softmax()))
    with pytest.raises(TypeError, match="must be a spacy-transformers.TransformerModel.v1"):
        WithTransformer(tagger_head(), tagger_head())


def test_shared_transformer_feeds_two_models(tiny_bert):
    """A token tagger and a document classifier share one transformer: it runs
    once per batch, both heads learn, and the transformer's weights change."""
    trf = TransformerModel(str(tiny_bert), strided_spans(4, 2))
    tagger, classifier = tagger_head(), doc_classifier_head()
    shared = SharedTransformer(trf, [tagger, classifier])
    assert len(shared.listeners) == 2
    docs = [Doc(["the", "cat", "sat"]), Doc(["a", "dog", "runs", "fast"]), Doc(["cat"])]
    tags = [numpy.eye(3, dtype="float32")[[0, 1, 2]], numpy.eye(3, dtype="float32")[[0, 1, 2, 2]]]
    tags.append(numpy.eye(3, dtype="float32")[[1]])
    cats = numpy.eye(2, dtype="float32")[[0, 1, 0]]
    shared.initialize(docs)
    tagger.initialize(X=docs, Y=tags)
    classifier.initialize(X=docs, Y=cats)
    calls = []
    forward = trf._func

    def counting(model, X, is_train):
        calls.append(is_train)
        return forward(model, X, is_train)

    trf._func = counting
    weights = get_shim(trf).transformer.embeddings.word_embeddings.weight
    before = weights.detach().clone()
    optimizer = Adam(0.01)
    losses = []
    for _ in range(25):
        shared.begin_update(docs)
        tag_probs, tag_backprop = tagger.begin_update(docs)
        cat_probs, cat_backprop = classifier.begin_update(docs)
        tag_backprop([p - t for p, t in zip(tag_probs, tags)])
        cat_backprop(cat_probs - cats)
        tagger.finish_update(optimizer)
        classifier.finish_update(optimizer)
        shared.finish_update(optimizer)
        losses.append(
            (
                sum(float(((p - t) ** 2).sum()) for p, t in zip(tag_probs, tags)),
                float(((cat_probs - cats) ** 2).sum()),
            )
        )
    assert calls == [True] * 25  # one transformer run per batch, for both heads
    assert losses[-1][0] < losses[0][0] / 4 and losses[-1][1] < losses[0][1] / 4
    assert float((weights.detach() - before).abs().max()) > 1e-4
    shared.predict(docs)
    assert [p.argmax(axis=1).tolist() for p in tagger.predict(docs)] == [
        [0, 1, 2],
        [0, 1, 2, 2],
        [1],
    ]
    assert classifier.predict(docs).argmax(axis=1).tolist() == [0, 1, 0]
    with pytest.raises(ValueError, match="mismatched batch"):
        tagger.predict(docs[:2])


def test_with_transformer_from_a_config(tiny_bert):
    config = Config().from_str(
        f"""
        [model]
        @architectures = "arch.WithTransformer.v1"

        [model.transformer]
        @architectures = "spacy-transformers.TransformerModel.v1"
        name = "{tiny_bert}"
        tokenizer_config = {{}}

        [model.transformer.get_spans]
        @span_getters = "strided_spans.v1"
        window = 4
        stride = 2

        [model.model]
        @layers = "chain.v1"

        [model.model.*.listener]
        @architectures = "spacy-transformers.Tok2VecListener.v1"
        grad_factor = 1.0

        [model.model.*.listener.pooling]
        @layers = "reduce_mean.v1"

        [model.model.*.softmax]
        @layers = "with_array.v1"

        [model.model.*.softmax.layer]
        @layers = "Softmax.v1"
        nO = 3
        """
    )
    model = registry.resolve(config)["model"]
    model.initialize(X=DOCS)
    assert [p.shape for p in model.predict(DOCS)] == [(7, 3), (3, 3), (0, 3)]
