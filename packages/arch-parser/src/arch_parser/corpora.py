"""Corpus readers for the NER task: token-per-line files and JSONL.

Token files hold one token per line and a blank line (or a line of white space)
between sentences. Two layouts are recognised per line:

* 2 columns (token, tag), tab- or space-separated (CoNLL, WNUT17);
* 5 tab-separated columns (index, token, tag, -, annotator), Universal NER; the
  index counts the tokens of the sentence from 1.

A line that starts with ``#`` before the first token of a sentence is a comment
(UNER's ``# sent_id = ...``) unless it has the shape of a token line: it holds a
tab, or it is two space-separated fields whose second is a tag. So WNUT17's
hashtags (``#NFL<TAB>O``) are tokens wherever they stand.

Tags are IOB2 (``B-X``, ``I-X``, ``O``) or BILUO (``B-X``, ``I-X``, ``L-X``,
``U-X``, ``O``). An ``I-X`` that does not continue an entity of type X starts a
new entity (as conlleval and spaCy's converter read it), unless ``strict`` is
set, in which case it is an error naming the file and line.

JSONL: one object per line with ``text`` and ``spans`` (or ``entities``), each
span ``{"start": c, "end": c, "label": L}`` or ``[start, end, label]`` in
characters; ``tokens`` (a list of strings, or of objects with a ``text`` string
as Prodigy writes them) may give the tokenization, and must then spell the text
(white space aside); otherwise the text is split by ``Doc.from_text``. Spans
must fall on token boundaries. A Prodigy record whose ``answer`` is ``"reject"``
or ``"ignore"`` is not gold: it is skipped, and the skipped records are counted
in one ``CorpusWarning``.

Every file may start with a UTF-8 byte-order mark and use CRLF line ends; any
malformed line (and invalid UTF-8) raises ``CorpusError`` naming the file and line.
"""

import re
from pathlib import Path
from typing import Any, List, Optional, Tuple

from arch_tok2vec import CorpusError, Doc
from arch_tok2vec.corpus_io import read_jsonl, read_lines, warn_skipped

Span = Tuple[int, int, str]
_TAG = re.compile(r"O|[BILUES]-\S.*")
NOT_GOLD = ("reject", "ignore")
"""Prodigy answers whose record is not a gold annotation."""


def read_ner(path: Path, strict: bool = False) -> List[Tuple[Doc, List[Span], int]]:
    """(doc, entity spans, first line) per sentence or JSONL record.

    path: The corpus file (``.jsonl`` for JSONL, anything else a token file).
    strict: Refuse an ``I-X`` that does not continue an entity of type X.
    """
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


def _is_comment(line: str) -> bool:
    """Whether a ``#`` line before a sentence's first token is a comment."""
    if "\t" in line:
        return False
    fields = line.split()
    return not (len(fields) == 2 and _TAG.fullmatch(fields[1]))


def _token_line(path: Path, number: int, line: str, index: int) -> Tuple[str, str]:
    """(token, tag) of a token line; ``index`` is the token's place in its sentence."""
    columns = line.split("\t")
    if len(columns) == 5:
        if columns[0].strip() != str(index):
            raise CorpusError(
                path, number, f"token index {columns[0]!r} out of order (expected {index})"
            )
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
    if not word.strip():
        raise CorpusError(path, number, "empty token")
    return word, tag.strip()


def _read_tokens(path: Path, strict: bool) -> List[Tuple[Doc, List[Span], int]]:
    items: List[Tuple[Doc, List[Span], int]] = []
    words: List[str] = []
    tags: List[Tuple[str, int]] = []
    first = 0
    for number, line in read_lines(path):
        if not line.strip():
            if words:
                items.append((Doc(words), _tags_to_spans(path, tags, strict), first))
            words, tags = [], []
            continue
        if not words and line.startswith("#") and _is_comment(line):
            continue
        word, tag = _token_line(path, number, line, len(words) + 1)
        if not words:
            first = number
        words.append(word)
        tags.append((tag, number))
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
    not_gold = 0
    for number, record in read_jsonl(path):
        if not isinstance(record, dict) or not isinstance(record.get("text"), str):
            raise CorpusError(path, number, "each line needs an object with a 'text' string")
        answer = record.get("answer", "accept")
        if not isinstance(answer, str) or answer not in ("accept", *NOT_GOLD):
            raise CorpusError(
                path, number, f"'answer' must be accept, reject or ignore, got {_show(answer)}"
            )
        if answer in NOT_GOLD:
            not_gold += 1
            continue
        text = record["text"]
        words = _token_texts(path, number, record.get("tokens"))
        if words is not None:
            doc = _doc_from_tokens(path, number, text, words)
        else:
            doc = Doc.from_text(text)
            doc = Doc(doc.words, doc.spaces)
        key = "spans" if "spans" in record else "entities"
        raw_spans: Any = record.get(key, [])
        if not isinstance(raw_spans, list):
            raise CorpusError(
                path, number, f"{key!r} must be a list of spans, got {_show(raw_spans)}"
            )
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
    warn_skipped(path, not_gold, "records answered reject or ignore (not gold)")
    return items


def _show(value: Any) -> str:
    """A short repr of a JSON value for an error message."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _token_texts(path: Path, number: int, tokens: Any) -> Optional[List[str]]:
    """The words of a record's ``tokens`` (None if it has none)."""
    if tokens is None:
        return None
    words = []
    if isinstance(tokens, list):
        for token in tokens:
            word = token.get("text") if isinstance(token, dict) else token
            if not isinstance(word, str) or not word:
                break
            words.append(word)
        else:
            return words
    raise CorpusError(
        path,
        number,
        "'tokens' must be a list of non-empty strings (or of objects with a 'text' "
        f"string), got {_show(tokens)}",
    )


def _span_fields(path: Path, number: int, raw: Any) -> Span:
    if isinstance(raw, dict):
        start, end, label = raw.get("start"), raw.get("end"), raw.get("label")
    elif isinstance(raw, list) and len(raw) == 3:
        start, end, label = raw
    else:
        raise CorpusError(path, number, f"a span must be {{start, end, label}}, got {_show(raw)}")
    if (
        not isinstance(start, int)
        or not isinstance(end, int)
        or isinstance(start, bool)
        or isinstance(end, bool)
        or not isinstance(label, str)
        or not label
    ):
        raise CorpusError(
            path,
            number,
            f"bad span {_show(raw)}: start and end must be integers, label a non-empty string",
        )
    return start, end, label


def _doc_from_tokens(path: Path, number: int, text: str, words: List[str]) -> Doc:
    """A Doc of the given words, which must spell ``text`` apart from white space."""
    spaces: List[bool] = []
    pos = 0
    for word in words:
        found = text.find(word, pos)
        if found < 0 or text[pos:found].strip():
            raise CorpusError(path, number, f"token {word!r} not found in the text")
        if spaces:
            spaces[-1] = found > pos
        pos = found + len(word)
        spaces.append(False)
    if text[pos:].strip():
        raise CorpusError(
            path, number, f"the tokens end before the text does ({_show(text[pos:])} is left)"
        )
    if spaces:
        spaces[-1] = pos < len(text)
    return Doc(words, spaces)
