"""The registries a saved model's config may name: ``[task]`` and ``[model]`` are the
only blocks built on load, and they may reference only functions that build models,
layers, initial weights and span getters, never readers, assets or anything else that
could touch files or the network.
"""

from typing import Any, Iterator, List, Tuple

from .model_file_error import ModelFileError

ROOT_REGISTRIES = {"task": ("tasks",), "model": ("architectures", "layers")}
"""The registries the root of each block resolved on load may name."""
NESTED_REGISTRIES = ("architectures", "layers", "initializers", "span_getters")
"""The registries the blocks nested in [task] and [model] may name: functions that
build models, layers, initial weights and span getters. Nothing else (no readers,
no assets such as spacy.KBFromFile.v1, no vectors loaders) is resolved from a
loaded model's config."""


def references(node: Any, block: str) -> Iterator[Tuple[str, str, Any]]:
    """Every ``@registry = name`` reference in a config block and the blocks (and
    inline values) nested in it, as (block, registry, name).

    node: The block (a dict), as parsed.
    block: Its dotted name, e.g. "model".
    """
    if isinstance(node, dict):
        for key, value in node.items():
            if isinstance(key, str) and key.startswith("@"):
                yield block, key[1:], value
        for key, value in node.items():
            if isinstance(value, (dict, list)):
                yield from references(value, f"{block}.{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from references(value, f"{block}[{i}]")


def disallowed_references(config: Any) -> List[Tuple[str, str]]:
    """The references of [task] and [model] that a saved model may not make, as
    (block, what is wrong); also a missing [task] or [model] block.

    config: The parsed (interpolated) training config.
    """
    found: List[Tuple[str, str]] = []
    for root, allowed_at_root in ROOT_REGISTRIES.items():
        node = config.get(root) if isinstance(config, dict) else None
        if not isinstance(node, dict):
            found.append((root, f"there is no [{root}] block"))
            continue
        if not any(isinstance(key, str) and key.startswith("@") for key in node):
            names = " or ".join(f"@{name}" for name in allowed_at_root)
            found.append((root, f"[{root}] must name a registered function ({names})"))
        for block, registry_name, name in references(node, root):
            allowed = allowed_at_root if block == root else NESTED_REGISTRIES
            if registry_name not in allowed or not isinstance(name, str):
                listed = ", ".join(f"@{r}" for r in allowed)
                found.append(
                    (
                        block,
                        f"@{registry_name} = {name!r} is not allowed in a model folder "
                        f"(here only {listed}: a loaded model runs no reader, asset or "
                        "other function that could touch files or the network)",
                    )
                )
    return found


def check_config(config: Any, path: Any) -> None:
    """Refuse a loaded config whose [task] or [model] names registries other than
    the allowed ones (ModelFileError naming ``path`` and the block).

    config: The parsed config.
    path: The config.cfg it was read from.
    """
    for block, message in disallowed_references(config):
        raise ModelFileError(path, message, block=block)
