"""spaCy compatibility facts for arch-transformers (see families/README.md for the fields).

spacy-transformers is not installed in the session (it would pull another torch and
transformers), so no drop-in for spacy-transformers is claimed: the names it also
provides are declared only in arch's own groups (NOT_DECLARED), and the names
declared in spaCy's groups are free ones (NO_SPACY_PROVIDER, NO_SPACY_REGISTRY).
The dedicated checks are in test_transformers.py."""

DIST = "arch-transformers"

THEIRS = {}

NO_SPACY_PROVIDER = {
    "spacy-transformers.Tok2VecListener.v1": "the seed-era listener name; spacy-transformers "
    "renamed it TransformerListener.v1 before 1.0, so no release provides it and nothing is "
    "shadowed",
    "arch.WithTransformer.v1": "arch's own name (a transformer bundled with a model over "
    "listeners)",
}

_SPAN_GETTERS = (
    "spacy.util.registry.span_getters exists only once spacy-transformers is imported, "
    "which registers only the spacy-transformers.-prefixed names, so the seed's "
    "un-prefixed name shadows nothing; with that registry spaCy finds ours "
    "(test_transformers.py)"
)

NO_SPACY_REGISTRY = {
    "strided_spans.v1": _SPAN_GETTERS,
    "sent_spans.v1": _SPAN_GETTERS,
    "doc_spans.v1": _SPAN_GETTERS,
}

_NOT_DROP_IN = (
    "spacy-transformers provides this name, and ours is not a drop-in for its spaCy "
    "`transformer` component (which expects its own FullTransformerBatch and listener "
    "protocol); declared in arch's own group only, so installing arch beside "
    "spacy-transformers changes nothing spaCy builds"
)

NOT_DECLARED = {
    "spacy-transformers.TransformerModel.v1": _NOT_DROP_IN,
    "spacy-transformers.strided_spans.v1": _NOT_DROP_IN,
    "spacy-transformers.sent_spans.v1": _NOT_DROP_IN,
    "spacy-transformers.doc_spans.v1": _NOT_DROP_IN,
}

DISCOVERY_CONFIGS = {
    "spacy-transformers.Tok2VecListener.v1": (
        "[model]\n"
        '@architectures = "spacy-transformers.Tok2VecListener.v1"\ngrad_factor = 1.0\n\n'
        "[model.pooling]\n"
        '@layers = "reduce_mean.v1"\n'
    ),
}

SPACY_CANNOT_RESOLVE = {
    "arch.WithTransformer.v1": (
        r"E893.*spacy-transformers\.TransformerModel\.v1",
        "it needs arch's TransformerModel.v1, which is not declared in spaCy's groups "
        "(NOT_DECLARED): spaCy finds arch.WithTransformer.v1 but cannot build a config "
        "with it; use it through arch_tok2vec.registry / archs",
    ),
}

INPUT = {}

LABELS = {
    "arch.WithTransformer.v1": lambda config: "tokens" if "spacy.Tagger.v1" in config else "docs",
}

SPACY_CANNOT = []

EXTRA_ATTRS = {}

EXTRA_CASES = {}

PATHS = {"transformer": "arch_transformers.tiny:write_tiny_bert"}

FIXTURE_SCRIPTS = []

PIPELINES = []

TRAIN = []
