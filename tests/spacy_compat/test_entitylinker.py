"""arch-entitylinker inside spaCy, beyond the generic items:

* its knowledge-base names (spacy.EmptyKB.v1, spacy.CandidateGenerator.v1,
  spacy.KBFromFile.v1) are declared in the seed's ``assets`` group only: spaCy 3.8
  has no such registry, and its own functions of those names (registry ``misc``)
  are still spaCy's with arch installed;
* item 5: `spacy train` with spaCy's entity_linker component (its legacy
  EntityLinker_v1 pipe, which spaCy picks for a v1 model) over our
  spacy.EntityLinker.v1 (configs/train_entity_linker.cfg) completes in the venv
  with arch and in the venv without it (spacy-legacy), same seed, on the GUM
  entity-linking slice, with the knowledge base loaded by spaCy's own
  spacy.KBFromFile.v1 and the mentions found by an entity_ruler.
"""

import json
import subprocess
import sys
import time

import catalogue
import compat
import compat_data
import compat_spacy
import pytest
import spacy
import srsly
from spacy.tokens import DocBin

KB_NAMES = ("spacy.EmptyKB.v1", "spacy.CandidateGenerator.v1", "spacy.KBFromFile.v1")
SPACY_MISC = {
    "spacy.EmptyKB.v1": ("spacy.ml.models.entity_linker", "empty_kb"),
    "spacy.CandidateGenerator.v1": ("spacy.ml.models.entity_linker", "create_candidates"),
    "spacy.KBFromFile.v1": ("spacy.ml.models.entity_linker", "load_kb"),
}
CONFIG = compat.HERE / "configs" / "train_entity_linker.cfg"
DATA = ("links", "gum")
FLOOR = 0.6
"""nel_micro_f both runs must pass (linking every mention to NIL scores 0; the prior
alone gets about 0.8 of the dev mentions the entity_ruler finds)."""
MAX_GAP = 0.05


@pytest.mark.parametrize("name", KB_NAMES)
def test_our_kb_functions_are_only_in_the_assets_group(name):
    groups = {(dist, group) for dist, group, n, _ in compat.arch_entry_points() if n == name}
    assert groups == {("arch-entitylinker", "spacy_assets")}
    assert "assets" not in spacy.util.registry.get_registry_names()
    with pytest.raises(catalogue.RegistryError, match="E892"):
        spacy.util.registry.get("assets", name)


@pytest.mark.parametrize("name", KB_NAMES)
def test_spacy_misc_kb_functions_are_still_spacys(name):
    """With arch installed, `@misc = "spacy.EmptyKB.v1"` (etc.) is spaCy's own
    function: ours return arch's KnowledgeBase, not a spaCy KB factory, so they do
    not shadow these."""
    func = spacy.util.registry.get("misc", name)
    assert (func.__module__, func.__qualname__) == SPACY_MISC[name]
    assert not compat.is_ours(func)
    with compat.without_arch():
        assert spacy.util.registry.get("misc", name) is func
    compat.REPORT.append(
        f"{name}: declared by arch-entitylinker in spacy_assets only (spaCy "
        f"{compat.SPACY_VERSION} has no `assets` registry); `misc` {name} is still spaCy's "
        f"{func.__module__}.{func.__qualname__}"
    )


def test_spacy_kb_factories_still_work_with_arch(tmp_path):
    """spaCy's misc KB functions build spaCy's KB, with arch installed."""
    from spacy.kb import InMemoryLookupKB

    nlp = spacy.blank("en")
    kb = compat_spacy.make_kb(nlp.vocab, "gum")
    kb.to_disk(tmp_path / "kb")
    loaded = spacy.util.registry.get("misc", "spacy.KBFromFile.v1")(tmp_path / "kb")(
        spacy.blank("en").vocab
    )
    assert isinstance(loaded, InMemoryLookupKB)
    assert loaded.get_size_entities() == kb.get_size_entities() > 100
    empty = spacy.util.registry.get("misc", "spacy.EmptyKB.v1")(7)(nlp.vocab)
    assert isinstance(empty, InMemoryLookupKB) and empty.entity_vector_length == 7
    get_candidates = spacy.util.registry.get("misc", "spacy.CandidateGenerator.v1")()
    doc = nlp.make_doc("He moved to Durham")
    assert [c.entity_ for c in get_candidates(kb, doc[3:4])]


def _docbin(split, path):
    nlp = spacy.blank("en")
    docs = [eg.reference for eg in compat_spacy.examples(nlp, DATA, split)]
    DocBin(docs=docs, store_user_data=False).to_disk(path)
    return len(docs)


def test_spacy_trains_entity_linker_with_ours_as_with_spacy_legacy(tmp_path, pure_python):
    n_train = _docbin("train", tmp_path / "train.spacy")
    n_dev = _docbin("dev", tmp_path / "dev.spacy")
    nlp = spacy.blank("en")
    compat_spacy.make_kb(nlp.vocab, DATA[1]).to_disk(tmp_path / "kb")
    patterns = [
        {"label": "ENT", "pattern": alias} for alias, _, _ in compat_data.kb_data(DATA[1]).aliases
    ]
    srsly.write_json(tmp_path / "patterns.json", patterns)
    pythons = {"ours": sys.executable, "spacy-legacy": pure_python}
    procs = {}
    start = time.time()
    for who, python in pythons.items():  # both at once (two cores)
        cmd = [
            python, "-m", "spacy", "train", str(CONFIG),
            "--output", str(tmp_path / who),
            "--paths.train", str(tmp_path / "train.spacy"),
            "--paths.dev", str(tmp_path / "dev.spacy"),
            "--paths.kb", str(tmp_path / "kb"),
            "--paths.patterns", str(tmp_path / "patterns.json"),
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
        scores[who] = float(meta["performance"]["nel_micro_f"])
    compat.REPORT.append(
        f"spacy train entity_linker ({n_train} train / {n_dev} dev docs, GUM, "
        f"{CONFIG.name}): nel_micro_f ours {scores['ours']:.4f}, spacy-legacy "
        f"{scores['spacy-legacy']:.4f} ({seconds:.0f} s for both)"
    )

    # the pipeline trained here ran our model inside spaCy's (legacy v1) component
    trained = spacy.load(tmp_path / "ours" / "model-last")
    linker = trained.get_pipe("entity_linker")
    assert type(linker).__name__ == "EntityLinker_v1"  # spaCy's component for v1 models
    assert compat.arch_nodes(linker.model), "the trained entity_linker is not ours"
    assert compat.is_ours(spacy.util.registry.get("architectures", "spacy.EntityLinker.v1")), (
        "spaCy did not resolve spacy.EntityLinker.v1 to ours"
    )
    for who, score in scores.items():
        assert score > FLOOR, f"{who}: nel_micro_f {score} <= {FLOOR}"
    assert abs(scores["ours"] - scores["spacy-legacy"]) <= MAX_GAP, scores
