"""``archs apply`` at corpus scale: the speed-up of ``--n-process 2`` over one
process beside spaCy's ``nlp.pipe(n_process=2)`` over one (tagger and parser,
spaCy's v1 models with the same weights), flat memory on generated JSONL of
100 MB and 1 GB (text classifier), and the throughput of ``--engine ray``.

    python bench/bench_apply.py --case tagger_parser [--quick]
    python bench/bench_apply.py --case memory [--quick]
    python bench/bench_apply.py --case ray            (listed when Ray is installed)

The process-count cases must not pin the machine's cores to one process: each
worker runs one BLAS thread (common.py pins the variables, the workers inherit
them; ``archs apply`` also sets one thread per worker with threadpoolctl). The
machine is shared: read the ratios, and the load average in the notes.
"""

from common import DATA, ROOT, main, parser_v1, spacy_names, tok2vec_v1  # noqa: I001  (first: pins the BLAS threads)

import json  # noqa: E402
import os  # noqa: E402
import random  # noqa: E402
import shutil  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any, Callable, Dict, List, Tuple  # noqa: E402

import numpy  # noqa: E402
from thinc.api import Config, fix_random_seed  # noqa: E402

TOK2VEC = tok2vec_v1()
TAGGER = {"@architectures": "spacy.Tagger.v1", "nO": None, "tok2vec": TOK2VEC}
PARSER = parser_v1("parser")
EWT_TRAIN = DATA / "ud_english_ewt" / "en_ewt-ud-train.conllu"
TEXTCAT_CONFIG = ROOT / "configs" / "textcat.cfg"


def _burn(seconds: float) -> float:
    """Spin for ``seconds`` of wall time; return the CPU seconds this process got."""
    start, cpu = time.perf_counter(), time.process_time()
    while time.perf_counter() - start < seconds:
        pass
    return time.process_time() - cpu


def cores_available(seconds: float = 2.0) -> float:
    """How many cores two busy processes get together right now (2.0 on an idle
    two-core machine; on a shared one, the ceiling of any 2-process speed-up)."""
    import multiprocessing

    with multiprocessing.get_context("fork").Pool(2) as pool:
        return sum(pool.map(_burn, [seconds, seconds])) / seconds


def load_average() -> str:
    try:
        return "load average " + " ".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:
        return ""


# --------------------------------------------------------------------------
# the same v1 tagger and parser on both sides


def _ewt(n: int) -> List[Tuple[List[str], List[bool], List[str], List[int], List[str]]]:
    """(words, spaces, upos, heads, deps) of the first ``n`` EWT train sentences."""
    from arch_tok2vec.conllu import read_conllu

    out = []
    for sentence in read_conllu(EWT_TRAIN):
        words = sentence.words
        heads = [w.head - 1 if w.head else i for i, w in enumerate(words)]
        out.append(
            (
                [w.form for w in words],
                [w.space_after for w in words],
                [w.upos for w in words],
                heads,
                [w.deprel for w in words],
            )
        )
        if len(out) == n:
            break
    return out


def _texts(n: int) -> List[str]:
    """The ``# text`` of EWT train sentences, from the 3,000th on (not trained on)."""
    texts = []
    with open(EWT_TRAIN, encoding="utf8") as file:
        for line in file:
            if line.startswith("# text = "):
                texts.append(line[len("# text = ") :].rstrip("\n"))
    return texts[3000 : 3000 + n]


