"""The entity-linking task for ``archs train`` / ``archs evaluate``.

Registered as ``arch.entity_linker.v1`` in the ``arch_tasks`` entry-point group::

    [task]
    @tasks = "arch.entity_linker.v1"
    entities = null          # entity list (.jsonl / .csv), optional
    aliases = "aliases.tsv"  # alias table (.tsv)
    kb_path = null           # or a KnowledgeBase saved with to_disk
    entity_vector_length = 64
    entity_vectors = "words"    # or "random", "corpus"
    n_sents = 0                 # sentences of context on each side (same doc_id)
    incl_prior = true
    incl_context = true
    propn_only = false
    combination = "spacy"       # or "softmax"
    tau_context = 0.1           # softmax: temperature of the encoder's cosine
    tau_words = 0.05            # softmax: temperature of the word profiles (null: off)
    words_scope = "context"     # softmax: or "document" (the words of the whole doc_id)
    type_weight = 0.0           # softmax: bonus when the mention's label fits the entity

Each corpus record is one context (e.g. a sentence) with its mentions; with
``n_sents`` > 0 the context the model encodes is the sentence with up to
``n_sents`` records before and after it that share its ``doc_id`` (spaCy's
``n_sents`` window). The model encodes the context as one vector; training pulls that vector towards
the vector of the gold entity of every mention in it (cosine distance, as spaCy
trains its v1 entity linker). Linking a mention looks up its text as an alias;
no candidate gives NIL, one candidate is taken, and several are scored by
``prior + sim - prior * sim`` (``sim`` the cosine between context and entity
vector; ``prior`` or ``sim`` dropped with ``incl_prior`` / ``incl_context``),
the first best candidate winning ties. ``combination = "softmax"`` scores them
instead by ``log(prior) + sim / tau_context + words / tau_words``, ``words``
the cosine between tf-idf bags of words of the mention's context (or, with
``words_scope = "document"``, of its whole document) and of the candidate's
training contexts (``WordProfiles``), plus ``type_weight`` for a candidate
whose usual label in training is the mention's label.

A saved model keeps its knowledge base as a file of its own, ``kb.bin`` (format
version 2, ``write_files``), which loading maps read-only (``read_files``): the
worker processes of a corpus run share one copy of its pages. Models saved by
arch-entitylinker 0.3.2 and older hold the KB inside task.json (base64 of format
version 1) and still load, into memory.
"""

import base64
import os
import stat
import warnings
from importlib import resources
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple

import numpy
from thinc.api import CosineDistance, Model

from arch_tok2vec import CorpusError, Example, ModelFileError, Task
from arch_tok2vec.validation import check_bool, check_int

from .corpus import Mention, context_of, read_corpus
from .kb import KnowledgeBase
from .kb_files import ENTITY_VECTORS, build_kb, corpus_vectors
from .kb_format import KBFormatError
from .linking import (
    COMBINATIONS,
    MAX_ALIAS_TOKENS,
    NIL,
    PRIOR_FLOOR,
    WORDS_SCOPES,
    check_combination,
    cosines,
    entity_types,
    find_aliases,
    softmax_scores,
    spacy_scores,
)
from .word_profiles import WordContext, WordProfiles, context_tokens

_cosines = cosines  # the name bench/cv_entitylinker.py imports

KB_FILE = "kb.bin"
"""The knowledge base's file in a saved model folder."""

ALIAS_LABEL = "MENTION"
"""The label of the mentions the linker finds itself (the KB's aliases in the text)
when no model before it set entities."""

__all__ = [
    "COMBINATIONS",
    "MAX_ALIAS_TOKENS",
    "NIL",
    "PRIOR_FLOOR",
    "WORDS_SCOPES",
    "EntityLinkerTask",
    "Mention",
    "WordContext",
    "WordProfiles",
    "_cosines",
    "context_of",
    "context_tokens",
    "entity_linker_task",
    "entity_types",
]


