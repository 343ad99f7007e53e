"""Knowledge-base scale benchmark: arch-entitylinker's KnowledgeBase beside spaCy's
InMemoryLookupKB (when spaCy is installed).

For each implementation a fresh Python process builds a KB of N entities
(64-d float32 vectors) and 2N aliases (1 to 3 candidates each, priors summing
below 1), then measures:

- build time (s): generating the synthetic input and filling the KB
  (``set_entities`` for the entities, one ``add_alias`` call per alias);
- peak memory (MB): the process's ru_maxrss after building (input included);
- lookup time (µs/call): ``get_alias_candidates`` on random known aliases,
  median over repeats of 100,000 calls;
- save + load (s): ``to_disk`` then ``from_disk`` into a new KB, checked to
  give back identical content (ours: identical bytes).

Implementations alternate (ours, spaCy, ours, ...) for ``--repeats`` rounds.
Targets for ours at 1,000,000 entities / 2,000,000 aliases: build < 60 s, peak
< 1.5 GB, lookup < 20 µs.

Then ours, mapped (issue 16, point 4). The last round's KB file (format 2) and an
entity linker holding it (configs/entity_linker.cfg's model, initialised, saved
with ``Pipeline.to_disk``) are opened in fresh processes, once the files are older
than ``verified_files.RACY_SECONDS`` (as a model is loaded long after it was saved):

- open (s): ``KnowledgeBase.load(path, mmap=True, verify=False)`` (header and a
  vectorised pass over the offsets and lookup tables: what a model load does after
  the manifest check verified the file), and with ``verify=True`` (the CRC-32 and
  UTF-8 of the whole file); target < 1 s;
- lookup on the mapped KB (µs/call): as above;
- sha256 of the KB file (s): what the manifest check reads and hashes;
- model load (s): ``arch_tok2vec.load`` of the entity linker, the first in a
  process (sha256 of every file, then the KB mapped), and again in the same process
  (kb.bin recorded as verified: also what a worker forked after a load does);
- memory per worker (MB): N = 1, 2, 4 worker processes, started with fork and
  with spawn, each load the model and link a batch of 256 documents (512
  mentions); once all are done, each worker's USS (Private_Clean + Private_Dirty)
  and PSS from ``/proc/PID/smaps_rollup``. The memory each extra worker adds is
  (the sum of the workers' PSS with N workers - that with 1) / (N - 1): the mapped
  file's pages count once, split between the workers that map them; target
  < 100 MB. For contrast, one worker whose KB is read into memory instead.

The page cache is warm throughout (the file was just written): open times do not
include reading the file from disk.

    python bench/bench_kb.py --out /tmp/kb.json            # 1M entities
    python bench/bench_kb.py --out /tmp/kb.json --quick    # 100k entities
"""

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
import resource  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

from kb_sharing import (  # noqa: E402, I001
    LOOKUPS,
    WIDTH,
    lookup_us,
    mapped_records,
    open_child,
    save_model,
    workers_child,
)


def _child(impl: str, n_entities: int, folder: Path) -> dict:
    import numpy

    start = time.perf_counter()
    rng = numpy.random.default_rng(0)
    ids = [f"Q{i}" for i in range(n_entities)]
    freqs = rng.integers(1, 1000, n_entities).astype("float32")
    vectors = rng.standard_normal((n_entities, WIDTH), dtype=numpy.float32)
    if impl == "ours":
        from arch_entitylinker import KnowledgeBase

        kb = KnowledgeBase(entity_vector_length=WIDTH)
        kb.set_entities(ids, freqs, vectors)
    else:
        from spacy.kb import InMemoryLookupKB
        from spacy.vocab import Vocab

        kb = InMemoryLookupKB(Vocab(), entity_vector_length=WIDTH)
        kb.set_entities(ids, freqs.tolist(), vectors)
    del vectors
    n_aliases = 2 * n_entities
    priors = {1: [0.9], 2: [0.6, 0.3], 3: [0.5, 0.3, 0.1]}
    add_alias = kb.add_alias
    chunk = 100_000  # input made chunk by chunk, so it does not dominate the peak
    for first in range(0, n_aliases, chunk):
        size = min(chunk, n_aliases - first)
        counts = rng.integers(1, 4, size).tolist()
        targets = rng.integers(0, n_entities, (size, 3)).tolist()
        for j in range(size):
            # distinct candidates: the three random rows, de-duplicated in order
            chosen = list(dict.fromkeys(targets[j]))[: counts[j]]
            add_alias(f"alias {first + j}", [ids[r] for r in chosen], priors[len(chosen)])
    build = time.perf_counter() - start
    usage = resource.getrusage(resource.RUSAGE_SELF)
    build_cpu = usage.ru_utime + usage.ru_stime
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    queries = [f"alias {i}" for i in rng.integers(0, n_aliases, LOOKUPS).tolist()]
    lookup = lookup_us(kb.get_alias_candidates, queries)

    t = time.perf_counter()
    if impl == "ours":
        path = folder / "kb.bin"
        kb.to_disk(path)
        loaded = KnowledgeBase.load(path)
    else:
        path = folder / "kb"
        kb.to_disk(path)
        loaded = InMemoryLookupKB(Vocab(), entity_vector_length=1)
        loaded.from_disk(path)
    round_trip = time.perf_counter() - t
    if impl == "ours":
        identical = loaded.to_bytes() == kb.to_bytes()
    else:
        loaded.to_disk(folder / "kb2")
        identical = (path / "contents").read_bytes() == (folder / "kb2" / "contents").read_bytes()
    sample = queries[:1000]
    same = all(
        [(c.entity_, c.prior_prob) for c in kb.get_alias_candidates(q)]
        == [(c.entity_, c.prior_prob) for c in loaded.get_alias_candidates(q)]
        for q in sample
    )
    if impl == "ours":  # the entity linker the mapped measures load
        save_model(kb, folder / "model")
    return {
        "build_s": build,
        "build_cpu_s": build_cpu,
        "peak_mb": peak_mb,
        "lookup_us": lookup,
        "round_trip_s": round_trip,
        "identical": bool(identical and same),
        "entities": kb.get_size_entities(),
        "aliases": kb.get_size_aliases(),
    }


