"""Build a KnowledgeBase from plain files: an entity list and an alias table.

**Entities** (optional), by file suffix:

- ``.jsonl``: one object per line, ``{"id": "Q48226", "name": "Ralph Waldo Emerson",
  "description": "American writer", "freq": 12, "vector": [...], "aliases": ["R. W. Emerson"]}``;
  only ``id`` is required. ``aliases`` are added with a count of 1 each.
- ``.csv``: rows ``id,name,description`` (spaCy's Emerson tutorial ``entities.csv``);
  a first row whose first cell is ``id`` or ``qid`` (any case) is a header.

**Aliases** (``.tsv``, tab-separated, with a header row naming the columns):

- ``alias`` (required): the text a mention must have, exactly;
- the entity: ``entity``, ``entity_id``, ``id``, ``kb_id``, ``qid`` or ``wikidata_id``;
- optionally its weight: ``prior`` / ``prior_prob`` (used as given) or ``count`` /
  ``count_in_train`` (priors are each count over the alias's total); no weight
  column gives every candidate of an alias the same prior;
- optionally ``name`` or ``wikipedia_title``: the entity's name, used when the
  entity list does not give one (underscores read as spaces).

GUM's ``aliases_train.tsv`` (``alias, wikipedia_title, wikidata_id,
count_in_train, has_propn``) is such a table. An entity named only in the alias
table is added with the sum of its counts as frequency.

**Entities without a vector** get a fixed vector that depends only on the
entity (the same in every run and process), by ``entity_vectors``:

- ``"words"`` (default): the normalised sum of fixed pseudo-random unit vectors
  of the lower-cased words of the entity's name and description (one vector
  per distinct word, seeded by the word), plus half of a pseudo-random unit
  vector of the ID itself, normalised again. Entities that share words
  ("Belgium" and "Belgium national football team", or every "... national
  football team") get related vectors, so what the context encoder learns
  about one carries over to the others; the ID part keeps entities with the
  same words apart. An entity without name or description gets its ID vector.
- ``"random"``: the ID's pseudo-random unit vector alone.
- ``"corpus"``: the ``"words"`` vector, and for entities mentioned in the
  training corpus also the contexts they are mentioned in: when training starts
  (``corpus_vectors``), such an entity's vector becomes the normalised sum of
  its ``"words"`` vector and the normalised idf-weighted sum of the fixed word
  vectors of the distinct lower-cased words of every training context of the
  entity (idf = log(contexts / contexts with the word)). Entities seen in
  different surroundings ("the House" of a floor speech, "the House" of a
  letter about a bill) so get vectors that differ in the way their contexts
  do, and the vectors are still fixed (the same in every run, saved with the
  KB). Entities the training corpus does not mention keep the ``"words"``
  vector.
"""

import csv
import re
import zlib
from collections import defaultdict
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import numpy

from arch_tok2vec import CorpusError
from arch_tok2vec.corpus_io import read_jsonl, read_lines

from . import kb_checks
from .kb import PRIOR_TOLERANCE, KnowledgeBase

ENTITY_VECTORS = ("words", "random", "corpus")
ENTITY_COLUMNS = ("entity", "entity_id", "id", "kb_id", "qid", "wikidata_id")
PRIOR_COLUMNS = ("prior", "prior_prob")
COUNT_COLUMNS = ("count", "count_in_train")
NAME_COLUMNS = ("name", "wikipedia_title")
_WORD = re.compile(r"\w+", re.UNICODE)
_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
_FLOAT32_MAX = float(numpy.finfo(numpy.float32).max)


class EntityRecord:
    """One entity as read from a file, and the line it was read from."""

    __slots__ = ("id", "name", "description", "freq", "vector", "line")

    def __init__(self, id: str, line: int):
        self.id = id
        self.name = ""
        self.description = ""
        self.freq: Optional[float] = None
        self.vector: Optional[numpy.ndarray] = None
        self.line = line


def unit_vector(key: str, width: int) -> numpy.ndarray:
    """A fixed pseudo-random unit vector for ``key`` (seeded by its CRC-32)."""
    rng = numpy.random.default_rng(zlib.crc32(key.encode("utf8")))
    vector = rng.standard_normal(width)
    return (vector / numpy.linalg.norm(vector)).astype(numpy.float32)


