"""Ctrl-C (SIGINT) during training: finish the step, save, stop.

While ``StopOnInterrupt`` is active, the first SIGINT only sets a flag, which the
training loop reads after each step: it then saves ``model-last`` and stops. A
second SIGINT stops at once, without saving, unless it arrives during a save:
inside ``saving()`` every SIGINT only sets the flag, so a save is never cut off
half-way (the previous model folder and the new one are both complete).
"""

import signal
import threading
from contextlib import contextmanager
from types import FrameType
from typing import Any, Iterator, Optional


class StopOnInterrupt:
    """Turn SIGINT into a request to stop, read with ``requested``.

    Installs its handler on entry and restores the previous one on exit; outside
    the main thread (where Python delivers no signals) it does nothing.
    """

    def __init__(self) -> None:
        self.requested = False
        self._saving = False
        self._previous: Any = None
        self._installed = False

    def __enter__(self) -> "StopOnInterrupt":
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handle)
            self._installed = True
        return self

    def __exit__(self, *exc_info: Any) -> None:
        if self._installed:
            # None: the previous handler was not set from Python; restore the default.
            previous = self._previous if self._previous is not None else signal.SIG_DFL
            signal.signal(signal.SIGINT, previous)
            self._installed = False

    @contextmanager
    def saving(self) -> Iterator[None]:
        """A block (a save) that SIGINT must not interrupt: signals arriving in it
        are kept as a request to stop, read after the block."""
        self._saving = True
        try:
            yield
        finally:
            self._saving = False

    def _handle(self, signum: int, frame: Optional[FrameType]) -> None:
        if self.requested and not self._saving:
            raise KeyboardInterrupt  # asked twice: stop now, without saving
        self.requested = True
