"""A lightweight document: the part of spaCy's ``Doc`` that the models read.

``Doc(words)`` gives the same ``to_array`` values as ``spacy.tokens.Doc(vocab,
words=words)`` on a blank pipeline's vocab, so features, and therefore trained
weights, carry over between the two.
"""

import re
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple, Union, overload

import numpy

from .attrs import ID, NORM, AttrLike, intify_attr, intify_attrs, lexical_strings, word_shape
from .vocab import COLUMNS, Vocab, _hash_unique

_DEFAULT_VOCAB: Optional[Vocab] = None

# Runs of word characters, or single other non-space characters.
_TOKEN_RE = re.compile(r"\w+(?:['’]\w+)*|[^\w\s]", re.UNICODE)


def default_vocab() -> Vocab:
    """The vocabulary shared by Docs created without one."""
    global _DEFAULT_VOCAB
    if _DEFAULT_VOCAB is None:
        _DEFAULT_VOCAB = Vocab()
    return _DEFAULT_VOCAB


def _add_gap(gap: str, words: List[str], spaces: List[bool]) -> None:
    """Attach white space between tokens the way spaCy does: one trailing space
    becomes the previous token's ``whitespace_``, anything more is a token."""
    if not gap:
        return
    if words and gap[0] == " ":
        spaces[-1] = True
        gap = gap[1:]
    if gap:
        words.append(gap)
        spaces.append(False)


# attrs as given to to_array -> (table columns, whether IDs are needed, where NORM is)
_PLANS: Dict[Any, Tuple[numpy.ndarray, bool, List[int]]] = {}


def _plan(key: Any, single: bool) -> Tuple[numpy.ndarray, bool, List[int]]:
    ids = [intify_attr(key)] if single else intify_attrs(key)
    columns = numpy.array([COLUMNS[attr] for attr in ids], dtype=numpy.intp)
    return columns, ID in ids, [j for j, attr in enumerate(ids) if attr == NORM]