def build_models(folder: Path) -> Tuple[Any, List[Path]]:
    """spaCy's blank English pipeline with a v1 tagger and parser (spacy-legacy's
    functions, seeded random weights) and the same two models as arch model
    folders under ``folder``."""
    from arch_parser import ArcEager
    from arch_parser.task import ParserTask
    from arch_tagger.task import TaggerTask
    from arch_tok2vec import Doc, Pipeline, registry

    train = _ewt(1500)
    fix_random_seed(0)
    with spacy_names():
        import spacy
        from spacy.tokens import Doc as SpacyDoc
        from spacy.training import Example

        nlp = spacy.blank("en")
        tagger = nlp.add_pipe("tagger", config={"model": TAGGER})
        parser = nlp.add_pipe("parser", config={"model": PARSER, "min_action_freq": 1})
        for name in ("tagger", "parser"):
            function = nlp.get_pipe(name).model.name
            assert "arch" not in function, function
        examples = [
            Example.from_dict(
                SpacyDoc(nlp.vocab, words=w, spaces=s), {"tags": t, "heads": h, "deps": d}
            )
            for w, s, t, h, d in train
        ]
        nlp.initialize(lambda: examples)
        rng = numpy.random.default_rng(0)
        for pipe in (tagger, parser):
            for node in pipe.model.walk():
                for name in node.param_names:
                    if node.has_param(name):
                        param = node.get_param(name)
                        node.set_param(name, rng.normal(0, 0.3, param.shape).astype("float32"))
        tagger_bytes, parser_bytes = tagger.model.to_bytes(), parser.model.to_bytes()
        tag_labels = list(tagger.labels)
        moves = {int(a): dict(f) for a, f in parser.moves.labels.items()}
    sample = [Doc(w, s) for w, s, *_ in train[:8]]
    folders = []
    for name, block, task_block in (
        ("tagger", TAGGER, {"@tasks": "arch.tagger.v1", "column": "upos"}),
        ("parser", PARSER, {"@tasks": "arch.parser.v1", "min_action_freq": 1}),
    ):
        config = Config({"task": task_block, "model": block})
        model = registry.resolve({"model": block})["model"]
        if name == "tagger":
            task: Any = TaggerTask("upos")
            task.labels = tag_labels
            zeros = [numpy.zeros((len(d), len(tag_labels)), dtype="float32") for d in sample]
            model.initialize(X=sample, Y=zeros)
            model.from_bytes(tagger_bytes)
        else:
            task = ParserTask(min_action_freq=1)
            task.moves = ArcEager(moves)
            model.attrs["resize_output"](model, task.moves.n_moves)
            model.initialize(X=sample)
            model.from_bytes(parser_bytes)
        Pipeline(config, model, task).to_disk(folder / name)
        folders.append(folder / name)
    return nlp, folders


def _timings(runs: Dict[str, Callable[[], Any]], repeats: int) -> Dict[str, List[float]]:
    """Seconds per run of each function, in rotating order after one warm-up each."""
    names = list(runs)
    for name in names:
        runs[name]()
    times: Dict[str, List[float]] = {name: [] for name in names}
    for r in range(repeats):
        order = names[r % len(names) :] + names[: r % len(names)]
        for name in order:
            start = time.perf_counter()
            runs[name]()
            times[name].append(time.perf_counter() - start)
    return times


def tagger_parser(quick: bool) -> List[Dict[str, Any]]:
    from arch_tok2vec.apply import apply

    texts = _texts(800 if quick else 2500)
    tmp = Path(tempfile.mkdtemp(prefix="bench-apply-"))
    try:
        nlp, folders = build_models(tmp / "models")
        source = tmp / "in.txt"
        source.write_text("\n".join(texts) + "\n", encoding="utf8")
        specs = [str(f) for f in folders]
        counted: Dict[str, int] = {}

        def ours(n: int) -> Callable[[], Any]:
            def go() -> None:
                result = apply(
                    specs, str(source), tmp / f"out{n}.jsonl", n_process=n, overwrite=True,
                    log=lambda m: None,
                )  # fmt: skip
                counted["ours"] = result.words

            return go

        def theirs(n: int) -> Callable[[], Any]:
            def go() -> None:
                with spacy_names():
                    counted["spacy"] = sum(
                        len(doc) for doc in nlp.pipe(texts, batch_size=128, n_process=n)
                    )

            return go

        runs = {"ours1": ours(1), "ours2": ours(2), "spacy1": theirs(1), "spacy2": theirs(2)}
        cores_before = cores_available()
        times = _timings(runs, 2 if quick else 3)
        cores_after = cores_available()
        one = (tmp / "out1.jsonl").read_bytes()
        same = one == (tmp / "out2.jsonl").read_bytes()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    median = {name: statistics.median(values) for name, values in times.items()}
    ours_up = median["ours1"] / median["ours2"]
    spacy_up = median["spacy1"] / median["spacy2"]
    rate = {
        name: counted["ours" if name.startswith("ours") else "spacy"] / value
        for name, value in median.items()
    }
    return [
        {
            "group": "apply",
            "name": "n-process 2 / 1 speed-up, tagger + parser",
            "unit": "x (time 1 / time 2)",
            "ours": round(ours_up, 3),
            "spacy": round(spacy_up, 3),
            "ratio": round(ours_up / spacy_up, 3),
            "notes": (
                f"archs apply (text in, JSONL out) vs nlp.pipe(n_process=...), "
                f"{len(texts)} EWT train sentences, batch 128, v1 models 96x4 + hidden 64, same "
                f"weights; words/s ours {rate['ours1']:,.0f} -> {rate['ours2']:,.0f}, spaCy "
                f"{rate['spacy1']:,.0f} -> {rate['spacy2']:,.0f}; n-process 2 output "
                f"{'byte-identical' if same else 'DIFFERENT'}; {os.cpu_count()} cores, of "
                f"which two busy processes got {cores_before:.2f} before and "
                f"{cores_after:.2f} after (the ceiling of any speed-up here); {load_average()}"
            ),
        }
    ]


