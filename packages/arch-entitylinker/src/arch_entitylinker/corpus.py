"""The entity-linking corpus: JSONL records (GUM's format, Prodigy's) read into
Examples with their gold mentions, and the context windows the model encodes."""

import bisect
import warnings
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

from arch_tok2vec import CorpusError, Doc, Example
from arch_tok2vec.corpus_io import read_jsonl


class Mention:
    """A gold mention: token span, characters, text, gold KB ID, whether it is
    scored (``propn_only`` leaves out mentions without a proper noun) and its
    label (GUM's ``entity_type`` or a span's ``label``; "" if none)."""

    __slots__ = ("start", "end", "start_char", "end_char", "text", "kb_id", "scored", "label")

    def __init__(
        self,
        start: int,
        end: int,
        start_char: int,
        end_char: int,
        text: str,
        kb_id: str,
        scored: bool,
        label: str = "",
    ):
        self.start, self.end = start, end
        self.start_char, self.end_char = start_char, end_char
        self.text, self.kb_id, self.scored = text, kb_id, scored
        self.label = label


def read_corpus(
    path: Path, propn_only: bool = False, n_sents: int = 0, document_scope: bool = False
) -> List[Example]:
    """Read a JSONL corpus: GUM's format (``text``, optional ``words``, and
    ``mentions`` with ``start_char``/``end_char`` and ``wikidata`` or
    ``kb_id``) or Prodigy's (``text``, ``spans``, ``accept``).

    path: The .jsonl file.
    propn_only: Score only the mentions whose ``upos`` list has a PROPN.
    n_sents: Give each Doc a ``context`` window of this many records of its
        doc_id on each side (0: none).
    document_scope: Give each Doc a ``document`` Doc of all records of its doc_id.
    """
    path = Path(path)
    if not path.exists():
        raise CorpusError(path, 0, "file not found")
    if path.suffix.lower() != ".jsonl":
        raise CorpusError(path, 0, "unknown corpus format: use .jsonl")
    examples: List[Example] = []
    skipped: List[int] = []
    for number, data in read_jsonl(path):
        example = _record(data, path, number, propn_only)
        if example is None:
            skipped.append(number)
        else:
            examples.append(example)
    if skipped:
        lines = ", ".join(map(str, skipped[:10])) + (", ..." if len(skipped) > 10 else "")
        warnings.warn(
            f"{path}: skipped {len(skipped)} Prodigy record(s) whose answer is not "
            f'"accept" (lines {lines}); {len(examples)} records read',
            stacklevel=2,
        )
    if n_sents:
        _add_windows(examples, n_sents)
    if document_scope:
        _add_documents(examples)
    return examples


def _record(data: Any, path: Path, number: int, propn_only: bool) -> Optional[Example]:
    """The Example of one record; None for a Prodigy record not accepted."""
    if not isinstance(data, dict) or not isinstance(data.get("text"), str):
        raise CorpusError(path, number, 'each line needs a "text" string')
    text = data["text"]
    doc_id = data.get("doc_id")
    if doc_id is not None and not isinstance(doc_id, str):
        raise CorpusError(path, number, f'"doc_id" must be a string, got {doc_id!r}')
    if "mentions" in data:
        raw = data["mentions"]
        if not isinstance(raw, list):
            raise CorpusError(path, number, '"mentions" must be a list')
    elif "spans" in data and "accept" in data:
        answer = data.get("answer", "accept")
        if answer not in ("accept", "reject", "ignore"):
            raise CorpusError(
                path, number, f'"answer" must be "accept", "reject" or "ignore", got {answer!r}'
            )
        if answer != "accept":
            return None
        raw = _prodigy_mentions(data, path, number)
    else:
        raise CorpusError(
            path, number, 'each line needs "mentions" (or Prodigy\'s "spans" and "accept")'
        )
    doc = _make_doc(text, data.get("words"), path, number)
    if data.get("words") is None:
        # Our tokenizer keeps "Emerson's" whole; split tokens where mentions need it.
        doc = _split_at(
            doc,
            [m.get("start_char") for m in raw if isinstance(m, dict)]
            + [m.get("end_char") for m in raw if isinstance(m, dict)],
        )
    starts = {tok.idx: tok.i for tok in doc}
    ends = {tok.idx + len(tok.text): tok.i + 1 for tok in doc}
    mentions: List[Mention] = []
    for j, m in enumerate(raw):
        if not isinstance(m, dict):
            raise CorpusError(path, number, f"mention {j} must be an object")
        s: Any = m.get("start_char")
        e: Any = m.get("end_char")
        if not (_is_int(s) and _is_int(e) and 0 <= s < e <= len(text)):
            raise CorpusError(
                path,
                number,
                f"mention {j} needs integer start_char < end_char within the text, "
                f"got {s!r}, {e!r}",
            )
        kb_id = next((m[k] for k in ("kb_id", "wikidata", "id") if m.get(k)), None)
        if not isinstance(kb_id, str):
            raise CorpusError(
                path, number, f"mention {j} ({text[s:e]!r}) needs a kb_id (or wikidata) string"
            )
        if s not in starts or e not in ends:
            raise CorpusError(
                path,
                number,
                f"mention {j} ({text[s:e]!r} at {s}:{e}) does not start and end on token "
                "boundaries",
            )
        upos = m.get("upos")
        scored = not propn_only or (isinstance(upos, list) and "PROPN" in upos)
        key = next((k for k in ("entity_type", "label") if m.get(k) not in (None, "")), None)
        label = "" if key is None else m[key]
        if not isinstance(label, str):
            raise CorpusError(
                path, number, f'mention {j} ({text[s:e]!r}): "{key}" must be a string'
            )
        mentions.append(Mention(starts[s], ends[e], s, e, text[s:e], kb_id, scored, label))
    ents = [(m.start, m.end, m.label, m.kb_id) for m in mentions]
    doc = Doc(doc.words, doc.spaces, ents=ents)
    doc.mentions_given = True  # type: ignore[attr-defined]  # even if there are none
    gold = {"mentions": mentions, "file": str(path), "line": number, "doc_id": doc_id}
    return Example(doc, gold)


