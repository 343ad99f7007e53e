"""Release one package of the monorepo, locally: ``nox -s release -- PACKAGE PART``.

    python tools/release.py arch-textcat patch [--date YYYY-MM-DD] [--dist DIR]

PART is major, minor or patch. Before changing anything it refuses, saying what to do, when
the package's ``## Unreleased`` changelog section is empty, when another package's range on it
would not admit the new version, when the package breaks a rule of check_versions, when the
checkout has uncommitted changes, or when the tag exists. Then it bumps the version with
``hatch version PART``, moves the Unreleased entries under ``## X.Y.Z - DATE``, builds the
wheel and sdist into dist/, validates them (twine check, name and version, entry points,
py.typed), installs the wheel alone into a clean venv (the monorepo packages it requires from
the tree) and runs the package's tests against it, commits "Release NAME X.Y.Z" and tags
``NAME-vX.Y.Z``. A failure before the commit restores the two edited files. Nothing is
uploaded: the upload command is printed. Needs hatch, build and twine (the nox session
installs them).
"""

import argparse
import configparser
import datetime
import email.parser
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Sequence

from check_versions import check_versions
from monorepo import (
    ROOT,
    Package,
    ReleaseError,
    dirty,
    discover,
    git,
    internal_requirements,
    read_changelog,
    tag_name,
    tags,
    with_release,
)
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

PARTS = ("major", "minor", "patch")
# Packages pip must take from the machine's local wheels rather than resolve freely.
PINS = ("torch==2.13.0",)


def bump(version: Version, part: str) -> Version:
    """The next version: ``major`` 1.2.3 -> 2.0.0, ``minor`` -> 1.3.0, ``patch`` -> 1.2.4."""
    if part not in PARTS:
        raise ReleaseError(f"PART must be one of {', '.join(PARTS)}, not {part!r}")
    if version.pre or version.post is not None or version.dev is not None or version.local:
        raise ReleaseError(
            f"version {version} is not a plain X.Y.Z release; set the next version by hand"
        )
    major, minor, patch = (list(version.release) + [0, 0])[:3]
    if part == "major":
        return Version(f"{major + 1}.0.0")
    if part == "minor":
        return Version(f"{major}.{minor + 1}.0")
    return Version(f"{major}.{minor}.{patch + 1}")


def suggest(requirement: Requirement, new: Version) -> str:
    """A range like ``requirement`` whose upper bound admits ``new`` (lower bounds kept)."""
    upper = f"{new.major}.{new.minor + 1}.0" if new.major == 0 else f"{new.major + 1}.0.0"
    kept = [str(s) for s in requirement.specifier if s.operator in (">=", ">")]
    return f"{requirement.name}{','.join(kept + ['<' + upper])}"


@dataclass
class Plan:
    """A release that passed every check; nothing changed yet."""

    package: Package
    current: Version
    new: Version
    date: str
    tag: str


