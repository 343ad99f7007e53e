"""Words per second of arch's models against spaCy's own (spacy-legacy's v1 or
spaCy core's), same config, same weights, in one process.

Cases: ``doc_features`` (Doc construction + to_array), and for each model
predict and train (forward + backward + Adam step) at batch 128 docs, on a
Zipf-like synthetic corpus and on UD English EWT train.

    python bench/bench_models.py --case tagger --quick
"""

import statistics

import common  # noqa: F401  (first: pins the BLAS threads before numpy loads)
import numpy  # noqa: E402  (after common pins the thread pools)
from common import (
    ab_times,
    banking77,
    batches,
    build_ours,
    build_spacy,
    corpora,
    main,
    n_words,
    our_docs,
    record,
    spacy_docs,
    spacy_vocab,
)
from flops import flops, products, replay  # noqa: E402
from machine import gemm_peak  # noqa: E402
from thinc.api import Adam, fix_random_seed  # noqa: E402

ATTRS = ["NORM", "PREFIX", "SUFFIX", "SHAPE"]

TOK2VEC = """
[model]
@architectures = "spacy.HashEmbedCNN.v1"
pretrained_vectors = null
width = 96
depth = 4
embed_size = 2000
window_size = 1
maxout_pieces = 3
subword_features = true
"""

TAGGER = """
[model]
@architectures = "spacy.Tagger.v1"
nO = null

[model.tok2vec]
@architectures = "spacy.HashEmbedCNN.v1"
pretrained_vectors = null
width = 96
depth = 4
embed_size = 2000
window_size = 1
maxout_pieces = 3
subword_features = true
"""

TEXTCAT_ENSEMBLE = """
[model]
@architectures = "spacy.TextCatEnsemble.v1"
exclusive_classes = true
pretrained_vectors = null
width = 64
embed_size = 2000
conv_depth = 2
window_size = 1
ngram_size = 1
dropout = null
nO = null
"""

TEXTCAT_BOW = """
[model]
@architectures = "spacy.TextCatBOW.v1"
exclusive_classes = true
ngram_size = 1
no_output_layer = false
nO = null
"""

TEXTCAT_CNN = """
[model]
@architectures = "spacy.TextCatCNN.v1"
exclusive_classes = true
nO = null

[model.tok2vec]
@architectures = "spacy.HashEmbedCNN.v1"
pretrained_vectors = null
width = 96
depth = 4
embed_size = 2000
window_size = 1
maxout_pieces = 3
subword_features = true
"""

ENTITY_LINKER = """
[model]
@architectures = "spacy.EntityLinker.v1"
nO = null

[model.tok2vec]
@architectures = "spacy.HashEmbedCNN.v1"
pretrained_vectors = null
width = 96
depth = 2
embed_size = 2000
window_size = 1
maxout_pieces = 3
subword_features = true
"""

N_TAGS = 17
N_CLASSES = 8


def doc_features(quick: bool):
    """Doc from words + to_array of the four HashEmbed attributes."""
    results = []
    repeats = 3 if quick else 7
    for corpus_name, corpus in corpora(quick, full=100_000).items():
        from spacy.tokens import Doc as SpacyDoc

        from arch_tok2vec import Doc as OurDoc
        from arch_tok2vec.doc import default_vocab

        ours_vocab = default_vocab()
        vocab = spacy_vocab()

        def ours(corpus=corpus, vocab=ours_vocab):
            for words, spaces in corpus:
                OurDoc(words, spaces, vocab=vocab).to_array(ATTRS)

        def theirs(corpus=corpus, vocab=vocab):
            for words, spaces in corpus:
                SpacyDoc(vocab, words=words, spaces=spaces).to_array(ATTRS)

        a, b = ab_times(ours, theirs, repeats)
        results.append(
            record(
                "doc",
                f"Doc + to_array ({corpus_name})",
                n_words(corpus),
                a,
                b,
                "4 attrs, warm vocab",
            )
        )
    return results


def _targets(kind: str, docs, seed: int = 0):
    """Gold-like targets for initialize and the train loss."""
    rng = numpy.random.default_rng(seed)
    if kind == "tokens":
        return [numpy.eye(N_TAGS, dtype="f")[rng.integers(0, N_TAGS, len(doc))] for doc in docs]
    if kind == "vectors":
        return rng.standard_normal((len(docs), 64)).astype("f")
    if kind == "docs":
        return numpy.eye(N_CLASSES, dtype="f")[rng.integers(0, N_CLASSES, len(docs))]
    return None


