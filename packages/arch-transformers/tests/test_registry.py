"""Where the names are declared: spaCy never sees the ones that are not drop-ins."""

from importlib.metadata import distribution

import pytest

from arch_tok2vec import registry

# Names spacy-transformers provides too; ours are not drop-ins for its spaCy component.
ARCH_ONLY = {
    ("arch_architectures", "spacy-transformers.TransformerModel.v1"),
    ("arch_span_getters", "spacy-transformers.strided_spans.v1"),
    ("arch_span_getters", "spacy-transformers.sent_spans.v1"),
    ("arch_span_getters", "spacy-transformers.doc_spans.v1"),
}
# Names no one else provides.
IN_SPACY_GROUPS = {
    ("spacy_architectures", "spacy-transformers.Tok2VecListener.v1"),
    ("spacy_architectures", "arch.WithTransformer.v1"),
    ("spacy_span_getters", "strided_spans.v1"),
    ("spacy_span_getters", "sent_spans.v1"),
    ("spacy_span_getters", "doc_spans.v1"),
}


def declared():
    return {(ep.group, ep.name) for ep in distribution("arch-transformers").entry_points}


def test_names_spacy_transformers_provides_are_not_declared_for_spacy():
    names = declared()
    assert ARCH_ONLY <= names
    for _, name in ARCH_ONLY:
        assert ("spacy_architectures", name) not in names
        assert ("spacy_span_getters", name) not in names


def test_free_names_are_declared_in_spacy_groups():
    assert declared() == ARCH_ONLY | IN_SPACY_GROUPS


@pytest.mark.parametrize("group,name", sorted(ARCH_ONLY | IN_SPACY_GROUPS))
def test_every_name_resolves_through_our_registry(group, name):
    registry_name = "architectures" if group.endswith("architectures") else "span_getters"
    function = getattr(registry, registry_name).get(name)
    assert function.__module__.startswith("arch_transformers.")
