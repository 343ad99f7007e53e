"""Item 1: spaCy finds every name we declare in its groups through our entry points,
with no import of ours; item 6: names that cannot be drop-ins are not declared there.
Also: every declared name is classified by its family module, and every installed
arch distribution has a family module (or is listed as pending)."""

import importlib.util
import json
import re
import sys

import cases
import compat
import pytest

DECLARED = compat.spacy_entry_points()


@pytest.fixture(scope="module")
def discovery():
    """check_discovery.py's answers, from a fresh interpreter."""
    items = [
        {"group": group, "name": name, "config": cases.config_for(name)}
        for _, group, name, _ in DECLARED
    ]
    out = compat.run(
        [sys.executable, str(compat.HERE / "check_discovery.py")], input=json.dumps(items)
    )
    return {(r["group"], r["name"]): r for r in json.loads(out)}


def test_something_is_declared():
    dists = {dist for dist, *_ in DECLARED}
    assert {"arch-tok2vec", "arch-tagger", "arch-textcat"} <= dists


@pytest.mark.parametrize("dist,group,name,target", DECLARED, ids=[r[2] for r in DECLARED])
def test_spacy_gets_our_function_without_importing_us(discovery, dist, group, name, target):
    result = discovery[(group, name)]
    if _invisible_to_spacy(result, dist):
        return
    assert result["at_start"] == [] and result["after_import_spacy"] == []
    assert result["before_get"] == [], "arch modules were loaded before the lookup"
    assert "get_error" not in result, result.get("get_error")
    module, attr = target.split(":")
    assert result["get"] == [module, attr], f"spaCy resolved {name} to {result['get']}"


@pytest.mark.parametrize("dist,group,name,target", DECLARED, ids=[r[2] for r in DECLARED])
def test_spacy_config_resolution_calls_our_function(discovery, dist, group, name, target):
    result = discovery[(group, name)]
    if _invisible_to_spacy(result, dist) or dist in compat.PENDING:
        return  # the parser: its configs are resolved by spaCy in test_parser_in_spacy.py
    cannot = getattr(compat.families()[dist], "SPACY_CANNOT_RESOLVE", {}).get(name)
    if cannot:  # spaCy finds the name, but no config with it is one spaCy can build
        error, why = cannot
        assert re.search(error, result.get("resolve_error", ""), flags=re.S), (
            f"{name}: SPACY_CANNOT_RESOLVE expects {error!r}, got "
            f"{result.get('resolve_error', 'no error')!r}"
        )
        compat.REPORT.append(f"{dist}: spaCy cannot resolve a config with {name}: {why}")
        return
    if "before_resolve" not in result:
        pytest.fail(f"no example config uses {name}: add one to the docs or EXTRA_CASES")
    assert result["before_resolve"] == []
    assert "resolve_error" not in result, result.get("resolve_error")
    module, attr = target.split(":")
    assert [module, attr] in result["resolve_calls"], (
        f"resolving a config with {name} did not call {target}"
    )


def _invisible_to_spacy(result, dist):
    """A group spaCy 3.8 has no registry for (e.g. spacy_assets, or spacy_span_getters
    before spacy-transformers is imported): spaCy never sees the name. Allowed, and
    reported, for names the family lists in NO_SPACY_REGISTRY and for pending families
    (their module must decide)."""
    family = compat.families().get(dist)
    listed = getattr(family, "NO_SPACY_REGISTRY", {}) if family else {}
    if result["name"] in listed:
        assert "no_registry" in result, (
            f"{result['name']} is in NO_SPACY_REGISTRY, but spaCy has the registry "
            f"{compat.registry_name(result['group'])}"
        )
    if "no_registry" not in result:
        return False
    message = (
        f"{dist}: {result['name']} is declared in a group spaCy {compat.SPACY_VERSION} has "
        f"no registry for ({result['group']}), so spaCy never finds it"
    )
    if result["name"] in listed:
        compat.REPORT.append(f"{message}: {listed[result['name']]}")
        return True
    if dist not in compat.PENDING:
        pytest.fail(message)
    compat.REPORT.append("TODO " + message)
    return True