class Doc:
    """A sequence of tokens with spaCy's lexical features.

    words: The token texts; none may be empty.
    spaces: Whether each token is followed by a space (default: all True).
    vocab: The lexeme table and vectors to use (default: one shared Vocab).
    sent_starts: Per token, True where a sentence starts (default: the whole
        doc is one sentence).
    ents: Entity spans as (start, end, label) or (start, end, label, kb_id) token
        offsets.
    heads: Per token, the index of its syntactic head (a root is its own head).
    deps: Per token, the dependency label of the arc to its head.
    norms: Per token, a NORM string that overrides the lexeme's norm (as setting
        ``token.norm_`` does in spaCy); None keeps the default.
    pos: Per token, its universal part-of-speech tag (spaCy's ``token.pos_``).
    tags: Per token, its fine-grained tag (spaCy's ``token.tag_``).
    cats: Text categories and their scores (spaCy's ``doc.cats``).
    """

    def __init__(
        self,
        words: Sequence[str],
        spaces: Optional[Sequence[bool]] = None,
        *,
        vocab: Optional[Vocab] = None,
        sent_starts: Optional[Sequence[bool]] = None,
        ents: Sequence[Tuple[Any, ...]] = (),
        norms: Optional[Sequence[Optional[str]]] = None,
        heads: Optional[Sequence[int]] = None,
        deps: Optional[Sequence[str]] = None,
        pos: Optional[Sequence[str]] = None,
        tags: Optional[Sequence[str]] = None,
        cats: Optional[Dict[str, float]] = None,
    ):
        words = list(words)
        if "" in words:
            raise ValueError(f"Doc word {words.index('')} must be a non-empty string, got ''")
        if spaces is None:
            spaces = [True] * len(words)
        elif len(spaces) != len(words):
            raise ValueError(f"Doc got {len(words)} words but {len(spaces)} spaces")
        else:
            spaces = [bool(space) for space in spaces]
        self.vocab = vocab if vocab is not None else default_vocab()
        self.words = words
        self.spaces = spaces
        try:
            self.lex = self.vocab.rows(words)
        except TypeError as err:
            raise ValueError(f"Doc words must be non-empty strings: {err}") from None
        self.norms: Optional[List[Optional[str]]] = None
        self._norms: Optional[numpy.ndarray] = None
        self._offsets: Optional[List[int]] = None
        if norms is not None:
            self.set_norms(norms)
        self._sent_starts = self._check_sent_starts(sent_starts)
        self.ents: List[Span] = [Span(self, *ent) for ent in ents]
        self.heads: Optional[List[int]] = None
        self.deps: Optional[List[str]] = None
        if heads is not None or deps is not None:
            self.set_parse(heads, deps)
        self.pos: Optional[List[str]] = None
        self.tags: Optional[List[str]] = None
        if pos is not None:
            self.set_pos(pos)
        if tags is not None:
            self.set_tags(tags)
        self.cats: Dict[str, float] = dict(cats) if cats is not None else {}

    @classmethod
    def from_text(cls, text: str, *, vocab: Optional[Vocab] = None) -> "Doc":
        """Tokenize text on white space and punctuation.

        Words are runs of letters and digits (with inner apostrophes, as in
        "don't"); every other non-space character is a token of its own; white
        space beyond a single space becomes a token, so ``doc.text == text``.
        Sentences end after ".", "!" or "?".
        """
        words: List[str] = []
        spaces: List[bool] = []
        pos = 0
        for match in _TOKEN_RE.finditer(text):
            _add_gap(text[pos : match.start()], words, spaces)
            words.append(match.group())
            spaces.append(False)
            pos = match.end()
        _add_gap(text[pos:], words, spaces)
        sent_starts = [i == 0 or words[i - 1] in {".", "!", "?"} for i in range(len(words))]
        return cls(words, spaces, vocab=vocab, sent_starts=sent_starts)

    @property
    def sent_starts(self) -> List[bool]:
        """Per token, whether it starts a sentence."""
        if self._sent_starts is None:
            return [i == 0 for i in range(len(self.words))]
        return self._sent_starts

    def _check_sent_starts(self, sent_starts: Optional[Sequence[bool]]) -> Optional[List[bool]]:
        if sent_starts is None:
            return None
        if len(sent_starts) != len(self.words):
            raise ValueError(f"Doc got {len(self.words)} words but {len(sent_starts)} sent_starts")
        starts = [bool(start) for start in sent_starts]
        if starts:
            starts[0] = True
        return starts

    def set_sent_starts(self, sent_starts: Sequence[bool]) -> None:
        """Set where sentences start (the first token always starts one)."""
        self._sent_starts = self._check_sent_starts(sent_starts)

    def set_parse(self, heads: Optional[Sequence[int]], deps: Optional[Sequence[str]]) -> None:
        """Set the dependency parse: head index and label per token."""
        n = len(self.words)
        if heads is None or deps is None:
            raise ValueError("Doc parse needs both heads and deps")
        if len(heads) != n or len(deps) != n:
            raise ValueError(f"Doc has {n} words but got {len(heads)} heads and {len(deps)} deps")
        bad = [i for i, head in enumerate(heads) if not 0 <= int(head) < n]
        if bad:
            raise ValueError(f"Doc head of token {bad[0]} is {heads[bad[0]]}, not in 0..{n - 1}")
        self.heads = [int(head) for head in heads]
        self.deps = [str(dep) for dep in deps]

    def set_pos(self, pos: Sequence[str]) -> None:
        """Set the universal part-of-speech tag of every token (``token.pos_``)."""
        self.pos = self._per_token(pos, "pos tags")

    def set_tags(self, tags: Sequence[str]) -> None:
        """Set the fine-grained tag of every token (``token.tag_``)."""
        self.tags = self._per_token(tags, "tags")

    def _per_token(self, values: Sequence[str], what: str) -> List[str]:
        if len(values) != len(self.words):
            raise ValueError(f"Doc has {len(self.words)} words but got {len(values)} {what}")
        return [str(value) for value in values]

    def set_norms(self, norms: Sequence[Optional[str]]) -> None:
        """Override the NORM of tokens (None leaves a token's lexeme norm)."""
        if len(norms) != len(self.words):
            raise ValueError(f"Doc has {len(self.words)} words but got {len(norms)} norms")
        self.norms = [norm or None for norm in norms]
        self._norms = _hash_unique([norm or "" for norm in norms])

    def __len__(self) -> int:
        return len(self.words)

    @overload
    def __getitem__(self, i: int) -> "Token": ...

    @overload
    def __getitem__(self, i: slice) -> "Span": ...

    def __getitem__(self, i: Union[int, slice]) -> Union["Token", "Span"]:
        if isinstance(i, slice):
            start, end, step = i.indices(len(self))
            if step != 1:
                raise ValueError("Doc slices must have step 1")
            return Span(self, start, max(start, end))
        n = len(self)
        if not -n <= i < n:
            raise IndexError(f"Token index {i} out of range for a Doc of {n} tokens")
        return Token(self, i % n if n else i)

    def __iter__(self) -> Iterator["Token"]:
        return (Token(self, i) for i in range(len(self)))

    def __repr__(self) -> str:
        return self.text

    @property
    def text(self) -> str:
        return "".join(w + (" " if s else "") for w, s in zip(self.words, self.spaces))

    @property
    def offsets(self) -> List[int]:
        """Character offset of each token in ``text``."""
        if self._offsets is None:
            offsets, pos = [], 0
            for word, space in zip(self.words, self.spaces):
                offsets.append(pos)
                pos += len(word) + space
            self._offsets = offsets
        return self._offsets

    @property
    def sents(self) -> Iterator["Span"]:
        """The sentences, as spans."""
        start = 0
        for i in range(1, len(self)):
            if self.sent_starts[i]:
                yield Span(self, start, i)
                start = i
        if len(self):
            yield Span(self, start, len(self))

    @overload
    def to_array(self, attrs: AttrLike) -> numpy.ndarray: ...

    @overload
    def to_array(self, attrs: Sequence[AttrLike]) -> numpy.ndarray: ...

    def to_array(self, attrs):
        """Export token attributes as uint64 values, as spaCy's ``Doc.to_array``.

        attrs: An attribute name or id, or a list of them. As in spaCy, the
            result has shape (len(doc), len(attrs)) for two or more attributes
            and is 1-d for one (given alone or in a list).
        """
        single = isinstance(attrs, (str, int))
        key = attrs if single else tuple(attrs)
        plan = _PLANS.get(key)
        if plan is None:
            plan = _PLANS[key] = _plan(key, single)
        columns, with_ids, norm_at = plan
        out = self.vocab.table(with_ids)[self.lex[:, None], columns]
        if self._norms is not None:
            for j in norm_at:
                out[:, j] = numpy.where(self._norms != 0, self._norms, out[:, j])
        return out[:, 0] if len(columns) == 1 else out

    def to_utf8_array(self, nr_char: int = 10) -> numpy.ndarray:
        """Per token, ``nr_char`` UTF-8 bytes of its text, taken alternately from
        the front and the back (byte 0, -1, 1, -2, ...), padded with 255."""
        if nr_char < 1:
            raise ValueError(f"nr_char must be at least 1, got {nr_char}")
        return self.vocab.utf8_table(nr_char)[self.lex]


