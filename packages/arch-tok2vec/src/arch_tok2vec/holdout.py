"""``[training] dev_fraction``: hold out part of the training corpus as the dev
set, for corpora that ship without one.

The split depends only on the examples, the fraction and the seed. When the
task gives each example a class (``Task.stratum``, e.g. the label of an
exclusive text classifier), every class is split in the same proportion:
largest remainders decide which classes give one more example, and a class
always keeps at least one example in training.
"""

import math
from typing import Dict, Hashable, List, Optional, Sequence, Tuple

import numpy

from .task import Example, Task


def hold_out(
    examples: Sequence[Example], fraction: float, seed: int, task: Task
) -> Tuple[List[Example], List[Example], str]:
    """(train, dev, how) with about ``fraction`` of the examples in dev, both in
    corpus order; ``how`` describes the split for the log.

    examples: The training corpus.
    fraction: The share held out, in (0, 1).
    seed: The [system] seed.
    task: Gives each example's class (``stratum``), or None for all.
    """
    if len(examples) < 2:
        raise ValueError(
            f"[training] dev_fraction: the training corpus has {len(examples)} "
            "document(s); holding out a dev set needs at least 2"
        )
    groups: Dict[Optional[Hashable], List[int]] = {}
    for i, eg in enumerate(examples):
        groups.setdefault(task.stratum(eg), []).append(i)
    stratified = any(key is not None for key in groups)
    sizes = _quotas([len(members) for members in groups.values()], fraction, len(examples))
    rng = numpy.random.default_rng(seed)
    dev_ids: List[int] = []
    for members, size in zip(groups.values(), sizes):
        chosen = rng.permutation(len(members))[:size]
        dev_ids.extend(members[j] for j in chosen.tolist())
    if not dev_ids:
        raise ValueError(
            "[training] dev_fraction: no document can be held out: each class has a single "
            "one, which training needs"
        )
    dev_set = set(dev_ids)
    train = [eg for i, eg in enumerate(examples) if i not in dev_set]
    dev = [examples[i] for i in sorted(dev_set)]
    how = f"{len(dev)} of {len(examples)} held out as dev (dev_fraction {fraction:g}, seed {seed}"
    how += f", stratified over {len(groups)} classes)" if stratified else ")"
    return train, dev, how


def _quotas(counts: List[int], fraction: float, total: int) -> List[int]:
    """How many of each group go to dev: round(total x fraction) in all (at least
    1), each group its share rounded down, the rest to the largest remainders;
    no group gives all of its examples."""
    target = min(max(round(total * fraction), 1), total - 1)
    shares = [count * fraction for count in counts]
    quotas = [min(math.floor(share), count - 1) for share, count in zip(shares, counts)]
    order = sorted(range(len(counts)), key=lambda g: (-(shares[g] - math.floor(shares[g])), g))
    missing = target - sum(quotas)
    while missing > 0:
        progressed = False
        for g in order:
            if missing and quotas[g] < counts[g] - 1:
                quotas[g] += 1
                missing -= 1
                progressed = True
        if not progressed:
            break
    return quotas
