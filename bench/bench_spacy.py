"""spaCy pipelines as their users run them, with arch installed and without.

A spaCy 3.8 pipeline is built from spaCy's own config with the v1 architectures
(``spacy.Tagger.v1``, ``spacy.TextCatCNN.v1``, ``spacy.TextCatBOW.v1``,
``spacy.TransitionBasedParser.v1``, each over ``spacy.HashEmbedCNN.v1`` where it
has a tok2vec), given seeded random weights and saved with ``nlp.to_disk``.
Then fresh processes load it with ``spacy.load``, alternately:

- "with arch": arch is installed, so spaCy resolves the v1 names to arch's
  functions (their entry points win over spacy-legacy's);
- "spaCy alone": the same venv with arch's entry points hidden from catalogue
  (checked: no arch module is imported in that process), so the names resolve
  to spacy-legacy's (or spaCy core's) functions.

Predict = ``nlp.pipe`` on raw text (spaCy's tokenizer included), batch 128.
Train = ``nlp.update`` (dropout 0.1, spaCy's default optimizer from
``nlp.resume_training()``) on batches of 128 gold examples. Each process times
its side over a few repeats after a warm-up, in CPU time of the process
(``time.process_time``: the time the single-threaded process ran, not the time
it waited for a core on a shared machine); the records give the median over
processes of each process's best rate.

    python bench/bench_spacy.py --case tagger --quick
"""

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Dict, List

import common  # (before numpy: pins the BLAS threads)
from common import DATA, main, parser_v1, record, tok2vec_v1

HERE = Path(__file__).resolve().parent
EWT = DATA / "ud_english_ewt"
TOK2VEC = tok2vec_v1()


PIPES: Dict[str, Dict[str, Any]] = {
    "tagger": {
        "factory": "tagger",
        "config": {"model": {"@architectures": "spacy.Tagger.v1", "nO": None, "tok2vec": TOK2VEC}},
    },
    "textcat_cnn": {
        "factory": "textcat",
        "config": {
            "model": {
                "@architectures": "spacy.TextCatCNN.v1",
                "exclusive_classes": True,
                "nO": None,
                "tok2vec": TOK2VEC,
            }
        },
    },
    "textcat_bow_77": {
        "factory": "textcat",
        "config": {
            "model": {
                "@architectures": "spacy.TextCatBOW.v1",
                "exclusive_classes": True,
                "ngram_size": 1,
                "no_output_layer": False,
                "nO": None,
            }
        },
    },
    "entity_linker": {
        "factory": "entity_linker",
        "config": {
            "model": {
                "@architectures": "spacy.EntityLinker.v1",
                "nO": None,
                "tok2vec": {**TOK2VEC, "depth": 2},
            },
            "entity_vector_length": 64,
            "incl_prior": True,
            "use_gold_ents": True,
        },
    },
    "parser": {
        "factory": "parser",
        "config": {"model": parser_v1("parser"), "min_action_freq": 1},
    },
    "ner": {"factory": "ner", "config": {"model": parser_v1("ner")}},
}


# --------------------------------------------------------------------------
# corpora (plain data written to JSON for the worker processes)


def _conllu(path: Path, max_words: int) -> List[Dict[str, Any]]:
    """Sentences of a CoNLL-U file: words, spaces, UPOS, heads (absolute), deps."""
    out: List[Dict[str, Any]] = []
    rows: List[List[str]] = []
    total = 0
    with path.open(encoding="utf8") as file:
        for line in file:
            line = line.rstrip("\n")
            if not line:
                if rows:
                    ids = [int(r[0]) for r in rows]
                    position = {i: n for n, i in enumerate(ids)}
                    out.append(
                        {
                            "words": [r[1] for r in rows],
                            "spaces": ["SpaceAfter=No" not in r[9] for r in rows],
                            "tags": [r[3] for r in rows],
                            "heads": [
                                position.get(int(r[6]), n) if r[6] != "0" else n
                                for n, r in enumerate(rows)
                            ],
                            "deps": [r[7] if r[6] != "0" else "ROOT" for r in rows],
                        }
                    )
                    total += len(rows)
                    rows = []
                    if total >= max_words:
                        break
                continue
            cols = line.split("\t")
            if line.startswith("#") or "-" in cols[0] or "." in cols[0]:
                continue
            rows.append(cols)
    return out


