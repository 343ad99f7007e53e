"""Refuse a model whose weights would not fit in memory, before they are allocated.

A layer's weights are allocated by its ``initialize``, with shapes computed from
its dims (``hashembed``: an (nV, nO) table; ``maxout``: (nO, nP, nI) ...). Most
dims are known once the model is built from its config, so the weights a model
will hold can be counted before ``initialize`` runs; ``LAYER_WEIGHTS`` says, for
each layer the architectures use, which dims multiply into each of its weight
arrays. A layer not listed counts as its largest dim (never more than it holds),
and dims still unknown before ``initialize`` (the number of labels, inferred
input widths) count as nothing, so the count is a lower bound.

The error names the config settings that make the largest layer big: the
settings whose value is one of its dims.
"""

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

from thinc.api import Model

from .settings import walk_settings

_DENSE = (("nO", "nI"), ("nO",))

LAYER_WEIGHTS: Dict[str, Tuple[Tuple[str, ...], ...]] = {
    "hashembed": (("nV", "nO"),),
    "embed": (("nV", "nO"),),
    "maxout": (("nO", "nP", "nI"), ("nO", "nP")),
    "linear": _DENSE,
    "softmax": _DENSE,
    "mish": _DENSE,
    "relu": _DENSE,
    "dish": _DENSE,
    "gelu": _DENSE,
    "swish": _DENSE,
    "hard_swish": _DENSE,
    "hard_swish_mobilenet": _DENSE,
    "sigmoid": _DENSE,
    "layernorm": (("nI",), ("nI",)),
    "para-attn": (("nO",),),
    "sparse_linear": (("nO", "length"), ("nO",)),
    "lstm": (("depth", "dirs", "nO", "nI"),),
    "static_vectors": (("nO", "nM"),),
    "charembed": (("nC", "nV", "nM"),),
    "precomputable_affine": (("nF", "nO", "nP", "nI"), ("nO", "nP"), ("nF", "nO", "nP")),
}
"""For each layer (by its thinc name): the dims whose product is the size of each
weight array its ``initialize`` allocates."""

BYTES_TO_TRAIN = 16
"""Bytes per weight while training: the float32 weights, their gradients and
Adam's two moment estimates."""

BYTES_TO_BUILD = 12
"""Bytes per weight while initializing: the float32 weights and the float64 draw
thinc's initializers make before converting."""


@dataclass
class LayerWeights:
    """The weights one layer will allocate."""

    node: Model
    weights: int
    dims: Dict[str, int]


class ModelTooLargeError(ValueError):
    """The model's weights would not fit in memory; the message names the settings."""


def count_weights(model: Model) -> List[LayerWeights]:
    """The weights each layer of ``model`` will allocate at ``initialize`` (a lower
    bound; layers whose weights are already set, or that have none, are left out)."""
    found = []
    for node in model.walk():
        unset = [name for name in node.param_names if not node.has_param(name)]
        if not unset:
            continue
        dims = {name: _dim(node, name) for name in node.dim_names}
        known = {name: value for name, value in dims.items() if value}
        formula = LAYER_WEIGHTS.get(node.name)
        if formula is None:
            weights = max(known.values(), default=0)
        else:
            weights = sum(_product(known, names) for names in formula)
        if weights:
            found.append(LayerWeights(node, weights, known))
    return found


def weights_held(model: Model) -> int:
    """The number of weights ``model`` holds now: the parameters its layers have set,
    and those of the models its shims wrap (e.g. a PyTorch module)."""
    total = 0
    for node in model.walk():
        total += sum(
            int(node.get_param(name).size) for name in node.param_names if node.has_param(name)
        )
        total += sum(shim_weights(shim) for shim in node.shims)
    return total


def shim_weights(shim: Any) -> int:
    """The number of weights a shim's wrapped model (e.g. a PyTorch module) holds."""
    parameters = getattr(getattr(shim, "_model", None), "parameters", None)
    if not callable(parameters):
        return 0
    return sum(int(weights.numel()) for weights in parameters())


