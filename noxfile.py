"""Sessions for the arch monorepo.

Packages are discovered from packages/*/pyproject.toml, so a new family needs no
edit here. Every family depends on arch-tok2vec, which is installed from the
local tree beside it.

    nox -s tests       each package alone in a fresh venv, with its own tests
    nox -s combined    every package together, all tests plus the cross-package ones
    nox -s lint        ruff and mypy (with thinc's plugin)
    nox -s build       a wheel and sdist per package, each installed alone in a clean venv
    nox -s demo        the main job: list the architectures and build an example model
"""

import os
import sys
from pathlib import Path

import nox

ROOT = Path(__file__).parent
PACKAGES = sorted(p.parent.name for p in (ROOT / "packages").glob("*/pyproject.toml"))
CORE = "arch-tok2vec"
PYTHON = f"{sys.version_info.major}.{sys.version_info.minor}"

nox.options.default_venv_backend = "uv|virtualenv"
nox.options.sessions = ["tests", "combined", "lint", "build"]
nox.options.error_on_missing_interpreters = True


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
    session.install(*fresh, *targets)


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


@nox.session(python=PYTHON)
@nox.parametrize("package", PACKAGES)
def tests(session: nox.Session, package: str) -> None:
    """One package alone: it and arch-tok2vec installed, its own tests run."""
    _install(session, [package])
    _pytest(session, _pkg(package) + "/tests")


@nox.session(python=PYTHON)
def combined(session: nox.Session) -> None:
    """Every package installed together; all tests and the cross-package ones."""
    _install(session, PACKAGES)
    paths = [_pkg(p) + "/tests" for p in PACKAGES] + [str(ROOT / "tests")]
    _pytest(session, *paths)


@nox.session(python=PYTHON)
def lint(session: nox.Session) -> None:
    """ruff (lint and format check) and mypy with thinc's plugin, all packages."""
    _install(session, PACKAGES)
    session.install("ruff>=0.6", "mypy>=1.10")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    sources = [_pkg(p) + "/src" for p in PACKAGES]
    session.run("mypy", *sources)


@nox.session(python=PYTHON)
def build(session: nox.Session) -> None:
    """Build each package's wheel and sdist; install each alone into a clean venv."""
    session.install("build")
    dist = Path(session.create_tmp()) / "dist"
    session.run("rm", "-rf", str(dist), external=True)
    for package in PACKAGES:
        session.run("python", "-m", "build", "--outdir", str(dist), _pkg(package))
    for package in PACKAGES:
        stem = package.replace("-", "_")
        for kind, pattern in (("wheel", f"{stem}-*.whl"), ("sdist", f"{stem}-*.tar.gz")):
            artifact = next(dist.glob(pattern))
            _check_alone(session, package, kind, artifact, dist)


def _check_alone(session: nox.Session, package: str, kind: str, artifact: Path, dist: Path):
    """Install one built artifact into a fresh venv (arch siblings only from
    ``dist``), then run ``archs list`` and check its entry points from there."""
    venv = Path(session.create_tmp()) / f"venv-{package}-{kind}"
    session.run("rm", "-rf", str(venv), external=True)
    session.run(sys.executable, "-m", "venv", str(venv), external=True)
    bin_dir = venv / ("Scripts" if os.name == "nt" else "bin")
    python = str(bin_dir / "python")
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
def demo(session: nox.Session) -> None:
    """The main job: list what is installed, build the example models, then train
    every config in configs/ on its task's sample corpus, print the scores and
    save the models (under .nox/demo/tmp/models, emptied first)."""
    _install(session, PACKAGES, extras="")
    session.run("archs", "list")
    for config in sorted((ROOT / "docs" / "examples").glob("*.cfg")):
        session.run("archs", "build", str(config))
    models = Path(session.create_tmp()) / "models"
    session.run("rm", "-rf", str(models), external=True)
    for config in sorted((ROOT / "configs").glob("*.cfg")):
        output = models / config.stem
        session.run("archs", "train", str(config), "--output", str(output))
        session.run(
            "python",
            "-c",
            "import sys, arch_tok2vec; model = arch_tok2vec.load(sys.argv[1]); "
            "print(sys.argv[1], model.meta['scores']); "
            "print(model(['The storm closed the old bridge on Monday.']))",
            str(output / "model-best"),
        )
