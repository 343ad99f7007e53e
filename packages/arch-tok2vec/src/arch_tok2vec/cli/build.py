"""``archs build``: resolve a config, initialize its model on sample docs and
print the tree, dims and parameter count."""

from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

from .common import (
    CommandError,
    get_path,
    load_config,
    parse_overrides,
    print_table,
    resolve_block,
)

SAMPLE_LABELS = 3
"""How many labels ``initialize_on_samples`` makes up for models that learn their
output width from the labels."""


def add_parsers(sub: Any) -> None:
    """Add ``build`` to the ``archs`` sub-command parsers."""
    p_build = sub.add_parser(
        "build",
        help="resolve a config, initialize the model on sample docs, print its tree",
        description="Extra options --section.key VALUE override config settings.",
    )
    p_build.add_argument("config", type=Path, help="a config file (thinc/spaCy format)")
    p_build.add_argument(
        "--section", default=None, help="the block holding the model (default: [model])"
    )
    p_build.add_argument(
        "--summary",
        action="store_true",
        help="one line (name, nodes, parameters, output) instead of the tree",
    )
    p_build.set_defaults(
        run=lambda args, extra: cmd_build(
            args.config, args.section, parse_overrides(extra), summary=args.summary
        ),
        overrides=True,
    )


def cmd_build(
    path: Path, section: Optional[str], overrides: Dict[str, Any], summary: bool = False
) -> int:
    from thinc.api import Model

    from ..memory import BYTES_TO_BUILD, ModelTooLargeError, check_memory, shim_weights

    config = load_config(path, overrides)
    section, model = resolve_block(config, section)
    if not isinstance(model, Model):
        raise CommandError(f"[{section}] does not build a thinc Model (got {type(model).__name__})")
    try:
        check_memory(model, config, bytes_per_weight=BYTES_TO_BUILD, purpose="initialize")
    except ModelTooLargeError as err:
        raise CommandError(str(err)) from None
    X, described = initialize_on_samples(model)
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
            held = shim_weights(shim)
            if held:
                n_params += held
                shapes.append(f"{type(shim).__name__}: {held:,} weights")
        rows.append((f"#{i}", _short(node.name), dims, " ".join(shapes)))
    output = _describe_data(model.predict(X))
    if summary:
        block = get_path(config, section) or {}
        made_by = next((v for k, v in block.items() if k.startswith("@")), _short(model.name))
        print(
            f"{path.name}: {made_by}, {len(rows)} nodes, {n_params:,} parameters; output {output}"
        )
        return 0
    print(f"[{section}] {model.name[:70]}")
    print(f"initialized on {described}")
    print()
    print_table(("node", "name", "dims", "params"), rows)
    print()
    print(f"{len(rows)} nodes, {n_params:,} parameters")
    print(f"output: {output}")
    return 0


def initialize_on_samples(model: Any) -> Tuple[Any, str]:
    """Initialize a model on the sample docs (with made-up labels for models
    whose output width is learned from them), or on random token vectors for
    encoders that take arrays; returns the input used and a description."""
    import numpy

    from ..samples import sample_docs

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
