"""Item 5 for arch-parser: `spacy train` with a config whose tok2vec, parser and ner
use only architectures arch declares (configs/train_parser_ner.cfg) completes in the
venv with arch (our models) and in the venv without it (spacy-legacy), same seed, on
a mixed slice: EWT sentences with parses and WNUT17 sentences with entities."""

import json
import subprocess
import sys
import time

import compat
import parser_compat as pc
import spacy
from spacy.tokens import DocBin

CONFIG = compat.HERE / "configs" / "train_parser_ner.cfg"
SCORES = ("dep_uas", "dep_las", "ents_f")
FLOORS = {"dep_uas": 0.45, "dep_las": 0.3, "ents_f": 0.05}
"""Both runs must pass these (trivial baselines: UAS 0.29 by attaching to a neighbour,
entity F 0 by predicting nothing)."""
MAX_GAP = {"dep_uas": 0.06, "dep_las": 0.06, "ents_f": 0.1}
"""How far apart the two runs' dev scores may be (same seed, but float rounding differs
and the runs drift apart; entity F on 150 WNUT sentences moves in steps of about 0.01)."""


def _docbin(split, path):
    nlp = spacy.blank("en")
    docs = [eg.reference for data in ("ewt", "wnut") for eg in pc.examples(nlp, data, split)]
    DocBin(docs=docs, store_user_data=False).to_disk(path)
    return len(docs)


def test_spacy_trains_parser_and_ner_with_ours_as_with_spacy_legacy(tmp_path, pure_python):
    n_train = _docbin("train", tmp_path / "train.spacy")
    n_dev = _docbin("dev", tmp_path / "dev.spacy")
    pythons = {"ours": sys.executable, "spacy-legacy": pure_python}
    procs = {}
    start = time.time()
    for who, python in pythons.items():  # both at once (two cores)
        cmd = [
            python, "-m", "spacy", "train", str(CONFIG),
            "--output", str(tmp_path / who),
            "--paths.train", str(tmp_path / "train.spacy"),
            "--paths.dev", str(tmp_path / "dev.spacy"),
        ]  # fmt: skip
        procs[who] = subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
    outputs = {who: proc.communicate()[0] for who, proc in procs.items()}
    seconds = time.time() - start
    for who, proc in procs.items():
        assert proc.returncode == 0, f"spacy train ({who}) failed:\n{outputs[who][-5000:]}"

    scores = {}
    for who in pythons:
        meta = json.loads((tmp_path / who / "model-best" / "meta.json").read_text())
        scores[who] = {key: float(meta["performance"][key]) for key in SCORES}
    compat.REPORT.append(
        f"spacy train tok2vec+parser+ner ({n_train} train / {n_dev} dev docs, "
        f"{CONFIG.name}): "
        + "; ".join(
            f"{who} " + ", ".join(f"{k} {v:.3f}" for k, v in s.items()) for who, s in scores.items()
        )
        + f" ({seconds:.0f} s for both)"
    )

    # the pipeline trained with arch ran our models (the other one ran in the venv
    # without arch, so it can only have had spaCy's)
    nlp = spacy.load(tmp_path / "ours" / "model-last")
    for name in ("tok2vec", "parser", "ner"):
        assert compat.arch_nodes(nlp.get_pipe(name).model), name
    for name in ("parser", "ner"):
        assert nlp.get_pipe(name).model._func.__module__.startswith("arch_parser."), name
    for who, got in scores.items():
        for key, floor in FLOORS.items():
            assert got[key] > floor, f"{who}: {key} {got[key]} <= {floor}"
    for key in SCORES:
        assert abs(scores["ours"][key] - scores["spacy-legacy"][key]) <= MAX_GAP[key], scores
