"""What a training config may hold, and the checks that refuse anything else.

A training config has five top-level sections. ``[task]`` and ``[model]`` (and
``[training.optimizer]``) are blocks of registered functions: their keys must be
parameters of the function they name. The others are plain sections, whose keys
are defined here:

- ``[paths]``: ``train`` and ``dev`` (file paths or null), plus any path the config
  refers to elsewhere as ``${paths.NAME}``;
- ``[system]``: ``seed``;
- ``[training]``: the keys of ``TRAINING_SETTINGS`` (``batcher`` and ``optimizer``
  are blocks).

A key that is not one of these, a setting that is not a finite number where a
number is expected, or an override (``--system.sed 3``) of a setting the config
does not have is an error naming the setting, with the close names if there are
any. Sections referenced with ``${...}`` (e.g. a ``[vars]`` section) are allowed
when the config is checked before interpolation, as ``archs train`` does.
"""

import inspect
import json
import math
import re
from dataclasses import dataclass
from typing import Any, Dict, Iterator, List, Optional, Set, Tuple

from .suggest import did_you_mean


@dataclass(frozen=True)
class Setting:
    """One key of a plain config section, as docs/training.md lists it.

    default: The value used when the config leaves the key out.
    kind: What it takes, as the docs' Type column says it.
    about: What it means, in a few words (``archs train --help``).
    shown: The default as the docs' Default column writes it (None: the
        default in config syntax).
    """

    default: Any
    kind: str
    about: str
    shown: Optional[str] = None

    @property
    def default_text(self) -> str:
        """The default as written in the docs."""
        return self.shown if self.shown is not None else config_literal(self.default)


PATHS_SETTINGS: Dict[str, Setting] = {
    "train": Setting(None, "path or null", "training corpus; null with dev null: the sample"),
    "dev": Setting(None, "path or null", "dev corpus that selects model-best"),
}
"""The [paths] keys (other keys are allowed when the config refers to them)."""

SYSTEM_SETTINGS: Dict[str, Setting] = {
    "seed": Setting(0, "int", "random seed: initialization, shuffling, dropout, dev_fraction"),
}
"""The [system] keys."""

DEFAULT_OPTIMIZER: Dict[str, Any] = {
    "@optimizers": "Adam.v1",
    "learn_rate": 0.001,
    "beta1": 0.9,
    "beta2": 0.999,
    "eps": 1e-08,
    "L2": 0.01,
    "L2_is_weight_decay": True,
    "grad_clip": 1.0,
    "use_averages": False,
}
"""arch's optimizer: spaCy 3.8's (``spacy init config`` writes it). Used when a
config has no [training.optimizer], and it fills the settings an ``Adam.v1``
block leaves out, as spaCy's config does (thinc's own ``Adam.v1`` defaults are
L2 = 0 and use_averages = true)."""

TRAINING_SETTINGS: Dict[str, Setting] = {
    "max_epochs": Setting(10, "int", "stop after this many epochs; 0: no limit"),
    "max_steps": Setting(0, "int", "stop after this many updates; 0: no limit"),
    "max_seconds": Setting(0, "float", "stop after this many seconds; 0: no limit"),
    "patience": Setting(
        3, "int", "stop after this many epochs (steps with eval_frequency) without gain; 0: never"
    ),
    "eval_frequency": Setting(0, "int", "score dev every N updates; 0: after each epoch"),
    "score_weights": Setting(
        None, "dict or null", "{metric: weight} whose sum selects model-best; null: task's key"
    ),
    "batch_size": Setting(32, "int", "documents per update (unless [training.batcher])"),
    "batcher": Setting(None, "block or null", "[training.batcher], e.g. spacy.batch_by_words.v1"),
    "accumulate_gradient": Setting(1, "int", "sub-batches added up into one update"),
    "dropout": Setting(0.1, "float", "dropout rate while training, in [0, 1)"),
    "dev_fraction": Setting(0.0, "float", "share of train held out as dev when dev is null"),
    "optimizer": Setting(
        DEFAULT_OPTIMIZER, "block", "[training.optimizer]; absent: spaCy's Adam.v1", "Adam.v1"
    ),
}
"""The [training] keys, in the order docs/training.md lists them."""

TRAINING_BLOCKS = ("batcher", "optimizer")
"""The [training] keys that hold a block of a registered function."""

TRAINING_DEFAULTS: Dict[str, Any] = {
    key: setting.default for key, setting in TRAINING_SETTINGS.items() if key not in TRAINING_BLOCKS
}
"""The plain [training] settings and their defaults (the blocks aside)."""

