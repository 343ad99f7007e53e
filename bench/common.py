"""What every benchmark script shares: one thread, the corpora, the two model
builders (ours and spaCy's own), A/B timing and the result records.

Import this module before numpy: it pins the BLAS/OpenMP thread pools to one
thread so both sides run on the same footing.
"""

import os

THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS")
for _var in THREAD_VARS:
    os.environ[_var] = "1"

import argparse  # noqa: E402
import contextlib  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence, Tuple  # noqa: E402

import catalogue  # noqa: E402
import numpy  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("ARCH_DATA", ROOT.parent / "shared" / "data"))
EWT_TRAIN = DATA / "ud_english_ewt" / "en_ewt-ud-train.conllu"
BANKING77_TRAIN = DATA / "banking77" / "train.csv"
BATCH = 128

TOK2VEC_V1 = dict(
    width=96, depth=4, embed_size=2000, window_size=1, maxout_pieces=3,
    subword_features=True, pretrained_vectors=None,
)  # fmt: skip
"""spacy.HashEmbedCNN.v1's settings in the bench's v1 models (keyword arguments)."""


def tok2vec_v1() -> Dict[str, Any]:
    """The config block of the bench's spacy.HashEmbedCNN.v1."""
    return {"@architectures": "spacy.HashEmbedCNN.v1", **TOK2VEC_V1}


def parser_v1(state_type: str) -> Dict[str, Any]:
    """The config block of the bench's spacy.TransitionBasedParser.v1 over tok2vec_v1.

    state_type: "parser" or "ner".
    """
    return {
        "@architectures": "spacy.TransitionBasedParser.v1",
        "state_type": state_type,
        "extra_state_tokens": False,
        "hidden_width": 64,
        "maxout_pieces": 2,
        "use_upper": True,
        "nO": None,
        "tok2vec": tok2vec_v1(),
    }


# --------------------------------------------------------------------------
# corpora: lists of (words, spaces)

Words = Tuple[List[str], List[bool]]


def zipf_corpus(n_words: int = 100_000, seed: int = 0) -> List[Words]:
    """Documents of 5-60 tokens over a Zipf-distributed vocabulary of made-up
    words (letters, digits, capitals and punctuation mixed in), fixed seed."""
    rng = numpy.random.default_rng(seed)
    letters = numpy.array(list("abcdefghijklmnopqrstuvwxyz"))
    vocab: List[str] = []
    for i in range(50_000):
        length = int(rng.integers(1, 12))
        word = "".join(rng.choice(letters, length))
        if i % 7 == 0:
            word = word.capitalize()
        if i % 23 == 0:
            word = word + str(int(rng.integers(0, 1000)))
        vocab.append(word)
    vocab[:8] = [".", ",", "the", "of", "and", "to", "a", "in"]
    ranks = numpy.arange(1, len(vocab) + 1)
    probs = 1.0 / ranks**1.1
    probs /= probs.sum()
    docs: List[Words] = []
    total = 0
    while total < n_words:
        length = int(rng.integers(5, 61))
        ids = rng.choice(len(vocab), length, p=probs)
        words = [vocab[i] for i in ids]
        spaces = [bool(s) for s in rng.random(length) < 0.85]
        docs.append((words, spaces))
        total += length
    return docs


def ewt_corpus(max_words: Optional[int] = None) -> List[Words]:
    """Sentences of UD English EWT train (surface tokens, SpaceAfter honoured)."""
    docs: List[Words] = []
    words: List[str] = []
    spaces: List[bool] = []
    total = 0
    skip_until = 0
    with EWT_TRAIN.open(encoding="utf8") as file:
        for line in file:
            line = line.rstrip("\n")
            if not line:
                if words:
                    docs.append((words, spaces))
                    total += len(words)
                    if max_words and total >= max_words:
                        break
                words, spaces, skip_until = [], [], 0
                continue
            if line.startswith("#"):
                continue
            cols = line.split("\t")
            if "." in cols[0]:
                continue
            if "-" in cols[0]:
                start, end = cols[0].split("-")
                skip_until = int(end)
                words.append(cols[1])
                spaces.append("SpaceAfter=No" not in cols[9])
                continue
            if int(cols[0]) <= skip_until:
                continue
            words.append(cols[1])
            spaces.append("SpaceAfter=No" not in cols[9])
    return docs


def banking77(max_docs: Optional[int] = None) -> Tuple[List[Words], List[str]]:
    """BANKING77 train: each text split into words by arch's tokenizer (spaces
    kept), with its intent label."""
    import csv

    from arch_tok2vec import Doc

    docs: List[Words] = []
    labels: List[str] = []
    with BANKING77_TRAIN.open(encoding="utf8", newline="") as file:
        for row in csv.DictReader(file):
            doc = Doc.from_text(row["text"])
            docs.append((list(doc.words), list(doc.spaces)))
            labels.append(row["category"])
            if max_docs and len(docs) >= max_docs:
                break
    return docs, labels


def corpora(quick: bool, full: int = 30_000) -> Dict[str, List[Words]]:
    """The synthetic and the real corpus, ``full`` words each (10,000 if quick)."""
    n = 10_000 if quick else full
    return {"zipf": zipf_corpus(n), "ewt": ewt_corpus(n)}


def n_words(docs: Sequence[Words]) -> int:
    return sum(len(words) for words, _ in docs)


