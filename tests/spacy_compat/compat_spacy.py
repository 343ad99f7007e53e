"""spaCy-side helpers shared by make_pipelines.py (venv without arch) and the tests
(venv with arch): building the pipelines of the families' PIPELINES specs, the
training and evaluation examples, and the predictions that are compared.

Imports spaCy, never arch.
"""

import math
from typing import Any, Dict, List, Sequence

import compat_data
import numpy
import spacy
from spacy.tokens import Doc, Span
from spacy.training import Example


def make_nlp(spec: Dict[str, Any]) -> Any:
    """A blank English pipeline with the spec's components (factory, config). A spec
    with "kb" (a compat_data.kb_data name) gets that knowledge base, built as spaCy's
    own InMemoryLookupKB, in every entity_linker."""
    nlp = spacy.blank("en")
    for factory, config in spec["components"]:
        pipe = nlp.add_pipe(factory, config=config)
        if factory == "entity_linker" and spec.get("kb"):
            pipe.set_kb(lambda vocab, name=spec["kb"]: make_kb(vocab, name))
    return nlp


def make_kb(vocab: Any, name: str) -> Any:
    """spaCy's InMemoryLookupKB filled from compat_data.kb_data(name)."""
    from spacy.kb import InMemoryLookupKB

    data = compat_data.kb_data(name)
    kb = InMemoryLookupKB(vocab, entity_vector_length=data.vector_length)
    for qid, freq, vector in data.entities:
        kb.add_entity(qid, freq, vector)
    for alias, qids, priors in data.aliases:
        kb.add_alias(alias, qids, priors)
    return kb


def examples(nlp: Any, data: Sequence[str], split: str) -> List[Example]:
    """Training or evaluation examples of a data slice ("sentences"/"texts", name)."""
    kind, name = data
    out = []
    if kind == "sentences":
        for sent in compat_data.sentences(name, split):
            doc = Doc(nlp.vocab, words=sent.words, spaces=sent.spaces)
            annotations = {"tags": sent.tags, "pos": sent.pos}
            # TODO(parser): add "heads" and "deps" here for parser pipelines.
            out.append(Example.from_dict(doc, annotations))
    elif kind == "texts":
        for text, cats in compat_data.dataset(name, split):
            out.append(Example.from_dict(nlp.make_doc(text), {"cats": cats}))
    elif kind == "links":
        for sent in compat_data.links(name, split):
            doc = Doc(nlp.vocab, words=sent.words, spaces=sent.spaces)
            ents = [(doc[m.start : m.end], m) for m in sent.mentions]
            annotations = {
                "entities": [(s.start_char, s.end_char, m.label) for s, m in ents],
                "links": {(s.start_char, s.end_char): {m.kb_id: 1.0} for s, m in ents},
                "sent_starts": [True] + [False] * (len(doc) - 1),
            }
            out.append(Example.from_dict(doc, annotations))
    else:  # TODO(parser): "entities"
        raise KeyError(f"unknown data kind {kind!r}")
    return out


def unannotated(nlp: Any, data: Sequence[str]) -> List[Doc]:
    """The dev slice as bare Docs (same tokens, no annotation) to predict on. For
    entity linking ("links") the Docs keep the gold sentence starts and entity spans
    and labels (what a sentencizer and an NER would give the linker), not the KB IDs."""
    bare = [_bare(nlp, eg) for eg in examples(nlp, data, "dev")]
    if data[0] == "links":
        for doc, eg in zip(bare, examples(nlp, data, "dev")):
            for token, ref in zip(doc, eg.reference):
                token.is_sent_start = bool(ref.is_sent_start)
            doc.ents = [Span(doc, e.start, e.end, label=e.label_) for e in eg.reference.ents]
    return bare


def _bare(nlp: Any, eg: Example) -> Doc:
    ref = eg.reference
    return Doc(nlp.vocab, words=[t.text for t in ref], spaces=[bool(t.whitespace_) for t in ref])


