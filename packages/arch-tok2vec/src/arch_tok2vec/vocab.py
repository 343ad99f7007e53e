"""The lexeme table behind ``Doc`` and the optional static vectors table.

Every distinct word is hashed once: its ORTH, LOWER, NORM, PREFIX, SUFFIX and
SHAPE keys are stored in one uint64 column per attribute, and a Doc keeps only
the row number of each of its tokens. ``Doc.to_array`` is then a gather from
these columns, with no per-token Python work.
"""

from typing import Dict, Iterable, List, Optional, Sequence, Tuple, Union

import numpy

from .attrs import ID, LENGTH, ORTH, STRING_ATTRS, lexical_strings
from .hashing import string_ids

OOV_RANK = numpy.uint64(2**64 - 1)
"""The ID of a token whose ORTH has no row in the vectors table (spaCy's OOV_RANK)."""

Key = Union[str, int]

COLUMNS: Dict[int, int] = {attr: i for i, attr in enumerate((*STRING_ATTRS, LENGTH, ID))}
"""The column of each attribute in ``Vocab.table()``."""


class Vectors:
    """A static vectors table: one row of ``data`` per key.

    keys: The words (or their uint64 keys) the rows belong to.
    data: A float32 array of shape (len(keys), width).
    """

    def __init__(self, keys: Sequence[Key] = (), data: Optional[numpy.ndarray] = None):
        keys = list(keys)
        if data is None:
            data = numpy.zeros((len(keys), 0), dtype="float32")
        data = numpy.ascontiguousarray(data, dtype="float32")
        if data.ndim != 2:
            raise ValueError(f"Vectors data must be 2-dimensional, got shape {data.shape}")
        if data.shape[0] != len(keys):
            raise ValueError(f"Vectors got {len(keys)} keys but {data.shape[0]} rows of data")
        self.data = data
        self.key2row: Dict[int, int] = {}
        for row, key in enumerate(_keys_to_ints(keys)):
            self.key2row.setdefault(key, row)
        self.version = 0

    @property
    def shape(self):
        return self.data.shape

    def __len__(self) -> int:
        return self.data.shape[0]

    def __contains__(self, key: Key) -> bool:
        return _keys_to_ints([key])[0] in self.key2row

    def add(self, key: Key, vector: numpy.ndarray) -> int:
        """Add (or overwrite) the vector of one key; returns its row."""
        vector = numpy.asarray(vector, dtype="float32").reshape(-1)
        if len(self) and self.data.shape[1] and vector.shape[0] != self.data.shape[1]:
            raise ValueError(
                f"Vector for {key!r} has width {vector.shape[0]}, "
                f"the table has width {self.data.shape[1]}"
            )
        int_key = _keys_to_ints([key])[0]
        row = self.key2row.get(int_key)
        if row is None:
            if not self.data.shape[1]:
                self.data = numpy.zeros((len(self), vector.shape[0]), dtype="float32")
            self.data = numpy.vstack([self.data, vector[None, :]])
            row = self.data.shape[0] - 1
            self.key2row[int_key] = row
        else:
            self.data[row] = vector
        self.version += 1
        return row

    def find(self, *, keys: Iterable[Key]) -> numpy.ndarray:
        """The row of each key, -1 where the key has no vector (as spaCy's Vectors.find).

        keys: Words, or their uint64 keys (a list or a numpy array).
        """
        if isinstance(keys, numpy.ndarray):
            int_keys = keys.tolist()
        else:
            int_keys = _keys_to_ints(list(keys))
        get = self.key2row.get
        return numpy.array([get(key, -1) for key in int_keys], dtype=numpy.int64)


def _keys_to_ints(keys: List[Key]) -> List[int]:
    strings = [key for key in keys if isinstance(key, str)]
    hashed = iter(string_ids(strings).tolist()) if strings else iter(())
    return [next(hashed) if isinstance(key, str) else int(key) for key in keys]