# --------------------------------------------------------------------------
# the two sides


class _WithoutArch:
    """catalogue's entry-point table minus the arch-* distributions."""

    def __init__(self, entry_points: Any):
        self.entry_points = entry_points

    def select(self, **kwargs: Any) -> List[Any]:
        return [
            ep
            for ep in self.entry_points.select(**kwargs)
            if not (ep.dist is not None and ep.dist.metadata["Name"].startswith("arch-"))
        ]


@contextlib.contextmanager
def spacy_names() -> Iterator[None]:
    """Within the block, spaCy's registries resolve names to spaCy's and
    spacy-legacy's own functions even though arch is installed."""
    original = catalogue.AVAILABLE_ENTRY_POINTS
    catalogue.AVAILABLE_ENTRY_POINTS = _WithoutArch(original)
    try:
        yield
    finally:
        catalogue.AVAILABLE_ENTRY_POINTS = original


def spacy_vocab() -> Any:
    import spacy

    return spacy.blank("en").vocab


def build_spacy(config_text: str, section: str = "model") -> Tuple[Any, Callable]:
    """spaCy's model from a config block, and the function that built it
    (checked not to be ours)."""
    from spacy.util import registry as spacy_registry
    from thinc.api import Config

    config = Config().from_str(config_text)
    with spacy_names():
        name = config[section]["@architectures"]
        function = spacy_registry.get("architectures", name)
        if function.__module__.startswith("arch_"):
            raise RuntimeError(f"{name} resolved to arch's {function.__module__}")
        model = spacy_registry.resolve(config)[section]
    return model, function


def build_ours(config_text: str, section: str = "model") -> Any:
    from thinc.api import Config

    from arch_tok2vec import registry

    config = Config().from_str(config_text)
    function = registry.get("architectures", config[section]["@architectures"])
    if not function.__module__.startswith("arch_"):
        raise RuntimeError(f"{function} is not arch's")
    return registry.resolve(config)[section]


def our_docs(corpus: Sequence[Words]) -> List[Any]:
    from arch_tok2vec import Doc

    return [Doc(words, spaces) for words, spaces in corpus]


def spacy_docs(corpus: Sequence[Words], vocab: Any = None) -> List[Any]:
    from spacy.tokens import Doc

    vocab = vocab if vocab is not None else spacy_vocab()
    return [Doc(vocab, words=words, spaces=spaces) for words, spaces in corpus]


def batches(items: Sequence[Any], size: int = BATCH) -> List[Sequence[Any]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


# --------------------------------------------------------------------------
# timing and records


def ab_times(
    ours: Callable[[], Any], theirs: Callable[[], Any], repeats: int, min_seconds: float = 0.5
) -> Tuple[List[float], List[float]]:
    """CPU seconds of the process per run of each side, alternated A/B (B/A on
    odd repeats) after one warm-up run of each. CPU time, not wall time: the
    process is single-threaded, and on a shared machine the wall clock also
    counts the time it waited for a core. A run shorter than ``min_seconds``
    (judged by the faster side's warm-up) is timed over enough back-to-back runs
    to last that long, the same number for both sides: a timing of a few
    milliseconds is mostly noise."""
    start = time.process_time()
    ours()
    middle = time.process_time()
    theirs()
    fastest = min(middle - start, time.process_time() - middle)
    loops = max(1, math.ceil(min_seconds / max(fastest, 1e-6)))
    a_times: List[float] = []
    b_times: List[float] = []
    for r in range(repeats):
        order = [(ours, a_times), (theirs, b_times)]
        if r % 2:
            order.reverse()
        for function, times in order:
            start = time.process_time()
            for _ in range(loops):
                function()
            times.append((time.process_time() - start) / loops)
    return a_times, b_times


def rate_stats(words: int, seconds: Sequence[float]) -> Dict[str, float]:
    rates = [words / s for s in seconds]
    return {
        "median": round(statistics.median(rates), 1),
        "min": round(min(rates), 1),
        "max": round(max(rates), 1),
    }


def record(
    group: str,
    name: str,
    words: int,
    ours_s: Sequence[float],
    spacy_s: Optional[Sequence[float]],
    notes: str = "",
    unit: str = "words/s",
) -> Dict[str, Any]:
    ours = rate_stats(words, ours_s)
    theirs = rate_stats(words, spacy_s) if spacy_s else None
    ratio = round(ours["median"] / theirs["median"], 3) if theirs else None
    return {
        "group": group,
        "name": name,
        "unit": unit,
        "ours": ours,
        "spacy": theirs,
        "ratio": ratio,
        "notes": notes,
    }


def main(cases: Dict[str, Callable[[bool], List[Dict[str, Any]]]]) -> None:
    """Command line of a benchmark script: ``--list``, ``--case NAME``,
    ``--quick``, ``--out FILE``."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--case", action="append", default=[])
    parser.add_argument("--list", action="store_true")
    args = parser.parse_args()
    if args.list:
        print("\n".join(cases))
        return
    unknown = [name for name in args.case if name not in cases]
    if unknown:
        parser.error(f"unknown case {unknown[0]!r}; known: {', '.join(cases)}")
    results: List[Dict[str, Any]] = []
    for name in args.case or list(cases):
        results.extend(cases[name](args.quick))
    text = json.dumps({"results": results}, indent=2)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf8")
    else:
        print(text)
