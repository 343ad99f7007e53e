"""The "softmax" combination's document-wide word signal (``words_scope``) and
its label term (``type_weight``): reading doc_ids and labels, the entities'
usual labels, the scores, the settings' errors and the saved task."""

import json
import math
import warnings

import numpy
import pytest
from thinc.api import fix_random_seed

from arch_entitylinker import KnowledgeBase
from arch_entitylinker.task import EntityLinkerTask, entity_linker_task, entity_types
from arch_tok2vec import CorpusError, Doc, registry

COUNTRY, TEAM = "Q_country", "Q_team"
MODEL = {
    "@architectures": "spacy.EntityLinker.v1",
    "nO": None,
    "tok2vec": {
        "@architectures": "spacy.HashEmbedCNN.v1",
        "pretrained_vectors": None,
        "width": 16,
        "depth": 1,
        "embed_size": 100,
        "window_size": 1,
        "maxout_pieces": 2,
        "subword_features": False,
    },
}


def _record(doc_id, text, alias=None, kb_id=None, label=None):
    mentions = []
    if alias is not None:
        start = text.index(alias)
        mention = {"start_char": start, "end_char": start + len(alias), "kb_id": kb_id}
        if label is not None:
            mention["entity_type"] = label
        mentions.append(mention)
    return {"doc_id": doc_id, "text": text, "mentions": mentions}


# The team's documents talk about football in the sentences around the
# mentions; the country's about trade. "Belgium" alone never says which.
TRAIN = [
    _record("sport1", "The match ended with a late goal from the striker."),
    _record("sport1", "Belgium won again.", "Belgium", TEAM, "organization"),
    _record("sport2", "Belgium won again.", "Belgium", TEAM, "organization"),
    _record("sport2", "The coach praised the striker after the match."),
    _record("sport3", "Belgium won again.", "Belgium", TEAM, "organization"),
    _record("sport3", "Fans sang in the stadium during the match."),
    _record("trade1", "Exports of steel and chemicals rose by a tenth."),
    _record("trade1", "Belgium won again.", "Belgium", COUNTRY, "place"),
]
DEV = [
    _record("dev1", "Tariffs on steel exports and chemicals were cut."),
    _record("dev1", "Belgium won again.", "Belgium", COUNTRY, "place"),
]


def _kb():
    kb = KnowledgeBase(entity_vector_length=4)
    kb.add_entity(COUNTRY, freq=1, entity_vector=[1.0, 0.0, 0.0, 0.0])
    kb.add_entity(TEAM, freq=3, entity_vector=[0.0, 1.0, 0.0, 0.0])
    kb.add_alias("Belgium", [TEAM, COUNTRY], [0.75, 0.25])
    return kb


def _write(path, records):
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf8")
    return path


def _trained(tmp_path, **settings):
    """The task initialized on TRAIN (no training steps: incl_context is off,
    so only the prior, the words and the labels decide); and the dev examples."""
    fix_random_seed(0)
    task = entity_linker_task(combination="softmax", incl_context=False, **settings)
    task.set_kb(_kb())
    model = registry.resolve({"model": MODEL})["model"]
    train = task.read(_write(tmp_path / "train.jsonl", TRAIN))
    dev = task.read(_write(tmp_path / "dev.jsonl", DEV))
    task.initialize(model, train)
    return task, model, dev


def _linked(task, model, dev):
    return [kb_id for links in task.predict(model, [eg.doc for eg in dev]) for *_, kb_id in links]


def test_records_of_one_document_share_its_words(tmp_path):
    records = TRAIN[:3] + [{"text": "No doc_id here.", "mentions": []}]
    task = entity_linker_task(combination="softmax", words_scope="document")
    task.set_kb(_kb())
    examples = task.read(_write(tmp_path / "c.jsonl", records))
    first, second, third, loose = (eg.doc for eg in examples)
    assert first.document is second.document
    assert first.document.text == (
        "The match ended with a late goal from the striker. Belgium won again."
    )
    # a document of one record, and a record without a doc_id, use their own words
    assert getattr(third, "document", None) is None
    assert getattr(loose, "document", None) is None
    assert task._word_tokens(third) == ["belgium", "won", "again"]
    assert task._word_tokens(first)[:3] == ["the", "match", "ended"]
    # the default scope reads no documents
    plain = entity_linker_task(combination="softmax")
    plain.set_kb(_kb())
    doc = plain.read(_write(tmp_path / "d.jsonl", records))[0].doc
    assert getattr(doc, "document", None) is None


def test_document_words_overrule_the_prior(tmp_path):
    # the mention's own sentence is the same for both entities: the prior wins
    task, model, dev = _trained(tmp_path, tau_words=0.01)
    assert _linked(task, model, dev) == [TEAM]
    # the document's other sentence shares "steel", "exports", "chemicals"
    # with the country's training document
    task, model, dev = _trained(tmp_path, tau_words=0.01, words_scope="document")
    assert _linked(task, model, dev) == [COUNTRY]
    assert task.score(dev, task.predict(model, [eg.doc for eg in dev]))["accuracy"] == 1.0
    # too weak a temperature leaves the prior in charge
    task, model, dev = _trained(tmp_path, tau_words=100.0, words_scope="document")
    assert _linked(task, model, dev) == [TEAM]


