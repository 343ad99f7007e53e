"""spaCy-side helpers of the parser and NER compatibility tests (items 3-6 of issue 7
for arch-parser), shared by make_parser_pipelines.py (venv without arch) and the
tests (venv with arch).

Imports spaCy, never arch: the same code trains spaCy's components with spaCy's own
spacy.TransitionBasedParser.v1 (spacy-legacy) in one venv and with ours in the other.
Data: UD English EWT (heads, deps) for the parser, WNUT17 (IOB2) for the NER, read
deterministically (file order, no sampling).
"""

import random
from typing import Any, Dict, List, NamedTuple, Optional, Sequence, Tuple

import compat_data
import spacy
from spacy.pipeline import EntityRecognizer
from spacy.tokens import Doc
from spacy.training import Example
from spacy.util import minibatch
from thinc.api import Adam, fix_random_seed

SEED = 0
BATCH_SIZE = 16

HASH_EMBED_CNN: Dict[str, Any] = {
    "@architectures": "spacy.HashEmbedCNN.v1",
    "pretrained_vectors": None,
    "width": 64,
    "depth": 2,
    "embed_size": 2000,
    "window_size": 1,
    "maxout_pieces": 3,
    "subword_features": True,
}


def tbp(
    state_type: str,
    extra_state_tokens: bool = False,
    use_upper: bool = True,
    hidden_width: int = 64,
    tok2vec: Optional[Dict[str, Any]] = None,
) -> Dict[str, Any]:
    """A spacy.TransitionBasedParser.v1 model block (released signature)."""
    return {
        "@architectures": "spacy.TransitionBasedParser.v1",
        "state_type": state_type,
        "extra_state_tokens": extra_state_tokens,
        "hidden_width": hidden_width,
        "maxout_pieces": 2,
        "use_upper": use_upper,
        "nO": None,
        "tok2vec": dict(tok2vec or HASH_EMBED_CNN),
    }


PIPELINES: List[Dict[str, Any]] = [
    {
        "name": "parser",
        "factory": "parser",
        "data": "ewt",
        "epochs": 6,
        "config": {"model": tbp("parser")},
    },
    {
        "name": "ner",
        "factory": "ner",
        "data": "wnut",
        "epochs": 6,
        "config": {"model": tbp("ner")},
    },
]
"""Pipelines make_parser_pipelines.py trains with spaCy + spacy-legacy alone and saves
(each a blank English pipeline with one component owning its HashEmbedCNN.v1 tok2vec)."""


# --------------------------------------------------------------------------
# data


class Tagged(NamedTuple):
    """One WNUT17 sentence: tokens and IOB2 tags."""

    words: List[str]
    tags: List[str]


def read_wnut(split: str) -> List[Tagged]:
    """Every sentence of WNUT17 train or dev (a blank line or a lone tab ends one)."""
    name = "wnut17train.conll" if split == "train" else "emerging.dev.conll"
    path = compat_data.data_dir() / "wnut17" / name
    out: List[Tagged] = []
    words: List[str] = []
    tags: List[str] = []
    with open(path, encoding="utf8") as fh:
        for line in fh:
            line = line.rstrip("\n")
            if not line.strip():
                if words:
                    out.append(Tagged(words, tags))
                words, tags = [], []
                continue
            word, tag = line.split("\t")[:2]
            words.append(word)
            tags.append(tag)
    if words:
        out.append(Tagged(words, tags))
    return out


def wnut(split: str) -> List[Tagged]:
    """The WNUT17 slice: train = the first 400 sentences with an entity (the others
    teach little at this size); dev = the first 150 dev sentences, as they come."""
    sents = read_wnut(split)
    if split == "train":
        return [s for s in sents if any(t != "O" for t in s.tags)][:400]
    return sents[:150]


def ewt(split: str) -> List[compat_data.Sentence]:
    """The EWT slice: 300 train sentences, 80 dev sentences (3 to 40 words)."""
    return compat_data.ewt(split, 0, 300 if split == "train" else 80)


def iob_to_biluo(tags: Sequence[str]) -> List[str]:
    """IOB2 tags as BILUO tags (an I- that does not continue its entity starts one)."""
    out = []
    for i, tag in enumerate(tags):
        if tag == "O":
            out.append("O")
            continue
        kind, label = tag.split("-", 1)
        prev = tags[i - 1] if i else "O"
        begins = kind == "B" or prev == "O" or prev.split("-", 1)[1] != label
        nxt = tags[i + 1] if i + 1 < len(tags) else "O"
        continues = nxt == f"I-{label}"
        if begins:
            out.append(f"B-{label}" if continues else f"U-{label}")
        else:
            out.append(f"I-{label}" if continues else f"L-{label}")
    return out


