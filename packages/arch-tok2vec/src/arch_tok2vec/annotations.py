"""Reading and setting a Doc's annotations the same way for ``arch_tok2vec.Doc``
and spaCy's ``Doc``, so that a task's ``annotate`` and ``record`` work on both.

Reading goes through what both Docs offer (``token.pos_``, ``token.tag_``,
``token.head``, ``token.dep_``, ``token.is_sent_start``, ``doc.ents`` with
``label_`` and ``kb_id_``, ``doc.cats``); setting needs a branch, because spaCy
keeps annotations in its own arrays (``Doc.from_array``) and rebuilds its entity
spans on every access.
"""

from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy

from .doc import Doc

Entity = Tuple[int, int, str, str]
"""An entity as (start token, end token, label, knowledge-base ID or "")."""

MENTIONS_GIVEN = "mentions_given"
"""Marks a Doc whose entities were set by a model (or a corpus): an entity linker
links them and searches no aliases, even when there are none."""


def is_ours(doc: Any) -> bool:
    """Whether ``doc`` is an ``arch_tok2vec.Doc`` (else it is taken for spaCy's)."""
    return isinstance(doc, Doc)


def set_tags(doc: Any, tags: Sequence[str], column: str) -> None:
    """Set one tag per token.

    doc: The Doc (ours or spaCy's).
    tags: The tags, one per token.
    column: "upos" (``token.pos_``) or "xpos" (``token.tag_``).
    """
    if column not in ("upos", "xpos"):
        raise ValueError(f"column must be upos or xpos, got {column!r}")
    if is_ours(doc):
        if column == "upos":
            doc.set_pos(tags)
        else:
            doc.set_tags(tags)
        return
    if len(tags) != len(doc):
        raise ValueError(f"Doc has {len(doc)} tokens but got {len(tags)} tags")
    for token, tag in zip(doc, tags):
        if column == "upos":
            token.pos_ = tag
        else:
            token.tag_ = tag


def tags(doc: Any, column: str) -> List[str]:
    """The tag of each token ("" where none is set) from ``column`` ("upos" or "xpos")."""
    if column == "upos":
        return [token.pos_ for token in doc]
    return [token.tag_ for token in doc]


def set_parse(doc: Any, heads: Sequence[int], deps: Sequence[str]) -> None:
    """Set a dependency parse, and the sentences it implies.

    doc: The Doc (ours or spaCy's).
    heads: Per token, the index of its head in the Doc (a root is its own head).
    deps: Per token, the label of the arc to its head.
    A Doc's sentences are then its trees, as spaCy derives them
    (``tree_sentence_starts``): the parser's sentences, split further where one
    holds several roots, so that every sentence has one root (as CoNLL-U wants)
    and both kinds of Doc have the same sentences.
    """
    if is_ours(doc):
        doc.set_parse(heads, deps)
        doc.set_sent_starts(tree_sentence_starts(heads))
        return
    from spacy.attrs import DEP, HEAD

    n = len(doc)
    if len(heads) != n or len(deps) != n:
        raise ValueError(f"Doc has {n} tokens but got {len(heads)} heads and {len(deps)} deps")
    array = numpy.zeros((n, 2), dtype="int64")
    array[:, 0] = numpy.asarray(heads, dtype="int64") - numpy.arange(n)
    array[:, 1] = [doc.vocab.strings.add(dep) for dep in deps]
    doc.from_array([HEAD, DEP], array.view("uint64"))


def tree_sentence_starts(heads: Sequence[int]) -> List[bool]:
    """Per token, whether it starts a sentence when sentences are the trees of a
    parse: the leftmost token of each root's subtree starts one (spaCy's rule).

    heads: Per token, the index of its head (a root is its own head).
    """
    n = len(heads)
    root = list(range(n))
    for i in range(n):
        node, steps = i, 0
        while heads[node] != node and steps <= n:  # steps: a cycle ends the walk
            node, steps = heads[node], steps + 1
        root[i] = node
    leftmost: Dict[int, int] = {}
    for i in range(n):
        leftmost.setdefault(root[i], i)
    starts = [False] * n
    for first in leftmost.values():
        starts[first] = True
    return starts