def test_labels_are_read_into_mentions_and_spans(tmp_path):
    task = entity_linker_task()
    task.set_kb(_kb())
    records = [
        TRAIN[1],
        {
            "text": "Belgium won.",
            "mentions": [{"start_char": 0, "end_char": 7, "kb_id": TEAM, "label": "ORG"}],
        },
        {"text": "Belgium won.", "mentions": [{"start_char": 0, "end_char": 7, "kb_id": TEAM}]},
    ]
    examples = task.read(_write(tmp_path / "c.jsonl", records))
    assert [eg.gold["mentions"][0].label for eg in examples] == ["organization", "ORG", ""]
    assert [eg.doc.ents[0].label_ for eg in examples] == ["organization", "ORG", ""]
    # entity_type comes first, unless it is empty
    both = {"start_char": 0, "end_char": 7, "kb_id": TEAM, "label": "ORG"}
    records = [
        {"text": "Belgium won.", "mentions": [{**both, "entity_type": "organization"}]},
        {"text": "Belgium won.", "mentions": [{**both, "entity_type": ""}]},
    ]
    examples = task.read(_write(tmp_path / "c.jsonl", records))
    assert [eg.gold["mentions"][0].label for eg in examples] == ["organization", "ORG"]
    # Prodigy records: the span's label
    prodigy = {
        "text": "Belgium won.",
        "spans": [{"start": 0, "end": 7, "label": "GPE"}],
        "accept": [COUNTRY],
        "answer": "accept",
    }
    (example,) = task.read(_write(tmp_path / "p.jsonl", [prodigy]))
    assert example.gold["mentions"][0].label == example.doc.ents[0].label_ == "GPE"
    bad = [{"text": "Belgium won.", "mentions": [{**both, "label": 3}]}]
    with pytest.raises(
        CorpusError, match=r'c\.jsonl, line 1: mention 0 \(\'Belgium\'\): "label" must'
    ):
        task.read(_write(tmp_path / "c.jsonl", bad))


def test_entity_types_takes_the_most_frequent_label():
    pairs = [("a", "place"), ("a", "org"), ("a", "org"), ("b", "x"), ("b", "y"), ("c", "")]
    assert entity_types(pairs) == {"a": "org", "b": "x"}
    assert entity_types([]) == {}


def test_type_weight_scores(tmp_path):
    task, model, dev = _trained(tmp_path, tau_words=None, type_weight=3.0)
    assert task.types == {TEAM: "organization", COUNTRY: "place"}
    # log(0.25) + 3 > log(0.75): the label overrules a prior of 3:1
    scores = task._softmax_scores([0, 1], [0.25, 0.75], None, None, "place")
    numpy.testing.assert_allclose(scores, [math.log(0.25) + 3.0, math.log(0.75)])
    assert _linked(task, model, dev) == [COUNTRY]
    assert task.link("Belgium", None, None, "organization") == TEAM
    # no label, or a label no candidate has: the prior decides
    assert task.link("Belgium", None, None, "") == TEAM
    assert task.link("Belgium", None, None, "event") == TEAM
    # a weight below log(3) does not
    task.type_weight = 1.0
    assert task.link("Belgium", None, None, "place") == TEAM
    # type_weight 0 builds no table
    task, model, dev = _trained(tmp_path, tau_words=None)
    assert task.types is None and _linked(task, model, dev) == [TEAM]


def test_type_weight_beside_the_encoder():
    task = entity_linker_task(combination="softmax", tau_words=None, type_weight=3.0)
    task.set_kb(_kb())
    task.types = {TEAM: "organization", COUNTRY: "place"}
    towards_team = numpy.array([0.0, 1.0, 0.0, 0.0], dtype="float32")
    rows, priors = task.kb.candidate_rows("Belgium")  # the team, then the country
    scores = task._softmax_scores(rows, priors, towards_team, None, "place")
    # the team: log(0.75) + 1 / 0.1; the country: log(0.25) + 0 / 0.1 + 3
    numpy.testing.assert_allclose(scores, [math.log(0.75) + 10.0, math.log(0.25) + 3.0])
    assert task.link("Belgium", towards_team, None, "place") == TEAM
    task.type_weight = 4.0  # log(0.25) + 4 + ... still below log(0.75) + 10
    assert task.link("Belgium", towards_team, None, "place") == TEAM
    # a context vector halfway lets the label decide
    halfway = numpy.array([1.0, 1.0, 0.0, 0.0], dtype="float32")
    assert task.link("Belgium", halfway, None, "place") == COUNTRY


