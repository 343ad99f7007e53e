"""The monorepo as the release tools see it: packages, their changelogs and their git history.

Packages are found from packages/*/pyproject.toml. A package's version lives in the file named
by ``[tool.hatch.version] path``; its releases are the ``## X.Y.Z - YYYY-MM-DD`` headings of
its CHANGELOG.md and the git tags ``NAME-vX.Y.Z``.
"""

import datetime
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
UNRELEASED = "Unreleased"
# hatch's default pattern for a version in a Python file
_VERSION_LINE = re.compile(
    r"(?im)^(?P<prefix>(__version__|VERSION) *= *)(?P<quote>['\"])v?(?P<version>.+?)(?P=quote)"
)
_RELEASE_HEADING = re.compile(r"^## (?P<version>\S+) - (?P<date>\d{4}-\d{2}-\d{2})\s*$")


class ReleaseError(Exception):
    """A problem the maintainer has to fix; the message says what and where."""


@dataclass
class Requires:
    """A requirement of one package on another package of the monorepo."""

    source: str  # the requiring package
    requirement: Requirement
    where: str  # "packages/x/pyproject.toml"
    written: str  # as pyproject.toml spells it

    @property
    def target(self) -> str:
        return canonicalize_name(self.requirement.name)

    def text(self) -> str:
        return self.written


@dataclass
class Package:
    """One distribution under packages/."""

    name: str
    path: Path  # the package's folder
    version_file: Path
    version_text: str
    project: Dict = field(repr=False)

    @property
    def folder(self) -> str:
        """The folder relative to the repository root, e.g. "packages/arch-tagger"."""
        return f"packages/{self.path.name}"

    @property
    def changelog(self) -> Path:
        return self.path / "CHANGELOG.md"

    @property
    def import_name(self) -> str:
        return self.name.replace("-", "_")

    def version(self) -> Version:
        """The version in the tree (ReleaseError when it is not valid PEP 440)."""
        try:
            return Version(self.version_text)
        except InvalidVersion:
            raise ReleaseError(
                f"{self.version_file.relative_to(self.path.parents[1])}: version "
                f"{self.version_text!r} of {self.name} is not a valid PEP 440 version"
            ) from None

    def requirements(self) -> List[Tuple[str, Requirement]]:
        """Every requirement of the package (as written, parsed), optional ones included."""
        texts = list(self.project.get("dependencies", []))
        for extra in self.project.get("optional-dependencies", {}).values():
            texts.extend(extra)
        found = []
        for text in texts:
            try:
                found.append((text, Requirement(text)))
            except InvalidRequirement as err:
                raise ReleaseError(f"{self.folder}/pyproject.toml: {text!r}: {err}") from None
        return found

    def test_requirements(self) -> List[str]:
        return list(self.project.get("optional-dependencies", {}).get("test", []))

    def entry_points(self) -> Dict[str, Dict[str, str]]:
        """Declared entry points by group, console and GUI scripts included."""
        groups = {g: dict(eps) for g, eps in self.project.get("entry-points", {}).items()}
        if self.project.get("scripts"):
            groups["console_scripts"] = dict(self.project["scripts"])
        if self.project.get("gui-scripts"):
            groups["gui_scripts"] = dict(self.project["gui-scripts"])
        return groups


def discover(root: Path = ROOT) -> Dict[str, Package]:
    """Every package of the monorepo by distribution name, from packages/*/pyproject.toml."""
    packages: Dict[str, Package] = {}
    for pyproject in sorted((root / "packages").glob("*/pyproject.toml")):
        where = pyproject.relative_to(root)
        try:
            data = tomllib.loads(pyproject.read_text("utf8"))
        except tomllib.TOMLDecodeError as err:
            raise ReleaseError(f"{where}: {err}") from None
        project = data.get("project", {})
        name = project.get("name")
        if not name:
            raise ReleaseError(f"{where}: [project] has no name")
        relative = data.get("tool", {}).get("hatch", {}).get("version", {}).get("path")
        if "version" in project.get("dynamic", []) and relative:
            version_file = pyproject.parent / relative
            match = _VERSION_LINE.search(version_file.read_text("utf8"))
            if not match:
                raise ReleaseError(f"{where.parent / relative}: no __version__ = '...' line")
            version_text = match.group("version")
        elif "version" in project:
            version_file, version_text = pyproject, str(project["version"])
        else:
            raise ReleaseError(f"{where}: no [tool.hatch.version] path and no static version")
        packages[canonicalize_name(name)] = Package(
            name=canonicalize_name(name),
            path=pyproject.parent,
            version_file=version_file,
            version_text=version_text,
            project=project,
        )
    return packages


