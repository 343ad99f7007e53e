"""spaCy compatibility facts for arch-entitylinker (see families/README.md for the fields).

The entity linker's `spacy train` run needs a knowledge base and entity patterns
written beside the corpus, so it has its own test (test_entitylinker.py)
rather than a TRAIN entry."""

DIST = "arch-entitylinker"

THEIRS = {
    "spacy.EntityLinker.v1": "spacy_legacy.architectures.entity_linker:EntityLinker_v1",
}

NO_SPACY_PROVIDER = {}

_ASSETS = (
    "the seed's `assets` group; spaCy 3.8 has no such registry and keeps its own "
    "function of this name in `misc` (a factory over spaCy's Vocab returning spaCy's KB), "
    "which stays spaCy's with arch installed (test_entitylinker.py); ours return arch's "
    "KnowledgeBase and are found by arch_tok2vec.registry and archs"
)

NO_SPACY_REGISTRY = {
    "spacy.EmptyKB.v1": _ASSETS,
    "spacy.CandidateGenerator.v1": _ASSETS,
    "spacy.KBFromFile.v1": _ASSETS,
}

NOT_DECLARED = {}

INPUT = {}

LABELS = {"spacy.EntityLinker.v1": "docs"}

SPACY_CANNOT = []

EXTRA_ATTRS = {}

EXTRA_CASES = {
    "entitylinker/hashembedcnn_subword_nO": (
        "[model]\n"
        '@architectures = "spacy.EntityLinker.v1"\nnO = 5\n\n'
        "[model.tok2vec]\n"
        '@architectures = "spacy.HashEmbedCNN.v1"\n'
        "pretrained_vectors = null\nwidth = 8\ndepth = 2\nembed_size = 20\n"
        "window_size = 1\nmaxout_pieces = 3\nsubword_features = true\n"
    ),
}

FIXTURE_SCRIPTS = ["packages/arch-entitylinker/tests/fixtures/make_fixtures.py"]
FIXTURE_OTHERS = [
    # made once by make_old_model.py with arch-entitylinker 0.3.2 (a model of the old format)
    "packages/arch-entitylinker/tests/fixtures/make_old_model.py",
    "packages/arch-entitylinker/tests/fixtures/old_model",
    "packages/arch-entitylinker/tests/fixtures/old_model_links.json",
]

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
        "name": "entity_linker",
        "data": ("links", "gum"),
        "kb": "gum",
        "epochs": 6,
        "components": [
            (
                "entity_linker",
                {
                    "entity_vector_length": 24,
                    "model": {
                        "@architectures": "spacy.EntityLinker.v1",
                        "nO": None,
                        "tok2vec": _HASH_EMBED_CNN,
                    },
                },
            )
        ],
    },
]

TRAIN = []
