"""``archs list`` and ``archs info``: what is registered and which models are
installed; what a function's parameters mean, and a model's card."""

from typing import Any, List, Optional

from ..installed_models import InstalledModel, find_models, installed_models, metadata_field
from ..introspect import describe, find, registered
from ..model_file_error import ModelFileError
from ..registry import REGISTRY_GROUPS
from .common import CommandError, print_table


def add_parsers(sub: Any) -> None:
    """Add ``list`` and ``info`` to the ``archs`` sub-command parsers."""
    p_list = sub.add_parser(
        "list", help="every registered function and installed model, its package and version"
    )
    only = p_list.add_mutually_exclusive_group()
    only.add_argument("--registry", choices=sorted(REGISTRY_GROUPS), help="only this registry")
    only.add_argument("--models", action="store_true", help="only the installed models")
    p_list.set_defaults(run=lambda args, extra: cmd_list(args.registry, args.models))
    p_info = sub.add_parser(
        "info", help="a function's package, parameters and their meaning; a model's card"
    )
    p_info.add_argument(
        "name", help="a registered name, e.g. spacy.HashEmbedCNN.v1, or an installed model's"
    )
    p_info.set_defaults(run=lambda args, extra: cmd_info(args.name))


def cmd_list(registry_name: Optional[str], models_only: bool = False) -> int:
    if not models_only:
        rows = [
            (item.registry, item.name, item.package, item.version)
            for item in registered([registry_name] if registry_name else None)
        ]
        print_table(("registry", "name", "package", "version"), rows)
        if registry_name:
            return 0
        print()
    models = installed_models()
    if not models:
        print("installed models: none (archs package makes one from a trained model folder)")
        return 0
    print("installed models (arch_tok2vec.load(NAME), archs info NAME):")
    print_table(("model", "package", "version", "task"), [_model_row(m) for m in models])
    return 0


def _model_row(model: InstalledModel) -> List[str]:
    return [model.name, model.package, model.version, _summary(model)]


def _summary(model: InstalledModel) -> str:
    """The package's one-line description (e.g. "arch model: tagger (spacy.Tagger.v1)")."""
    summary = metadata_field(model.dist.metadata, "Summary")
    return summary.split(": ", 1)[1] if summary.startswith("arch model: ") else summary


def cmd_info(name: str) -> int:
    found = find(name)
    models = find_models(name)
    if not found and not models:
        raise CommandError(_unknown_info_name(name))
    for model in models:
        _print_card(model)
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
    known = sorted({item.name for item in registered()} | {m.name for m in installed_models()})
    close = close_matches(name, known)
    close += [k for k in known if name.lower() in k.lower() and k not in close][:3]
    hint = f" Did you mean {', '.join(close)}?" if close else ""
    return (
        f"no registered function or installed model is called {name!r}.{hint} 'archs list' "
        "shows every name."
    )


def _print_card(model: InstalledModel) -> None:
    """The model's card (its distribution's README), after where it is installed."""
    try:
        where = str(model.folder())
    except ModelFileError as err:
        where = f"not loadable: {err}"
    print(f"{model.name}  (model; {model.package} {model.version}; {where})")
    print()
    metadata = model.dist.metadata
    card = metadata_field(metadata, "Description") or _payload(metadata)
    print(card.rstrip("\n") if card else "(its distribution has no card)")
    print()


def _payload(metadata: Any) -> str:
    """The long description stored as the body of the metadata file."""
    get_payload = getattr(metadata, "get_payload", None)
    payload = get_payload() if callable(get_payload) else None
    return payload if isinstance(payload, str) else ""
