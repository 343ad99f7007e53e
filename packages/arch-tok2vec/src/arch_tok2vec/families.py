"""Which distribution of the arch family provides each registered name.

A config may name a function whose family is not installed (``spacy.Tagger.v1``
without arch-tagger): the registries cannot know the name then, so this static
table does, and the error says which distribution to install. The table lists
every entry point each package declares; ``tests/test_family_table.py`` checks it
against the packages' ``pyproject.toml`` files and the installed distributions,
so it cannot go stale.
"""

import sys
from typing import Dict, Iterable, List, Optional, Set, Tuple

import catalogue

from .model_versions import installed_version
from .suggest import close_matches

if sys.version_info >= (3, 10):
    from importlib.metadata import entry_points
else:  # pragma: no cover
    from importlib.metadata import entry_points as _entry_points

    def entry_points(*, group: str) -> List:
        return list(_entry_points().get(group, []))


FAMILIES: Dict[str, Dict[str, Tuple[str, ...]]] = {
    "arch-tok2vec": {
        "architectures": (
            "spacy.HashEmbedCNN.v1",
            "spacy.Tok2Vec.v1",
            "spacy.MultiHashEmbed.v1",
            "spacy.CharacterEmbed.v1",
            "spacy.HashCharEmbedCNN.v1",
            "spacy.HashCharEmbedBiLSTM.v1",
            "spacy.MaxoutWindowEncoder.v1",
            "spacy.MishWindowEncoder.v1",
            "arch.BiLSTMEncoder.v1",
        ),
        "layers": ("spacy.FeatureExtractor.v1", "spacy.CharEmbed.v1", "spacy.StaticVectors.v1"),
        "batchers": ("spacy.batch_by_words.v1", "spacy.batch_by_sequence.v1"),
    },
    "arch-tagger": {
        "architectures": ("spacy.Tagger.v1",),
        "tasks": ("arch.tagger.v1",),
    },
    "arch-parser": {
        "architectures": ("spacy.TransitionBasedParser.v1",),
        "layers": ("spacy.PrecomputableAffine.v1", "spacy.TransitionModel.v1"),
        "tasks": ("arch.parser.v1", "arch.ner.v1"),
    },
    "arch-textcat": {
        "architectures": (
            "spacy.TextCatEnsemble.v1",
            "spacy.TextCat.v1",
            "spacy.TextCatBOW.v1",
            "spacy.TextCatCNN.v1",
            "spacy.TextCatLowData.v1",
        ),
        "layers": ("spacy.extract_ngrams.v1",),
        "tasks": ("arch.textcat.v1",),
    },
    "arch-entitylinker": {
        "architectures": ("spacy.EntityLinker.v1",),
        "assets": ("spacy.EmptyKB.v1", "spacy.CandidateGenerator.v1", "spacy.KBFromFile.v1"),
        "tasks": ("arch.entity_linker.v1",),
    },
    "arch-transformers": {
        "architectures": (
            "spacy-transformers.Tok2VecListener.v1",
            "arch.WithTransformer.v1",
            "spacy-transformers.TransformerModel.v1",
        ),
        "span_getters": (
            "strided_spans.v1",
            "sent_spans.v1",
            "doc_spans.v1",
            "spacy-transformers.strided_spans.v1",
            "spacy-transformers.sent_spans.v1",
            "spacy-transformers.doc_spans.v1",
        ),
    },
}
"""{distribution: {registry: names it declares}} for every package of the family."""


class UnknownNameError(catalogue.RegistryError):
    """A registered name that cannot be resolved; the message says what to do.

    registry_name: The registry asked ("architectures", "tasks", ...).
    name: The name asked for.
    """

    def __init__(self, registry_name: str, name: str):
        self.registry_name = registry_name
        self.name = name
        super().__init__(unknown_name_message(registry_name, name))


def provider(registry_name: str, name: str) -> Optional[str]:
    """The distribution that declares ``name`` in ``registry_name``, if any of ours does.

    registry_name: A registry of ``arch_tok2vec.registry`` ("architectures", "tasks", ...).
    name: The registered name.
    """
    for dist, registries in FAMILIES.items():
        if name in registries.get(registry_name, ()):
            return dist
    return None


def known_names(registry_name: str) -> Set[str]:
    """The names a registry can resolve now: its entry points (not loaded) and
    what was registered in memory.

    registry_name: An attribute of ``arch_tok2vec.registry`` ("architectures", ...).
    """
    from .registry import registry

    reg = getattr(registry, registry_name, None)
    if not isinstance(reg, catalogue.Registry):
        return set()
    groups = ["_".join(reg.namespace)]
    if isinstance(getattr(reg, "arch_group", None), str):
        groups.append(reg.arch_group)
    names = {ep.name for group in groups for ep in entry_points(group=group)}
    depth = len(reg.namespace)
    names.update(
        key[-1]
        for key in list(catalogue.REGISTRY)
        if len(key) == depth + 1 and tuple(key[:depth]) == tuple(reg.namespace)
    )
    return names


def registry_names() -> List[str]:
    """Every registry ``arch_tok2vec.registry`` has (ours, spaCy's and thinc's)."""
    from .registry import registry

    return sorted(
        name
        for name in dir(registry)
        if not name.startswith("_")
        and isinstance(getattr(registry, name, None), catalogue.Registry)
    )


def unknown_name_message(registry_name: str, name: str) -> str:
    """Why ``name`` cannot be resolved in ``registry_name`` and what to do: install
    the family that provides it, write the right registry, or use the close name.

    registry_name: The registry the config asked (``@architectures`` -> "architectures").
    name: The name it asked for.
    """
    dist = provider(registry_name, name)
    if dist is not None:
        have = installed_version(dist)
        if have is None:
            return f"{name} is provided by {dist}, which is not installed: pip install {dist}"
        return (
            f"{name} is provided by {dist}, but the installed {dist} {have} does not declare "
            f"it: pip install -U {dist}"
        )
    elsewhere = [r for r in registry_names() if r != registry_name and name in known_names(r)]
    if elsewhere:
        return (
            f"{name} is not in registry {registry_name} but in {elsewhere[0]}: "
            f"write @{elsewhere[0]} = {name!r}"
        )
    message = f"no function {name!r} in registry {registry_name}."
    hint = _suggestions(registry_name, name)
    listing = f" 'archs list --registry {registry_name}' shows every name."
    return message + hint + (listing if registry_name in _listed() else "")


def _suggestions(registry_name: str, name: str) -> str:
    here = known_names(registry_name)
    absent = {
        candidate: dist
        for dist, registries in FAMILIES.items()
        for candidate in registries.get(registry_name, ())
        if candidate not in here
    }
    found = close_matches(name, list(here) + list(absent))
    if not found:
        return ""
    shown = [
        f"{c} (from {absent[c]}, not installed)" if c in absent and c not in here else c
        for c in found
    ]
    if len(shown) == 1:
        return f" Did you mean {shown[0]}?"
    return f" Did you mean {', '.join(shown[:-1])} or {shown[-1]}?"


def _listed() -> Iterable[str]:
    from .registry import REGISTRY_GROUPS

    return REGISTRY_GROUPS
