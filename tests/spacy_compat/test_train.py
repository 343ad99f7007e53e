"""Item 5: `spacy train` trains a pipeline whose architectures are all ours, and the
same config trained with spaCy + spacy-legacy (the venv without arch, same seed)
reaches a comparable score. Both runs are real `python -m spacy train` processes
on small slices of the shared corpora, converted to .spacy files here."""

import json
import subprocess
import sys
import time

import compat
import compat_spacy
import pytest
import spacy
from spacy.tokens import DocBin

RUNS = sorted((run["name"], run) for family in compat.families().values() for run in family.TRAIN)
MAX_GAP = 0.05
"""How far apart the two runs' dev scores may be."""


def _docbin(data, split, path):
    nlp = spacy.blank("en")
    docs = [eg.reference for eg in compat_spacy.examples(nlp, data, split)]
    DocBin(docs=docs, store_user_data=False).to_disk(path)
    return len(docs)


@pytest.mark.parametrize("name,run", RUNS, ids=[r[0] for r in RUNS])
def test_spacy_trains_with_ours_as_well_as_with_spacy_legacy(name, run, tmp_path, pure_python):
    n_train = _docbin(run["data"], "train", tmp_path / "train.spacy")
    n_dev = _docbin(run["data"], "dev", tmp_path / "dev.spacy")
    config = compat.HERE / "configs" / run["config"]
    pythons = {"ours": sys.executable, "spacy-legacy": pure_python}
    procs = {}
    start = time.time()
    for who, python in pythons.items():  # both at once (two cores)
        cmd = [
            python,
            "-m",
            "spacy",
            "train",
            str(config),
            "--output",
            str(tmp_path / who),
            "--paths.train",
            str(tmp_path / "train.spacy"),
            "--paths.dev",
            str(tmp_path / "dev.spacy"),
        ]
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
        scores[who] = float(meta["performance"][run["score"]])
    compat.REPORT.append(
        f"spacy train {name} ({n_train} train / {n_dev} dev docs, {run['config']}): "
        f"{run['score']} ours {scores['ours']:.4f}, spacy-legacy {scores['spacy-legacy']:.4f} "
        f"({seconds:.0f} s for both)"
    )

    # the pipeline trained here really ran our models
    nlp = spacy.load(tmp_path / "ours" / "model-last")
    for pipe_name, pipe in nlp.pipeline:
        assert compat.arch_nodes(pipe.model), f"{pipe_name} of the trained pipeline is not ours"
    assert "arch" not in outputs["spacy-legacy"].lower() or "arch_" not in outputs["spacy-legacy"]

    for who, score in scores.items():
        assert score > run["baseline"], f"{who}: {run['score']} {score} <= {run['baseline']}"
    assert abs(scores["ours"] - scores["spacy-legacy"]) <= MAX_GAP, scores
