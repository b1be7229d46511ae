"""Closest-known-key suggestions (config-and-axes.md §2.4, DECISIONS.md D28).

Among all known paths (sections and leaves): smallest Levenshtein distance (unit costs, code
points) between the last path segments; ties by the distance between full dotted paths; then the
lexicographically smallest path.
"""
from __future__ import annotations

from collections.abc import Iterable


def levenshtein(a: str, b: str) -> int:
    """Edit distance with unit costs over code points."""
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def closest_path(unknown: str, known: Iterable[str]) -> str:
    """The known path a user most likely meant by ``unknown``."""
    last = unknown.rsplit(".", 1)[-1]

    def rank(path: str) -> tuple[int, int, str]:
        return (levenshtein(last, path.rsplit(".", 1)[-1]), levenshtein(unknown, path), path)

    return min(known, key=rank)