def _floats(value: Any) -> Any:
    array = numpy.asarray(value, dtype="float64")
    return array.tolist()


def predictions(nlp: Any, docs: List[Doc]) -> List[Dict[str, Any]]:
    """Run the pipeline; per Doc, every annotation it set plus the raw output of
    each component's model where that is an array per Doc or a row per Doc
    (token vectors, tag probabilities, category scores)."""
    for _, pipe in nlp.pipeline:
        docs = list(pipe.pipe(docs))
    raw: Dict[str, Any] = {}
    for name, pipe in nlp.pipeline:
        model = getattr(pipe, "model", None)
        if model is None:
            continue
        # after the pipeline ran, listeners read the tok2vec output from doc.tensor
        scores = model.predict(docs)
        if isinstance(scores, list) and all(hasattr(s, "shape") for s in scores):
            raw[name] = [_floats(s) for s in scores]
        elif hasattr(scores, "shape") and len(scores) == len(docs):
            raw[name] = [_floats(row) for row in scores]
    out = []
    for i, doc in enumerate(docs):
        item: Dict[str, Any] = {"words": [t.text for t in doc]}
        if doc.has_annotation("TAG"):
            item["tags"] = [t.tag_ for t in doc]
        if doc.cats:
            item["cats"] = {k: float(v) for k, v in sorted(doc.cats.items())}
        if doc.has_annotation("DEP"):
            item["heads"] = [t.head.i for t in doc]
            item["deps"] = [t.dep_ for t in doc]
        if doc.ents:
            item["ents"] = [[e.start, e.end, e.label_, e.kb_id_] for e in doc.ents]
        item["scores"] = {name: scores[i] for name, scores in raw.items()}
        out.append(item)
    return out


def differences(got: Any, expected: Any, atol: float = 1e-5, path: str = "") -> List[str]:
    """Where two predictions differ: floats by more than ``atol``, anything else at all."""
    if isinstance(expected, dict):
        if not isinstance(got, dict) or set(got) != set(expected):
            return [
                f"{path}: keys {sorted(got) if isinstance(got, dict) else got} "
                f"!= {sorted(expected)}"
            ]
        out: List[str] = []
        for key in expected:
            out += differences(got[key], expected[key], atol, f"{path}.{key}")
        return out
    if isinstance(expected, list):
        if not isinstance(got, list) or len(got) != len(expected):
            return [f"{path}: length differs"]
        out = []
        for i, (g, e) in enumerate(zip(got, expected)):
            out += differences(g, e, atol, f"{path}[{i}]")
        return out
    if isinstance(expected, float) and isinstance(got, (float, int)):
        if not math.isclose(got, expected, rel_tol=0, abs_tol=atol):
            return [f"{path}: {got} != {expected}"]
        return []
    return [] if got == expected else [f"{path}: {got!r} != {expected!r}"]


def accuracy(preds: List[Dict[str, Any]], gold: List[Example]) -> Dict[str, float]:
    """Simple scores of predictions against the gold dev examples (for the record)."""
    scores: Dict[str, float] = {}
    tags = [
        (p["tags"], [t.tag_ for t in eg.reference]) for p, eg in zip(preds, gold) if "tags" in p
    ]
    if tags:
        right = sum(a == b for got, want in tags for a, b in zip(got, want))
        scores["tag_acc"] = right / sum(len(want) for _, want in tags)
    links = [
        (got[3], ent.kb_id_)
        for p, eg in zip(preds, gold)
        for got, ent in zip(p.get("ents", []), eg.reference.ents)
        if ent.kb_id_
    ]
    if links:
        scores["nel_acc"] = sum(got == want for got, want in links) / len(links)
    cats = [(p["cats"], eg.reference.cats) for p, eg in zip(preds, gold) if "cats" in p]
    if cats:
        right = 0
        for got, want in cats:
            right += max(got, key=got.get) == max(want, key=want.get)
        scores["cats_top1"] = right / len(cats)
    return scores
