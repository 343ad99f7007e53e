"""The versions that wrote a model folder, and which of them this installation can
read: a model written by a newer release of a distribution it needs (thinc: a newer
major.minor), or by one not installed, is refused with the fix.
"""

import platform
import re
from typing import Any, Dict, Optional, Tuple

from .about import __version__
from .config_references import ROOT_REGISTRIES, references
from .model_file_error import ModelFileError

UNCHECKED_VERSIONS = ("python", "numpy")
"""Recorded for information; a model does not depend on them (arrays are stored
little-endian with their dtype)."""
MINOR_ONLY = ("thinc",)
"""Compared by major.minor: thinc changes its serialization only in minor releases."""

_RELEASE = re.compile(r"^v?(\d+(?:\.\d+)*)")


def versions_for(config: Any) -> Dict[str, str]:
    """The versions that write a model: Python, numpy, thinc, arch-tok2vec and every
    installed distribution that declares a function named in [task] or [model].

    config: The training config.
    """
    import numpy
    import thinc

    from .introspect import registered

    found = {
        "python": platform.python_version(),
        "numpy": numpy.__version__,
        "thinc": thinc.__version__,
        "arch-tok2vec": __version__,
    }
    providers = {(item.registry, item.name): item for item in registered()}
    for root in ROOT_REGISTRIES:
        for _, registry_name, name in references(config.get(root, {}), root):
            item = providers.get((registry_name, name))
            if item is not None and item.package not in ("?", "arch-tok2vec"):
                found[item.package] = item.version
    return dict(sorted(found.items()))


def installed_version(package: str) -> Optional[str]:
    """The installed version of a distribution (None: not installed).

    package: The distribution's name, e.g. "arch-tagger".
    """
    from importlib.metadata import PackageNotFoundError, version

    if package == "arch-tok2vec":
        return __version__
    try:
        return version(package)
    except PackageNotFoundError:
        return None


def release(version: str) -> Tuple[int, ...]:
    """The release numbers of a version string ("0.3.2rc1" -> (0, 3, 2)); () if it
    has none.

    version: A version string.
    """
    match = _RELEASE.match(version.strip()) if isinstance(version, str) else None
    return tuple(int(x) for x in match.group(1).split(".")) if match else ()


def is_newer(saved: str, installed: str, depth: Optional[int] = None) -> bool:
    """Whether ``saved`` is a later release than ``installed`` (comparing the first
    ``depth`` numbers only, if given; pre-release tags are ignored).

    saved: The version that wrote the model.
    installed: The version installed here.
    depth: How many numbers to compare (None: all).
    """
    a, b = release(saved)[:depth], release(installed)[:depth]
    width = max(len(a), len(b))
    return a + (0,) * (width - len(a)) > b + (0,) * (width - len(b))


def version_problem(package: str, saved: Any) -> Optional[str]:
    """Why a model written with ``package`` at version ``saved`` cannot be loaded
    here (None: it can). Python and numpy are not checked; thinc is compared by
    major.minor; every other distribution by its full release: a newer release than
    the installed one, or one not installed, is refused.

    package: The distribution's name.
    saved: The version recorded when the model was saved.
    """
    if not isinstance(saved, str) or not release(saved):
        return f"{saved!r} is not a version"
    if package in UNCHECKED_VERSIONS:
        return None
    installed = installed_version(package)
    if installed is None:
        return (
            f"the model was written with {package} {saved}, which is not installed "
            f"here: pip install '{package}>={saved}'"
        )
    depth = 2 if package in MINOR_ONLY else None
    if is_newer(saved, installed, depth):
        return (
            f"the model was written with {package} {saved}, newer than the {package} "
            f"{installed} installed here, which may not read it correctly: upgrade with "
            f"pip install -U '{package}>={saved}'"
        )
    return None


def check_versions(versions: Any, path: Any, key: str) -> None:
    """Refuse a model written by a release that ``version_problem`` refuses
    (ModelFileError naming the file, the key, the package, both versions and the fix).

    versions: The recorded {distribution: version}.
    path: The file they were read from.
    key: The key holding them, for messages.
    """
    if not isinstance(versions, dict):
        raise ModelFileError(path, "must be an object of versions", key=key)
    for package, saved in versions.items():
        problem = version_problem(package, saved)
        if problem is not None:
            raise ModelFileError(path, problem, key=f"{key}.{package}")
