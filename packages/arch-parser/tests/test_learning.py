"""The parser and the NER learn from real data within seconds."""

from thinc.api import Adam, fix_random_seed, set_dropout_rate

from arch_parser import TransitionBasedParser
from arch_parser.task import NerTask, ParserTask
from arch_tok2vec.architectures.tok2vec import HashEmbedCNN


def _model(state_type):
    tok2vec = HashEmbedCNN(
        width=64, depth=2, embed_size=2000, window_size=1, maxout_pieces=3,
        subword_features=True, pretrained_vectors=None,
    )  # fmt: skip
    return TransitionBasedParser(
        tok2vec, state_type=state_type, extra_state_tokens=False, hidden_width=64, maxout_pieces=2
    )


def _train(task, model, train, epochs, batch=32, lr=0.002):
    task.initialize(model, train)
    set_dropout_rate(model, 0.1)
    opt = Adam(lr)
    losses = []
    for _ in range(epochs):
        loss = 0.0
        for i in range(0, len(train), batch):
            loss += task.update(model, train[i : i + batch], opt)
        losses.append(loss)
    return losses


def test_parser_beats_baselines(data_dir):
    fix_random_seed(0)
    task = ParserTask(min_action_freq=1)
    ud = data_dir / "ud_english_ewt"
    train = [eg for eg in task.read(ud / "en_ewt-ud-train.conllu") if len(eg.doc) <= 20][:300]
    dev = task.read(ud / "en_ewt-ud-dev.conllu")[:150]
    model = _model("parser")
    losses = _train(task, model, train, epochs=6)
    assert losses[-1] < losses[0] / 2
    scores = task.score(dev, task.predict(model, [eg.doc for eg in dev]))
    # trivial baselines: every word attached to its left or right neighbour
    golds = [eg.gold["heads"] for eg in dev]
    words = sum(len(h) for h in golds)
    left = sum(h == max(i - 1, 0) for heads in golds for i, h in enumerate(heads)) / words
    right = sum(h == min(i + 1, len(heads) - 1) for heads in golds for i, h in enumerate(heads))
    assert scores["uas"] > max(left, right / words) + 0.1, scores
    assert scores["las"] > 0.3, scores


def test_ner_learns_something(data_dir):
    fix_random_seed(0)
    task = NerTask()
    train = task.read(data_dir / "wnut17" / "wnut17train.conll")[:400]
    model = _model("ner")
    losses = _train(task, model, train, epochs=6, lr=0.003)
    assert losses[-1] < losses[0] / 3
    # on its own training data after a few epochs
    scores = task.score(train, task.predict(model, [eg.doc for eg in train]))
    assert scores["ents_f"] > 0.2, scores
