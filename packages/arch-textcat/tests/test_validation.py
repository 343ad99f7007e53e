"""Bad settings fail when the model is built, with an error naming the setting."""

import pytest
from thinc.api import Config, Linear

from arch_textcat.architectures.textcat import (
    TextCat,
    TextCatBOW,
    TextCatCNN,
    TextCatEnsemble,
    TextCatLowData,
)
from arch_textcat.layers import extract_ngrams
from arch_tok2vec import registry

ENSEMBLE = dict(
    width=16,
    embed_size=100,
    pretrained_vectors=None,
    exclusive_classes=True,
    ngram_size=1,
    window_size=1,
    conv_depth=2,
    dropout=None,
)


@pytest.mark.parametrize(
    "setting,value,message",
    [
        ("width", 0, "width must be an integer >= 2, got 0"),
        ("width", 1, "width must be an integer >= 2, got 1"),
        ("width", 8.5, "width must be an integer, got 8.5"),
        ("embed_size", 0, "embed_size must be a positive integer, got 0"),
        ("ngram_size", 0, "ngram_size must be a positive integer, got 0"),
        ("window_size", -1, "window_size must be an integer >= 0, got -1"),
        ("conv_depth", -1, "conv_depth must be an integer >= 0, got -1"),
        ("dropout", 1.0, r"dropout must be a number in \[0, 1\), got 1.0"),
        ("dropout", -0.1, r"dropout must be a number in \[0, 1\), got -0.1"),
        ("exclusive_classes", "yes", "exclusive_classes must be true or false, got 'yes'"),
        ("nO", 0, "nO must be a positive integer, got 0"),
    ],
)
@pytest.mark.parametrize("function", [TextCatEnsemble, TextCat])
def test_ensemble_settings(function, setting, value, message):
    with pytest.raises(ValueError, match=message):
        function(**{**ENSEMBLE, setting: value})


def test_zero_conv_depth_and_window_are_allowed():
    model = TextCatEnsemble(**{**ENSEMBLE, "conv_depth": 0, "window_size": 0})
    assert model.attrs["multi_label"] is False


@pytest.mark.parametrize(
    "kwargs,message",
    [
        (dict(ngram_size=0), "ngram_size must be a positive integer, got 0"),
        (dict(ngram_size=True), "ngram_size must be an integer, got True"),
        (dict(exclusive_classes=None), "exclusive_classes must be true or false, got None"),
        (dict(no_output_layer=1), "no_output_layer must be true or false, got 1"),
        (dict(nO=-2), "nO must be a positive integer, got -2"),
    ],
)
def test_bow_settings(kwargs, message):
    settings = dict(exclusive_classes=False, ngram_size=1, no_output_layer=False)
    with pytest.raises(ValueError, match=message):
        TextCatBOW(**{**settings, **kwargs})


def test_cnn_settings():
    with pytest.raises(ValueError, match="tok2vec must be a thinc Model, got str"):
        TextCatCNN("spacy.HashEmbedCNN.v1", exclusive_classes=True)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="exclusive_classes must be true or false"):
        TextCatCNN(Linear(4, 4), exclusive_classes="false")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "kwargs,message",
    [
        (dict(width=0, dropout=None), "width must be a positive integer, got 0"),
        (dict(width=8, dropout=1.5), r"dropout must be a number in \[0, 1\), got 1.5"),
        (dict(width=8, dropout=None, nO=0), "nO must be a positive integer, got 0"),
    ],
)
def test_low_data_settings(kwargs, message):
    with pytest.raises(ValueError, match=message):
        TextCatLowData(**kwargs)


def test_extract_ngrams_settings():
    with pytest.raises(ValueError, match="ngram_size must be a positive integer, got 0"):
        extract_ngrams(0)
    with pytest.raises(ValueError, match="attr: Unknown token attribute 'LEMMA'"):
        extract_ngrams(1, attr="LEMMA")


def test_errors_come_through_config_resolution():
    config = Config().from_str(
        """
        [model]
        @architectures = "spacy.TextCatEnsemble.v1"
        width = 16
        embed_size = 100
        pretrained_vectors = null
        exclusive_classes = false
        ngram_size = 1
        window_size = 1
        conv_depth = -2
        dropout = null
        """
    )
    with pytest.raises(ValueError, match="conv_depth must be an integer >= 0, got -2"):
        registry.resolve(config)
