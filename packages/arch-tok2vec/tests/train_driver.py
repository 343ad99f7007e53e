"""Run the ``archs`` command line in this process with the test tasks of
test_training.py registered, for tests that send Ctrl-C to a real training process.

    python train_driver.py [--sigint-in-save N] ARGS...

``--sigint-in-save N`` sends SIGINT to this process from inside the N-th
``Model.to_bytes`` call, that is while a model folder is being written.
"""

import importlib.util
import os
import signal
import sys
from pathlib import Path

from thinc.api import Model


def _load_test_tasks() -> None:
    spec = importlib.util.spec_from_file_location(
        "capital_tasks", Path(__file__).with_name("test_training.py")
    )
    assert spec is not None and spec.loader is not None
    spec.loader.exec_module(importlib.util.module_from_spec(spec))


def _interrupt_inside_save(n: int) -> None:
    original = Model.to_bytes
    calls = [0]

    def to_bytes(self: Model) -> bytes:
        calls[0] += 1
        if calls[0] == n:
            os.kill(os.getpid(), signal.SIGINT)
        return original(self)

    Model.to_bytes = to_bytes  # type: ignore[method-assign]


def run(argv: list) -> int:
    if argv[:1] == ["--sigint-in-save"]:
        _interrupt_inside_save(int(argv[1]))
        argv = argv[2:]
    _load_test_tasks()
    from arch_tok2vec.cli import main

    return main(argv)


if __name__ == "__main__":
    sys.exit(run(sys.argv[1:]))