class Vocab:
    """Distinct words with their hashed lexical attributes, and optional vectors.

    vectors: A ``Vectors`` table; tokens whose ORTH has a row get it as their ID
        and as the row used by static-vector layers.
    """

    def __init__(self, vectors: Optional[Vectors] = None):
        self.vectors = vectors if vectors is not None else Vectors()
        self._rows: Dict[str, int] = {}
        self._words: List[str] = []
        self._size = 0
        self._table = numpy.zeros((64, len(COLUMNS)), dtype=numpy.uint64)
        self._utf8: Dict[int, numpy.ndarray] = {}
        self._ids_stamp: Tuple[int, int, int] = (-1, -1, -1)

    def __len__(self) -> int:
        return self._size

    def __contains__(self, word: str) -> bool:
        return word in self._rows

    def word(self, row: int) -> str:
        """The text of the lexeme in a row."""
        return self._words[row]

    def rows(self, words: Sequence[str]) -> numpy.ndarray:
        """The lexeme row of each word, adding unseen words to the table."""
        found = list(map(self._rows.get, words))
        if None in found:
            new = list(dict.fromkeys(w for w, r in zip(words, found) if r is None))
            self._add(new)
            found = list(map(self._rows.__getitem__, words))
        return numpy.array(found, dtype=numpy.intp)

    def _add(self, words: List[str]) -> None:
        for word in words:
            if not isinstance(word, str):
                raise TypeError(f"Words must be str, got {type(word).__name__}: {word!r}")
        start = self._size
        end = start + len(words)
        if end > self._table.shape[0]:
            table = numpy.zeros((max(end, 2 * self._table.shape[0]), len(COLUMNS)), numpy.uint64)
            table[:start] = self._table[:start]
            self._table = table
        strings = [s for word in words for s in lexical_strings(word)]
        keys = _hash_unique(strings).reshape(len(words), len(STRING_ATTRS))
        self._table[start:end, : len(STRING_ATTRS)] = keys
        self._table[start:end, COLUMNS[LENGTH]] = [len(word) for word in words]
        for i, word in enumerate(words):
            self._rows[word] = start + i
        self._words.extend(words)
        self._size = end

    def table(self, with_ids: bool = False) -> numpy.ndarray:
        """Every lexeme's attribute values, one row per lexeme and one column per
        attribute in ``COLUMNS`` order (uint64). The ID column is brought up to
        date with the vectors table only when ``with_ids`` is set."""
        table = self._table[: self._size]
        if with_ids:
            stamp = (self._size, id(self.vectors), self.vectors.version)
            if stamp != self._ids_stamp:
                rows = self.vectors.find(keys=table[:, COLUMNS[ORTH]].tolist())
                ids = rows.astype(numpy.uint64)
                ids[rows < 0] = OOV_RANK
                table[:, COLUMNS[ID]] = ids
                self._ids_stamp = stamp
        return table

    def attr_column(self, attr_id: int) -> numpy.ndarray:
        """The value of one attribute for every lexeme row (uint64)."""
        if attr_id not in COLUMNS:
            raise ValueError(f"Attribute id {attr_id} has no lexeme column")
        return self.table(with_ids=attr_id == ID)[:, COLUMNS[attr_id]]

    def utf8_table(self, nr_char: int) -> numpy.ndarray:
        """Per lexeme row, the ``nr_char`` UTF-8 bytes ``Doc.to_utf8_array`` reports."""
        table = self._utf8.get(nr_char)
        done = 0 if table is None else table.shape[0]
        if done < self._size:
            extra = numpy.full((self._size - done, nr_char), 255, dtype=numpy.uint8)
            for i, word in enumerate(self._words[done : self._size]):
                data = word.encode("utf8")
                # Bytes are taken alternately from the front and the back.
                order = _interleaved(len(data), nr_char)
                extra[i, : len(order)] = [data[j] for j in order]
            table = extra if table is None else numpy.vstack([table, extra])
            self._utf8[nr_char] = table
        return table  # type: ignore[return-value]


def _interleaved(length: int, nr_char: int) -> List[int]:
    front, back = 0, length - 1
    order: List[int] = []
    while front <= back and len(order) < nr_char:
        order.append(front)
        front += 1
        if front <= back and len(order) < nr_char:
            order.append(back)
            back -= 1
    return order


_STRING_CACHE: Dict[str, int] = {}

STRING_CACHE_SIZE = 100_000
"""The most strings the process-wide hash cache keeps: it starts again empty when
more come (a stream of new words, as in a large corpus, would otherwise make it
grow without end)."""


def _hash_unique(strings: List[str]) -> numpy.ndarray:
    """``string_ids`` with a process-wide cache, hashing each new string once."""
    unique = list(dict.fromkeys(strings))
    missing = [s for s in unique if s not in _STRING_CACHE]
    if missing:
        if len(_STRING_CACHE) + len(missing) > STRING_CACHE_SIZE:
            _STRING_CACHE.clear()
            missing = unique
        _STRING_CACHE.update(zip(missing, string_ids(missing).tolist()))
    return numpy.fromiter(map(_STRING_CACHE.__getitem__, strings), dtype=numpy.uint64)
