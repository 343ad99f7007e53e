"""spaCy compatibility facts for arch-textcat (see families/README.md for the fields)."""

DIST = "arch-textcat"

THEIRS = {
    "spacy.TextCatEnsemble.v1": "spacy_legacy.architectures.textcat:TextCatEnsemble_v1",
    "spacy.TextCatBOW.v1": "spacy_legacy.architectures.textcat:TextCatBOW_v1",
    "spacy.TextCatCNN.v1": "spacy_legacy.architectures.textcat:TextCatCNN_v1",
    "spacy.TextCatLowData.v1": "spacy.ml.models.textcat:build_text_classifier_lowdata",
    "spacy.extract_ngrams.v1": "spacy.ml.extract_ngrams:extract_ngrams",
}

NO_SPACY_PROVIDER = {
    "spacy.TextCat.v1": "the ensemble's mid-2020 name, renamed spacy.TextCatEnsemble.v1 before "
    "v3.0: no spaCy release has it, so nothing is shadowed",
}

NOT_DECLARED = {}

INPUT = {}

LABELS = {
    "spacy.TextCatEnsemble.v1": "docs",
    "spacy.TextCat.v1": "docs",
    "spacy.TextCatBOW.v1": "docs",
    "spacy.TextCatCNN.v1": "docs",
    "spacy.TextCatLowData.v1": "docs",
}

SPACY_CANNOT = [
    (
        r"(?ms)TextCatLowData\.v1\".*^pretrained_vectors = ",
        "build",
        r"unexpected keyword argument 'pretrained_vectors'",
        "mid-2020 TextCatLowData.v1 signature (pretrained_vectors); ours accepts both",
    ),
    (
        r"TextCatLowData\.v1",
        "initialize",
        r"Ragged|list2ragged|has no attribute|lengths",
        "spaCy's TextCatLowData.v1 cannot run at all: its StaticVectors layer returns a "
        "Ragged that list2ragged then receives (so no saved pipeline with it can exist); ours "
        "drops that node and works",
    ),
    (
        r"(?ms)TextCatEnsemble\.v1\".*^pretrained_vectors = true",
        "initialize",
        r".",
        "spaCy's released ensemble with pretrained_vectors = true fails at initialize; ours "
        "works with spaCy's tree",
    ),
]

EXTRA_ATTRS = {}

EXTRA_CASES = {
    "textcat/ensemble_exclusive": (
        "[model]\n"
        '@architectures = "spacy.TextCatEnsemble.v1"\n'
        "width = 16\nembed_size = 300\npretrained_vectors = null\nexclusive_classes = true\n"
        "ngram_size = 2\nwindow_size = 1\nconv_depth = 2\ndropout = null\n"
    ),
    "textcat/cnn_exclusive": (
        "[model]\n"
        '@architectures = "spacy.TextCatCNN.v1"\nexclusive_classes = true\n\n'
        "[model.tok2vec]\n"
        '@architectures = "spacy.HashEmbedCNN.v1"\n'
        "pretrained_vectors = null\nwidth = 16\ndepth = 2\nembed_size = 300\n"
        "window_size = 1\nmaxout_pieces = 3\nsubword_features = true\n"
    ),
    "textcat/bow_multilabel_ngram3": (
        "[model]\n"
        '@architectures = "spacy.TextCatBOW.v1"\n'
        "exclusive_classes = false\nngram_size = 3\nno_output_layer = false\n"
    ),
}

FIXTURE_SCRIPTS = ["packages/arch-textcat/tests/fixtures/make_fixtures.py"]

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
        "name": "textcat_ensemble",
        "data": ("texts", "banking"),
        "epochs": 8,
        "components": [
            (
                "textcat",
                {
                    "model": {
                        "@architectures": "spacy.TextCatEnsemble.v1",
                        "width": 64,
                        "embed_size": 2000,
                        "pretrained_vectors": None,
                        "exclusive_classes": True,
                        "ngram_size": 2,
                        "window_size": 1,
                        "conv_depth": 2,
                        "dropout": None,
                    }
                },
            )
        ],
    },
    {
        "name": "textcat_bow",
        "data": ("texts", "cooking"),
        "epochs": 8,
        "components": [
            (
                "textcat_multilabel",
                {
                    "model": {
                        "@architectures": "spacy.TextCatBOW.v1",
                        "exclusive_classes": False,
                        "ngram_size": 2,
                        "no_output_layer": False,
                    }
                },
            )
        ],
    },
    {
        "name": "textcat_cnn",
        "data": ("texts", "banking"),
        "epochs": 8,
        "components": [
            (
                "textcat",
                {
                    "model": {
                        "@architectures": "spacy.TextCatCNN.v1",
                        "exclusive_classes": True,
                        "tok2vec": _HASH_EMBED_CNN,
                    }
                },
            )
        ],
    },
]

TRAIN = [
    {
        "name": "textcat",
        "config": "train_textcat.cfg",
        "data": ("texts", "banking"),
        "score": "cats_score",
        "baseline": 0.4,
    },
]
