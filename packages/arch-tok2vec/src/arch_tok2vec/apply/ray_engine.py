"""``archs apply --engine ray``: the batches go to Ray actors instead of local
processes, on one machine or a cluster (``pip install arch-tok2vec[ray]``).

The parent reads the input and writes the output exactly as with local
processes (so the output has the same bytes, and ``--resume`` works the same);
each actor loads the models once, from their folders, which must therefore be
at the same path on every node (a shared file system), as must the input files.
An actor that dies fails the run at once, naming it (Ray raises
``RayActorError`` for its pending results).
"""

from typing import Any, Callable, Dict, Iterable, Iterator, Optional, Tuple

from .workers import IN_FLIGHT, WorkerDied


def _ray() -> Any:
    try:
        import ray
    except ImportError:
        raise ValueError(
            "--engine ray needs Ray: pip install 'arch-tok2vec[ray]' (Ray needs Python 3.10+)"
        ) from None
    return ray


class RayPool:
    """``n`` Ray actors that each build their work function once.

    n: The number of actors (each takes one CPU).
    setup: A function returning the work function; it and its arguments must
        pickle (they are shipped to the actors).
    setup_args: Its arguments.
    address: The cluster to connect to (``ray.init(address=...)``, e.g. "auto" or
        "ray://head:10001"); None starts a local Ray with ``n`` CPUs, or joins the
        one this process already started.
    """

    def __init__(
        self,
        n: int,
        setup: Callable[..., Callable[[Any], Any]],
        setup_args: Tuple[Any, ...] = (),
        address: Optional[str] = None,
    ):
        ray = _ray()
        self.ray = ray
        self._started = False
        if not ray.is_initialized():
            if address is None:
                ray.init(num_cpus=n, include_dashboard=False, log_to_driver=False)
            else:
                ray.init(address=address, log_to_driver=False)
            self._started = True

        @ray.remote(num_cpus=1, max_restarts=0)
        class Actor:
            def __init__(self) -> None:
                from threadpoolctl import threadpool_limits

                self.limits = threadpool_limits(limits=1)
                self.work = setup(*setup_args)

            def run(self, item: Any) -> Any:
                return self.work(item)

        self.actors = [Actor.remote() for _ in range(n)]  # type: ignore[attr-defined]

    def map(self, items: Iterable[Any]) -> Iterator[Any]:
        """The results for the items, in order (at most ``IN_FLIGHT`` per actor
        sent ahead); an exception raised in an actor is raised here, a dead actor
        raises WorkerDied."""
        ray = self.ray
        source = iter(items)
        exhausted = False
        busy = [0] * len(self.actors)
        pending: Dict[Any, Tuple[int, int]] = {}  # ref -> (index, actor)
        done: Dict[int, Any] = {}
        sent = next_out = 0
        while True:
            while not exhausted and len(pending) < IN_FLIGHT * len(self.actors):
                try:
                    item = next(source)
                except StopIteration:
                    exhausted = True
                    break
                actor = min(range(len(busy)), key=busy.__getitem__)
                pending[self.actors[actor].run.remote(item)] = (sent, actor)
                busy[actor] += 1
                sent += 1
            while next_out in done:
                yield done.pop(next_out)
                next_out += 1
            if exhausted and next_out == sent:
                return
            ready, _ = ray.wait(list(pending), num_returns=1, timeout=0.5)
            for ref in ready:
                index, actor = pending.pop(ref)
                busy[actor] -= 1
                try:
                    done[index] = ray.get(ref)
                except ray.exceptions.RayActorError as err:
                    raise WorkerDied(
                        f"Ray actor {actor + 1} of {len(self.actors)} died while annotating "
                        f"batch {index + 1} of this run: {str(err).splitlines()[0]}"
                    ) from None
                except ray.exceptions.RayTaskError as err:
                    cause = getattr(err, "cause", None)
                    raise (cause if isinstance(cause, BaseException) else err) from None

    def close(self) -> None:
        """Stop the actors (and the local Ray this pool started)."""
        for actor in self.actors:
            self.ray.kill(actor)
        self.actors = []
        if self._started:
            self.ray.shutdown()
            self._started = False

    terminate = close