def entity_vector(entity_id: str, text: str, width: int, treatment: str) -> numpy.ndarray:
    """The vector of an entity the files give none for (see the module docstring).

    entity_id: The entity's ID.
    text: Its name and description.
    width: The vector length.
    treatment: "words", "random" or "corpus" (here the same as "words": the
        corpus part is added by corpus_vectors).
    """
    own = unit_vector("id:" + entity_id, width)
    if treatment == "random":
        return own
    if treatment not in ("words", "corpus"):
        raise ValueError(f"entity_vectors must be one of {ENTITY_VECTORS}, got {treatment!r}")
    words = sorted(set(_WORD.findall(text.replace("_", " ").lower())))
    if not words:
        return own
    total = numpy.sum([unit_vector("word:" + w, width) for w in words], axis=0)
    mixed = total / numpy.linalg.norm(total) + 0.5 * own
    return (mixed / numpy.linalg.norm(mixed)).astype(numpy.float32)


ListedAliases = List[Tuple[str, str, int]]  # (alias, entity, line) from an entity list


def read_entities(path: Path) -> Tuple[Dict[str, EntityRecord], ListedAliases]:
    """Read an entity list (.jsonl or .csv): the entities by ID, and the aliases
    the list gives them; errors name the file and line."""
    if not path.exists():
        raise CorpusError(path, 0, "entities file not found")
    suffix = path.suffix.lower()
    aliases: ListedAliases = []
    if suffix == ".jsonl":
        return _read_entities_jsonl(path, aliases), aliases
    if suffix == ".csv":
        return _read_entities_csv(path), aliases
    raise CorpusError(path, 0, "unknown entities format: use .jsonl or .csv")


def _read_entities_jsonl(path: Path, listed: ListedAliases) -> Dict[str, EntityRecord]:
    records: Dict[str, EntityRecord] = {}
    for number, data in read_jsonl(path):
        if not isinstance(data, dict) or not isinstance(data.get("id"), str) or not data["id"]:
            raise CorpusError(path, number, 'each line needs a non-empty "id" string')
        record = _new_record(records, data["id"], path, number)
        for key in ("name", "description"):
            value = data.get(key, "")
            if not isinstance(value, str):
                raise CorpusError(path, number, f'"{key}" must be a string')
            setattr(record, key, value)
        freq = data.get("freq")
        if freq is not None:
            record.freq = _checked(path, number, kb_checks.frequency, freq, record.id, '"freq"')
        vector = data.get("vector")
        if vector is not None:
            if not isinstance(vector, list):
                raise CorpusError(path, number, '"vector" must be a list of numbers')
            record.vector = _checked(
                path, number, kb_checks.vector, vector, len(vector), record.id, '"vector"'
            )
        aliases = data.get("aliases", [])
        if not isinstance(aliases, list) or not all(isinstance(a, str) and a for a in aliases):
            raise CorpusError(path, number, '"aliases" must be a list of non-empty strings')
        records[record.id] = record
        listed.extend((alias, record.id, number) for alias in aliases)
    return records


def _checked(path: Path, number: int, check: Callable[..., Any], *args: Any) -> Any:
    """``check(*args)`` (a ``kb_checks`` function), its refusal a CorpusError."""
    try:
        return check(*args)
    except (TypeError, ValueError) as err:
        raise CorpusError(path, number, str(err)) from None


def _new_record(
    records: Dict[str, EntityRecord], entity_id: str, path: Path, number: int
) -> EntityRecord:
    if entity_id in records:
        first = records[entity_id].line
        raise CorpusError(
            path, number, f"entity {entity_id!r} is listed twice (first at line {first})"
        )
    return EntityRecord(entity_id, number)


def _read_entities_csv(path: Path) -> Dict[str, EntityRecord]:
    records: Dict[str, EntityRecord] = {}
    # csv reads records across line ends inside quotes, so it gets the lines with theirs
    reader = csv.reader(line + "\n" for _, line in read_lines(path))
    while True:
        number = reader.line_num + 1  # the record's first line
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as err:
            raise CorpusError(path, reader.line_num, f"invalid CSV: {err}") from None
        if not row or not any(cell.strip() for cell in row):
            continue
        if number == 1 and row[0].strip().lower() in ("id", "qid"):
            continue
        if not 1 <= len(row) <= 3 or not row[0].strip():
            raise CorpusError(path, number, f"expected id,name,description, got {len(row)} columns")
        record = _new_record(records, row[0].strip(), path, number)
        record.name = row[1] if len(row) > 1 else ""
        record.description = row[2] if len(row) > 2 else ""
        records[record.id] = record
    return records


AliasRows = Dict[str, List[Tuple[str, float, int]]]  # alias -> (entity, weight, line)