def available_memory() -> Optional[int]:
    """Bytes of memory this process can still use: the kernel's MemAvailable,
    capped by a cgroup limit; total physical memory where neither is readable;
    None when nothing is known."""
    limits = []
    meminfo = _read("/proc/meminfo")
    for line in meminfo.splitlines():
        if line.startswith("MemAvailable:"):
            limits.append(int(line.split()[1]) * 1024)
    cgroup_max, cgroup_now = (
        _read("/sys/fs/cgroup/memory.max"),
        _read("/sys/fs/cgroup/memory.current"),
    )
    if cgroup_max.strip().isdigit() and cgroup_now.strip().isdigit():
        limits.append(max(int(cgroup_max) - int(cgroup_now), 0))
    if not limits:
        try:
            limits.append(os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
        except (AttributeError, ValueError, OSError):
            return None
    return min(limits)


def check_memory(
    model: Model,
    config: Dict[str, Any],
    *,
    bytes_per_weight: int = BYTES_TO_TRAIN,
    available: Optional[int] = None,
    purpose: str = "train",
) -> None:
    """Raise ModelTooLargeError, before anything is allocated, when the model's
    weights would not fit in memory.

    model: The model as built from its config, not yet initialized.
    config: The config it was built from, to name the settings that make it big.
    bytes_per_weight: Memory each weight takes while doing ``purpose``.
    available: Bytes of memory to allow (default: what ``available_memory`` says).
    purpose: What the memory is for, in the message ("train", "initialize").
    """
    if available is None:
        available = available_memory()
    layers = count_weights(model)
    total = sum(layer.weights for layer in layers)
    if available is None or total * bytes_per_weight <= available:
        return
    largest = max(layers, key=lambda layer: layer.weights)
    shape = ", ".join(f"{name}={value}" for name, value in largest.dims.items())
    raise ModelTooLargeError(
        f"the model is too large: it would hold at least {total:,} weights, which need about "
        f"{format_bytes(total * bytes_per_weight)} to {purpose}, and "
        f"{format_bytes(available)} of memory is available. "
        f"Its largest layer, {largest.node.name} ({shape}), holds {largest.weights:,}; "
        f"{_culprits(config, largest.dims)}"
    )


def format_bytes(n: int) -> str:
    """A byte count for people: 14.6 TiB, 512.0 MiB."""
    value = float(n)
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"):
        if value < 1024 or unit == "EiB":
            return f"{value:.1f} {unit}" if unit != "bytes" else f"{n} bytes"
        value /= 1024
    return f"{n} bytes"  # pragma: no cover


def _culprits(config: Dict[str, Any], dims: Dict[str, int]) -> str:
    """The settings whose value is the largest of the layer's dims that a setting
    holds (so width = 1000000000 is named, not maxout_pieces = 3)."""
    settings = list(_int_settings(config))
    for value in sorted(set(dims.values()), reverse=True):
        named = [where for where, v in settings if v == value]
        if named:
            return f"its size comes from {', '.join(named)}: make that smaller."
    return "its size comes from the model's settings: make the widths and table sizes smaller."


def _int_settings(config: Dict[str, Any]) -> Sequence[Tuple[str, int]]:
    out = []
    for path, key, value in walk_settings(config):
        values = value if isinstance(value, (list, tuple)) else [value]
        for i, item in enumerate(values):
            if isinstance(item, int) and not isinstance(item, bool):
                index = f"[{i}]" if isinstance(value, (list, tuple)) else ""
                out.append((f"[{path}] {key}{index} = {item}", item))
    return out


def _dim(node: Model, name: str) -> int:
    value = node.maybe_get_dim(name)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        return 0
    return value


def _product(dims: Dict[str, int], names: Sequence[str]) -> int:
    if any(name not in dims for name in names):
        return 0  # a dim inferred at initialize: not counted
    result = 1
    for name in names:
        result *= dims[name]
    return result


def _read(path: str) -> str:
    try:
        return Path(path).read_text()
    except OSError:
        return ""
