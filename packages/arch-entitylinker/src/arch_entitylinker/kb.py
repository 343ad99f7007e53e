"""An in-memory knowledge base: entities, their vectors, and the aliases that name them.

``KnowledgeBase`` plays the part of spaCy's ``InMemoryLookupKB`` without spaCy.
It holds:

- **entities**: a unique string ID each (e.g. a Wikidata QID), a frequency and a
  vector of ``entity_vector_length`` float32 values;
- **aliases**: strings a text may use for an entity (e.g. "Emerson"), each with
  a list of candidate entities and the prior probability that the alias means
  each of them (at most 1 in total).

It is built to scale to millions of entries. The vectors live in one float32
matrix, the frequencies and the candidate lists in flat arrays (an alias's
candidates are a contiguous run of (entity row, prior) pairs, CSR style), and
the only per-item Python objects are the ID strings and two dicts from string
to row.

``KnowledgeBase.load(path, mmap=True)`` maps a saved file read-only instead
(``kb_mapped``): the tables stay in the file's pages, which every process that
maps the file shares, strings are found through lookup tables stored in the
file instead of dicts, and every call answers as it does in memory. Such a KB
refuses changes (``ReadOnlyKBError``, naming the call).

Bad input raises the errors spaCy's KB raises, with spaCy's codes in the
message (E132, E133, E134, E140, E141, E176, E890), and more that spaCy does not
check (``kb_checks``: NaN, infinite or negative frequencies and priors, NaN or
infinite vectors, an entity twice in one alias, arguments of the wrong type).
Every mutating call checks all its arguments before it changes anything, so a
call that raises leaves the KB as it was. Duplicates warn (W017, W018, W024)
and leave the KB unchanged. The persistence format is described in
``kb_format``.
"""

import warnings
from array import array
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple, Union

import numpy

from . import kb_checks, kb_format, kb_format_v2
from .kb_checks import PRIOR_TOLERANCE
from .kb_format import KBFormatError
from .kb_mapped import IdentityKey, MappedTables, map_file

__all__ = ["PRIOR_TOLERANCE", "Candidate", "KnowledgeBase", "ReadOnlyKBError"]


class ReadOnlyKBError(ValueError):
    """A call that would change a KnowledgeBase mapped read-only from a file."""


VectorLike = Union[Sequence[float], numpy.ndarray]


class Candidate:
    """One entity an alias may refer to, with the alias's prior probability for it.

    Read-only views into the KB, as spaCy's ``Candidate``: ``entity_`` (the
    entity ID), ``alias_`` (the alias), ``prior_prob``, ``entity_freq``,
    ``entity_vector`` (a float32 array), and ``entity`` / ``alias`` (the 64-bit
    keys spaCy's StringStore gives those strings).
    """

    __slots__ = ("kb", "row", "alias_", "_prior")

    def __init__(self, kb: "KnowledgeBase", row: int, alias: str, prior_prob: float):
        self.kb = kb
        self.row = row
        self.alias_ = alias
        self._prior = prior_prob

    def __repr__(self) -> str:
        return f"Candidate({self.entity_!r}, alias={self.alias_!r}, prior_prob={self._prior:.4g})"

    @property
    def entity_(self) -> str:
        """The entity's ID."""
        return self.kb._entity_ids[self.row]

    @property
    def prior_prob(self) -> float:
        """P(entity | alias) as stored (float32 precision)."""
        return self._prior

    @property
    def entity_freq(self) -> float:
        return float(self.kb._freqs[self.row])

    @property
    def entity_vector(self) -> numpy.ndarray:
        return self.kb._vectors[self.row].copy()

    @property
    def entity(self) -> int:
        """The StringStore key spaCy gives the entity ID."""
        return _string_key(self.entity_)

    @property
    def alias(self) -> int:
        """The StringStore key spaCy gives the alias."""
        return _string_key(self.alias_)


def _string_key(text: str) -> int:
    from arch_tok2vec.hashing import string_id

    return string_id(text)


