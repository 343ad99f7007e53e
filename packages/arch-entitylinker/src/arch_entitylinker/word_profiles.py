"""Word profiles: tf-idf bags of words of the entities' training contexts, the
word signal of the task's "softmax" combination (``tau_words``)."""

import base64
import math
import re
from typing import Any, Dict, Iterable, List, NamedTuple, Optional, Sequence, Tuple

import numpy

_WORD_CHAR = re.compile(r"\w")


def context_tokens(doc: Any) -> List[str]:
    """The words of a context for the word signal: its tokens lower-cased,
    keeping those with at least one word character (``\\w``)."""
    return [token.text.lower() for token in doc if _WORD_CHAR.search(token.text)]


class WordContext(NamedTuple):
    """A context's distinct-token tf-idf vector, for ``WordProfiles.cosines``."""

    ids: numpy.ndarray
    """The ids of its distinct tokens that the profiles know (sorted)."""
    norm: float
    """Its L2 norm, unknown tokens (idf log(N + 1)) included."""


class WordProfiles:
    """tf-idf bags of words of the entities' training contexts.

    Over the N training contexts, a token's idf is ``log((N + 1) / (df + 1))``
    (df: the contexts containing it). An entity's profile sums the distinct
    tokens of each training context of each of its mentions, weighted by idf,
    L2-normalised. Stored as a token→id dict, the df per id, and the profiles
    in CSR form over the KB rows that have one (sorted).
    """

    def __init__(
        self,
        vocab: Dict[str, int],
        df: numpy.ndarray,
        n_contexts: int,
        rows: numpy.ndarray,
        starts: numpy.ndarray,
        tokens: numpy.ndarray,
        weights: numpy.ndarray,
    ):
        self.vocab = vocab
        self.df = df
        self.n_contexts = n_contexts
        self.rows = rows
        self.starts = starts
        self.tokens = tokens
        self.weights = weights
        self.idf = _idf(n_contexts, df)
        self._unknown_idf = float(_idf(n_contexts, numpy.zeros(1))[0])

    @classmethod
    def build(cls, contexts: Iterable[Tuple[List[str], List[int]]]) -> "WordProfiles":
        """Profiles from (tokens, KB rows of its mentions) per training context;
        rows < 0 (entities outside the KB) are skipped."""
        vocab: Dict[str, int] = {}
        context_ids: List[numpy.ndarray] = []
        pair_rows: List[numpy.ndarray] = []
        pair_tokens: List[numpy.ndarray] = []
        last: Optional[List[str]] = None
        for tokens, mentioned in contexts:
            if tokens is not last:  # a document's records pass one shared list in a row
                ids = numpy.unique(
                    numpy.fromiter(
                        (vocab.setdefault(t, len(vocab)) for t in tokens), dtype="int64", count=-1
                    )
                )
                last = tokens
            context_ids.append(ids)
            for row in mentioned:
                if row >= 0:
                    pair_rows.append(numpy.full(len(ids), row, dtype="int64"))
                    pair_tokens.append(ids)
        n_tokens = len(vocab)
        df = numpy.bincount(
            numpy.concatenate(context_ids or [numpy.zeros(0, "int64")]), minlength=n_tokens
        ).astype("int32")
        idf = _idf(len(context_ids), df)
        keys = numpy.concatenate(pair_rows or [numpy.zeros(0, "int64")]) * max(n_tokens, 1)
        keys += numpy.concatenate(pair_tokens or [numpy.zeros(0, "int64")])
        keys, counts = numpy.unique(keys, return_counts=True)
        key_rows, key_tokens = numpy.divmod(keys, max(n_tokens, 1))
        profiled, starts = numpy.unique(key_rows, return_index=True)
        weights = counts * idf[key_tokens]
        if len(weights):
            norms = numpy.sqrt(numpy.add.reduceat(weights * weights, starts))
            lengths = numpy.diff(numpy.append(starts, len(weights)))
            norms = numpy.repeat(numpy.where(norms > 0, norms, 1.0), lengths)
            weights = weights / norms
        return cls(
            vocab,
            df,
            len(context_ids),
            profiled.astype("int64"),
            numpy.append(starts, len(weights)).astype("int64"),
            key_tokens.astype("int32"),
            weights.astype("float32"),
        )

    def context(self, tokens: List[str]) -> WordContext:
        """The tf-idf vector of a context's distinct tokens."""
        distinct = set(tokens)
        known = [self.vocab[t] for t in distinct if t in self.vocab]
        ids = numpy.array(sorted(known), dtype="int32")
        unknown = len(distinct) - len(known)
        norm = math.sqrt(float(numpy.sum(self.idf[ids] ** 2)) + unknown * self._unknown_idf**2)
        return WordContext(ids, norm)

    def cosines(self, rows: Sequence[int], context: WordContext) -> numpy.ndarray:
        """The cosine between the context and each KB row's profile (0 for a
        row without a profile or an empty context)."""
        out = numpy.zeros(len(rows), dtype="float64")
        if context.norm <= 0 or not len(self.rows):
            return out
        where = numpy.searchsorted(self.rows, rows)
        for i, (row, j) in enumerate(zip(rows, where)):
            if j < len(self.rows) and self.rows[j] == row:
                tokens = self.tokens[self.starts[j] : self.starts[j + 1]]
                hit = numpy.isin(tokens, context.ids, assume_unique=True)
                weights = self.weights[self.starts[j] : self.starts[j + 1]]
                out[i] = float(weights[hit] @ self.idf[tokens[hit]]) / context.norm
        return out

    def to_dict(self) -> Dict[str, Any]:
        """The tokens (in id order), N and the arrays (base64, little-endian)."""
        return {
            "tokens": sorted(self.vocab, key=self.vocab.__getitem__),
            "n_contexts": self.n_contexts,
            "df": _b64(self.df, "<i4"),
            "rows": _b64(self.rows, "<i8"),
            "starts": _b64(self.starts, "<i8"),
            "token_ids": _b64(self.tokens, "<i4"),
            "weights": _b64(self.weights, "<f4"),
        }

    @classmethod
    def from_dict(cls, data: Dict[str, Any]) -> "WordProfiles":
        return cls(
            {token: i for i, token in enumerate(data["tokens"])},
            _from_b64(data["df"], "<i4", "int32"),
            int(data["n_contexts"]),
            _from_b64(data["rows"], "<i8", "int64"),
            _from_b64(data["starts"], "<i8", "int64"),
            _from_b64(data["token_ids"], "<i4", "int32"),
            _from_b64(data["weights"], "<f4", "float32"),
        )


def _idf(n_contexts: int, df: numpy.ndarray) -> numpy.ndarray:
    """log((N + 1) / (df + 1)) per token, N the number of contexts."""
    return numpy.log((n_contexts + 1) / (df.astype("float64") + 1))


def _b64(array: numpy.ndarray, dtype: str) -> str:
    return base64.b64encode(numpy.ascontiguousarray(array, dtype=dtype).tobytes()).decode("ascii")


def _from_b64(text: str, dtype: str, native: str) -> numpy.ndarray:
    return numpy.frombuffer(base64.b64decode(text), dtype=dtype).astype(native)