def read_aliases(path: Path, names: Dict[str, str]) -> Tuple[AliasRows, bool]:
    """Read an alias table; returns the rows per alias and whether the weights
    are priors (True) or counts (False). Entity names found in the table are
    added to ``names`` (entity -> name) unless already there. A pair repeated
    in a table of counts adds its counts; in a table of priors it is an error."""
    if not path.exists():
        raise CorpusError(path, 0, "alias table not found")
    rows: AliasRows = defaultdict(list)
    lines = read_lines(path)
    first = next(lines, None)
    if first is None:
        raise CorpusError(path, 1, "the alias table is empty (it needs a header row)")
    header = [cell.strip().lower() for cell in first[1].split("\t")]
    if "alias" not in header:
        raise CorpusError(
            path, 1, f"the header row needs an 'alias' column (tab-separated), got {header}"
        )
    entity_col = next((header.index(c) for c in ENTITY_COLUMNS if c in header), None)
    if entity_col is None:
        raise CorpusError(
            path, 1, f"the header row needs an entity column, one of {', '.join(ENTITY_COLUMNS)}"
        )
    prior_col = next((header.index(c) for c in PRIOR_COLUMNS if c in header), None)
    count_col = next((header.index(c) for c in COUNT_COLUMNS if c in header), None)
    weight_col = prior_col if prior_col is not None else count_col
    name_col = next((header.index(c) for c in NAME_COLUMNS if c in header), None)
    alias_col = header.index("alias")
    pair_lines: Dict[Tuple[str, str], int] = {}
    for number, line in lines:
        if not line.strip():
            continue
        cells = line.split("\t")
        if len(cells) != len(header):
            raise CorpusError(
                path, number, f"expected {len(header)} tab-separated columns, got {len(cells)}"
            )
        alias, entity = cells[alias_col], cells[entity_col].strip()
        if not alias:
            raise CorpusError(path, number, "empty alias")
        if not entity:
            raise CorpusError(path, number, "empty entity ID")
        weight = 1.0
        if weight_col is not None:
            weight = _weight(
                cells[weight_col], header[weight_col], prior_col is not None, path, number
            )
        if prior_col is not None:
            if (alias, entity) in pair_lines:
                raise CorpusError(
                    path,
                    number,
                    f"alias {alias!r} and entity {entity!r} were paired already at line "
                    f"{pair_lines[alias, entity]}: give each pair one prior",
                )
            pair_lines[alias, entity] = number
        if name_col is not None and cells[name_col] and entity not in names:
            names[entity] = cells[name_col].replace("_", " ")
        rows[alias].append((entity, weight, number))
    return rows, prior_col is not None


def _weight(cell: str, column: str, is_prior: bool, path: Path, number: int) -> float:
    """A prior (0 to 1) or a count (>= 0, finite within float32) read from a cell."""
    text = cell.strip()
    if not _NUMBER.fullmatch(text):  # float() would also take "nan", "inf", "1_0"
        raise CorpusError(path, number, f"{column} must be a number, got {cell!r}")
    weight = float(text)
    if not 0 <= weight <= (PRIOR_TOLERANCE if is_prior else _FLOAT32_MAX):
        what = "a probability from 0 to 1" if is_prior else "a finite number >= 0"
        raise CorpusError(path, number, f"{column} must be {what}, got {cell!r}")
    return weight