def test_a_doc_from_elsewhere_uses_its_own_words_and_span_labels(tmp_path):
    task, model, _ = _trained(tmp_path, tau_words=0.01, words_scope="document", type_weight=3.0)
    words = "Tariffs on steel exports and chemicals were cut . Belgium won again .".split()

    def link(label):
        (links,) = task.predict(model, [Doc(words, ents=[(9, 10, label)])])
        return [(text, kb_id) for _, _, text, kb_id in links]

    # the Doc's own words say trade, against its span's label
    assert link("organization") == [("Belgium", COUNTRY)]
    # without the words, the span's label decides
    task.words = None
    assert link("place") == [("Belgium", COUNTRY)]
    assert link("organization") == link("") == [("Belgium", TEAM)]


def test_type_weight_without_labels_warns(tmp_path):
    records = [
        {
            **r,
            "mentions": [{k: v for k, v in m.items() if k != "entity_type"} for m in r["mentions"]],
        }
        for r in TRAIN
    ]
    task = entity_linker_task(combination="softmax", incl_context=False, type_weight=1.0)
    task.set_kb(_kb())
    model = registry.resolve({"model": MODEL})["model"]
    with pytest.warns(UserWarning, match="no training mention has a label"):
        task.initialize(model, task.read(_write(tmp_path / "t.jsonl", records)))
    assert task.types == {}


def test_windows_and_documents_together(tmp_path):
    records = [_record("x", "Elsewhere."), _record("d", "One."), _record("d", "Two.")]
    records.append(_record("d", "Three."))
    task = entity_linker_task(combination="softmax", n_sents=1, words_scope="document")
    task.set_kb(_kb())
    _, one, two, three = (eg.doc for eg in task.read(_write(tmp_path / "c.jsonl", records)))
    # the window (what the model encodes) stays within the doc_id and n_sents;
    # the document is the whole run
    assert one.context.text == "One. Two."
    assert two.context.text == "One. Two. Three."
    assert one.document is three.document
    assert one.document.text == "One. Two. Three."
    assert task._word_tokens(one) == ["one", "two", "three"]


@pytest.mark.parametrize(
    "settings,message",
    [
        ({"words_scope": "doc"}, "words_scope must be one of context, document, got 'doc'"),
        ({"type_weight": -1.0}, "type_weight must be a finite number >= 0, got -1.0"),
        ({"type_weight": True}, "type_weight must be a finite number >= 0, got True"),
        ({"type_weight": "3"}, "type_weight must be a finite number >= 0, got '3'"),
        ({"type_weight": math.nan}, "type_weight must be a finite number >= 0, got nan"),
        ({"type_weight": math.inf}, "type_weight must be a finite number >= 0, got inf"),
        (
            {"combination": "spacy", "words_scope": "document"},
            'words_scope = "document" needs combination = "softmax"',
        ),
        (
            {"combination": "spacy", "type_weight": 1.0},
            'type_weight > 0 needs combination = "softmax"',
        ),
        (
            {"words_scope": "document", "tau_words": None},
            'words_scope = "document" needs tau_words',
        ),
    ],
)
def test_setting_errors(settings, message):
    settings = {"combination": "softmax", **settings}
    with pytest.raises(ValueError, match=message):
        entity_linker_task(**settings)
    saved = entity_linker_task(combination="softmax")
    saved.set_kb(_kb())
    with pytest.raises(ValueError, match=message):
        EntityLinkerTask().from_dict({**saved.to_dict(), **settings})


def test_saved_task_keeps_scope_weight_and_labels(tmp_path, restore):
    task, model, dev = _trained(tmp_path, tau_words=0.01, words_scope="document", type_weight=3.0)
    restored = restore(task)
    assert (restored.words_scope, restored.type_weight) == ("document", 3.0)
    assert restored.types == task.types
    assert _linked(restored, model, dev) == _linked(task, model, dev) == [COUNTRY]
    # a task saved before these settings existed: the sentence's words, no labels
    again = restore(task, drop=("words_scope", "type_weight", "types"))
    assert (again.words_scope, again.type_weight, again.types) == ("context", 0.0, None)
    assert _linked(again, model, dev) == [TEAM]  # the sentence's words alone: the prior
    with pytest.raises(ValueError, match="a saved task's types must be a dict, got list"):
        EntityLinkerTask().from_dict({**task.to_dict(), "types": [COUNTRY]})


def test_labels_of_another_scheme_warn_when_linking(tmp_path):
    task, model, dev = _trained(tmp_path, tau_words=None, type_weight=3.0)
    words = "Belgium won again .".split()
    with pytest.warns(UserWarning, match=r"labels \['GPE'\] never occur in training"):
        task.predict(model, [Doc(words, ents=[(0, 1, "GPE")])])
    # the training scheme, no label, or the label term off: no warning
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        task.predict(model, [Doc(words, ents=[(0, 1, "place")]), Doc(words, ents=[(0, 1, "")])])
        task.type_weight = 0.0
        task.predict(model, [Doc(words, ents=[(0, 1, "GPE")])])