SECTIONS: Dict[str, Optional[Tuple[str, ...]]] = {
    "paths": tuple(PATHS_SETTINGS),
    "system": tuple(SYSTEM_SETTINGS),
    "task": None,
    "model": None,
    "training": tuple(TRAINING_SETTINGS),
}
"""The top-level sections of a training config: a plain section's keys, or None
for a block of a registered function (checked against the function's parameters)."""

MAX_SEED = 2**32 - 1
"""numpy's random seeds are unsigned 32-bit integers."""

_REFERENCE = re.compile(r"\$\{([^}]+)\}")
_NON_FINITE = ("nan", "inf", "infinity")


class ConfigError(ValueError):
    """A config setting that is unknown or has a value that cannot work; the
    message names the section and key."""


def check_training_config(config: Dict[str, Any]) -> None:
    """Refuse unknown sections and keys, non-finite numbers and a bad [system]
    seed in a training config (errors name the setting). The values of a config
    not yet interpolated are checked by ``check_values`` once it is.

    config: The training config, interpolated or not (references ``${...}`` are
        only visible before interpolation; after it, a [paths] key counts as
        referenced when its value is used by another setting).
    """
    references = _references(config)
    for section in config:
        if section not in SECTIONS and section not in references:
            raise ConfigError(
                f"the config has a section [{section}] that training does not use."
                + did_you_mean(section, SECTIONS)
                + f" (A training config has [{'], ['.join(SECTIONS)}].)"
            )
    for block in ("task", "model"):
        if block not in config:
            raise ConfigError(f"the config has no [{block}] block")
    for section, keys in SECTIONS.items():
        values = config.get(section)
        if keys is None or values is None:
            continue
        if not isinstance(values, dict):
            raise ConfigError(f"[{section}] must be a section, got {values!r}")
        used = _used_elsewhere(config, section, references)
        for key in values:
            if key not in keys and key not in used:
                raise ConfigError(_unknown_key(section, key, keys))
    check_function_keys(config)
    if getattr(config, "is_interpolated", True):
        check_values(config)  # before interpolation, values may still be ${...}


def check_values(config: Dict[str, Any]) -> None:
    """The value checks of ``check_training_config`` alone (for a config just
    interpolated): [paths] train/dev are paths or null, [system] seed is a
    seed, every number is finite."""
    paths = config.get("paths", {})
    for key in ("train", "dev"):
        value = paths.get(key)
        if value is not None and not isinstance(value, str):
            raise ConfigError(f"[paths] {key} must be a file path or null, got {value!r}")
    check_seed(config.get("system", {}).get("seed", 0))
    check_finite(config)


def check_seed(seed: Any) -> int:
    """Require an integer seed numpy accepts; the error names ``[system] seed``."""
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= MAX_SEED:
        raise ConfigError(f"[system] seed must be an integer from 0 to {MAX_SEED}, got {seed!r}")
    return seed


def check_function_keys(config: Dict[str, Any]) -> None:
    """Refuse a key of a registered-function block that is not a parameter of the
    function it names, with the close parameter names.

    config: A config (or part of one) as nested dicts.
    """
    for path, block in walk_blocks(config):
        func = _block_function(block)
        if func is None:
            continue
        params = _parameters(func)
        if params is None:
            continue
        for key in block:
            if key.startswith("@") or key == "*" or key in params:
                continue
            name = block[_constructor_key(block)]
            raise ConfigError(
                f"[{path}] {key}: {name} has no parameter {key!r}."
                + did_you_mean(key, params)
                + f" Its parameters: {', '.join(params) or 'none'}."
            )


def check_finite(config: Dict[str, Any]) -> None:
    """Refuse NaN and infinite numbers anywhere in a config (a NaN learn_rate
    trains a model of NaN weights); the error names the setting."""
    for path, key, value in walk_settings(config):
        if not is_finite(value):
            raise ConfigError(f"[{path}] {key} = {value!r}: settings must be finite numbers")


def is_finite(value: Any) -> bool:
    """False for NaN and infinity, also written as text ("NaN", "inf": older
    config parsers keep them as strings, which validation turns into floats),
    and for lists holding one."""
    for item in value if isinstance(value, (list, tuple)) else [value]:
        if isinstance(item, str) and item.strip().lower().lstrip("+-") in _NON_FINITE:
            return False
        if isinstance(item, float) and not math.isfinite(item):
            return False
    return True


