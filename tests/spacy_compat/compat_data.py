"""Small, fixed slices of the shared corpora, read the same way in both venvs.

This module imports neither spaCy nor arch: ``make_pipelines.py`` uses it in the
venv without arch, the tests use it in the venv with arch, so both sides see the
same sentences and texts. Every slice is deterministic (file order, no sampling).
"""

import csv
import json
import os
import random
from pathlib import Path
from typing import Dict, Iterator, List, NamedTuple, Optional, Tuple

ROOT = Path(__file__).resolve().parents[2]

BANKING_LABELS = (
    "card_arrival",
    "card_delivery_estimate",
    "card_payment_fee_charged",
    "cash_withdrawal_charge",
    "exchange_rate",
    "lost_or_stolen_card",
    "top_up_failed",
    "transfer_fee_charged",
)
"""The banking77 intents used for exclusive classification (eight, some of them close:
three kinds of fee, two about card delivery)."""

COOKING_LABELS = ("baking", "bread", "eggs", "meat", "sauce")
"""The cooking.stackexchange tags used for multi-label classification."""


class Sentence(NamedTuple):
    """One UD sentence: syntactic words (no multi-word ranges) with their annotation."""

    words: List[str]
    spaces: List[bool]
    tags: List[str]
    pos: List[str]
    heads: List[int]  # absolute index of each word's head (a root is its own head)
    deps: List[str]


class Mention(NamedTuple):
    """A linked mention: word span [start, end), entity type, gold Wikidata QID."""

    start: int
    end: int
    label: str
    kb_id: str


class LinkedSentence(NamedTuple):
    """One sentence with its linked, non-overlapping mentions."""

    words: List[str]
    spaces: List[bool]
    mentions: List[Mention]


class KBData(NamedTuple):
    """A small knowledge base: (QID, frequency, vector) rows and (alias, QIDs, priors)."""

    vector_length: int
    entities: List[Tuple[str, float, List[float]]]
    aliases: List[Tuple[str, List[str], List[float]]]


def data_dir() -> Path:
    """$ARCH_DATA, or ../shared/data beside the repository; an error if missing."""
    path = Path(os.environ.get("ARCH_DATA", ROOT.parent / "shared" / "data"))
    if not (path / "ud_english_ewt").exists():
        raise FileNotFoundError(
            f"real corpora not found at {path}: set ARCH_DATA to the shared/data folder"
        )
    return path


def read_conllu(path: Path) -> Iterator[Sentence]:
    """Every sentence of a CoNLL-U file (multi-word ranges and empty nodes skipped)."""
    rows: List[List[str]] = []
    with open(path, encoding="utf8") as fh:
        for line in fh:
            line = line.rstrip("\n")
            if not line:
                if rows:
                    yield _sentence(rows)
                rows = []
            elif not line.startswith("#"):
                cols = line.split("\t")
                if cols[0].isdigit():
                    rows.append(cols)
    if rows:
        yield _sentence(rows)


def _sentence(rows: List[List[str]]) -> Sentence:
    words = [r[1] for r in rows]
    spaces = ["SpaceAfter=No" not in r[9] for r in rows]
    heads = [int(r[6]) - 1 if r[6] != "0" else i for i, r in enumerate(rows)]
    deps = [r[7] for r in rows]
    return Sentence(words, spaces, [r[4] for r in rows], [r[3] for r in rows], heads, deps)


def ewt(split: str, start: int, n: int, min_len: int = 3, max_len: int = 40) -> List[Sentence]:
    """``n`` sentences of UD English EWT ``split`` (train or dev), skipping the first
    ``start`` sentences, keeping those with ``min_len``..``max_len`` words."""
    path = data_dir() / "ud_english_ewt" / f"en_ewt-ud-{split}.conllu"
    out: List[Sentence] = []
    for i, sent in enumerate(read_conllu(path)):
        if i < start or not (min_len <= len(sent.words) <= max_len):
            continue
        out.append(sent)
        if len(out) == n:
            break
    return out


def ewt_tokens(n_tokens: int) -> List[List[str]]:
    """The first sentences of EWT train, at least ``n_tokens`` words in all."""
    out: List[List[str]] = []
    total = 0
    for sent in read_conllu(data_dir() / "ud_english_ewt" / "en_ewt-ud-train.conllu"):
        out.append(sent.words)
        total += len(sent.words)
        if total >= n_tokens:
            break
    return out


