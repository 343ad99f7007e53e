"""The entry points each package's pyproject.toml declares (read from the source tree)."""

import sys
from pathlib import Path
from typing import Dict, List, Tuple

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]


def declared() -> List[Tuple[str, str, str, str]]:
    """(distribution, entry-point group, name, target) for every package."""
    rows = []
    for pyproject in sorted((ROOT / "packages").glob("*/pyproject.toml")):
        project = tomllib.loads(pyproject.read_text())["project"]
        groups: Dict[str, Dict[str, str]] = project.get("entry-points", {})
        for group, names in groups.items():
            for name, target in names.items():
                rows.append((project["name"], group, name, target))
    return rows
