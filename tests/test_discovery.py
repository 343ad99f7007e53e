"""Every name any package declares is found through its entry point, from the
installed distribution, by arch_tok2vec.registry."""

import pytest

from arch_tok2vec import registry
from arch_tok2vec.introspect import find
from arch_tok2vec.registry import ENTRY_POINT_GROUPS

from declared import declared

GROUP_TO_REGISTRY = ENTRY_POINT_GROUPS


def test_every_package_declares_something():
    assert {dist for dist, *_ in declared()} >= {"arch-tok2vec"}


@pytest.mark.parametrize("dist,group,name,target", declared())
def test_declared_name_resolves(dist, group, name, target):
    assert group in GROUP_TO_REGISTRY, f"{dist} declares an unknown group {group}"
    registry_name = GROUP_TO_REGISTRY[group]
    func = getattr(registry, registry_name).get(name)
    module, attr = target.split(":")
    assert func.__module__ == module and func.__name__ == attr
    assert [item.package for item in find(name)] == [dist]