class KnowledgeBase:
    """Entities with frequencies and vectors, and aliases with prior probabilities.

    entity_vector_length: The length of every entity vector (at least 1).
    """

    def __init__(self, entity_vector_length: int = 64):
        if isinstance(entity_vector_length, bool) or not isinstance(entity_vector_length, int):
            raise ValueError(
                f"entity_vector_length must be an integer, got {entity_vector_length!r}"
            )
        if entity_vector_length < 1:
            raise ValueError(
                f"entity_vector_length must be a positive integer, got {entity_vector_length}"
            )
        self.entity_vector_length = entity_vector_length
        self._mapped: Optional[MappedTables] = None
        self._clear_entities(0)
        self._clear_aliases()

    # -- storage --------------------------------------------------------------

    def _clear_entities(self, capacity: int) -> None:
        self._entity_rows: Dict[str, int] = {}
        self._entity_ids: List[str] = []
        self._freqs = array("f")
        self._vectors = numpy.zeros((capacity, self.entity_vector_length), dtype=numpy.float32)
        self._n_vectors = 0

    def _clear_aliases(self) -> None:
        self._alias_rows: Dict[str, int] = {}
        self._alias_strs: List[str] = []
        self._alias_start = array("q")
        self._alias_count = array("i")
        self._pair_entity = array("i")
        self._pair_prior = array("f")
        self._holes = 0  # pairs left behind by append_alias

    def _append_vector(self, vector: VectorLike) -> int:
        row = self._n_vectors
        if row == len(self._vectors):
            grown = numpy.zeros(
                (max(16, 2 * len(self._vectors)), self.entity_vector_length), dtype=numpy.float32
            )
            grown[:row] = self._vectors[:row]
            self._vectors = grown
        self._vectors[row] = vector
        self._n_vectors = row + 1
        return row

    def _span(self, index: int) -> Tuple[int, int]:
        """Where the candidate pairs of alias ``index`` start and end."""
        if self._mapped is not None:
            return self._alias_start[index], self._alias_start[index + 1]
        start = self._alias_start[index]
        return start, start + self._alias_count[index]

    def _writable(self, call: str) -> None:
        """Refuse ``call`` on a KB mapped read-only."""
        if self._mapped is not None:
            raise ReadOnlyKBError(
                f"{call}: this KnowledgeBase is mapped read-only from {self._mapped.path}; "
                "to change it, load it into memory with KnowledgeBase.load(path) (mmap=False), "
                "change that copy and save it with to_disk"
            )

    # -- mapping ----------------------------------------------------------------

    @property
    def read_only(self) -> bool:
        """Whether the KB is mapped read-only from a file (``load(path, mmap=True)``)."""
        return self._mapped is not None

    @property
    def mapped_file(self) -> Optional[MappedTables]:
        """The mapped file (its ``path``, ``stat`` and ``verified``), or None for a
        KB in memory."""
        return self._mapped

    def verify(self) -> None:
        """Check what a mapped open without ``verify`` leaves out, reading the whole
        file: its CRC-32, that its strings are valid UTF-8, that no entity ID or alias
        occurs twice (KBFormatError naming the file). A KB in memory was checked when
        it was read: nothing to do."""
        if self._mapped is not None:
            self._mapped.verify()

    def _attach(self, tables: MappedTables) -> None:
        """Use the tables of a mapped file (see ``load``)."""
        self.entity_vector_length = tables.header.vector_length
        self._entity_ids = tables.entity_ids  # type: ignore[assignment]
        self._entity_rows = tables.entity_rows  # type: ignore[assignment]
        self._freqs = tables.freqs  # type: ignore[assignment]
        self._vectors = tables.vectors
        self._n_vectors = len(tables.vectors)
        self._alias_strs = tables.aliases  # type: ignore[assignment]
        self._alias_rows = tables.alias_rows  # type: ignore[assignment]
        self._alias_start = tables.alias_starts  # type: ignore[assignment]
        self._alias_count = array("i")
        self._pair_entity = tables.pair_entities  # type: ignore[assignment]
        self._pair_prior = tables.pair_priors  # type: ignore[assignment]
        self._holes = 0
        self._mapped = tables

    def __reduce_ex__(self, protocol: Any) -> Any:
        """A mapped KB pickles as its path: the receiving process maps the same file
        (and refuses it if the file was replaced or changed in between)."""
        if self._mapped is None:
            return super().__reduce_ex__(protocol)
        tables = self._mapped
        return (_remap, (str(tables.path), tables.identity(), tables.verified))

    # -- sizes ----------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._entity_ids)

    def is_empty(self) -> bool:
        return len(self._entity_ids) == 0

    def get_size_entities(self) -> int:
        """The number of entities."""
        return len(self._entity_ids)

    def get_size_aliases(self) -> int:
        """The number of aliases."""
        return len(self._alias_strs)

    def get_entity_strings(self) -> List[str]:
        """Every entity ID, in the order they were added."""
        return list(self._entity_ids)

    def get_alias_strings(self) -> List[str]:
        """Every alias, in the order they were added."""
        return list(self._alias_strs)

    @property
    def vectors(self) -> numpy.ndarray:
        """The entity vectors, one row per entity in ``get_entity_strings()`` order
        (a read-only view)."""
        view = self._vectors[: self._n_vectors]
        view.flags.writeable = False
        return view

    # -- entities -------------------------------------------------------------

    def add_entity(self, entity: str, freq: float, entity_vector: VectorLike) -> Optional[int]:
        """Add one entity.

        entity: The entity's unique ID.
        freq: Its frequency (e.g. in a corpus), kept for the candidates.
        entity_vector: Its vector, of length ``entity_vector_length``.
        RETURNS: The entity's row, or None if the ID was already there (W018:
            a warning, and the first entry is kept).
        """
        self._writable("add_entity")
        entity = kb_checks.entity_id(entity)
        value = kb_checks.frequency(freq, entity)
        vector = kb_checks.vector(entity_vector, self.entity_vector_length, entity)
        if entity in self._entity_rows:
            warnings.warn(_w018(entity), stacklevel=2)
            return None
        row = len(self._entity_ids)
        self._append_vector(vector)
        self._freqs.append(value)
        self._entity_ids.append(entity)
        self._entity_rows[entity] = row
        return row

    def set_entities(
        self,
        entity_list: Sequence[str],
        freq_list: Union[Sequence[float], numpy.ndarray],
        vector_list: Union[Sequence[VectorLike], numpy.ndarray],
    ) -> None:
        """Replace all entities at once (the fast way to fill a large KB).

        entity_list: The entity IDs. A repeated ID warns (W018) and its first
            occurrence is kept.
        freq_list: One frequency per ID.
        vector_list: One vector per ID: a (n, entity_vector_length) array or a
            list of sequences.
        Aliases added before keep their candidates if those IDs are still
        present; an alias whose candidate disappears is an error (E134) and
        nothing changes.
        """
        self._writable("set_entities")
        n = len(entity_list)
        if len(freq_list) != n or len(vector_list) != n:
            raise ValueError(
                "[E140] The list of entities, prior probabilities and entity vectors should be "
                f"of equal length; got {n} entities, {len(freq_list)} frequencies and "
                f"{len(vector_list)} vectors."
            )
        width = self.entity_vector_length
        ids = [kb_checks.entity_id(entity, "entity_list") for entity in entity_list]
        all_vectors = kb_checks.vectors(vector_list, width, ids)
        all_freqs = kb_checks.frequencies(freq_list, ids)
        rows: Dict[str, int] = {}
        keep: List[int] = []
        for i, entity in enumerate(ids):
            if entity in rows:
                warnings.warn(_w018(entity), stacklevel=2)
            else:
                rows[entity] = len(keep)
                keep.append(i)
        # Map the aliases' candidates onto the new rows before changing anything.
        remap: Optional[numpy.ndarray] = None
        if self._pair_entity:
            remap = numpy.array([rows.get(e, -1) for e in self._entity_ids], dtype=numpy.int32)
            pairs = self._live_pairs()
            if len(pairs) and (remap[self._pair_array()[pairs]] < 0).any():
                lost = next(
                    self._entity_ids[row] for row in self._pair_array()[pairs] if remap[row] < 0
                )
                raise ValueError(
                    f"[E134] Entity '{lost}' is not defined in the Knowledge Base: "
                    "set_entities would drop it, but an alias points to it."
                )
        keep_index = numpy.asarray(keep, dtype=numpy.int64)
        vectors = all_vectors[keep_index] if len(keep) < n else all_vectors
        if numpy.may_share_memory(vectors, vector_list):  # else the checks made a copy
            vectors = numpy.array(vectors, dtype=numpy.float32, order="C", copy=True)
        vectors = numpy.ascontiguousarray(vectors, dtype=numpy.float32)
        freqs = all_freqs[keep_index] if len(keep) < n else all_freqs
        self._entity_rows = rows
        self._entity_ids = list(rows)
        self._freqs = array("f", freqs.tobytes())
        self._vectors = vectors.reshape(len(keep), width)
        self._n_vectors = len(keep)
        if remap is not None:
            mapped = remap[self._pair_array()]
            self._pair_entity = array("i", mapped.astype(numpy.int32).tobytes())

    def contains_entity(self, entity: str) -> bool:
        return entity in self._entity_rows

    def entity_row(self, entity: str) -> int:
        """The row of an entity in ``vectors`` (-1 if unknown)."""
        return self._entity_rows.get(entity, -1)

    def get_vector(self, entity: str) -> numpy.ndarray:
        """The entity's vector (a float32 copy); zeros for an unknown entity."""
        row = self._entity_rows.get(entity)
        if row is None:
            return numpy.zeros((self.entity_vector_length,), dtype=numpy.float32)
        return self._vectors[row].copy()

    def get_vectors(self, entities: Iterable[str]) -> numpy.ndarray:
        """The vectors of several entities, one row each (zeros for unknown ones)."""
        rows = [self._entity_rows.get(e, -1) for e in entities]
        out = numpy.zeros((len(rows), self.entity_vector_length), dtype=numpy.float32)
        index = numpy.asarray(rows, dtype=numpy.int64)
        known = index >= 0
        out[known] = self._vectors[index[known]]
        return out

    def get_freq(self, entity: str) -> float:
        """The entity's frequency (0.0 if unknown)."""
        row = self._entity_rows.get(entity)
        return 0.0 if row is None else float(self._freqs[row])

    # -- aliases --------------------------------------------------------------

    def add_alias(
        self, alias: str, entities: Sequence[str], probabilities: Sequence[float]
    ) -> Optional[int]:
        """Add an alias with its candidate entities and their prior probabilities.

        alias: The alias text (non-empty); candidates are looked up by it exactly.
        entities: The IDs of its candidate entities, all already in the KB.
        probabilities: P(entity | alias) for each, summing to at most 1.
        RETURNS: The alias's row, or None if it was already there (W017: a
            warning, nothing changes; use append_alias to add candidates).
        """
        self._writable("add_alias")
        alias = kb_checks.alias_text(alias)
        ids = kb_checks.entity_ids(entities, alias)
        priors = kb_checks.priors(probabilities, ids, alias)
        if alias in self._alias_rows:
            warnings.warn(
                f"[W017] Alias '{alias}' already exists in the Knowledge Base.", stacklevel=2
            )
            return None
        rows = self._entity_rows
        found = []
        for entity in ids:
            row = rows.get(entity)
            if row is None:
                raise ValueError(_e134(entity, alias))
            found.append(row)
        index = len(self._alias_strs)
        self._alias_start.append(len(self._pair_entity))
        self._alias_count.append(len(found))
        self._pair_entity.extend(found)
        self._pair_prior.extend(priors)
        self._alias_strs.append(alias)
        self._alias_rows[alias] = index
        return index

    def append_alias(
        self, alias: str, entity: str, prior_prob: float, ignore_warnings: bool = False
    ) -> None:
        """Add one more candidate to an existing alias.

        alias: An alias already in the KB.
        entity: An entity already in the KB.
        prior_prob: P(entity | alias); with the alias's other priors the sum
            must stay at most 1.
        ignore_warnings: Do not warn (W024) when the pair is already there.
        """
        self._writable("append_alias")
        alias = kb_checks.alias_text(alias)
        entity = kb_checks.entity_id(entity)
        prior_prob = kb_checks.prior(prior_prob, entity, alias)
        index = self._alias_rows.get(alias)
        if index is None:
            raise ValueError(f"[E176] Alias '{alias}' is not defined in the Knowledge Base.")
        row = self._entity_rows.get(entity)
        if row is None:
            raise ValueError(_e134(entity, alias))
        start, count = self._alias_start[index], self._alias_count[index]
        priors = self._pair_prior[start : start + count]
        new_sum = float(numpy.float32(sum(priors))) + prior_prob
        if new_sum > PRIOR_TOLERANCE:
            raise ValueError(kb_checks.e133(alias, new_sum))
        present = self._pair_entity[start : start + count]
        if row in present:
            if not ignore_warnings:
                warnings.warn(
                    f"[W024] Entity '{entity}' - Alias '{alias}' combination already exists in "
                    "the Knowledge Base.",
                    stacklevel=2,
                )
            return
        if start + count == len(self._pair_entity):
            # The alias's run is the last one: grow it in place.
            self._pair_entity.append(row)
            self._pair_prior.append(prior_prob)
        else:
            # Move the run to the end (the old pairs become a hole, dropped on save).
            self._alias_start[index] = len(self._pair_entity)
            self._pair_entity.extend(present)
            self._pair_entity.append(row)
            self._pair_prior.extend(priors)
            self._pair_prior.append(prior_prob)
            self._holes += count
        self._alias_count[index] = count + 1

    def contains_alias(self, alias: str) -> bool:
        return alias in self._alias_rows

    def get_alias_candidates(self, alias: str) -> List[Candidate]:
        """The candidates of an alias in the order they were added ([] if unknown)."""
        if not isinstance(alias, str):
            raise TypeError(f"get_alias_candidates needs a string, got {type(alias).__name__}")
        index = self._alias_rows.get(alias)
        if index is None:
            return []
        start, end = self._span(index)
        rows = self._pair_entity[start:end].tolist()
        priors = self._pair_prior[start:end].tolist()
        return [Candidate(self, row, alias, prior) for row, prior in zip(rows, priors)]

    def get_candidates(self, mention: Any) -> List[Candidate]:
        """The candidates for a mention: a Span (or anything with ``.text``) or a
        string, looked up as an alias by its exact text; anything else is a
        TypeError."""
        return self.get_alias_candidates(kb_checks.mention_text(mention))

    def get_candidates_batch(self, mentions: Iterable[Any]) -> List[List[Candidate]]:
        """``get_candidates`` for each mention."""
        return [self.get_candidates(mention) for mention in mentions]

    def candidate_rows(self, alias: str) -> Tuple[List[int], List[float]]:
        """The entity rows and priors of an alias's candidates, without Candidate
        objects (for scoring many mentions); ([], []) if unknown."""
        index = self._alias_rows.get(alias)
        if index is None:
            return [], []
        start, end = self._span(index)
        return self._pair_entity[start:end].tolist(), self._pair_prior[start:end].tolist()

    def get_prior_prob(self, entity: str, alias: str) -> float:
        """P(entity | alias), or 0.0 if the KB does not pair them."""
        index = self._alias_rows.get(alias)
        row = self._entity_rows.get(entity)
        if index is None or row is None:
            return 0.0
        start, end = self._span(index)
        for j, candidate in enumerate(self._pair_entity[start:end].tolist()):
            if candidate == row:
                return float(self._pair_prior[start + j])
        return 0.0

    # -- arrays for persistence -----------------------------------------------

    def _pair_array(self) -> numpy.ndarray:
        return numpy.array(self._pair_entity, dtype=numpy.int32)

    def _live_pairs(self) -> numpy.ndarray:
        """Indices of the pairs in alias order, without holes."""
        starts = numpy.array(self._alias_start, dtype=numpy.int64)
        counts = numpy.array(self._alias_count, dtype=numpy.int64)
        total = int(counts.sum())
        if not self._holes:
            return numpy.arange(total, dtype=numpy.int64)
        offsets = numpy.repeat(starts - (numpy.cumsum(counts) - counts), counts)
        return numpy.arange(total, dtype=numpy.int64) + offsets

    def _export(self) -> kb_format.Tables:
        pairs = self._live_pairs()
        return kb_format.Tables(
            vector_length=self.entity_vector_length,
            entity_ids=self._entity_ids,
            freqs=numpy.frombuffer(self._freqs, dtype=numpy.float32).copy(),
            vectors=self._vectors[: self._n_vectors],
            aliases=self._alias_strs,
            alias_counts=numpy.array(self._alias_count, dtype=numpy.uint32),
            pair_entities=self._pair_array()[pairs].astype(numpy.uint32),
            pair_priors=numpy.array(self._pair_prior, dtype=numpy.float32)[pairs],
        )

    def _import(self, tables: kb_format.Tables) -> None:
        self.entity_vector_length = tables.vector_length
        self._entity_ids = tables.entity_ids
        self._entity_rows = dict(zip(tables.entity_ids, range(len(tables.entity_ids))))
        self._freqs = array("f", tables.freqs.astype(numpy.float32).tobytes())
        self._vectors = tables.vectors
        self._n_vectors = len(tables.vectors)
        self._alias_strs = tables.aliases
        self._alias_rows = dict(zip(tables.aliases, range(len(tables.aliases))))
        counts = tables.alias_counts.astype(numpy.int64)
        starts = numpy.cumsum(counts) - counts
        self._alias_start = array("q", starts.tobytes())
        self._alias_count = array("i", counts.astype(numpy.int32).tobytes())
        self._pair_entity = array("i", tables.pair_entities.astype(numpy.int32).tobytes())
        self._pair_prior = array("f", tables.pair_priors.astype(numpy.float32).tobytes())
        self._holes = 0

    def to_bytes(self) -> bytes:
        """The KB in the versioned binary format of ``kb_format`` (version 2; a
        mapped KB gives the bytes of its file)."""
        if self._mapped is not None:
            return bytes(self._mapped.buffer)
        return kb_format.dump_bytes(self._export())

    def from_bytes(self, data: bytes) -> "KnowledgeBase":
        """Replace this KB's content with a KB read from ``to_bytes`` output of any
        format version (its vector length comes from the data). Bad data raises
        KBFormatError and leaves the KB unchanged."""
        self._writable("from_bytes")
        self._import(kb_format.load_bytes(data, "the bytes given"))
        return self

    def to_disk(self, path: Union[str, Path]) -> None:
        """Write the KB to one file (the format of ``to_bytes``), through a temporary
        file renamed into place."""
        path = Path(path)
        if path.is_dir():
            raise ValueError(f"{path} is a directory; a KnowledgeBase is saved as one file")
        if self._mapped is not None:
            view = memoryview(self._mapped.buffer)
            kb_format_v2.write_atomic(path, [view[: -kb_format_v2.TRAILER.size]])
        else:
            kb_format.dump_file(self._export(), path)

    def from_disk(self, path: Union[str, Path]) -> "KnowledgeBase":
        """Replace this KB's content with the KB in a file written by ``to_disk``
        (any format version), read into memory."""
        self._writable("from_disk")
        path = _readable(path)
        self._import(kb_format.load_file(path))
        return self

    @classmethod
    def load(
        cls, path: Union[str, Path], mmap: bool = False, verify: bool = True
    ) -> "KnowledgeBase":
        """A new KB from a file written by ``to_disk``.

        path: The file.
        mmap: Map the file read-only instead of reading it into memory (format
            version 2): opening costs the header and a few vectorised passes over
            the offsets and lookup tables, processes that map the same file share
            its pages, and the KB refuses changes (ReadOnlyKBError).
        verify: With ``mmap``, also check the file's CRC-32, that its strings are
            valid UTF-8 and that none is repeated, reading the whole file once;
            False leaves that to a later ``verify()`` (e.g. when the file's
            checksum was verified otherwise, as a model folder's manifest does). A
            load into memory always checks everything.
        Raises KBFormatError naming the file when a check fails.
        """
        if not mmap:
            return cls(1).from_disk(path)
        kb = cls(1)
        kb._attach(map_file(_readable(path), verify))
        return kb


