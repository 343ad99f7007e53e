"""Run benchmark scripts, each case in a fresh process, and write the report.

    python bench/run.py [--quick] [--only NAME ...] [--out bench/results] [--prefix latest]
    python bench/run.py --only bench_apply --merge   # re-run some cases into the table
    python bench/run.py --accuracy      # the accuracy_*.py scripts instead

Each script follows the contract of ``common.main``: ``--list`` prints its
cases, ``--case NAME --out FILE`` runs one and writes ``{"results": [...]}``.
The peak resident memory of the process that ran a case is added to each of its
records. Output: ``<prefix>.json``, ``<prefix>.md`` and, for speed runs,
``<prefix>.png`` (the ours/spaCy ratios; needs matplotlib).
"""

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Dict, List, Optional

from machine import describe, summary

HERE = Path(__file__).resolve().parent
SPEED_SCRIPTS = [
    "bench_models.py",
    "bench_spacy.py",
    "bench_parser.py",
    "bench_kb.py",
    "footprint.py",
    "bench_apply.py",
]
ACCURACY_PREFIX = "accuracy_"
THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS")


WHOLE = "all"


def list_cases(script: Path) -> List[str]:
    """The script's cases, or one case for the whole script when it has no
    ``--list`` (it then runs in one process)."""
    out = subprocess.run([sys.executable, str(script), "--list"], capture_output=True, text=True)
    cases = [line.strip() for line in out.stdout.splitlines() if line.strip()]
    return cases if out.returncode == 0 and cases else [WHOLE]


def run_case(script: Path, case: str, quick: bool) -> List[Dict[str, Any]]:
    """One case in a fresh process; its records with the process's peak memory."""
    env = dict(os.environ, **{var: "1" for var in THREAD_VARS})
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out.json"
        command = [sys.executable, str(script), "--out", str(out)]
        if case != WHOLE:
            command += ["--case", case]
        if quick:
            command.append("--quick")
        start = time.perf_counter()
        process = subprocess.Popen(command, cwd=HERE, env=env)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - start
        code = os.waitstatus_to_exitcode(status)
        if code != 0:
            raise SystemExit(f"{script.name} --case {case} failed with exit code {code}")
        records = json.loads(out.read_text(encoding="utf8"))["results"]
    peak_mb = round(usage.ru_maxrss / 1024, 1)  # Linux reports KiB
    for record in records:
        record.setdefault("peak_rss_mb", peak_mb)
        record["script"] = f"{script.name}:{case}"
    print(f"  {script.name}:{case}: {len(records)} results, {seconds:.0f} s, {peak_mb} MB peak")
    return records


def fmt(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dict):
        if "median" in value:
            return f"{value['median']:,.0f} ({value['min']:,.0f}-{value['max']:,.0f})"
        return ", ".join(f"{k} {fmt(v)}" for k, v in value.items())
    if isinstance(value, float):
        return f"{value:,.3f}" if abs(value) < 10 else f"{value:,.1f}"
    return str(value)


def markdown(results: List[Dict[str, Any]], meta: Dict[str, Any]) -> str:
    lines = [
        f"# Benchmarks ({meta['date']})",
        "",
        f"Machine: {summary(meta['machine'])}.",
        "",
        f"One thread; {'quick run' if meta['quick'] else 'full run'}"
        f"{'; ' + meta['conditions'] if meta.get('conditions') else ''}. Ratio = ours / spaCy "
        "(higher is better for rates, lower for times and sizes as noted).",
        "",
        *[
            f"Re-run on {u['date']} ({u['conditions'] or 'load not recorded'}): "
            + ", ".join(u["cases"])
            + ".\n"
            for u in meta.get("updates", [])
        ],
        "| group | benchmark | unit | ours | spaCy | ratio | peak MB | notes |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        row = [
            r["group"],
            r["name"],
            r.get("unit", ""),
            fmt(r.get("ours")),
            fmt(r.get("spacy")),
            fmt(r.get("ratio")),
            fmt(r.get("peak_rss_mb")),
            r.get("notes", ""),
        ]
        lines.append("| " + " | ".join(str(cell).replace("|", "/") for cell in row) + " |")
    lines += arithmetic_table(results)
    return "\n".join(lines) + "\n"


