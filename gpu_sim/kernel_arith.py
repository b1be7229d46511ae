"""Arithmetic primitives of the spec: ``q(x)`` (strategy-exits.md §0.3, D37), ``clamp``, ``trunc_i``.

All binary64, no library reductions, no FMA (``mul`` for the product inside ``R``).
"""
from __future__ import annotations

from gpu_sim.fma import mul
from gpu_sim.kernel_jit import device

__all__ = ["q", "round_half_away", "clamp", "trunc_i", "fmax", "fmin"]

TWO52 = 4503599627370496.0  # 2**52
QUANTUM = 1e12               # exactly 1 000 000 000 000.0
I64_LIMIT = 9.223372036854775807e18


@device(inline=True)
def round_half_away(y):
    """``R(y)``: round half away from zero of the exact double; a zero result is ``+0.0`` (D37)."""
    if not (abs(y) < TWO52):          # also true for NaN and ±inf: already integral (or not finite)
        return y
    t = float(int(y))                 # truncation toward zero, exact for |y| < 2**52
    if abs(y - t) >= 0.5:
        if y > 0.0:
            t = t + 1.0
        else:
            t = t - 1.0
    if t == 0.0:
        return 0.0
    return t


@device(inline=True)
def q(x):
    """``q(x) = R(x × 1e12) / 1e12`` (strategy-exits.md §0.3)."""
    return round_half_away(mul(x, QUANTUM)) / QUANTUM


@device(inline=True)
def clamp(x, lo, hi):
    """``lo`` if ``x < lo``, else ``hi`` if ``x > hi``, else ``x`` (§0.2)."""
    if x < lo:
        return lo
    if x > hi:
        return hi
    return x


@device(inline=True)
def fmax(a, b):
    """``max(a, b)`` with Python's semantics (``a`` unless ``b > a``); the builtin does not lower on CUDA."""
    if b > a:
        return b
    return a


@device(inline=True)
def fmin(a, b):
    """``min(a, b)`` with Python's semantics (``a`` unless ``b < a``)."""
    if b < a:
        return b
    return a


@device(inline=True)
def trunc_i(x):
    """Double -> int64 by truncation toward zero, saturating; NaN -> 0 (§0.2, N7)."""
    if x != x:
        return 0
    if x >= I64_LIMIT:
        return 9223372036854775807
    if x <= -I64_LIMIT:
        return -9223372036854775807 - 1
    return int(x)