def check_overrides(
    config: Dict[str, Any],
    overrides: Dict[str, Any],
    sections: Optional[Dict[str, Optional[Tuple[str, ...]]]] = None,
) -> None:
    """Refuse an override (``--section.key value``) of a setting the config does
    not have, unless the section is a function block whose function takes the key
    or a plain section that ``sections`` says takes it.

    config: The config the overrides apply to, before they are applied.
    overrides: {"section.key": value} as given on the command line.
    sections: The keys of the plain top-level sections (SECTIONS for a training
        config), which may be overridden where the config leaves them out.
    """
    for dotted, value in overrides.items():
        *parts, key = dotted.split(".")
        if not is_finite(value):
            where = f"[{'.'.join(parts)}] {key} = {value!r} (--{dotted})"
            raise ConfigError(f"{where}: settings must be finite numbers")
        node: Any = config
        for depth, part in enumerate(parts):
            if not isinstance(node, dict) or not isinstance(node.get(part), dict):
                here = ".".join(parts[:depth])
                options = [k for k, v in node.items() if isinstance(v, dict)]
                where = f"[{here}] has no section {part!r}" if here else f"no [{part}] section"
                raise ConfigError(
                    f"--{dotted}: the config has {where}, so there is nothing to override."
                    + did_you_mean(part, options)
                )
            node = node[part]
        if key in node or key in ((sections or {}).get(".".join(parts)) or ()):
            continue
        func = _block_function(node)
        params = _parameters(func) if func is not None else []
        if params is None or key in params:
            continue  # a parameter the config leaves at its default
        section = ".".join(parts)
        raise ConfigError(
            f"--{dotted}: [{section}] has no setting {key!r}."
            + did_you_mean(key, [k for k in node if not k.startswith("@")] + params)
        )


def walk_blocks(node: Dict[str, Any], prefix: str = "") -> Iterator[Tuple[str, Dict[str, Any]]]:
    """Every section of a config (nested dicts) as (dotted path, section)."""
    for key, value in node.items():
        if isinstance(value, dict):
            path = f"{prefix}.{key}" if prefix else key
            yield path, value
            yield from walk_blocks(value, path)


def walk_settings(node: Dict[str, Any], prefix: str = "") -> Iterator[Tuple[str, str, Any]]:
    """Every setting of a config as (dotted section path, key, value)."""
    for key, value in node.items():
        if isinstance(value, dict):
            yield from walk_settings(value, f"{prefix}.{key}" if prefix else key)
        else:
            yield prefix, key, value


def _unknown_key(section: str, key: str, keys: Tuple[str, ...]) -> str:
    message = f"[{section}] {key} is not a setting of [{section}]." + did_you_mean(key, keys)
    message += f" [{section}] takes {', '.join(keys)}"
    if section == "paths":
        message += " (and paths the config refers to as ${paths.NAME})"
    return message + "."


def _references(config: Dict[str, Any]) -> Set[str]:
    """Every ``${a.b}`` the config's values refer to, as "a.b" and "a"."""
    found: Set[str] = set()
    for _, _, value in walk_settings(config):
        for item in value if isinstance(value, (list, tuple)) else [value]:
            if isinstance(item, str):
                for ref in _REFERENCE.findall(item):
                    parts = ref.strip().split(".")
                    found.update(".".join(parts[: i + 1]) for i in range(len(parts)))
    return found


def _used_elsewhere(config: Dict[str, Any], section: str, references: Set[str]) -> Set[str]:
    """Keys of a plain section other settings use: referenced as ``${section.key}``
    or, for [paths] in an interpolated config, a path another setting holds."""
    used = {ref.split(".", 1)[1] for ref in references if ref.startswith(f"{section}.")}
    if section == "paths":
        own = config.get("paths", {})
        values = [v for p, _, v in walk_settings(config) if p != "paths" and isinstance(v, str)]
        used.update(k for k, v in own.items() if isinstance(v, str) and v in values)
    return used


def _constructor_key(block: Dict[str, Any]) -> str:
    return next(k for k in block if k.startswith("@"))


def _block_function(block: Dict[str, Any]) -> Any:
    """The function a registered-function block names (None for plain sections);
    an unknown name raises the registry's error (with its suggestions)."""
    from .registry import registry

    refs = [k for k in block if isinstance(k, str) and k.startswith("@")]
    if len(refs) != 1:
        return None
    name = block[refs[0]]
    if not isinstance(name, str) or "${" in name:
        return None  # a reference, checked once interpolated
    return registry.get(refs[0][1:], name)


def _parameters(func: Any) -> Optional[List[str]]:
    """The keyword parameters of a function, or None when it takes ``**kwargs``."""
    try:
        signature = inspect.signature(func)
    except (TypeError, ValueError):
        return None
    params = []
    for param in signature.parameters.values():
        if param.kind == param.VAR_KEYWORD:
            return None
        if param.kind != param.VAR_POSITIONAL:
            params.append(param.name)
    return params


def config_literal(value: Any) -> str:
    """A value as a config file writes it (null, true, 0.1, "text", {...})."""
    return json.dumps(value)
