"""``archs apply`` with the families' real models: the tagger and parser on UD
English EWT (what ``archs evaluate`` scores), NER then the entity linker, the
text classifier, IOB input, CoNLL-U output, spawned workers."""

import json
import os
import re
from pathlib import Path
from typing import Dict, List, Optional

import pytest
from thinc.api import Config

from arch_parser.task import score_parse
from arch_tok2vec import Doc, load
from arch_tok2vec.apply import apply
from arch_tok2vec.cli import main
from arch_tok2vec.training import train

from declared import ROOT

DATA = Path(os.environ.get("ARCH_DATA", ROOT.parent / "shared" / "data"))
EL_SAMPLE = ROOT / "packages" / "arch-entitylinker" / "src" / "arch_entitylinker" / "sample"


def _train(name: str, folder: Path, epochs: int, corpus: Optional[Path] = None) -> Path:
    config = Config().from_disk(ROOT / "configs" / f"{name}.cfg", interpolate=False)
    config["training"]["max_epochs"] = epochs
    config["training"]["patience"] = 0
    if corpus is not None:
        config["paths"]["train"] = config["paths"]["dev"] = str(corpus)
    train(config, folder, log=lambda line: None, progress=False)
    return folder / "model-last"


def _sentences(path: Path, n: int, folder: Path) -> Path:
    """The first ``n`` sentences of a CoNLL-U file, as a file in ``folder``."""
    if not path.exists():
        pytest.fail(f"real corpora not found at {DATA}: set ARCH_DATA to the shared/data folder")
    blocks = path.read_text("utf8").split("\n\n")[:n]
    out = folder / path.name
    out.write_text("\n\n".join(blocks) + "\n\n", "utf8")
    return out


@pytest.fixture(scope="module")
def models(tmp_path_factory) -> Dict[str, Path]:
    """A model of every family, trained for a few epochs on its sample corpus."""
    root = tmp_path_factory.mktemp("models")
    epochs = {"tagger": 3, "parser": 3, "ner": 8, "entity_linker": 3, "textcat": 3}
    return {name: _train(name, root / name, n) for name, n in epochs.items()}


@pytest.fixture(scope="module")
def ewt_tagger(tmp_path_factory) -> Path:
    """A tagger trained on 1,500 sentences of UD English EWT train (it knows every UPOS
    tag, so ``archs evaluate`` accepts EWT dev)."""
    folder = tmp_path_factory.mktemp("ewt-tagger")
    train_file = _sentences(DATA / "ud_english_ewt" / "en_ewt-ud-train.conllu", 1500, folder)
    return _train("tagger", folder / "model", 2, train_file)


@pytest.fixture(scope="module")
def ewt_dev(tmp_path_factory) -> Path:
    """The first 300 sentences of UD English EWT dev (multi-word tokens, empty nodes)."""
    folder = tmp_path_factory.mktemp("ewt")
    return _sentences(DATA / "ud_english_ewt" / "en_ewt-ud-dev.conllu", 300, folder)


def records(path: Path) -> List[dict]:
    return [json.loads(line) for line in path.read_text("utf8").splitlines()[1:]]


def el_texts() -> List[str]:
    lines = (EL_SAMPLE / "dev.jsonl").read_text("utf8").splitlines()
    return [json.loads(line)["text"] for line in lines]


def test_tagger_and_parser_on_conllu_give_what_evaluate_scores(
    models, ewt_tagger, ewt_dev, tmp_path, capsys
):
    out = tmp_path / "out.jsonl"
    apply([str(ewt_tagger), str(models["parser"])], str(ewt_dev), out, log=lambda m: None)
    got = records(out)
    tagger, parser = load(ewt_tagger), load(models["parser"])
    tag_examples, parse_examples = tagger.task.read(ewt_dev), parser.task.read(ewt_dev)
    assert [r["tokens"] for r in got] == [eg.doc.words for eg in tag_examples]
    # the very predictions evaluate scores: same batches (128 documents), same numbers
    assert [r["upos"] for r in got] == [list(p) for p in tagger([eg.doc for eg in tag_examples])]
    assert tagger.task.score(tag_examples, [r["upos"] for r in got]) == tagger.evaluate(
        tag_examples
    )
    guessed = [(r["heads"], r["deps"]) for r in got]
    gold = [(eg.gold["heads"], eg.gold["deps"]) for eg in parse_examples]
    assert score_parse(gold, guessed) == parser.evaluate(parse_examples)
    assert main(["evaluate", str(ewt_tagger), str(ewt_dev)]) == 0
    printed = capsys.readouterr().out
    accuracy = tagger.task.score(tag_examples, [r["upos"] for r in got])["tag_acc"]
    assert re.search(r"^tag_acc +(\S+)$", printed, flags=re.M).group(1) == f"{accuracy:.4f}"


