"""``archs apply``: stream a corpus through models, in order, on one process, on
every core, or on a Ray cluster, into one output file (see docs/apply.md).

The parent reads the input as raw records (``inputs``), groups them into batches
of ``batch_size`` records, and hands the batches to the engine, which returns
each batch's output text in order (``batches.Worker`` does the work: parse,
annotate, write). The parent appends the text to the output and a line to the
progress log (``output``). Batches are the same whatever the engine and the
number of processes, so the output is byte for byte the same: models compute in
float32, and the last bits of a score can depend on which documents share a
batch.
"""

import os
import sys
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Deque, Dict, Iterator, List, Optional, Sequence, Union

from . import records
from .batches import (
    ON_ERROR,
    OUTPUT_FORMATS,
    BatchError,
    Options,
    Result,
    Skipped,
    Worker,
    header_text,
)
from .chain import Chain
from .inputs import InputFile, Position, Raw, RecordReader, find_inputs
from .output import Output, OutputError, State
from .workers import ProcessPool, default_start_method

ENGINES = ("local", "ray")

Log = Callable[[str], None]


@dataclass
class ApplyResult:
    """What a run did.

    output: The output file.
    docs: Documents annotated (in the whole output, also before a resume).
    words: Their tokens.
    skipped: The input records skipped, in order.
    seconds: How long this run took.
    resumed_docs: Documents the output already held when this run started.
    """

    output: Path
    docs: int
    words: int
    skipped: List[Skipped] = field(default_factory=list)
    seconds: float = 0.0
    resumed_docs: int = 0


def n_processes(n: int) -> int:
    """The number of processes ``--n-process N`` means: -1 is every core this
    process may run on."""
    if n == -1:
        try:
            return len(os.sched_getaffinity(0))
        except AttributeError:  # not Linux
            return os.cpu_count() or 1
    if n < 1:
        raise ValueError(f"--n-process must be -1 (all cores) or at least 1, got {n}")
    return n


def output_format_for(path: Path, given: Optional[str]) -> str:
    """The output format: as given, else "conllu" for a ``.conllu`` file, else "jsonl"."""
    if given is not None:
        if given not in OUTPUT_FORMATS:
            raise ValueError(
                f"output format must be one of {', '.join(OUTPUT_FORMATS)}, got {given!r}"
            )
        return given
    return "conllu" if path.suffix.lower() == ".conllu" else "jsonl"


def make_worker(
    models: Union[Chain, Sequence[str]], files: Sequence[InputFile], options: Options
) -> Worker:
    """A worker's state: the models (loaded here when given as folders), the
    input files and the options."""
    chain = models if isinstance(models, Chain) else Chain.load(models)
    return Worker(chain, files, options)


