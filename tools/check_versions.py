"""Version and changelog rules of the monorepo, checked by ``nox -s lint``.

    python tools/check_versions.py            check every package; exit 1 with the problems
    python tools/check_versions.py lowest     JSON: which families to test against an older
                                              release of a package they require, and where
                                              that release's tree was exported (--export DIR)

The rules, for every package under packages/:

1. Changed means noted: when a file of the package (other than CHANGELOG.md) differs from its
   last release, its changelog has an entry under ``## Unreleased``. The last release is the
   tag ``NAME-vX.Y.Z`` of the tree's version; without it (a clone that fetched no tags, or a
   version never tagged) the commit that set the version (for a package never bumped, the
   commit that added it); a package never committed has nothing to compare with.
2. Ranges hold: every requirement of a package on another package of the monorepo admits that
   package's version in the tree.
3. Versions are valid PEP 440 and never go backwards: the version in the tree is the newest
   changelog release heading, the headings go down strictly from the top, every tag's version
   has a heading, and no tag is newer than the tree.
"""

import argparse
import io
import json
import subprocess
import sys
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional

from monorepo import (
    ROOT,
    Package,
    ReleaseError,
    baseline,
    changed_files,
    discover,
    internal_requirements,
    is_git_checkout,
    read_changelog,
    tag_name,
    tags,
)
from packaging.version import Version


def check_versions(package: Package, root: Path) -> List[str]:
    """Rule 3 for one package: problems found (empty when none)."""
    where = f"{package.folder}/CHANGELOG.md"
    try:
        version = package.version()
        changelog = read_changelog(package.changelog, where)
    except ReleaseError as err:
        return [str(err)]
    problems = []
    versions = changelog.versions()
    if not versions:
        problems.append(f"{where}: no release heading '## {version} - YYYY-MM-DD'")
    elif versions[0] != version:
        line = changelog.releases[0][0] + 1
        problems.append(
            f"{where}:{line}: the newest release heading is {versions[0]} but the tree's version "
            f"of {package.name} is {version}; they must agree (release with "
            f"`nox -s release -- {package.name} PART`, which changes both)"
        )
    for (line, text, _), newer, older in zip(changelog.releases[1:], versions, versions[1:]):
        if older >= newer:
            problems.append(
                f"{where}:{line + 1}: release {text} is listed below {newer}; versions must go "
                "down strictly from the top (never backwards)"
            )
    try:
        released = tags(root, package.name)
    except ReleaseError as err:
        return problems + [str(err)]
    for tag_version, tag in released:
        if tag_version > version:
            problems.append(
                f"{package.name}: tag {tag} is newer than the tree's version {version} "
                f"({package.version_file.relative_to(root)}); versions never go backwards"
            )
        if tag_version not in versions:
            problems.append(f"{where}: tag {tag} has no '## {tag_version} - DATE' heading")
    return problems


def check_changes(package: Package, root: Path) -> List[str]:
    """Rule 1 for one package."""
    where = f"{package.folder}/CHANGELOG.md"
    try:
        changelog = read_changelog(package.changelog, where)
        last = baseline(root, package)
    except ReleaseError as err:
        return [str(err)]
    if last.commit is None or changelog.unreleased():
        return []
    changed = changed_files(root, package, last.commit)
    if not changed:
        return []
    shown = ", ".join(path[len(package.folder) + 1 :] for path in changed[:5])
    more = f" and {len(changed) - 5} more" if len(changed) > 5 else ""
    problem = (
        f"{where}: {package.name} changed since its last release ({last.described}): "
        f"{shown}{more}; describe the change under '## Unreleased'"
    )
    if not last.tagged:
        version = package.version_text
        tag = tag_name(package.name, version)
        problem += (
            f" (or, if {version} was never published and these changes belong to it, tag it "
            f"where it is: `git tag -a {tag} -m '{package.name} {version}' COMMIT`)"
        )
    return [problem]


