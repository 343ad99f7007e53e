"""spaCy compatibility facts for arch-tok2vec (see families/README.md for the fields)."""

DIST = "arch-tok2vec"

THEIRS = {
    "spacy.HashEmbedCNN.v1": "spacy_legacy.architectures.tok2vec:HashEmbedCNN_v1",
    "spacy.Tok2Vec.v1": "spacy_legacy.architectures.tok2vec:Tok2Vec_v1",
    "spacy.MultiHashEmbed.v1": "spacy_legacy.architectures.tok2vec:MultiHashEmbed_v1",
    "spacy.CharacterEmbed.v1": "spacy_legacy.architectures.tok2vec:CharacterEmbed_v1",
    "spacy.MaxoutWindowEncoder.v1": "spacy_legacy.architectures.tok2vec:MaxoutWindowEncoder_v1",
    "spacy.MishWindowEncoder.v1": "spacy_legacy.architectures.tok2vec:MishWindowEncoder_v1",
    "spacy.FeatureExtractor.v1": "spacy.ml.featureextractor:FeatureExtractor",
    "spacy.CharEmbed.v1": "spacy.ml._character_embed:CharacterEmbed",
    "spacy.StaticVectors.v1": "spacy_legacy.layers.staticvectors_v1:StaticVectors_v1",
}
"""Each name we declare that spaCy 3.8 also provides -> spaCy's own function."""

NO_SPACY_PROVIDER = {
    "spacy.HashCharEmbedCNN.v1": "registered by spaCy in mid-2020, removed before v3.0 "
    "(2020-07-28): no spaCy release has it, so nothing is shadowed",
    "spacy.HashCharEmbedBiLSTM.v1": "registered by spaCy in mid-2020, removed before v3.0: "
    "nothing is shadowed",
    "arch.BiLSTMEncoder.v1": "arch's own name (thinc LSTM, no torch); spaCy's "
    "spacy.TorchBiLSTMEncoder.v1 builds a PyTorch model we do not reproduce",
}
"""Names we declare in spaCy's groups that spaCy 3.8 does not have at all."""

NOT_DECLARED = {
    "spacy.TorchBiLSTMEncoder.v1": "spaCy core's encoder wraps a PyTorch LSTM (parameters "
    "inside a PyTorchShim); ours is a thinc LSTM, whose saved weights cannot load into "
    "spaCy's tree nor the reverse, so it lives under arch.BiLSTMEncoder.v1",
}
"""Names that could not be drop-ins and therefore must not be in spaCy's groups."""

INPUT = {
    "spacy.MaxoutWindowEncoder.v1": "array",
    "spacy.MishWindowEncoder.v1": "array",
    "arch.BiLSTMEncoder.v1": "arrays",
}
"""Top-level name -> input kind ("docs" by default, "array" = one Floats2d,
"arrays" = a list of Floats2d)."""

LABELS = {}
"""Top-level name -> "tokens" / "docs" label arrays given to initialize (default none)."""

SPACY_CANNOT = [
    # (config pattern, stage, error pattern, why)
    (
        r"(?m)^\[model\.extract\]",
        "build",
        r"unexpected keyword argument 'extract'",
        "mid-2020 Tok2Vec.v1(extract, embed, encode): the released v1 has no extract; ours "
        "accepts both",
    ),
    (
        r'(?ms)(MultiHashEmbed|CharacterEmbed)\.v1"\n(?:(?!^\[).)*^columns = ',
        "build",
        r"unexpected keyword argument 'columns'",
        "mid-2020 signature (columns, use_subwords, ...): spaCy's released v1 takes "
        "width/attrs/rows/include_static_vectors; ours accepts both",
    ),
    (
        r'(?ms)HashEmbedCNN\.v1"\n(?:(?!^\[).)*^dropout = ',
        "build",
        r"unexpected keyword argument 'dropout'",
        "the seed page's HashEmbedCNN.v1 takes dropout; the released v1 does not; ours "
        "accepts both",
    ),
]
"""Configs that spaCy's own builder cannot build, with the reason (checked: the
error must occur at that stage and match; a listed case that builds fails too)."""

EXTRA_ATTRS = {
    "receptive_field": "MishWindowEncoder.v1 records its receptive field (spaCy's sets none), "
    "so that Tok2Vec.v1 pads between Docs; loading spaCy's bytes restores spaCy's padding, and "
    "the extra attr is all that differs in the bytes we save back",
}
"""Attributes our nodes save that spaCy's do not (each with its reason)."""

EXTRA_CASES = {
    "tok2vec/hashembedcnn_vectors": (
        "[model]\n"
        '@architectures = "spacy.HashEmbedCNN.v1"\n'
        "pretrained_vectors = true\nwidth = 16\ndepth = 3\nembed_size = 300\n"
        "window_size = 1\nmaxout_pieces = 2\nsubword_features = false\n"
    ),
    "tok2vec/charembed_orth_mish": (
        "[model]\n"
        '@architectures = "spacy.Tok2Vec.v1"\n\n'
        "[model.embed]\n"
        '@architectures = "spacy.CharacterEmbed.v1"\n'
        "width = 16\nrows = 200\nnM = 4\nnC = 5\n"
        'include_static_vectors = false\nfeature = "ORTH"\n\n'
        "[model.encode]\n"
        '@architectures = "spacy.MishWindowEncoder.v1"\nwidth = 16\nwindow_size = 2\ndepth = 2\n'
    ),
}
"""Parity cases beyond the docs' examples."""

FIXTURE_SCRIPTS = ["packages/arch-tok2vec/tests/fixtures/make_fixtures.py"]
"""Scripts that regenerate a checked-in fixture from spaCy (compared byte for byte)."""

PIPELINES = []
"""Saved-pipeline specs for make_pipelines.py (the tok2vec is inside the tagger's and
textcat's pipelines, and the tagger family also saves a tok2vec component)."""

TRAIN = []
"""spacy train runs (see families/tagger.py)."""