def test_conllu_output_reads_back_with_the_predictions(models, ewt_dev, tmp_path):
    out = tmp_path / "out.conllu"
    specs = [str(models["tagger"]), str(models["parser"])]
    apply(specs, str(ewt_dev), out, log=lambda m: None)
    jsonl = tmp_path / "out.jsonl"
    apply(specs, str(ewt_dev), jsonl, log=lambda m: None)
    from arch_tok2vec.conllu import read_conllu

    sentences = list(read_conllu(out))
    words = [w for s in sentences for w in s.words]
    got = records(jsonl)
    assert [w.form for w in words] == [t for r in got for t in r["tokens"]]
    assert [w.upos for w in words] == [t for r in got for t in r["upos"]]
    assert [w.deprel for w in words] == [d for r in got for d in r["deps"]]
    heads = []  # CoNLL-U heads count within each predicted sentence
    for record in got:
        starts = record["sents"] + [len(record["tokens"])]
        for start, end in zip(starts, starts[1:]):
            heads += [
                0 if h == i else h - start + 1
                for i, h in enumerate(record["heads"][start:end], start)
            ]
    assert [w.head for w in words] == heads


def test_raw_text_gives_one_record_per_line_in_order(models, tmp_path):
    lines = el_texts() + ["", "Ünïcode — and  two spaces."]
    source = tmp_path / "in.txt"
    source.write_text("\n".join(lines) + "\n", "utf8")
    out = tmp_path / "out.jsonl"
    specs = [str(models[name]) for name in ("tagger", "parser", "ner", "textcat")]
    apply(specs, str(source), out, batch_size=5, log=lambda m: None)
    got = records(out)
    assert [r["text"] for r in got] == lines
    assert list(got[0]) == [
        "text",
        "tokens",
        "spaces",
        "upos",
        "heads",
        "deps",
        "sents",
        "ents",
        "cats",
    ]
    labels = load(models["textcat"]).task.labels
    assert all(list(r["cats"]) == labels for r in got if r["tokens"])


def test_entity_linker_links_the_entities_the_ner_model_found(models, tmp_path):
    texts = el_texts()
    source = tmp_path / "in.txt"
    source.write_text("\n".join(texts) + "\n", "utf8")
    out = tmp_path / "out.jsonl"
    notes: List[str] = []
    apply([str(models["ner"]), str(models["entity_linker"])], str(source), out, log=notes.append)
    assert notes == []
    got = records(out)
    ner, linker = load(models["ner"]), load(models["entity_linker"])
    docs = [Doc.from_text(text) for text in texts]
    found = ner(docs)
    assert [[(e["start"], e["end"], e["label"]) for e in r["ents"]] for r in got] == found
    assert any(found) and not all(found)
    ner.task.annotate(docs, found)
    links = linker(docs)
    assert [[e["kb_id"] for e in r["ents"]] for r in got] == [[k for *_, k in d] for d in links]
    # a text with a KB alias (Amazon, Mercury) but no entity from NER gets no link
    empty = [r for r in got if not r["ents"]]
    assert any("Amazon" in r["text"] or "Mercury" in r["text"] for r in empty)
    # the header names both models and their order
    header = json.loads(out.read_text("utf8").splitlines()[0])["arch_apply"]
    assert [m["task"] for m in header["models"]] == ["ner", "entity_linker"]


