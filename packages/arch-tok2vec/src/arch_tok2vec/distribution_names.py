"""The names and versions of Python distributions, as the packaging standards define
them: what ``archs package`` accepts for a model's name and version, and the
requirement ranges it writes.

- a distribution's name (PEP 508): letters, digits and ``. _ -``, beginning and
  ending with a letter or digit; two names are the same distribution when they are
  equal once lowercased with every run of ``. _ -`` made one ``-`` (PEP 503);
- a version (PEP 440), e.g. ``1.0``, ``0.3.2rc1``, ``2!1.0.post2.dev3+local.7``.
"""

import keyword
import re
from typing import Optional

from .model_versions import release

_NAME = re.compile(r"^[a-z0-9](?:[a-z0-9._-]*[a-z0-9])?$", re.IGNORECASE)
_SEPARATORS = re.compile(r"[-_.]+")

_VERSION = re.compile(
    r"""
    ^\s*v?
    (?:[0-9]+!)?                                        # epoch
    [0-9]+(?:\.[0-9]+)*                                 # release
    (?:[-_.]?(?:a|b|c|rc|alpha|beta|pre|preview)[-_.]?[0-9]*)?   # pre-release
    (?:-[0-9]+|[-_.]?(?:post|rev|r)[-_.]?[0-9]*)?       # post-release
    (?:[-_.]?dev[-_.]?[0-9]*)?                          # development release
    (?:\+[a-z0-9]+(?:[-_.][a-z0-9]+)*)?                 # local version label
    \s*$
    """,
    re.IGNORECASE | re.VERBOSE,
)


def canonical_name(name: str) -> str:
    """The name that identifies a distribution (PEP 503): lowercase, each run of
    ``-``, ``_`` and ``.`` made one ``-`` ("En_Tagger.sm" -> "en-tagger-sm").

    name: A distribution's name.
    """
    return _SEPARATORS.sub("-", name).lower()


def import_name(name: str) -> str:
    """The import package a model distribution called ``name`` ships: its canonical
    name with ``_`` for ``-`` ("en-tagger-sm" -> "en_tagger_sm").

    name: The distribution's name.
    """
    return canonical_name(name).replace("-", "_")


def name_problem(name: object) -> Optional[str]:
    """Why ``name`` cannot name a model's distribution (None: it can): not a valid
    distribution name (PEP 508), or its import package would not be a Python
    identifier (a name starting with a digit, or a keyword such as "import").

    name: The name given to ``archs package --name``.
    """
    if not isinstance(name, str) or not name:
        return f"{name!r} is not a distribution name: give a name such as en_tagger_sm"
    if not _NAME.match(name):
        return (
            f"{name!r} is not a valid distribution name: use letters, digits and . _ - "
            "only, beginning and ending with a letter or digit (PEP 508), e.g. en_tagger_sm"
        )
    package = import_name(name)
    if not package.isidentifier() or keyword.iskeyword(package):
        return (
            f"{name!r} would ship the import package {package!r}, which is not a Python "
            "identifier: begin the name with a letter and do not use a Python keyword"
        )
    return None


def version_problem(version: object) -> Optional[str]:
    """Why ``version`` is not a version (None: it is one, per PEP 440).

    version: The version given to ``archs package --version``.
    """
    if isinstance(version, str) and _VERSION.match(version):
        return None
    return (
        f"{version!r} is not a version as Python packages write them (PEP 440): give "
        "one such as 1.0.0, 0.2.1 or 1.0.0rc1"
    )


def compatible_range(version: str) -> str:
    """The versions compatible with ``version`` by this family's rule: the same
    minor release for 0.x (">=0.3.2,<0.4"), the same major release from 1.0
    (">=1.4.0,<2").

    version: The version that wrote a model, e.g. "0.3.2".
    """
    numbers = release(version)
    if not numbers:
        raise ValueError(f"{version!r} is not a version")
    major = numbers[0]
    if major == 0:
        minor = numbers[1] if len(numbers) > 1 else 0
        return f">={version},<0.{minor + 1}"
    return f">={version},<{major + 1}"
