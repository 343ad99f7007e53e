"""Issue 14, finding 2: a training run killed while it saves never leaves a model
folder that does not load.

``archs train configs/tagger.cfg`` (arch-tagger's sample corpus, 4 epochs) runs in a
child process that pauses at step k of its saves (``atomic_folder.set_hook``); the
test then kills it with SIGKILL and loads model-best and model-last, which must hold
the model of the previous save or of the interrupted one, and predict. The children
are forked from one driver process that has imported everything once, so each run
costs its training only: each child runs the whole ``archs train`` (config, corpus,
training, saves) from its start.
"""

import json
import os
import re
import select
import signal
import subprocess
import sys
import textwrap
import warnings

import pytest

from arch_tok2vec import Doc, load

from declared import ROOT

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="the driver forks (POSIX)")

ARGS = [
    "train",
    str(ROOT / "configs" / "tagger.cfg"),
    "--training.max_epochs",
    "4",
    "--training.patience",
    "0",
    "--training.batch_size",
    "4",
    "--training.max_seconds",
    "0",
]

DRIVER = """
import json, os, signal, sys
os.environ["OPENBLAS_NUM_THREADS"] = "1"
from arch_tok2vec import atomic_folder
from arch_tok2vec.cli import main
import arch_tagger.task  # imported once here, not in every child

ARGS = json.loads(sys.argv[1])


def child(point, output, exchange, report):
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 1)
    os.dup2(null, 2)
    atomic_folder.use_exchange = exchange
    steps = []

    def hook(step):
        steps.append(step)
        if len(steps) == point:
            os.write(report, (json.dumps({"paused": step}) + "\\n").encode())
            while True:
                signal.pause()

    atomic_folder.set_hook(hook)
    code = main(ARGS + ["--output", output])
    os.write(report, (json.dumps({"finished": code, "steps": steps}) + "\\n").encode())
    os._exit(0)


for line in sys.stdin:
    point, output, exchange = json.loads(line)
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        child(point, output, exchange, write)
    os.close(write)
    print(json.dumps({"pid": pid}), flush=True)
    with os.fdopen(read) as report:
        print(report.readline().strip() or json.dumps({"died": True}), flush=True)
    _, status = os.waitpid(pid, 0)
    print(json.dumps({"signal": os.WTERMSIG(status) if os.WIFSIGNALED(status) else 0}), flush=True)
"""


