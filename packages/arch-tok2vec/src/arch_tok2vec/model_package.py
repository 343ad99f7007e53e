"""``archs package``: a trained model folder becomes a Python distribution of its own,
installed with pip, versioned, and found by name (``arch_tok2vec.load("NAME")``).

The generated project, ``OUTPUT_DIR/NAME-VERSION/``::

    pyproject.toml          hatchling backend; requires the arch distributions that
                            trained the model; declares it in the arch_models group
    README.md               the model card (model_card.py)
    src/<import name>/__init__.py     MODEL_FOLDER and load()
    src/<import name>/model/          the model folder, every file its manifest lists
    dist/                   the wheel and the sdist

It is built with hatchling from the current environment (no isolated build
environment, so nothing is downloaded): hatchling is the ``package`` extra of
arch-tok2vec. The project folder appears complete or not at all, and an existing
one is replaced only when asked (``overwrite``), once the new one is built.
"""

import importlib.util
import shutil
import subprocess
import sys
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, distributions, metadata
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple, Union

from .about import __version__
from .atomic_folder import replace_folder
from .config_references import ROOT_REGISTRIES, references
from .distribution_names import (
    canonical_name,
    compatible_range,
    import_name,
    name_problem,
    version_problem,
)
from .families import FAMILIES
from .installed_models import GROUP, MODEL_FOLDER, installed_models, metadata_field
from .model_card import (
    UNSET_LICENSE,
    CardFacts,
    Evaluation,
    dev_evaluation,
    model_card,
    training_speed,
)
from .model_file_error import ModelFileError
from .model_files import CONFIG, CORE, MANIFEST, META, VerifiedFolder, read_folder
from .model_versions import release
from .pipeline import Pipeline, from_folder

HATCHLING = "pip install 'arch-tok2vec[package]'"
"""How to install what building needs."""
NOT_REQUIRED = ("python", "numpy", "thinc")
"""Versions the manifest records that are not requirements of a model's distribution
(thinc and numpy come with arch-tok2vec, in the ranges it declares)."""
DIST = "dist"
"""The folder of the project that holds the built wheel and sdist."""


class PackageError(ValueError):
    """A model that cannot be packaged as asked; the message says why and what to do."""


@dataclass
class BuiltPackage:
    """What ``package_model`` made.

    project: The generated project folder.
    wheel: The built wheel.
    sdist: The built source distribution.
    requirements: {distribution: version range} the model's distribution requires.
    card: The model card (the project's README.md).
    """

    project: Path
    wheel: Path
    sdist: Path
    requirements: Dict[str, str]
    card: str