def context_of(doc: Any) -> Any:
    """The Doc the model encodes for a record: its window if read with
    n_sents > 0, else the Doc itself."""
    return getattr(doc, "context", None) or doc


def _add_windows(examples: List[Example], n_sents: int) -> None:
    """Give each example's Doc a ``context`` Doc: its words with those of up to
    ``n_sents`` neighbouring records of the same doc_id on each side."""
    for i, eg in enumerate(examples):
        doc_id = eg.gold["doc_id"]
        if doc_id is None:
            continue
        lo, hi = i, i
        while lo > 0 and i - lo < n_sents and examples[lo - 1].gold["doc_id"] == doc_id:
            lo -= 1
        last = len(examples) - 1
        while hi < last and hi - i < n_sents and examples[hi + 1].gold["doc_id"] == doc_id:
            hi += 1
        if lo < hi:
            eg.doc.context = _joined(examples[lo : hi + 1])  # type: ignore[attr-defined]


def _add_documents(examples: List[Example]) -> None:
    """Give each example's Doc a ``document`` Doc: the words of the run of
    records sharing its doc_id (records without one keep their own words)."""
    start = 0
    while start < len(examples):
        doc_id = examples[start].gold["doc_id"]
        end = start + 1
        while doc_id is not None and end < len(examples) and examples[end].gold["doc_id"] == doc_id:
            end += 1
        if end - start > 1:
            document = _joined(examples[start:end])
            for eg in examples[start:end]:
                eg.doc.document = document  # type: ignore[attr-defined]
        start = end


def _joined(examples: Sequence[Example]) -> Doc:
    """One Doc of the examples' words, a space between records."""
    words: List[str] = []
    spaces: List[bool] = []
    for eg in examples:
        if eg.doc.words:
            words.extend(eg.doc.words)
            spaces.extend(list(eg.doc.spaces[:-1]) + [True])
    if spaces:
        spaces[-1] = False
    return Doc(words, spaces)


def _prodigy_mentions(data: Dict[str, Any], path: Path, number: int) -> List[Dict[str, Any]]:
    spans, accept = data["spans"], data["accept"]
    if not isinstance(spans, list) or not isinstance(accept, list):
        raise CorpusError(path, number, '"spans" and "accept" must be lists')
    if len(accept) > 1 or (accept and len(spans) != 1):
        raise CorpusError(
            path, number, "a Prodigy record needs one span and at most one accepted ID"
        )
    if not accept:
        return []
    span = spans[0]
    if not isinstance(span, dict):
        raise CorpusError(path, number, "each span must be an object")
    return [
        {
            "start_char": span.get("start"),
            "end_char": span.get("end"),
            "kb_id": accept[0],
            "label": span.get("label"),
        }
    ]


def _split_at(doc: Doc, offsets: List[Any]) -> Doc:
    """The Doc with tokens split at the given character offsets (ignoring
    offsets that are not integers or already token boundaries)."""
    cuts = sorted({o for o in offsets if _is_int(o)})
    if not cuts:
        return doc
    words: List[str] = []
    spaces: List[bool] = []
    for token in doc:
        start, word = token.idx, token.text
        first = bisect.bisect_right(cuts, start)  # the cuts inside the token, not all cuts
        last = bisect.bisect_left(cuts, start + len(word), first)
        inner = [c - start for c in cuts[first:last]]
        pieces = [word[a:b] for a, b in zip([0] + inner, inner + [len(word)])]
        words.extend(pieces)
        spaces.extend([False] * (len(pieces) - 1) + [bool(token.whitespace_)])
    if len(words) == len(doc):
        return doc
    return Doc(words, spaces)


def _make_doc(text: str, words: Any, path: Path, number: int) -> Doc:
    """A Doc whose text is ``text``: from the given words when they spell it
    (spaces between them), else tokenized from the text."""
    if words is None:
        return Doc.from_text(text)
    if not isinstance(words, list) or not all(isinstance(w, str) and w for w in words):
        raise CorpusError(path, number, '"words" must be a list of non-empty strings')
    spaces, pos = [], 0
    for i, word in enumerate(words):
        if not text.startswith(word, pos):
            raise CorpusError(
                path, number, f"word {i} ({word!r}) is not at offset {pos} of the text"
            )
        pos += len(word)
        gap = 1 if text.startswith(" ", pos) else 0
        if gap and text.startswith(" ", pos + 1):  # more than one space: tokenize the text
            return Doc.from_text(text)
        spaces.append(gap == 1)
        pos += gap
    if pos != len(text):
        raise CorpusError(path, number, "the words do not spell the whole text")
    return Doc(words, spaces)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
