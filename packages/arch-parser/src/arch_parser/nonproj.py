"""Pseudo-projective parsing (Nivre & Nilsson 2005, "HEAD" decoration).

Training trees are made projective by lifting non-projective arcs to the
grandparent, smallest arc first, and the lifted token's label is decorated
``label||headlabel`` with the label of its original head. After parsing,
``deprojectivize`` reattaches each decorated token to the first token with the
head label found breadth-first below its current head.
"""

from typing import List, Optional, Sequence, Tuple

DELIMITER = "||"


class TreeError(ValueError):
    """A gold tree that is not a tree (cycle, several roots, bad head index)."""


def check_tree(heads: Sequence[int]) -> None:
    """Raise TreeError unless heads (a root is its own head) form one tree."""
    n = len(heads)
    roots = [i for i, head in enumerate(heads) if head == i]
    for i, head in enumerate(heads):
        if not 0 <= head < n:
            raise TreeError(f"head of word {i + 1} is {head + 1}, outside 1..{n}")
    if len(roots) != 1:
        raise TreeError(f"{len(roots)} roots (words {', '.join(str(r + 1) for r in roots)})")
    for i in range(n):
        seen = {i}
        node = i
        while heads[node] != node:
            node = heads[node]
            if node in seen:
                raise TreeError(f"cycle through word {node + 1}")
            seen.add(node)


def _dominates(head: int, token: int, heads: Sequence[int]) -> bool:
    """Whether ``head`` is an ancestor of ``token`` (or a missing head ends the path)."""
    node = token
    for _ in range(len(heads) + 1):
        parent = heads[node]
        if parent == head or parent < 0:
            return True
        if parent == node:
            return False
        node = parent
    raise TreeError("cycle in dependency graph")


def is_nonproj_arc(token: int, heads: Sequence[int]) -> bool:
    """An arc h -> d is non-projective if some word between them is not dominated by h."""
    head = heads[token]
    if head == token or head < 0:
        return False
    start, end = (head + 1, token) if head < token else (token + 1, head)
    return any(not _dominates(head, k, heads) for k in range(start, end))


def is_nonproj_tree(heads: Sequence[int]) -> bool:
    return any(is_nonproj_arc(i, heads) for i in range(len(heads)))


def _smallest_nonproj_arc(heads: Sequence[int]) -> int:
    best, best_size = -1, len(heads) + 1
    for token, head in enumerate(heads):
        size = abs(token - head)
        if size < best_size and is_nonproj_arc(token, heads):
            best, best_size = token, size
    return best


def projectivize(heads: Sequence[int], labels: Sequence[str]) -> Tuple[List[int], List[str]]:
    """A projective tree and decorated labels for a (possibly non-projective) tree."""
    proj = list(heads)
    token = _smallest_nonproj_arc(proj)
    if token == -1:
        return proj, list(labels)
    while token != -1:
        head = proj[token]
        grand = proj[head]
        proj[token] = grand if grand != head else token
        token = _smallest_nonproj_arc(proj)
    decorated = [
        f"{labels[i]}{DELIMITER}{labels[heads[i]]}" if heads[i] != proj[i] else labels[i]
        for i in range(len(heads))
    ]
    return proj, decorated


def deprojectivize(
    heads: Sequence[int], labels: Sequence[str], root_label: Optional[str] = None
) -> Tuple[List[int], List[str]]:
    """Undo the decoration: reattach every ``x||y`` token below its head to the
    first token labelled ``y`` found breadth-first (left to right); keep the head
    when there is none."""
    heads = list(heads)
    labels = list(labels)
    for i, label in enumerate(list(labels)):
        if DELIMITER not in label:
            continue
        new_label, head_label = label.split(DELIMITER, 1)
        children: List[List[int]] = [[] for _ in heads]
        for child, head in enumerate(heads):
            if head != child:
                children[head].append(child)
        new_head = heads[i]
        queue = [heads[i]]
        found = False
        while queue and not found:
            following = []
            for node in queue:
                for child in children[node]:
                    if child == i:
                        continue
                    if labels[child] == head_label:
                        new_head, found = child, True
                        break
                    following.append(child)
                if found:
                    break
            queue = following
        heads[i] = new_head
        labels[i] = new_label
    return heads, labels
