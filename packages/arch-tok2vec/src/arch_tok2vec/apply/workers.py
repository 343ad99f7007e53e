"""Worker processes that run batches and give the results back in order.

Each worker holds the models once: under ``fork`` (the default where the system
has it) it inherits the models the parent loaded, sharing their memory pages
until either side writes to them; under ``spawn`` it loads them itself from their
folders. Every worker runs its BLAS with one thread (threadpoolctl), ignores
Ctrl-C (the parent handles it and stops them), and exits when its task pipe
closes, so a parent that dies (even by SIGKILL) leaves no workers behind.

The parent never waits on a worker without also watching whether it is alive:
a worker that dies (killed, out of memory, a crash in native code) is seen at
once and the run fails with ``WorkerDied`` naming it, instead of waiting forever
for a result that will not come (the known failure of ``multiprocessing.Pool``).
Each worker has its own pipes (no lock shared between workers that a dying one
could leave held), and the parent sends through one thread per worker, so it
never blocks on a worker's full pipe while that worker waits for it to read.
"""

import gc
import multiprocessing
import os
import queue
import signal
import threading
import time
import traceback
from multiprocessing.connection import Connection, wait
from typing import Any, Callable, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple

POLL_SECONDS = 0.5
"""How often the parent checks its workers while it waits for results."""

IN_FLIGHT = 2
"""Batches sent to each worker ahead of the results (bounds memory)."""

STOP_SECONDS = 5.0
"""How long the parent waits for a stopped worker to exit before killing it."""


class WorkerDied(RuntimeError):
    """A worker process ended while it had work: the run cannot complete."""


class WorkerError(RuntimeError):
    """A worker raised an exception (the message has its traceback)."""


def default_start_method() -> str:
    """ "fork" where the system has it (Linux, macOS), else "spawn"."""
    return "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"


def _describe_exit(code: Optional[int]) -> str:
    if code is None:
        return "it stopped answering"
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        return f"it was killed by {name}"
    return f"it exited with code {code}"


def _worker_main(
    tasks: Connection,
    results: Connection,
    close: Sequence[Connection],
    setup: Callable[..., Callable[[Any], Any]],
    setup_args: Tuple[Any, ...],
) -> None:
    """A worker: build the work function once, then answer batches until the
    task pipe closes or sends None."""
    for conn in close:  # the parent's ends, inherited under fork
        conn.close()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    from threadpoolctl import threadpool_limits

    limits = threadpool_limits(limits=1)  # noqa: F841  (kept for the worker's lifetime)
    try:
        work = setup(*setup_args)
    except BaseException as err:
        results.send((-1, False, _error_payload(err)))
        return
    while True:
        try:
            message = tasks.recv()
        except (EOFError, OSError):
            return  # the parent is gone
        if message is None:
            return
        index, item = message
        try:
            answer: Tuple[int, bool, Any] = (index, True, work(item))
        except BaseException as err:
            answer = (index, False, _error_payload(err))
        try:
            results.send(answer)
        except (BrokenPipeError, OSError):
            return


def _error_payload(err: BaseException) -> Any:
    """An exception to send to the parent: itself if it pickles back, else its
    traceback as text."""
    import pickle

    try:
        pickle.loads(pickle.dumps(err))
        return err
    except Exception:
        return WorkerError("".join(traceback.format_exception(type(err), err, err.__traceback__)))


class _Sender(threading.Thread):
    """Sends a worker its batches, so the parent's main thread never blocks on a
    full pipe."""

    def __init__(self, conn: Connection):
        super().__init__(daemon=True)
        self.conn = conn
        self.queue: queue.Queue[Any] = queue.Queue()

    def run(self) -> None:
        while True:
            message = self.queue.get()
            try:
                self.conn.send(message)
            except (BrokenPipeError, OSError):
                return  # the worker died: the parent sees it by its sentinel
            if message is None:
                return


