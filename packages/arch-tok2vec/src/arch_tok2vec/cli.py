"""``archs``: list, describe and build the registered architectures; train and
evaluate models.

archs list [--registry NAME]
archs info NAME
archs build CONFIG [--section model] [--model.width 64 ...]
archs train CONFIG [--output DIR] [--overwrite] [--training.max_epochs 5 ...]
archs evaluate MODEL CORPUS

Exit codes: 0 done, 1 error (one message, no traceback), 2 bad usage, 130
interrupted by Ctrl-C.
"""

import argparse
import json
import os
import re
import sys
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

from catalogue import RegistryError

from .introspect import describe, find, registered
from .registry import REGISTRY_GROUPS

DEFAULT_OUTPUT = Path("training")
"""Where ``archs train`` saves its models when no ``--output`` is given."""

INTERRUPTED = 130
"""The exit code after Ctrl-C (128 + SIGINT), as shells use."""

SAMPLE_LABELS = 3
"""How many labels ``initialize_on_samples`` makes up for models that learn their
output width from the labels."""


class CommandError(Exception):
    """An error to report to the user as one message, without a traceback."""


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = _parser()
    args, extra = parser.parse_known_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    if extra and args.command not in ("build", "train"):
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    try:
        if args.command == "list":
            return cmd_list(args.registry)
        if args.command == "info":
            return cmd_info(args.name)
        if args.command == "train":
            overrides = parse_overrides(extra)
            return cmd_train(args.config, args.output, overrides, overwrite=args.overwrite)
        if args.command == "evaluate":
            return cmd_evaluate(args.model, args.corpus)
        return cmd_build(args.config, args.section, parse_overrides(extra))
    except CommandError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted (Ctrl-C): stopped at once, nothing more was saved", file=sys.stderr)
        return INTERRUPTED
    except BrokenPipeError:  # output piped into e.g. `head`, which stopped reading
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="archs", description="spaCy's model architectures on thinc (the arch family)."
    )
    sub = parser.add_subparsers(dest="command")
    p_list = sub.add_parser("list", help="every registered function, its package and version")
    p_list.add_argument("--registry", choices=sorted(REGISTRY_GROUPS), help="only this registry")
    p_info = sub.add_parser("info", help="a function's package, parameters and their meaning")
    p_info.add_argument("name", help="a registered name, e.g. spacy.HashEmbedCNN.v1")
    p_build = sub.add_parser(
        "build",
        help="resolve a config, initialize the model on sample docs, print its tree",
        description="Extra options --section.key VALUE override config settings.",
    )
    p_build.add_argument("config", type=Path, help="a config file (thinc/spaCy format)")
    p_build.add_argument(
        "--section", default=None, help="the block holding the model (default: [model])"
    )
    p_train = sub.add_parser(
        "train",
        help="train a config's model on its task; save the best and the last model",
        description="Extra options --section.key VALUE override config settings "
        "(e.g. --paths.train train.conllu --training.max_epochs 5).",
    )
    p_train.add_argument("config", type=Path, help="a training config")
    p_train.add_argument(
        "--output",
        type=Path,
        default=None,
        help=f"folder for model-best and model-last (default: ./{DEFAULT_OUTPUT}); "
        "it must be new or empty unless --overwrite is given",
    )
    p_train.add_argument(
        "--overwrite",
        action="store_true",
        help="replace the models of an output folder that already holds some",
    )
    p_eval = sub.add_parser("evaluate", help="score a saved model on a corpus")
    p_eval.add_argument("model", type=Path, help="a model folder written by archs train")
    p_eval.add_argument("corpus", type=Path, help="a corpus file the model's task can read")
    return parser


def cmd_list(registry_name: Optional[str]) -> int:
    rows = [
        (item.registry, item.name, item.package, item.version)
        for item in registered([registry_name] if registry_name else None)
    ]
    _print_table(("registry", "name", "package", "version"), rows)
    return 0


def cmd_info(name: str) -> int:
    found = find(name)
    if not found:
        raise CommandError(_unknown_info_name(name))
    for item in found:
        info = describe(item.load())
        print(f"{item.name}  ({item.registry}; {item.package} {item.version}; {item.target})")
        if info.summary:
            print()
            print(info.summary)
        print()
        rows = [(p.name, p.annotation, p.default, p.description) for p in info.params]
        _print_table(("parameter", "type", "default", "description"), rows)
        if info.notes:
            print()
            print(info.notes)
    return 0


