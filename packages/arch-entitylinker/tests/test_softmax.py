"""The task's "softmax" combination: log(prior) + encoder cosine / tau_context +
bag-of-words cosine / tau_words, its settings, and its word profiles saved with
the task."""

import json
import math

import numpy
import pytest
from thinc.api import Config, fix_random_seed

from arch_entitylinker import KnowledgeBase
from arch_entitylinker.task import (
    PRIOR_FLOOR,
    EntityLinkerTask,
    WordProfiles,
    entity_linker_task,
)
from arch_tok2vec import Doc, registry

RIVER, MONEY = "Q_river", "Q_money"
CONTEXTS = [  # four training contexts, two of each entity
    ("the river bank flooded", RIVER),
    ("fishing by the river", RIVER),
    ("the bank lent money", MONEY),
    ("a loan from the bank", MONEY),
]


def _task(priors=(0.7, 0.3), **settings):
    """A task on a hand-made KB: "bank" is the river's (first) or the money
    bank, with the given priors; word profiles from CONTEXTS."""
    kb = KnowledgeBase(entity_vector_length=3)
    kb.add_entity(RIVER, freq=2, entity_vector=[1.0, 0.0, 0.0])
    kb.add_entity(MONEY, freq=2, entity_vector=[0.0, 1.0, 0.0])
    kb.add_alias("bank", [RIVER, MONEY], list(priors))
    task = entity_linker_task(combination="softmax", **settings)
    task.set_kb(kb)
    task.words = WordProfiles.build(
        (text.split(), [kb.entity_row(entity)]) for text, entity in CONTEXTS
    )
    return task


def _words(task, text):
    assert task.words is not None
    return task.words.context(text.split())


def test_words_overrule_the_prior():
    task = _task()
    words = _words(task, "money loan")
    # by hand: N = 4, idf = log(5 / (df + 1)); the money bank's profile has
    # "the" (df 4: idf 0) and "bank" (df 3) twice and five words of df 1 once;
    # the context two of those five
    idf1, idf3 = math.log(5 / 2), math.log(5 / 4)
    cosine = 2 * idf1**2 / (math.sqrt((2 * idf3) ** 2 + 5 * idf1**2) * math.sqrt(2) * idf1)
    numpy.testing.assert_allclose(task.words.cosines([0, 1], words), [0.0, cosine], rtol=1e-6)
    scores = task._softmax_scores([0, 1], [0.7, 0.3], None, words)
    numpy.testing.assert_allclose(scores, [math.log(0.7), math.log(0.3) + cosine / 0.05], rtol=1e-6)
    assert task.link("bank", None, words) == MONEY
    # without the word signal the prior decides
    assert task.link("bank", None, None) == RIVER
    assert _task(tau_words=None).link("bank", None, words) == RIVER


def test_words_too_weak_to_overrule_the_prior():
    # cosine 0.61 / 1.0 < log(0.7 / 0.3) = 0.85: the prior stays
    task = _task(tau_words=1.0)
    assert task.link("bank", None, _words(task, "money loan")) == RIVER
    # a weak match ("lent": cosine 0.44, / 0.05 = 8.7) against a strong prior
    # (log(0.99999 / 0.00001) = 11.5)
    task = _task(priors=(0.99999, 0.00001))
    words = _words(task, "lent")
    assert task.words.cosines([0, 1], words)[1] == pytest.approx(0.4370, abs=1e-3)
    assert task.link("bank", None, words) == RIVER
    assert _task(priors=(0.999, 0.001)).link("bank", None, words) == MONEY


def test_encoder_cosine_and_ties():
    task = _task(tau_words=None)
    # cos 1 / 0.1 = 10 beats log(0.7 / 0.3)
    assert task.link("bank", numpy.array([0.0, 2.0, 0.0], dtype="float32")) == MONEY
    assert task.link("bank", numpy.array([1.0, 1.0, 0.0], dtype="float32")) == RIVER
    assert _task(tau_context=100.0).link("bank", numpy.array([0.0, 1.0, 0.0])) == RIVER
    # equal scores: the first candidate
    assert _task(priors=(0.5, 0.5)).link("bank", None) == RIVER
    # incl_context false: the encoding is ignored
    task = _task(tau_words=None, incl_context=False)
    assert task.link("bank", numpy.array([0.0, 1.0, 0.0], dtype="float32")) == RIVER


def test_a_prior_of_zero_is_floored():
    task = _task(priors=(1.0, 0.0))
    scores = task._softmax_scores([0, 1], [1.0, 0.0], None, None)
    assert scores[1] == pytest.approx(math.log(PRIOR_FLOOR))
    assert task.link("bank", None) == RIVER
    # log(1e-6) = -13.8: the words alone (0.62 / 0.05 = 12.4) do not lift it,
    # the words and the encoder (+ 1 / 0.1) together do
    words = _words(task, "money loan")
    assert task.link("bank", None, words) == RIVER
    assert task.link("bank", numpy.array([0.0, 1.0, 0.0], dtype="float32"), words) == MONEY


