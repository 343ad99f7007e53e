"""The output file of ``archs apply`` and the progress log that lets an
interrupted run continue.

A run appends each batch's output to OUTPUT and then one line to
``OUTPUT.progress``: where the input stands after the batch, the SHA-256 of the
input read and of the output written so far, the counts, and the records the
batch skipped. The first line of the log says what the run is (its models,
input files and settings). A crash loses at most the batch being written: the
log's last complete line says how much of OUTPUT is good. ``--resume`` checks
that the models, the input files and the settings are the ones in the log, that
the input already read and the output already written are unchanged, cuts OUTPUT
back to the last complete batch, and continues; the finished output has the same
bytes as a run that was never interrupted. When the run ends, the log is
removed.

Both files are flushed after every batch (so killing the process loses at most
the batch in hand) and synced to disk every ``SYNC_SECONDS`` and at the end (so a
power cut loses at most those seconds; the checks above then refuse a log that
got ahead of the output).
"""

import hashlib
import json
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, Dict, List, Optional, Tuple

from .batches import Skipped
from .inputs import Position

PROGRESS_SUFFIX = ".progress"
LOG_FORMAT = "arch-apply-progress/1"
SYNC_SECONDS = 2.0


class OutputError(ValueError):
    """The output cannot be written or resumed; the message says why and what to do."""


@dataclass
class State:
    """Where a run stands after a batch.

    position: The input position after the batch.
    input_sha256: The SHA-256 of the current input file's bytes before ``position``.
    done_files: The SHA-256 of each input file read to its end (by index).
    output_bytes: The size of the output after the batch.
    output_sha256: The SHA-256 of those bytes.
    docs: Documents annotated.
    words: Their tokens.
    skipped: Input records skipped.
    pending: CoNLL-U comments waiting for the next sentence.
    """

    position: Position = field(default_factory=Position)
    input_sha256: str = hashlib.sha256().hexdigest()
    done_files: Dict[int, str] = field(default_factory=dict)
    output_bytes: int = 0
    output_sha256: str = hashlib.sha256().hexdigest()
    docs: int = 0
    words: int = 0
    skipped: int = 0
    pending: str = ""


def progress_path(output: Path) -> Path:
    """The progress log of an output file."""
    return output.with_name(output.name + PROGRESS_SUFFIX)


class Output:
    """Append batches to the output file and record the progress.

    path: The output file.
    identity: What the run is: models, input files, settings (compared on resume).
    resume: Continue the interrupted run whose progress log is beside ``path``.
    overwrite: Replace an existing output (and progress log).
    """

    def __init__(self, path: Path, identity: Dict[str, Any], resume: bool, overwrite: bool):
        self.path = path
        self.log_path = progress_path(path)
        self.identity = {"format": LOG_FORMAT, **identity}
        self.state = State()
        self.skipped: List[Skipped] = []
        self._hasher = hashlib.sha256()
        self._synced = time.monotonic()
        if resume:
            self._resume()
        else:
            self._start(overwrite)

    # -- starting -----------------------------------------------------------

    def _start(self, overwrite: bool) -> None:
        exists = self.path.exists() or self.path.is_symlink()
        if exists and self.path.is_dir():
            raise OutputError(f"{self.path} is a folder: give a file name for OUTPUT")
        if not overwrite and (exists or self.log_path.exists()):
            if self.log_path.exists():
                raise OutputError(
                    f"{self.path} is the output of an interrupted run ({self.log_path.name} "
                    "beside it): pass --resume to continue it, or --overwrite to start again"
                )
            raise OutputError(
                f"{self.path} already exists: nothing was written. Give another OUTPUT, or "
                "pass --overwrite to replace it"
            )
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.file: BinaryIO = open(self.path, "wb")
        self.log: BinaryIO = open(self.log_path, "wb")
        self.log.write((json.dumps(self.identity) + "\n").encode("utf8"))
        self.log.flush()

    def _resume(self) -> None:
        if not self.log_path.exists():
            if self.path.exists():
                raise OutputError(
                    f"cannot resume: {self.path} has no progress log ({self.log_path.name}), so "
                    "its run finished (or it was not written by archs apply); nothing to resume"
                )
            raise OutputError(f"cannot resume: neither {self.path} nor its progress log exist")
        if not self.path.exists():
            raise OutputError(
                f"cannot resume: {self.path} is missing but its progress log "
                f"{self.log_path.name} is there; pass --overwrite to start again"
            )
        identity, states, good_bytes = _read_log(self.log_path)
        for problem in _differences(identity, self.identity):
            raise OutputError(f"cannot resume {self.path}: {problem}")
        if states:
            self.state = _state(states[-1])
            for line in states:
                self.skipped += [Skipped(**item) for item in line.get("new_skipped", [])]
                for index, digest in line.get("new_done_files", {}).items():
                    self.state.done_files[int(index)] = digest
        size = self.path.stat().st_size
        if size < self.state.output_bytes:
            raise OutputError(
                f"cannot resume: {self.path} has {size} bytes but the progress log says "
                f"{self.state.output_bytes} were written (the file was cut or replaced); pass "
                "--overwrite to start again"
            )
        with open(self.path, "rb") as file:
            remaining = self.state.output_bytes
            while remaining:
                chunk = file.read(min(1 << 20, remaining))
                self._hasher.update(chunk)
                remaining -= len(chunk)
        if self._hasher.hexdigest() != self.state.output_sha256:
            raise OutputError(
                f"cannot resume: the first {self.state.output_bytes} bytes of {self.path} are not "
                "the ones the interrupted run wrote (the file was changed); pass --overwrite to "
                "start again"
            )
        self.file = open(self.path, "r+b")
        self.file.truncate(self.state.output_bytes)
        self.file.seek(self.state.output_bytes)
        self.log = open(self.log_path, "r+b")
        self.log.truncate(good_bytes)
        self.log.seek(good_bytes)

    # -- writing ------------------------------------------------------------

    def write(
        self, data: bytes, state: State, new_skipped: List[Skipped], new_done: Dict[int, str]
    ) -> None:
        """Append a batch's output, then its line in the progress log.

        data: The batch's bytes.
        state: The run's state after the batch (its output fields are filled here).
        new_skipped: The records the batch skipped.
        new_done: Input files read to their end since the last batch (index: SHA-256).
        """
        self.file.write(data)
        self.file.flush()
        self._hasher.update(data)
        state.output_bytes = self.state.output_bytes + len(data)
        state.output_sha256 = self._hasher.hexdigest()
        state.done_files = {**self.state.done_files, **new_done}
        self.state = state
        self.skipped += new_skipped
        line = {
            "position": asdict(state.position),
            "input_sha256": state.input_sha256,
            "new_done_files": {str(k): v for k, v in new_done.items()},
            "output_bytes": state.output_bytes,
            "output_sha256": state.output_sha256,
            "docs": state.docs,
            "words": state.words,
            "skipped": state.skipped,
            "pending": state.pending,
            "new_skipped": [asdict(item) for item in new_skipped],
        }
        self.log.write((json.dumps(line, ensure_ascii=False) + "\n").encode("utf8"))
        self.log.flush()
        if time.monotonic() - self._synced > SYNC_SECONDS:
            self.sync()

    def sync(self) -> None:
        """Put both files on disk: the output first, so the log never points past it."""
        os.fsync(self.file.fileno())
        os.fsync(self.log.fileno())
        self._synced = time.monotonic()

    def finish(self, tail: bytes) -> None:
        """Write the last bytes (CoNLL-U comments with no sentence after them), put
        the output on disk and remove the progress log: the run is complete."""
        self.file.write(tail)
        self.file.flush()
        os.fsync(self.file.fileno())
        self.file.close()
        self.log.close()
        self.log_path.unlink()

    def close(self) -> None:
        """Leave the files as they are (an interrupted run), flushed and synced."""
        for handle in (self.file, self.log):
            if not handle.closed:
                handle.flush()
                try:
                    os.fsync(handle.fileno())
                except OSError:
                    pass
                handle.close()