def build_kb(
    entities_path: Optional[Path],
    aliases_path: Optional[Path],
    entity_vector_length: int,
    entity_vectors: str = "words",
    made_up: Optional[List[str]] = None,
) -> KnowledgeBase:
    """A KnowledgeBase from an entity list and/or an alias table (see the module
    docstring); errors name the file and line at fault. The IDs of the entities
    whose vector the files do not give are appended to ``made_up`` if given."""
    if entity_vectors not in ENTITY_VECTORS:
        raise ValueError(f"entity_vectors must be one of {ENTITY_VECTORS}, got {entity_vectors!r}")
    records: Dict[str, EntityRecord] = {}
    extra: ListedAliases = []
    if entities_path is not None:
        records, extra = read_entities(entities_path)
    names = {e: r.name for e, r in records.items() if r.name}
    rows: AliasRows = defaultdict(list)
    are_priors = False
    if aliases_path is not None:
        rows, are_priors = read_aliases(aliases_path, names)
    for alias, entity, number in extra:
        if are_priors:
            raise CorpusError(
                entities_path, number, "aliases in the entity list need an alias table with counts"
            )
        rows[alias].append((entity, 1.0, number))
    order = list(records)
    counts: Dict[str, float] = defaultdict(float)
    for entries in rows.values():
        for entity, weight, number in entries:
            if entity not in records:
                if entities_path is not None and aliases_path is not None:
                    # an entity list was given: every alias must point into it
                    raise CorpusError(
                        aliases_path, number, f"entity {entity!r} is not in {entities_path}"
                    )
                records[entity] = EntityRecord(entity, number)
                order.append(entity)
            counts[entity] += weight
            if counts[entity] > _FLOAT32_MAX:  # only a count of the alias table can do this
                raise CorpusError(
                    aliases_path,
                    number,
                    f"the counts of entity {entity!r} add up to more than a float32 holds",
                )
    if not records:
        files = " and ".join(str(p) for p in (entities_path, aliases_path) if p is not None)
        raise CorpusError(files, 0, "the knowledge base files define no entities")
    width = entity_vector_length
    vectors = numpy.zeros((len(order), width), dtype=numpy.float32)
    freqs = numpy.zeros(len(order), dtype=numpy.float32)
    for i, entity in enumerate(order):
        record = records[entity]
        if record.vector is not None:
            if len(record.vector) != width:
                raise CorpusError(
                    entities_path,
                    record.line,
                    f"entity {entity!r} has a vector of length {len(record.vector)}, but "
                    f"entity_vector_length is {width}",
                )
            vectors[i] = record.vector
        else:
            text = " ".join([names.get(entity, ""), record.description])
            vectors[i] = entity_vector(entity, text, width, entity_vectors)
            if made_up is not None:
                made_up.append(entity)
        freqs[i] = record.freq if record.freq is not None else counts.get(entity, 1.0)
    kb = KnowledgeBase(entity_vector_length=width)
    kb.set_entities(order, freqs, vectors)
    where = aliases_path if aliases_path is not None else entities_path
    for alias, entries in rows.items():
        merged: Dict[str, float] = {}
        for entity, weight, _ in entries:
            merged[entity] = merged.get(entity, 0.0) + weight
        if are_priors:
            priors = list(merged.values())
            if sum(priors) > PRIOR_TOLERANCE:
                raise CorpusError(
                    where,
                    entries[0][2],
                    f"the priors of alias {alias!r} sum to {sum(priors):.6g}, more than 1",
                )
        else:
            total = sum(merged.values())
            priors = [w / total if total else 1.0 / len(merged) for w in merged.values()]
        kb.add_alias(alias, list(merged), priors)
    return kb


def context_words(text: str) -> List[str]:
    """The distinct lower-cased words of a context, sorted."""
    return sorted(set(_WORD.findall(text.lower())))


def corpus_vectors(
    kb: KnowledgeBase,
    base: Dict[str, numpy.ndarray],
    contexts: Sequence[Tuple[str, str]],
) -> int:
    """Give the entities of ``base`` (ID -> its "words" vector) that occur in
    ``contexts`` their "corpus" vector (see the module docstring), in place;
    returns how many entities got one.

    kb: The knowledge base whose vectors are set.
    base: The "words" vector of every entity that may be changed.
    contexts: (entity ID, context text) for each training mention.
    """
    width = kb.entity_vector_length
    kept = [(entity, text) for entity, text in contexts if entity in base]
    if not kept:
        return 0
    words_of_text = {text: context_words(text) for _, text in kept}
    frequency: Dict[str, int] = defaultdict(int)
    for words in words_of_text.values():
        for word in words:
            frequency[word] += 1
    n_contexts = len(words_of_text)
    words_of = [(entity, words_of_text[text]) for entity, text in kept]
    cache: Dict[str, numpy.ndarray] = {}
    sums: Dict[str, numpy.ndarray] = {}
    for entity, words in words_of:
        total = sums.setdefault(entity, numpy.zeros(width, dtype=numpy.float64))
        for word in words:
            weight = numpy.log(n_contexts / frequency[word])
            if weight <= 0:
                continue
            if word not in cache:
                cache[word] = unit_vector("word:" + word, width)
            total += weight * cache[word]
    changed = 0
    for entity, total in sums.items():
        norm = numpy.linalg.norm(total)
        if norm == 0:
            continue
        mixed = base[entity] / numpy.linalg.norm(base[entity]) + total / norm
        kb._vectors[kb.entity_row(entity)] = mixed / numpy.linalg.norm(mixed)
        changed += 1
    return changed
