"""Trained models installed as distributions of their own (``archs package``), found
by name through the ``arch_models`` entry-point group.

A model distribution declares one entry point, its model's name, whose value is the
import package that holds the model folder as data::

    [project.entry-points.arch_models]
    en_tagger_sm = "en_tagger_sm"        # the folder is en_tagger_sm/model/

Nothing of the distribution is imported or run to find its model: the folder is
located from the distribution's installed files, and ``arch_tok2vec.load`` then
verifies it like any model folder (its manifest, versions and config).
"""

import importlib.util
from dataclasses import dataclass
from importlib.metadata import Distribution, EntryPoint, distributions
from pathlib import Path
from typing import Any, List, Optional, Tuple

from .distribution_names import canonical_name
from .model_file_error import ModelFileError
from .suggest import did_you_mean

GROUP = "arch_models"
"""The entry-point group in which model distributions declare their model."""
MODEL_FOLDER = "model"
"""The model folder's name inside a model distribution's import package."""


@dataclass
class InstalledModel:
    """One model declared in the ``arch_models`` group.

    name: The model's name (the entry point's name).
    entry_point: The entry point; its value is the import package holding the folder.
    dist: The installed distribution that declares it.
    """

    name: str
    entry_point: EntryPoint
    dist: Distribution

    @property
    def package(self) -> str:
        """The distribution's name."""
        return metadata_field(self.dist.metadata, "Name") or "?"

    @property
    def version(self) -> str:
        return str(self.dist.version)

    def folder(self) -> Path:
        """The model folder the distribution installed (not yet verified: load it
        with ``arch_tok2vec.load``). ModelFileError naming the distribution if the
        entry point does not name a package, or the folder is not installed."""
        module = self.entry_point.value.strip()
        where = f"{self.package} {self.version} (entry point {GROUP}: {self.name} = {module!r})"
        if not module.isidentifier():
            raise ModelFileError(
                where,
                "a model's entry point must name the import package holding its model "
                f'folder ({MODEL_FOLDER}/), e.g. en_tagger_sm = "en_tagger_sm"',
            )
        located = Path(str(self.dist.locate_file(f"{module}/{MODEL_FOLDER}")))
        if located.is_dir():
            return located
        # an editable install keeps the package elsewhere: ask the import system where
        # (find_spec of a top-level name imports nothing)
        spec = importlib.util.find_spec(module)
        for base in (spec.submodule_search_locations or []) if spec is not None else []:
            if (Path(base) / MODEL_FOLDER).is_dir():
                return Path(base) / MODEL_FOLDER
        raise ModelFileError(
            where,
            f"its model folder ({module}/{MODEL_FOLDER}) is not installed: reinstall it "
            f"(pip install --force-reinstall {self.package})",
        )


def metadata_field(metadata: Any, key: str) -> str:
    """A field of a distribution's metadata ("" when it has none; reading a missing one
    directly is deprecated).

    metadata: The distribution's metadata.
    key: The field, e.g. "Summary".
    """
    return str(metadata[key] or "") if key in metadata else ""


def installed_models() -> List[InstalledModel]:
    """Every model the installed distributions declare, by name; a distribution found
    twice on the path counts once (the first, as imports would take it)."""
    found: List[InstalledModel] = []
    seen = set()
    for dist in distributions():
        for ep in dist.entry_points:
            if ep.group != GROUP:
                continue
            key = (canonical_name(metadata_field(dist.metadata, "Name")), ep.name)
            if key not in seen:
                seen.add(key)
                found.append(InstalledModel(ep.name, ep, dist))
    return sorted(found, key=lambda model: (canonical_name(model.name), model.package))


def find_models(name: str) -> List[InstalledModel]:
    """The installed models called ``name`` (compared as distribution names are:
    "en-tagger" finds en_tagger).

    name: The model's name.
    """
    wanted = canonical_name(name)
    return [model for model in installed_models() if canonical_name(model.name) == wanted]


def model_folder(name: str) -> Tuple[Optional[Path], str]:
    """(the folder of the installed model called ``name``, "") or (None, why there is
    none: no such model, with the close names and what is installed). Several
    distributions declaring the same name is an error (ModelFileError naming them).

    name: The model's name.
    """
    found = find_models(name)
    if len(found) > 1:
        listed = ", ".join(f"{model.package} {model.version}" for model in found)
        raise ModelFileError(
            name,
            f"several installed distributions declare a model called {name!r} ({listed}): "
            "uninstall all but one",
        )
    if found:
        return found[0].folder(), ""
    return None, unknown_model(name)


def unknown_model(name: str) -> str:
    """Why no installed model is called ``name``: the close names, or what is installed.

    name: The name asked for.
    """
    known = [model.name for model in installed_models()]
    hint = did_you_mean(name, known)
    if hint:
        return f"no installed model is called {name!r}.{hint}"
    if known:
        shown = ", ".join(known[:8]) + (", ..." if len(known) > 8 else "")
        return f"no installed model is called {name!r} (installed: {shown})"
    return f"no installed model is called {name!r} (none is installed; archs package makes one)"