def _read_log(path: Path) -> Tuple[Dict[str, Any], List[Dict[str, Any]], int]:
    """The identity, the complete state lines and the size of the log's good part
    (a line cut by a crash is not part of it)."""
    data = path.read_bytes()
    lines: List[Dict[str, Any]] = []
    good = 0
    identity: Optional[Dict[str, Any]] = None
    for raw in data.split(b"\n")[:-1]:  # the last piece has no line end: cut or empty
        try:
            value = json.loads(raw)
        except ValueError:
            break
        if identity is None:
            identity = value
        else:
            lines.append(value)
        good += len(raw) + 1
    if not isinstance(identity, dict) or identity.get("format") != LOG_FORMAT:
        raise OutputError(f"cannot resume: {path} is not a progress log of archs apply")
    return identity, lines, good


def _state(line: Dict[str, Any]) -> State:
    return State(
        position=Position(**line["position"]),
        input_sha256=line["input_sha256"],
        output_bytes=line["output_bytes"],
        output_sha256=line["output_sha256"],
        docs=line["docs"],
        words=line["words"],
        skipped=line["skipped"],
        pending=line["pending"],
    )


def _differences(then: Dict[str, Any], now: Dict[str, Any]) -> List[str]:
    """What differs between the interrupted run and this one, in words."""
    problems = []
    old_models, new_models = then.get("models", []), now.get("models", [])
    if len(old_models) != len(new_models):
        problems.append(
            f"the interrupted run applied {len(old_models)} model(s), this one {len(new_models)}"
        )
    for i, (old, new) in enumerate(zip(old_models, new_models)):
        if old.get("sha256") != new.get("sha256"):
            problems.append(
                f"model {i + 1} ({new.get('model')}) is not the one the interrupted run applied "
                f"({old.get('model')}): their files differ"
            )
    old_files, new_files = then.get("inputs", []), now.get("inputs", [])
    if old_files != new_files:
        gone = [f[0] for f in old_files if f not in new_files]
        new = [f[0] for f in new_files if f not in old_files]
        detail = []
        if gone:
            detail.append(
                f"{gone[0]} was an input then"
                + (f" (and {len(gone) - 1} more)" if len(gone) > 1 else "")
            )
        if new:
            detail.append(
                f"{new[0]} is new" + (f" (and {len(new) - 1} more)" if len(new) > 1 else "")
            )
        if not detail:
            detail.append("their order differs")
        problems.append(f"the input files differ from the interrupted run's: {'; '.join(detail)}")
    old_versions, new_versions = then.get("versions", {}), now.get("versions", {})
    for package in sorted(set(old_versions) | set(new_versions)):
        if old_versions.get(package) != new_versions.get(package):
            problems.append(
                f"{package} {old_versions.get(package, '(none)')} annotated the interrupted run, "
                f"{new_versions.get(package, '(none)')} is installed now"
            )
    old_settings, new_settings = then.get("settings", {}), now.get("settings", {})
    for key in sorted(set(old_settings) | set(new_settings)):
        if old_settings.get(key) != new_settings.get(key):
            problems.append(
                f"--{key.replace('_', '-')} was {old_settings.get(key)!r} in the interrupted run, "
                f"{new_settings.get(key)!r} now (the output must not change half-way)"
            )
    return problems