def parse(doc: Any) -> Tuple[List[int], List[str]]:
    """(heads, labels): each token's head index in the Doc and its arc label."""
    return [token.head.i for token in doc], [token.dep_ for token in doc]


def sentence_starts(doc: Any) -> List[int]:
    """The index of the first token of each sentence (``[0]`` for a Doc that was
    never split; ``[]`` for an empty Doc)."""
    if not len(doc):
        return []
    if is_ours(doc):
        return [i for i, start in enumerate(doc.sent_starts) if start]
    if not (doc.has_annotation("SENT_START") or doc.has_annotation("DEP")):
        return [0]
    return [sent.start for sent in doc.sents]


def set_ents(doc: Any, ents: Sequence[Entity]) -> None:
    """Replace the Doc's entities and mark it as having its mentions given.

    doc: The Doc (ours or spaCy's).
    ents: (start, end, label, kb_id) token spans, in order, not overlapping.
    """
    span = type(doc[0:0])  # arch_tok2vec.Span or spacy.tokens.Span
    doc.ents = [
        span(doc, start, end, label=label, kb_id=kb_id) for start, end, label, kb_id in ents
    ]
    mark_mentions_given(doc)


def ents(doc: Any) -> List[Entity]:
    """The Doc's entities as (start, end, label, kb_id) token spans."""
    return [(span.start, span.end, span.label_, span.kb_id_) for span in doc.ents]


def mark_mentions_given(doc: Any) -> None:
    """Mark the Doc's entities as given (see ``MENTIONS_GIVEN``)."""
    if is_ours(doc):
        setattr(doc, MENTIONS_GIVEN, True)
    else:
        doc.user_data[MENTIONS_GIVEN] = True


def mentions_given(doc: Any) -> bool:
    """Whether the Doc's entities were given (see ``MENTIONS_GIVEN``)."""
    if getattr(doc, MENTIONS_GIVEN, False):
        return True
    user_data: Dict[Any, Any] = getattr(doc, "user_data", None) or {}
    return bool(user_data.get(MENTIONS_GIVEN, False))


def token_span(doc: Any, start_char: int, end_char: int) -> Optional[Tuple[int, int]]:
    """The token span [start, end) that covers exactly the characters
    [start_char, end_char), or None when they do not fall on token boundaries."""
    starts = {token.idx: token.i for token in doc}
    ends = {token.idx + len(token.text): token.i + 1 for token in doc}
    if start_char in starts and end_char in ends and starts[start_char] < ends[end_char]:
        return starts[start_char], ends[end_char]
    return None


def entity_records(doc: Any, with_kb_id: bool) -> List[Dict[str, Any]]:
    """The Doc's entities as JSON objects: token ``start`` and ``end``, character
    ``start_char`` and ``end_char``, ``label``, ``text`` and, if ``with_kb_id``, the
    ``kb_id`` an entity linker gave it.

    doc: The Doc (ours or spaCy's).
    with_kb_id: Add each entity's knowledge-base ID.
    """
    text = doc.text
    out = []
    for span in doc.ents:
        item: Dict[str, Any] = {
            "start": span.start,
            "end": span.end,
            "start_char": span.start_char,
            "end_char": span.end_char,
            "label": span.label_,
            "text": text[span.start_char : span.end_char],
        }
        if with_kb_id:
            item["kb_id"] = span.kb_id_
        out.append(item)
    return out


def conllu_heads(doc: Any) -> List[str]:
    """Each token's CoNLL-U HEAD: its head's 1-based position in the token's
    sentence, "0" for a root. Raises ValueError if an arc crosses sentences."""
    heads, _ = parse(doc)
    starts = sentence_starts(doc) + [len(doc)]
    out: List[str] = []
    for start, end in zip(starts, starts[1:]):
        for i in range(start, end):
            head = heads[i]
            if head == i:
                out.append("0")
            elif start <= head < end:
                out.append(str(head - start + 1))
            else:
                raise ValueError(f"token {i}'s head {head} is outside its sentence")
    return out
