"""``archs train`` and ``archs evaluate``: train a config's model on its task, and
score a saved model on a corpus."""

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any, Dict, Optional

from catalogue import RegistryError

from .common import (
    INTERRUPTED,
    CommandError,
    format_score,
    is_table,
    load_config,
    locate,
    parse_overrides,
    print_breakdown,
    print_table,
    registry_message,
)

DEFAULT_OUTPUT = Path("training")
"""Where ``archs train`` saves its models when no ``--output`` is given."""


def add_parsers(sub: Any) -> None:
    """Add ``train`` and ``evaluate`` to the ``archs`` sub-command parsers."""
    p_train = sub.add_parser(
        "train",
        help="train a config's model on its task; save the best and the last model",
        description="Extra options --section.key VALUE override config settings "
        "(e.g. --paths.train train.conllu --training.max_epochs 5).",
        epilog=settings_help(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p_train.add_argument("config", type=Path, help="a training config")
    p_train.add_argument(
        "--output",
        type=Path,
        default=None,
        help=f"folder for model-best, model-last and the log train.jsonl (default: "
        f"./{DEFAULT_OUTPUT}); it must be new or empty unless --overwrite is given",
    )
    p_train.add_argument(
        "--overwrite",
        action="store_true",
        help="replace the models (and log) of an output folder that already holds some",
    )
    p_train.set_defaults(
        run=lambda args, extra: cmd_train(
            args.config, args.output, parse_overrides(extra), overwrite=args.overwrite
        ),
        overrides=True,
    )
    p_eval = sub.add_parser("evaluate", help="score a saved model on a corpus")
    p_eval.add_argument(
        "model", help="a model folder written by archs train, or an installed model's name"
    )
    p_eval.add_argument("corpus", type=Path, help="a corpus file the model's task can read")
    p_eval.add_argument(
        "--output",
        type=Path,
        default=None,
        help="also write every score, full precision, to this JSON file (replaced if it "
        "exists); the table still goes to stdout",
    )
    p_eval.set_defaults(run=lambda args, extra: cmd_evaluate(args.model, args.corpus, args.output))


def settings_help() -> str:
    """The [paths], [system] and [training] keys with their defaults, for
    ``archs train --help`` (docs/training.md describes each)."""
    from ..settings import PATHS_SETTINGS, SYSTEM_SETTINGS, TRAINING_SETTINGS

    lines = ["config settings (docs/training.md describes each):"]
    for section, settings in (
        ("paths", PATHS_SETTINGS),
        ("system", SYSTEM_SETTINGS),
        ("training", TRAINING_SETTINGS),
    ):
        lines.append(f"  [{section}]")
        for key, setting in settings.items():
            lines.append(f"    {key} = {setting.default_text}  ({setting.kind}) {setting.about}")
    return "\n".join(lines)


def cmd_train(
    path: Path, output: Optional[Path], overrides: Dict[str, Any], overwrite: bool = False
) -> int:
    from thinc.api import ConfigValidationError

    from ..memory import ModelTooLargeError
    from ..outputs import OutputExistsError, join_descriptions
    from ..settings import ConfigError
    from ..training import TrainingDiverged, TrainingInterrupted, train
    from ..training_log import LOG_FILE

    config = load_config(path, overrides, training=True)
    if output is None:
        output = DEFAULT_OUTPUT
        print(f"no --output given: the models go to {output}/ ({output.resolve()})")
    try:
        result = train(config, output, overwrite=overwrite)
    except TrainingInterrupted:
        print("stopped by Ctrl-C", file=sys.stderr)
        return INTERRUPTED
    except OutputExistsError as err:
        raise CommandError(
            f"{err.path}/ already holds {join_descriptions(err.contents)}. Nothing was "
            "trained: choose another --output, or pass --overwrite to replace those models"
        ) from None
    except (ConfigError, ModelTooLargeError, TrainingDiverged) as err:
        raise CommandError(str(err)) from None
    except ConfigValidationError as err:
        raise CommandError(str(err)) from None
    except RegistryError as err:
        raise CommandError(registry_message(config, err)) from None
    except (ValueError, TypeError, OSError) as err:
        raise CommandError(locate(config, str(err))) from None
    last = result.epochs[-1].epoch if result.epochs else 0
    best = f"{result.score_key} {result.best_score:.4f}"
    print(f"log: {output / LOG_FILE} ({len(result.epochs)} evaluations)")
    print(
        f"saved {output / 'model-best'} (epoch {result.best_epoch}, dev {best}) "
        f"and {output / 'model-last'} (epoch {last})"
    )
    return 0


def cmd_evaluate(model_dir: str, corpus: Path, output: Optional[Path] = None) -> int:
    from ..pipeline import load

    try:
        pipeline = load(model_dir)
        examples = pipeline.task.read(corpus)
        if not examples:
            raise CommandError(f"{corpus}: the corpus is empty")
        pipeline.task.check(examples, corpus)
        scores = pipeline.evaluate(examples)
    except (ValueError, OSError) as err:
        raise CommandError(str(err)) from None
    words = sum(len(eg.doc) for eg in examples)
    if output is not None:
        record = {
            "model": str(model_dir),
            "corpus": str(corpus),
            "task": pipeline.task.name,
            "docs": len(examples),
            "words": words,
            "scores": scores,
        }
        try:
            write_json(output, record)
        except OSError as err:
            raise CommandError(f"cannot write {output}: {err.strerror or err}") from None
    print(f"{model_dir} on {corpus}: {len(examples)} docs, {words} words")
    rows = [(key, format_score(value)) for key, value in scores.items() if not is_table(value)]
    print_table(("metric", "value"), rows)
    for key, value in scores.items():
        if is_table(value):
            print(f"\n{key}")
            print_breakdown(value)
    if output is not None:
        print(f"\nscores written to {output}")
    return 0


def write_json(path: Path, data: Any) -> None:
    """Write ``data`` as JSON to ``path``, replacing it atomically (a crash leaves
    the old file or the new one). Floats keep full precision; a value that is not
    a finite number becomes null."""
    from ..training_log import json_safe

    text = json.dumps(json_safe(data), indent=2, allow_nan=False) + "\n"
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(temporary, "w", encoding="utf8") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    finally:
        if temporary.exists():
            temporary.unlink()