def _unknown_info_name(name: str) -> str:
    """Why ``archs info NAME`` knows no such name: its family is not installed, or
    the close names (and those containing it) that are registered."""
    from .families import FAMILIES, installed_version
    from .suggest import close_matches

    for dist, registries in FAMILIES.items():
        if any(name in names for names in registries.values()):
            if installed_version(dist) is None:
                return f"{name} is provided by {dist}, which is not installed: pip install {dist}"
    known = sorted({item.name for item in registered()})
    close = close_matches(name, known)
    close += [k for k in known if name.lower() in k.lower() and k not in close][:3]
    hint = f" Did you mean {', '.join(close)}?" if close else ""
    return f"no registered function is called {name!r}.{hint} 'archs list' shows every name."


def parse_overrides(args: List[str]) -> Dict[str, Any]:
    """Turn ``--a.b VALUE`` pairs into confection overrides (values parsed as JSON
    where possible, else kept as strings)."""
    overrides: Dict[str, Any] = {}
    i = 0
    while i < len(args):
        key = args[i]
        if not key.startswith("--") or "." not in key:
            raise CommandError(f"expected an override like --model.width 64, got {key!r}")
        key = key[2:]
        if "=" in key:
            key, value = key.split("=", 1)
            i += 1
        elif i + 1 < len(args):
            value = args[i + 1]
            i += 2
        else:
            raise CommandError(f"override --{key} has no value")
        try:
            overrides[key] = json.loads(value)
        except json.JSONDecodeError:
            overrides[key] = value
    return overrides


def load_config(path: Path, overrides: Dict[str, Any], training: bool = False) -> Any:
    """Read a config file, applying overrides, with readable errors. An override
    of a setting the config does not have is refused (confection would add it
    silently), unless it is a parameter of the function block it names.

    path: The config file.
    overrides: {"section.key": value} from the command line.
    training: A training config: its plain sections may also be given the keys
        they take by default, and it is returned before interpolation (with its
        ``${...}`` references), which ``train`` checks and then resolves.
    """
    from thinc.api import Config

    from .settings import SECTIONS, ConfigError, check_overrides

    if not path.exists():
        raise CommandError(f"config file not found: {path}")
    try:
        raw = Config().from_disk(path, interpolate=False)
    except Exception as err:  # confection raises several kinds for bad syntax
        raise CommandError(f"cannot read config {path}: {err}") from None
    try:
        check_overrides(raw, overrides, SECTIONS if training else None)
    except ConfigError as err:
        raise CommandError(str(err)) from None
    except RegistryError as err:
        raise CommandError(_registry_message(raw, err)) from None
    try:
        return Config().from_disk(path, overrides=overrides, interpolate=not training)
    except Exception as err:
        raise CommandError(f"cannot read config {path}: {err}") from None


def resolve_block(config: Any, section: Optional[str]) -> Tuple[str, Any]:
    """Resolve the config and return (section name, the object built for it)."""
    from thinc.api import ConfigValidationError

    from .registry import registry
    from .settings import ConfigError, check_finite, check_function_keys

    if section is None:
        section = "model" if "model" in config else _only_block(config)
    block = _get_path(config, section)
    if block is None:
        raise CommandError(f"the config has no [{section}] block")
    try:
        check_function_keys(config)
        check_finite(config)
        resolved = registry.resolve(config, validate=True)
    except ConfigError as err:
        raise CommandError(str(err)) from None
    except ConfigValidationError as err:
        raise CommandError(str(err)) from None
    except RegistryError as err:
        raise CommandError(_registry_message(config, err)) from None
    except (ValueError, TypeError) as err:
        raise CommandError(_locate(config, str(err))) from None
    return section, _get_path(resolved, section)


def _registry_message(config: Any, err: Exception) -> str:
    """A registry error, prefixed with the config block(s) naming the unknown name."""
    from .families import UnknownNameError
    from .settings import walk_settings

    if isinstance(err, UnknownNameError):
        key = f"@{err.registry_name}"
        places = [
            f"[{path}] {k} = {v!r}"
            for path, k, v in walk_settings(config)
            if k == key and v == err.name
        ]
        if places:
            return f"{'; '.join(places)}: {err}"
    return f"unknown function: {err}"