def plan(root: Path, name: str, part: str, date: Optional[str] = None) -> Plan:
    """Check that ``name`` can be released as its next ``part`` version; ReleaseError listing
    every problem and what to do about it otherwise. Changes nothing."""
    packages = discover(root)
    key = canonicalize_name(name)
    if key not in packages:
        raise ReleaseError(f"no package {name!r}; the packages are: {', '.join(packages)}")
    package = packages[key]
    current = package.version()
    new = bump(current, part)
    when = date or datetime.date.today().isoformat()
    try:
        datetime.date.fromisoformat(when)
    except ValueError:
        raise ReleaseError(f"--date {when!r} is not YYYY-MM-DD") from None
    where = f"{package.folder}/CHANGELOG.md"
    problems = list(check_versions(package, root))
    if not problems:
        changelog = read_changelog(package.changelog, where)
        if not changelog.unreleased():
            problems.append(
                f"{where}: nothing under '## Unreleased'. Describe what changed in {package.name} "
                f"since {current} there (one '- ' line per change), commit, and run the release "
                "again."
            )
    for requires in internal_requirements(packages):
        if requires.target == key and not requires.requirement.specifier.contains(new, True):
            problems.append(
                f"{requires.where}: {requires.source} requires {requires.text()!r}, which does "
                f"not admit {package.name} {new}. Update that range first (for example to "
                f"{suggest(requires.requirement, new)!r} once {requires.source}'s tests pass "
                f"against {new}; add an Unreleased entry to {requires.source}'s changelog), "
                "commit, and run the release again."
            )
        if requires.source == key:
            target = packages[requires.target]
            if not requires.requirement.specifier.contains(target.version(), True):
                problems.append(
                    f"{requires.where}: {package.name} requires {requires.text()!r}, which does "
                    f"not admit {target.name} {target.version()} (the tree's); update it first."
                )
    tag = tag_name(package.name, str(new))
    if any(existing == tag for _, existing in tags(root, package.name)):
        problems.append(f"git tag {tag} exists already")
    changes = dirty(root)
    if changes:
        shown = "; ".join(line.strip() for line in changes[:5])
        problems.append(
            f"the checkout has uncommitted changes ({shown}{' ...' if len(changes) > 5 else ''}): "
            "commit or stash them, so the release commit and tag hold exactly what was tested"
        )
    identity = subprocess.run(["git", "var", "GIT_COMMITTER_IDENT"], cwd=root, capture_output=True)
    if identity.returncode != 0:
        problems.append("git has no user.name/user.email here: set them to commit the release")
    if problems:
        raise ReleaseError(
            f"refusing to release {package.name} {new}; nothing was changed:\n"
            + "\n".join(f"  - {problem}" for problem in problems)
        )
    return Plan(package, current, new, when, tag)


# -- tools ---------------------------------------------------------------------------------


def _tool(name: str) -> str:
    beside = Path(sys.executable).parent / name
    found = str(beside) if beside.exists() else shutil.which(name)
    if not found:
        raise ReleaseError(f"{name} is not installed; run the release through `nox -s release`")
    return found


def _outside_venv() -> Dict[str, str]:
    """The environment without the variables that point tools at the running (nox) venv."""
    skip = ("VIRTUAL_ENV", "UV_PYTHON", "UV_PROJECT_ENVIRONMENT", "PYTHONPATH", "PYTHONHOME")
    return {k: v for k, v in os.environ.items() if k not in skip}


def _run(
    args: Sequence[str], cwd: Path, env: Optional[Dict[str, str]] = None, capture: bool = False
) -> str:
    """Run a command, showing it; its output is shown as it comes, or returned (``capture``)."""
    print("$", " ".join(str(a) for a in args), flush=True)
    pipe = subprocess.PIPE if capture else None
    done = subprocess.run(list(args), cwd=cwd, env=env, stdout=pipe, stderr=pipe, text=True)
    if done.returncode != 0:
        print(done.stdout or "", done.stderr or "", end="")
        raise ReleaseError(f"{Path(args[0]).name} {' '.join(args[1:3])} ... failed")
    return done.stdout or ""


# -- validation ----------------------------------------------------------------------------


def _metadata(text: str, artifact: Path, package: Package, version: Version) -> List[str]:
    message = email.parser.Parser().parsestr(text)
    problems = []
    if canonicalize_name(message.get("Name", "")) != package.name:
        problems.append(f"{artifact.name}: metadata name {message.get('Name')!r}")
    if Version(message.get("Version", "0")) != version:
        problems.append(f"{artifact.name}: metadata version {message.get('Version')!r}")
    declared = {str(Requirement(r)) for r in package.project.get("dependencies", [])}
    shipped = {str(Requirement(r)) for r in message.get_all("Requires-Dist") or []}
    for missing in sorted(declared - shipped):
        problems.append(f"{artifact.name}: metadata lacks Requires-Dist {missing!r}")
    return problems


