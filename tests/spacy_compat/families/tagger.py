"""spaCy compatibility facts for arch-tagger (see families/README.md for the fields)."""

DIST = "arch-tagger"

THEIRS = {
    "spacy.Tagger.v1": "spacy_legacy.architectures.tagger:Tagger_v1",
}

NO_SPACY_PROVIDER = {}

NOT_DECLARED = {}

INPUT = {}

LABELS = {"spacy.Tagger.v1": "tokens"}

SPACY_CANNOT = []

EXTRA_ATTRS = {}

EXTRA_CASES = {
    "tagger/hashembedcnn_subword": (
        "[model]\n"
        '@architectures = "spacy.Tagger.v1"\nnO = 4\n\n'
        "[model.tok2vec]\n"
        '@architectures = "spacy.HashEmbedCNN.v1"\n'
        "pretrained_vectors = null\nwidth = 16\ndepth = 2\nembed_size = 300\n"
        "window_size = 1\nmaxout_pieces = 3\nsubword_features = true\n"
    ),
}

FIXTURE_SCRIPTS = ["packages/arch-tagger/tests/fixtures/make_fixtures.py"]

_HASH_EMBED_CNN = {
    "@architectures": "spacy.HashEmbedCNN.v1",
    "pretrained_vectors": None,
    "width": 64,
    "depth": 2,
    "embed_size": 2000,
    "window_size": 1,
    "maxout_pieces": 3,
    "subword_features": True,
}

PIPELINES = [
    {
        "name": "tagger",
        "data": ("sentences", "ewt"),
        "epochs": 6,
        "components": [
            ("tagger", {"model": {"@architectures": "spacy.Tagger.v1", "tok2vec": _HASH_EMBED_CNN}})
        ],
    },
    {
        "name": "tok2vec_tagger",
        "data": ("sentences", "ewt"),
        "epochs": 6,
        "components": [
            ("tok2vec", {"model": _HASH_EMBED_CNN}),
            (
                "tagger",
                {
                    "model": {
                        "@architectures": "spacy.Tagger.v1",
                        "tok2vec": {
                            "@architectures": "spacy.Tok2VecListener.v1",
                            "width": 64,
                            "upstream": "*",
                        },
                    }
                },
            ),
        ],
    },
]
"""Pipelines make_pipelines.py trains with spaCy + spacy-legacy alone and saves."""

TRAIN = [
    {
        "name": "tagger",
        "config": "train_tagger.cfg",
        "data": ("sentences", "ewt"),
        "score": "tag_acc",
        "baseline": 0.5,
    },
]
"""`spacy train` runs: a config in configs/, the data slice converted to .spacy, the
score to report and a floor both runs must pass."""