def _only_block(config: Any) -> str:
    blocks = [key for key, value in config.items() if isinstance(value, dict)]
    if len(blocks) == 1:
        return blocks[0]
    raise CommandError(
        f"the config has no [model] block; choose one with --section ({', '.join(blocks)})"
    )


def _get_path(config: Any, path: str) -> Any:
    node = config
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def _locate(config: Any, message: str) -> str:
    """Prefix an error from a registered function with the block(s) holding the
    setting it names (e.g. "[model.embed] width = 0: width must be ...")."""
    match = re.match(r"^(\w+)", message)
    if not match:
        return message
    key = match.group(1)
    places = [(path, value) for path, value in _walk(config) if key in value]
    got = re.search(r"got (.+)$", message)
    if got:
        # Keep the blocks whose value is the one the message complains about.
        exact = [(p, v) for p, v in places if got.group(1) in (str(v[key]), repr(v[key]))]
        places = exact or places
    if not places:
        return message
    where = "; ".join(f"[{path}] {key} = {value[key]!r}" for path, value in places)
    return f"{where}: {message}"


def _walk(node: Any, prefix: str = "") -> List[Tuple[str, Dict[str, Any]]]:
    out: List[Tuple[str, Dict[str, Any]]] = []
    for key, value in node.items():
        if isinstance(value, dict):
            path = f"{prefix}.{key}" if prefix else key
            out.append((path, value))
            out.extend(_walk(value, path))
    return out


def cmd_build(path: Path, section: Optional[str], overrides: Dict[str, Any]) -> int:
    from thinc.api import Model

    from .memory import BYTES_TO_BUILD, ModelTooLargeError, check_memory

    config = load_config(path, overrides)
    section, model = resolve_block(config, section)
    if not isinstance(model, Model):
        raise CommandError(f"[{section}] does not build a thinc Model (got {type(model).__name__})")
    try:
        check_memory(model, config, bytes_per_weight=BYTES_TO_BUILD, purpose="initialize")
    except ModelTooLargeError as err:
        raise CommandError(str(err)) from None
    X, described = initialize_on_samples(model)
    print(f"[{section}] {model.name[:70]}")
    print(f"initialized on {described}")
    print()
    rows = []
    n_params = 0
    for i, node in enumerate(model.walk()):
        dims = " ".join(f"{d}={node.maybe_get_dim(d)}" for d in node.dim_names)
        shapes = []
        for name in node.param_names:
            if node.has_param(name):
                value = node.get_param(name)
                n_params += value.size
                shapes.append(f"{name}{tuple(value.shape)}")
        for shim in node.shims:
            held = _shim_weights(shim)
            if held:
                n_params += held
                shapes.append(f"{type(shim).__name__}: {held:,} weights")
        rows.append((f"#{i}", _short(node.name), dims, " ".join(shapes)))
    _print_table(("node", "name", "dims", "params"), rows)
    print()
    print(f"{len(rows)} nodes, {n_params:,} parameters")
    output = model.predict(X)
    print(f"output: {_describe_data(output)}")
    return 0


def cmd_train(
    path: Path, output: Optional[Path], overrides: Dict[str, Any], overwrite: bool = False
) -> int:
    from thinc.api import ConfigValidationError

    from .memory import ModelTooLargeError
    from .outputs import OutputExistsError, join_descriptions
    from .settings import ConfigError
    from .training import TrainingDiverged, TrainingInterrupted, train

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
        raise CommandError(_registry_message(config, err)) from None
    except (ValueError, TypeError, OSError) as err:
        raise CommandError(_locate(config, str(err))) from None
    last = result.epochs[-1].epoch if result.epochs else 0
    best = f"{result.score_key} {result.best_score:.4f}"
    print(
        f"saved {output / 'model-best'} (epoch {result.best_epoch}, dev {best}) "
        f"and {output / 'model-last'} (epoch {last})"
    )
    return 0


def cmd_evaluate(model_dir: Path, corpus: Path) -> int:
    from .pipeline import load

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
    print(f"{model_dir} on {corpus}: {len(examples)} docs, {words} words")
    rows = [(key, _format_score(value)) for key, value in scores.items() if not _is_table(value)]
    _print_table(("metric", "value"), rows)
    for key, value in scores.items():
        if _is_table(value):
            print(f"\n{key}")
            _print_breakdown(value)
    return 0


