"""The static table of which distribution provides each name (arch_tok2vec.families)
matches what every package declares, in its pyproject.toml and as installed, so the
"install arch-tagger" hint cannot go stale."""

from importlib.metadata import distribution

import pytest

from arch_tok2vec.families import FAMILIES, provider, unknown_name_message
from arch_tok2vec.registry import ENTRY_POINT_GROUPS

from declared import declared


def _table(rows):
    table = {}
    for dist, group, name in rows:
        names = table.setdefault(dist, {}).setdefault(ENTRY_POINT_GROUPS[group], set())
        names.add(name)
    return table


def _families():
    return {
        dist: {registry: set(names) for registry, names in registries.items()}
        for dist, registries in FAMILIES.items()
    }


def test_the_table_lists_what_each_pyproject_declares():
    rows = [(dist, group, name) for dist, group, name, _ in declared()]
    assert _families() == _table(rows)
    for registries in FAMILIES.values():
        for names in registries.values():
            assert len(names) == len(set(names))


@pytest.mark.parametrize("dist", sorted(FAMILIES))
def test_the_table_lists_what_each_installed_package_declares(dist):
    installed = distribution(dist)  # this session installs every package
    rows = [
        (dist, ep.group, ep.name) for ep in installed.entry_points if ep.group in ENTRY_POINT_GROUPS
    ]
    assert _families()[dist] == _table(rows)[dist]


@pytest.mark.parametrize("dist,group,name,target", declared())
def test_every_declared_name_has_its_provider(dist, group, name, target):
    assert provider(ENTRY_POINT_GROUPS[group], name) == dist


def test_an_unknown_name_is_not_attributed_to_a_family():
    message = unknown_name_message("architectures", "spacy.NoSuchThing.v1")
    assert "is provided by" not in message
    assert message.startswith("no function 'spacy.NoSuchThing.v1' in registry architectures.")
