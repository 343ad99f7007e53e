import pytest

from arch_tok2vec.architectures.encoders import (
    BiLSTMEncoder,
    MaxoutWindowEncoder,
    MishWindowEncoder,
)
from arch_tok2vec.architectures.tok2vec import (
    CharacterEmbed,
    HashCharEmbedBiLSTM,
    HashCharEmbedCNN,
    HashEmbedCNN,
    MultiHashEmbed,
)
from arch_tok2vec.layers import CharEmbed, FeatureExtractor, StaticVectors

CNN = dict(
    pretrained_vectors=None,
    width=8,
    depth=1,
    embed_size=20,
    window_size=1,
    maxout_pieces=2,
    subword_features=True,
)


@pytest.mark.parametrize(
    "change,message",
    [
        ({"width": 0}, "width must be a positive integer, got 0"),
        ({"width": -3}, "width must be a positive integer, got -3"),
        ({"depth": 0}, "depth must be a positive integer, got 0"),
        ({"embed_size": 0}, "embed_size must be a positive integer"),
        ({"maxout_pieces": 0}, "maxout_pieces must be a positive integer"),
        ({"window_size": -1}, "window_size must be an integer >= 0, got -1"),
        ({"width": 8.5}, "width must be an integer, got 8.5"),
        ({"embed_size": 1}, "embed_size must be at least 2 with subword_features"),
        ({"dropout": 1.5}, "dropout must be a number in [0, 1)"),
    ],
)
def test_hash_embed_cnn_rejects_bad_settings(change, message):
    with pytest.raises(ValueError) as err:
        HashEmbedCNN(**{**CNN, **change})
    assert message in str(err.value)


def test_multi_hash_embed_checks():
    with pytest.raises(ValueError, match="rows and attrs must have the same length"):
        MultiHashEmbed(8, ["NORM", "PREFIX"], [10], False)
    with pytest.raises(ValueError, match="attrs: Unknown token attribute 'LEMMA'"):
        MultiHashEmbed(8, ["NORM", "LEMMA"], [10, 10], False)
    with pytest.raises(ValueError, match=r"rows\[1\] must be a positive integer"):
        MultiHashEmbed(8, ["NORM", "PREFIX"], [10, 0], False)
    with pytest.raises(ValueError, match="attrs must name at least one"):
        MultiHashEmbed(8, [], [], False)


def test_encoder_checks():
    with pytest.raises(ValueError, match="maxout_pieces must be a positive integer"):
        MaxoutWindowEncoder(8, 1, 0, 2)
    with pytest.raises(ValueError, match="depth must be a positive integer"):
        MishWindowEncoder(8, 1, 0)
    with pytest.raises(ValueError, match="width must be even"):
        BiLSTMEncoder(7, 1)


def test_character_embed_checks():
    with pytest.raises(ValueError, match="feature: Unknown token attribute 'TAG'"):
        CharacterEmbed(8, 10, 4, 3, False, feature="TAG")
    with pytest.raises(ValueError, match="nC must be a positive integer"):
        CharacterEmbed(8, 10, 4, 0, False)
    with pytest.raises(ValueError, match="pretrained_vectors must be null"):
        HashCharEmbedCNN(True, 8, 1, 20, 2, 1, 4, 3)
    with pytest.raises(ValueError, match="width must be even"):
        HashCharEmbedBiLSTM(None, 7, 1, 20, 2, 4, 3)


def test_layer_checks():
    with pytest.raises(ValueError, match="Unknown token attribute 'FOO'"):
        FeatureExtractor(["ORTH", "FOO"])
    with pytest.raises(ValueError, match="columns must name at least one"):
        FeatureExtractor([])
    with pytest.raises(ValueError, match="nM must be a positive integer"):
        CharEmbed(0, 4)
    with pytest.raises(ValueError, match="dropout must be a number"):
        StaticVectors(8, dropout=-0.5)


def test_static_vectors_without_vectors_is_a_clear_error():
    from arch_tok2vec import Doc

    model = HashEmbedCNN(**{**CNN, "pretrained_vectors": True})
    with pytest.raises(ValueError, match="the Docs' vocab has no vectors"):
        model.initialize(X=[Doc(["no", "vectors", "here"])])


def test_feature_extractor_reads_spans():
    from arch_tok2vec import Doc

    doc = Doc(["a", "New", "York", "day"])
    model = FeatureExtractor(["ORTH", "SHAPE"])
    (span_features,) = model.predict([doc[1:3]])
    assert span_features.dtype.name == "uint64"
    assert span_features.tolist() == doc.to_array(["ORTH", "SHAPE"])[1:3].tolist()
