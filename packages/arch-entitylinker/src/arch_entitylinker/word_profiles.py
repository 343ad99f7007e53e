"""Word profiles: tf-idf bags of words of the entities' training contexts, the
word signal of the task's "softmax" combination (``tau_words``)."""

import base64
import binascii
import math
import re
from typing import Any, Dict, Iterable, List, NamedTuple, Optional, Sequence, Tuple

import numpy

from arch_tok2vec.validation import check_int, check_labels

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
    def from_dict(cls, data: Dict[str, Any], name: str = "words") -> "WordProfiles":
        """Profiles saved by ``to_dict``, checked: ValueError naming the entry
        (``name.tokens``, ``name.df``, ...) unless the tokens are distinct non-empty
        strings, the arrays base64 of whole numbers of their type, and the arrays
        fit together (a df per token between 0 and n_contexts; increasing KB rows;
        each row's profile a run of increasing token ids with finite weights >= 0).

        data: What a saved task.json holds under ``name``.
        name: The key, for messages.
        """
        if not isinstance(data, dict):
            raise ValueError(f"{name} must be an object (word profiles), got {data!r:.60}")
        tokens = check_labels(f"{name}.tokens", data["tokens"])
        n_contexts = check_int(f"{name}.n_contexts", data["n_contexts"], minimum=0)
        df = _from_b64(data, "df", "<i4", "int32", name)
        rows = _from_b64(data, "rows", "<i8", "int64", name)
        starts = _from_b64(data, "starts", "<i8", "int64", name)
        token_ids = _from_b64(data, "token_ids", "<i4", "int32", name)
        weights = _from_b64(data, "weights", "<f4", "float32", name)
        if len(df) != len(tokens):
            raise ValueError(
                f"{name}.df must hold one count per token ({len(tokens)}), got {len(df)}"
            )
        if ((df < 0) | (df > n_contexts)).any():
            raise ValueError(f"{name}.df must be counts between 0 and n_contexts ({n_contexts})")
        if (rows < 0).any() or (numpy.diff(rows) <= 0).any():
            raise ValueError(f"{name}.rows must be KB rows (>= 0) in increasing order")
        if (
            len(starts) != len(rows) + 1
            or starts[0] != 0
            or starts[-1] != len(token_ids)
            or (numpy.diff(starts) < 0).any()
        ):
            raise ValueError(
                f"{name}.starts must give where each of the {len(rows)} profiles starts in "
                f"token_ids ({len(token_ids)}): 0, then not decreasing, then "
                f"{len(token_ids)}"
            )
        steps = numpy.diff(token_ids.astype("int64"))
        firsts = starts[1:-1]  # where a profile starts, its token id may be any
        steps[firsts[(firsts > 0) & (firsts < len(token_ids))] - 1] = 1
        if (token_ids < 0).any() or (token_ids >= len(tokens)).any() or (steps <= 0).any():
            raise ValueError(
                f"{name}.token_ids must be token ids (0 to {len(tokens) - 1}), increasing "
                "within each profile"
            )
        if len(weights) != len(token_ids):
            raise ValueError(
                f"{name}.weights must hold one weight per token id ({len(token_ids)}), got "
                f"{len(weights)}"
            )
        if not (numpy.isfinite(weights) & (weights >= 0)).all():
            raise ValueError(f"{name}.weights must be finite numbers >= 0")
        vocab = {token: i for i, token in enumerate(tokens)}
        return cls(vocab, df, n_contexts, rows, starts, token_ids, weights)


def _idf(n_contexts: int, df: numpy.ndarray) -> numpy.ndarray:
    """log((N + 1) / (df + 1)) per token, N the number of contexts."""
    return numpy.log((n_contexts + 1) / (df.astype("float64") + 1))


def _b64(array: numpy.ndarray, dtype: str) -> str:
    return base64.b64encode(numpy.ascontiguousarray(array, dtype=dtype).tobytes()).decode("ascii")


def _from_b64(data: Dict[str, Any], key: str, dtype: str, native: str, name: str) -> numpy.ndarray:
    """The array saved under ``data[key]`` (base64 of ``dtype``), as ``native``;
    ValueError naming ``name.key`` if it is not that."""
    text = data[key]
    try:
        raw = base64.b64decode(text, validate=True) if isinstance(text, str) else None
    except (binascii.Error, ValueError):
        raw = None
    if raw is None or len(raw) % numpy.dtype(dtype).itemsize:
        raise ValueError(f"{name}.{key} must be base64 of {dtype} numbers, got {text!r:.60}")
    return numpy.frombuffer(raw, dtype=dtype).astype(native)