def package_model(
    model_dir: Union[str, Path],
    output_dir: Union[str, Path],
    name: str,
    version: str,
    *,
    license: Optional[str] = None,
    test: Optional[Union[str, Path]] = None,
    overwrite: bool = False,
    log: Callable[[str], None] = print,
) -> BuiltPackage:
    """Build a wheel and an sdist of the model folder ``model_dir``.

    model_dir: A model folder (``archs train``'s model-best, or ``Pipeline.to_disk``).
        It is verified as ``arch_tok2vec.load`` verifies it, and must record dev
        scores in meta.json unless ``test`` is given.
    output_dir: Where the project folder NAME-VERSION is made (created if needed).
    name: The distribution's name, which is also the model's: ``load(name)``. A valid
        distribution name (PEP 508) not taken by an installed distribution, model or
        module.
    version: The distribution's version (PEP 440), e.g. "1.0.0".
    license: The license, an SPDX expression (e.g. "MIT"); None: left for the user
        to fill in ("other" in the card, none in the metadata).
    test: A corpus the model's task reads, scored now; the card shows the scores.
    overwrite: Replace an existing project folder NAME-VERSION (once the new one is
        built); without it, such a folder is refused before anything is done.
    log: Where progress lines go.
    Raises PackageError (a ValueError) saying what is wrong and what to do.
    """
    model_dir, output_dir = Path(model_dir), Path(output_dir)
    for problem in (name_problem(name), version_problem(version)):
        if problem is not None:
            raise PackageError(problem)
    taken = name_taken(name)
    if taken is not None:
        raise PackageError(taken)
    manifest, folder, pipeline = _verified(model_dir)
    requirements = requirements_for(folder.written_by, folder.path / MANIFEST)
    check_declared(pipeline.config, folder.path / CONFIG)
    version, license = _build_tools(version, license)
    project = output_dir / f"{name}-{version}"
    if project.exists() and not project.is_dir():
        raise PackageError(f"{project} is a file: choose another output folder")
    if project.exists() and not overwrite:
        raise PackageError(
            f"{project} already exists: nothing was replaced; give --overwrite to replace it "
            "(once the new package is built), or choose another output folder or version"
        )
    family = next((dist for dist in requirements if dist != "arch-tok2vec"), "arch-tok2vec")
    evaluations = [dev_evaluation(pipeline.meta, pipeline.config, family)]
    if not evaluations[0].scores and test is None:
        raise PackageError(
            f"{folder.path / META}: no dev scores (key 'scores'; a model saved at an "
            "interrupt is not evaluated): give --test CORPUS to score it while packaging, "
            "or package a model saved after an evaluation, such as model-best"
        )
    if test is not None:
        log(f"scoring the model on {test}")
        evaluations.append(_evaluate(pipeline, Path(test)))
    facts = CardFacts(
        name=name,
        version=version,
        pipeline=pipeline,
        files={},
        written_by=dict(folder.written_by),
        requirements=requirements,
        license=license,
        evaluations=[e for e in evaluations if e.scores],
        words_per_second=training_speed(folder.path, pipeline.meta),
    )
    made: Dict[str, Any] = {}

    def fill(new: Path) -> None:
        package = new / "src" / import_name(name)
        facts.files = _copy_model(folder, manifest, package / MODEL_FOLDER)
        made["card"] = card = model_card(facts)
        (new / "README.md").write_text(card, "utf8")
        (new / "pyproject.toml").write_text(pyproject(facts), "utf8")
        (package / "__init__.py").write_text(init_module(facts), "utf8")
        log(f"building the wheel and sdist of {name} {version} with hatchling")
        _build(new, new / DIST)

    log(f"packaging {folder.path} as {name} {version}: requires {_listed(requirements)}")
    try:
        replace_folder(project, fill)
    except OSError as err:
        raise PackageError(str(err)) from None
    wheel, sdist = _artifacts(project / DIST)
    return BuiltPackage(project, wheel, sdist, requirements, made["card"])


def name_taken(name: str) -> Optional[str]:
    """Why ``name`` cannot be used for a new model distribution here (None: it can):
    an arch package's name, an installed model's, an installed distribution's, or an
    importable module's (which its import package would shadow).

    name: A valid distribution name.
    """
    wanted = canonical_name(name)
    for family in FAMILIES:
        if canonical_name(family) == wanted:
            return f"{name!r} is the name of the arch package {family}: choose another name"
    for model in installed_models():
        if wanted in (canonical_name(model.name), canonical_name(model.package)):
            return (
                f"{name!r} is taken: the installed distribution {model.package} "
                f"{model.version} provides the model {model.name!r}. Choose another name, "
                f"or uninstall it first (pip uninstall {model.package}) to package a new "
                "version of it"
            )
    for dist in distributions():
        installed = metadata_field(dist.metadata, "Name")
        if canonical_name(installed) == wanted:
            return (
                f"{name!r} is taken: {installed} {dist.version} is installed here (it is not a "
                "model) and installing the model would replace it: choose another name"
            )
    package = import_name(name)
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        spec = None
    if spec is not None and spec.origin not in (None, "namespace"):
        return (
            f"{name!r} would ship the import package {package!r}, which would shadow the "
            f"module {package} importable here ({spec.origin}): choose another name"
        )
    return None


def requirements_for(written_by: Dict[str, str], path: Path) -> Dict[str, str]:
    """{distribution: version range} for the distributions that trained a model (its
    manifest's ``written_by`` less Python, numpy and thinc): each admits the version
    that trained it and the compatible releases after it (``compatible_range``).

    written_by: The manifest's versions.
    path: The manifest, for messages.
    """
    requirements: Dict[str, str] = {}
    for dist, version in sorted(written_by.items()):
        if dist in NOT_REQUIRED:
            continue
        if version_problem(version) is not None or not release(version):
            raise PackageError(
                str(ModelFileError(path, f"{version!r} is not a version", key=f"written_by.{dist}"))
            )
        requirements[dist] = compatible_range(version)
    requirements.setdefault("arch-tok2vec", compatible_range(__version__))
    return dict(sorted(requirements.items()))