def test_entity_linker_without_ner_says_so_and_links_the_aliases_it_finds(models, tmp_path):
    source = tmp_path / "in.txt"
    source.write_text("Sales at Amazon grew.\nNothing here.\n", "utf8")
    out = tmp_path / "out.jsonl"
    notes: List[str] = []
    apply([str(models["entity_linker"])], str(source), out, log=notes.append)
    assert len(notes) == 1 and "no model before the entity linker sets entities" in notes[0]
    header = json.loads(out.read_text("utf8").splitlines()[0])["arch_apply"]
    assert ["note: " + note for note in header["notes"]] == notes
    first, second = records(out)
    assert [(e["text"], e["label"]) for e in first["ents"]] == [("Amazon", "MENTION")]
    assert first["ents"][0]["kb_id"].startswith("Q") and second["ents"] == []


def test_iob_input(models, tmp_path):
    source = ROOT / "packages" / "arch-parser" / "src" / "arch_parser" / "sample" / "ner-dev.iob"
    out = tmp_path / "out.jsonl"
    apply([str(models["ner"])], str(source), out, log=lambda m: None)
    ner = load(models["ner"])
    examples = ner.task.read(source)
    got = records(out)
    assert [r["tokens"] for r in got] == [eg.doc.words for eg in examples]
    assert [[(e["start"], e["end"], e["label"]) for e in r["ents"]] for r in got] == ner(
        [eg.doc for eg in examples]
    )


def test_conllu_output_refuses_models_whose_annotations_do_not_fit(models, tmp_path, capsys):
    source = tmp_path / "in.txt"
    source.write_text("Bob read.\n", "utf8")
    out = tmp_path / "out.conllu"
    code = main(["apply", str(models["tagger"]), str(models["textcat"]), str(source), str(out)])
    assert code == 1
    assert f"{models['textcat']}: the annotations of its task (textcat) do not fit CoNLL-U" in (
        capsys.readouterr().err
    )
    assert not out.exists()


@pytest.mark.parametrize("start_method", ["fork", "spawn"])
def test_two_processes_give_the_bytes_of_one(models, tmp_path, start_method):
    texts = el_texts() * 20
    source = tmp_path / "in.jsonl"
    source.write_text("".join(json.dumps({"text": t, "n": i}) + "\n" for i, t in enumerate(texts)))
    specs = [str(models[name]) for name in ("tagger", "parser", "ner", "entity_linker", "textcat")]
    one, two = tmp_path / "one.jsonl", tmp_path / "two.jsonl"
    apply(specs, str(source), one, batch_size=16, log=lambda m: None)
    apply(
        specs, str(source), two, batch_size=16, n_process=2, start_method=start_method,
        log=lambda m: None,
    )  # fmt: skip
    assert one.read_bytes() == two.read_bytes()


def test_no_entities_from_the_ner_model_means_no_links(models):
    """An NER model that finds nothing in a text leaves the linker nothing to link
    (it used to search the KB's aliases instead, as for a Doc never given any)."""
    ner, linker = load(models["ner"]), load(models["entity_linker"])
    docs = [Doc.from_text(text) for text in el_texts()]
    found = ner(docs)
    ner.task.annotate(docs, found)
    links = linker(docs)
    assert [len(f) for f in found] == [len(found_links) for found_links in links]
    empty = [doc.text for doc, f in zip(docs, found) if not f]
    assert any("Amazon" in text for text in empty)  # an alias of the KB, not linked


def test_every_conllu_sentence_has_one_root(models, tmp_path):
    """A sentence is a tree of the parse: a parser that leaves several words of a
    sentence headless (roots) gets that sentence split, as spaCy splits it."""
    source = tmp_path / "in.txt"
    source.write_text("\n".join(el_texts()) + "\n", "utf8")
    out = tmp_path / "out.conllu"
    apply([str(models["parser"])], str(source), out, log=lambda m: None)
    from arch_tok2vec.conllu import read_conllu

    sentences = list(read_conllu(out))
    assert [sum(w.head == 0 for w in s.words) for s in sentences] == [1] * len(sentences)
    parser = load(models["parser"])
    several = [p for p in parser([Doc.from_text(t) for t in el_texts()]) if p["heads"]]
    roots = [sum(h == i for i, h in enumerate(p["heads"])) for p in several]
    assert len(sentences) == sum(roots) > len(el_texts())  # the model leaves several roots
