"""The one decoder of D29: accept/reject table and round-trip properties."""
from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.decode import decode_value, encode_value
from harness.errors import SweepError
from harness.schema import load_schema

AX = load_schema().by_path

# (path, code, expected native value or SweepError)
TABLE = [
    ("trade.enable_pyramiding", 0.0, False),
    ("trade.enable_pyramiding", -0.0, False),
    ("trade.enable_pyramiding", 1.0, True),
    ("trade.enable_pyramiding", 0.37, SweepError),      # the old factory's 0.37 -> true
    ("trade.enable_pyramiding", 2.0, SweepError),
    ("trade.entry_min_confidence", 0.0, "low"),
    ("trade.entry_min_confidence", 2.0, "high"),
    ("trade.entry_min_confidence", 3.0, SweepError),
    ("trade.entry_min_confidence", 1.5, SweepError),
    ("thresholds.entry.macd_hist_entry_mode", 1.0, "sign"),
    ("indicators.ema_fast_window", 20.0, 20),
    ("indicators.ema_fast_window", 20.5, SweepError),
    ("indicators.ema_fast_window", 1.0000001, SweepError),
    ("indicators.ema_fast_window", 0.0, SweepError),     # windows >= 1 (D32)
    ("indicators.adx_window", 1.0, SweepError),          # adx_window >= 2 (D53.10)
    ("trade.sl_atr_mult", 1.25, 1.25),
    ("trade.sl_atr_mult", math.nan, SweepError),
    ("trade.sl_atr_mult", math.inf, SweepError),
    ("trade.slippage_bps", 10000.0, SweepError),         # D42
    ("trade.leverage", 0.0, SweepError),                 # D42
    ("trade.tp_partial_pct", 1.5, SweepError),           # D52
    ("trade.leverage_max_cap", -1.0, -1.0),              # <= 0 means no cap
]


@pytest.mark.parametrize("path,code,expected", TABLE, ids=[f"{p}={c}" for p, c, _ in TABLE])
def test_decode_table(path: str, code: float, expected: object) -> None:
    if expected is SweepError:
        with pytest.raises(SweepError) as err:
            decode_value(AX[path], code)
        assert path in str(err.value) and "fix:" in str(err.value)
    else:
        got = decode_value(AX[path], code)
        assert got == expected and type(got) is type(expected)


def test_non_numbers_are_rejected() -> None:
    for bad in (True, "1.0", None):
        with pytest.raises(SweepError, match="must be numbers"):
            decode_value(AX["trade.sl_atr_mult"], bad)  # type: ignore[arg-type]


@given(st.floats(allow_nan=True, allow_infinity=True))
def test_bool_accepts_exactly_zero_and_one(x: float) -> None:
    axis = AX["trade.enable_partial_tp"]
    if x in (0.0, 1.0):
        assert decode_value(axis, x) is (x == 1.0)
    else:
        with pytest.raises(SweepError):
            decode_value(axis, x)


@given(st.sampled_from([a for a in load_schema().swept]), st.data())
def test_encode_decode_round_trip(axis, data) -> None:
    from harness.generate import non_default_value, sweep_grids
    import random
    grid = sweep_grids()[axis.path]
    value = non_default_value(axis, grid, random.Random(data.draw(st.integers(0, 10**6))))
    assert decode_value(axis, encode_value(axis, value)) == value
