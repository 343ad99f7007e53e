"""The configs the compatibility tests build: docs/examples/*.cfg, every ```ini block
of docs/*.md and the families' EXTRA_CASES, each with a stable id."""

import re
from typing import Dict

import compat


def all_cases() -> Dict[str, str]:
    """id -> config text, for every example config of the repository."""
    cases: Dict[str, str] = {}
    for path in sorted((compat.ROOT / "docs" / "examples").glob("*.cfg")):
        cases[f"docs/examples/{path.name}"] = path.read_text("utf8")
    for page in sorted((compat.ROOT / "docs").glob("*.md")):
        blocks = re.findall(r"^```ini\n(.*?)^```", page.read_text("utf8"), flags=re.M | re.S)
        for i, block in enumerate(blocks, 1):
            cases[f"docs/{page.name}#{i}"] = block
    for family in compat.families().values():
        cases.update(family.EXTRA_CASES)
    return cases


def family_cases() -> Dict[str, str]:
    """The cases whose top-level name is declared by a family with a module."""
    declared = {name: dist for dist, _, name, _ in compat.spacy_entry_points()}
    covered = compat.families()
    return {
        case_id: config
        for case_id, config in all_cases().items()
        if declared.get(compat.names_in(config)[0]) in covered
    }


def config_for(name: str) -> str:
    """The config the discovery test resolves through spaCy for ``name``: the family's
    DISCOVERY_CONFIGS entry if any, else the first example config that uses ``name``
    and otherwise only names of covered families or thinc's ("" if none): configs of
    pending families may need things this venv lacks. Configs whose names are all in
    spaCy's registries come first (a name declared only in arch's groups, e.g.
    spacy-transformers.TransformerModel.v1, or in a group spaCy has no registry for,
    e.g. spacy_assets, is one spaCy cannot resolve)."""
    families = compat.families()
    for family in families.values():
        if name in getattr(family, "DISCOVERY_CONFIGS", {}):
            return family.DISCOVERY_CONFIGS[name]
    unseen = {n for f in families.values() for n in getattr(f, "NO_SPACY_REGISTRY", {})}
    in_spacy = {
        n for dist, _, n, _ in compat.spacy_entry_points() if dist in families and n not in unseen
    }
    covered = {n for dist, _, n, _ in compat.arch_entry_points() if dist in families}
    for known in (in_spacy, covered):
        for config in all_cases().values():
            names = compat.names_in(config)
            if name in names and all(
                n in known or not n.startswith(("spacy", "arch.")) for n in names
            ):
                return config
    return ""