# --------------------------------------------------------------------------
# memory on 100 MB and 1 GB


def _generate(path: Path, size: int, seed: int = 0) -> int:
    """A JSONL corpus of ``size`` bytes: texts of 10-80 words over a 30,000-word
    vocabulary, and in every text a reference number and a name never seen
    before (a real corpus keeps bringing new words). Returns the documents."""
    rng = random.Random(seed)
    vocab = [
        "".join(rng.choice("abcdefghijklmnop") for _ in range(rng.randint(2, 9)))
        for _ in range(30000)
    ]
    pool = [" ".join(rng.choices(vocab, k=rng.randint(10, 80))) for _ in range(5000)]
    written = docs = 0
    with open(path, "w", encoding="utf8") as file:
        while written < size:
            lines = []
            for _ in range(1000):
                text = f"{pool[docs % 5000]} Ref{docs} no. {docs * 7919 % 1000003}."
                lines.append(json.dumps({"id": docs, "text": text}) + "\n")
                docs += 1
            chunk = "".join(lines)
            file.write(chunk)
            written += len(chunk.encode("utf8"))
    return docs


def _tree(pid: int) -> List[int]:
    pids, todo = [], [pid]
    while todo:
        current = todo.pop()
        pids.append(current)
        try:
            todo += [
                int(x) for x in Path(f"/proc/{current}/task/{current}/children").read_text().split()
            ]
        except OSError:
            pass
    return pids


def _memory_kb(pid: int) -> Tuple[int, int]:
    """(RSS, PSS) of a process in KiB (0, 0 once it is gone)."""
    rss = pss = 0
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Rss:"):
                rss = int(line.split()[1])
            elif line.startswith("Pss:"):
                pss = int(line.split()[1])
    except OSError:
        pass
    return rss, pss


def run_sampled(command: List[str]) -> Tuple[float, float, float, int]:
    """Run a command; sample its process tree's memory every 0.1 s. Returns (peak
    PSS sum MB, peak RSS sum MB, seconds, processes seen at once at most)."""
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak_pss = peak_rss = 0
    widest = 0
    start = time.perf_counter()
    while process.poll() is None:
        pids = _tree(process.pid)
        widest = max(widest, len(pids))
        sizes = [_memory_kb(pid) for pid in pids]
        peak_rss = max(peak_rss, sum(r for r, _ in sizes))
        peak_pss = max(peak_pss, sum(p for _, p in sizes))
        time.sleep(0.1)
    seconds = time.perf_counter() - start
    if process.returncode:
        raise SystemExit(f"{' '.join(command)} failed: {process.stderr.read().decode()[-2000:]}")
    return peak_pss / 1024, peak_rss / 1024, seconds, widest