def banking(split: str, per_label: int) -> List[Tuple[str, Dict[str, float]]]:
    """Exclusive categories from banking77 (train only exists here): for each of
    BANKING_LABELS, the first ``per_label`` texts (split "train") or the next
    ``per_label`` ones (split "dev")."""
    by_label: Dict[str, List[str]] = {label: [] for label in BANKING_LABELS}
    with open(data_dir() / "banking77" / "train.csv", encoding="utf8", newline="") as fh:
        for row in csv.DictReader(fh):
            if row["category"] in by_label:
                by_label[row["category"]].append(row["text"])
    offset = 0 if split == "train" else per_label
    out = []
    for i in range(per_label):
        for label in BANKING_LABELS:
            text = by_label[label][offset + i]
            out.append((text, {other: float(other == label) for other in BANKING_LABELS}))
    return out


def cooking(split: str, n: int, max_chars: int = 300) -> List[Tuple[str, Dict[str, float]]]:
    """Multi-label categories: the first ``n`` cooking.stackexchange questions of a
    split with at least one of COOKING_LABELS, cut to their first ``max_chars``."""
    out = []
    path = data_dir() / "cooking_stackexchange" / f"cooking-{split}.jsonl"
    with open(path, encoding="utf8") as fh:
        for line in fh:
            record = json.loads(line)
            cats = {label: float(record["cats"].get(label, 0.0)) for label in COOKING_LABELS}
            if any(cats.values()):
                out.append((record["text"][:max_chars], cats))
            if len(out) == n:
                break
    return out


def dataset(name: str, split: str) -> List[Tuple[str, Optional[dict]]]:
    """A named training/evaluation slice as (text, cats or None) pairs.

    For tagging sets the text is the sentence and annotation is read by
    ``sentences``. TODO(parser, entity_linker): add "ewt_parse", "uner", "emerson" here.
    """
    if name == "banking":
        return list(banking(split, 30 if split == "train" else 12))
    if name == "cooking":
        return list(cooking(split, 150 if split == "train" else 40))
    raise KeyError(f"unknown dataset {name!r}")


def sentences(name: str, split: str) -> List[Sentence]:
    """A named slice of annotated sentences (tags, heads, deps)."""
    if name == "ewt":
        return ewt(split, 0, 300 if split == "train" else 80)
    raise KeyError(f"unknown sentence set {name!r}")


GUM_SLICE = {"train": 400, "dev": 120}
"""Sentences with at least one linked proper-name mention, first in file order."""
KB_VECTOR_LENGTH = 24


def gum_aliases() -> Dict[str, Dict[str, int]]:
    """alias -> {QID: count in GUM train} from the shared alias table."""
    table: Dict[str, Dict[str, int]] = {}
    path = data_dir() / "gum_entity_linking" / "aliases_train.tsv"
    with open(path, encoding="utf8") as fh:
        next(fh)
        for line in fh:
            alias, _, qid, count, _ = line.rstrip("\n").split("\t")
            table.setdefault(alias, {})[qid] = table.get(alias, {}).get(qid, 0) + int(count)
    return table


def _spaces(text: str, words: List[str]) -> Optional[List[bool]]:
    """Whether each word is followed by a space in ``text`` (None if the words do not
    spell the text)."""
    spaces, pos = [], 0
    for i, word in enumerate(words):
        found = text.find(word, pos)
        if found < 0 or text[pos:found].strip():
            return None
        if i:
            spaces.append(found > pos)
        pos = found + len(word)
    return spaces + [False]


