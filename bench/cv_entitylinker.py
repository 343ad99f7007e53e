"""How the entity linker's "softmax" settings were chosen: 5-fold
cross-validation over the GUM train documents, never looking at dev.

Each fold holds out a fifth of the 177 train documents, rebuilds the alias
table from the other four fifths (the way ``aliases_train.tsv`` is built:
mention text and entity, counted, pronoun/determiner-only mentions left out),
trains the linker on them as ``bench/accuracy_entitylinker.py`` does (6
epochs, last epoch) for each seed, and records for every held-out mention with
several candidates its signals: the priors, the encoder's cosines, the word
cosines with the sentence's words and with the whole document's
(``words_scope``), and whether each candidate's usual training label is the
mention's (``type_weight``). Every rule of a grid of temperatures and weights
is then scored on the held-out mentions whose gold entity is among the
candidates (no rule can get the others), summed over folds and seeds; ties are
broken by the mean held-out log loss of the softmax over the candidates.

    python bench/cv_entitylinker.py                  # 3 seeds, about 15 min
    python bench/cv_entitylinker.py --seeds 0 --top 10
"""

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import collections  # noqa: E402
import itertools  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any, Dict, List, Tuple  # noqa: E402

import numpy  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from accuracy_entitylinker import EPOCHS, ROOT, model_config  # noqa: E402

FOLDS = 5
FOLD_SEED = 12345
SKIP_UPOS = {"PRON", "DET"}
SETTINGS = {"tau_context": 1.0, "tau_words": 1.0, "type_weight": 1.0}  # signals only


def fold_of(records: List[Dict[str, Any]]) -> Dict[str, int]:
    """Documents to folds: a fixed shuffle of the sorted doc_ids, dealt round."""
    docs = sorted({r["doc_id"] for r in records})
    order = numpy.random.default_rng(FOLD_SEED).permutation(len(docs))
    return {docs[j]: k % FOLDS for k, j in enumerate(order)}


def write_aliases(records: List[Dict[str, Any]], path: Path) -> None:
    """An alias table of the records' mentions (as aliases_train.tsv)."""
    counts: collections.Counter = collections.Counter()
    titles = {}
    for record in records:
        for m in record["mentions"]:
            if not all(u in SKIP_UPOS for u in m["upos"]):
                counts[(m["text"], m["wikidata"])] += 1
                titles[(m["text"], m["wikidata"])] = m["wikipedia"]
    with path.open("w", encoding="utf8") as file:
        file.write("alias\twikipedia_title\twikidata_id\tcount_in_train\n")
        for (alias, qid), n in sorted(counts.items()):
            file.write(f"{alias}\t{titles[(alias, qid)]}\t{qid}\t{n}\n")


def fold_rows(folder: Path, fold: int, seed: int, train: Path, held: Path) -> List[Dict]:
    """Train on a fold's training part; the signals of its held-out mentions."""
    from thinc.api import fix_random_seed, set_dropout_rate

    from arch_entitylinker.task import WordProfiles, _cosines, context_of, context_tokens
    from arch_tok2vec.registry import registry

    fix_random_seed(seed)
    config = model_config(folder / f"aliases_{fold}.tsv", "corpus", 0)
    config["task"].update(combination="softmax", words_scope="document", **SETTINGS)
    resolved = registry.resolve(config)
    task, model, optimizer = resolved["task"], resolved["model"], resolved["optimizer"]
    examples, held_out = task.read(train), task.read(held)
    task.initialize(model, examples)
    kb, document_words = task.kb, task.words
    sentence_words = WordProfiles.build(  # as words_scope = "context" builds them
        (
            context_tokens(context_of(eg.doc)),
            [kb.entity_row(m.kb_id) for m in eg.gold["mentions"]],
        )
        for eg in examples
    )
    set_dropout_rate(model, 0.1)
    rng = numpy.random.default_rng(seed)
    for _ in range(EPOCHS):
        order = rng.permutation(len(examples))
        for i in range(0, len(order), 32):
            task.update(model, [examples[j] for j in order[i : i + 32]], optimizer)
    set_dropout_rate(model, 0.0)
    encoded = model.predict([context_of(eg.doc) for eg in held_out])
    rows = []
    for eg, encoding in zip(held_out, encoded):
        by_document = document_words.context(task._word_tokens(eg.doc))
        by_sentence = sentence_words.context(context_tokens(context_of(eg.doc)))
        for m in eg.gold["mentions"]:
            candidates, priors = kb.candidate_rows(m.text)
            ids = [kb._entity_ids[r] for r in candidates]
            if len(ids) < 2 or m.kb_id not in ids:
                continue
            rows.append(
                {
                    "gold": ids.index(m.kb_id),
                    "fold": (seed, fold),
                    "prior": numpy.log(numpy.maximum(priors, 1e-6)),
                    "spacy": _spacy_rule(
                        numpy.asarray(priors), _cosines(kb.vectors[candidates], encoding)
                    ),
                    "context": _cosines(kb.vectors[candidates], encoding),
                    "sentence": sentence_words.cosines(candidates, by_sentence),
                    "document": document_words.cosines(candidates, by_document),
                    "type": numpy.array([task.types.get(i) == m.label for i in ids], "float64"),
                }
            )
    return rows