def check_wheel(wheel: Path, package: Package, version: Version) -> List[str]:
    """Problems of a built wheel: metadata name and version, requirements, entry points equal
    to pyproject's, py.typed shipped."""
    problems = []
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        info = [n for n in names if n.count("/") == 1 and n.split("/")[0].endswith(".dist-info")]
        folder = info[0].split("/")[0] if info else ""
        if f"{folder}/METADATA" not in names:
            return [f"{wheel.name}: no .dist-info/METADATA"]
        problems += _metadata(archive.read(f"{folder}/METADATA").decode(), wheel, package, version)
        shipped: Dict[str, Dict[str, str]] = {}
        if f"{folder}/entry_points.txt" in names:
            parser = configparser.ConfigParser(delimiters=("=",), interpolation=None)
            parser.optionxform = str  # type: ignore[assignment,method-assign]
            parser.read_string(archive.read(f"{folder}/entry_points.txt").decode())
            shipped = {s: dict(parser.items(s)) for s in parser.sections()}
        declared = package.entry_points()
        for group in sorted(set(declared) | set(shipped)):
            if declared.get(group, {}) != shipped.get(group, {}):
                problems.append(
                    f"{wheel.name}: entry points of group {group!r} differ from pyproject.toml: "
                    f"shipped {shipped.get(group, {})}, declared {declared.get(group, {})}"
                )
        if f"{package.import_name}/py.typed" not in names:
            problems.append(f"{wheel.name}: {package.import_name}/py.typed is not shipped")
    return problems


def check_sdist(sdist: Path, package: Package, version: Version) -> List[str]:
    """Problems of a built sdist: metadata name and version, py.typed and tests included."""
    problems = []
    with tarfile.open(sdist) as archive:
        names = archive.getnames()
        top = names[0].split("/")[0] if names else ""
        member = archive.extractfile(f"{top}/PKG-INFO") if f"{top}/PKG-INFO" in names else None
        if member is None:
            return [f"{sdist.name}: no PKG-INFO"]
        problems += _metadata(member.read().decode(), sdist, package, version)
        if not any(n.endswith(f"/{package.import_name}/py.typed") for n in names):
            problems.append(f"{sdist.name}: {package.import_name}/py.typed is not included")
        if f"{top}/CHANGELOG.md" not in names:
            problems.append(f"{sdist.name}: CHANGELOG.md is not included")
    return problems


# -- testing the installed wheel -----------------------------------------------------------


def test_installed(root: Path, package: Package, wheel: Path, version: Version) -> None:
    """Install ``wheel`` alone into a fresh venv (the monorepo packages it requires from the
    tree, pinned packages from local wheels) and run the package's tests against it."""
    packages = discover(root)
    siblings = [
        str(packages[r.target].path)
        for r in internal_requirements(packages)
        if r.source == package.name
    ]
    with tempfile.TemporaryDirectory(prefix=f"release-{package.name}-") as tmp:
        venv = Path(tmp) / "venv"
        _run([sys.executable, "-m", "venv", str(venv)], cwd=Path(tmp))
        python = str(venv / ("Scripts" if os.name == "nt" else "bin") / "python")
        constraints = Path(tmp) / "constraints.txt"
        constraints.write_text("\n".join(PINS) + "\n")
        env = _outside_venv()
        pip = [python, "-m", "pip", "install", "-q", "--disable-pip-version-check"]
        _run(
            [*pip, "-c", str(constraints), str(wheel), *siblings, *package.test_requirements()],
            cwd=Path(tmp),
            env=env,
        )
        module = package.import_name
        probe = (
            f"import importlib.metadata as m, sys, {module}; "
            f"print(m.version(sys.argv[1])); print({module}.__file__)"
        )
        found = _run([python, "-c", probe, package.name], Path(tmp), env, capture=True).split()
        if Version(found[0]) != version or not Path(found[1]).resolve().is_relative_to(
            venv.resolve()
        ):
            raise ReleaseError(
                f"the clean venv imports {package.import_name} {found[0]} from {found[1]}, "
                f"not {version} from the wheel"
            )
        print(f"{package.name} {found[0]} imported from {found[1]}")
        pytest = [python, "-m", "pytest", "-p", "no:cacheprovider", "--import-mode=importlib"]
        _run([*pytest, "-q", str(package.path / "tests")], cwd=Path(tmp), env=env)


# -- the release ---------------------------------------------------------------------------


