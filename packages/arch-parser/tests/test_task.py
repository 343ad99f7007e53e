"""Readers (errors name file:line), scoring, annotation, and archs train /
evaluate on the embedded samples."""

import json

import pytest
from thinc.api import Config

from arch_parser.arc_eager import ArcEager
from arch_parser.biluo import BiluoSystem
from arch_parser.corpora import read_ner
from arch_parser.task import NerTask, ParserTask, score_ents, score_parse
from arch_tok2vec import CorpusError, Doc, load
from arch_tok2vec.training import train

CONLLU = """# text = She ate apples.
1\tShe\tshe\tPRON\t_\t_\t2\tnsubj\t_\t_
2\tate\teat\tVERB\t_\t_\t0\troot\t_\t_
3-4\tapples.\t_\t_\t_\t_\t_\t_\t_\t_
3\tapples\tapple\tNOUN\t_\t_\t2\tobj\t_\tSpaceAfter=No
4\t.\t.\tPUNCT\t_\t_\t2\tpunct\t_\t_
4.1\tx\tx\tX\t_\t_\t_\t_\t_\t_

"""


def _write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf8")
    return path


def test_parser_reader_handles_mwt_and_empty_nodes(tmp_path):
    (eg,) = ParserTask().read(_write(tmp_path, "a.conllu", CONLLU))
    assert eg.doc.words == ["She", "ate", "apples", "."]
    assert eg.gold["heads"] == [1, 1, 1, 1]
    assert eg.gold["deps"] == ["nsubj", "root", "obj", "punct"]


@pytest.mark.parametrize(
    "change, message",
    [
        (("\t2\tnsubj", "\t7\tnsubj"), "line 2: HEAD 7 is outside"),
        (("\t2\tnsubj", "\t0\tnsubj"), "line 1: not a tree: 2 roots"),
        (("\t2\tnsubj", "\t1\tnsubj"), "not a tree"),
        (("\t2\tobj", "\t_\tobj"), "line 5: no HEAD"),
    ],
)
def test_parser_reader_errors(tmp_path, change, message):
    path = _write(tmp_path, "bad.conllu", CONLLU.replace(*change))
    with pytest.raises(CorpusError, match=message):
        ParserTask().read(path)


def test_ner_reader_formats(tmp_path):
    two = _write(tmp_path, "a.conll", "Ada\tB-PER\nLovelace\tI-PER\nwrote\tO\n\nParis\tU-LOC\n")
    items = read_ner(two)
    assert [spans for _, spans, _ in items] == [[(0, 2, "PER")], [(0, 1, "LOC")]]
    uner = _write(
        tmp_path,
        "b.iob2",
        "# sent_id = x\n1\tin\tO\t-\t-\n2\ttampa\tB-LOC\t-\ta\n3\tbay\tI-LOC\t-\ta\n",
    )
    ((doc, spans, line),) = read_ner(uner)
    assert doc.words == ["in", "tampa", "bay"] and spans == [(1, 3, "LOC")] and line == 2
    jsonl = _write(
        tmp_path,
        "c.jsonl",
        json.dumps({"text": "Ada Lovelace met Babbage.", "spans": [
            {"start": 0, "end": 12, "label": "PER"}, [17, 24, "PER"]]}) + "\n",
    )  # fmt: skip
    ((doc, spans, _),) = read_ner(jsonl)
    assert spans == [(0, 2, "PER"), (3, 4, "PER")]


def test_ner_iob_starting_with_i(tmp_path):
    path = _write(tmp_path, "a.conll", "x\tO\nAda\tI-PER\nL\tI-PER\ny\tI-LOC\n")
    assert read_ner(path)[0][1] == [(1, 3, "PER"), (3, 4, "LOC")]
    with pytest.raises(CorpusError, match=r"a.conll, line 2: 'I-PER' does not continue"):
        read_ner(path, strict=True)