def _readable(path: Union[str, Path]) -> Path:
    """``path`` as a Path, if it is a file (ValueError otherwise)."""
    path = Path(path)
    if not path.exists():
        raise ValueError(
            f"[E929] Couldn't read the KnowledgeBase from {path}: the path does not exist."
        )
    if path.is_dir():
        raise ValueError(
            f"{path} is a directory; a KnowledgeBase is read from the one file "
            "KnowledgeBase.to_disk wrote"
        )
    return path


def _remap(path: str, identity: IdentityKey, verified: bool) -> KnowledgeBase:
    """Unpickle a mapped KB: map its file again, if it is still the same file."""
    kb = KnowledgeBase.load(path, mmap=True, verify=False)
    tables = kb._mapped
    assert tables is not None
    if tables.identity() != identity:
        raise KBFormatError(
            path,
            "the KB file was replaced or changed since the KnowledgeBase sent here mapped it; "
            "load it again with KnowledgeBase.load(path, mmap=True)",
        )
    if verified:
        tables.verified = True  # the same file, whose checksum the sender verified
    return kb


def _e134(entity: str, alias: str) -> str:
    return (
        f"[E134] Entity '{entity}' is not defined in the Knowledge Base "
        f"(a candidate of alias '{alias}')."
    )


def _w018(entity: str) -> str:
    return (
        f"[W018] Entity '{entity}' already exists in the Knowledge Base - ignoring the "
        "duplicate entry."
    )