def check_declared(config: Dict[str, Any], path: Path) -> None:
    """Refuse a model whose [task] or [model] names a function that no installed
    distribution declares in an entry point (one registered by code, e.g. with
    ``registry.architectures.register``), other than thinc's own: where that code is
    not imported, the packaged model could not be loaded.

    config: The model's config.
    path: Its config.cfg, for messages.
    """
    from .introspect import registered
    from .registry import registry

    declared = {(item.registry, item.name) for item in registered()}
    missing: List[str] = []
    for root in ROOT_REGISTRIES:
        for block, registry_name, func_name in references(config.get(root, {}), root):
            if (registry_name, func_name) in declared:
                continue
            try:
                module = str(getattr(registry.get(registry_name, func_name), "__module__", ""))
            except Exception:  # the model loaded, so the name resolves; be safe
                module = ""
            if module.split(".")[0] != "thinc":
                by = f", registered by the module {module}" if module else ""
                missing.append(f"[{block}] @{registry_name} = {func_name!r}{by}")
    if missing:
        raise PackageError(
            f"{path}: {'; '.join(missing)}: no installed distribution declares "
            f"{'this name' if len(missing) == 1 else 'these names'} in an entry point, so "
            "the packaged model could not be loaded where that code is not imported. "
            "Declare it in a distribution's pyproject.toml (as the arch packages do) and "
            "install that distribution, then package the model"
        )


def pyproject(facts: CardFacts) -> str:
    """The generated project's pyproject.toml."""
    package = import_name(facts.name)
    task = str(facts.pipeline.meta.get("task") or facts.pipeline.task.name)
    architecture = str(facts.pipeline.config["model"].get("@architectures", "?"))
    lines = [
        "[build-system]",
        'requires = ["hatchling>=1.27"]',
        'build-backend = "hatchling.build"',
        "",
        "[project]",
        f"name = {_toml(facts.name)}",
        f"version = {_toml(facts.version)}",
        f"description = {_toml(f'arch model: {task} ({architecture})')}",
        'readme = "README.md"',
    ]
    if facts.license != UNSET_LICENSE:
        lines.append(f"license = {_toml(facts.license)}")
    requires_python = _requires_python()
    if requires_python:
        lines.append(f"requires-python = {_toml(requires_python)}")
    lines.append(f"keywords = [{', '.join(_toml(k) for k in ('arch', 'thinc', task))}]")
    lines.append("dependencies = [")
    lines += [f"    {_toml(dist + spec)}," for dist, spec in facts.requirements.items()]
    lines += [
        "]",
        "",
        f"[project.entry-points.{GROUP}]",
        f"{_toml(facts.name)} = {_toml(package)}",
        "",
        "[tool.hatch.build]",
        "ignore-vcs = true",
        "",
        "[tool.hatch.build.targets.wheel]",
        f"packages = [{_toml(f'src/{package}')}]",
        "",
        "[tool.hatch.build.targets.sdist]",
        'only-include = ["src", "README.md", "pyproject.toml"]',
        "",
    ]
    return "\n".join(lines)


def init_module(facts: CardFacts) -> str:
    """The generated import package's ``__init__.py``: where the model folder is, and
    a ``load()`` that loads it (found by name, arch_tok2vec.load needs neither)."""
    return "\n".join(
        [
            f'"""{facts.name} {facts.version}: an arch model, packaged by archs package.',
            "",
            f'Load it with arch_tok2vec.load("{facts.name}"), or with load() below."""',
            "",
            "from pathlib import Path",
            "",
            f"__version__ = {facts.version!r}",
            "",
            f'MODEL_FOLDER = Path(__file__).parent / "{MODEL_FOLDER}"',
            '"""The model folder this package ships."""',
            "",
            "",
            "def load():",
            '    """The model, verified and loaded by arch_tok2vec.load."""',
            "    from arch_tok2vec import load as load_folder",
            "",
            "    return load_folder(MODEL_FOLDER)",
            "",
        ]
    )


# -- steps ---------------------------------------------------------------------------


def _verified(model_dir: Path) -> Tuple[bytes, VerifiedFolder, Pipeline]:
    """(manifest.json's bytes, the verified folder, the loaded pipeline) of a model
    folder, checked as load() checks it; PackageError naming the file at fault."""
    if not model_dir.is_dir():
        what = "it is not a folder" if model_dir.exists() else "it does not exist"
        raise PackageError(f"{model_dir}: this is not a model folder ({what})")
    try:
        manifest = (model_dir / MANIFEST).read_bytes()
    except OSError:
        manifest = b""  # read_folder says what is wrong
    try:
        folder = read_folder(model_dir)
        pipeline = from_folder(folder)
    except ModelFileError as err:
        raise PackageError(f"the model folder fails its checks: {err}") from None
    return manifest, folder, pipeline


