"""arch-transformers with the other families: spacy.Tagger.v1 over
Tok2VecListener.v1 over a tiny local BERT learns UPOS from real sentences (UD
English EWT), and a tagger and a text classifier share one transformer."""

import os
import time
from collections import Counter
from pathlib import Path

import numpy
import pytest
import torch
from thinc.api import Adam, Config, fix_random_seed

from arch_tok2vec import Doc, registry
from arch_tok2vec.conllu import read_conllu

from declared import ROOT

os.environ["HF_HUB_OFFLINE"] = "1"
# One torch thread: on a busy 2-core machine more threads make the tiny BERT many
# times slower.
torch.set_num_threads(1)

N_TRAIN = 400
N_DEV = 200

TAGGER = """
[model]
@architectures = "arch.WithTransformer.v1"

[model.transformer]
@architectures = "spacy-transformers.TransformerModel.v1"
name = "{path}"
tokenizer_config = {{}}

[model.transformer.get_spans]
@span_getters = "spacy-transformers.strided_spans.v1"
window = 24
stride = 16

[model.model]
@architectures = "spacy.Tagger.v1"
nO = null

[model.model.tok2vec]
@architectures = "spacy-transformers.Tok2VecListener.v1"
grad_factor = 1.0

[model.model.tok2vec.pooling]
@layers = "reduce_mean.v1"
"""


@pytest.fixture(scope="module")
def data_dir() -> Path:
    path = Path(os.environ.get("ARCH_DATA", ROOT.parent / "shared" / "data"))
    if not (path / "ud_english_ewt").exists():
        pytest.fail(f"real corpora not found at {path}: set ARCH_DATA to the shared/data folder")
    return path


def sentences(path, limit):
    """(words, spaces, upos, genre) of ``limit`` sentences spread evenly over the
    file, so all five genres of EWT are in."""
    every = list(read_conllu(path))
    out = []
    for i in numpy.linspace(0, len(every) - 1, limit).astype(int):
        words = every[i].words
        genre = every[i].sent_id.split("-")[0]
        forms, spaces = [w.form for w in words], [w.space_after for w in words]
        upos = [w.upos for w in words]
        out.append((forms, spaces, upos, genre))
    return out


@pytest.fixture(scope="module")
def corpus(data_dir):
    ewt = data_dir / "ud_english_ewt"
    return sentences(ewt / "en_ewt-ud-train.conllu", N_TRAIN), sentences(
        ewt / "en_ewt-ud-dev.conllu", N_DEV
    )


@pytest.fixture(scope="module")
def tiny_bert(tmp_path_factory, corpus):
    """A tiny random BERT whose vocabulary has the 600 most frequent training
    words (everything else is spelled with character pieces)."""
    from arch_transformers.tiny import write_tiny_bert

    train, _ = corpus
    counts = Counter(word for words, *_ in train for word in words)
    words = [w for w, _ in counts.most_common(600)]
    return write_tiny_bert(
        tmp_path_factory.mktemp("tiny-bert"),
        words,
        hidden_size=32,
        layers=2,
        heads=2,
        max_length=128,
    )


def one_hot(labels, index):
    eye = numpy.eye(len(index), dtype="float32")
    return eye[[index[label] for label in labels]]


