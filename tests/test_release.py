"""The release tools (tools/check_versions.py, tools/release.py) on a small monorepo made in a
temporary folder: every version/changelog rule fails on a hand-made violation, and a release
refuses, before changing anything, when it should."""

import io
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path
from typing import Dict

import pytest

from declared import ROOT

sys.path.insert(0, str(ROOT / "tools"))

import check_versions  # noqa: E402
import monorepo  # noqa: E402
import release  # noqa: E402
from packaging.version import Version  # noqa: E402

CHANGELOG = """# Changelog

All notable changes to {name}.

## Unreleased
{unreleased}
## 0.1.0 - 2026-11-24

First release.
"""

PYPROJECT = """[build-system]
requires = ["hatchling>=1.18"]
build-backend = "hatchling.build"

[project]
name = "{name}"
dynamic = ["version"]
dependencies = [{dependencies}]

[project.optional-dependencies]
test = ["pytest>=7"]

[project.entry-points.spacy_architectures]
"{name}.Thing.v1" = "{module}.things:thing"

[tool.hatch.version]
path = "src/{module}/about.py"
"""


def git(root: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=root, check=True, capture_output=True, text=True
    ).stdout.strip()


def add_package(root: Path, name: str, dependencies: str = "", unreleased: str = "") -> Path:
    module = name.replace("-", "_")
    folder = root / "packages" / name
    (folder / "src" / module).mkdir(parents=True)
    (folder / "pyproject.toml").write_text(
        PYPROJECT.format(name=name, module=module, dependencies=dependencies)
    )
    (folder / "src" / module / "about.py").write_text('__version__ = "0.1.0"\n')
    (folder / "src" / module / "things.py").write_text("def thing():\n    return 1\n")
    (folder / "src" / module / "py.typed").write_text("")
    (folder / "CHANGELOG.md").write_text(CHANGELOG.format(name=name, unreleased=unreleased))
    return folder


def commit(root: Path, message: str = "change") -> None:
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", message)


def set_version(root: Path, name: str, version: str, heading: bool = True) -> None:
    """Set a package's version in the tree and (by default) add its changelog heading."""
    folder = root / "packages" / name
    module = name.replace("-", "_")
    (folder / "src" / module / "about.py").write_text(f'__version__ = "{version}"\n')
    if heading:
        changelog = folder / "CHANGELOG.md"
        text = changelog.read_text()
        changelog.write_text(
            text.replace("## 0.1.0", f"## {version} - 2026-11-25\n\n- More.\n\n## 0.1.0", 1)
        )