def test_every_installed_family_has_a_module_or_is_pending():
    families = compat.families()
    installed = {dist for dist, *_ in compat.arch_entry_points()}
    missing = sorted(installed - set(families) - set(compat.PENDING))
    assert not missing, f"no families/*.py module for {missing}"
    stale = sorted(set(families) & set(compat.PENDING))
    assert not stale, f"{stale} have a family module: remove them from compat.PENDING"
    unknown = sorted(set(families) - installed)
    assert not unknown, f"family modules for distributions that are not installed: {unknown}"


@pytest.mark.parametrize("dist,group,name,target", DECLARED, ids=[r[2] for r in DECLARED])
def test_every_declared_name_is_classified(dist, group, name, target):
    family = compat.families().get(dist)
    if family is None:
        assert dist in compat.PENDING
        return
    kinds = [
        name in family.THEIRS,
        name in family.NO_SPACY_PROVIDER,
        name in getattr(family, "NO_SPACY_REGISTRY", {}),
    ]
    assert sum(kinds) == 1, (
        f"{name}: the {dist} family module must list it in exactly one of THEIRS (a drop-in "
        "for spaCy's function), NO_SPACY_PROVIDER (spaCy has no such name) or "
        "NO_SPACY_REGISTRY (spaCy has no registry for its group)"
    )
    assert name not in family.NOT_DECLARED


def _family_names(field):
    return sorted(
        (dist, name, reason)
        for dist, family in compat.families().items()
        for name, reason in getattr(family, field).items()
    )


@pytest.mark.parametrize("dist,name,reason", _family_names("NOT_DECLARED"))
def test_names_that_cannot_be_drop_ins_are_not_in_spacy_groups(dist, name, reason):
    """Item 6: absent from every spaCy group of every arch distribution (declared, if at
    all, in arch_* groups: our namespace), and spaCy resolves the name to its
    own provider's function, or, when that provider is not installed (spacy-transformers
    in this session), does not find the name at all."""
    import spacy
    from catalogue import RegistryError

    assert name not in {n for _, _, n, _ in DECLARED}
    ours = [g for d, g, n, _ in compat.arch_entry_points() if d == dist and n == name]
    assert all(g.startswith("arch_") for g in ours), (name, ours)
    registry = compat.registry_name(ours[0]) if ours else "architectures"
    if registry not in spacy.util.registry.get_registry_names():
        with pytest.raises(RegistryError, match="E892"):
            spacy.util.registry.get(registry, name)
        compat.REPORT.append(
            f"{name}: not declared in spaCy's groups (spaCy has no `{registry}` registry "
            f"without its provider): {reason}"
        )
        return
    try:
        func = spacy.util.registry.get(registry, name)
    except RegistryError:
        provider = name.split(".")[0]
        assert importlib.util.find_spec(provider.replace("-", "_")) is None, (
            f"{provider} is installed, yet spaCy does not find {name}"
        )
        compat.REPORT.append(
            f"{name}: not declared in spaCy's groups; spaCy finds no {name} here "
            f"({provider} is not installed): {reason}"
        )
        return
    assert not compat.is_ours(func), f"{name} resolves to {func.__module__}"
    assert func.__module__.startswith(("spacy.", "spacy_legacy.", "spacy_transformers."))


@pytest.mark.parametrize("dist,name,reason", _family_names("NO_SPACY_PROVIDER"))
def test_names_spacy_does_not_have(dist, name, reason):
    """Our names that shadow nothing: spaCy without arch has no function by that name."""
    import spacy
    from catalogue import RegistryError

    group = {n: g for _, g, n, _ in DECLARED}[name]
    with compat.without_arch():
        with pytest.raises(RegistryError):
            spacy.util.registry.get(compat.registry_name(group), name)


@pytest.mark.parametrize(
    "name,target", sorted(compat.theirs_table().items()), ids=sorted(compat.theirs_table())
)
def test_theirs_is_what_spacy_uses_without_arch(name, target):
    """The functions the parity tests import explicitly are the ones spaCy 3.8
    resolves the name to when arch is not installed."""
    import spacy

    group = {n: g for _, g, n, _ in DECLARED}[name]
    with compat.without_arch():
        func = spacy.util.registry.get(compat.registry_name(group), name)
    assert func is compat.import_target(target)