def test_tagger_over_listener_learns_upos(corpus, tiny_bert):
    start = time.time()
    fix_random_seed(0)
    train, dev = corpus
    tags = sorted({t for _, _, upos, _ in train for t in upos})
    index = {t: i for i, t in enumerate(tags)}
    train_docs = [Doc(w, s) for w, s, _, _ in train]
    dev_docs = [Doc(w, s) for w, s, _, _ in dev]
    train_y = [one_hot(upos, index) for _, _, upos, _ in train]
    model = registry.resolve(Config().from_str(TAGGER.format(path=tiny_bert)))["model"]
    model.initialize(X=train_docs[:16], Y=train_y[:16])
    torch_model = model.get_ref("transformer").layers[0].shims[0].transformer
    before = {k: v.detach().clone() for k, v in torch_model.state_dict().items()}
    optimizer = Adam(0.003)
    rng = numpy.random.default_rng(0)
    losses = []
    for _ in range(6):
        loss = 0.0
        for batch in numpy.array_split(rng.permutation(len(train_docs)), len(train_docs) // 16):
            probs, backprop = model.begin_update([train_docs[i] for i in batch])
            truth = [train_y[i] for i in batch]
            backprop([p - t for p, t in zip(probs, truth)])
            model.finish_update(optimizer)
            loss += float(sum(-numpy.log(p[t > 0] + 1e-8).sum() for p, t in zip(probs, truth)))
        losses.append(loss)
    gold = [t for _, _, upos, _ in dev for t in upos]
    guessed = [tags[i] for probs in model.predict(dev_docs) for i in probs.argmax(axis=1)]
    accuracy = sum(g == p for g, p in zip(gold, guessed)) / len(gold)
    majority = Counter(t for _, _, upos, _ in train for t in upos).most_common(1)[0][0]
    baseline = sum(t == majority for t in gold) / len(gold)
    after = torch_model.state_dict()
    changed = [k for k in before if not numpy.array_equal(before[k].numpy(), after[k].numpy())]
    change = float(
        sum((after[k] - before[k]).abs().sum() for k in before)
        / sum(before[k].abs().sum() for k in before)
    )
    seconds = time.time() - start
    print(
        f"UPOS over a tiny BERT: {len(train_docs)} train / {len(gold)} dev words, accuracy "
        f"{accuracy:.3f} vs majority baseline {baseline:.3f} ({majority}); loss "
        f"{losses[0]:.0f} -> {losses[-1]:.0f}; {len(changed)}/{len(before)} transformer "
        f"tensors changed (relative L1 change {change:.3f}); {seconds:.1f}s"
    )
    assert losses[-1] < losses[0] / 2
    assert accuracy > baseline + 0.25
    assert "embeddings.word_embeddings.weight" in changed
    assert any(k.startswith("encoder.layer.0.") for k in changed)
    assert seconds < 120


def test_tagger_and_textcat_share_one_transformer(corpus, tiny_bert):
    """spacy.Tagger.v1 (UPOS) and spacy.TextCatCNN.v1 (the sentence's EWT genre)
    over two listeners of one TransformerModel: it runs once per batch and both
    gradients reach it."""
    from thinc.api import reduce_mean

    from arch_tagger import Tagger
    from arch_textcat.architectures.textcat import TextCatCNN
    from arch_transformers import (
        SharedTransformer,
        Tok2VecListener,
        TransformerModel,
        strided_spans,
    )

    fix_random_seed(0)
    train, _ = corpus
    train = train[::2]  # 200 sentences from the whole file
    tags = sorted({t for _, _, upos, _ in train for t in upos})
    genres = sorted({g for *_, g in train})
    assert len(genres) == 5
    docs = [Doc(w, s) for w, s, _, _ in train]
    tag_y = [one_hot(upos, {t: i for i, t in enumerate(tags)}) for _, _, upos, _ in train]
    cat_y = one_hot([g for *_, g in train], {g: i for i, g in enumerate(genres)})
    transformer = TransformerModel(str(tiny_bert), strided_spans(24, 16))
    tagger = Tagger(Tok2VecListener(reduce_mean()))
    textcat = TextCatCNN(Tok2VecListener(reduce_mean()), exclusive_classes=True)
    shared = SharedTransformer(transformer, [tagger, textcat])
    shared.initialize(docs[:16])
    tagger.initialize(X=docs[:16], Y=tag_y[:16])
    textcat.initialize(X=docs[:16], Y=cat_y[:16])
    runs = []
    forward = transformer._func
    transformer._func = lambda m, X, is_train: runs.append(len(X)) or forward(m, X, is_train)
    weights = transformer.layers[0].shims[0].transformer.embeddings.word_embeddings.weight
    before = weights.detach().clone()
    optimizer = Adam(0.003)
    tag_losses, cat_losses = [], []
    for _ in range(4):
        tag_loss = cat_loss = 0.0
        for start in range(0, len(docs), 16):
            batch = docs[start : start + 16]
            shared.begin_update(batch)
            tag_probs, tag_backprop = tagger.begin_update(batch)
            cat_probs, cat_backprop = textcat.begin_update(batch)
            truth = tag_y[start : start + 16]
            tag_backprop([p - t for p, t in zip(tag_probs, truth)])
            cat_backprop(cat_probs - cat_y[start : start + 16])
            for model in (tagger, textcat):
                model.finish_update(optimizer)
            shared.finish_update(optimizer)
            tag_loss += float(
                sum(-numpy.log(p[t > 0] + 1e-8).sum() for p, t in zip(tag_probs, truth))
            )
            cat_loss += float(-numpy.log(cat_probs[cat_y[start : start + 16] > 0] + 1e-8).sum())
        tag_losses.append(tag_loss)
        cat_losses.append(cat_loss)
    print(f"shared: tagger loss {tag_losses}, textcat loss {cat_losses}")
    sizes = [len(docs[start : start + 16]) for start in range(0, len(docs), 16)]
    assert runs == sizes * 4  # the transformer ran once per batch, for both models
    assert tag_losses[-1] < tag_losses[0] * 0.7
    assert cat_losses[-1] < cat_losses[0]
    assert float((weights.detach() - before).abs().max()) > 1e-3
    shared.predict(docs[:8])
    assert len(tagger.predict(docs[:8])) == 8 and textcat.predict(docs[:8]).shape == (8, 5)


def test_accumulated_gradients_reach_the_transformer(tmp_path, tiny_bert):
    """[training] accumulate_gradient with a PyTorch shim, which zeroes its gradients
    after each optimizer call: two sub-batches of 8 summed make the update of the
    whole batch of 16, transformer weights included (dropout off everywhere)."""
    import json

    from arch_tok2vec import load
    from arch_tok2vec.training import train

    bert = tmp_path / "bert"
    bert.mkdir()
    for file in tiny_bert.iterdir():
        (bert / file.name).write_bytes(file.read_bytes())
    settings = json.loads((bert / "config.json").read_text())
    settings.update(hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)
    (bert / "config.json").write_text(json.dumps(settings))
    text = (
        "[paths]\ntrain = null\ndev = null\n\n[system]\nseed = 0\n\n"
        '[task]\n@tasks = "arch.tagger.v1"\ncolumn = "upos"\n\n'
        + TAGGER.format(path=bert)
        + "\n[training]\nmax_steps = 2\nbatch_size = 16\ndropout = 0.0\n"
    )
    weights = {}
    for parts in (1, 2):
        config = Config().from_str(text)
        config["training"]["accumulate_gradient"] = parts
        result = train(config, tmp_path / f"run{parts}", log=lambda line: None, progress=False)
        assert result.epochs[-1].step == 2
        model = load(tmp_path / f"run{parts}" / "model-last").model
        state = model.get_ref("transformer").layers[0].shims[0].transformer.state_dict()
        weights[parts] = {k: v.detach().numpy().copy() for k, v in state.items()}
    from safetensors.torch import load_file

    initial = load_file(str(bert / "model.safetensors"))  # write_tiny_bert's weights
    name = "embeddings.word_embeddings.weight"
    assert not numpy.allclose(weights[1][name], initial[name].numpy())  # it was updated
    assert weights[1].keys() == weights[2].keys()
    for key in weights[1]:
        numpy.testing.assert_allclose(weights[1][key], weights[2][key], rtol=1e-3, atol=1e-5)