def _model_case(group: str, config: str, kind: str):
    def run(quick: bool):
        results = []
        repeats = 2 if quick else 3
        for corpus_name, corpus in corpora(quick).items():
            fix_random_seed(0)
            ours_docs = our_docs(corpus)
            their_docs = spacy_docs(corpus)
            sample = ours_docs[:64]
            targets = _targets(kind, sample)
            ours = build_ours(config)
            ours.initialize(X=sample, Y=targets)
            theirs, _ = build_spacy(config)
            theirs.initialize(X=spacy_docs(corpus[:64]), Y=targets)
            theirs.from_bytes(ours.to_bytes())
            ours_batches = batches(ours_docs)
            their_batches = batches(their_docs)
            words = n_words(corpus)

            def predict(model, doc_batches):
                def go():
                    for batch in doc_batches:
                        model.predict(batch)

                return go

            a, b = ab_times(predict(ours, ours_batches), predict(theirs, their_batches), repeats)
            results.append(
                with_arithmetic(
                    record(group, f"{group} predict ({corpus_name})", words, a, b, "batch 128"),
                    products(ours, ours_batches),
                    False,
                    words,
                    a,
                    b,
                )
            )

            def train(model, doc_batches):
                optimizer = Adam(0.001)

                def go():
                    for batch in doc_batches:
                        output, backprop = model.begin_update(batch)
                        # loss 0.5 * |output|^2: the gradient is the output itself
                        backprop(output)
                        model.finish_update(optimizer)

                return go

            # training is about 3x slower than predicting: half the corpus
            half = max(1, len(ours_batches) // 2)
            train_words = sum(len(doc) for batch in ours_batches[:half] for doc in batch)
            a, b = ab_times(
                train(ours, ours_batches[:half]), train(theirs, their_batches[:half]), repeats
            )
            results.append(
                with_arithmetic(
                    record(group, f"{group} train ({corpus_name})", train_words, a, b),
                    products(ours, ours_batches[:half]),
                    True,
                    train_words,
                    a,
                    b,
                )
            )
        return results

    return run


def with_arithmetic(result, shapes, train, words, ours_s, spacy_s):
    """Add to a model record the arithmetic of the run: its FLOPs, the GFLOP/s each
    side achieved and their share of the gemm peak measured now, and how fast the
    matrix products alone run on each side's kernels (numpy's BLAS for ours, blis
    for spaCy's) with the share of each side's time spent outside them."""
    if not shapes:
        return result
    total = flops(shapes, train)
    peak = gemm_peak()
    seconds = {"ours": statistics.median(ours_s), "spacy": statistics.median(spacy_s)}
    alone = {"ours": replay(shapes, train, "numpy"), "spacy": replay(shapes, train, "blis")}
    result["arithmetic"] = {
        "mflop_per_word": round(total / words / 1e6, 3),
        "gemm_peak_gflops": peak,
        **{
            side: {
                "gflops": round(total / seconds[side] / 1e9, 1),
                "share_of_peak": round(total / seconds[side] / 1e9 / peak, 3),
                "products_gflops": round(total / alone[side] / 1e9, 1),
                "outside_products": round(max(0.0, 1 - alone[side] / seconds[side]), 3),
            }
            for side in ("ours", "spacy")
        },
    }
    return result


def textcat_bow_77(quick: bool):
    """TextCatBOW.v1 (exclusive, unigrams) on BANKING77 with its 77 intents:
    predict, and train with the gradient of the cross-entropy loss. Its output
    layer holds 77 x 2^18 weights, which thinc's Adam updates in full at every
    step; arch updates the live part only (arch_textcat.layers.sparse_update)."""
    corpus, labels = banking77(2_000 if quick else None)
    names = sorted(set(labels))
    Y = numpy.eye(len(names), dtype="f")[[names.index(label) for label in labels]]
    fix_random_seed(0)
    ours_docs = our_docs(corpus)
    their_docs = spacy_docs(corpus)
    ours = build_ours(TEXTCAT_BOW)
    ours.initialize(X=ours_docs[:64], Y=Y)
    theirs, _ = build_spacy(TEXTCAT_BOW)
    theirs.initialize(X=their_docs[:64], Y=Y)
    theirs.from_bytes(ours.to_bytes())
    group = "textcat BOW, 77 labels"
    ours_batches, their_batches = batches(ours_docs), batches(their_docs)
    targets = batches(Y)
    words = n_words(corpus)
    repeats = 2 if quick else 3

    def predict(model, doc_batches):
        def go():
            for batch in doc_batches:
                model.predict(batch)

        return go

    a, b = ab_times(predict(ours, ours_batches), predict(theirs, their_batches), repeats)
    results = [
        record(group, f"{group} predict (BANKING77)", words, a, b, "batch 128 docs, 77 classes")
    ]

    def train(model, doc_batches):
        optimizer = Adam(0.001)

        def go():
            for batch, target in zip(doc_batches, targets):
                scores, backprop = model.begin_update(batch)
                backprop(scores - target)
                model.finish_update(optimizer)

        return go

    a, b = ab_times(train(ours, ours_batches), train(theirs, their_batches), repeats)
    results.append(
        record(
            group,
            f"{group} train (BANKING77)",
            words,
            a,
            b,
            "batch 128 docs; Adam over the 77 x 2^18 output weights (spaCy) or their live "
            "2^18 + 76 (ours)",
        )
    )
    return results


CASES = {
    "doc_features": doc_features,
    "tok2vec": _model_case("tok2vec HashEmbedCNN", TOK2VEC, "none"),
    "tagger": _model_case("tagger", TAGGER, "tokens"),
    "textcat_ensemble": _model_case("textcat Ensemble", TEXTCAT_ENSEMBLE, "docs"),
    "textcat_bow": _model_case("textcat BOW", TEXTCAT_BOW, "docs"),
    "textcat_bow_77": textcat_bow_77,
    "textcat_cnn": _model_case("textcat CNN", TEXTCAT_CNN, "docs"),
    "entity_linker": _model_case("entity linker", ENTITY_LINKER, "vectors"),
}

if __name__ == "__main__":
    main(CASES)