def _is_table(value: Any) -> bool:
    """A breakdown (per label, per tag): a non-empty dict, printed as its own table."""
    return isinstance(value, dict) and bool(value)


def _print_breakdown(value: Dict[str, Any]) -> None:
    """One row per key; a column per metric when the values are dicts themselves."""
    columns: List[str] = []
    for item in value.values():
        if isinstance(item, dict):
            columns += [name for name in item if name not in columns]
    if columns:
        rows = [
            [key] + [_format_score(item.get(name, "")) for name in columns]
            for key, item in value.items()
        ]
        _print_table(["label", *columns], rows)
    else:
        _print_table(("label", "value"), [(key, _format_score(v)) for key, v in value.items()])


def _shim_weights(shim: Any) -> int:
    """The number of weights a shim's wrapped model (e.g. a PyTorch module) holds."""
    parameters = getattr(getattr(shim, "_model", None), "parameters", None)
    if not callable(parameters):
        return 0
    return sum(int(weights.numel()) for weights in parameters())


def _format_score(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4f}"
    if isinstance(value, dict):
        return ", ".join(f"{k} {_format_score(v)}" for k, v in value.items())
    return str(value)


def initialize_on_samples(model: Any) -> Tuple[Any, str]:
    """Initialize a model on the sample docs (with made-up labels for models
    whose output width is learned from them), or on random token vectors for
    encoders that take arrays; returns the input used and a description."""
    import numpy

    from .samples import sample_docs

    docs = sample_docs()
    n_tokens = sum(len(doc) for doc in docs)
    eye = numpy.eye(SAMPLE_LABELS, dtype="float32")
    token_labels = [eye[numpy.arange(len(doc)) % SAMPLE_LABELS] for doc in docs]
    doc_labels = eye[numpy.arange(len(docs)) % SAMPLE_LABELS]
    candidates: List[Tuple[Any, Any, str]] = [
        (docs, None, f"{len(docs)} sample docs"),
        (docs, token_labels, f"{len(docs)} sample docs with {SAMPLE_LABELS} token labels"),
        (docs, doc_labels, f"{len(docs)} sample docs with {SAMPLE_LABELS} doc labels"),
    ]
    width = model.maybe_get_dim("nI") or model.maybe_get_dim("nO")
    if width:
        rng = numpy.random.default_rng(0)
        arrays = [rng.normal(size=(len(doc), width)).astype("float32") for doc in docs]
        candidates.append((numpy.vstack(arrays), None, f"a ({n_tokens}, {width}) array"))
        candidates.append((arrays, None, f"{len(arrays)} arrays of width {width}"))
    errors = []
    for X, Y, described in candidates:
        try:
            model.initialize(X=X, Y=Y)
            model.predict(X)
            return X, described
        except Exception as err:  # try the next kind of input
            errors.append(f"  on {described}: {type(err).__name__}: {err}")
    raise CommandError("the model could not be initialized:\n" + "\n".join(errors))


def _describe_data(data: Any) -> str:
    if isinstance(data, list):
        if data and all(hasattr(x, "shape") for x in data):
            shapes = ", ".join(str(tuple(x.shape)) for x in data[:3])
            more = ", ..." if len(data) > 3 else ""
            return f"list of {len(data)} arrays ({data[0].dtype}): {shapes}{more}"
        return f"list of {len(data)}"
    if hasattr(data, "shape"):
        return f"array {tuple(data.shape)} {data.dtype}"
    if hasattr(data, "data") and hasattr(data, "lengths"):
        return f"ragged {tuple(data.data.shape)} in {len(data.lengths)} sequences"
    return type(data).__name__


def _short(name: str, limit: int = 48) -> str:
    return name if len(name) <= limit else name[: limit - 3] + "..."


def _print_table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    table = [list(map(str, header))] + [list(map(str, row)) for row in rows]
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    for j, row in enumerate(table):
        cells = [cell.ljust(width) for cell, width in zip(row, widths)]
        print("  ".join(cells).rstrip())
        if j == 0:
            print("  ".join("-" * width for width in widths))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