def memory(quick: bool) -> List[Dict[str, Any]]:
    from arch_tok2vec.training import train

    sizes = [10 << 20, 100 << 20] if quick else [100 << 20, 1 << 30]
    tmp = Path(tempfile.mkdtemp(prefix="bench-apply-mem-"))
    try:
        config = Config().from_disk(TEXTCAT_CONFIG, interpolate=False)
        config["training"]["max_epochs"] = 2
        train(config, tmp / "textcat", log=lambda line: None, progress=False)
        archs = str(Path(sys.executable).with_name("archs"))
        found = []
        for size in sizes:
            source = tmp / f"in-{size >> 20}MB.jsonl"
            docs = _generate(source, size)
            out = tmp / "out.jsonl"
            command = [archs, "apply", str(tmp / "textcat" / "model-last"), str(source), str(out)]
            command += ["--n-process", "2", "--no-progress", "--overwrite"]
            pss, rss, seconds, widest = run_sampled(command)
            found.append((size, docs, pss, rss, seconds, widest, out.stat().st_size))
            out.unlink()
            source.unlink()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    rss_spread = abs(found[-1][3] - found[0][3]) / found[0][3]
    pss_spread = abs(found[-1][2] - found[0][2]) / found[0][2]
    described = "; ".join(
        f"{s >> 20} MB in ({d:,} docs, {o / 2**20:,.0f} MB out, {sec:,.0f} s): peak RSS sum "
        f"{r:,.0f} MB, PSS sum {p:,.0f} MB, {w} processes"
        for s, d, p, r, sec, w, o in found
    )
    return [
        {
            "group": "apply",
            "name": "peak memory, text classifier, n-process 2",
            "unit": "MB (PSS summed over the process tree)",
            "ours": {f"{s >> 20} MB": round(p, 1) for s, _, p, *_ in found},
            "spacy": None,
            "ratio": None,
            "notes": (
                f"{described}; the largest input's peak is {pss_spread:.1%} off the smallest's "
                f"in PSS, {rss_spread:.1%} in RSS (PSS splits the pages the forked workers share "
                f"with the parent among them, so its sum is the memory the run takes; the RSS "
                f"sum counts them once per process); target: "
                f"under 10% and under 400 MB; {load_average()}"
            ),
        }
    ]


# --------------------------------------------------------------------------
# Ray


def ray_throughput(quick: bool) -> List[Dict[str, Any]]:
    import ray

    from arch_tok2vec.apply import apply

    texts = _texts(800 if quick else 2500)
    tmp = Path(tempfile.mkdtemp(prefix="bench-apply-ray-"))
    try:
        _, folders = build_models(tmp / "models")
        source = tmp / "in.txt"
        source.write_text("\n".join(texts) + "\n", encoding="utf8")
        specs = [str(f) for f in folders]
        started = time.perf_counter()
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
        ray_start = time.perf_counter() - started
        words: Dict[str, int] = {}

        def run(engine: str, n: int) -> Callable[[], Any]:
            def go() -> None:
                out = tmp / f"{engine}{n}.jsonl"
                result = apply(specs, str(source), out, n_process=n, engine=engine,
                               overwrite=True, log=lambda m: None)  # fmt: skip
                words["n"] = result.words

            return go

        times = _timings(
            {"local1": run("local", 1), "local2": run("local", 2), "ray2": run("ray", 2)}, 2
        )
        same = (tmp / "ray2.jsonl").read_bytes() == (tmp / "local1.jsonl").read_bytes()
        ray.shutdown()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    rate = {name: words["n"] / statistics.median(values) for name, values in times.items()}
    return [
        {
            "group": "apply",
            "name": "--engine ray, 2 actors, tagger + parser",
            "unit": "words/s",
            "ours": round(rate["ray2"], 1),
            "spacy": None,
            "ratio": None,
            "notes": (
                f"local Ray cluster of 2 CPUs (started once, {ray_start:.0f} s); per run the "
                f"actors load the models; same batches as local processes: output "
                f"{'byte-identical' if same else 'DIFFERENT'}; local --n-process 1 "
                f"{rate['local1']:,.0f} words/s, 2: {rate['local2']:,.0f}; {len(texts)} EWT "
                f"sentences; {load_average()}"
            ),
        }
    ]


def _cases() -> Dict[str, Callable[[bool], List[Dict[str, Any]]]]:
    cases = {"tagger_parser": tagger_parser, "memory": memory}
    try:
        import ray  # noqa: F401
    except ImportError:
        pass  # nox -s ray installs it and runs this case
    else:
        cases["ray"] = ray_throughput
    return cases


if __name__ == "__main__":
    main(_cases())