def check_ranges(packages: Dict[str, Package], root: Path) -> List[str]:
    """Rule 2: every internal requirement admits the required package's tree version."""
    problems = []
    try:
        requirements = internal_requirements(packages)
    except ReleaseError as err:
        return [str(err)]
    for requires in requirements:
        target = packages[requires.target]
        try:
            version = target.version()
        except ReleaseError:
            continue  # reported by check_versions
        if not requires.requirement.specifier.contains(version, prereleases=True):
            problems.append(
                f"{requires.where}: {requires.source} requires {requires.text()!r}, which does "
                f"not admit {target.name} {version} (the version in the tree, "
                f"{target.version_file.relative_to(root)}); update the range"
            )
    return problems


def check(root: Path = ROOT) -> List[str]:
    """Every rule on every package of the monorepo at ``root``."""
    if not is_git_checkout(root):
        return [f"{root} is not a git checkout: cannot tell what changed since each release"]
    try:
        packages = discover(root)
    except ReleaseError as err:
        return [str(err)]
    problems = []
    for package in packages.values():
        problems += check_versions(package, root)
        problems += check_changes(package, root)
    problems += check_ranges(packages, root)
    return list(dict.fromkeys(problems))  # a missing changelog is found by two rules


# -- lowest admitted versions ------------------------------------------------------------


@dataclass
class Lowest:
    """Families whose range on ``dependency`` admits an older release than the tree's."""

    dependency: str
    version: str
    tag: str
    families: List[str]
    path: Optional[str] = None  # where the tag's tree of the dependency was exported


def lowest_versions(root: Path = ROOT) -> List[Lowest]:
    """For each internal requirement, the lowest release it admits, grouped by tag, when it
    differs from the tree. Releases are the tags, and the tree's version while untagged; a
    tagged release is its tag's tree, so a family is also tested against the release it claims
    when the tree has unreleased changes under the same version."""
    packages = discover(root)
    groups: Dict[str, Lowest] = {}
    for requires in internal_requirements(packages):
        target = packages[requires.target]
        known: Dict[Version, Optional[str]] = {v: tag for v, tag in tags(root, target.name)}
        known.setdefault(target.version(), None)
        admitted = sorted(v for v in known if requires.requirement.specifier.contains(v, True))
        if not admitted:
            raise ReleaseError(
                f"{requires.where}: {requires.text()!r} admits no version of {target.name}"
            )
        tag = known[admitted[0]]
        if tag is None or not changed_files(root, target, tag):
            continue  # the tree itself, tested by the ordinary runs
        group = groups.setdefault(tag, Lowest(target.name, str(admitted[0]), tag, []))
        if requires.source not in group.families:
            group.families.append(requires.source)
    return list(groups.values())


def export(root: Path, tag: str, folder: str, into: Path) -> Path:
    """Extract ``folder`` as it is at ``tag`` into ``into``; the extracted folder."""
    archive = subprocess.run(
        ["git", "archive", "--format=tar", tag, "--", folder],
        cwd=root,
        capture_output=True,
        check=False,
    )
    if archive.returncode != 0:
        raise ReleaseError(f"git archive {tag} {folder}: {archive.stderr.decode().strip()}")
    target = into / tag
    target.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        for member in tar.getmembers():
            if member.name.startswith("/") or ".." in Path(member.name).parts:
                raise ReleaseError(f"git archive {tag}: unsafe path {member.name}")
        if hasattr(tarfile, "data_filter"):
            tar.extractall(target, filter="data")
        else:  # pragma: no cover - Python without extraction filters
            tar.extractall(target)
    return target / folder


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", nargs="?", default="check", choices=["check", "lowest"])
    parser.add_argument("--root", type=Path, default=ROOT, help="repository root")
    parser.add_argument("--export", type=Path, help="lowest: export each tag's tree here")
    args = parser.parse_args(argv)
    if args.command == "lowest":
        try:
            found = lowest_versions(args.root)
            for lowest in found:
                if args.export:
                    folder = discover(args.root)[lowest.dependency].folder
                    lowest.path = str(export(args.root, lowest.tag, folder, args.export))
        except ReleaseError as err:
            print(f"error: {err}", file=sys.stderr)
            return 1
        print(json.dumps([lowest.__dict__ for lowest in found]))
        return 0
    problems = check(args.root)
    for problem in problems:
        print(f"error: {problem}")
    if problems:
        print(f"{len(problems)} version/changelog problem(s); see README.md, 'Releasing'")
        return 1
    count = len(discover(args.root))
    print(f"versions and changelogs of {count} packages: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
