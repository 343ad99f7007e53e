"""One batch of ``archs apply``: raw input records in, output text out. This is
the work a worker process (or Ray actor) does; the parent only reads and
writes bytes, so the output is the same whoever does the work."""

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence, Tuple

from ..task import CorpusError
from ..vocab import Vocab
from . import records
from .chain import Chain
from .inputs import InputFile, Parsed, Raw, parse_record

ON_ERROR = ("stop", "skip")
"""What a bad input record does: stop the run, or be skipped and counted."""

OUTPUT_FORMATS = ("jsonl", "conllu")

VOCAB_ROWS = 50_000
"""A worker starts a new vocabulary after this many distinct words, so that its
memory stays flat on a corpus of any size (features hash the words, so they do
not depend on the vocabulary)."""


@dataclass(frozen=True)
class Options:
    """What shapes the output of a batch.

    output_format: "jsonl" or "conllu".
    on_error: "stop" or "skip" (see ON_ERROR).
    text_field: The JSONL field that holds the text.
    """

    output_format: str = "jsonl"
    on_error: str = "stop"
    text_field: str = "text"


@dataclass
class Skipped:
    """An input record that was skipped, and why."""

    file: str
    line: int
    error: str


@dataclass
class Result:
    """The output of a batch.

    text: What to write: the records (JSONL), or the sentences with the comments
        before each (CoNLL-U).
    tail: CoNLL-U only: comments after the batch's last sentence (skipped or empty
        records), to write before the next sentence.
    docs: Documents annotated.
    words: Their tokens.
    skipped: The records skipped.
    """

    text: str
    tail: str = ""
    docs: int = 0
    words: int = 0
    skipped: List[Skipped] = field(default_factory=list)


class BatchError(Exception):
    """A bad record with ``on_error = "stop"`` (unlike CorpusError, it pickles, so a
    worker can send it to the parent).

    file: The input file.
    line: The line of the bad record.
    message: What is wrong with it.
    """

    def __init__(self, file: str, line: int, message: str):
        super().__init__(file, line, message)
        self.file = file
        self.line = line
        self.message = message

    def __str__(self) -> str:
        return f"{self.file}, line {self.line}: {self.message}" if self.line else self.message

    def corpus_error(self) -> CorpusError:
        """The CorpusError it stands for."""
        return CorpusError(self.file, self.line, self.message)


class Worker:
    """What a worker holds: the models, the input files, the options.

    chain: The loaded models.
    files: The input files (the records name them by index).
    options: The output settings.
    """

    def __init__(self, chain: Chain, files: Sequence[InputFile], options: Options):
        self.chain = chain
        self.files = list(files)
        self.options = options
        self.vocab = Vocab()
        if options.output_format == "conllu":
            chain.check_conllu()

    def __call__(self, batch: Sequence[Raw]) -> Result:
        """Parse, annotate and write one batch of raw records, in order."""
        if len(self.vocab) > VOCAB_ROWS:
            self.vocab = Vocab()
        parsed: List[Tuple[Raw, Optional[Parsed], Optional[Skipped]]] = []
        for raw in batch:
            source = self.files[raw.file]
            try:
                parsed.append(
                    (raw, parse_record(raw, source, self.options.text_field, self.vocab), None)
                )
            except CorpusError as err:
                parsed.append((raw, None, self._bad(raw, err)))
        self.chain([item.doc for _, item, _ in parsed if item is not None])
        if self.options.output_format == "conllu":
            return self._conllu(parsed)
        return self._jsonl(parsed)

    def _bad(self, raw: Raw, err: CorpusError) -> Skipped:
        where = f"{err.path}, line {err.line}: "
        message = str(err)[len(where) :] if str(err).startswith(where) else str(err)
        if self.options.on_error == "stop":
            raise BatchError(err.path, err.line, message)
        return Skipped(err.path, err.line or raw.line, message)

    def _jsonl(self, parsed: List[Tuple[Raw, Optional[Parsed], Optional[Skipped]]]) -> Result:
        lines: List[str] = []
        result = Result("")
        for raw, item, skip in parsed:
            if item is None:
                assert skip is not None
                result.skipped.append(skip)
                lines.append(records.dumps(records.skipped(skip.file, skip.line, skip.error)))
                continue
            try:
                lines.append(records.dumps(self.chain.record(item.doc, item.fields)))
            except ValueError as err:  # e.g. a field holding NaN cannot be JSON
                skip = self._bad(raw, CorpusError(self.files[raw.file].path, raw.line, str(err)))
                result.skipped.append(skip)
                lines.append(records.dumps(records.skipped(skip.file, skip.line, skip.error)))
                continue
            result.docs += 1
            result.words += len(item.doc)
        result.text = "".join(line + "\n" for line in lines)
        return result

    def _conllu(self, parsed: List[Tuple[Raw, Optional[Parsed], Optional[Skipped]]]) -> Result:
        chunks: List[str] = []
        comments: List[str] = []
        result = Result("")
        for raw, item, skip in parsed:
            path = self.files[raw.file].path
            if item is not None and len(item.doc):
                sent_id = (
                    item.fields.get("sent_id") if self.files[raw.file].format == "conllu" else None
                )
                try:
                    chunks.append(
                        records.conllu_sentences(
                            self.chain, item.doc, f"{path}:{raw.line}", sent_id, comments
                        )
                    )
                except ValueError as err:
                    skip = self._bad(raw, CorpusError(path, raw.line, str(err)))
                else:
                    comments = []
                    result.docs += 1
                    result.words += len(item.doc)
                    continue
            if item is not None and skip is None:  # an empty document
                comments.append(f"empty = {records.dumps({'file': path, 'line': raw.line})}")
                result.docs += 1
                continue
            assert skip is not None
            result.skipped.append(skip)
            marker = records.skipped(skip.file, skip.line, skip.error)[records.SKIPPED_KEY]
            comments.append(f"{records.SKIPPED_KEY} = {records.dumps(marker)}")
        result.text = "".join(chunks)
        result.tail = "".join(f"# {comment}\n" for comment in comments)
        return result


def header_text(chain: Chain, options: Options, settings: Dict[str, Any]) -> str:
    """The header as the output format writes it: a JSON line, or CoNLL-U comments
    that go before the first sentence."""
    head = records.header(chain, settings)
    if options.output_format == "conllu":
        return f"# {records.HEADER_KEY} = {records.dumps(head[records.HEADER_KEY])}\n"
    return records.dumps(head) + "\n"