def apply(
    models: Sequence[str],
    inputs: str,
    output: Union[str, Path],
    *,
    input_format: Optional[str] = None,
    output_format: Optional[str] = None,
    text_field: str = "text",
    batch_size: int = 128,
    n_process: int = 1,
    engine: str = "local",
    on_error: str = "stop",
    resume: bool = False,
    overwrite: bool = False,
    progress: bool = False,
    log: Log = print,
    start_method: Optional[str] = None,
    ray_address: Optional[str] = None,
) -> ApplyResult:
    """Annotate a corpus with models applied in order; write one output file.

    models: Model folders or installed models' names (as ``archs evaluate`` takes
        them), in the order they run on each document.
    inputs: A file, a folder or a glob pattern (see ``inputs.find_inputs``).
    output: The output file (JSONL, or CoNLL-U for a ``.conllu`` name).
    input_format: "text", "jsonl", "conllu" or "iob"; None: by file suffix.
    output_format: "jsonl" or "conllu"; None: by the output's suffix.
    text_field: The JSONL field holding the text.
    batch_size: Input records per batch (part of what the output is: a resumed
        run must use the same).
    n_process: Worker processes (-1: every core); 1 works in this process.
    engine: "local" (this machine) or "ray" (Ray actors; needs ``ray``).
    on_error: "stop" at a bad input record, or "skip" it (written in the output as
        a ``skipped`` record naming its file and line, and counted).
    resume: Continue the interrupted run whose progress log is beside ``output``.
    overwrite: Replace an existing output.
    progress: Show a progress bar (documents, words per second) on stderr.
    log: Where messages go.
    start_method: How worker processes start ("fork", "spawn", "forkserver");
        None: fork where the system has it.
    ray_address: The Ray cluster to connect to (``ray.init(address=...)``); None
        starts a local one.
    Raises CorpusError (bad input, naming the file and line), OutputError (the
    output exists, or cannot be resumed), ValueError (a bad setting or model),
    WorkerDied (a worker process ended); the output is then left as it was after
    its last complete batch, to be continued with ``resume=True``.
    """
    started = time.perf_counter()
    output = Path(output)
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"--batch-size must be a positive integer, got {batch_size!r}")
    if on_error not in ON_ERROR:
        raise ValueError(f"--on-error must be one of {', '.join(ON_ERROR)}, got {on_error!r}")
    if engine not in ENGINES:
        raise ValueError(f"--engine must be one of {', '.join(ENGINES)}, got {engine!r}")
    processes = n_processes(n_process)
    fmt = output_format_for(output, output_format)
    files = find_inputs(inputs, input_format)
    chain = Chain.load(models)
    options = Options(output_format=fmt, on_error=on_error, text_field=text_field)
    if fmt == "conllu":
        chain.check_conllu()
    for note in chain.notes():
        log(f"note: {note}")
    settings = {"batch_size": batch_size, "text_field": text_field, "output_format": fmt}
    identity = {
        "models": [{"model": m.spec, "sha256": m.digest()} for m in chain.models],
        "inputs": [[f.path, f.format] for f in files],
        "settings": settings,
        "versions": records.running_versions(chain),
    }
    out = Output(output, identity, resume=resume, overwrite=overwrite)
    try:
        state = out.state
        resumed_docs = state.docs
        reader = RecordReader(files, state.position)
        if resume:
            _check_read(reader, state, files)
            at = state.position
            where = f"{files[at.file].path}, line {at.line}" if at.file < len(files) else "the end"
            log(f"resuming {output}: {state.docs:,} documents done, continuing at {where}")
        elif fmt == "jsonl":
            state = _copy(state)
            out.write(header_text(chain, options, settings).encode("utf8"), state, [], {})
        else:  # CoNLL-U: the header waits for the first sentence; the log keeps it
            state = _copy(state)
            state.pending = header_text(chain, options, settings)
            out.write(b"", state, [], {})
        _run(
            reader,
            chain,
            files,
            options,
            batch_size,
            processes,
            engine,
            out,
            progress,
            start_method,
            ray_address,
        )
        out.finish(out.state.pending.encode("utf8"))
    except BaseException:
        out.close()
        raise
    final = out.state
    return ApplyResult(
        output,
        final.docs,
        final.words,
        list(out.skipped),
        time.perf_counter() - started,
        resumed_docs,
    )


def _copy(state: State) -> State:
    return State(**{**state.__dict__})


def _check_read(reader: RecordReader, state: State, files: Sequence[InputFile]) -> None:
    """Refuse to resume if the input the interrupted run read has changed since."""
    done, current = reader.hash_prefix()
    for index, digest in sorted(state.done_files.items()):
        if done.get(index) != digest:
            raise OutputError(
                f"cannot resume: {files[index].path} changed since the interrupted run read it "
                "(its checksum differs); pass --overwrite to start again"
            )
    if state.position.file < len(files) and current != state.input_sha256:
        raise OutputError(
            f"cannot resume: {files[state.position.file].path} changed in the part the "
            f"interrupted run already annotated (its first {state.position.offset} bytes); pass "
            "--overwrite to start again"
        )


@dataclass
class _Mark:
    """Where the input stands after a batch."""

    position: Position
    digest: str
    new_done: Dict[int, str]