def _spacy_rule(priors: numpy.ndarray, sims: numpy.ndarray) -> numpy.ndarray:
    """spaCy's prior + sim - prior * sim, as a one-hot of its choice (so that
    score() can report it beside the grid)."""
    chosen = numpy.zeros(len(priors))
    chosen[int(numpy.argmax(priors + sims - priors * sims))] = 1.0
    return chosen


def score(rows: List[Dict], rule: Tuple[float, float, str, float]) -> Tuple[int, float, Dict]:
    """(correct, mean log loss, correct per fold) of log(prior) + context /
    tau_context + words / tau_words + type_weight * type."""
    tau_context, tau_words, scope, weight = rule
    correct, loss, per_fold = 0, 0.0, collections.Counter()
    for row in rows:
        z = row["prior"] + weight * row["type"]
        if tau_context:
            z = z + row["context"] / tau_context
        if tau_words:
            z = z + row[scope] / tau_words
        hit = int(numpy.argmax(z)) == row["gold"]
        correct += hit
        per_fold[row["fold"]] += hit
        z = z - z.max()
        loss -= z[row["gold"]] - numpy.log(numpy.exp(z).sum())
    return correct, loss / max(len(rows), 1), per_fold


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--top", type=int, default=15)
    parser.add_argument("--out", type=Path, help="write the table as JSON here")
    args = parser.parse_args()
    gum = args.data / "gum_entity_linking"
    records = [json.loads(line) for line in open(gum / "train.jsonl", encoding="utf8")]
    folds = fold_of(records)
    rows: List[Dict] = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for fold in range(FOLDS):
            part = {k: [r for r in records if (folds[r["doc_id"]] == fold) == k] for k in (0, 1)}
            write_aliases(part[0], folder / f"aliases_{fold}.tsv")
            for name, chosen in (("train", part[0]), ("held", part[1])):
                with (folder / f"{name}_{fold}.jsonl").open("w", encoding="utf8") as file:
                    file.writelines(json.dumps(r) + "\n" for r in chosen)
            for seed in args.seeds:
                start = time.perf_counter()
                got = fold_rows(
                    folder,
                    fold,
                    seed,
                    folder / f"train_{fold}.jsonl",
                    folder / f"held_{fold}.jsonl",
                )
                rows += got
                print(
                    f"fold {fold} seed {seed}: {len(got)} held-out ambiguous mentions with "
                    f"their gold among the candidates ({time.perf_counter() - start:.0f} s)",
                    flush=True,
                )
    grid = itertools.product(
        (None, 0.1, 0.15, 0.2, 0.3),  # tau_context (None: no encoder)
        (None, 0.005, 0.01, 0.02, 0.05, 0.1),  # tau_words (None: no words)
        ("sentence", "document"),  # words_scope
        (0.0, 1.0, 2.0, 3.0, 5.0),  # type_weight
    )
    prior = score(rows, (None, None, "sentence", 0.0))
    spacy_rule = sum(int(numpy.argmax(row["spacy"])) == row["gold"] for row in rows)
    table = []
    for rule in grid:
        if rule[1] is None and rule[2] == "document":
            continue
        correct, loss, per_fold = score(rows, rule)
        worst = min(per_fold[f] - prior[2][f] for f in prior[2])
        table.append({"rule": rule, "correct": correct, "log_loss": loss, "worst_fold": worst})
    table.sort(key=lambda r: (-r["correct"], r["log_loss"]))
    print(
        f"{len(rows)} held-out mentions (folds x seeds); prior alone gets {prior[0]}, "
        f"spaCy's rule on the trained models {spacy_rule}"
    )
    print("tau_context tau_words scope     type  correct  log loss  worst fold vs prior")
    for r in table[: args.top]:
        tc, tw, scope, weight = r["rule"]
        print(
            f"{str(tc):11s} {str(tw):9s} {scope:9s} {weight:4.1f}  {r['correct']:7d}  "
            f"{r['log_loss']:8.3f}  {r['worst_fold']:+d}"
        )
    if args.out:
        record = {"prior": prior[0], "spacy_rule": spacy_rule, "rules": table}
        args.out.write_text(json.dumps(record, indent=1) + "\n")


if __name__ == "__main__":
    main()