class EntityLinkerTask(Task):
    """Link mentions to knowledge-base entities (see the module docstring)."""

    name = "entity_linker"
    score_key = "accuracy"
    metrics = ("accuracy", "ambiguous_accuracy")
    sample_files = ("arch_entitylinker", "train.jsonl", "dev.jsonl")
    provides = ("ents", "kb_ids")

    def __init__(
        self,
        entities: Optional[str] = None,
        aliases: Optional[str] = None,
        kb_path: Optional[str] = None,
        entity_vector_length: int = 64,
        entity_vectors: str = "words",
        incl_prior: bool = True,
        incl_context: bool = True,
        propn_only: bool = False,
        n_sents: int = 0,
        combination: str = "spacy",
        tau_context: float = 0.1,
        tau_words: Optional[float] = 0.05,
        words_scope: str = "context",
        type_weight: float = 0.0,
    ):
        check_combination(combination, tau_context, tau_words, words_scope, type_weight)
        check_int("n_sents", n_sents, minimum=0)
        if kb_path is not None and (entities is not None or aliases is not None):
            raise ValueError("kb_path cannot be combined with entities or aliases: choose one")
        if entities is not None and aliases is None:
            raise ValueError(
                "aliases is needed with entities: candidates come from the alias table"
            )
        if isinstance(entity_vector_length, bool) or not isinstance(entity_vector_length, int):
            raise ValueError(
                f"entity_vector_length must be an integer, got {entity_vector_length!r}"
            )
        if entity_vector_length < 1:
            raise ValueError(
                f"entity_vector_length must be a positive integer, got {entity_vector_length}"
            )
        if entity_vectors not in ENTITY_VECTORS:
            raise ValueError(
                f"entity_vectors must be one of {', '.join(ENTITY_VECTORS)}, got {entity_vectors!r}"
            )
        if not (incl_prior or incl_context):
            raise ValueError("incl_prior and incl_context cannot both be false")
        self.entities = entities
        self.aliases = aliases
        self.kb_path = kb_path
        self.entity_vector_length = entity_vector_length
        self.entity_vectors = entity_vectors
        self.incl_prior = bool(incl_prior)
        self.incl_context = bool(incl_context)
        self.propn_only = bool(propn_only)
        self.n_sents = n_sents
        self.combination = combination
        self.tau_context = float(tau_context)
        self.tau_words = None if tau_words is None else float(tau_words)
        self.words_scope = words_scope
        self.type_weight = float(type_weight)
        self.words: Optional[WordProfiles] = None
        """The entities' word profiles ("softmax" with tau_words), from initialize."""
        self.types: Optional[Dict[str, str]] = None
        """Each trained-on entity's most frequent mention label ("softmax" with
        type_weight > 0), from initialize."""
        self._kb: Optional[KnowledgeBase] = None
        self._kb_in_folder = False  # from_dict read a task.json whose KB is in KB_FILE
        # the "words" vectors of the entities the KB files give no vector for
        self._made_up: Dict[str, numpy.ndarray] = {}
        self._distance = CosineDistance(normalize=False)

    # -- the knowledge base ---------------------------------------------------

    @property
    def kb(self) -> KnowledgeBase:
        """The knowledge base: loaded from the configured files on first use
        (the package's sample KB if none are configured)."""
        if self._kb is None:
            if self._kb_in_folder:
                raise ValueError(
                    f"this task was restored from a model folder's task.json, whose knowledge "
                    f"base is the folder's {KB_FILE}: call read_files(folder) after from_dict "
                    "(arch_tok2vec.load does)"
                )
            self._kb = self._load_kb()
        return self._kb

    def set_kb(self, kb: KnowledgeBase) -> None:
        """Use this knowledge base instead of the configured files."""
        self._kb = kb
        self._kb_in_folder = False

    def _load_kb(self) -> KnowledgeBase:
        if self.kb_path is not None:
            return KnowledgeBase.load(self.kb_path)
        made_up: List[str] = []
        width, treatment = self.entity_vector_length, self.entity_vectors
        if self.aliases is None:
            folder = resources.files("arch_entitylinker") / "sample"
            with (
                resources.as_file(folder / "entities.jsonl") as entities,
                resources.as_file(folder / "aliases.tsv") as aliases,
            ):
                kb = build_kb(entities, aliases, width, treatment, made_up)
        else:
            listed = Path(self.entities) if self.entities is not None else None
            kb = build_kb(listed, Path(self.aliases), width, treatment, made_up)
        self._made_up = {entity: kb.get_vector(entity).copy() for entity in made_up}
        return kb

    # -- corpora --------------------------------------------------------------
    def read(self, path: Path) -> List[Example]:
        """Read a JSONL corpus: GUM's format (``text``, optional ``words``, and
        ``mentions`` with ``start_char``/``end_char`` and ``wikidata`` or
        ``kb_id``) or Prodigy's (``text``, ``spans``, ``accept``)."""
        return read_corpus(path, self.propn_only, self.n_sents, self.words_scope == "document")

    def check(self, examples: Sequence[Example], path: Path) -> None:
        """A corpus none of whose scored mentions has a candidate cannot be
        scored: most likely the alias table does not fit it."""
        mentions = [m for eg in examples for m in eg.gold["mentions"] if m.scored]
        if mentions and not any(self.kb.contains_alias(m.text) for m in mentions):
            raise CorpusError(
                path,
                0,
                f"none of the {len(mentions)} mentions has a candidate in the knowledge base "
                f"({self.kb.get_size_aliases()} aliases): is it the right alias table?",
            )

    # -- model ----------------------------------------------------------------

    def initialize(self, model: Model, examples: Sequence[Example]) -> None:
        kb = self.kb
        targets = sum(
            1 for eg in examples for m in eg.gold["mentions"] if kb.contains_entity(m.kb_id)
        )
        if not targets:
            raise ValueError(
                "no training mention's entity is in the knowledge base, so there is "
                "nothing to learn: check the KB files against the corpus"
            )
        if self.entity_vectors == "corpus" and self._made_up:
            contexts = [
                (m.kb_id, context_of(eg.doc).text) for eg in examples for m in eg.gold["mentions"]
            ]
            corpus_vectors(kb, self._made_up, contexts)
        if self.combination == "softmax" and self.tau_words is not None:
            self.words = WordProfiles.build(
                (
                    self._word_tokens(eg.doc),
                    [kb.entity_row(m.kb_id) for m in eg.gold["mentions"]],
                )
                for eg in examples
            )
        if self.combination == "softmax" and self.type_weight > 0:
            self.types = entity_types(
                (m.kb_id, m.label) for eg in examples for m in eg.gold["mentions"]
            )
            if not self.types:
                warnings.warn(
                    "type_weight is set but no training mention has a label (entity_type or "
                    "label), so the label term does nothing",
                    stacklevel=2,
                )
        sample = [context_of(eg.doc) for eg in examples[:10]]
        width = kb.entity_vector_length
        model.initialize(X=sample, Y=numpy.zeros((len(sample), width), dtype="float32"))
        n_out = model.get_dim("nO") if model.has_dim("nO") else None
        if n_out is not None and n_out != width:
            raise ValueError(
                f"the model's nO is {n_out} but the knowledge base's entity vectors have "
                f"length {width}; set nO = null (or {width})"
            )

    def update(self, model: Model, examples: Sequence[Example], sgd: Any) -> float:
        """One training step: encode each example's context (its window with
        ``n_sents``), then as the base class."""
        guesses, backprop = model.begin_update([context_of(eg.doc) for eg in examples])
        loss, d_guesses = self.get_loss(examples, guesses)
        backprop(d_guesses)
        model.finish_update(sgd)
        return float(loss)

    def get_loss(self, examples: Sequence[Example], guesses: Any) -> Tuple[float, Any]:
        """Cosine distance between each mention's context vector and its gold
        entity's vector (mentions of entities outside the KB are skipped)."""
        kb = self.kb
        rows: List[int] = []
        where: List[int] = []
        for i, eg in enumerate(examples):
            for m in eg.gold["mentions"]:
                row = kb.entity_row(m.kb_id)
                if row >= 0:
                    rows.append(row)
                    where.append(i)
        d_guesses = numpy.zeros_like(guesses)
        if not rows:
            return 0.0, d_guesses
        index = numpy.asarray(where)
        encodings = guesses[index]
        gold = kb.vectors[numpy.asarray(rows)]
        gradients = self._distance.get_grad(encodings, gold)
        loss = float(self._distance.get_loss(encodings, gold))
        numpy.add.at(d_guesses, index, numpy.asarray(gradients))
        return loss, d_guesses

    def predict(self, model: Model, docs: Sequence[Any]) -> List[List[Tuple[int, int, str, str]]]:
        """For each Doc, its mentions as ``(start_char, end_char, text, kb_id)``
        (``"NIL"`` without candidates). A Doc without entity spans gets its
        mentions by the longest aliases of the KB found in its text. Warns when
        the label term meets mention labels that training never saw."""
        docs = list(docs)
        encodings: Dict[int, numpy.ndarray] = {}
        filled = [i for i, doc in enumerate(docs) if len(doc)]
        if self.incl_context and filled:
            encoded = model.predict([context_of(docs[i]) for i in filled])
            encodings = dict(zip(filled, encoded))
        out = []
        by_tokens: Dict[int, Tuple[List[str], WordContext]] = {}  # a document's records share
        for i, doc in enumerate(docs):
            spans = list(doc.ents)
            if not spans and not _mentions_given(doc):
                spans = self._find_aliases(doc)
            context = encodings.get(i)
            words = None
            if spans and self._use_words():
                assert self.words is not None
                tokens = self._word_tokens(doc)
                if id(tokens) not in by_tokens:
                    by_tokens[id(tokens)] = (tokens, self.words.context(tokens))
                words = by_tokens[id(tokens)][1]
            links = []
            # one Doc text for all its spans (a span's .text may rebuild it each time)
            doc_text = doc.text if spans else ""
            for span in spans:
                text = doc_text[span.start_char : span.end_char]
                kb_id = self.link(text, context, words, span.label_)
                links.append((span.start_char, span.end_char, text, kb_id))
            out.append(links)
        self._check_labels({span.label_ for doc in docs for span in doc.ents})
        return out

    def _check_labels(self, labels: Iterable[str]) -> None:
        """Warn if the label term is on and some mention labels never occur in
        training (another label scheme, e.g. an NER model's): they add nothing."""
        if not self._use_types():
            return
        assert self.types is not None
        known = set(self.types.values())
        unknown = sorted({label for label in labels if label and label not in known})
        if unknown:
            warnings.warn(
                f"type_weight: the mention labels {unknown[:5]} never occur in training "
                f"(its labels: {sorted(known)[:10]}), so the label term ignores them",
                stacklevel=3,
            )

    def link(
        self,
        alias: str,
        context: Optional[numpy.ndarray],
        words: Optional[WordContext] = None,
        label: str = "",
    ) -> str:
        """The entity an alias links to, or "NIL".

        alias: The mention's text, looked up in the KB.
        context: The model's encoding of the mention's context (None: not used).
        words: The context's bag of words (``WordProfiles.context``), used by
            "softmax" with ``tau_words``; None: no word signal.
        label: The mention's label (e.g. an NER label), compared with the
            candidates' labels by "softmax" with ``type_weight``; "": none.
        """
        rows, priors = self.kb.candidate_rows(alias)
        if not rows:
            return NIL
        if len(rows) == 1:
            return self.kb._entity_ids[rows[0]]
        if self.combination == "softmax":
            scores = self._softmax_scores(rows, priors, context, words, label)
        else:
            sims = None
            if self.incl_context and context is not None:
                sims = cosines(self.kb.vectors[rows], context)
            scores = spacy_scores(priors if self.incl_prior else [0.0] * len(rows), sims)
        return self.kb._entity_ids[rows[int(numpy.argmax(scores))]]

    def _softmax_scores(
        self,
        rows: List[int],
        priors: List[float],
        context: Optional[numpy.ndarray],
        words: Optional[WordContext],
        label: str = "",
    ) -> numpy.ndarray:
        """The "softmax" scores of the candidates in KB ``rows`` (see
        ``linking.softmax_scores``); a term left out by the settings (or
        without a label) counts as 0."""
        sims = word_sims = fits = None
        if self.incl_context and context is not None:
            sims = cosines(self.kb.vectors[rows], context)
        if words is not None and self.words is not None and self.tau_words is not None:
            word_sims = self.words.cosines(rows, words)
        if label and self._use_types():
            assert self.types is not None
            ids = self.kb._entity_ids
            fits = [self.types.get(ids[row]) == label for row in rows]
        return softmax_scores(
            len(rows),
            priors if self.incl_prior else None,
            sims,
            self.tau_context,
            word_sims,
            self.tau_words,
            fits,
            self.type_weight,
        )

    def _use_types(self) -> bool:
        return self.combination == "softmax" and self.type_weight > 0 and bool(self.types)

    def _word_tokens(self, doc: Any) -> List[str]:
        """The tokens the word signal compares for a Doc: its context's, or
        with ``words_scope = "document"`` its whole document's."""
        if self.words_scope != "document":
            return context_tokens(context_of(doc))
        document = getattr(doc, "document", None)
        if document is None:
            return context_tokens(doc)
        tokens = getattr(document, "word_tokens", None)
        if tokens is None:  # computed once per document, shared by its records
            tokens = document.word_tokens = context_tokens(document)
        return tokens

    def _use_words(self) -> bool:
        return (
            self.combination == "softmax" and self.tau_words is not None and self.words is not None
        )

    def _find_aliases(self, doc: Any) -> List[Any]:
        """Greedy longest-first alias matches over token spans."""
        return find_aliases(doc, self.kb.contains_alias, MAX_ALIAS_TOKENS)

    def annotate(self, docs: Any, predictions: Any) -> None:
        """Set each entity span's ``kb_id_`` to the linked entity (ours or spaCy's
        Doc). A Doc that had no entities gets the mentions ``predict`` found by the
        KB's aliases as its entities, labelled ``ALIAS_LABEL`` (spaCy keeps no
        entity without a label)."""
        from arch_tok2vec.annotations import ents, set_ents, token_span

        for doc, links in zip(docs, predictions):
            by_chars = {(s, e): kb_id for s, e, _, kb_id in links}
            spans = [(span.start_char, span.end_char) for span in doc.ents]
            if spans:
                linked = [
                    (start, end, label, by_chars.get(chars, NIL))
                    for (start, end, label, _), chars in zip(ents(doc), spans)
                ]
            else:
                linked = []
                for start_char, end_char, _, kb_id in links:
                    tokens = token_span(doc, start_char, end_char)
                    if tokens is not None:
                        linked.append((tokens[0], tokens[1], ALIAS_LABEL, kb_id))
            set_ents(doc, linked)

    def record(self, doc: Any) -> Dict[str, Any]:
        """``{"ents": [...]}`` as the NER task writes them, each with the ``kb_id``
        it was linked to ("NIL": no candidate in the knowledge base)."""
        from arch_tok2vec.annotations import entity_records

        return {"ents": entity_records(doc, with_kb_id=True)}

    def chain_note(self, earlier: Sequence[Task]) -> Optional[str]:
        """Says so when no model before the linker sets entities: it then links the
        mentions it finds itself, the longest aliases of the knowledge base in the
        text."""
        if any("ents" in task.provides for task in earlier):
            return None
        return (
            "no model before the entity linker sets entities (e.g. an NER model), so it "
            "links the mentions it finds itself: the longest aliases of its knowledge "
            f"base in the text, labelled {ALIAS_LABEL}"
        )

    # -- metrics --------------------------------------------------------------

    def score(self, examples: Sequence[Example], predictions: Sequence[Any]) -> Dict[str, Any]:
        """accuracy over the scored mentions that have at least one candidate,
        beside the prior-only and random-choice baselines on the same mentions."""
        kb = self.kb
        n = with_cands = ambiguous = 0
        correct = prior_correct = ambiguous_correct = 0
        random_expected = oracle = 0.0
        for eg, links in zip(examples, predictions):
            predicted = {(s, e): kb_id for s, e, _, kb_id in links}
            for m in eg.gold["mentions"]:
                if not m.scored:
                    continue
                n += 1
                rows, priors = kb.candidate_rows(m.text)
                if not rows:
                    continue
                with_cands += 1
                ids = [kb._entity_ids[r] for r in rows]
                hit = predicted.get((m.start_char, m.end_char)) == m.kb_id
                correct += hit
                prior_correct += ids[int(numpy.argmax(priors))] == m.kb_id
                random_expected += (m.kb_id in ids) / len(ids)
                oracle += m.kb_id in ids
                if len(ids) > 1:
                    ambiguous += 1
                    ambiguous_correct += hit
        denominator = max(with_cands, 1)
        return {
            "accuracy": correct / denominator,
            "prior_accuracy": prior_correct / denominator,
            "random_accuracy": random_expected / denominator,
            "oracle_accuracy": oracle / denominator,
            "ambiguous_accuracy": ambiguous_correct / max(ambiguous, 1),
            "mentions": n,
            "mentions_with_candidates": with_cands,
            "ambiguous_mentions": ambiguous,
        }

    # -- persistence ----------------------------------------------------------

    def to_dict(self) -> Dict[str, Any]:
        """The settings, and the name of the knowledge base's file (``KB_FILE``),
        which ``write_files`` writes beside task.json so that a saved model links
        without the KB files it was trained with."""
        return {
            "incl_prior": self.incl_prior,
            "incl_context": self.incl_context,
            "propn_only": self.propn_only,
            "n_sents": self.n_sents,
            "combination": self.combination,
            "tau_context": self.tau_context,
            "tau_words": self.tau_words,
            "words_scope": self.words_scope,
            "type_weight": self.type_weight,
            "words": None if self.words is None else self.words.to_dict(),
            "types": self.types,
            "kb_file": KB_FILE,
        }

    def from_dict(self, data: Dict[str, Any]) -> "EntityLinkerTask":
        """Restore the settings, the word profiles, the labels and the knowledge base;
        ValueError naming the key for a value of the wrong kind or range (as the
        settings are checked, and ``WordProfiles.from_dict``)."""
        incl_prior = check_bool("incl_prior", data["incl_prior"])
        incl_context = check_bool("incl_context", data["incl_context"])
        if not (incl_prior or incl_context):
            raise ValueError("incl_prior and incl_context cannot both be false")
        self.incl_prior, self.incl_context = incl_prior, incl_context
        self.propn_only = check_bool("propn_only", data["propn_only"])
        self.n_sents = check_int("n_sents", data.get("n_sents", 0), minimum=0)
        # models saved before these settings existed link with spaCy's rule
        combination = data.get("combination", "spacy")
        tau_context = data.get("tau_context", 0.1)
        tau_words = data.get("tau_words", 0.05)
        words_scope = data.get("words_scope", "context")
        type_weight = data.get("type_weight", 0.0)
        check_combination(combination, tau_context, tau_words, words_scope, type_weight)
        self.combination = combination
        self.tau_context = float(tau_context)
        self.tau_words = None if tau_words is None else float(tau_words)
        self.words_scope = words_scope
        self.type_weight = float(type_weight)
        types = data.get("types")
        if types is not None and not isinstance(types, dict):
            raise ValueError(f"a saved task's types must be a dict, got {type(types).__name__}")
        for entity, label in (types or {}).items():
            if not (isinstance(label, str) and label and isinstance(entity, str) and entity):
                raise ValueError(
                    "types must map entity IDs to labels, both non-empty strings, got "
                    f"{entity!r:.60}: {label!r:.60}"
                )
        self.types = None if types is None else dict(types)
        words = data.get("words")
        self.words = None if words is None else WordProfiles.from_dict(words)
        self._made_up = {}  # the saved KB's vectors are final
        if "kb" in data:  # saved by 0.3.2 and older: the KB inside task.json
            kb = data["kb"]
            if not isinstance(kb, str):
                raise ValueError(f"kb must be the knowledge base's bytes in base64, got {kb!r:.60}")
            self._kb = KnowledgeBase(1).from_bytes(base64.b64decode(kb))
            self._kb_in_folder = False
            self._check_word_rows()
        else:
            if data["kb_file"] != KB_FILE:
                raise ValueError(f"kb_file must be {KB_FILE!r}, got {data['kb_file']!r:.60}")
            self._kb = None
            self._kb_in_folder = True  # read_files maps it, then checks the word rows
        return self

    def write_files(self, folder: Path) -> None:
        """Write the knowledge base to ``KB_FILE`` in a model folder being saved
        (format version 2, which ``read_files`` maps).

        folder: The new model folder.
        """
        self.kb.to_disk(Path(folder) / KB_FILE)

    def read_files(self, folder: Path) -> None:
        """Map the knowledge base of a model folder read-only, after ``from_dict``
        (nothing to do for a task.json that holds its KB). The file's CRC-32 is
        checked unless the model folder's manifest verified its sha256 in this
        process (``arch_tok2vec.verified_files``); its header and tables always.

        folder: The model folder being loaded.
        """
        if not self._kb_in_folder:
            return
        path = Path(folder) / KB_FILE
        try:
            info = os.lstat(path)
        except FileNotFoundError:
            raise ModelFileError(
                path, "missing from the model folder (task.json names it)"
            ) from None
        if not stat.S_ISREG(info.st_mode):
            raise ModelFileError(
                path, "is not a plain file (the files of a model folder cannot be links)"
            )
        try:
            kb = KnowledgeBase.load(path, mmap=True, verify=False)
            mapped = kb.mapped_file
            assert mapped is not None
            if (mapped.stat.st_dev, mapped.stat.st_ino) != (info.st_dev, info.st_ino):
                raise ModelFileError(path, "was replaced while it was being opened")
            if not _verified_on_load(mapped.stat):
                kb.verify()
        except KBFormatError as err:
            raise ModelFileError(path, err.reason) from None
        self._kb = kb
        self._kb_in_folder = False
        try:
            self._check_word_rows()
        except ValueError as err:
            raise ModelFileError(Path(folder) / "task.json", str(err), key="words.rows") from None

    def _check_word_rows(self) -> None:
        """Refuse saved word profiles that name KB rows the restored KB does not have."""
        if self.words is not None and len(self.words.rows) and self._kb is not None:
            if self.words.rows[-1] >= self._kb.get_size_entities():
                raise ValueError(
                    f"words.rows names KB row {self.words.rows[-1]}, but the knowledge base "
                    f"has {self._kb.get_size_entities()} entities"
                )