def _batches(reader: RecordReader, size: int, marks: Deque[_Mark]) -> Iterator[List[Raw]]:
    """Batches of ``size`` raw records; the position after each goes into ``marks``."""
    batch: List[Raw] = []
    known = set(reader.done)
    records = iter(reader)
    while True:
        try:
            batch.append(next(records))
        except StopIteration:
            break
        if len(batch) == size:
            marks.append(_mark(reader, known))
            yield batch
            batch = []
    if batch or not marks:
        marks.append(_mark(reader, known))
        yield batch


def _mark(reader: RecordReader, known: set) -> _Mark:
    new = {i: d for i, d in reader.done.items() if i not in known}
    known.update(new)
    return _Mark(reader.position(), reader.digest(), new)


def _run(
    reader: RecordReader,
    chain: Chain,
    files: Sequence[InputFile],
    options: Options,
    batch_size: int,
    processes: int,
    engine: str,
    out: Output,
    progress: bool,
    start_method: Optional[str],
    ray_address: Optional[str],
) -> None:
    marks: Deque[_Mark] = deque()
    batches = _batches(reader, batch_size, marks)
    total = sum(os.path.getsize(f.path) for f in files)
    done_bytes = sum(
        os.path.getsize(files[i].path) for i in range(min(reader.position().file, len(files)))
    )
    done_bytes += reader.position().offset
    bar = None
    pool: Any = None
    try:
        if engine == "ray":
            from .ray_engine import RayPool

            specs = [m.spec for m in chain.models]
            pool = RayPool(processes, make_worker, (specs, files, options), ray_address)
            results: Iterator[Result] = pool.map(batches)
        elif processes > 1:
            method = start_method or default_start_method()
            models: Union[Chain, List[str]] = (
                chain if method == "fork" else [m.spec for m in chain.models]
            )
            pool = ProcessPool(processes, make_worker, (models, files, options), method)
            results = pool.map(batches)
        else:
            worker = Worker(chain, files, options)
            results = (worker(batch) for batch in batches)
        # after the workers are forked: the bar's monitor thread must not be forked with them
        bar = _progress_bar(total, done_bytes, out.state, progress)
        position_bytes = done_bytes
        for result in results:
            mark = marks.popleft()
            state = _copy(out.state)
            if options.output_format == "conllu":
                text = state.pending + result.text if result.text else ""
                state.pending = result.tail if result.text else state.pending + result.tail
            else:
                text = result.text
            state.position = mark.position
            state.input_sha256 = mark.digest
            state.docs += result.docs
            state.words += result.words
            state.skipped += len(result.skipped)
            out.write(text.encode("utf8"), state, result.skipped, mark.new_done)
            if bar is not None:
                now = sum(
                    os.path.getsize(files[i].path)
                    for i in range(min(mark.position.file, len(files)))
                )
                now += mark.position.offset
                bar.update(now - position_bytes)
                position_bytes = now
                _postfix(bar, state)
        if pool is not None:
            pool.close()
            pool = None
    except BatchError as err:
        raise err.corpus_error() from None
    finally:
        if pool is not None:
            pool.terminate()
        if bar is not None:
            bar.close()


def _progress_bar(total: int, done: int, state: State, enabled: bool) -> Any:
    if not enabled:
        return None
    from tqdm import tqdm

    bar = tqdm(
        total=total, initial=done, unit="B", unit_scale=True, file=sys.stderr, dynamic_ncols=True
    )
    bar.start_docs = state.docs  # type: ignore[attr-defined]
    bar.start_words = state.words  # type: ignore[attr-defined]
    bar.started = time.perf_counter()  # type: ignore[attr-defined]
    return bar


def _postfix(bar: Any, state: State) -> None:
    seconds = max(time.perf_counter() - bar.started, 1e-9)
    docs = (state.docs - bar.start_docs) / seconds
    words = (state.words - bar.start_words) / seconds
    bar.set_postfix_str(
        f"{state.docs:,} docs, {docs:,.0f} docs/s, {words:,.0f} words/s", refresh=False
    )
