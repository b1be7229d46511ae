"""gpu_sim.kernel_arith: q(x) (strategy-exits.md §0.3, D37), clamp, trunc_i — compiled with njit."""
from __future__ import annotations

import math
import struct
from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gpu_sim.kernel_arith import clamp, q, round_half_away, trunc_i


def bits(x: float) -> int:
    return struct.unpack("<q", struct.pack("<d", x))[0]


def ref_q(x: float) -> float:
    """Independent reference: Decimal ROUND_HALF_UP (ties away from zero) of the exact double x*1e12."""
    y = x * 1e12
    if not math.isfinite(y) or abs(y) >= 2.0 ** 52:
        return y / 1e12
    r = float(Decimal(y).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    return (r + 0.0 if r != 0.0 else 0.0) / 1e12


@pytest.mark.parametrize("y, want", [
    (0.5, 1.0), (-0.5, -1.0), (1.5, 2.0), (2.5, 3.0), (-2.5, -3.0), (0.49999999999999994, 0.0),
    (-0.49999999999999994, 0.0), (-0.0, 0.0), (-0.3, 0.0), (4503599627370495.5, 4503599627370496.0),
    (2.0 ** 52 + 1.0, 2.0 ** 52 + 1.0), (-(2.0 ** 53), -(2.0 ** 53)), (1e300, 1e300),
])
def test_round_half_away(y, want):
    got = round_half_away(y)
    assert got == want and bits(got) == bits(want)


def test_round_half_away_non_finite():
    assert round_half_away(math.inf) == math.inf
    assert math.isnan(round_half_away(math.nan))


@pytest.mark.parametrize("x, want", [
    (11.25 * 100.1, 1126.125),                    # §6.4 V1 notional
    (1126.125 * 0.00035, 0.39414375),             # §6.4 V1 fee
    (100.0 * 1.001, 100.1),                       # §6.4 V1 fill
    (-9.309184138327412 * 103.5 * 0.0001, -0.096350055832),  # §6.4 V4 funding delta
])
def test_q_vectors(x, want):
    assert bits(q(x)) == bits(want)


@pytest.mark.parametrize("x", [-0.0, -1e-13, -4.9e-13, 0.0, 4e-13, -(2.0 ** -1074)])
def test_q_zero_is_positive(x):
    """D37: a zero result of q is +0.0 whatever the sign of x."""
    assert bits(q(x)) == bits(0.0)


def test_q_funding_of_long_at_zero_rate():
    assert bits(q((-5.0 * 100.0) * 0.0)) == bits(0.0)


@given(st.floats(allow_nan=False, allow_infinity=False, min_value=-1e9, max_value=1e9))
def test_q_matches_decimal_reference(x):
    assert bits(q(x)) == bits(ref_q(x))


@given(st.integers(min_value=-10 ** 15, max_value=10 ** 15))
def test_q_exact_halves(n):
    """x × 1e12 landing exactly on k + 0.5 rounds away from zero."""
    y = n + 0.5
    x = y / 1e12
    assert bits(q(x)) == bits(ref_q(x))


def test_clamp():
    assert clamp(-1.0, 0.0, 1.0) == 0.0
    assert clamp(2.0, 0.0, 1.0) == 1.0
    assert clamp(0.25, 0.0, 1.0) == 0.25


def test_trunc_i():
    assert trunc_i(2.9) == 2 and trunc_i(-2.9) == -2 and trunc_i(29.99999) == 29
    assert trunc_i(math.nan) == 0
    assert trunc_i(1e300) == 2 ** 63 - 1 and trunc_i(-1e300) == -(2 ** 63)
