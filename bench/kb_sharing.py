"""The mapped KB's measures of bench_kb.py (issue 16, point 4): open times, lookups,
model loads and the memory of worker processes that share one KB file (see
bench_kb.py's docstring for what each row measures). Run through bench_kb.py, whose
child modes ("open", "workers") call ``open_child`` and ``workers_child``.
"""

import hashlib
import json
import multiprocessing
import os
import resource
import sys
import time
from pathlib import Path
from typing import Any, Callable, Dict, List

WIDTH = 64
LOOKUPS = 100_000
ROOT = Path(__file__).resolve().parents[1]
WORKERS = (1, 2, 4)
BATCH_DOCS = 256


def lookup_us(get: Callable[[str], Any], queries: List[str]) -> float:
    """The median over 5 passes of the time per call of ``get`` on ``queries`` (µs)."""
    times = []
    for _ in range(5):
        t = time.perf_counter()
        for query in queries:
            get(query)
        times.append((time.perf_counter() - t) / len(queries) * 1e6)
    return sorted(times)[len(times) // 2]


def docs_for(n_aliases: int, count: int = BATCH_DOCS, seed: int = 1) -> list:
    """Documents with two mentions each of random aliases of the synthetic KB."""
    import numpy

    from arch_tok2vec import Doc

    rng = numpy.random.default_rng(seed)
    docs = []
    for a, b in rng.integers(0, n_aliases, (count, 2)).tolist():
        words = ["In", "alias", str(a), "we", "met", "alias", str(b), "again", "."]
        docs.append(Doc(words, ents=[(1, 3, "ORG"), (5, 7, "ORG")]))
    return docs


def save_model(kb, target: Path) -> None:
    """Save an entity linker holding ``kb``: configs/entity_linker.cfg's model,
    initialised (its weights do not matter for time and memory)."""
    import numpy
    from thinc.api import Config

    from arch_tok2vec import Pipeline, registry

    config = Config().from_disk(ROOT / "configs" / "entity_linker.cfg")
    resolved = registry.resolve({"task": config["task"], "model": config["model"]})
    task, model = resolved["task"], resolved["model"]
    task.set_kb(kb)
    sample = docs_for(kb.get_size_aliases(), 16)
    model.initialize(X=sample, Y=numpy.zeros((len(sample), WIDTH), dtype="float32"))
    Pipeline(config, model, task).to_disk(target)


def _wait_until_settled(paths: list) -> None:
    """Sleep until the files are older than verified_files.RACY_SECONDS."""
    from arch_tok2vec.verified_files import RACY_SECONDS

    newest = max(max(p.stat().st_mtime, p.stat().st_ctime) for p in paths)
    time.sleep(max(0.0, newest + RACY_SECONDS + 0.5 - time.time()))


def open_child(folder: Path, n_entities: int) -> dict:
    """Open times, mapped lookups, the sha256 and the model loads, in this fresh process."""
    import numpy

    import arch_tok2vec
    from arch_entitylinker import KnowledgeBase

    path, model = folder / "kb.bin", folder / "model"
    _wait_until_settled([path, *model.iterdir()])
    t = time.perf_counter()
    kb = KnowledgeBase.load(path, mmap=True, verify=False)
    open_s = time.perf_counter() - t
    t = time.perf_counter()
    KnowledgeBase.load(path, mmap=True, verify=True)
    open_verify_s = time.perf_counter() - t
    rng = numpy.random.default_rng(2)
    queries = [f"alias {i}" for i in rng.integers(0, 2 * n_entities, LOOKUPS).tolist()]
    lookup = lookup_us(kb.get_alias_candidates, queries)
    t = time.perf_counter()
    sha = hashlib.sha256()
    with path.open("rb") as file:
        for chunk in iter(lambda: file.read(1 << 20), b""):
            sha.update(chunk)
    sha_s = time.perf_counter() - t
    t = time.perf_counter()
    arch_tok2vec.load(model)
    load_first_s = time.perf_counter() - t
    t = time.perf_counter()
    pipeline = arch_tok2vec.load(model)
    load_again_s = time.perf_counter() - t
    docs = docs_for(kb.get_size_aliases())
    t = time.perf_counter()
    pipeline(docs)
    link_s = time.perf_counter() - t
    return {
        "open_s": open_s,
        "open_verify_s": open_verify_s,
        "lookup_us": lookup,
        "sha256_s": sha_s,
        "file_mb": path.stat().st_size / 1e6,
        "load_first_s": load_first_s,
        "load_again_s": load_again_s,
        "link_docs_per_s": len(docs) / link_s,
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def _memory(pid: int) -> dict:
    """A process's RSS, PSS and USS (MB) from /proc/PID/smaps_rollup."""
    fields = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[0].endswith(":") and parts[2] == "kB":
            fields[parts[0][:-1]] = int(parts[1]) / 1024
    return {
        "rss_mb": fields["Rss"],
        "pss_mb": fields["Pss"],
        "uss_mb": fields["Private_Clean"] + fields["Private_Dirty"],
    }


def _worker(model: str, in_memory: bool, ready, go) -> None:
    """A worker: load the model (its KB mapped, or read into memory), link a batch,
    report, and stay alive until the harness has measured every worker."""
    import arch_tok2vec
    from arch_entitylinker import KnowledgeBase

    t = time.perf_counter()
    pipeline = arch_tok2vec.load(model)
    if in_memory:
        pipeline.task.set_kb(KnowledgeBase.load(Path(model) / "kb.bin"))
    load_s = time.perf_counter() - t
    docs = docs_for(pipeline.task.kb.get_size_aliases())
    t = time.perf_counter()
    links = pipeline(docs)
    link_s = time.perf_counter() - t
    linked = sum(1 for doc_links in links for *_, kb_id in doc_links if kb_id != "NIL")
    ready.put({"pid": os.getpid(), "load_s": load_s, "link_s": link_s, "linked": linked})
    go.wait(900)


def workers_child(folder: Path, start: str, n: int, in_memory: bool, preload: bool) -> dict:
    """Start ``n`` workers with the ``start`` method (after loading the model here
    too, if ``preload``) and measure each one's memory once all have linked their
    batch."""
    import arch_entitylinker  # noqa: F401  (imported before a fork, as a corpus run does)
    import arch_tok2vec

    _wait_until_settled([folder / "kb.bin", *(folder / "model").iterdir()])
    if preload:
        arch_tok2vec.load(folder / "model")
    context = multiprocessing.get_context(start)
    ready, go = context.Queue(), context.Event()
    args = (str(folder / "model"), in_memory, ready, go)
    workers = [context.Process(target=_worker, args=args) for _ in range(n)]
    for worker in workers:
        worker.start()
    try:
        reports = [ready.get(timeout=900) for _ in workers]
        for report in reports:
            report.update(_memory(report["pid"]))
    finally:
        go.set()
        for worker in workers:
            worker.join(60)
    return {"start": start, "workers": n, "reports": reports}


def mapped_records(
    folder: Path, n_entities: int, run: Callable[[list], Dict[str, Any]]
) -> List[dict]:
    """The records of the mapped KB's measures (see bench_kb.py's docstring).

    folder: Where bench_kb.py's "ours" child saved kb.bin and the model.
    n_entities: The KB's size.
    run: Runs bench_kb.py in a child mode with the arguments given; returns its JSON.
    """
    opened = run(["--child", "open", "--entities", str(n_entities), "--folder", str(folder)])
    print(f"mapped: {json.dumps(opened)}", file=sys.stderr)
    size = f"{opened['file_mb']:,.0f} MB file"
    records = [
        _record(
            "open the mapped KB (header and tables)", "s", opened["open_s"], f"{size}; target < 1 s"
        ),
        _record(
            "open the mapped KB, verify=True (CRC-32, UTF-8)", "s", opened["open_verify_s"], size
        ),
        _record(
            "get_alias_candidates, mapped KB",
            "µs/call",
            opened["lookup_us"],
            "median of 5 x 100,000",
        ),
        _record("sha256 of the KB file (the manifest check)", "s", opened["sha256_s"], size),
        _record(
            "load the entity linker, first in a process",
            "s",
            opened["load_first_s"],
            "sha256 of every file of the folder, then the KB mapped",
        ),
        _record(
            "load the entity linker again (kb.bin verified already)",
            "s",
            opened["load_again_s"],
            "also what a worker forked after a load does",
        ),
        _record(
            "link 256 documents (512 mentions), mapped KB",
            "docs/s",
            opened["link_docs_per_s"],
            "configs/entity_linker.cfg's model, one process",
        ),
    ]
    for record in records:  # all measured in one process
        record["peak_rss_mb"] = round(opened["peak_mb"], 1)
    if not Path("/proc/self/smaps_rollup").exists():
        return records + [_record("memory per worker", "MB", None, "needs Linux's smaps_rollup")]
    starts = [m for m in ("fork", "spawn") if m in multiprocessing.get_all_start_methods()]
    for start in starts:
        runs = {}
        for n in WORKERS:
            runs[n] = run(
                [
                    "--child",
                    "workers",
                    "--start",
                    start,
                    "--workers",
                    str(n),
                    "--folder",
                    str(folder),
                ]
            )["reports"]
            print(f"{start} x{n}: {json.dumps(runs[n])}", file=sys.stderr)
        pss = {n: sum(r["pss_mb"] for r in reports) for n, reports in runs.items()}
        uss = {n: sum(r["uss_mb"] for r in reports) / n for n, reports in runs.items()}
        most = max(WORKERS)
        extra = (pss[most] - pss[1]) / (most - 1)
        per_n = "; ".join(
            f"{n} worker{'s' if n > 1 else ''}: PSS sum {pss[n]:,.0f}, USS each {uss[n]:,.0f}"
            for n in WORKERS
        )
        linked = {r["linked"] for reports in runs.values() for r in reports}
        load_s = sorted(r["load_s"] for r in runs[most])[most // 2]
        records.append(
            _record(
                f"memory each extra worker adds ({start})",
                "MB",
                extra,
                f"(PSS sum of {most} - of 1) / {most - 1}; {per_n} (one worker alone has the "
                "KB pages it touched to itself: clean file pages, which from 2 workers on "
                f"are shared); mentions linked per worker {sorted(linked)}; each of {most} "
                f"workers loads the model in {load_s:.1f} s; target < 100 MB",
                peak=max(r["rss_mb"] for reports in runs.values() for r in reports),
            )
        )
    if "fork" in starts:
        most = max(WORKERS)
        args = ["--start", "fork", "--workers", str(most), "--folder", str(folder), "--preload"]
        reports = run(["--child", "workers", *args])["reports"]
        print(f"fork x{most} after a load: {json.dumps(reports)}", file=sys.stderr)
        records.append(
            _record(
                f"load the entity linker in each of {most} workers forked after a load",
                "s",
                sorted(r["load_s"] for r in reports)[most // 2],
                "the parent loaded the model first, so kb.bin is recorded as verified and "
                "the workers do not hash it; USS each "
                f"{sum(r['uss_mb'] for r in reports) / most:,.0f} MB",
                peak=max(r["rss_mb"] for r in reports),
            )
        )
    start = "spawn" if "spawn" in starts else starts[0]
    alone = run(
        [
            "--child",
            "workers",
            "--start",
            start,
            "--workers",
            "1",
            "--folder",
            str(folder),
            "--in-memory",
        ]
    )["reports"][0]
    records.append(
        _record(
            f"a worker holding the KB in memory instead ({start}), USS",
            "MB",
            alone["uss_mb"],
            f"for contrast; it loads in {alone['load_s']:.1f} s",
            peak=alone["rss_mb"],
        )
    )
    return records


def _record(name: str, unit: str, value, notes: str, peak=None) -> dict:
    record = {
        "group": "knowledge base",
        "name": name,
        "unit": unit,
        "ours": value,
        "spacy": None,
        "ratio": None,
        "notes": "mapped KB (format 2); " + notes,
    }
    if peak is not None:
        record["peak_rss_mb"] = round(peak, 1)
    return record
