"""``archs list`` and ``archs info``: what is registered, and what a function's
parameters mean."""

from typing import Any, Optional

from ..introspect import describe, find, registered
from ..registry import REGISTRY_GROUPS
from .common import CommandError, print_table


def add_parsers(sub: Any) -> None:
    """Add ``list`` and ``info`` to the ``archs`` sub-command parsers."""
    p_list = sub.add_parser("list", help="every registered function, its package and version")
    p_list.add_argument("--registry", choices=sorted(REGISTRY_GROUPS), help="only this registry")
    p_list.set_defaults(run=lambda args, extra: cmd_list(args.registry))
    p_info = sub.add_parser("info", help="a function's package, parameters and their meaning")
    p_info.add_argument("name", help="a registered name, e.g. spacy.HashEmbedCNN.v1")
    p_info.set_defaults(run=lambda args, extra: cmd_info(args.name))


def cmd_list(registry_name: Optional[str]) -> int:
    rows = [
        (item.registry, item.name, item.package, item.version)
        for item in registered([registry_name] if registry_name else None)
    ]
    print_table(("registry", "name", "package", "version"), rows)
    return 0


def cmd_info(name: str) -> int:
    found = find(name)
    if not found:
        raise CommandError(_unknown_info_name(name))
    for item in found:
        info = describe(item.load())
        print(f"{item.name}  ({item.registry}; {item.package} {item.version}; {item.target})")
        if info.summary:
            print()
            print(info.summary)
        print()
        rows = [(p.name, p.annotation, p.default, p.description) for p in info.params]
        print_table(("parameter", "type", "default", "description"), rows)
        if info.notes:
            print()
            print(info.notes)
    return 0


def _unknown_info_name(name: str) -> str:
    """Why ``archs info NAME`` knows no such name: its family is not installed, or
    the close names (and those containing it) that are registered."""
    from ..families import FAMILIES, installed_version
    from ..suggest import close_matches

    for dist, registries in FAMILIES.items():
        if any(name in names for names in registries.values()):
            if installed_version(dist) is None:
                return f"{name} is provided by {dist}, which is not installed: pip install {dist}"
    known = sorted({item.name for item in registered()})
    close = close_matches(name, known)
    close += [k for k in known if name.lower() in k.lower() and k not in close][:3]
    hint = f" Did you mean {', '.join(close)}?" if close else ""
    return f"no registered function is called {name!r}.{hint} 'archs list' shows every name."
