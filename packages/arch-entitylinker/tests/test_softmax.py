"""The task's "softmax" combination: log(prior) + encoder cosine / tau_context +
bag-of-words cosine / tau_words, its settings, and its word profiles saved with
the task."""

import base64
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


def _saved_words(**arrays):
    """The hand-made task's saved word profiles, with ``arrays`` (lists) replacing its
    arrays (rows [0, 1]; starts [0, 6, 13] into 13 token ids of 11 tokens; N = 4)."""
    saved = json.loads(json.dumps(_task().words.to_dict()))
    dtypes = {"df": "<i4", "rows": "<i8", "starts": "<i8", "token_ids": "<i4", "weights": "<f4"}
    for key, values in arrays.items():
        data = numpy.asarray(values, dtype=dtypes[key]).tobytes()
        saved[key] = base64.b64encode(data).decode("ascii")
    return saved


IDS = [0, 1, 2, 3, 4, 5, 0, 2, 6, 7, 8, 9, 10]


@pytest.mark.parametrize(
    "saved, message",
    [
        ({"tokens": ["the"] * 11}, r"words.tokens\[1\] repeats the label 'the'"),
        ({"tokens": "the"}, "words.tokens must be a list of labels"),
        ({"n_contexts": -1}, "words.n_contexts must be an integer >= 0, got -1"),
        ({"n_contexts": 4.0}, "words.n_contexts must be an integer, got 4.0"),
        ({"df": "not base64!"}, "words.df must be base64 of <i4 numbers, got 'not base64!'"),
        ({"df": "AAAA"}, "words.df must be base64 of <i4 numbers"),  # 3 bytes
        ({"df": 5}, "words.df must be base64 of <i4 numbers, got 5"),
        (_saved_words(df=[1] * 10), r"words.df must hold one count per token \(11\), got 10"),
        (_saved_words(df=[5] + [1] * 10), r"words.df must be counts between 0 and n_contexts"),
        (_saved_words(df=[-1] + [1] * 10), r"words.df must be counts between 0 and n_contexts"),
        (_saved_words(rows=[1, 0]), r"words.rows must be KB rows \(>= 0\) in increasing order"),
        (_saved_words(rows=[-1, 0]), r"words.rows must be KB rows \(>= 0\) in increasing"),
        (_saved_words(starts=[0, 6]), "words.starts must give where each of the 2 profiles"),
        (_saved_words(starts=[1, 6, 13]), "words.starts must give where each"),
        (_saved_words(starts=[0, 14, 13]), "words.starts must give where each"),
        (_saved_words(token_ids=IDS[:-1] + [11]), r"words.token_ids must be token ids \(0 to 10\)"),
        (_saved_words(token_ids=IDS[:-1] + [-1]), "words.token_ids must be token ids"),
        (_saved_words(token_ids=[1, 0] + IDS[2:]), "words.token_ids must be token ids"),
        (_saved_words(token_ids=IDS[:7] + [0] + IDS[8:]), "words.token_ids .*, increasing within"),
        (_saved_words(weights=[0.5] * 12), r"words.weights must hold one weight per token id"),
        (_saved_words(weights=[float("nan")] + [0.5] * 12), "words.weights must be finite"),
        (_saved_words(weights=[-0.5] + [0.5] * 12), "words.weights must be finite numbers >= 0"),
    ],
)
def test_saved_word_profiles_are_checked(saved, message):
    """The word profiles task.json holds are checked before they are used: a token id out
    of range or a negative one (numpy would wrap it around), unsorted rows (found with a
    binary search), a df above N (a negative idf), a NaN weight... are refused naming
    the entry, which arch_tok2vec.load names as the key of task.json. A profile's first
    token id may be lower than the previous profile's last (row 1 starts at id 0)."""
    words = _task().words.to_dict()
    restored = WordProfiles.from_dict(json.loads(json.dumps(words)))
    assert restored.to_dict() == words
    with pytest.raises(ValueError, match=f"^{message}"):
        WordProfiles.from_dict({**words, **saved})


def test_saved_word_rows_past_the_kb_are_refused(restore, tmp_path):
    """Word profiles naming KB rows the saved KB does not have: refused once the KB is
    read (from kb.bin, after from_dict), naming task.json's key."""
    from arch_tok2vec import ModelFileError

    task = _task()
    saved = json.loads(json.dumps(task.to_dict()))
    task.write_files(tmp_path)
    restored = EntityLinkerTask().from_dict({**saved, "words": _saved_words(rows=[0, 2])})
    with pytest.raises(
        ModelFileError, match="task.json, key 'words.rows': words.rows names KB row 2"
    ):
        restored.read_files(tmp_path)


@pytest.mark.parametrize(
    "settings, message",
    [
        ({"incl_prior": False, "incl_context": False}, "incl_prior and incl_context cannot"),
        ({"incl_prior": 1}, "incl_prior must be true or false, got 1"),
        ({"propn_only": "no"}, "propn_only must be true or false, got 'no'"),
        ({"n_sents": -1}, "n_sents must be an integer >= 0, got -1"),
        ({"n_sents": 1.0}, "n_sents must be an integer, got 1.0"),
        ({"types": {RIVER: ""}}, "types must map entity IDs to labels, both non-empty"),
        ({"types": {"": "LOC"}}, "types must map entity IDs to labels, both non-empty"),
        ({"types": {RIVER: 5}}, "types must map entity IDs to labels, both non-empty"),
        ({"kb": 5}, "kb must be the knowledge base's bytes in base64, got 5"),
    ],
)
def test_saved_settings_are_checked(settings, message):
    """The task's other saved values are checked as its settings are, naming the key."""
    saved = json.loads(json.dumps(_task().to_dict()))
    assert EntityLinkerTask().from_dict(saved).to_dict() == saved
    with pytest.raises(ValueError, match=f"^{message}"):
        EntityLinkerTask().from_dict({**saved, **settings})