@pytest.mark.parametrize(
    "name, text, message",
    [
        ("a.conll", "Ada\tB-PER\tx\n", "line 1: expected"),
        ("a.conll", "Ada\tX-PER\n", "line 1: not an IOB2/BILUO tag"),
        ("a.jsonl", '{"text": "Ada L"}\n{"text": "Ada", "spans": [[0, 2, "P"]]}\n', "line 2: span"),
        ("a.jsonl", "{oops\n", "line 1: invalid JSON"),
        ("a.conll", "# only a comment\n", "no sentences"),
    ],
)
def test_ner_reader_errors(tmp_path, name, text, message):
    with pytest.raises(CorpusError, match=message):
        read_ner(_write(tmp_path, name, text))


def test_scores():
    gold = [([1, 1, 1], ["nsubj", "root", "obj"])]
    guess = [([1, 1, 0], ["nsubj", "ROOT", "obj"])]
    scores = score_parse(gold, guess)
    assert scores["uas"] == pytest.approx(2 / 3) and scores["las"] == pytest.approx(2 / 3)
    assert scores["per_label_las"] == {"nsubj": 1.0, "obj": 0.0, "root": 1.0}
    ents = score_ents([[(0, 2, "PER"), (3, 4, "LOC")]], [[(0, 2, "PER"), (3, 4, "PER")]])
    assert ents["ents_p"] == 0.5 and ents["ents_r"] == 0.5
    assert ents["per_label"]["LOC"]["r"] == 0.0


def _config(task, state_type, extra):
    return Config().from_str(f"""
[paths]
train = null
dev = null

[task]
@tasks = "{task}"
{extra}

[model]
@architectures = "spacy.TransitionBasedParser.v1"
state_type = "{state_type}"
extra_state_tokens = false
hidden_width = 32
maxout_pieces = 2
nO = null

[model.tok2vec]
@architectures = "spacy.HashEmbedCNN.v1"
pretrained_vectors = null
width = 32
depth = 1
embed_size = 500
window_size = 1
maxout_pieces = 2
subword_features = true

[training]
max_epochs = 2
batch_size = 64
""")


def _saved_parser():
    moves = ArcEager.from_trees([([1, 1, 1], ["nsubj", "root", "obj"])]).to_dict()
    return {"min_action_freq": 1, "root_label": "root", "moves": moves}


def _saved_ner():
    return {"strict_iob": False, "moves": BiluoSystem.from_entities([[(0, 2, "PER")]]).to_dict()}


def _moves(saved, action, labels):
    moves = {a: f for a, f in saved["moves"].items() if a != action}
    return moves if labels is None else {**moves, action: labels}


@pytest.mark.parametrize(
    "task, key, value, message",
    [
        ("parser", "min_action_freq", -1, "min_action_freq must be an integer >= 0, got -1"),
        ("parser", "min_action_freq", 2.0, "min_action_freq must be an integer, got 2.0"),
        ("parser", "root_label", "", "root_label must be a non-empty string, got ''"),
        ("parser", "root_label", 5, "root_label must be a non-empty string, got 5"),
        ("parser", "moves", [], "moves must be an object of actions 0 .S., 1 .D."),
        ("parser", ("0", None), None, r"moves must hold exactly the actions .*, got \['1'"),
        ("parser", ("9", {"x": 1}), None, "moves must hold exactly the actions"),
        ("parser", ("0", {"": 1, "x": 1}), None, r"moves.0 \(S\) takes no label"),
        ("parser", ("2", {"": 1}), None, r"moves.2 \(L\) has an empty label"),
        ("parser", ("3", {"obj": 1.5}), None, r"moves.3 \(R\): the frequency of 'obj' must"),
        ("parser", ("4", {"ROOT": True}), None, r"moves.4 \(B\): the frequency of 'ROOT'"),
        ("parser", ("4", ["ROOT"]), None, r"moves.4 \(B\) must be an object of label freq"),
        ("ner", "strict_iob", 0, "strict_iob must be true or false, got 0"),
        ("ner", ("0", {"": 1}), None, r"moves must hold exactly the actions 1 \(B\)"),
        ("ner", ("5", None), None, "moves must hold exactly the actions"),
        ("ner", ("5", {"": 1, "PER": 1}), None, r"moves.5 \(O\) takes no label"),
        ("ner", ("1", {"": 1, "PER": 1}), None, r"moves.1 \(B\) has an empty label"),
    ],
)
def test_from_dict_refuses_values_of_the_wrong_kind(task, key, value, message):
    """task.json's values are checked, not kept as they are (a crafted folder rewrites its
    manifest to match: tests/test_model_corruption.py loads such folders); the message
    starts with the key, which arch_tok2vec.load names. A key given as (action, labels)
    replaces (None: removes) that action of the saved moves. Without SHIFT, a parser
    state can have no valid move (prediction then failed with an IndexError)."""
    saved, cls = (_saved_parser(), ParserTask) if task == "parser" else (_saved_ner(), NerTask)
    assert cls().from_dict(json.loads(json.dumps(saved))).to_dict() == saved
    if isinstance(key, tuple):
        key, value = "moves", _moves(saved, *key)
    with pytest.raises(ValueError, match=f"^{message}"):
        cls().from_dict({**saved, key: value})


