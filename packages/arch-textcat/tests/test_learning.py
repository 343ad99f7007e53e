"""The classifiers learn a real task: intents of BANKING77 (shared/data/banking77),
restricted to its 20 most frequent intents so that the test runs in seconds.
Accuracy on a held-out fifth of those texts must beat the majority baseline by a
wide margin."""

import csv
import time
from collections import Counter

import numpy
import pytest
from thinc.api import Adam, Config, fix_random_seed

from arch_tok2vec import Doc, Vectors, Vocab, registry

N_LABELS = 20

BOW = """
[model]
@architectures = "spacy.TextCatBOW.v1"
exclusive_classes = true
ngram_size = 2
no_output_layer = false
"""

CNN = """
[model]
@architectures = "spacy.TextCatCNN.v1"
exclusive_classes = true

[model.tok2vec]
@architectures = "spacy.HashEmbedCNN.v1"
pretrained_vectors = null
width = 64
depth = 2
embed_size = 2000
window_size = 1
maxout_pieces = 3
subword_features = true
"""

LOW_DATA = """
[model]
@architectures = "spacy.TextCatLowData.v1"
width = 32
dropout = 0.1
"""


class Banking:
    def __init__(self, data_dir, with_vectors=False):
        with open(data_dir / "banking77" / "train.csv", encoding="utf8", newline="") as fh:
            rows = list(csv.DictReader(fh))
        frequent = Counter(row["category"] for row in rows).most_common(N_LABELS)
        self.labels = sorted(label for label, _ in frequent)
        index = {label: i for i, label in enumerate(self.labels)}
        rows = [row for row in rows if row["category"] in index]
        order = numpy.random.default_rng(0).permutation(len(rows))
        n_dev = len(rows) // 5
        dev = [rows[i] for i in order[:n_dev]]
        train = [rows[i] for i in order[n_dev:]]
        self.vocab = Vocab()
        self.train_docs = [Doc.from_text(row["text"], vocab=self.vocab) for row in train]
        self.dev_docs = [Doc.from_text(row["text"], vocab=self.vocab) for row in dev]
        if with_vectors:
            # Random vectors, one per training word: enough for LowData to learn
            # which words signal which intent.
            words = sorted({word for doc in self.train_docs for word in doc.words})
            data = numpy.random.default_rng(1).normal(size=(len(words), 32)).astype("float32")
            self.vocab.vectors = Vectors(words, data)
        eye = numpy.eye(N_LABELS, dtype="float32")
        self.train_y = eye[[index[row["category"]] for row in train]]
        self.dev_gold = numpy.array([index[row["category"]] for row in dev])
        majority = Counter(self.dev_gold.tolist()).most_common(1)[0][1]
        self.baseline = majority / len(dev)


@pytest.fixture(scope="module")
def banking(data_dir):
    return Banking(data_dir)


def train(model, data, epochs, learn_rate, batch_size=32):
    fix_random_seed(0)
    model.initialize(X=data.train_docs[:10], Y=data.train_y[:10])
    optimizer = Adam(learn_rate)
    rng = numpy.random.default_rng(0)
    losses = []
    for _ in range(epochs):
        loss = 0.0
        for batch in numpy.array_split(
            rng.permutation(len(data.train_docs)), len(data.train_docs) // batch_size
        ):
            guesses, backprop = model.begin_update([data.train_docs[i] for i in batch])
            d_guesses = guesses - data.train_y[batch]
            loss += float((d_guesses**2).sum())
            backprop(d_guesses / len(batch))
            model.finish_update(optimizer)
        losses.append(loss)
    accuracy = float((model.predict(data.dev_docs).argmax(axis=1) == data.dev_gold).mean())
    return accuracy, losses


def _report(name, accuracy, baseline, seconds):
    print(f"{name}: accuracy {accuracy:.3f} vs majority baseline {baseline:.3f} in {seconds:.1f}s")


def test_bow_learns_banking77_intents(banking):
    start = time.process_time()
    model = registry.resolve(Config().from_str(BOW))["model"]
    accuracy, losses = train(model, banking, epochs=2, learn_rate=0.01)
    seconds = time.process_time() - start
    _report("TextCatBOW.v1", accuracy, banking.baseline, seconds)
    assert losses[-1] < losses[0]
    assert banking.baseline < 0.1
    assert accuracy > 0.8, accuracy
    assert seconds < 60


def test_cnn_learns_banking77_intents(banking):
    start = time.process_time()
    model = registry.resolve(Config().from_str(CNN))["model"]
    accuracy, losses = train(model, banking, epochs=3, learn_rate=0.001)
    seconds = time.process_time() - start
    _report("TextCatCNN.v1", accuracy, banking.baseline, seconds)
    assert losses[-1] < losses[0]
    assert accuracy > 0.6, accuracy
    assert seconds < 60


def test_low_data_initializes_predicts_and_learns(data_dir):
    data = Banking(data_dir, with_vectors=True)
    start = time.process_time()
    model = registry.resolve(Config().from_str(LOW_DATA))["model"]
    accuracy, losses = train(model, data, epochs=16, learn_rate=0.005)
    seconds = time.process_time() - start
    _report("TextCatLowData.v1", accuracy, data.baseline, seconds)
    assert model.get_dim("nO") == N_LABELS
    assert losses[-1] < losses[0]
    assert accuracy > 0.4, accuracy
    assert seconds < 60
