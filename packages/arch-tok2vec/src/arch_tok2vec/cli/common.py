"""What every ``archs`` command shares: its errors, config overrides and loading,
locating a setting in a config, and printing tables."""

import json
import re
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

from catalogue import RegistryError

INTERRUPTED = 130
"""The exit code after Ctrl-C (128 + SIGINT), as shells use."""


class CommandError(Exception):
    """An error to report to the user as one message, without a traceback."""


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

    from ..settings import SECTIONS, ConfigError, check_overrides

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
        raise CommandError(registry_message(raw, err)) from None
    try:
        return Config().from_disk(path, overrides=overrides, interpolate=not training)
    except Exception as err:
        raise CommandError(f"cannot read config {path}: {err}") from None


def resolve_block(config: Any, section: Optional[str]) -> Tuple[str, Any]:
    """Resolve the config and return (section name, the object built for it)."""
    from thinc.api import ConfigValidationError

    from ..registry import registry
    from ..settings import ConfigError, check_finite, check_function_keys

    if section is None:
        section = "model" if "model" in config else _only_block(config)
    block = get_path(config, section)
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
        raise CommandError(registry_message(config, err)) from None
    except (ValueError, TypeError) as err:
        raise CommandError(locate(config, str(err))) from None
    return section, get_path(resolved, section)


def registry_message(config: Any, err: Exception) -> str:
    """A registry error, prefixed with the config block(s) naming the unknown name."""
    from ..families import UnknownNameError
    from ..settings import walk_settings

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


def get_path(config: Any, path: str) -> Any:
    node = config
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def locate(config: Any, message: str) -> str:
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


def is_table(value: Any) -> bool:
    """A breakdown (per label, per tag): a non-empty dict, printed as its own table."""
    return isinstance(value, dict) and bool(value)


def print_breakdown(value: Dict[str, Any]) -> None:
    """One row per key; a column per metric when the values are dicts themselves."""
    columns: List[str] = []
    for item in value.values():
        if isinstance(item, dict):
            columns += [name for name in item if name not in columns]
    if columns:
        rows = [
            [key] + [format_score(item.get(name, "")) for name in columns]
            for key, item in value.items()
        ]
        print_table(["label", *columns], rows)
    else:
        print_table(("label", "value"), [(key, format_score(v)) for key, v in value.items()])


def format_score(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4f}"
    if isinstance(value, dict):
        return ", ".join(f"{k} {format_score(v)}" for k, v in value.items())
    return str(value)


def print_table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    table = [list(map(str, header))] + [list(map(str, row)) for row in rows]
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    for j, row in enumerate(table):
        cells = [cell.ljust(width) for cell, width in zip(row, widths)]
        print("  ".join(cells).rstrip())
        if j == 0:
            print("  ".join("-" * width for width in widths))
