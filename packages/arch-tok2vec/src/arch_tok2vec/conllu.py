"""A strict CoNLL-U reader (UD format), shared by the tagging and parsing tasks.

It yields one ``Sentence`` per block of token lines. Syntactic words are kept;
multi-word token ranges (``3-4``) only contribute their SpaceAfter, and empty
nodes (``8.1``, enhanced dependencies only) are skipped, counted, and reported
in one ``CorpusWarning`` per file. Lines are read with ``corpus_io.read_lines``
(a BOM and CRLF line ends are fine). Any malformed line, and invalid UTF-8,
raises ``CorpusError`` naming the file and the line, so no bad data is silently
dropped.
"""

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator, List, Optional, Sequence, Tuple, Union

from .corpus_io import read_lines, warn_skipped
from .task import CorpusError

_RANGE = re.compile(r"[1-9][0-9]*-[1-9][0-9]*")
_EMPTY = re.compile(r"[0-9]+\.[1-9][0-9]*")
_WORD = re.compile(r"[1-9][0-9]*")
_HEAD = re.compile(r"[0-9]+")


@dataclass
class Word:
    """One syntactic word: the CoNLL-U columns, and the line it came from."""

    form: str
    lemma: str
    upos: str
    xpos: str
    feats: str
    head: Optional[int]
    deprel: str
    space_after: bool
    line: int


@dataclass
class Sentence:
    words: List[Word] = field(default_factory=list)
    sent_id: str = ""
    text: str = ""
    line: int = 0


def read_conllu(path: Union[str, Path]) -> Iterator[Sentence]:
    """Read a CoNLL-U file sentence by sentence (see the module docstring)."""
    path = Path(path)
    if not path.exists():
        raise CorpusError(path, 0, "file not found")
    n_sentences = 0
    n_empty_nodes = 0
    for lines in sentence_blocks(read_lines(path)):
        sentence, empty_nodes = parse_sentence(path, lines)
        n_empty_nodes += empty_nodes
        n_sentences += 1
        yield sentence
    if not n_sentences:
        raise CorpusError(path, 0, "no sentences found (empty or only comments)")
    warn_skipped(path, n_empty_nodes, "empty nodes (8.1-style enhanced-dependency words)")


def sentence_blocks(lines: Iterable[Tuple[int, str]]) -> Iterator[List[Tuple[int, str]]]:
    """Group numbered lines into the blocks between blank lines (lines of white
    space count as blank).

    lines: ``(line number, text)`` pairs, as ``corpus_io.read_lines`` yields them.
    """
    block: List[Tuple[int, str]] = []
    for number, line in lines:
        if not line.strip():
            if block:
                yield block
            block = []
        else:
            block.append((number, line))
    if block:
        yield block


def parse_sentence(path: Path, lines: Sequence[Tuple[int, str]]) -> Tuple[Sentence, int]:
    """One sentence from the lines of a block, and how many empty nodes it skipped.

    path: The file the lines come from (named in errors).
    lines: The block's ``(line number, text)`` pairs, none of them blank.
    Raises CorpusError naming the file and line of the first malformed line.
    """
    sentence = Sentence(line=lines[0][0] if lines else 0)
    range_end = 0
    range_space = True
    range_line = 0
    n_empty_nodes = 0
    for number, line in lines:
        if line.startswith("#"):
            key, _, value = line[1:].partition("=")
            if key.strip() == "sent_id":
                sentence.sent_id = value.strip()
            elif key.strip() == "text":
                sentence.text = value.strip()
            continue
        columns = line.split("\t")
        if len(columns) != 10:
            raise CorpusError(
                path, number, f"expected 10 tab-separated columns, found {len(columns)}"
            )
        token_id = columns[0]
        if _RANGE.fullmatch(token_id):
            start, end = map(int, token_id.split("-"))
            if end < start or start != len(sentence.words) + 1 or range_end >= start:
                raise CorpusError(path, number, f"bad multi-word token range {token_id!r}")
            range_end, range_line = end, number
            range_space = "SpaceAfter=No" not in columns[9].split("|")
            continue
        if _EMPTY.fullmatch(token_id):
            n_empty_nodes += 1
            continue
        if not _WORD.fullmatch(token_id):
            raise CorpusError(path, number, f"bad token id {token_id!r}")
        if int(token_id) != len(sentence.words) + 1:
            raise CorpusError(
                path,
                number,
                f"token id {token_id} out of order (expected {len(sentence.words) + 1})",
            )
        form, lemma, upos, xpos, feats, head, deprel = columns[1:8]
        if not form.strip():
            raise CorpusError(path, number, "empty FORM")
        if head == "_":
            head_value: Optional[int] = None
        elif _HEAD.fullmatch(head):
            head_value = int(head)
        else:
            raise CorpusError(path, number, f"HEAD must be a number or _, got {head!r}")
        index = int(token_id)
        if range_end and index <= range_end:
            space = range_space if index == range_end else False
        else:
            space = "SpaceAfter=No" not in columns[9].split("|")
        sentence.words.append(
            Word(form, lemma, upos, xpos, feats, head_value, deprel, space, number)
        )
    _check_end(path, sentence, range_end, range_line)
    return sentence, n_empty_nodes


def _check_end(path: Path, sentence: Sentence, range_end: int, range_line: int) -> None:
    """Refuse a sentence that has comments alone or ends inside a multi-word token."""
    if not sentence.words:
        raise CorpusError(path, sentence.line, "sentence has comments but no words")
    if range_end > len(sentence.words):
        raise CorpusError(
            path, range_line, f"multi-word token ends at word {range_end}, after the sentence"
        )
