"""``archs apply`` with arch-tok2vec alone: formats in and out, bad records,
existing outputs, worker processes, a killed worker, SIGKILL and --resume, and
``pipe``. The model is the case tagger of apply_task.py (trained in a few
seconds); tests/test_apply_families.py runs the real families' models."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import List

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from apply_task import case_model  # noqa: E402

from arch_tok2vec import Doc, load  # noqa: E402
from arch_tok2vec.apply import OutputError, apply, pipe  # noqa: E402
from arch_tok2vec.apply.output import progress_path  # noqa: E402
from arch_tok2vec.cli import main  # noqa: E402
from arch_tok2vec.conllu import read_conllu  # noqa: E402

DRIVER = Path(__file__).with_name("apply_driver.py")
WORDS = "The cat sat on a Mat while Bob and Alice read books in Paris on Monday".split()


@pytest.fixture(scope="module")
def model(tmp_path_factory) -> Path:
    return case_model(tmp_path_factory.mktemp("case"))


def texts(n: int, seed: int = 0) -> List[str]:
    """``n`` lines of 3-12 words (with punctuation), deterministic."""
    import random

    rng = random.Random(seed)
    out = []
    for _ in range(n):
        words = [rng.choice(WORDS) for _ in range(rng.randint(3, 12))]
        out.append(" ".join(words) + rng.choice([".", "!", "", " ?"]))
    return out


def lines_of(path: Path) -> List[dict]:
    return [json.loads(line) for line in path.read_text("utf8").splitlines()]


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(DRIVER), "apply", *args], capture_output=True, text=True, timeout=300
    )


# -- formats ---------------------------------------------------------------------


def test_text_input_gives_one_record_per_line_in_order(model, tmp_path):
    lines = texts(40) + ["", "  two  spaces\tand a tab", "Ünïcode wörds — ok"]
    source = tmp_path / "in.txt"
    source.write_bytes("\r\n".join(lines).encode("utf8"))  # CRLF line ends
    out = tmp_path / "out.jsonl"
    result = apply([str(model)], str(source), out, batch_size=7, log=lambda m: None)
    header, *records = lines_of(out)
    assert header["arch_apply"]["format"] == "arch-apply/1"
    assert [m["model"] for m in header["arch_apply"]["models"]] == [str(model)]
    assert header["arch_apply"]["models"][0]["task"] == "case"
    assert [r["text"] for r in records] == lines
    assert result.docs == len(lines) and result.words == sum(len(r["tokens"]) for r in records)
    predicted = load(model)(lines)
    assert [r["case"] for r in records] == [list(p) for p in predicted]
    for record in records:
        assert (
            "".join(t + " " * s for t, s in zip(record["tokens"], record["spaces"]))
            == (record["text"])
        )
    assert not progress_path(out).exists()  # a finished run leaves no progress log


def test_jsonl_input_carries_its_other_fields(model, tmp_path):
    source = tmp_path / "in.jsonl"
    rows = [{"id": i, "body": text, "meta": {"n": [i]}} for i, text in enumerate(texts(5))]
    source.write_text("".join(json.dumps(row) + "\n" for row in rows) + "\n\n", "utf8")
    out = tmp_path / "out.jsonl"
    apply([str(model)], str(source), out, text_field="body", log=lambda m: None)
    _, *records = lines_of(out)
    assert [r["text"] for r in records] == [row["body"] for row in rows]
    assert [r["fields"] for r in records] == [{"id": r["id"], "meta": r["meta"]} for r in rows]
    assert list(records[0]) == ["text", "tokens", "spaces", "case", "fields"]


def test_conllu_in_and_out(model, tmp_path):
    source = tmp_path / "in.conllu"
    source.write_text(
        "# sent_id = a1\n# text = Bob's cat.\n"
        "1-2\tBob's\t_\t_\t_\t_\t_\t_\t_\t_\n"
        "1\tBob\t_\tPROPN\tNNP\t_\t3\tnmod\t_\t_\n"
        "2\t's\t_\tPART\tPOS\t_\t1\tcase\t_\t_\n"
        "3\tcat\t_\tNOUN\tNN\t_\t0\troot\t_\tSpaceAfter=No\n"
        "4\t.\t_\tPUNCT\t.\t_\t3\tpunct\t_\t_\n\n"
        "1\tAlice\t_\t_\t_\t_\t_\t_\t_\t_\n2\treads\t_\t_\t_\t_\t_\t_\t_\t_\n\n",
        "utf8",
    )
    out = tmp_path / "out.conllu"
    apply([str(model)], str(source), out, log=lambda m: None)
    text = out.read_text("utf8")
    assert text.startswith("# arch_apply = {")
    assert "# sent_id = a1\n# text = Bob's cat.\n" in text
    sentences = list(read_conllu(out))  # our strict reader accepts what apply writes
    assert [[w.form for w in s.words] for s in sentences] == [
        ["Bob", "'s", "cat", "."],
        ["Alice", "reads"],
    ]
    expected = load(model)([Doc(["Bob", "'s", "cat", "."]), Doc(["Alice", "reads"])])
    assert [[w.xpos for w in s.words] for s in sentences] == [list(e) for e in expected]
    assert [w.upos for w in sentences[0].words] == ["_"] * 4  # gold columns are not carried
    assert [w.space_after for w in sentences[0].words] == [False, True, False, True]
    jsonl = tmp_path / "out.jsonl"
    apply([str(model)], str(source), jsonl, log=lambda m: None)
    assert [r.get("fields") for r in lines_of(jsonl)[1:]] == [{"sent_id": "a1"}, None]


def test_folder_and_glob_inputs_read_every_file_in_order(model, tmp_path):
    folder = tmp_path / "corpus"
    (folder / "sub").mkdir(parents=True)
    (folder / "b.txt").write_text("Bob read\n", "utf8")
    (folder / "a.txt").write_text("Alice sat\nthe Cat\n", "utf8")
    (folder / "sub" / "c.jsonl").write_text('{"text": "in Paris"}\n', "utf8")
    (folder / ".hidden.txt").write_text("not read\n", "utf8")
    out = tmp_path / "out.jsonl"
    apply([str(model)], str(folder), out, log=lambda m: None)
    assert [r["text"] for r in lines_of(out)[1:]] == [
        "Alice sat",
        "the Cat",
        "Bob read",
        "in Paris",
    ]
    apply([str(model)], str(folder / "*.txt"), out, overwrite=True, log=lambda m: None)
    assert [r["text"] for r in lines_of(out)[1:]] == ["Alice sat", "the Cat", "Bob read"]
    (folder / "notes.md").write_text("x\n", "utf8")
    with pytest.raises(ValueError, match=r"notes\.md: cannot tell the format .*--input-format"):
        apply([str(model)], str(folder), out, overwrite=True, log=lambda m: None)


def test_conllu_output_refuses_a_token_it_cannot_hold(model, tmp_path):
    source = tmp_path / "in.txt"
    source.write_text("Bob read\nBob\tread\n", "utf8")
    out = tmp_path / "out.conllu"
    with pytest.raises(ValueError, match=r"in\.txt, line 2: token 2 .* tab or line break"):
        apply([str(model)], str(source), out, log=lambda m: None)
    apply([str(model)], str(source), out, on_error="skip", overwrite=True, log=lambda m: None)
    assert '# skipped = {"file":' in out.read_text("utf8")


# -- bad records -------------------------------------------------------------------

BAD_JSONL = [
    b'{"text": "Bob read a book"}',
    b'{"text": "Alice sat", }',  # invalid JSON
    b'{"title": "no text"}',
    b'{"text": 42}',
    b'{"text": "caf\xe9"}',  # Latin-1, not UTF-8
    b'["a list"]',
    b'{"text": "NaN", "score": NaN}',
    b'{"text": "the Cat"}',
]


def test_on_error_stop_names_file_and_line(model, tmp_path, capsys):
    source = tmp_path / "in.jsonl"
    source.write_bytes(b"\n".join(BAD_JSONL) + b"\n")
    out = tmp_path / "out.jsonl"
    code = main(["apply", str(model), str(source), str(out), "--batch-size", "1"])
    err = capsys.readouterr().err
    assert code == 1
    assert f"{source}, line 2: invalid JSON" in err
    assert "--on-error skip" in err and "--resume" in err
    # the batch before it was written, and the run can be continued
    assert [r["text"] for r in lines_of(out)[1:]] == ["Bob read a book"]
    assert progress_path(out).exists()


def test_on_error_skip_marks_counts_and_reports_each_bad_record(model, tmp_path, capsys):
    source = tmp_path / "in.jsonl"
    source.write_bytes(b"\n".join(BAD_JSONL) + b"\n")
    out = tmp_path / "out.jsonl"
    code = main(["apply", str(model), str(source), str(out), "--on-error", "skip"])
    captured = capsys.readouterr()
    assert code == 0
    _, *records = lines_of(out)
    assert len(records) == len(BAD_JSONL)  # one record per input line, in place
    skipped = [r["skipped"] for r in records if "skipped" in r]
    assert [s["line"] for s in skipped] == [2, 3, 4, 5, 6, 7]
    assert {s["file"] for s in skipped} == {str(source)}
    assert "invalid JSON" in skipped[0]["error"] and "'text'" in skipped[1]["error"]
    assert "UTF-8" in skipped[3]["error"] and "NaN" in skipped[5]["error"]
    assert [r["text"] for r in records if "text" in r] == ["Bob read a book", "the Cat"]
    assert "skipped 6 bad input record(s)" in captured.err
    assert f"{source}, line 5: invalid UTF-8" in captured.err


def test_bad_utf8_and_conllu_blocks_are_single_records(model, tmp_path):
    source = tmp_path / "in.conllu"
    source.write_bytes(
        b"1\tBob\t_\t_\t_\t_\t_\t_\t_\t_\n\n"
        b"1\tAlice\t_\t_\t_\t_\t_\t_\t_\n\n"  # 9 columns
        b"1\tcaf\xe9\t_\t_\t_\t_\t_\t_\t_\t_\n\n"
        b"1\tCat\t_\t_\t_\t_\t_\t_\t_\t_\n"
    )
    out = tmp_path / "out.jsonl"
    result = apply([str(model)], str(source), out, on_error="skip", log=lambda m: None)
    assert [(s.line, s.error.split(" (")[0]) for s in result.skipped] == [
        (3, "expected 10 tab-separated columns, found 9"),
        (5, "invalid UTF-8"),
    ]
    assert [r.get("tokens") for r in lines_of(out)[1:]] == [["Bob"], None, None, ["Cat"]]


# -- the output file ---------------------------------------------------------------


def test_existing_output_is_refused_unless_overwrite(model, tmp_path, capsys):
    source = tmp_path / "in.txt"
    source.write_text("Bob read\n", "utf8")
    out = tmp_path / "out.jsonl"
    out.write_text("precious\n", "utf8")
    assert main(["apply", str(model), str(source), str(out)]) == 1
    assert "already exists: nothing was written" in capsys.readouterr().err
    assert out.read_text("utf8") == "precious\n"
    assert main(["apply", str(model), str(source), str(out), "--overwrite"]) == 0
    assert lines_of(out)[1]["text"] == "Bob read"
    assert main(["apply", str(model), str(source), str(out), "--resume"]) == 1
    assert "no progress log" in capsys.readouterr().err


# -- processes -----------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["jsonl", "conllu"])
def test_n_process_2_output_is_byte_identical(model, tmp_path, fmt):
    source = tmp_path / "in.txt"
    source.write_text("\n".join(texts(300) + [""] * 3 + texts(50, seed=1)) + "\n", "utf8")
    one, two, every = (tmp_path / f"{name}.{fmt}" for name in ("one", "two", "every"))
    apply([str(model)], str(source), one, batch_size=16, log=lambda m: None)
    apply([str(model)], str(source), two, batch_size=16, n_process=2, log=lambda m: None)
    apply([str(model)], str(source), every, batch_size=16, n_process=-1, log=lambda m: None)
    assert one.read_bytes() == two.read_bytes() == every.read_bytes()


def test_pipe_with_2_processes_gives_the_same_docs(model):
    pipeline = load(model)
    lines = texts(200)
    serial = list(pipeline.pipe(lines, batch_size=16))
    parallel = list(pipeline.pipe(iter(lines), batch_size=16, n_process=2))
    assert [d.text for d in parallel] == lines
    assert [d.tags for d in parallel] == [d.tags for d in serial]
    assert [d.tags for d in serial] == [list(p) for p in pipeline(lines, batch_size=16)]
    docs = [Doc(text.split()) for text in lines[:20]]
    assert [d.tags for d in pipe([pipeline], docs, n_process=2, batch_size=4)] == [
        list(p) for p in pipeline(docs)
    ]


def _children(pid: int) -> List[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(x) for x in path.read_text().split()] if path.exists() else []


def _wait_for_progress(out: Path, process: subprocess.Popen, batches: int) -> None:
    """Wait until the run has written ``batches`` batches."""
    log = progress_path(out)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()
        if log.exists() and log.read_bytes().count(b"\n") > batches:
            return
        time.sleep(0.05)
    raise AssertionError("the run made no progress")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().split(") ")[-1].startswith("Z"))


@pytest.mark.skipif(not Path("/proc").exists(), reason="finds the workers in /proc (Linux)")
def test_a_killed_worker_fails_the_run_within_seconds(model, tmp_path):
    """The known failure of multiprocessing pools: a worker dies and the parent
    waits forever. Here the run must fail at once, naming the worker."""
    source = tmp_path / "in.txt"
    source.write_text("\n".join(texts(20000)) + "\n", "utf8")
    out = tmp_path / "out.jsonl"
    process = subprocess.Popen(
        [
            sys.executable,
            str(DRIVER),
            "apply",
            str(model),
            str(source),
            str(out),
            "--n-process",
            "2",
            "--batch-size",
            "8",
        ],  # fmt: skip
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    _wait_for_progress(out, process, 3)
    workers = _children(process.pid)
    assert len(workers) == 2
    killed = time.monotonic()
    os.kill(workers[0], signal.SIGKILL)
    _, err = process.communicate(timeout=60)
    assert time.monotonic() - killed < 10
    assert process.returncode == 1
    assert f"(pid {workers[0]}) ended while annotating" in err and "SIGKILL" in err
    assert "--resume" in err
    time.sleep(0.5)
    assert not _alive(workers[1])  # no orphan


@pytest.mark.skipif(not Path("/proc").exists(), reason="finds the workers in /proc (Linux)")
@pytest.mark.parametrize("n_process", [1, 2])
def test_sigkill_half_way_then_resume_gives_the_uninterrupted_output(model, tmp_path, n_process):
    source = tmp_path / "in.txt"
    source.write_text("\n".join(texts(6000)) + "\n", "utf8")
    whole, cut = tmp_path / "whole.jsonl", tmp_path / "cut.jsonl"
    options = ["--batch-size", "8", "--n-process", str(n_process)]
    done = run(str(model), str(source), str(whole), *options)
    assert done.returncode == 0, done.stderr
    process = subprocess.Popen(
        [sys.executable, str(DRIVER), "apply", str(model), str(source), str(cut), *options],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    _wait_for_progress(cut, process, 20)
    workers = _children(process.pid)
    process.send_signal(signal.SIGKILL)
    process.communicate()
    assert 0 < cut.stat().st_size < whole.stat().st_size  # killed half-way
    time.sleep(1.0)
    assert not any(_alive(pid) for pid in workers)  # the workers saw the parent go
    resumed = run(str(model), str(source), str(cut), *options, "--resume")
    assert resumed.returncode == 0, resumed.stderr
    assert "resuming" in resumed.stderr
    assert cut.read_bytes() == whole.read_bytes()
    assert not progress_path(cut).exists()


# -- resume ----------------------------------------------------------------------------


def _interrupted(model: Path, tmp_path: Path) -> tuple:
    """A run stopped by a bad record on line 30 (after 3 batches of 8): its input,
    output, and the input with the bad line fixed."""
    lines = texts(60)
    bad = list(lines)
    bad[29] = '{"broken": '
    source = tmp_path / "in.txt"
    source.write_text("\n".join(bad) + "\n", "utf8")
    out = tmp_path / "out.conllu"
    # CoNLL-U: a bad record's text cannot be written (tab), which stops the run
    bad[29] = "Bob\tread"
    source.write_text("\n".join(bad) + "\n", "utf8")
    with pytest.raises(ValueError, match="line 30"):
        apply([str(model)], str(source), out, batch_size=8, log=lambda m: None)
    assert progress_path(out).exists()
    return source, out, lines


def test_resume_continues_after_the_bad_record_is_fixed(model, tmp_path):
    source, out, lines = _interrupted(model, tmp_path)
    source.write_text("\n".join(lines) + "\n", "utf8")  # fixed after the done part
    messages: List[str] = []
    apply([str(model)], str(source), out, batch_size=8, resume=True, log=messages.append)
    assert messages == [f"resuming {out}: 24 documents done, continuing at {source}, line 25"]
    whole = tmp_path / "whole.conllu"
    apply([str(model)], str(source), whole, batch_size=8, log=lambda m: None)
    assert out.read_bytes() == whole.read_bytes()


@pytest.mark.parametrize(
    "change, message",
    [
        ("batch_size", "--batch-size was 8 in the interrupted run, 16 now"),
        ("model", "model 1 (.*) is not the one the interrupted run applied"),
        ("input", r"in\.txt changed in the part the interrupted run already annotated"),
        ("files", r"the input files differ from the interrupted run's: .*other\.txt is new"),
        ("output", "are not the ones the interrupted run wrote"),
    ],
)
def test_resume_refuses_what_differs_from_the_interrupted_run(model, tmp_path, change, message):
    source, out, lines = _interrupted(model, tmp_path)
    kwargs: dict = {"batch_size": 8}
    models = [str(model)]
    inputs = str(source)
    if change == "batch_size":
        kwargs["batch_size"] = 16
    elif change == "model":
        models = [str(case_model(tmp_path / "other", seed=1))]
    elif change == "input":
        source.write_text("Alice\n" + source.read_text("utf8"), "utf8")
    elif change == "files":
        (tmp_path / "other.txt").write_text("Bob\n", "utf8")
        inputs = str(tmp_path / "*.txt")
    else:
        data = bytearray(out.read_bytes())
        data[-5] ^= 1
        out.write_bytes(bytes(data))
    before = out.read_bytes()
    with pytest.raises(OutputError, match=message):
        apply(models, inputs, out, resume=True, log=lambda m: None, **kwargs)
    assert out.read_bytes() == before  # refused: nothing changed


def test_resume_cuts_a_half_written_batch_and_a_half_written_log_line(model, tmp_path):
    source, out, lines = _interrupted(model, tmp_path)
    source.write_text("\n".join(lines) + "\n", "utf8")
    with open(out, "ab") as file:  # a crash half-way through the next batch
        file.write(b"1\tBob\t_\t_\t_\t_")
    with open(progress_path(out), "ab") as file:
        file.write(b'{"position": {"file": 0, "off')
    apply([str(model)], str(source), out, batch_size=8, resume=True, log=lambda m: None)
    whole = tmp_path / "whole.conllu"
    apply([str(model)], str(source), whole, batch_size=8, log=lambda m: None)
    assert out.read_bytes() == whole.read_bytes()


# -- memory ------------------------------------------------------------------------------


def test_the_string_cache_stays_bounded_on_a_stream_of_new_words(monkeypatch):
    """A corpus keeps bringing new words (names, numbers, typos): the process-wide
    hash cache must not keep them all, and the hashes must not change."""
    from arch_tok2vec import vocab

    monkeypatch.setattr(vocab, "STRING_CACHE_SIZE", 2000)
    monkeypatch.setattr(vocab, "_STRING_CACHE", {})
    words = [f"w{i}x{i * 7}" for i in range(3000)]
    fresh = [Doc(words[i : i + 30], vocab=vocab.Vocab()) for i in range(0, 3000, 30)]
    assert len(vocab._STRING_CACHE) <= 2000
    hashed = [d.to_array(["ORTH", "NORM", "SHAPE", "SUFFIX"]) for d in fresh]
    monkeypatch.setattr(vocab, "_STRING_CACHE", {})
    again = [
        Doc(d.words, vocab=vocab.Vocab()).to_array(["ORTH", "NORM", "SHAPE", "SUFFIX"])
        for d in fresh
    ]
    assert all((a == b).all() for a, b in zip(hashed, again))


def test_a_worker_starts_a_new_vocab_and_writes_the_same_bytes(model, tmp_path, monkeypatch):
    from arch_tok2vec.apply import batches

    source = tmp_path / "in.txt"
    source.write_text("\n".join(f"{t} Name{i} {i * 13}" for i, t in enumerate(texts(400))) + "\n")
    whole, renewed = tmp_path / "whole.jsonl", tmp_path / "renewed.jsonl"
    apply([str(model)], str(source), whole, batch_size=16, log=lambda m: None)
    vocabs = []
    original = batches.Vocab

    def counted() -> object:
        vocabs.append(original())
        return vocabs[-1]

    monkeypatch.setattr(batches, "VOCAB_ROWS", 50)
    monkeypatch.setattr(batches, "Vocab", counted)
    apply([str(model)], str(source), renewed, batch_size=16, log=lambda m: None)
    assert len(vocabs) > 10 and max(len(v) for v in vocabs) < 50 + 16 * 20
    assert renewed.read_bytes() == whole.read_bytes()


@pytest.mark.skipif(not Path("/proc").exists(), reason="finds the workers in /proc (Linux)")
def test_ctrl_c_stops_the_workers_and_keeps_a_resumable_output(model, tmp_path):
    source = tmp_path / "in.txt"
    source.write_text("\n".join(texts(20000)) + "\n", "utf8")
    out = tmp_path / "out.jsonl"
    command = [sys.executable, str(DRIVER), "apply", str(model), str(source), str(out)]
    command += ["--n-process", "2", "--batch-size", "8"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _wait_for_progress(out, process, 3)
    workers = _children(process.pid)
    for pid in [process.pid, *workers]:  # as a terminal sends it: to the whole group
        os.kill(pid, signal.SIGINT)
    stopped = time.monotonic()
    _, err = process.communicate(timeout=60)
    assert time.monotonic() - stopped < 10
    assert process.returncode == 130
    assert "interrupted (Ctrl-C)" in err and "--resume" in err and "Traceback" not in err
    time.sleep(0.5)
    assert not any(_alive(pid) for pid in workers)
    resumed = run(
        str(model), str(source), str(out), "--n-process", "2", "--batch-size", "8", "--resume"
    )
    assert resumed.returncode == 0, resumed.stderr
    whole = tmp_path / "whole.jsonl"
    assert run(str(model), str(source), str(whole), "--batch-size", "8").returncode == 0
    assert out.read_bytes() == whole.read_bytes()


def test_a_sentence_is_a_tree_of_the_parse():
    from arch_tok2vec.annotations import sentence_starts, set_parse, tree_sentence_starts

    # two trees (roots 1 and 4); token 3 hangs off root 4 from its left
    heads = [1, 1, 1, 4, 4, 4]
    assert tree_sentence_starts(heads) == [True, False, False, True, False, False]
    doc = Doc("a b c d e f".split())
    set_parse(doc, heads, ["x"] * 6)
    assert sentence_starts(doc) == [0, 3] and [len(s) for s in doc.sents] == [3, 3]
    assert tree_sentence_starts([0, 0, 2, 1]) == [True, False, True, False]  # interleaved trees


def test_a_conllu_run_stopped_in_its_first_batch_resumes_with_its_header(model, tmp_path):
    lines = texts(20)
    source = tmp_path / "in.txt"
    source.write_text("\n".join(["Bob\tread"] + lines[1:]) + "\n", "utf8")  # a tab: not CoNLL-U
    out = tmp_path / "out.conllu"
    with pytest.raises(ValueError, match="line 1"):
        apply([str(model)], str(source), out, batch_size=8, log=lambda m: None)
    assert out.read_bytes() == b""  # nothing written yet: the header waits for a sentence
    source.write_text("\n".join(lines) + "\n", "utf8")
    apply([str(model)], str(source), out, batch_size=8, resume=True, log=lambda m: None)
    whole = tmp_path / "whole.conllu"
    apply([str(model)], str(source), whole, batch_size=8, log=lambda m: None)
    assert out.read_bytes() == whole.read_bytes()
    assert out.read_text("utf8").startswith("# arch_apply = ")


def test_resume_refuses_another_version_of_arch(model, tmp_path):
    source, out, lines = _interrupted(model, tmp_path)
    log = progress_path(out)
    first, rest = log.read_text("utf8").split("\n", 1)
    identity = json.loads(first)
    identity["versions"]["arch-tok2vec"] = "0.0.1"
    log.write_text(json.dumps(identity) + "\n" + rest, "utf8")
    with pytest.raises(OutputError, match="arch-tok2vec 0.0.1 annotated the interrupted run"):
        apply([str(model)], str(source), out, batch_size=8, resume=True, log=lambda m: None)


# -- models by name ------------------------------------------------------------------


def install_as(model: Path, site: Path, name: str) -> Path:
    """Install ``model`` into ``site`` as ``archs package``'s wheel lays it out: an import
    package holding the folder as ``model/``, and a dist-info declaring it under ``name``
    in the arch_models entry points."""
    package = name.replace("-", "_")
    shutil.copytree(model, site / package / "model")
    (site / package / "__init__.py").write_text("", "utf8")
    info = site / f"{package}-1.0.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0.0\n")
    (info / "entry_points.txt").write_text(f"[arch_models]\n{name} = {package}\n", "utf8")
    return site / package / "model"


def test_an_installed_model_is_found_by_name_as_archs_evaluate_finds_it(
    model, tmp_path, monkeypatch, capsys
):
    site = tmp_path / "site"
    installed = install_as(model, site, "case-apply-installed")
    monkeypatch.syspath_prepend(str(site))
    source = tmp_path / "in.txt"
    source.write_text("\n".join(texts(12)) + "\n", "utf8")
    by_folder, by_name = tmp_path / "folder.jsonl", tmp_path / "name.jsonl"
    apply([str(installed)], str(source), by_folder, batch_size=5, log=lambda m: None)
    for n_process in (1, 2):
        target = by_name.with_suffix(f".{n_process}.jsonl")
        code = main(
            ["apply", "case-apply-installed", str(source), str(target), "--batch-size", "5"]
            + ["--n-process", str(n_process), "--no-progress"]
        )
        assert code == 0, capsys.readouterr().err
        (header, *records), (expected_header, *expected) = lines_of(target), lines_of(by_folder)
        assert records == expected
        (described,), (folder_described,) = (
            header["arch_apply"]["models"],
            expected_header["arch_apply"]["models"],
        )
        assert described["model"] == "case-apply-installed"
        # the same files: the manifest's checksum and the versions that saved them
        assert described == {**folder_described, "model": "case-apply-installed"}
        assert described["saved_with"]["arch-tok2vec"]
        assert (
            header["arch_apply"]["annotated_with"]
            == expected_header["arch_apply"]["annotated_with"]
        )
    # a name that is neither a folder nor an installed model: evaluate's message
    capsys.readouterr()
    assert main(["evaluate", "case-apply-instaled", str(source)]) == 1
    refused = capsys.readouterr().err
    assert "did you mean" in refused.lower() and "case-apply-installed" in refused
    assert main(["apply", "case-apply-instaled", str(source), str(tmp_path / "x.jsonl")]) == 1
    assert capsys.readouterr().err == refused
    assert not (tmp_path / "x.jsonl").exists()