def test_train_save_load_annotate(tmp_path):
    config = _config("arch.parser.v1", "parser", "min_action_freq = 1")
    result = train(config, tmp_path / "out", log=lambda _: None, progress=False)
    assert len(result.epochs) == 2
    pipeline = load(tmp_path / "out" / "model-last")
    doc = Doc(["The", "cat", "sat", "."])
    (pred,) = pipeline([doc])
    assert len(pred["heads"]) == 4
    pipeline.task.annotate([doc], [pred])
    assert doc.heads == pred["heads"] and doc[0].dep_ == pred["deps"][0]
    # empty docs are fine
    assert pipeline([Doc([])]) == [{"heads": [], "deps": [], "sent_starts": []}]


def test_ner_train_and_annotate(tmp_path):
    config = _config("arch.ner.v1", "ner", "strict_iob = false")
    train(config, tmp_path / "out", log=lambda _: None, progress=False)
    pipeline = load(tmp_path / "out" / "model-last")
    doc = Doc(["Hello", "from", "Berlin"])
    (spans,) = pipeline([doc])
    pipeline.task.annotate([doc], [spans])
    assert [(e.start, e.end, e.label_) for e in doc.ents] == spans
    assert isinstance(NerTask().to_dict if False else pipeline.task.to_dict(), dict)


def test_ner_evaluation_refuses_labels_training_never_saw(tmp_path, capsys):
    from arch_tok2vec.cli import main

    config = tmp_path / "ner.cfg"
    config.write_text(_config("arch.ner.v1", "ner", "strict_iob = false").to_str())
    out = tmp_path / "out"
    assert main(["train", str(config), "--output", str(out), "--training.max_epochs", "1"]) == 0
    known = load(out / "model-best").task.moves.label_names
    assert "SPACESHIP" not in known and "person" in known
    corpus = _write(
        tmp_path,
        "dev.iob",
        "Ada\tB-person\nwrote\tO\n\nthe\tO\nEnterprise\tB-SPACESHIP\n\n"
        "Voyager\tB-SPACESHIP\nand\tO\nDS9\tB-STATION\n",
    )
    capsys.readouterr()
    assert main(["evaluate", str(out / "model-best"), str(corpus)]) == 1
    err = capsys.readouterr().err
    assert f"{corpus}, line 4: entity labels the model never saw in training: " in err
    assert "'SPACESHIP' (2), 'STATION' (1); it knows " in err
    with pytest.raises(CorpusError, match="line 4: entity labels the model never saw"):
        load(out / "model-best").task.check(NerTask().read(corpus), corpus)
    # labels it knows are scored as before
    good = _write(tmp_path, "good.iob", "Ada\tB-person\nwrote\tO\n")
    assert main(["evaluate", str(out / "model-best"), str(good)]) == 0