def _verified_on_load(stat: Any) -> bool:
    """Whether the file with this ``os.fstat`` had its sha256 verified against a
    model folder's manifest in this process (False with an arch-tok2vec that does
    not record that: the KB file's own checksum is then checked)."""
    try:
        from arch_tok2vec.verified_files import is_verified
    except ImportError:
        return False
    return is_verified(stat)


def entity_linker_task(
    entities: Optional[str] = None,
    aliases: Optional[str] = None,
    kb_path: Optional[str] = None,
    entity_vector_length: int = 64,
    entity_vectors: str = "words",
    incl_prior: bool = True,
    incl_context: bool = True,
    propn_only: bool = False,
    n_sents: int = 0,
    combination: str = "spacy",
    tau_context: float = 0.1,
    tau_words: Optional[float] = 0.05,
    words_scope: str = "context",
    type_weight: float = 0.0,
) -> EntityLinkerTask:
    """The entity-linking task (see EntityLinkerTask).

    entities: An entity list (.jsonl or .csv) with names, descriptions,
        frequencies or vectors; null: the entities named in the alias table.
    aliases: The alias table (.tsv) that gives each alias its candidates and
        prior probabilities. null (with kb_path null): the package's sample KB.
    kb_path: A KnowledgeBase file written by KnowledgeBase.to_disk, instead of
        entities and aliases.
    entity_vector_length: The length of the entity vectors built from the files
        (the model's nO); a KB file brings its own.
    entity_vectors: How entities without a vector get one: "words" (from the
        words of their name and description), "random" (from their ID) or
        "corpus" ("words", plus the words of the training contexts of the
        entities the training corpus mentions).
    incl_prior: Use the alias's prior probabilities when choosing a candidate.
    incl_context: Use the similarity of the context vector to each candidate.
    propn_only: Score only mentions whose "upos" list has a PROPN (GUM's
        proper-noun mentions); training uses every mention either way.
    n_sents: Sentences of context on each side of a mention's sentence (records
        of the corpus with the same doc_id), as spaCy's n_sents; 0: the
        sentence alone.
    combination: How several candidates are scored: "spacy" (prior + sim -
        prior * sim, as spaCy) or "softmax" (log(prior) + sim / tau_context +
        words / tau_words, words the cosine between tf-idf bags of words of the
        mention's context and of the candidate's training contexts; a prior of
        0 counts as PRIOR_FLOOR, 1e-6).
    tau_context: "softmax": temperature of the context-entity cosine (> 0;
        smaller gives context more weight against the prior).
    tau_words: "softmax": temperature of the bag-of-words cosine (> 0); null:
        no word signal (and no word profiles built or saved).
    words_scope: "softmax": the words the word signal compares: "context" (the
        context the model encodes) or "document" (all the corpus records with
        the mention's doc_id, in a run; a Doc from elsewhere: the whole Doc).
    type_weight: "softmax": added to a candidate's score when the mention's
        label (GUM's entity_type, a mention's label, a Doc span's label_) is the label
        the candidate's training mentions have most often (>= 0); 0: off.
    """
    return EntityLinkerTask(
        entities,
        aliases,
        kb_path,
        entity_vector_length,
        entity_vectors,
        incl_prior,
        incl_context,
        propn_only,
        n_sents,
        combination,
        tau_context,
        tau_words,
        words_scope,
        type_weight,
    )


def _mentions_given(doc: Any) -> bool:
    """Whether a Doc's entities were given (by a corpus or an NER model before
    the linker), so that none means none rather than "search the aliases"."""
    if getattr(doc, "mentions_given", False):
        return True
    user_data = getattr(doc, "user_data", None)  # spaCy's Doc
    return bool(user_data.get("mentions_given")) if isinstance(user_data, dict) else False
