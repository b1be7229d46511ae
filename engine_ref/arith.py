"""Arithmetic helpers that the spec defines by name (strategy-exits.md §0.2-§0.3, DECISIONS.md D23, D37, D45).

Everything here is plain binary64 Python: no numpy, no library reductions. Each helper is written so
that a reader can check it line by line against the spec text it cites.

* ``round_half_away_from_zero(y)`` — ``R(y)`` of §0.3, with the D37 rule "a zero result is +0.0".
* ``q(x)`` — quantisation to 1e-12: ``R(x × 1e12) / 1e12`` (§0.3).
* ``clamp(x, lo, hi)`` — §0.2.
* ``trunc_i(x)`` — float → int, truncation toward zero, saturating to int64, NaN → 0 (§0.2, N7).
* ``sequential_sum(values)`` — the one way to add a sequence: an explicit left-to-right loop from
  +0.0 (entries §0.5 N3, D45). Never ``sum()`` / ``math.fsum`` / ``statistics`` / numpy.
"""
from __future__ import annotations

import math
from typing import Iterable

#: 2**52 as a double: every double with magnitude >= this is already an integer (§0.3).
TWO_POW_52 = 4503599627370496.0

#: The quantisation scale of §0.3; exactly representable as a double.
Q_SCALE = 1e12

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1


def round_half_away_from_zero(y: float) -> float:
    """``R(y)`` of strategy-exits.md §0.3: round half away from zero of the exact double ``y``.

    Follows the spec's pseudo-code literally::

        if y is not finite or |y| >= 2^52: return y        # already integral
        t = trunc(y)                                       # exact for |y| < 2^52
        if |y - t| >= 0.5: t = t + sign(y)                 # y - t is exact here
        if t == 0: return +0.0                             # [D37]
        return t

    Not banker's rounding (``round()``), not ``floor(y + 0.5)``.
    """
    if not math.isfinite(y) or abs(y) >= TWO_POW_52:
        return y
    t = float(math.trunc(y))  # through a Python int: exact, and the int -> float step is exact too
    if abs(y - t) >= 0.5:
        t = t + (1.0 if y > 0.0 else -1.0)
    if t == 0.0:
        return 0.0  # D37: a zero result is always +0.0, whatever the sign of y
    return t


def q(x: float) -> float:
    """Quantise ``x`` to 1e-12 (strategy-exits.md §0.3): ``R(x × 1e12) / 1e12``.

    A zero result is ``+0.0`` (D37): ``q(-0.0)``, ``q(-4e-13)`` and ``q(-(+0.0))`` all give ``+0.0``.
    """
    return round_half_away_from_zero(x * Q_SCALE) / Q_SCALE


def clamp(x: float, lo: float, hi: float) -> float:
    """``clamp(x, lo, hi)`` of strategy-exits.md §0.2: ``lo`` if ``x < lo``, else ``hi`` if ``x > hi``, else ``x``.

    Precondition ``lo <= hi`` (configs violating it are rejected at load time, §7.9).
    """
    if x < lo:
        return lo
    if x > hi:
        return hi
    return x


def trunc_i(x: float) -> int:
    """``trunc_i(x)`` of strategy-exits.md §0.2: truncation toward zero, saturating to int64; NaN → 0.

    Used for the ranking score (entries §4.7) and the PESC duration in ms (entries §4.6 F2) — N7.
    """
    if math.isnan(x):
        return 0
    if x >= 9.223372036854775807e18:  # 2**63 as a double: every larger double saturates
        return INT64_MAX
    if x < -9.223372036854775808e18:
        return INT64_MIN
    return math.trunc(x)


def sequential_sum(values: Iterable[float]) -> float:
    """Sum ``values`` from the first to the last, starting at +0.0 (entries §0.5 N3, D45).

    An explicit loop on purpose: Python's ``sum()`` is compensated for floats since 3.12, and
    ``math.fsum`` / numpy / pandas reductions round differently from the simulator's loop.
    """
    total = 0.0
    for value in values:
        total = total + value
    return total