class Driver:
    """The driver process: ``run(point, output, exchange)`` trains in a fresh child,
    paused at step ``point`` of its saves (0: runs to the end)."""

    def __init__(self):
        self.process = subprocess.Popen(
            [sys.executable, "-c", textwrap.dedent(DRIVER), json.dumps(ARGS)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            bufsize=0,
            cwd=ROOT,
        )
        self.buffer = b""

    def _line(self, timeout=120.0):
        fd = self.process.stdout.fileno()
        while b"\n" not in self.buffer:
            ready, _, _ = select.select([fd], [], [], timeout)
            assert ready, "the driver did not answer in time"
            chunk = os.read(fd, 1 << 16)
            assert chunk, "the driver died"
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\n", 1)
        return json.loads(line)

    def run(self, point, output, exchange=True):
        self.process.stdin.write((json.dumps([point, str(output), exchange]) + "\n").encode())
        pid = self._line()["pid"]
        report = self._line()
        if "paused" in report:
            os.kill(pid, signal.SIGKILL)
        report["signal"] = self._line()["signal"]
        return report

    def close(self):
        self.process.stdin.close()
        self.process.wait(timeout=60)


@pytest.fixture(scope="module")
def driver():
    started = Driver()
    yield started
    started.close()


@pytest.fixture(scope="module")
def records(driver, tmp_path_factory):
    """A whole run per way of swapping (the steps differ): its steps, and its saves
    as (first step, end, folder, epoch)."""
    done = {}

    def record(exchange):
        if exchange not in done:
            done[exchange] = _record(driver, tmp_path_factory.mktemp("record"), exchange)
        return done[exchange]

    return record


def _record(driver, out, exchange):
    report = driver.run(0, out, exchange)
    assert report["finished"] == 0 and report["signal"] == 0, report
    steps = report["steps"]
    starts = [i for i, step in enumerate(steps) if step.startswith("made the new folder")]
    found = []
    epoch = 0
    for first, end in zip(starts, starts[1:] + [len(steps)]):
        folder = re.match(r"made the new folder \.(model-\w+)\.new-", steps[first]).group(1)
        # each epoch saves model-best (if it improved) then model-last
        if not found or found[-1][2] == "model-last":
            epoch += 1
        found.append((first, end, folder, epoch))
    return steps, found, out


def plain(step):
    """A step without the process id and token of the hidden folder it names."""
    return re.sub(r"-\d+-[0-9a-f]{8}$", "", step)


def expected_epoch(steps, saves, point):
    """The epoch each folder must hold after a kill at step ``point`` (1-based):
    that of its last complete save, or of the interrupted one once it is swapped in
    (or, with two renames, once the previous folder is moved aside: load then reads
    the complete new folder beside the missing one)."""
    index = point - 1
    holds = {}
    for first, end, folder, epoch in saves:
        if end <= index:
            holds[folder] = epoch
        elif first <= index:
            done = steps[first : index + 1]
            if "swapped" in done or "moved the previous folder aside" in done:
                holds[folder] = epoch
    return holds


def choose(steps, saves, kinds, spread=6):
    """Step numbers (1-based) in the saves after the first two (model-best and
    model-last of epoch 1 are then complete): ``spread`` of them evenly over every
    later save, and one of each kind of step named in ``kinds``."""
    later = [i for first, end, _, _ in saves[2:] for i in range(first, end)]
    chosen = set(later[len(later) // (2 * spread) :: len(later) // spread])
    for n, kind in enumerate(kinds):
        matching = [i for i in later if steps[i].startswith(kind)]
        assert matching, f"no step {kind!r} in {sorted(set(steps))}"
        chosen.add(matching[(n * 7) % len(matching)])
    return sorted(i + 1 for i in chosen)


def loaded_epochs(out, step):
    """model-best and model-last load (their files verified) and predict; the epoch
    each holds."""
    words = ["The", "cat", "sat", "on", "the", "mat", "."]
    epochs = {}
    for name in ("model-best", "model-last"):
        pipeline = load(out / name)
        (tags,) = pipeline([Doc(words)])
        assert len(tags) == len(words), (step, name)
        epochs[name] = pipeline.meta["epoch"]
    return epochs


@pytest.mark.parametrize("exchange", [True, False], ids=["exchange", "two-renames"])
def test_the_record_run_saves_both_folders_in_several_epochs(records, exchange):
    steps, found, out = records(exchange)
    folders = [folder for _, _, folder, _ in found]
    assert folders[:2] == ["model-best", "model-last"]
    assert folders.count("model-best") >= 2 and folders.count("model-last") == 4
    assert [epoch for _, _, folder, epoch in found if folder == "model-last"] == [1, 2, 3, 4]
    assert loaded_epochs(out, "end") == expected_epoch(steps, found, len(steps))


@pytest.mark.parametrize("exchange", [True, False], ids=["exchange", "two-renames"])
def test_killed_at_any_step_of_a_save_the_folders_load(driver, records, tmp_path, exchange):
    steps, found, _ = records(exchange)
    kinds = ["write model.bin", "wrote config.cfg", "wrote meta.json", "wrote manifest.json"]
    kinds += ["synced the new folder", "swapped", "removed a leftover folder"]
    kinds += ["made the new folder .model-best", "write model.bin 1"]
    if exchange:
        kinds.append("renamed the previous folder")
    else:
        kinds.append("moved the previous folder aside")
    points = choose(steps, found, kinds)
    assert len(points) >= 12  # with the other way of swapping: 24 or more kills
    for point in points:
        out = tmp_path / f"kill-{point}"
        report = driver.run(point, out, exchange)
        assert plain(report.get("paused", "")) == plain(steps[point - 1]), (point, report)
        assert report["signal"] == signal.SIGKILL, (point, report)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            epochs = loaded_epochs(out, report["paused"])
        assert epochs == expected_epoch(steps, found, point), (point, report["paused"])
        missing = [name for name in epochs if not (out / name).exists()]
        assert bool(missing) == (report["paused"] == "moved the previous folder aside")
        interrupted = [w for w in caught if "a save was interrupted" in str(w.message)]
        assert len(interrupted) == len(missing)