def gum_links(split: str) -> List[LinkedSentence]:
    """The GUM entity-linking slice: the first GUM_SLICE[split] sentences of ``split``
    with a proper-name mention whose text is an alias of the table (train: whose
    (alias, QID) pair is in it, so every gold entity is in the KB). Nested mentions:
    the shortest wins, overlapping longer ones are dropped."""
    table = gum_aliases()
    out: List[LinkedSentence] = []
    with open(data_dir() / "gum_entity_linking" / f"{split}.jsonl", encoding="utf8") as fh:
        for line in fh:
            record = json.loads(line)
            words = record["words"]
            spaces = _spaces(record["text"], words)
            if spaces is None:
                continue
            chosen: List[Mention] = []
            taken = set()
            for m in sorted(record["mentions"], key=lambda m: (m["end"] - m["start"], m["start"])):
                span = "".join(
                    w + (" " if s else "")
                    for w, s in zip(words[m["start"] : m["end"]], spaces[m["start"] : m["end"]])
                ).rstrip(" ")
                known = table.get(span, {})
                if "PROPN" not in m["upos"] or not known:
                    continue
                if split == "train" and m["wikidata"] not in known:
                    continue
                cells = set(range(m["start"], m["end"]))
                if cells & taken:
                    continue
                taken |= cells
                chosen.append(Mention(m["start"], m["end"], m["entity_type"], m["wikidata"]))
            if chosen:
                out.append(LinkedSentence(words, spaces, sorted(chosen)))
            if len(out) == GUM_SLICE[split]:
                break
    return out


def gum_kb() -> KBData:
    """A KB for the GUM slice: every alias its mentions use (both splits), with all
    the QIDs the alias table gives it (prior = share of the alias's train count),
    and one pseudo-random vector per QID (seeded by the QID, the same everywhere)."""
    table = gum_aliases()
    used = set()
    for split in ("train", "dev"):
        for sent in gum_links(split):
            for m in sent.mentions:
                used.add(
                    "".join(
                        w + (" " if s else "")
                        for w, s in zip(sent.words[m.start : m.end], sent.spaces[m.start : m.end])
                    ).rstrip(" ")
                )
    aliases = []
    freq: Dict[str, int] = {}
    for alias in sorted(used):
        qids = sorted(table[alias])
        total = sum(table[alias].values())
        aliases.append((alias, qids, [table[alias][q] / total for q in qids]))
        for q in qids:
            freq[q] = freq.get(q, 0) + table[alias][q]
    entities = []
    for qid in sorted(freq):
        rng = random.Random(qid)
        vector = [rng.gauss(0, 1) for _ in range(KB_VECTOR_LENGTH)]
        entities.append((qid, float(freq[qid]), vector))
    return KBData(KB_VECTOR_LENGTH, entities, aliases)


def links(name: str, split: str) -> List[LinkedSentence]:
    """A named entity-linking slice."""
    if name == "gum":
        return gum_links(split)
    raise KeyError(f"unknown entity-linking set {name!r}")


def kb_data(name: str) -> KBData:
    """The knowledge base of a named entity-linking slice."""
    if name == "gum":
        return gum_kb()
    raise KeyError(f"unknown knowledge base {name!r}")


# fmt: off
TRICKY_WORDS = [
    # case, unicode, scripts
    "café", "CAFÉ", "Straße", "STRASSE", "İstanbul", "ı", "ǅ", "ﬁ", "Ωμέγα", "ς", "Москва",
    "שלום", "مرحبا", "नमस्ते", "สวัสดี", "中文", "日本語", "한국어", "ＡＢＣ", "𠀋", "e\u0301",
    # emoji and symbols
    "😀", "👍🏽", "👨\u200d👩\u200d👧", "🇯🇵", "1️⃣", "©", "™", ":-)", "<3", "—", "…", "«", "»",
    "“", "”", "‘", "’", "''", "``", "£", "€", "¥", "$", "%", "&amp;", "-LRB-",
    # clitics and norm exceptions
    "n't", "N'T", "'s", "’s", "'m", "'re", "'ll", "ca", "wo", "gon", "na", "'cause",
    # numbers and shapes
    "0", "1,000.50", "12345678", "3.14", "1/2", "½", "²", "٣", "1990s", "555-1234", "Ⅻ",
    "AAAAAAbbbb", "XxXxXx", "iPhone", "McDonald", "O'Neil", "ab12cd34", "----", "?!?!",
    # urls, handles, abbreviations, symbol-table strings
    "https://spacy.io/api/architectures", "user@example.com", "#NLP", "@user", "U.S.",
    "e.g.", "ADJ", "X", "_", "PERSON", "nsubj", "root", "NOUN", "num",
    # long tokens (SHAPE "LONG" from 100 characters)
    "a" * 99, "a" * 100, "Ab1" * 40, "é" * 120,
]
# fmt: on
"""Tokens whose features are easy to get wrong (hashing, norms, shapes, symbols)."""
