"""The entity linker's annotations on a Doc: the entities it links keep their
spans and get their KB IDs, and the mentions it finds itself (a Doc that came
without entities) become entities, so that nothing it linked is lost."""

from pathlib import Path

import pytest
from thinc.api import Config

from arch_entitylinker.task import ALIAS_LABEL
from arch_tok2vec import Doc, Span, load
from arch_tok2vec.training import train

CONFIG = Path(__file__).resolve().parents[3] / "configs" / "entity_linker.cfg"


@pytest.fixture(scope="module")
def linker(tmp_path_factory):
    config = Config().from_disk(CONFIG, interpolate=False)
    config["training"]["max_epochs"] = 2
    folder = tmp_path_factory.mktemp("linker")
    train(config, folder, log=lambda line: None, progress=False)
    return load(folder / "model-last")


def test_the_mentions_found_by_aliases_become_entities(linker):
    doc = Doc.from_text("Sales at Amazon grew, and Paris was busy.")
    links = linker.task.predict(linker.model, [doc])
    assert [text for _, _, text, _ in links[0]] == ["Amazon", "Paris"]
    linker.task.annotate([doc], links)
    assert [(e.text, e.label_, e.kb_id_) for e in doc.ents] == [
        (text, ALIAS_LABEL, kb_id) for _, _, text, kb_id in links[0]
    ]
    record = linker.task.record(doc)
    assert [(e["start"], e["end"], e["kb_id"]) for e in record["ents"]] == [
        (2, 3, links[0][0][3]),
        (6, 7, links[0][1][3]),
    ]


def test_given_entities_are_linked_and_none_means_none(linker):
    doc = Doc.from_text("Sales at Amazon grew, and Paris was busy.")
    doc.ents = [Span(doc, 6, 7, "GPE")]
    nothing = Doc.from_text("Sales at Amazon grew.")
    nothing.mentions_given = True  # e.g. an NER model found no entity in it
    links = linker.task.predict(linker.model, [doc, nothing])
    assert [len(found) for found in links] == [1, 0]
    linker.task.annotate([doc, nothing], links)
    assert [(e.text, e.label_, e.kb_id_) for e in doc.ents] == [("Paris", "GPE", links[0][0][3])]
    assert list(nothing.ents) == []
