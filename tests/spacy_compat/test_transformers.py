"""arch-transformers and spaCy's registry, beyond the generic items.

spacy-transformers is not installed in this session (it would pull another torch and
transformers), so no drop-in comparison with it is made or claimed. What is checked:

* spaCy 3.8 alone has no ``span_getters`` registry: ``spacy.util.registry`` gains
  one only when spacy-transformers is imported (it calls
  ``catalogue.create("spacy", "span_getters", entry_points=True)`` then). With the
  registry created that same way, spaCy finds our un-prefixed seed names
  (``strided_spans.v1``, ...) through their entry points without any import of
  ours, while the ``spacy-transformers.``-prefixed names, declared only in
  ``arch_span_getters``, stay unknown to it;
* the names spacy-transformers provides (TransformerModel.v1 and the prefixed
  span getters) are declared in no spaCy group (also test_discovery's item-7 test).
"""

import importlib.util
import json
import sys
import textwrap

import compat
import pytest

SEED_GETTERS = ("strided_spans.v1", "sent_spans.v1", "doc_spans.v1")
PREFIXED = tuple(f"spacy-transformers.{name}" for name in SEED_GETTERS)

PROBE = textwrap.dedent(
    """
    import json, sys
    import catalogue
    import spacy
    from thinc.api import Config

    def arch_modules():
        return sorted(m for m in sys.modules if m.split(".")[0].startswith("arch_"))

    reg = spacy.util.registry
    out = {
        "has_attr": hasattr(reg, "span_getters"),
        "in_names": "span_getters" in reg.get_registry_names(),
    }
    try:
        reg.get("span_getters", "strided_spans.v1")
    except Exception as err:
        out["get_without_registry"] = f"{type(err).__name__}: {err}"
    # what spacy-transformers does when it is imported
    reg.span_getters = catalogue.create("spacy", "span_getters", entry_points=True)
    out["in_names_after"] = "span_getters" in reg.get_registry_names()
    out["before_get"] = arch_modules()
    out["found"] = {}
    for name in sys.argv[1:]:
        try:
            func = reg.get("span_getters", name)
            out["found"][name] = [func.__module__, func.__qualname__]
        except Exception as err:
            out["found"][name] = f"{type(err).__name__}: {err}"
    config = Config().from_str(
        '[get]\\n@span_getters = "strided_spans.v1"\\nwindow = 4\\nstride = 3\\n'
    )
    get_spans = reg.resolve(config)["get"]
    nlp = spacy.blank("en")
    doc = nlp.make_doc("one two three four five six seven eight nine ten")
    out["spans"] = [[s.start, s.end] for s in get_spans([doc])[0]]
    json.dump(out, sys.stdout)
    """
)


@pytest.fixture(scope="module")
def probe():
    out = compat.run([sys.executable, "-c", PROBE, *SEED_GETTERS, *PREFIXED])
    return json.loads(out)


def test_spacy_has_no_span_getters_registry_of_its_own(probe):
    assert not probe["has_attr"] and not probe["in_names"]
    assert probe["get_without_registry"].startswith("RegistryError: [E892]")
    compat.REPORT.append(
        "span_getters: spaCy 3.8 alone has no such registry "
        "(spacy.util.registry.get('span_getters', ...) raises E892); spacy-transformers "
        "creates it on import"
    )


def test_with_the_registry_spacy_finds_our_seed_getters_without_importing_us(probe):
    assert probe["in_names_after"]
    assert probe["before_get"] == []
    for name in SEED_GETTERS:
        module, qualname = probe["found"][name]
        assert module == "arch_transformers.span_getters", (name, module)
        assert qualname == name.split(".")[0]
    # strided_spans(window=4, stride=3) on 10 tokens: [0:4], [3:7], [6:10]
    assert probe["spans"] == [[0, 4], [3, 7], [6, 10]]


def test_prefixed_getters_are_unknown_to_spacy_even_with_the_registry(probe):
    for name in PREFIXED:
        assert probe["found"][name].startswith("RegistryError: [E893]"), probe["found"][name]


def test_spacy_transformers_is_not_installed_so_no_drop_in_is_claimed():
    """If this fails, spacy-transformers was installed into the session: the
    NOT_DECLARED checks then compare with its functions, and the family module's
    claims must be revisited."""
    assert importlib.util.find_spec("spacy_transformers") is None
    compat.REPORT.append(
        "arch-transformers: spacy-transformers is not installed in this session; no "
        "drop-in comparison with spacy-transformers is claimed"
    )