def _raw_texts(path: Path, max_words: int) -> List[str]:
    texts: List[str] = []
    total = 0
    with path.open(encoding="utf8") as file:
        for line in file:
            if line.startswith("# text = "):
                texts.append(line[len("# text = ") :].rstrip("\n"))
                total += len(texts[-1].split())
                if total >= max_words:
                    break
    return texts


def _wnut(path: Path, max_words: int) -> List[Dict[str, Any]]:
    out: List[Dict[str, Any]] = []
    words: List[str] = []
    tags: List[str] = []
    total = 0
    with path.open(encoding="utf8") as file:
        for line in list(file) + [""]:
            line = line.rstrip("\n")
            if not line.strip():
                if words:
                    out.append({"words": words, "spaces": [True] * len(words), "iob": tags})
                    total += len(words)
                    words, tags = [], []
                    if total >= max_words:
                        break
                continue
            word, _, tag = line.partition("\t")
            words.append(word)
            tags.append(tag.strip() or "O")
    return out


def _banking(max_docs: int) -> List[Dict[str, Any]]:
    """BANKING77 train rows (text, label) in a seeded random order (the file is
    sorted by label: every label shows up in a short prefix of the shuffled list)."""
    import random

    with (DATA / "banking77" / "train.csv").open(encoding="utf8", newline="") as file:
        rows = [{"text": row["text"], "label": row["category"]} for row in csv.DictReader(file)]
    random.Random(0).shuffle(rows)
    return rows[:max_docs]


def _gum(max_words: int) -> Dict[str, Any]:
    """GUM entity linking: dev texts to predict on, train sentences with links to
    train on, and the knowledge base (every linked entity of train, the alias
    table with its counts as priors)."""
    folder = DATA / "gum_entity_linking"
    rows = [json.loads(line) for line in (folder / "train.jsonl").open(encoding="utf8")]
    gold: List[Dict[str, Any]] = []
    total = 0
    for row in rows:
        links = [m for m in row["mentions"] if m.get("wikidata")]
        if not links:
            continue
        gold.append(
            {
                "text": row["text"],
                "links": [[m["start_char"], m["end_char"], m["wikidata"]] for m in links],
            }
        )
        total += len(row["words"])
        if total >= max_words // 2:
            break
    texts: List[str] = []
    total = 0
    for line in (folder / "dev.jsonl").open(encoding="utf8"):
        row = json.loads(line)
        texts.append(row["text"])
        total += len(row["words"])
        if total >= max_words:
            break
    aliases: Dict[str, Dict[str, int]] = {}
    with (folder / "aliases_train.tsv").open(encoding="utf8", newline="") as file:
        for row in csv.DictReader(file, delimiter="\t", quoting=csv.QUOTE_NONE):
            counts = aliases.setdefault(row["alias"], {})
            counts[row["wikidata_id"]] = counts.get(row["wikidata_id"], 0) + int(
                row["count_in_train"]
            )
    for g in gold:
        for start, end, qid in g["links"]:
            counts = aliases.setdefault(g["text"][start:end], {})
            counts.setdefault(qid, 1)
    return {"texts": texts, "gold": gold, "aliases": aliases}