def _subprocess(args: list) -> dict:
    """Run this script with ``args`` (a child mode) and return its JSON output."""
    result = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed:\n{result.stderr}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def _run(impl: str, n_entities: int, folder: Path) -> dict:
    folder.mkdir(parents=True, exist_ok=True)
    return _subprocess(["--child", impl, "--entities", str(n_entities), "--folder", str(folder)])


def _stats(values):
    values = sorted(values)
    return {"median": values[len(values) // 2], "min": values[0], "max": values[-1]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, help="write the JSON results here")
    parser.add_argument("--quick", action="store_true", help="100k entities, one round")
    parser.add_argument("--entities", type=int, default=None)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--no-spacy", action="store_true", help="skip spaCy's InMemoryLookupKB")
    parser.add_argument("--no-mapped", action="store_true", help="skip the mapped KB's measures")
    parser.add_argument(
        "--child", choices=("ours", "spacy", "open", "workers"), help=argparse.SUPPRESS
    )
    parser.add_argument("--folder", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--start", help=argparse.SUPPRESS)
    parser.add_argument("--workers", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--in-memory", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--preload", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    n = args.entities or (100_000 if args.quick else 1_000_000)
    if args.child == "open":
        print(json.dumps(open_child(args.folder, n)))
        return
    if args.child == "workers":
        result = workers_child(args.folder, args.start, args.workers, args.in_memory, args.preload)
        print(json.dumps(result))
        return
    if args.child:
        print(json.dumps(_child(args.child, n, args.folder)))
        return
    impls = ["ours"]
    if not args.no_spacy:
        try:
            import spacy  # noqa: F401

            impls.append("spacy")
        except ImportError:
            pass
    runs: dict = {impl: [] for impl in impls}
    folder = Path(tempfile.mkdtemp(prefix="bench_kb_"))
    try:
        for round_ in range(args.repeats):
            for impl in impls:
                result = _run(impl, n, folder / impl)
                runs[impl].append(result)
                print(f"round {round_ + 1} {impl}: {json.dumps(result)}", file=sys.stderr)
        mapped = [] if args.no_mapped else mapped_records(folder / "ours", n, _subprocess)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    metrics = [
        ("build_s", f"build {n:,} entities + {2 * n:,} aliases", "s"),
        ("build_cpu_s", "build, CPU time (user + system; startup included)", "s"),
        ("peak_mb", "peak memory after build (ru_maxrss)", "MB"),
        ("lookup_us", "get_alias_candidates", "µs/call"),
        ("round_trip_s", "to_disk + from_disk", "s"),
    ]
    results = []
    for key, name, unit in metrics:
        ours = _stats([r[key] for r in runs["ours"]])
        spacy_stats = _stats([r[key] for r in runs["spacy"]]) if "spacy" in runs else None
        # higher is better: spaCy's cost over ours
        ratio = spacy_stats["median"] / ours["median"] if spacy_stats and ours["median"] else None
        results.append(
            {
                "group": "knowledge base",
                "name": name,
                "unit": unit,
                "ours": ours,
                "spacy": spacy_stats,
                "ratio": ratio,
                # our KB's own process (the script's children run one side each)
                "peak_rss_mb": round(max(r["peak_mb"] for r in runs["ours"]), 1),
                "notes": (
                    f"{WIDTH}-d vectors, 1-3 candidates per alias, fresh process per run, "
                    f"{args.repeats} round(s); ratio = spaCy / ours (higher: ours cheaper); "
                    f"round trip identical: ours {all(r['identical'] for r in runs['ours'])}"
                    + (
                        f", spaCy {all(r['identical'] for r in runs['spacy'])}"
                        if "spacy" in runs
                        else ""
                    )
                ),
            }
        )
    results.extend(mapped)
    text = json.dumps({"results": results}, indent=2, ensure_ascii=False)
    if args.out:
        args.out.write_text(text + "\n", "utf8")
    print(text)


if __name__ == "__main__":
    main()
