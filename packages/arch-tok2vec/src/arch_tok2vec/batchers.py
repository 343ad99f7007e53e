"""Batchers for ``[training.batcher]``: how an epoch's shuffled examples are cut
into update batches.

The two names spaCy users paste, with spaCy 3.8's meaning (``spacy.training.
batchers``), declared in the arch-only entry-point group ``arch_batchers`` (spaCy
does not read it, so installing arch never changes what ``spacy train`` does)::

    [training.batcher]
    @batchers = "spacy.batch_by_words.v1"
    size = 1000               # or a [training.batcher.size] schedule block
    tolerance = 0.2
    discard_oversize = false

    [training.batcher]
    @batchers = "spacy.batch_by_sequence.v1"
    size = 32

A size given as a schedule (``@schedules = "compounding.v1"``) is read one value
per batch, continuing across epochs.
"""

import itertools
from functools import partial
from typing import Any, Callable, Iterable, Iterator, List, Optional, Sequence, Union

Sizing = Union[int, Iterable[int]]
Batcher = Callable[[Iterable[Any]], Iterator[List[Any]]]


def count_words(item: Any) -> int:
    """The number of words of an example (``len`` of its doc), or ``len(item)``
    for anything that is not an example (spaCy's ``len(example)``)."""
    doc = getattr(item, "doc", None)
    return len(doc) if doc is not None else len(item)


def configure_batch_by_words(
    *,
    size: Any,
    tolerance: float,
    discard_oversize: bool,
    get_length: Optional[Callable[[Any], int]] = None,
) -> Batcher:
    """Batches of about ``size`` words (spaCy's spacy.batch_by_words.v1).

    size: The target number of words per batch: a number, or a schedule
        ([training.batcher.size] with @schedules) read once per batch.
    tolerance: The fraction of size a batch may exceed it by (0.2: up to 1.2 x size).
    discard_oversize: Leave out the examples longer than size x (1 + tolerance) by
        themselves (false: each becomes a batch of its own).
    get_length: A function giving an example's length in words (default: the
        number of words of its doc).
    """
    check_size(size)
    if isinstance(tolerance, bool) or not isinstance(tolerance, (int, float)) or tolerance < 0:
        raise ValueError(f"tolerance must be a number >= 0, got {tolerance!r}")
    if not isinstance(discard_oversize, bool):
        raise ValueError(f"discard_oversize must be true or false, got {discard_oversize!r}")
    return partial(
        batch_by_words,
        size=size,
        tolerance=float(tolerance),
        discard_oversize=discard_oversize,
        get_length=get_length or count_words,
    )


def configure_batch_by_sequence(
    size: Any, get_length: Optional[Callable[[Any], int]] = None
) -> Batcher:
    """Batches of ``size`` examples (spaCy's spacy.batch_by_sequence.v1).

    size: The number of examples per batch: a number, or a schedule
        ([training.batcher.size] with @schedules) read once per batch.
    get_length: Accepted for spaCy's signature; not used (spaCy's minibatch
        does not use it either).
    """
    check_size(size)
    return partial(batch_by_sequence, size=size)


def check_size(size: Any) -> None:
    """A batch size is a positive number or an iterable of them (a schedule)."""
    if isinstance(size, bool):
        raise ValueError(f"size must be a positive number or a schedule, got {size!r}")
    if isinstance(size, (int, float)):
        if not size >= 1:
            raise ValueError(f"size must be a positive number or a schedule, got {size!r}")
    elif not isinstance(size, Iterable) or isinstance(size, (str, bytes, dict)):
        raise ValueError(f"size must be a positive number or a schedule, got {size!r}")


def _sizes(size: Sizing) -> Iterator[int]:
    """One size per batch: a number repeated, or the next values of a schedule."""
    if isinstance(size, (int, float)):
        return itertools.repeat(size)  # type: ignore[arg-type]
    return iter(size)


def batch_by_sequence(items: Iterable[Any], size: Sizing) -> Iterator[List[Any]]:
    """Consecutive batches of ``size`` items (the last may be smaller).

    items: The examples, in training order.
    size: Items per batch, or a schedule read once per batch.
    """
    sizes = _sizes(size)
    stream = iter(items)
    while True:
        batch = list(itertools.islice(stream, int(next(sizes))))
        if not batch:
            return
        yield batch


def batch_by_words(
    items: Iterable[Any],
    size: Sizing,
    tolerance: float = 0.2,
    discard_oversize: bool = False,
    get_length: Callable[[Any], int] = count_words,
) -> Iterator[List[Any]]:
    """Batches of about ``size`` words, following spaCy 3.8's minibatch_by_words.

    An item longer than size x (1 + tolerance) is a batch of its own (or left out
    with ``discard_oversize``). Otherwise items fill the batch up to ``size``
    words; once it is full, the next items that fit in the tolerance margin wait
    in an overflow list, and the first item that fits in neither ends the batch.
    The overflow then starts the next batch (a batch is yielded without its
    overflow, except the last one).

    items: The examples, in training order.
    size: The target words per batch, or a schedule read once per batch.
    tolerance: The fraction of size a batch may exceed it by.
    discard_oversize: Leave out the items too long for any batch.
    get_length: An item's length in words.
    """
    sizes = _sizes(size)
    target = next(sizes)
    margin = target * tolerance
    batch: List[Any] = []
    overflow: List[Any] = []
    batch_words = overflow_words = 0
    for item in items:
        n_words = get_length(item)
        if n_words > target + margin:
            if not discard_oversize:
                yield [item]
        elif overflow_words == 0 and batch_words + n_words <= target:
            batch.append(item)
            batch_words += n_words
        elif batch_words + overflow_words + n_words <= target + margin:
            overflow.append(item)
            overflow_words += n_words
        else:
            if batch:
                yield batch
            target = next(sizes)
            margin = target * tolerance
            batch, batch_words = overflow, overflow_words
            overflow, overflow_words = [], 0
            if batch_words + n_words <= target:
                batch.append(item)
                batch_words += n_words
            elif batch_words + n_words <= target + margin:
                overflow.append(item)
                overflow_words += n_words
            else:
                if batch:
                    yield batch
                target = next(sizes)
                margin = target * tolerance
                batch, batch_words = [item], n_words
    batch.extend(overflow)
    if batch:
        yield batch


def batch_by_documents(items: Sequence[Any], size: int) -> List[List[Any]]:
    """``[training] batch_size``: consecutive batches of ``size`` examples."""
    return [list(items[i : i + size]) for i in range(0, len(items), size)]
