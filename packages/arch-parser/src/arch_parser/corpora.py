"""Corpus readers for the NER task: token-per-line files and JSONL.

Token files hold one token per line and a blank line between sentences;
``#`` lines are comments. Two layouts are recognised per line:

* 2 columns (token, tag), tab- or space-separated (CoNLL, WNUT17);
* 5 tab-separated columns (index, token, tag, -, annotator), Universal NER.

Tags are IOB2 (``B-X``, ``I-X``, ``O``) or BILUO (``B-X``, ``I-X``, ``L-X``,
``U-X``, ``O``). An ``I-X`` that does not continue an entity of type X starts a
new entity (as conlleval and spaCy's converter read it), unless ``strict`` is
set, in which case it is an error naming the file and line.

JSONL: one object per line with ``text`` and ``spans`` (or ``entities``), each
span ``{"start": c, "end": c, "label": L}`` or ``[start, end, label]`` in
characters; ``tokens`` (a list of strings) may give the tokenization, otherwise
the text is split by ``Doc.from_text``. Spans must fall on token boundaries.
"""

import json
from pathlib import Path
from typing import Any, List, Tuple

from arch_tok2vec import CorpusError, Doc

Span = Tuple[int, int, str]


def read_ner(path: Path, strict: bool = False) -> List[Tuple[Doc, List[Span], int]]:
    """(doc, entity spans, first line) per sentence or JSONL record."""
    path = Path(path)
    if not path.exists():
        raise CorpusError(path, 0, "file not found")
    if path.suffix == ".jsonl":
        items = _read_jsonl(path)
    else:
        items = _read_tokens(path, strict)
    if not items:
        raise CorpusError(path, 0, "no sentences found (empty or only comments)")
    return items


def _read_tokens(path: Path, strict: bool) -> List[Tuple[Doc, List[Span], int]]:
    items: List[Tuple[Doc, List[Span], int]] = []
    words: List[str] = []
    tags: List[Tuple[str, int]] = []
    first = 0
    with path.open(encoding="utf8") as file:
        for number, raw in enumerate(file, 1):
            line = raw.rstrip("\n").rstrip("\r")
            if not line.strip():
                if words:
                    items.append((Doc(words), _tags_to_spans(path, tags, strict), first))
                words, tags = [], []
                continue
            if line.startswith("#") and not words:
                continue
            columns = line.split("\t")
            if len(columns) == 5:
                word, tag = columns[1], columns[2]
            elif len(columns) == 2:
                word, tag = columns
            else:
                columns = line.split()
                if len(columns) != 2:
                    raise CorpusError(
                        path,
                        number,
                        f"expected 'token<TAB>tag' or 5 tab-separated columns, found "
                        f"{len(line.split(chr(9)))} column(s)",
                    )
                word, tag = columns
            if not word:
                raise CorpusError(path, number, "empty token")
            if not words:
                first = number
            words.append(word)
            tags.append((tag.strip(), number))
    if words:
        items.append((Doc(words), _tags_to_spans(path, tags, strict), first))
    return items


def _tags_to_spans(path: Path, tags: List[Tuple[str, int]], strict: bool) -> List[Span]:
    spans: List[Span] = []
    start, label = -1, ""
    for i, (tag, line) in enumerate(tags):
        if tag == "O":
            if start >= 0:
                spans.append((start, i, label))
            start, label = -1, ""
            continue
        move, sep, kind = tag.partition("-")
        if not sep or not kind or move not in ("B", "I", "L", "U", "E", "S"):
            raise CorpusError(path, line, f"not an IOB2/BILUO tag: {tag!r}")
        if move in ("I", "L", "E") and not (start >= 0 and kind == label):
            if strict:
                raise CorpusError(
                    path, line, f"{tag!r} does not continue an entity of type {kind!r}"
                )
            move = "B" if move == "I" else "U"
        if move in ("B", "U", "S"):
            if start >= 0:
                spans.append((start, i, label))
            start, label = i, kind
        if move in ("U", "S", "L", "E"):
            spans.append((start, i + 1, label))
            start, label = -1, ""
    if start >= 0:
        spans.append((start, len(tags), label))
    return spans


def _read_jsonl(path: Path) -> List[Tuple[Doc, List[Span], int]]:
    items: List[Tuple[Doc, List[Span], int]] = []
    with path.open(encoding="utf8") as file:
        for number, line in enumerate(file, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as err:
                raise CorpusError(path, number, f"invalid JSON: {err.msg}") from None
            if not isinstance(record, dict) or not isinstance(record.get("text"), str):
                raise CorpusError(path, number, "each line needs an object with a 'text' string")
            text = record["text"]
            tokens = record.get("tokens")
            if tokens is not None:
                words = [t if isinstance(t, str) else t.get("text", "") for t in tokens]
                doc = _doc_from_tokens(path, number, text, words)
            else:
                doc = Doc.from_text(text)
                doc = Doc(doc.words, doc.spaces)
            raw_spans: Any = record.get("spans", record.get("entities", []))
            starts = {off: i for i, off in enumerate(doc.offsets)}
            ends = {off + len(w): i + 1 for i, (off, w) in enumerate(zip(doc.offsets, doc.words))}
            spans: List[Span] = []
            for raw in raw_spans:
                start, end, label = _span_fields(path, number, raw)
                if start not in starts or end not in ends or starts[start] >= ends[end]:
                    raise CorpusError(
                        path,
                        number,
                        f"span {start}-{end} {label!r} ({text[start:end]!r}) does not fall "
                        "on token boundaries",
                    )
                spans.append((starts[start], ends[end], label))
            spans.sort()
            for (_, end_a, la), (start_b, _, lb) in zip(spans, spans[1:]):
                if start_b < end_a:
                    raise CorpusError(path, number, f"overlapping spans {la!r} and {lb!r}")
            items.append((doc, spans, number))
    return items


def _span_fields(path: Path, number: int, raw: Any) -> Tuple[int, int, str]:
    if isinstance(raw, dict):
        values = (raw.get("start"), raw.get("end"), raw.get("label"))
    elif isinstance(raw, (list, tuple)) and len(raw) == 3:
        values = tuple(raw)  # type: ignore[assignment]
    else:
        raise CorpusError(path, number, f"a span must be {{start, end, label}}, got {raw!r}")
    start, end, label = values
    if not isinstance(start, int) or not isinstance(end, int) or not isinstance(label, str):
        raise CorpusError(path, number, f"bad span {raw!r}: start/end integers, label a string")
    return start, end, label


def _doc_from_tokens(path: Path, number: int, text: str, words: List[str]) -> Doc:
    spaces: List[bool] = []
    pos = 0
    for word in words:
        found = text.find(word, pos)
        if not word or found < 0 or text[pos:found].strip():
            raise CorpusError(path, number, f"token {word!r} not found in the text")
        if spaces:
            spaces[-1] = found > pos
        pos = found + len(word)
        spaces.append(False)
    if spaces:
        spaces[-1] = pos < len(text)
    return Doc(words, spaces)