def test_spacy_combination_is_the_default_and_ignores_words():
    assert EntityLinkerTask().combination == "spacy"
    task = _task()
    task.combination = "spacy"
    words = _words(task, "money loan")
    assert task.link("bank", None, words) == RIVER
    # prior + sim - prior * sim: 0.7 + 0.1 - 0.07 = 0.73 < 0.3 + 0.99 - 0.30 = 0.99
    context = numpy.array([0.1, math.sqrt(1 - 0.01), 0.0], dtype="float32")
    assert task.link("bank", context, words) == MONEY
    context = numpy.array([0.6, 0.8, 0.0], dtype="float32")  # 0.88 > 0.86
    assert task.link("bank", context) == RIVER


@pytest.mark.parametrize(
    "settings,message",
    [
        ({"combination": "max"}, "combination must be one of spacy, softmax, got 'max'"),
        ({"tau_context": 0}, "tau_context must be a number > 0, got 0"),
        ({"tau_context": -0.1}, "tau_context must be a number > 0, got -0.1"),
        ({"tau_context": None}, "tau_context must be a number > 0, got None"),
        ({"tau_words": 0.0}, "tau_words must be a number > 0, got 0.0"),
        ({"tau_words": "0.05"}, "tau_words must be a number > 0, got '0.05'"),
        ({"tau_words": True}, "tau_words must be a number > 0, got True"),
    ],
)
def test_setting_errors(settings, message):
    with pytest.raises(ValueError, match=message):
        entity_linker_task(**settings)
    with pytest.raises(ValueError, match=message):
        EntityLinkerTask().from_dict({**_task().to_dict(), **settings})


def test_settings_from_a_config():
    config = Config().from_str(
        '[task]\n@tasks = "arch.entity_linker.v1"\ncombination = "softmax"\n'
        "tau_context = 0.2\ntau_words = null\n"
    )
    task = registry.resolve(config)["task"]
    assert (task.combination, task.tau_context, task.tau_words) == ("softmax", 0.2, None)


def test_saved_task_links_identically(tmp_path, restore):
    """Trained briefly on the sample corpus with "softmax": the task restored
    from its JSON (no corpus) and the model from its bytes link the dev set as
    the originals do, word profiles included."""
    fix_random_seed(0)
    config = {
        "task": {"@tasks": "arch.entity_linker.v1", "combination": "softmax"},
        "model": {
            "@architectures": "spacy.EntityLinker.v1",
            "nO": None,
            "tok2vec": {
                "@architectures": "spacy.HashEmbedCNN.v1",
                "pretrained_vectors": None,
                "width": 32,
                "depth": 1,
                "embed_size": 500,
                "window_size": 1,
                "maxout_pieces": 3,
                "subword_features": False,
            },
        },
        "optimizer": {"@optimizers": "Adam.v1", "learn_rate": 0.001},
    }
    resolved = registry.resolve(config)
    task, model, optimizer = resolved["task"], resolved["model"], resolved["optimizer"]
    train, dev = task.sample()
    task.initialize(model, train)
    for _ in range(2):
        task.update(model, train, optimizer)
    assert task.words is not None and len(task.words.rows) > 0
    docs = [eg.doc for eg in dev] + [Doc.from_text("Jordan played in Paris.")]
    expected = task.predict(model, docs)

    saved = json.loads(json.dumps(task.to_dict()))
    restored = restore(task)
    assert (restored.combination, restored.tau_context, restored.tau_words) == (
        "softmax",
        0.1,
        0.05,
    )
    assert restored.words is not None and restored.words.vocab == task.words.vocab
    for name in ("df", "rows", "starts", "tokens", "weights"):
        numpy.testing.assert_array_equal(getattr(restored.words, name), getattr(task.words, name))
    other = registry.resolve({"model": config["model"]})["model"]
    other.initialize(X=docs[:2], Y=numpy.zeros((2, task.kb.entity_vector_length), "float32"))
    other.from_bytes(model.to_bytes())
    assert restored.predict(other, docs) == expected

    # the hand-made case: the word signal survives the round trip
    hand = _task()
    again = restore(hand)
    assert again.link("bank", None, _words(again, "money loan")) == MONEY
    # a task saved before these settings existed links with spaCy's rule
    old = {k: v for k, v in saved.items() if k not in ("combination", "tau_context", "words")}
    old.pop("tau_words")
    assert EntityLinkerTask().from_dict(old).combination == "spacy"
