"""Helpers for the spaCy compatibility tests (run in a venv with spaCy and arch).

Nothing here imports an arch package at module level: the discovery test checks
that spaCy finds our functions without any import of ours.

Families: every arch distribution with names in spaCy's groups has a module in
``families/`` (``families/tagger.py`` ...) that states what spaCy's own provider
of each name is, which configs spaCy's builder cannot build and why, which
inputs the models take, and the pipelines and training runs that exercise it.
Adding a family = dropping a module there (see ``families/README.md``).
"""

import contextlib
import importlib
import importlib.metadata
import importlib.util
import re
from pathlib import Path
from types import ModuleType
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple

import numpy

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
FAMILY_DIR = HERE / "families"

SPACY_VERSION = "3.8.18"
"""The spaCy version these tests verify (the README names it)."""

REPORT: List[str] = []
"""Lines printed at the end of the test run (conftest.pytest_terminal_summary)."""

PENDING = {
    # Not pending work: the parser's model hands spaCy its step model rather than an array,
    # so the generic parity/pipeline framework does not fit it. Items 1-6 for it live in
    # test_parser_in_spacy.py (discovery, spaCy's parser/ner components driving our model,
    # same numbers as spaCy's model and as our runtime), test_parser_pipelines.py (pipelines
    # saved without arch) and test_parser_train.py (spacy train).
    "arch-parser": "covered by test_parser_in_spacy.py, test_parser_pipelines.py and "
    "test_parser_train.py",
}
"""Arch distributions that exist (or will) but whose compatibility module is not
written yet. An installed distribution that is neither covered by a family module
nor listed here fails the tests; so does one listed here that has a module."""

SPACY_GROUP_PREFIXES = ("spacy_", "thinc_")
"""Entry-point groups that spaCy reads (spaCy's registries and thinc's)."""


# --------------------------------------------------------------------------
# families