class ProcessPool:
    """``n`` worker processes that each build their work function once.

    n: The number of workers (>= 1).
    setup: A function returning the work function (called in each worker);
        under spawn it and its arguments must pickle.
    setup_args: Its arguments.
    start_method: "fork", "spawn" or "forkserver"; None: ``default_start_method()``.
    """

    def __init__(
        self,
        n: int,
        setup: Callable[..., Callable[[Any], Any]],
        setup_args: Tuple[Any, ...] = (),
        start_method: Optional[str] = None,
    ):
        if n < 1:
            raise ValueError(f"a pool needs at least one worker, got {n}")
        method = start_method or default_start_method()
        context = multiprocessing.get_context(method)
        self.processes: List[Any] = []
        self.results: List[Connection] = []
        self.senders: List[_Sender] = []
        pipes = [
            (multiprocessing.Pipe(duplex=False), multiprocessing.Pipe(duplex=False))
            for _ in range(n)
        ]
        parent_ends = [c for (task_r, task_w), (res_r, res_w) in pipes for c in (task_w, res_r)]
        if method == "fork":
            # the objects the workers inherit go out of the collector's reach, so that
            # its passes in a worker do not write to (and so copy) the pages they share
            gc.freeze()
        try:
            for i, ((task_r, _), (_, res_w)) in enumerate(pipes):
                close: List[Connection] = []
                if method == "fork":  # every pipe's fds are inherited: keep only its own
                    close = parent_ends + [
                        c for j, ((tr, _), (_, rw)) in enumerate(pipes) if j != i for c in (tr, rw)
                    ]
                process = context.Process(  # type: ignore[attr-defined]
                    target=_worker_main,
                    args=(task_r, res_w, close, setup, setup_args),
                    name=f"archs-apply-worker-{i + 1}",
                    daemon=True,
                )
                process.start()
                self.processes.append(process)
        except BaseException:
            self._stop()
            raise
        finally:
            if method == "fork":
                gc.unfreeze()  # the parent's own collector takes them back
        for (task_r, task_w), (res_r, res_w) in pipes:
            task_r.close()
            res_w.close()
            self.results.append(res_r)
            sender = _Sender(task_w)
            sender.start()
            self.senders.append(sender)
        self._closed = False

    def map(self, items: Iterable[Any]) -> Iterator[Any]:
        """The work function's result for each item, in the order of the items,
        with at most ``IN_FLIGHT`` items per worker sent ahead.

        Raises WorkerDied when a worker ends with work in hand, and re-raises
        an exception a worker's work function raised.
        """
        source = iter(items)
        exhausted = False
        busy = [0] * len(self.processes)
        owner: Dict[int, int] = {}
        done: Dict[int, Any] = {}
        sent = 0
        next_out = 0
        by_conn = {id(conn): i for i, conn in enumerate(self.results)}
        by_sentinel = {p.sentinel: i for i, p in enumerate(self.processes)}
        while True:
            while not exhausted and sum(busy) < IN_FLIGHT * len(self.processes):
                try:
                    item = next(source)
                except StopIteration:
                    exhausted = True
                    break
                worker = min(range(len(busy)), key=busy.__getitem__)
                self.senders[worker].queue.put((sent, item))
                owner[sent] = worker
                busy[worker] += 1
                sent += 1
            while next_out in done:
                yield done.pop(next_out)
                next_out += 1
            if exhausted and next_out == sent:
                return
            ready = wait(self.results + list(by_sentinel), timeout=POLL_SECONDS)
            for handle in ready:
                if isinstance(handle, Connection):
                    worker = by_conn[id(handle)]
                    try:
                        index, ok, value = handle.recv()
                    except (EOFError, OSError):
                        self._died(worker, owner, next_out)
                    if not ok:
                        raise value
                    done[index] = value
                    busy[worker] -= 1
            for handle in ready:
                if not isinstance(handle, Connection):
                    worker = by_sentinel[handle]
                    if self.results[worker].poll():
                        continue  # read its last results first
                    self._died(worker, owner, next_out)

    def _died(self, worker: int, owner: Dict[int, int], next_out: int) -> None:
        process = self.processes[worker]
        process.join(timeout=1.0)
        batches = sorted(i for i, w in owner.items() if w == worker and i >= next_out)
        what = f"batch {batches[0] + 1}" if batches else "no batch"
        raise WorkerDied(
            f"worker {worker + 1} of {len(self.processes)} (pid {process.pid}) ended while "
            f"annotating ({what} of this run): {_describe_exit(process.exitcode)}"
        )

    def close(self) -> None:
        """Stop the workers: tell them to exit, then terminate any that do not."""
        if self._closed:
            return
        self._closed = True
        for sender in self.senders:
            sender.queue.put(None)
        self._stop()

    def _stop(self) -> None:
        deadline = time.monotonic() + STOP_SECONDS
        for process in self.processes:
            process.join(timeout=max(0.0, deadline - time.monotonic()))
        for process in self.processes:
            if process.is_alive():
                process.terminate()
                process.join(timeout=1.0)
            if process.is_alive() and process.pid is not None:
                os.kill(process.pid, signal.SIGKILL)
                process.join(timeout=1.0)
        for conn in self.results:
            conn.close()

    def terminate(self) -> None:
        """Stop the workers at once (Ctrl-C, an error): SIGTERM, then SIGKILL."""
        if self._closed:
            return
        self._closed = True
        for process in self.processes:
            if process.is_alive():
                process.terminate()
        self._stop()

    def __enter__(self) -> "ProcessPool":
        return self

    def __exit__(self, exc_type: Any, *rest: Any) -> None:
        if exc_type is None:
            self.close()
        else:
            self.terminate()
