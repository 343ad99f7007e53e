"""Run inside a venv holding one installed wheel: every entry point of that
distribution loads and resolves through arch_tok2vec.registry.

    python check_installed.py arch-tok2vec
"""

import sys
from importlib import resources
from importlib.metadata import distribution

from arch_tok2vec import registry
from arch_tok2vec.registry import ENTRY_POINT_GROUPS


def main(dist_name: str) -> int:
    groups = ENTRY_POINT_GROUPS
    dist = distribution(dist_name)
    checked = 0
    for ep in dist.entry_points:
        if ep.group == "console_scripts":
            continue
        func = getattr(registry, groups[ep.group]).get(ep.name)
        assert callable(func), ep
        checked += 1
    package = dist_name.replace("-", "_")
    assert (resources.files(package) / "py.typed").is_file(), f"{package}/py.typed is missing"
    print(f"{dist_name} {dist.version}: {checked} entry points resolve, py.typed shipped")
    return 0 if checked else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