def release(root: Path, name: str, part: str, date: Optional[str], dist: Path) -> int:
    """Run a whole release (see the module's docstring)."""
    todo = plan(root, name, part, date)
    package, new = todo.package, todo.new
    changelog_path = package.changelog
    originals = {
        package.version_file: package.version_file.read_text("utf8"),
        changelog_path: changelog_path.read_text("utf8"),
    }
    print(f"Releasing {package.name} {todo.current} -> {new} ({todo.date})")
    committed = False
    try:
        with tempfile.TemporaryDirectory(prefix="release-hatch-") as hatch_home:
            # hatch runs `hatchling version` in a build env it creates: kept out of ~, and
            # without nox's venv variables, which would make uv fill the nox venv instead
            env = _outside_venv()
            env.update(HATCH_DATA_DIR=hatch_home, HATCH_CACHE_DIR=hatch_home)
            _run([_tool("hatch"), "version", part], cwd=package.path, env=env)
        bumped = discover(root)[package.name].version()
        if bumped != new:
            raise ReleaseError(f"hatch set version {bumped}, expected {new}")
        changelog = read_changelog(changelog_path, f"{package.folder}/CHANGELOG.md")
        changelog_path.write_text(with_release(changelog, str(new), todo.date), "utf8")
        changed = dirty(root)
        expected = {str(p.relative_to(root)) for p in originals}
        if {line[3:] for line in changed} != expected:
            raise ReleaseError(f"the release changed more than {sorted(expected)}: {changed}")

        dist.mkdir(parents=True, exist_ok=True)
        stem = package.import_name
        wheel_name, sdist_name = f"{stem}-{new}-py3-none-any.whl", f"{stem}-{new}.tar.gz"
        for old in dist.glob(f"{stem}-{new}[-.]*"):
            old.unlink()
        _run([sys.executable, "-m", "build", "--outdir", str(dist), str(package.path)], root)
        wheels = sorted(dist.glob(f"{stem}-{new}-*.whl"))
        sdist = dist / sdist_name
        if not wheels or not sdist.exists():
            raise ReleaseError(f"build did not produce {wheel_name} and {sdist_name} in {dist}")
        wheel = wheels[0]
        _run([_tool("twine"), "check", "--strict", str(wheel), str(sdist)], root)
        problems = check_wheel(wheel, package, new) + check_sdist(sdist, package, new)
        if problems:
            raise ReleaseError("the built files are wrong:\n  - " + "\n  - ".join(problems))
        print(f"{wheel.name} and {sdist.name}: metadata, entry points and py.typed ok")

        test_installed(root, package, wheel, new)

        paths = [str(p.relative_to(root)) for p in originals]
        git(root, "add", "--", *paths)
        git(root, "commit", "-q", "-m", f"Release {package.name} {new}", "--", *paths)
        committed = True
        git(root, "tag", "-a", todo.tag, "-m", f"{package.name} {new}")
    except BaseException:
        if committed:
            print(
                f"error: the release commit was made but tag {todo.tag} was not created; "
                f"create it with `git tag -a {todo.tag} -m '{package.name} {new}'`",
                file=sys.stderr,
            )
        else:
            for path, text in originals.items():
                path.write_text(text, "utf8")
            print(
                f"error: release of {package.name} {new} stopped; "
                f"{', '.join(str(p.relative_to(root)) for p in originals)} restored, "
                "nothing committed or tagged",
                file=sys.stderr,
            )
        raise
    commit = git(root, "rev-parse", "--short", "HEAD")
    branch = git(root, "rev-parse", "--abbrev-ref", "HEAD")
    files = " ".join(_shown(p, root) for p in (wheel, sdist))
    print(
        f"\nReleased {package.name} {new} locally: commit {commit} 'Release {package.name} {new}'"
        f", tag {todo.tag}.\nNothing was uploaded. To publish, a maintainer runs:\n\n"
        f"    git push origin {branch} {todo.tag}\n"
        f"    python -m twine upload {files}\n"
    )
    return 0


def _shown(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        prog="nox -s release --", description="Release one package locally (nothing uploaded)."
    )
    parser.add_argument("package", help="a distribution under packages/, e.g. arch-textcat")
    parser.add_argument("part", choices=PARTS, help="which part of the version to bump")
    parser.add_argument("--date", help="release date, YYYY-MM-DD (default: today)")
    parser.add_argument("--dist", type=Path, help="where to build (default: dist/)")
    parser.add_argument("--root", type=Path, default=ROOT, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    try:
        dist = args.dist or args.root / "dist"
        return release(args.root, args.package, args.part, args.date, dist)
    except ReleaseError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
