"""q(x) and the arithmetic helpers of strategy-exits.md §0.2-§0.3 (DECISIONS.md D23, D37, D45)."""
from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine_ref.arith import (INT64_MAX, INT64_MIN, TWO_POW_52, clamp, q, round_half_away_from_zero,
                              sequential_sum, trunc_i)

R = round_half_away_from_zero


def is_plus_zero(x: float) -> bool:
    return x == 0.0 and math.copysign(1.0, x) == 1.0


# --- R(y): round half away from zero (§0.3) ------------------------------------------------------

@pytest.mark.parametrize("y, expected", [
    (2.5, 3.0), (-2.5, -3.0),          # banker's rounding would give 2 / -2
    (0.5, 1.0), (-0.5, -1.0),
    (1.4999999999999998, 1.0), (-1.4999999999999998, -1.0),
    (3.0, 3.0), (-7.0, -7.0),
    (1234567.5, 1234568.0),
    (4503599627370495.5, 4503599627370496.0),  # largest half below 2^52
])
def test_R_rounds_half_away_from_zero(y: float, expected: float) -> None:
    assert R(y) == expected


def test_R_is_not_bankers_rounding() -> None:
    assert R(2.5) == 3.0 and round(2.5) == 2
    assert R(-2.5) == -3.0 and round(-2.5) == -2


def test_R_of_0_49999999999999994_is_zero_not_floor_y_plus_half() -> None:
    y = 0.49999999999999994  # the largest double below 0.5
    assert math.floor(y + 0.5) == 1.0  # the trap named in §0.3
    assert is_plus_zero(R(y))


def test_R_keeps_values_at_or_beyond_2_pow_52() -> None:
    y = TWO_POW_52 + 1.0  # odd integer: y + 0.5 is not representable
    assert math.floor(y + 0.5) == TWO_POW_52 + 2.0  # the other trap named in §0.3
    assert R(y) == y
    assert R(-y) == -y
    assert R(math.inf) == math.inf and R(-math.inf) == -math.inf
    assert math.isnan(R(math.nan))


@pytest.mark.parametrize("y", [-0.0, 0.0, -0.4, -0.49999999999999994, 0.3, -1e-300, 5e-324])
def test_R_zero_result_is_plus_zero_D37(y: float) -> None:
    assert is_plus_zero(R(y))


# --- q(x) (§0.3, D37) ----------------------------------------------------------------------------

@pytest.mark.parametrize("x", [-0.0, -(+0.0), -4e-13, -4.999e-13, 4e-13, 0.0])
def test_q_zero_result_is_plus_zero_D37(x: float) -> None:
    assert is_plus_zero(q(x))


def test_q_D37_cases_named_in_the_spec() -> None:
    # funding delta of a LONG at rate 0.0: q(((-size) * mark) * 0.0) = q(-0.0)
    assert is_plus_zero(q(((-2.0) * 103.5) * 0.0))
    # pnl of a SHORT closed exactly at its entry price: q(-(+0.0))
    raw = (50.0 - 50.0) * 2.0
    assert is_plus_zero(q(-raw))
    # a loss smaller than 5e-13 rounds to zero
    assert is_plus_zero(q(-4.9e-13))


def test_q_half_away_from_zero_at_1e_minus_12() -> None:
    assert q(1.5e-12) == 2e-12
    assert q(-1.5e-12) == -2e-12
    assert q(2.5e-12) == 3e-12
    assert q(-2.5e-12) == -3e-12


# The worked vectors of strategy-exits.md §6.4 that are a single q() of given operands.
@pytest.mark.parametrize("value, expected", [
    (100.0 * (1.0 + 0.001), 100.1),                                  # V1 fill
    (11.25 * 100.1, 1126.125),                                       # V1 n
    (1126.125 * 0.00035, 0.39414375),                                # V1 fee
    (102.0 * (1.0 + 0.001), 102.102),                                # V2 fill
    (7.368368276654411 * 102.102, 752.325137782969),                 # V2 n
    (752.325137782969 * 0.00035, 0.263313798224),                    # V2 fee
    (104.0 * (1.0 - 0.001), 103.896),                                # V3 fill
    (18.61836827665441 * 0.5, 9.309184138327),                       # V3 closed
    (103.896 * 9.309184138327, 967.186995235622),                    # V3 n
    ((103.896 - 100.89230752505627) * 9.309184138327, 27.961926344158),  # V3 pnl
    (967.186995235622 * 0.00035, 0.338515448332),                    # V3 fee
    (27.961926344158 - 0.338515448332, 27.623410895826),             # V3 cash
    (((-9.309184138327412) * 103.5) * 0.0001, -0.096350055832),      # V4 funding delta
    (103.0 * (1.0 - 0.001), 102.897),                                # V5 fill
    (102.897 * 9.309184138327412, 957.887120281476),                 # V5 n
    (18.662051389970568, 18.662051389971),                           # V5 pnl
    (957.887120281476 * 0.00035, 0.335260492099),                    # V5 fee
    (18.662051389971 - 0.335260492099, 18.326790897872),             # V5 cash
    (50.0 * (1.0 - 0.001), 49.95),                                   # V6 short open fill
    (2.0 * 49.95, 99.9),                                             # V6 n
    (99.9 * 0.00035, 0.034965),                                      # V6 fee
    (48.0 * (1.0 + 0.001), 48.048),                                  # V6 close fill
    (-((48.048 - 49.95) * 2.0), 3.804),                              # V6 pnl q(-raw)
    (96.096 * 0.00035, 0.0336336),                                   # V6 close fee
    (3.804 - 0.0336336, 3.7703664),                                  # V6 cash
])
def test_q_reproduces_the_worked_vectors_of_exits_6_4(value: float, expected: float) -> None:
    assert q(value) == expected


@given(st.floats(min_value=-1e6, max_value=1e6, allow_nan=False))
def test_q_is_idempotent_and_odd(x: float) -> None:
    once = q(x)
    assert q(once) == once
    assert q(-x) == (-once if once != 0.0 else 0.0)
    assert abs(once - x) <= 0.5e-12 + 1e-15 * abs(x)


# --- clamp, trunc_i, sequential_sum (§0.2, N3, N7, D45) -------------------------------------------

def test_clamp_order_of_tests() -> None:
    assert clamp(-1.0, 0.0, 1.0) == 0.0
    assert clamp(2.0, 0.0, 1.0) == 1.0
    assert clamp(0.25, 0.0, 1.0) == 0.25
    assert clamp(5.0, 3.0, 3.0) == 3.0


@pytest.mark.parametrize("x, expected", [
    (2.9, 2), (-2.9, -2), (0.999, 0), (-0.999, 0), (39.99999, 39),
    (math.nan, 0), (math.inf, INT64_MAX), (-math.inf, INT64_MIN),
    (1e19, INT64_MAX), (-1e19, INT64_MIN), (9.2e18, 9200000000000000000),
])
def test_trunc_i_truncates_toward_zero_and_saturates(x: float, expected: int) -> None:
    assert trunc_i(x) == expected


def test_sequential_sum_is_a_plain_left_to_right_loop() -> None:
    tiny = 3 * 2.0**-55  # below half an ulp of 1.0: each addition to 1.0 rounds back to 1.0
    values = [1.0] + [tiny] * 7
    assert sequential_sum(values) == 1.0
    assert math.fsum(values) != 1.0  # the compensated/exact sum differs: never use it (D45)
    assert sequential_sum([]) == 0.0 and is_plus_zero(sequential_sum([]))
    assert sequential_sum([0.1, 0.2, 0.3]) == (0.1 + 0.2) + 0.3