class Token:
    """A view of one token of a Doc."""

    __slots__ = ("doc", "i")

    def __init__(self, doc: Doc, i: int):
        self.doc = doc
        self.i = i

    def __repr__(self) -> str:
        return self.text

    def __len__(self) -> int:
        return len(self.text)

    @property
    def text(self) -> str:
        return self.doc.words[self.i]

    orth_ = text

    @property
    def whitespace_(self) -> str:
        return " " if self.doc.spaces[self.i] else ""

    @property
    def text_with_ws(self) -> str:
        return self.text + self.whitespace_

    @property
    def idx(self) -> int:
        """Character offset of the token in ``doc.text``."""
        return self.doc.offsets[self.i]

    @property
    def is_sent_start(self) -> bool:
        return self.doc.sent_starts[self.i]

    @property
    def head(self) -> "Token":
        """The syntactic head (the token itself for a root or an unparsed Doc)."""
        heads = self.doc.heads
        return Token(self.doc, heads[self.i]) if heads is not None else self

    @property
    def pos_(self) -> str:
        """The universal part-of-speech tag ("" when none was set)."""
        pos = self.doc.pos
        return pos[self.i] if pos is not None else ""

    @property
    def tag_(self) -> str:
        """The fine-grained tag ("" when none was set)."""
        tags = self.doc.tags
        return tags[self.i] if tags is not None else ""

    @property
    def dep_(self) -> str:
        """The dependency label ("" for an unparsed Doc)."""
        deps = self.doc.deps
        return deps[self.i] if deps is not None else ""

    def _attr(self, attr: str) -> int:
        return int(self.doc.to_array(attr)[self.i])

    @property
    def orth(self) -> int:
        return self._attr("ORTH")

    @property
    def lower(self) -> int:
        return self._attr("LOWER")

    @property
    def norm(self) -> int:
        return self._attr("NORM")

    @property
    def lower_(self) -> str:
        return self.text.lower()

    @property
    def norm_(self) -> str:
        if self.doc.norms is not None and self.doc.norms[self.i]:
            return self.doc.norms[self.i]  # type: ignore[return-value]
        return lexical_strings(self.text)[2]

    @property
    def prefix_(self) -> str:
        return self.text[:1]

    @property
    def suffix_(self) -> str:
        return self.text[-3:]

    @property
    def shape_(self) -> str:
        return word_shape(self.text)


class Span:
    """A view of tokens ``start`` to ``end`` (exclusive) of a Doc, with an optional
    label and knowledge-base ID (as on spaCy's entity spans)."""

    __slots__ = ("doc", "start", "end", "label_", "kb_id_")

    def __init__(self, doc: Doc, start: int, end: int, label: str = "", kb_id: str = ""):
        if not 0 <= start <= end <= len(doc):
            raise ValueError(f"Span [{start}:{end}] out of range for a Doc of {len(doc)} tokens")
        self.doc = doc
        self.start = start
        self.end = end
        self.label_ = label
        self.kb_id_ = kb_id

    def __len__(self) -> int:
        return self.end - self.start

    def __iter__(self) -> Iterator[Token]:
        return (Token(self.doc, i) for i in range(self.start, self.end))

    def __getitem__(self, i: int) -> Token:
        n = len(self)
        if not -n <= i < n:
            raise IndexError(f"Token index {i} out of range for a Span of {n} tokens")
        return Token(self.doc, self.start + (i % n))

    def __repr__(self) -> str:
        return self.text

    @property
    def start_char(self) -> int:
        return self.doc[self.start].idx if len(self) else 0

    @property
    def end_char(self) -> int:
        if not len(self):
            return self.start_char
        last = self.doc[self.end - 1]
        return last.idx + len(last.text)

    @property
    def text(self) -> str:
        if not len(self):
            return ""
        return self.doc.text[self.start_char : self.end_char]

    @property
    def vocab(self) -> Vocab:
        return self.doc.vocab