def corpus(kind: str, quick: bool) -> Dict[str, Any]:
    """Raw texts to predict on and gold examples to train on, for a pipeline."""
    n = 6_000 if quick else 12_000
    if kind.startswith("textcat"):
        rows = _banking(1_500 if quick else 3_000)
        labels = sorted({row["label"] for row in rows})
        return {
            "texts": [row["text"] for row in rows],
            "gold": [
                {"text": row["text"], "cats": {k: float(k == row["label"]) for k in labels}}
                for row in rows
            ],
        }
    if kind == "entity_linker":
        return _gum(n)
    texts = _raw_texts(EWT / "en_ewt-ud-dev.conllu", n)
    if kind == "ner":
        gold = _wnut(DATA / "wnut17" / "wnut17train.conll", n // 2)
    else:
        gold = _conllu(EWT / "en_ewt-ud-train.conllu", n // 2)
    return {"texts": texts, "gold": gold}


# --------------------------------------------------------------------------
# worker side (a fresh process per timing)


def _hide_arch() -> None:
    import catalogue
    from common import _WithoutArch

    catalogue.AVAILABLE_ENTRY_POINTS = _WithoutArch(catalogue.AVAILABLE_ENTRY_POINTS)


def _examples(nlp: Any, kind: str, gold: List[Dict[str, Any]]) -> List[Any]:
    from spacy.tokens import Doc
    from spacy.training import Example, iob_to_biluo

    examples = []
    for g in gold:
        if "links" in g:
            doc = nlp.make_doc(g["text"])
            spans = [(start, end, "ENT") for start, end, _ in g["links"]]
            links = {(start, end): {qid: 1.0} for start, end, qid in g["links"]}
            starts = [i == 0 for i in range(len(doc))]  # one sentence per row
            annotations = {"entities": spans, "links": links, "sent_starts": starts}
            try:
                examples.append(Example.from_dict(doc, annotations))
            except ValueError:  # a mention spaCy's tokenizer splits differently
                continue
            continue
        if "text" in g:
            examples.append(Example.from_dict(nlp.make_doc(g["text"]), {"cats": g["cats"]}))
            continue
        doc = Doc(nlp.vocab, words=g["words"], spaces=g["spaces"])
        if kind == "tagger":
            annotations = {"tags": g["tags"]}
        elif kind == "parser":
            annotations = {"heads": g["heads"], "deps": g["deps"]}
        else:
            annotations = {"entities": iob_to_biluo(g["iob"])}
        examples.append(Example.from_dict(doc, annotations))
    return examples


def _check_side(nlp: Any, side: str) -> str:
    """Which functions built the pipeline: arch's with arch, never arch's without."""
    arch_modules = sorted(name for name in sys.modules if name.startswith("arch_"))
    funcs = set()
    for _, pipe in nlp.pipeline:
        for node in pipe.model.walk() if hasattr(pipe, "model") else []:
            func = getattr(node._func, "__wrapped__", node._func)
            funcs.add(getattr(func, "__module__", "") or "")
    ours = any(module.startswith("arch_") for module in funcs)
    if side == "spacy" and (arch_modules or ours):
        raise SystemExit(f"spaCy-alone process uses arch: {arch_modules[:3]}")
    if side == "ours" and not ours:
        raise SystemExit("the with-arch process did not resolve to arch's functions")
    return "arch" if ours else "spacy"


def worker(args: argparse.Namespace) -> None:
    if args.side == "spacy":
        _hide_arch()
    import spacy

    folder = Path(args.worker)
    data = json.loads((folder / "corpus.json").read_text("utf8"))
    kind = json.loads((folder / "kind.json").read_text("utf8"))["kind"]
    nlp = spacy.load(folder / "pipeline")
    built_by = _check_side(nlp, args.side)
    result: Dict[str, Any] = {"built_by": built_by}
    texts = data["texts"]
    for _ in nlp.pipe(texts[:200], batch_size=128):
        pass
    seconds = []
    for _ in range(args.repeats):
        start = time.process_time()
        words = sum(len(doc) for doc in nlp.pipe(texts, batch_size=128))
        seconds.append(time.process_time() - start)
    result["predict"] = {"seconds": seconds, "words": words}
    examples = _examples(nlp, kind, data["gold"])
    optimizer = nlp.resume_training()
    batches = [examples[i : i + 128] for i in range(0, len(examples), 128)]
    annotates = ["sentencizer"] if "sentencizer" in nlp.pipe_names else []
    nlp.update(batches[0], sgd=optimizer, drop=0.1, annotates=annotates)  # warm-up
    seconds = []
    for _ in range(args.repeats):
        start = time.process_time()
        for batch in batches:
            nlp.update(batch, sgd=optimizer, drop=0.1, annotates=annotates)
        seconds.append(time.process_time() - start)
    result["train"] = {"seconds": seconds, "words": sum(len(eg.reference) for eg in examples)}
    Path(args.out).write_text(json.dumps(result), encoding="utf8")


# --------------------------------------------------------------------------
# parent side


def _build_pipeline(kind: str, data: Dict[str, Any], folder: Path) -> None:
    """spaCy's pipeline for ``kind`` built by spaCy alone, initialised on the
    gold examples, given seeded random weights, saved to ``folder``."""
    import numpy

    with common.spacy_names():
        import spacy

        nlp = spacy.blank("en")
        spec = PIPES[kind]
        if kind == "entity_linker":
            # sentences and entities from raw text: the sentencizer and phrase
            # patterns of the KB's aliases
            nlp.add_pipe("sentencizer")
            ruler = nlp.add_pipe("entity_ruler")
        pipe = nlp.add_pipe(spec["factory"], config=spec["config"])
        if kind == "entity_linker":
            pipe.set_kb(lambda vocab: _knowledge_base(vocab, data["aliases"]))
        examples = _examples(nlp, kind, data["gold"][:2000])
        nlp.initialize(lambda: examples)
        if kind == "entity_linker":
            # after initialize, which empties the entity ruler
            ruler.add_patterns([{"label": "ENT", "pattern": a} for a in data["aliases"]])
        rng = numpy.random.default_rng(0)
        for _, pipe in nlp.pipeline:
            if not hasattr(pipe, "model"):
                continue
            for node in pipe.model.walk():
                for name in node.param_names:
                    if node.has_param(name):
                        param = node.get_param(name)
                        if node.name == "sparse_linear" and name == "W":
                            # only the weights SparseLinear.v1 can reach (and spaCy's
                            # trained models only ever have those non-zero)
                            noisy = numpy.zeros_like(param)
                            live = node.get_dim("length") + node.get_dim("nO") - 1
                            noisy[:live] = rng.normal(0, 0.3, live)
                            node.set_param(name, noisy)
                            continue
                        node.set_param(name, rng.normal(0, 0.3, param.shape).astype("float32"))
        nlp.to_disk(folder / "pipeline")


def _knowledge_base(vocab: Any, aliases: Dict[str, Dict[str, int]]) -> Any:
    """spaCy's in-memory KB: every entity of the alias table (seeded random
    64-d vectors, frequency = its count), every alias with its priors."""
    import numpy
    from spacy.kb import InMemoryLookupKB

    kb = InMemoryLookupKB(vocab, entity_vector_length=64)
    rng = numpy.random.default_rng(0)
    freq: Dict[str, int] = {}
    for counts in aliases.values():
        for qid, count in counts.items():
            freq[qid] = freq.get(qid, 0) + count
    for qid, count in sorted(freq.items()):
        kb.add_entity(qid, count, rng.normal(0, 1, 64).astype("float32"))
    for alias, counts in aliases.items():
        total = sum(counts.values())
        qids = sorted(counts)
        kb.add_alias(alias, qids, [counts[q] / total for q in qids])
    return kb


def _run_worker(folder: Path, side: str, repeats: int) -> Dict[str, Any]:
    env = dict(os.environ, **{var: "1" for var in common.THREAD_VARS})
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out.json"
        command = [
            sys.executable,
            str(Path(__file__).resolve()),
            "--worker",
            str(folder),
            "--side",
            side,
            "--repeats",
            str(repeats),
            "--out",
            str(out),
        ]
        subprocess.run(command, check=True, cwd=HERE, env=env)
        return json.loads(out.read_text("utf8"))


def _case(kind: str):
    def run(quick: bool) -> List[Dict[str, Any]]:
        data = corpus(kind, quick)
        results = []
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            (folder / "corpus.json").write_text(json.dumps(data), encoding="utf8")
            (folder / "kind.json").write_text(json.dumps({"kind": kind}), encoding="utf8")
            _build_pipeline(kind, data, folder)
            rounds = 2 if quick else 3
            runs: Dict[str, List[Dict[str, Any]]] = {"ours": [], "spacy": []}
            for r in range(rounds):
                for side in ["ours", "spacy"] if r % 2 == 0 else ["spacy", "ours"]:
                    runs[side].append(_run_worker(folder, side, 2 if quick else 3))
            for mode in ("predict", "train"):
                what = "nlp.pipe on raw text" if mode == "predict" else "nlp.update, dropout 0.1"
                results.append(
                    record(
                        f"spaCy pipeline: {kind}",
                        f"spaCy {kind} pipeline {mode}, with arch vs spaCy alone",
                        runs["ours"][0][mode]["words"],
                        [min(run[mode]["seconds"]) for run in runs["ours"]],
                        [min(run[mode]["seconds"]) for run in runs["spacy"]],
                        f"{what}, batch 128, CPU time; spaCy's own config (v1 architectures), "
                        f"the same saved pipeline loaded by spacy.load in {rounds} alternating "
                        "fresh processes per side; ours = spaCy with arch installed",
                    )
                )
        return results

    return run


CASES = {kind: _case(kind) for kind in PIPES}

if __name__ == "__main__":
    if "--worker" in sys.argv:
        parser = argparse.ArgumentParser()
        parser.add_argument("--worker")
        parser.add_argument("--side", choices=["ours", "spacy"])
        parser.add_argument("--repeats", type=int, default=3)
        parser.add_argument("--out")
        worker(parser.parse_args())
    else:
        main(CASES)
