"""``archs apply``'s records on spaCy's Doc. The tagger, text classifier and entity
linker predict on spaCy Docs, so a chain of them annotates spaCy Docs, and the
record of a spaCy Doc is the record of the same words in an arch_tok2vec.Doc. The
parser and NER models read arch_tok2vec.Doc only (on spaCy Docs, their model
serves spaCy's own parser component), but their annotations can be set on spaCy
Docs (their annotate used to set what only arch_tok2vec.Doc can hold)."""

from pathlib import Path
from typing import Dict, List

import pytest
from thinc.api import Config

from arch_tok2vec import Doc, load
from arch_tok2vec.apply import pipe
from arch_tok2vec.apply.chain import Chain, Model
from arch_tok2vec.training import train

ROOT = Path(__file__).resolve().parents[2]
TEXTS = [
    "The museum in Paris reopened after the French elections.",
    "Jordan led the Bulls to another basketball title. Fans cheered!",
    "Sales at Amazon grew as customers ordered more packages.",
    "Nothing here.",
]


@pytest.fixture(scope="module")
def models(tmp_path_factory) -> Dict[str, Path]:
    root = tmp_path_factory.mktemp("models")
    out = {}
    for name, epochs in (
        ("tagger", 3),
        ("parser", 3),
        ("ner", 8),
        ("entity_linker", 3),
        ("textcat", 3),
    ):
        config = Config().from_disk(ROOT / "configs" / f"{name}.cfg", interpolate=False)
        config["training"]["max_epochs"] = epochs
        train(config, root / name, log=lambda line: None, progress=False)
        out[name] = root / name / "model-last"
    return out


def spacy_docs(docs: List[Doc]) -> List[object]:
    import spacy
    from spacy.tokens import Doc as SpacyDoc

    vocab = spacy.blank("en").vocab
    return [SpacyDoc(vocab, words=doc.words, spaces=doc.spaces) for doc in docs]


def test_parser_and_ner_annotate_spacy_docs(models):
    ours = [Doc.from_text(text) for text in TEXTS]
    theirs = spacy_docs(ours)
    parser, ner = load(models["parser"]), load(models["ner"])
    parses = parser.task.predict(parser.model, ours)
    parser.task.annotate(theirs, parses)
    for doc, parse in zip(theirs, parses):
        assert [t.head.i for t in doc] == parse["heads"]
        assert [t.dep_ for t in doc] == parse["deps"]
    found = ner.task.predict(ner.model, ours)
    ner.task.annotate(theirs, found)
    assert [[(e.start, e.end, e.label_) for e in doc.ents] for doc in theirs] == found
    assert any(found)
    parser.task.annotate(ours, parses)
    ner.task.annotate(ours, found)
    for task in (parser.task, ner.task):
        assert [task.record(doc) for doc in theirs] == [task.record(doc) for doc in ours]


def test_a_spacy_doc_gets_the_record_of_our_doc(models):
    names = ("tagger", "entity_linker", "textcat")
    chain = Chain([Model(str(models[name]), load(models[name])) for name in names])
    ours = [Doc.from_text(text) for text in TEXTS]
    theirs = spacy_docs(ours)
    chain(ours)
    chain(theirs)
    records = [chain.record(doc) for doc in ours]
    assert [chain.record(doc) for doc in theirs] == records
    assert any(record["ents"] for record in records)  # the linker's own mentions
    assert all(e["kb_id"] for record in records for e in record["ents"])
    # pipe annotates given spaCy Docs in place
    again = spacy_docs(ours)
    assert [chain.record(doc) for doc in pipe([m.pipeline for m in chain.models], again)] == records