def note(root: Path, name: str, entry: str = "- Something changed.") -> None:
    changelog = root / "packages" / name / "CHANGELOG.md"
    changelog.write_text(
        changelog.read_text().replace("## Unreleased\n", f"## Unreleased\n\n{entry}\n", 1)
    )


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A monorepo with a core package and a family requiring it, committed, untagged."""
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.name", "Test")
    git(root, "config", "user.email", "test@example.invalid")
    git(root, "config", "commit.gpgsign", "false")
    git(root, "config", "tag.gpgsign", "false")
    (root / ".gitignore").write_text("dist/\n")
    add_package(root, "mini-core")
    add_package(root, "mini-fam", dependencies='"mini-core>=0.1.0,<0.2.0"')
    commit(root, "packages")
    return root


def problems(root: Path) -> str:
    return "\n".join(check_versions.check(root))


def snapshot(root: Path) -> Dict[str, str]:
    return {str(p.relative_to(root)): p.read_text() for p in (root / "packages").rglob("*.*")}


# -- the lint rules ----------------------------------------------------------------------


def test_consistent_repo_passes(repo):
    assert check_versions.check(repo) == []
    assert check_versions.main(["--root", str(repo)]) == 0


def test_change_without_changelog_entry_fails(repo):
    (repo / "packages/mini-fam/src/mini_fam/things.py").write_text("def thing():\n    return 2\n")
    found = problems(repo)  # uncommitted changes count
    assert "packages/mini-fam/CHANGELOG.md: mini-fam changed since its last release" in found
    assert "src/mini_fam/things.py" in found and "untagged" in found
    assert "git tag -a mini-fam-v0.1.0" in found
    assert "mini-core" not in found
    commit(repo)
    assert "src/mini_fam/things.py" in problems(repo)
    note(repo, "mini-fam")
    assert problems(repo) == ""


def test_untracked_file_is_a_change(repo):
    (repo / "packages/mini-core/src/mini_core/new.py").write_text("X = 1\n")
    assert "src/mini_core/new.py" in problems(repo)


def test_changelog_edit_alone_needs_no_entry(repo):
    changelog = repo / "packages/mini-core/CHANGELOG.md"
    changelog.write_text(changelog.read_text().replace("First release.", "The first release."))
    commit(repo)
    assert problems(repo) == ""


def test_changes_count_from_the_newest_tag(repo):
    (repo / "packages/mini-fam/src/mini_fam/things.py").write_text("def thing():\n    return 2\n")
    commit(repo)
    git(repo, "tag", "-a", "mini-fam-v0.1.0", "-m", "mini-fam 0.1.0")
    assert problems(repo) == ""  # the change is part of the tagged release
    (repo / "packages/mini-fam/README.md").write_text("# mini-fam\n")
    commit(repo)
    found = problems(repo)
    assert "since its last release (tag mini-fam-v0.1.0): README.md" in found
    assert "git tag -a" not in found  # tagged: the only fix is a changelog entry


def test_untagged_release_counts_from_the_commit_that_set_its_version(repo):
    """A clone without tags (CI clones only the branch): the release commit that set the
    version is the baseline, so a released package with an empty Unreleased section passes."""
    (repo / "packages/mini-core/src/mini_core/things.py").write_text("def thing():\n    return 3\n")
    set_version(repo, "mini-core", "0.1.1")  # what `nox -s release` does, minus the tag
    commit(repo, "Release mini-core 0.1.1")
    assert problems(repo) == ""
    (repo / "packages/mini-core/README.md").write_text("# mini-core\n")
    commit(repo)
    found = problems(repo)
    assert "mini-core changed since its last release (commit" in found
    assert "that set version 0.1.1 (untagged" in found and ": README.md" in found
    assert "src/mini_core/things.py" not in found  # part of the release


def test_package_never_committed_has_nothing_to_compare(repo):
    add_package(repo, "mini-new", dependencies='"mini-core>=0.1.0,<0.2.0"')
    assert problems(repo) == ""


def test_range_that_does_not_admit_the_tree_version_fails(repo):
    set_version(repo, "mini-core", "0.2.0")
    note(repo, "mini-fam")  # keep rule 1 quiet for the family
    found = problems(repo)
    assert (
        "packages/mini-fam/pyproject.toml: mini-fam requires 'mini-core>=0.1.0,<0.2.0', which "
        "does not admit mini-core 0.2.0" in found
    )
    assert check_versions.main(["--root", str(repo)]) == 1


def test_invalid_version_fails(repo):
    (repo / "packages/mini-core/src/mini_core/about.py").write_text('__version__ = "0.1.x"\n')
    note(repo, "mini-core")
    found = problems(repo)
    assert "packages/mini-core/src/mini_core/about.py: version '0.1.x' of mini-core" in found
    assert "not a valid PEP 440 version" in found


def test_invalid_changelog_version_and_heading_fail(repo):
    changelog = repo / "packages/mini-core/CHANGELOG.md"
    text = changelog.read_text()
    changelog.write_text(text.replace("## 0.1.0 - 2026-11-24", "## 0.1.0-final-x - 2026-11-24"))
    assert "packages/mini-core/CHANGELOG.md:7: '0.1.0-final-x' is not a valid" in problems(repo)
    changelog.write_text(text.replace("## 0.1.0 - 2026-11-24", "## Version 0.1.0"))
    assert "packages/mini-core/CHANGELOG.md:7: heading '## Version 0.1.0'" in problems(repo)
    changelog.write_text(text.replace("## Unreleased\n", ""))
    assert "packages/mini-core/CHANGELOG.md: no '## Unreleased' section" in problems(repo)


def test_tree_version_must_be_the_newest_heading(repo):
    set_version(repo, "mini-core", "0.1.1", heading=False)
    note(repo, "mini-core")
    found = problems(repo)
    assert "the newest release heading is 0.1.0 but the tree's version of mini-core is 0.1.1" in (
        found
    )


def test_headings_going_backwards_fail(repo):
    changelog = repo / "packages/mini-core/CHANGELOG.md"
    changelog.write_text(changelog.read_text() + "\n## 0.2.0 - 2026-11-20\n\n- Later?\n")
    assert "release 0.2.0 is listed below 0.1.0" in problems(repo)


def test_tag_newer_than_the_tree_fails(repo):
    git(repo, "tag", "mini-core-v0.3.0")
    found = problems(repo)
    assert "tag mini-core-v0.3.0 is newer than the tree's version 0.1.0" in found
    assert "tag mini-core-v0.3.0 has no '## 0.3.0 - DATE' heading" in found


def test_tag_with_invalid_version_fails(repo):
    git(repo, "tag", "mini-core-vnext")
    assert "git tag mini-core-vnext: 'next' is not a valid PEP 440 version" in problems(repo)


def test_not_a_checkout_fails(repo):
    subprocess.run(["rm", "-rf", str(repo / ".git")], check=True)
    assert "is not a git checkout" in problems(repo)


# -- lowest admitted versions ------------------------------------------------------------


def test_lowest_admitted_release_is_exported_from_its_tag(repo, tmp_path):
    assert check_versions.lowest_versions(repo) == []  # only the tree's version exists
    git(repo, "tag", "-a", "mini-core-v0.1.0", "-m", "mini-core 0.1.0")
    assert check_versions.lowest_versions(repo) == []  # the tag's tree is the tree
    # unreleased changes under the same version: the family is tested against the tag too
    (repo / "packages/mini-core/src/mini_core/things.py").write_text("def thing():\n    return 3\n")
    note(repo, "mini-core")
    commit(repo)
    (lowest,) = check_versions.lowest_versions(repo)
    assert (lowest.version, lowest.tag, lowest.families) == (
        "0.1.0",
        "mini-core-v0.1.0",
        ["mini-fam"],
    )
    set_version(repo, "mini-core", "0.1.1")
    commit(repo)
    (lowest,) = check_versions.lowest_versions(repo)
    assert (lowest.dependency, lowest.version, lowest.tag) == (
        "mini-core",
        "0.1.0",
        "mini-core-v0.1.0",
    )
    assert lowest.families == ["mini-fam"]
    folder = check_versions.export(repo, lowest.tag, "packages/mini-core", tmp_path / "out")
    assert '"0.1.0"' in (folder / "src/mini_core/about.py").read_text()
    assert (folder / "pyproject.toml").exists()
    # a range starting at the tree's version needs no extra run
    pyproject = repo / "packages/mini-fam/pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace(">=0.1.0,<0.2.0", ">=0.1.1,<0.2.0"))
    assert check_versions.lowest_versions(repo) == []


# -- release: refusals before any change ---------------------------------------------------


def test_bump_parts():
    assert str(release.bump(Version("0.1.0"), "patch")) == "0.1.1"
    assert str(release.bump(Version("0.1.3"), "minor")) == "0.2.0"
    assert str(release.bump(Version("0.9.3"), "major")) == "1.0.0"
    with pytest.raises(monorepo.ReleaseError, match="major, minor, patch"):
        release.bump(Version("0.1.0"), "micro")
    with pytest.raises(monorepo.ReleaseError, match="not a plain X.Y.Z"):
        release.bump(Version("0.2.0rc1"), "patch")


def test_changelog_entries_move_under_the_new_release(repo):
    note(repo, "mini-core", "- One.\n- Two.")
    path = repo / "packages/mini-core/CHANGELOG.md"
    text = monorepo.with_release(monorepo.read_changelog(path, "x"), "0.1.1", "2026-12-01")
    assert text == (
        "# Changelog\n\nAll notable changes to mini-core.\n\n## Unreleased\n\n"
        "## 0.1.1 - 2026-12-01\n\n- One.\n- Two.\n\n## 0.1.0 - 2026-11-24\n\nFirst release.\n"
    )


def test_release_refuses_without_unreleased_entry(repo, capsys):
    before = snapshot(repo)
    assert release.main(["mini-fam", "patch", "--root", str(repo)]) == 1
    err = capsys.readouterr().err
    assert "refusing to release mini-fam 0.1.1; nothing was changed" in err
    assert "packages/mini-fam/CHANGELOG.md: nothing under '## Unreleased'" in err
    assert "commit, and run the release again" in err
    assert snapshot(repo) == before and git(repo, "tag") == ""


def test_release_refuses_a_version_another_package_excludes(repo):
    note(repo, "mini-core")
    commit(repo)
    before = snapshot(repo)
    with pytest.raises(monorepo.ReleaseError) as caught:
        release.plan(repo, "mini-core", "minor")
    message = str(caught.value)
    assert (
        "packages/mini-fam/pyproject.toml: mini-fam requires 'mini-core>=0.1.0,<0.2.0'" in message
    )
    assert "does not admit mini-core 0.2.0" in message
    assert "'mini-core>=0.1.0,<0.3.0'" in message  # a suggested range
    assert snapshot(repo) == before
    assert release.plan(repo, "mini-core", "patch").new == Version("0.1.1")  # admitted


def test_release_refuses_uncommitted_changes_unknown_package_and_existing_tag(repo):
    note(repo, "mini-core")
    with pytest.raises(monorepo.ReleaseError, match="uncommitted changes"):
        release.plan(repo, "mini-core", "patch")
    commit(repo)
    with pytest.raises(monorepo.ReleaseError, match="no package 'mini-nope'.*mini-core, mini-fam"):
        release.plan(repo, "mini-nope", "patch")
    git(repo, "tag", "mini-core-v0.1.1")
    with pytest.raises(monorepo.ReleaseError, match="git tag mini-core-v0.1.1 exists already"):
        release.plan(repo, "mini-core", "patch")


def test_failed_release_restores_the_tree(repo, monkeypatch):
    note(repo, "mini-core")
    commit(repo)
    before = snapshot(repo)
    head = git(repo, "rev-parse", "HEAD")
    calls = []

    def fake_run(args, cwd, env=None, capture=False):
        calls.append(args)
        if "version" in args:  # what `hatch version patch` does
            (cwd / "src/mini_core/about.py").write_text('__version__ = "0.1.1"\n')
            return ""
        raise monorepo.ReleaseError("build failed")

    monkeypatch.setattr(release, "_run", fake_run)
    monkeypatch.setattr(release, "_tool", lambda name: name)
    with pytest.raises(monorepo.ReleaseError, match="build failed"):
        release.release(repo, "mini-core", "patch", "2026-12-01", repo / "dist")
    assert len(calls) == 2 and "build" in calls[1]
    assert snapshot(repo) == before
    assert git(repo, "rev-parse", "HEAD") == head and git(repo, "tag") == ""


# -- release: checks of the built files ----------------------------------------------------


def make_wheel(path: Path, version: str, entry_points: str, typed: bool = True) -> Path:
    wheel = path / f"mini_fam-{version}-py3-none-any.whl"
    info = f"mini_fam-{version}.dist-info"
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr("mini_fam/__init__.py", "")
        if typed:
            archive.writestr("mini_fam/py.typed", "")
        archive.writestr(
            f"{info}/METADATA",
            f"Metadata-Version: 2.3\nName: mini-fam\nVersion: {version}\n"
            "Requires-Dist: mini-core<0.2.0,>=0.1.0\n",
        )
        archive.writestr(f"{info}/entry_points.txt", entry_points)
    return wheel


def make_sdist(path: Path, version: str, typed: bool = True) -> Path:
    sdist = path / f"mini_fam-{version}.tar.gz"
    top = f"mini_fam-{version}"
    files = {
        f"{top}/PKG-INFO": f"Metadata-Version: 2.3\nName: mini-fam\nVersion: {version}\n"
        "Requires-Dist: mini-core<0.2.0,>=0.1.0\n",
        f"{top}/CHANGELOG.md": "# Changelog\n",
    }
    if typed:
        files[f"{top}/src/mini_fam/py.typed"] = ""
    with tarfile.open(sdist, "w:gz") as archive:
        for name, text in files.items():
            data = text.encode()
            member = tarfile.TarInfo(name)
            member.size = len(data)
            archive.addfile(member, io.BytesIO(data))
    return sdist


def test_built_files_are_checked(repo, tmp_path):
    package = monorepo.discover(repo)["mini-fam"]
    version = Version("0.1.1")
    good = "[spacy_architectures]\nmini-fam.Thing.v1 = mini_fam.things:thing\n"
    assert release.check_wheel(make_wheel(tmp_path, "0.1.1", good), package, version) == []
    assert release.check_sdist(make_sdist(tmp_path, "0.1.1"), package, version) == []

    other = tmp_path / "other"
    other.mkdir()
    wrong = "[spacy_architectures]\nmini-fam.Thing.v1 = mini_fam.things:other\n"
    found = "\n".join(
        release.check_wheel(make_wheel(other, "0.1.1", wrong, False), package, version)
    )
    assert "entry points of group 'spacy_architectures' differ from pyproject.toml" in found
    assert "mini_fam/py.typed is not shipped" in found
    found = "\n".join(release.check_wheel(make_wheel(other, "0.1.0", good), package, version))
    assert "metadata version '0.1.0'" in found
    found = "\n".join(
        release.check_sdist(make_sdist(other, "0.1.1", typed=False), package, version)
    )
    assert "mini_fam/py.typed is not included" in found
