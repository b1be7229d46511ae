"""Indicator building blocks: the rolling window ``RW(cap)`` and the EMA (strategy-entries.md §2.0, §2.1).

Pure Python binary64, every operation in the written order (§0.5 N2, D23), every sum an explicit
loop from the oldest element to the newest starting at +0.0 (N3, D45).
"""
from __future__ import annotations

import math
from collections import deque


class RollingWindow:
    """``RW(cap)`` of strategy-entries.md §2.0: the last ``min(pushes, cap)`` values, oldest first.

    ``mean()`` and ``std_pop()`` are defined on a partially filled window too (used in warm-up).
    The ring holds exactly its window (D44a); nothing here ever truncates a window.
    """

    __slots__ = ("capacity", "_values")

    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError(f"RollingWindow capacity must be >= 1, got {capacity!r}")
        self.capacity = capacity
        self._values: deque[float] = deque(maxlen=capacity)

    def push(self, x: float) -> None:
        """Append ``x``; the oldest value drops out once more than ``cap`` are held."""
        self._values.append(x)

    def count(self) -> int:
        """``n``: how many values are held (``<= cap``)."""
        return len(self._values)

    def full(self) -> bool:
        """``n == cap``."""
        return len(self._values) == self.capacity

    def values_oldest_first(self) -> tuple[float, ...]:
        """The held values in insertion order (oldest first)."""
        return tuple(self._values)

    def oldest(self) -> float:
        """The oldest held value (the window must not be empty)."""
        return self._values[0]

    def newest(self) -> float:
        """The newest held value (the window must not be empty)."""
        return self._values[-1]

    def mean(self) -> float:
        """``0.0`` if empty, else ``(x_oldest + … + x_newest) / n``, summed sequentially from 0.0."""
        n = len(self._values)
        if n == 0:
            return 0.0
        total = 0.0
        for x in self._values:
            total = total + x
        return total / float(n)

    def std_pop(self) -> float:
        """Population standard deviation (ddof = 0), two-pass, of §2.0.

        ``0.0`` if empty; else ``m = mean()``; ``acc = 0``; for each x oldest→newest
        ``d = x − m; acc = acc + d*d``; result ``sqrt(acc / n)``.
        """
        n = len(self._values)
        if n == 0:
            return 0.0
        m = self.mean()
        acc = 0.0
        for x in self._values:
            d = x - m
            acc = acc + (d * d)
        return math.sqrt(acc / float(n))

    def min(self) -> float:
        """Exact minimum of the held values (the window must not be empty)."""
        lowest = self._values[0]
        for x in self._values:
            if x < lowest:
                lowest = x
        return lowest

    def max(self) -> float:
        """Exact maximum of the held values (the window must not be empty)."""
        highest = self._values[0]
        for x in self._values:
            if x > highest:
                highest = x
        return highest


class Ema:
    """EMA(w) of strategy-entries.md §2.1, seeded with the first observation (no SMA seed).

    ``alpha = 2.0 / (w + 1.0)``; ``E_0 = x_0``; ``E_k = (alpha * x_k) + ((1.0 − alpha) * E_{k−1})``.
    Values are produced from ``k = 0`` (no warm-up masking).
    """

    __slots__ = ("window_bars", "alpha", "value", "_seeded")

    def __init__(self, window_bars: int) -> None:
        self.window_bars = window_bars
        self.alpha = 2.0 / (float(window_bars) + 1.0)
        self.value = 0.0
        self._seeded = False

    def update(self, x: float) -> float:
        """Feed one observation (bar k) and return ``E_k``."""
        if not self._seeded:
            self.value = x
            self._seeded = True
        else:
            self.value = (self.alpha * x) + ((1.0 - self.alpha) * self.value)
        return self.value