def internal_requirements(packages: Dict[str, Package]) -> List[Requires]:
    """Every requirement of a package on another package of the monorepo."""
    found = []
    for package in packages.values():
        for text, requirement in package.requirements():
            if canonicalize_name(requirement.name) in packages:
                where = f"{package.folder}/pyproject.toml"
                found.append(Requires(package.name, requirement, where, text))
    return found


# -- changelog -----------------------------------------------------------------------------


@dataclass
class Changelog:
    """A CHANGELOG.md: the ``## Unreleased`` section then ``## X.Y.Z - date`` sections."""

    path: Path
    lines: List[str]
    unreleased_line: int  # index of the "## Unreleased" heading
    releases: List[Tuple[int, str, str]]  # (line index, version text, date text)

    def unreleased(self) -> str:
        """The text of the Unreleased section, stripped."""
        end = self.releases[0][0] if self.releases else len(self.lines)
        return "\n".join(self.lines[self.unreleased_line + 1 : end]).strip()

    def versions(self) -> List[Version]:
        return [Version(version) for _, version, _ in self.releases]


def read_changelog(path: Path, where: str) -> Changelog:
    """Parse a changelog; ReleaseError naming file:line when its headings are malformed."""
    if not path.exists():
        raise ReleaseError(f"{where}: missing (each package keeps a CHANGELOG.md)")
    lines = path.read_text("utf8").splitlines()
    unreleased: Optional[int] = None
    releases: List[Tuple[int, str, str]] = []
    for index, line in enumerate(lines):
        if not line.startswith("## "):
            continue
        at = f"{where}:{index + 1}"
        if line.strip() == f"## {UNRELEASED}":
            if unreleased is not None or releases:
                raise ReleaseError(f"{at}: '## {UNRELEASED}' must come once, above every release")
            unreleased = index
            continue
        match = _RELEASE_HEADING.match(line)
        if not match:
            raise ReleaseError(
                f"{at}: heading {line.strip()!r} is neither '## {UNRELEASED}' "
                "nor '## X.Y.Z - YYYY-MM-DD'"
            )
        try:
            Version(match.group("version"))
        except InvalidVersion:
            raise ReleaseError(
                f"{at}: {match.group('version')!r} is not a valid PEP 440 version"
            ) from None
        try:
            datetime.date.fromisoformat(match.group("date"))
        except ValueError:
            raise ReleaseError(f"{at}: {match.group('date')!r} is not a date") from None
        releases.append((index, match.group("version"), match.group("date")))
    if unreleased is None:
        raise ReleaseError(f"{where}: no '## {UNRELEASED}' section (put it above the releases)")
    return Changelog(path, lines, unreleased, releases)


def with_release(changelog: Changelog, version: str, date: str) -> str:
    """The changelog's text with its Unreleased entries moved under a new release heading,
    leaving an empty Unreleased section above it."""
    body = changelog.unreleased()
    end = changelog.releases[0][0] if changelog.releases else len(changelog.lines)
    head = changelog.lines[: changelog.unreleased_line + 1]
    new = head + ["", f"## {version} - {date}", "", *body.splitlines(), ""]
    rest = changelog.lines[end:]
    return "\n".join(new + rest).rstrip("\n") + "\n"