def arithmetic_table(results: List[Dict[str, Any]]) -> List[str]:
    """Where the time goes: each side's GFLOP/s and share of the gemm peak, and
    its matrix products timed alone (bench/flops.py)."""
    rows = [r for r in results if r.get("arithmetic")]
    if not rows:
        return []
    lines = [
        "",
        "## Arithmetic",
        "",
        "GFLOP/s of the whole model (its matrix products' FLOPs over the measured time), "
        "its share of the single-thread float32 gemm peak measured in the same process, "
        "the GFLOP/s of the same products timed alone on each side's kernels (numpy's "
        "BLAS for ours, blis for spaCy's), and the share of each side's time spent "
        "outside them. Training counts three products per layer.",
        "",
        "| benchmark | MFLOP/word | peak GFLOP/s | ours GFLOP/s (share of peak) | "
        "ours products GFLOP/s, time outside | spaCy GFLOP/s (share of peak) | "
        "spaCy products GFLOP/s, time outside |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        a = r["arithmetic"]
        cells = [r["name"], f"{a['mflop_per_word']:.2f}", f"{a['gemm_peak_gflops']:.0f}"]
        for side in ("ours", "spacy"):
            s = a[side]
            cells.append(f"{s['gflops']:.1f} ({s['share_of_peak']:.0%})")
            cells.append(f"{s['products_gflops']:.0f}, {s['outside_products']:.0%}")
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def chart(results: List[Dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rated = [r for r in results if isinstance(r.get("ratio"), (int, float))]
    if not rated:
        return
    names = [r["name"] for r in rated]
    ratios = [r["ratio"] for r in rated]
    fig, ax = plt.subplots(figsize=(9, 0.32 * len(rated) + 1.2))
    colours = ["#3a7d44" if value >= 1.0 else "#c0392b" for value in ratios]
    ax.barh(range(len(rated)), ratios, color=colours)
    ax.axvline(1.0, color="black", linewidth=0.8)
    ax.set_yticks(range(len(rated)))
    ax.set_yticklabels(names, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("speed ratio of medians, ours vs spaCy (above 1: ours better)")
    for i, value in enumerate(ratios):
        ax.text(value, i, f" {value:.2f}", va="center", fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small corpora and few repeats")
    parser.add_argument("--accuracy", action="store_true", help="run accuracy_*.py")
    parser.add_argument("--only", action="append", default=[], help="script or script:case")
    parser.add_argument("--out", type=Path, default=HERE / "results")
    parser.add_argument("--prefix", default=None, help="file name stem (latest / accuracy)")
    parser.add_argument(
        "--conditions", default="", help="how the machine was loaded, for the table header"
    )
    parser.add_argument(
        "--merge",
        action="store_true",
        help="replace only the re-run cases' rows of the existing <prefix>.json (the table "
        "lists the cases re-run and when)",
    )
    args = parser.parse_args()
    if args.accuracy:
        scripts = sorted(HERE.glob(f"{ACCURACY_PREFIX}*.py"))
    else:
        scripts = [HERE / name for name in SPEED_SCRIPTS if (HERE / name).exists()]
    if not scripts:
        raise SystemExit("no benchmark scripts found")
    prefix = args.prefix or ("accuracy" if args.accuracy else "latest")
    started = time.perf_counter()
    results: List[Dict[str, Any]] = []
    for script in scripts:
        for case in list_cases(script):
            if args.only and not any(
                sel in (script.stem, script.name, f"{script.stem}:{case}") for sel in args.only
            ):
                continue
            results.extend(run_case(script, case, args.quick))
    if not results:
        raise SystemExit(f"no case matched --only {' '.join(args.only)} (SCRIPT_STEM[:CASE])")
    meta = {
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "machine": describe(peak=True),
        "python": platform.python_version(),
        "quick": args.quick,
        "conditions": args.conditions or load_note(),
        "seconds": round(time.perf_counter() - started, 1),
        "versions": versions(),
    }
    if args.merge:
        results, meta = merged(args.out / f"{prefix}.json", results, meta)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"{prefix}.json").write_text(
        json.dumps({"meta": meta, "results": results}, indent=2) + "\n", encoding="utf8"
    )
    (args.out / f"{prefix}.md").write_text(markdown(results, meta), encoding="utf8")
    print(markdown(results, meta))
    if not args.accuracy:
        chart(results, args.out / f"{prefix}.png")
    print(f"wrote {args.out / prefix}.json/.md in {meta['seconds']:.0f} s")


def merged(
    path: Path, results: List[Dict[str, Any]], meta: Dict[str, Any]
) -> "tuple[List[Dict[str, Any]], Dict[str, Any]]":
    """The records of ``path`` with those of the cases just run put in their place
    (new cases at the end), and its meta with a note of this run. The machine must
    be the one the file was measured on: a table holds one machine."""
    old = json.loads(path.read_text(encoding="utf8"))
    if summary(old["meta"]["machine"]).split(";")[0] != summary(meta["machine"]).split(";")[0]:
        raise SystemExit(f"--merge: {path} was measured on another CPU; run the whole bench")
    fresh: Dict[str, List[Dict[str, Any]]] = {}
    for record in results:
        fresh.setdefault(record["script"], []).append(record)
    out: List[Dict[str, Any]] = []
    for record in old["results"]:
        script = record.get("script")
        if script in fresh:
            out.extend(fresh.pop(script))
        elif script not in {r["script"] for r in results}:
            out.append(record)
    for records in fresh.values():
        out.extend(records)
    note = {k: meta[k] for k in ("date", "quick", "conditions", "seconds")}
    note["cases"] = sorted({r["script"] for r in results})
    kept = dict(old["meta"])
    kept["updates"] = list(kept.get("updates", [])) + [note]
    return out, kept


def load_note() -> str:
    """The machine's load average when the run ended (other processes share it)."""
    try:
        one, five, fifteen = os.getloadavg()
    except OSError:
        return ""
    return f"load average {one:.1f} / {five:.1f} / {fifteen:.1f} (1 / 5 / 15 min) at the end"


def versions() -> Dict[str, Optional[str]]:
    from importlib import metadata

    names = ["thinc", "numpy", "spacy", "spacy-legacy", "torch", "transformers"]
    names += sorted(
        dist.metadata["Name"]
        for dist in metadata.distributions()
        if dist.metadata["Name"].startswith("arch-")
    )
    found: Dict[str, Optional[str]] = {}
    for name in names:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = None
    return found


if __name__ == "__main__":
    main()