def families() -> Dict[str, ModuleType]:
    """Every family module in families/, keyed by the distribution it covers."""
    out: Dict[str, ModuleType] = {}
    for path in sorted(FAMILY_DIR.glob("*.py")):
        spec = importlib.util.spec_from_file_location(f"spacy_compat_family_{path.stem}", path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        out[module.DIST] = module
    return out


def family_of(name: str) -> Optional[ModuleType]:
    """The family module whose distribution declares ``name``, if any."""
    dist = {n: d for d, _, n, _ in arch_entry_points()}.get(name)
    return families().get(dist) if dist else None


# --------------------------------------------------------------------------
# entry points, read from the installed distributions' metadata


def arch_entry_points() -> List[Tuple[str, str, str, str]]:
    """(distribution, group, name, target) for every entry point of an installed arch-*."""
    rows = set()
    for dist in importlib.metadata.distributions():
        dist_name = dist.metadata["Name"] or ""
        if dist_name.startswith("arch-"):
            for ep in dist.entry_points:
                rows.add((dist_name, ep.group, ep.name, ep.value))
    return sorted(rows)


def spacy_entry_points() -> List[Tuple[str, str, str, str]]:
    """Our entry points in the groups spaCy reads."""
    return [row for row in arch_entry_points() if row[1].startswith(SPACY_GROUP_PREFIXES)]


def registry_name(group: str) -> str:
    """spaCy's registry name for an entry-point group (spacy_architectures -> architectures)."""
    return group.split("_", 1)[1]


class _WithoutArch:
    """catalogue's entry-point table minus the arch-* distributions."""

    def __init__(self, entry_points: Any):
        self.entry_points = entry_points

    def select(self, **kwargs: Any) -> List[Any]:
        return [
            ep
            for ep in self.entry_points.select(**kwargs)
            if not (ep.dist is not None and (ep.dist.metadata["Name"] or "").startswith("arch-"))
        ]


@contextlib.contextmanager
def without_arch() -> Iterator[None]:
    """Hide arch's entry points from catalogue (so from spaCy) inside the block.

    spacy-legacy's functions fetch their building blocks from the registry when
    they are called (``spacy.MultiHashEmbed.v1``, ``spacy.TextCatBOW.v1``, ...):
    with arch installed those would be ours, so spaCy's own models are built here.
    """
    import catalogue

    saved = catalogue.AVAILABLE_ENTRY_POINTS
    catalogue.AVAILABLE_ENTRY_POINTS = _WithoutArch(saved)
    try:
        yield
    finally:
        catalogue.AVAILABLE_ENTRY_POINTS = saved


def is_ours(func: Any) -> bool:
    """Whether a function (or a functools.partial of one) is defined in an arch module."""
    func = getattr(func, "func", func)
    return (getattr(func, "__module__", None) or "").split(".")[0].startswith("arch_")


def arch_nodes(model: Any) -> List[str]:
    """Names of the nodes whose forward or init function is defined in an arch module."""
    return [
        n.name
        for n in model.walk()
        if is_ours(getattr(n, "_func", None)) or is_ours(getattr(n, "init", None))
    ]


# --------------------------------------------------------------------------
# building spaCy's model and ours from one config


class NoSpacyProvider(LookupError):
    """spaCy 3.8 (with spacy-legacy) has no function of this name."""


def import_target(target: str) -> Callable[..., Any]:
    module, attr = target.split(":")
    return getattr(importlib.import_module(module), attr)


def theirs_table() -> Dict[str, str]:
    """name -> "module:function" of spaCy's own provider, over every family."""
    table: Dict[str, str] = {}
    for family in families().values():
        table.update(family.THEIRS)
    return table


def build_theirs(config_text: str) -> Any:
    """Build spaCy's model for a config: every spaCy name is called through the
    function imported explicitly from spacy-legacy or spaCy core (THEIRS of the
    families), thinc's names through thinc's registry, with arch hidden.
    Raises NoSpacyProvider for a name spaCy does not have."""
    from thinc.api import Config

    config = Config().from_str(config_text)
    table = theirs_table()
    with without_arch():
        model = _make(config["model"], table)
    leaked = arch_nodes(model)
    assert not leaked, f"spaCy's model contains arch code: {leaked}"
    return model


def _make(value: Any, table: Dict[str, str]) -> Any:
    if isinstance(value, list):
        return [_make(v, table) for v in value]
    if not isinstance(value, dict):
        return value
    keys = [k for k in value if k.startswith("@")]
    args = {k: _make(v, table) for k, v in value.items() if not k.startswith("@")}
    if not keys:
        return args
    registry, name = keys[0][1:], value[keys[0]]
    if name in table:
        func = import_target(table[name])
    elif name.startswith(("spacy.", "arch.", "spacy-transformers.")):
        raise NoSpacyProvider(name)
    else:
        from thinc.api import registry as thinc_registry

        func = getattr(thinc_registry, registry).get(name)
    return func(**args)


def build_ours(config_text: str) -> Any:
    from thinc.api import Config

    from arch_tok2vec import registry

    overrides = {f"paths.{key}": str(path) for key, path in local_paths(config_text).items()}
    return registry.resolve(Config().from_str(config_text, overrides=overrides))["model"]


_PATHS: Dict[str, str] = {}


def local_paths(config_text: str) -> Dict[str, str]:
    """Local stand-ins for the ``${paths.X}`` a config uses, made (once per session,
    in a temporary folder) by the function a family's PATHS names for X, e.g. a tiny
    random BERT for ``${paths.transformer}``: no download, no network."""
    import tempfile

    out = {}
    for family in families().values():
        for key, target in getattr(family, "PATHS", {}).items():
            if "${paths." + key + "}" in config_text:
                if key not in _PATHS:
                    folder = Path(tempfile.mkdtemp(prefix=f"spacy-compat-{key}-"))
                    _PATHS[key] = str(import_target(target)(folder / key))
                out[key] = _PATHS[key]
    return out


def names_in(config_text: str) -> List[str]:
    """Every registered name a config refers to, top block first."""
    return re.findall(r'^@\w+\s*=\s*"([^"]+)"', config_text, flags=re.M)


# --------------------------------------------------------------------------
# inputs: the same words as spaCy Docs and as arch Docs


VECTOR_WIDTH = 6


class Inputs:
    """The same sentences as spaCy Docs and as arch_tok2vec Docs, sharing one
    static vectors table (every other distinct word has a vector)."""

    def __init__(self, words: List[List[str]]):
        import spacy
        from spacy.tokens import Doc as SpacyDoc
        from spacy.vectors import Vectors as SpacyVectors

        from arch_tok2vec import Doc, Vectors, Vocab

        distinct = sorted({w for doc in words for w in doc})[::2]
        rng = numpy.random.default_rng(3)
        data = rng.normal(0, 1, (len(distinct), VECTOR_WIDTH)).astype("float32")
        nlp = spacy.blank("en")
        nlp.vocab.vectors = SpacyVectors(strings=nlp.vocab.strings, shape=data.shape)
        for word, row in zip(distinct, data):
            nlp.vocab.set_vector(word, row)
        assert nlp.vocab.vectors.shape == data.shape
        vocab = Vocab()
        vocab.vectors = Vectors(distinct, data)
        self.words = words
        self.spacy_docs = [SpacyDoc(nlp.vocab, words=w) for w in words]
        self.arch_docs = [Doc(w, vocab=vocab) for w in words]
        n_tokens = sum(len(w) for w in words)
        self.array = numpy.random.default_rng(4).normal(0, 1, (n_tokens, 32)).astype("float32")


def random_params(model: Any, seed: int) -> None:
    """Overwrite every parameter with seeded noise (so zero-initialised layers matter)."""
    rng = numpy.random.default_rng(seed)
    for node in model.walk():
        for name in sorted(node.param_names):
            if node.has_param(name):
                shape = node.get_param(name).shape
                node.set_param(name, rng.normal(0, 0.3, shape).astype("float32"))


RTOL = 1e-6
"""Relative part of the float tolerance: a value of 15 has float32 steps of 1e-6,
so products summed in another order (numpy's BLAS vs blis, or another CPU's
kernel) may differ there by more than 1e-5 while being a few steps apart."""


def assert_same(got: Any, expected: Any, atol: float = 1e-5, what: str = "") -> None:
    """Equal outputs: exact for integer arrays, for floats within ``atol`` plus
    ``RTOL`` of the expected value (float32 rounding)."""
    from thinc.types import Ragged

    if isinstance(expected, Ragged):
        assert isinstance(got, Ragged), what
        assert_same(got.lengths, expected.lengths, atol, what + " lengths")
        assert_same(got.data, expected.data, atol, what + " data")
    elif isinstance(expected, (list, tuple)):
        assert len(got) == len(expected), what
        for i, (g, e) in enumerate(zip(got, expected)):
            assert_same(g, e, atol, f"{what}[{i}]")
    else:
        g, e = numpy.asarray(got), numpy.asarray(expected)
        assert g.shape == e.shape, f"{what}: shape {g.shape} != {e.shape}"
        if e.dtype.kind in "iu":
            numpy.testing.assert_array_equal(g, e, err_msg=what)
        else:
            numpy.testing.assert_allclose(g, e, atol=atol, rtol=RTOL, err_msg=what)


def extra_attrs() -> Dict[str, str]:
    """attr -> reason, over every family: attributes our nodes may save that spaCy's don't."""
    out: Dict[str, str] = {}
    for family in families().values():
        out.update(family.EXTRA_ATTRS)
    return out


def saved_differences(ours: bytes, theirs: bytes) -> List[str]:
    """How two ``Model.to_bytes()`` differ, ignoring the families' EXTRA_ATTRS:
    nodes (names, dims, refs), params and shims must be equal, attrs equal once
    the allowed extra attributes are removed from ours."""
    import srsly

    a, b = srsly.msgpack_loads(ours), srsly.msgpack_loads(theirs)
    out = []
    if a["nodes"] != b["nodes"]:
        out.append("nodes differ")
    allowed = extra_attrs()
    for i, (x, y) in enumerate(zip(a["attrs"], b["attrs"])):
        x = {k: v for k, v in x.items() if not (k in allowed and k not in y)}
        if x != y:
            out.append(f"attrs of node {i}: {x} != {y}")
    if len(a["params"]) != len(b["params"]):
        out.append("params differ in length")
    for i, (x, y) in enumerate(zip(a["params"], b["params"])):
        if sorted(x) != sorted(y) or any(not numpy.array_equal(x[k], y[k]) for k in x):
            out.append(f"params of node {i} differ")
    if a["shims"] != b["shims"]:
        out.append("shims differ")
    return out


def spacy_python_check() -> None:
    import spacy

    assert spacy.__version__ == SPACY_VERSION, f"spaCy {spacy.__version__} != {SPACY_VERSION}"


def run(cmd: List[str], **kwargs: Any) -> str:
    """Run a command; on failure raise with its output (the tests show it)."""
    import subprocess

    proc = subprocess.run(cmd, capture_output=True, text=True, **kwargs)
    if proc.returncode != 0:
        raise AssertionError(
            f"command failed ({proc.returncode}): {' '.join(cmd)}\n"
            f"--- stdout ---\n{proc.stdout[-6000:]}\n--- stderr ---\n{proc.stderr[-6000:]}"
        )
    return proc.stdout


def python_without_arch() -> str:
    """The Python of the venv with spaCy and spacy-legacy but no arch
    ($ARCH_SPACY_PURE_PYTHON, set by ``nox -s spacy``)."""
    import os

    path = os.environ.get("ARCH_SPACY_PURE_PYTHON")
    if not path:
        raise AssertionError(
            "ARCH_SPACY_PURE_PYTHON is not set: it must name the python of a venv with "
            f"spacy=={SPACY_VERSION} and no arch package (nox -s spacy creates one)"
        )
    return path