def set_version(text: str, old: str, new: str) -> str:
    """A version file's text with its version changed (the first __version__ line)."""
    match = _VERSION_LINE.search(text)
    if not match or match.group("version") != old:
        raise ReleaseError(f"cannot find version {old!r} to replace")
    start, end = match.span("version")
    return text[:start] + new + text[end:]


# -- git -----------------------------------------------------------------------------------


def git(root: Path, *args: str, check: bool = True) -> str:
    """Run git in ``root``; its stdout without the final newline."""
    done = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True)
    if check and done.returncode != 0:
        raise ReleaseError(f"git {' '.join(args)} failed: {done.stderr.strip()}")
    return done.stdout.rstrip("\n")


def is_git_checkout(root: Path) -> bool:
    done = subprocess.run(
        ["git", "rev-parse", "--is-inside-work-tree"], cwd=root, capture_output=True, text=True
    )
    return done.returncode == 0 and done.stdout.strip() == "true"


def tag_name(package: str, version: str) -> str:
    return f"{package}-v{version}"


def tags(root: Path, package: str) -> List[Tuple[Version, str]]:
    """The release tags of a package, ``(version, tag)`` from oldest to newest; ReleaseError
    when a tag's version is not valid PEP 440."""
    prefix = f"{package}-v"
    found = []
    for tag in git(root, "tag", "--list", f"{prefix}*").splitlines():
        text = tag[len(prefix) :]
        try:
            found.append((Version(text), tag))
        except InvalidVersion:
            raise ReleaseError(f"git tag {tag}: {text!r} is not a valid PEP 440 version") from None
    return sorted(found)


@dataclass
class Baseline:
    """Where a package was last released: a tag, or (untagged) the commit that set its version."""

    commit: Optional[str]  # None: the package was never committed
    described: str
    tagged: bool = False


def baseline(root: Path, package: Package) -> Baseline:
    """The package's last release: the tag of the tree's version when it exists; otherwise
    (a clone without tags, or a version never tagged) the commit that set the version in the
    tree, which for a package never bumped is the commit that added it; None when the package
    is not committed yet (new, nothing released)."""
    found = tags(root, package.name)
    if found and found[-1][0] >= package.version():
        tag = found[-1][1]
        return Baseline(tag, f"tag {tag}", tagged=True)
    commit = version_commit(root, package)
    if commit is None:
        return Baseline(None, "never committed")
    return Baseline(
        commit,
        f"commit {commit[:10]} that set version {package.version_text} "
        "(untagged: taken as its release)",
    )


def version_commit(root: Path, package: Package) -> Optional[str]:
    """The commit that set the tree's version of the package: walking back through the
    commits of its version file, the oldest of the newest run that carries this version."""
    path = package.version_file.relative_to(root).as_posix()
    found = None
    for commit in git(root, "log", "--format=%H", "--", path).splitlines():
        if _version_in(git(root, "show", f"{commit}:{path}"), path) != package.version_text:
            break
        found = commit
    return found


def _version_in(text: str, path: str) -> Optional[str]:
    """The version a version file states (``__version__`` line, or pyproject's static one)."""
    if path.endswith("pyproject.toml"):
        try:
            version = tomllib.loads(text).get("project", {}).get("version")
        except tomllib.TOMLDecodeError:
            return None
        return None if version is None else str(version)
    match = _VERSION_LINE.search(text)
    return match.group("version") if match else None


def changed_files(root: Path, package: Package, since: str) -> List[str]:
    """Files of the package that differ from commit ``since`` in the working tree (untracked
    files included), except its CHANGELOG.md."""
    folder = package.folder
    tracked = git(root, "diff", "--name-only", since, "--", folder).splitlines()
    untracked = git(root, "ls-files", "--others", "--exclude-standard", "--", folder).splitlines()
    skip = f"{folder}/CHANGELOG.md"
    return sorted({path for path in tracked + untracked if path and path != skip})


def dirty(root: Path, paths: Sequence[str] = ()) -> List[str]:
    """Uncommitted changes (tracked or untracked, not ignored), as ``git status`` lines."""
    return git(root, "status", "--porcelain", "--", *paths).splitlines()
