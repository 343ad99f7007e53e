"""``archs apply``: annotate a corpus with trained models (docs/apply.md)."""

import sys
from pathlib import Path
from typing import Any, List

from .common import INTERRUPTED, CommandError

SHOWN_SKIPPED = 20
"""List at most this many skipped records at the end of a run."""


def add_parsers(sub: Any) -> None:
    """Add ``apply`` to the ``archs`` sub-command parsers."""
    p = sub.add_parser(
        "apply",
        usage="archs apply [options] MODEL [MODEL ...] INPUT OUTPUT",
        help="annotate a corpus with one or more models, in order",
        description="archs apply MODEL [MODEL ...] INPUT OUTPUT: run the models in order on "
        "every document of INPUT (a file, a folder or a glob pattern of plain text, JSONL, "
        "CoNLL-U or IOB files) and write OUTPUT (JSONL, or CoNLL-U for a .conllu name). "
        "See docs/apply.md.",
    )
    p.add_argument(
        "paths",
        nargs="+",
        metavar="PATH",
        help="the models (folders or installed models' names), then INPUT, then OUTPUT",
    )
    p.add_argument(
        "--input-format",
        choices=("text", "jsonl", "conllu", "iob"),
        default=None,
        help="the format of every input file (default: from each file's suffix: .txt, "
        ".jsonl, .conllu, .iob/.iob2/.bio/.conll)",
    )
    p.add_argument("--text-field", default="text", help="the JSONL field that holds the text")
    p.add_argument(
        "--output-format",
        choices=("jsonl", "conllu"),
        default=None,
        help="default: conllu for a .conllu OUTPUT, else jsonl",
    )
    p.add_argument("--batch-size", type=int, default=128, help="input records per batch (128)")
    p.add_argument(
        "--n-process",
        type=int,
        default=1,
        help="worker processes (or Ray actors); -1: every core (default 1)",
    )
    p.add_argument(
        "--engine",
        choices=("local", "ray"),
        default="local",
        help="local processes, or Ray actors (pip install 'arch-tok2vec[ray]')",
    )
    p.add_argument(
        "--ray-address",
        default=None,
        help="the Ray cluster to join (e.g. auto); default: start a local one",
    )
    p.add_argument(
        "--on-error",
        choices=("stop", "skip"),
        default="stop",
        help="at a bad input record: stop (default), or skip it, write a 'skipped' record "
        "naming its file and line in its place, and count it",
    )
    p.add_argument(
        "--resume", action="store_true", help="continue the interrupted run that wrote OUTPUT"
    )
    p.add_argument("--overwrite", action="store_true", help="replace an existing OUTPUT")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(run=lambda args, extra: cmd_apply(args))


def cmd_apply(args: Any) -> int:
    from ..apply import OutputError, WorkerDied, apply
    from ..apply.workers import WorkerError
    from ..task import CorpusError

    if len(args.paths) < 3:
        raise CommandError("give at least one MODEL, then INPUT and OUTPUT")
    *models, source, target = args.paths
    output = Path(target)

    def log(message: str) -> None:
        print(message, file=sys.stderr)

    try:
        result = apply(
            models,
            source,
            output,
            input_format=args.input_format,
            output_format=args.output_format,
            text_field=args.text_field,
            batch_size=args.batch_size,
            n_process=args.n_process,
            engine=args.engine,
            on_error=args.on_error,
            resume=args.resume,
            overwrite=args.overwrite,
            progress=not args.no_progress and sys.stderr.isatty(),
            log=log,
            ray_address=args.ray_address,
        )
    except KeyboardInterrupt:
        print(
            f"interrupted (Ctrl-C): {output} holds every batch finished before it; "
            "pass --resume to continue",
            file=sys.stderr,
        )
        return INTERRUPTED
    except CorpusError as err:
        hint = ""
        if args.on_error == "stop" and err.line:
            hint = (
                f". {output} holds the batches before it: fix the record and pass --resume to "
                "continue, or pass --on-error skip to skip bad records"
            )
        raise CommandError(f"{err}{hint}") from None
    except (WorkerDied, WorkerError) as err:
        raise CommandError(
            f"{err}. {output} holds every batch finished before it: pass --resume to continue"
        ) from None
    except OutputError as err:
        raise CommandError(str(err)) from None
    except (ValueError, OSError) as err:
        raise CommandError(str(err)) from None
    rate = result.docs - result.resumed_docs
    seconds = max(result.seconds, 1e-9)
    print(
        f"annotated {result.docs:,} document{'' if result.docs == 1 else 's'} "
        f"({result.words:,} words) into {output}"
        + (f" ({result.resumed_docs:,} of them before resuming)" if result.resumed_docs else "")
        + f"; {rate / seconds:,.0f} documents per second"
    )
    if result.skipped:
        print(_skipped_summary(result.skipped, output), file=sys.stderr)
    return 0


def _skipped_summary(skipped: List[Any], output: Path) -> str:
    lines = [
        f"skipped {len(skipped):,} bad input record(s) (each is a 'skipped' record in {output}):"
    ]
    for item in skipped[:SHOWN_SKIPPED]:
        lines.append(f"  {item.file}, line {item.line}: {item.error}")
    if len(skipped) > SHOWN_SKIPPED:
        lines.append(f"  and {len(skipped) - SHOWN_SKIPPED:,} more")
    return "\n".join(lines)
