"""The knowledge-base functions of spaCy's mid-2020 ``assets`` registry.

``spacy.EmptyKB.v1``, ``spacy.CandidateGenerator.v1`` and ``spacy.KBFromFile.v1``
are declared in the entry-point group ``spacy_assets`` (registry ``assets``),
where the seed had them. spaCy 3 moved its own versions to ``misc`` and made
them return factories that take a spaCy ``Vocab``; those are left alone (nothing
is declared in ``spacy_misc``), so spaCy's entity linker keeps getting spaCy's
KB while configs that use ``@assets`` get these.
"""

from pathlib import Path
from typing import Any, Callable, Iterable, List, Optional, Union

from arch_tok2vec.validation import check_int

from .kb import Candidate, KnowledgeBase


def EmptyKB(entity_vector_length: int) -> KnowledgeBase:
    """An empty knowledge base, to be filled with add_entity / add_alias.

    entity_vector_length: The length of every entity vector, which is also the
        output width (nO) of the entity linker model trained against it.
    """
    check_int("entity_vector_length", entity_vector_length)
    return KnowledgeBase(entity_vector_length=entity_vector_length)


def get_candidates(kb: KnowledgeBase, mention: Any) -> List[Candidate]:
    """The candidates of a mention: its exact text looked up as an alias.

    kb: The knowledge base.
    mention: A Span (anything with ``.text``) or a string.
    """
    return kb.get_candidates(mention)


def CandidateGenerator() -> Callable[[KnowledgeBase, Any], Iterable[Candidate]]:
    """The function that proposes candidate entities for a mention: it looks up
    the mention's text as an alias of the knowledge base, case-sensitively and
    without any normalisation ("Emerson" finds the candidates of "Emerson",
    not those of "emerson")."""
    return get_candidates


def KBFromFile(
    kb_path: Union[str, Path], nlp_path: Optional[Union[str, Path]] = None
) -> KnowledgeBase:
    """A knowledge base read from a file written by KnowledgeBase.to_disk.

    kb_path: The file. Its entity_vector_length is read from it.
    nlp_path: Older form only (the seed's signature): the pipeline whose
        vocabulary held the KB's strings. A KnowledgeBase keeps its own strings,
        so this is not needed; if given, the path must exist.
    """
    if nlp_path is not None and not Path(nlp_path).exists():
        raise ValueError(f"nlp_path {str(nlp_path)!r} does not exist")
    return KnowledgeBase.load(kb_path)