def _build_tools(version: str, license: Optional[str]) -> Tuple[str, str]:
    """The version in its normal form and the license checked, with the tools the
    build needs (hatchling, and the packaging library it brings)."""
    if importlib.util.find_spec("hatchling") is None:
        raise PackageError(
            f"building a package needs hatchling, which is not installed: {HATCHLING}"
        )
    from packaging.version import InvalidVersion, Version

    try:
        normal = str(Version(version))
    except InvalidVersion:
        raise PackageError(
            f"{version!r} is not a version as Python packages write them (PEP 440): give "
            "one such as 1.0.0, 0.2.1 or 1.0.0rc1"
        ) from None
    if license is None or license == UNSET_LICENSE:
        return normal, UNSET_LICENSE
    try:
        from packaging.licenses import InvalidLicenseExpression, canonicalize_license_expression
    except ImportError:  # packaging older than 24.2: hatchling checks it while building
        return normal, license
    try:
        return normal, str(canonicalize_license_expression(license))
    except InvalidLicenseExpression:
        raise PackageError(
            f"--license {license!r} is not an SPDX license expression (e.g. MIT, Apache-2.0, "
            "CC-BY-SA-4.0, MIT OR Apache-2.0); leave it out to fill it in later"
        ) from None


def _evaluate(pipeline: Pipeline, corpus: Path) -> Evaluation:
    """The model's scores on a test corpus; PackageError naming the file on bad input."""
    try:
        examples = pipeline.task.read(corpus)
        if not examples:
            raise PackageError(f"{corpus}: the test corpus is empty")
        pipeline.task.check(examples, corpus)
        scores = pipeline.evaluate(examples)
    except (ValueError, OSError) as err:
        raise PackageError(str(err)) from None
    words = sum(len(eg.doc) for eg in examples)
    return Evaluation(corpus.name, "test", scores, len(examples), words)


def _copy_model(folder: VerifiedFolder, manifest: bytes, target: Path) -> Dict[str, int]:
    """Copy every file the manifest lists, and the manifest, into ``target``; verify
    the copy and that it is the folder verified before. Returns {file: bytes}."""
    target.mkdir(parents=True)
    names = [*CORE, *folder.extra, MANIFEST]
    for name in names:
        shutil.copyfile(folder.path / name, target / name)
    try:
        read_folder(target)
    except ModelFileError as err:
        raise PackageError(f"the copy of {folder.path} fails its checks: {err}") from None
    if (target / MANIFEST).read_bytes() != manifest:
        raise PackageError(
            f"{folder.path / MANIFEST} changed while the model was being packaged: "
            "package it again once it is saved"
        )
    return {name: (target / name).stat().st_size for name in sorted(names)}


def _build(project: Path, dist: Path) -> None:
    """Build the project's sdist and wheel into ``dist`` with hatchling, run by this
    Python (no isolated environment, no download)."""
    command = [sys.executable, "-m", "hatchling", "build", "--directory", str(dist.absolute())]
    done = subprocess.run(command, cwd=project.absolute(), capture_output=True, text=True)
    if done.returncode != 0:
        output = (done.stderr.strip() or done.stdout.strip()).splitlines()
        tail = "\n".join(output[-15:])
        raise PackageError(
            f"hatchling could not build the package (exit {done.returncode}):\n{tail}"
        )
    _artifacts(dist)


def _artifacts(dist: Path) -> Tuple[Path, Path]:
    wheels, sdists = sorted(dist.glob("*.whl")), sorted(dist.glob("*.tar.gz"))
    if len(wheels) != 1 or len(sdists) != 1:
        found = ", ".join(p.name for p in sorted(dist.iterdir())) if dist.is_dir() else "nothing"
        raise PackageError(f"expected one wheel and one sdist in {dist}, found {found}")
    return wheels[0], sdists[0]


def _requires_python() -> Optional[str]:
    """The Python versions arch-tok2vec supports, which the model's distribution
    shares."""
    try:
        value = metadata_field(metadata("arch-tok2vec"), "Requires-Python")
    except PackageNotFoundError:
        return None
    return str(value) if value else None


def _listed(requirements: Dict[str, str]) -> str:
    return ", ".join(f"{dist}{spec}" for dist, spec in requirements.items())


def _toml(text: str) -> str:
    """A TOML basic string: quotes, backslashes and control characters escaped."""
    out = []
    for char in text:
        if char in '"\\':
            out.append("\\" + char)
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'
