"""A tok2vec with a softmax head learns part-of-speech tags from real data."""

import time
from collections import Counter

import numpy
from thinc.api import Adam, Config, Softmax, chain, fix_random_seed, with_array

from arch_tok2vec import Doc, Vocab, registry
from arch_tok2vec.conllu import read_conllu

TOK2VEC = """
[model]
@architectures = "spacy.HashEmbedCNN.v1"
pretrained_vectors = null
width = 64
depth = 2
embed_size = 2000
window_size = 1
maxout_pieces = 3
subword_features = true
"""


def read_upos(path, limit):
    """(words, UPOS tags) of the first ``limit`` sentences (syntactic words)."""
    sentences = []
    for sentence in read_conllu(path):
        sentences.append(([w.form for w in sentence.words], [w.upos for w in sentence.words]))
        if len(sentences) == limit:
            break
    return sentences


def test_tok2vec_learns_upos_on_ud_ewt(data_dir):
    start = time.process_time()
    fix_random_seed(0)
    ewt = data_dir / "ud_english_ewt"
    train = read_upos(ewt / "en_ewt-ud-train.conllu", 1500)
    dev = read_upos(ewt / "en_ewt-ud-dev.conllu", 600)
    labels = sorted({tag for _, tags in train for tag in tags})
    index = {tag: i for i, tag in enumerate(labels)}
    vocab = Vocab()
    train_docs = [Doc(words, vocab=vocab) for words, _ in train]
    dev_docs = [Doc(words, vocab=vocab) for words, _ in dev]
    eye = numpy.eye(len(labels), dtype="float32")
    train_y = [eye[[index[t] for t in tags]] for _, tags in train]

    tok2vec = registry.resolve(Config().from_str(TOK2VEC))["model"]
    model = chain(tok2vec, with_array(Softmax(len(labels))))
    model.initialize(X=train_docs[:10], Y=train_y[:10])
    optimizer = Adam(0.002)
    rng = numpy.random.default_rng(0)
    for _epoch in range(4):
        for batch in numpy.array_split(rng.permutation(len(train_docs)), len(train_docs) // 32):
            guesses, backprop = model.begin_update([train_docs[i] for i in batch])
            backprop([g - train_y[i] for g, i in zip(guesses, batch)])
            model.finish_update(optimizer)

    gold = [tag for _, tags in dev for tag in tags]
    predicted = [labels[i] for y in model.predict(dev_docs) for i in y.argmax(axis=1)]
    accuracy = sum(p == g for p, g in zip(predicted, gold)) / len(gold)
    majority = Counter(tag for _, tags in train for tag in tags).most_common(1)[0][0]
    baseline = sum(g == majority for g in gold) / len(gold)
    seconds = time.process_time() - start
    print(f"dev accuracy {accuracy:.3f}, majority baseline {baseline:.3f}, {seconds:.1f} CPU s")
    assert len(gold) > 8000
    assert baseline < 0.25
    assert accuracy > 0.80
    assert time.process_time() - start < 60