def examples(nlp: Any, data: str, split: str) -> List[Example]:
    """Training or evaluation examples of "ewt" (heads, deps) or "wnut" (entities)."""
    out = []
    if data == "ewt":
        for sent in ewt(split):
            doc = Doc(nlp.vocab, words=sent.words, spaces=sent.spaces)
            out.append(Example.from_dict(doc, {"heads": sent.heads, "deps": sent.deps}))
    elif data == "wnut":
        for tagged in wnut(split):
            doc = Doc(nlp.vocab, words=tagged.words)
            out.append(Example.from_dict(doc, {"entities": iob_to_biluo(tagged.tags)}))
    else:
        raise KeyError(f"unknown data {data!r}")
    return out


def bare(nlp: Any, egs: Sequence[Example]) -> List[Doc]:
    """The examples' words as new Docs without annotation."""
    out = []
    for eg in egs:
        ref = eg.reference
        out.append(
            Doc(nlp.vocab, words=[t.text for t in ref], spaces=[bool(t.whitespace_) for t in ref])
        )
    return out


# --------------------------------------------------------------------------
# pipelines


def make_nlp(factory: str, config: Dict[str, Any]) -> Any:
    nlp = spacy.blank("en")
    nlp.add_pipe(factory, config=config)
    return nlp


def train(
    nlp: Any,
    train_examples: List[Example],
    epochs: int,
    seed: int = SEED,
    learn_rate: Optional[float] = None,
) -> Any:
    """nlp.initialize then ``epochs`` shuffled passes of nlp.update (batch 16, drop 0.1);
    returns the optimizer (spaCy's default, or Adam with ``learn_rate``).
    Deterministic for a given seed."""
    fix_random_seed(seed)
    sgd = nlp.initialize(lambda: train_examples)
    if learn_rate is not None:
        sgd = Adam(learn_rate)
    rng = random.Random(seed)
    egs = list(train_examples)
    for _ in range(epochs):
        rng.shuffle(egs)
        for batch in minibatch(egs, size=BATCH_SIZE):
            nlp.update(batch, sgd=sgd, drop=0.1)
    return sgd


def predictions(nlp: Any, docs: List[Doc]) -> List[Dict[str, Any]]:
    """Heads, deps and entities the pipeline sets on each Doc."""
    out = []
    for doc in nlp.pipe(docs):
        item: Dict[str, Any] = {"words": [t.text for t in doc]}
        if doc.has_annotation("DEP"):
            item["heads"] = [t.head.i for t in doc]
            item["deps"] = [t.dep_ for t in doc]
        if any(isinstance(pipe, EntityRecognizer) for _, pipe in nlp.pipeline):
            item["ents"] = [[e.start, e.end, e.label_] for e in doc.ents]
        out.append(item)
    return out


def scores(nlp: Any, dev: List[Example]) -> Dict[str, float]:
    """spaCy's own scores of the pipeline on dev examples (UAS, LAS, entity P/R/F)."""
    raw = nlp.evaluate(dev)
    keys = ("dep_uas", "dep_las", "ents_p", "ents_r", "ents_f")
    return {k: float(raw[k]) for k in keys if raw.get(k) is not None}


def baseline(data: str, dev: List[Example]) -> Dict[str, float]:
    """Trivial baselines on dev. Parser: the better UAS of attaching every word to its
    left neighbour or to its right neighbour (the edge word as root). NER: predicting
    no entity (F = 0)."""
    if data == "wnut":
        return {"ents_f": 0.0}
    total = left = right = 0
    for eg in dev:
        n = len(eg.reference)
        for tok in eg.reference:
            total += 1
            left += tok.head.i == max(tok.i - 1, 0)
            right += tok.head.i == min(tok.i + 1, n - 1)
    return {"dep_uas": max(left, right) / total}


def count_differences(got: List[Dict[str, Any]], expected: List[Dict[str, Any]]) -> List[str]:
    """Where two prediction lists differ (doc index and field)."""
    if len(got) != len(expected):
        return [f"{len(got)} docs != {len(expected)}"]
    out = []
    for i, (g, e) in enumerate(zip(got, expected)):
        for key in sorted(set(g) | set(e)):
            if g.get(key) != e.get(key):
                out.append(f"doc {i} {key}: {g.get(key)} != {e.get(key)}")
    return out


def spans(doc: Doc) -> List[Tuple[int, int, str]]:
    return [(e.start, e.end, e.label_) for e in doc.ents]
