"""gpu_sim.sweep_decode: the one decoder of D29 / config-and-axes.md §7.1-§7.2."""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from gpu_sim.layout import load_layout
from gpu_sim.sweep_decode import decode_codes, sweep_columns
from gpu_sim.yaml12 import load_yaml12_file
from harness.errors import SweepError

REPO = Path(__file__).resolve().parents[2]
FLOAT_FREE = "market_regime.auto_reverse_breadth_high"   # float, no range
FLOAT_POS = "trade.leverage"                              # float, (0,inf)
FLOAT_FRAC = "trade.tp_partial_pct"                       # float, [0,1]
INT_AXIS = "trade.entry_cooldown_s"                       # int, [0,1e9]
WINDOW = "indicators.adx_window"                          # int, [2,10000]
BOOL_AXIS = "trade.enable_pyramiding"
ENUM_AXIS = "trade.entry_min_confidence"                  # low|medium|high


@pytest.fixture(scope="module")
def layout():
    return load_layout()


def one(layout, path, value):
    return float(decode_codes(layout, [path], np.array([[value]], dtype=np.float64))[0, 0])


ACCEPT = [
    (FLOAT_FREE, -1e300, -1e300), (FLOAT_FREE, -0.0, -0.0), (FLOAT_FREE, 5e-324, 5e-324),
    (FLOAT_POS, 1e-300, 1e-300), (FLOAT_FRAC, 0.0, 0.0), (FLOAT_FRAC, 1.0, 1.0),
    (INT_AXIS, 0.0, 0.0), (INT_AXIS, -0.0, 0.0), (INT_AXIS, 1e9, 1e9), (INT_AXIS, 42.0, 42.0),
    (WINDOW, 2.0, 2.0), (WINDOW, 10000.0, 10000.0),
    (BOOL_AXIS, 0.0, 0.0), (BOOL_AXIS, -0.0, 0.0), (BOOL_AXIS, 1.0, 1.0),
    (ENUM_AXIS, 0.0, 0.0), (ENUM_AXIS, -0.0, 0.0), (ENUM_AXIS, 1.0, 1.0), (ENUM_AXIS, 2.0, 2.0),
    ("thresholds.entry.macd_hist_entry_mode", 2.0, 2.0),
    ("trade.slippage_bps", 9999.999, 9999.999),
]


@pytest.mark.parametrize("path,code,want", ACCEPT)
def test_accept(layout, path, code, want):
    got = one(layout, path, code)
    assert got == want and math.copysign(1.0, got) == math.copysign(1.0, want)


REJECT = [
    (FLOAT_FREE, math.nan, "finite"), (FLOAT_FREE, math.inf, "finite"), (FLOAT_FREE, -math.inf, "finite"),
    (FLOAT_POS, 0.0, "range"), (FLOAT_POS, -1.0, "range"), (FLOAT_FRAC, 1.0000001, "range"),
    (FLOAT_FRAC, -1e-300, "range"), ("trade.slippage_bps", 10000.0, "range"),
    (INT_AXIS, 1.0000001, "integral"), (INT_AXIS, 20.5, "integral"), (INT_AXIS, math.nan, "integral"),
    (INT_AXIS, math.inf, "integral"), (INT_AXIS, -1.0, "range"), (INT_AXIS, 1e9 + 1, "range"),
    (INT_AXIS, 2.0**63, "int64"), (INT_AXIS, 1e300, "int64"),
    (WINDOW, 1.0, "range"), (WINDOW, 10001.0, "range"),
    (BOOL_AXIS, 0.37, "exactly 0.0"), (BOOL_AXIS, 2.0, "exactly 0.0"), (BOOL_AXIS, -1.0, "exactly 0.0"),
    (BOOL_AXIS, 5e-324, "exactly 0.0"), (BOOL_AXIS, math.nan, "exactly 0.0"), (BOOL_AXIS, 0.9999999999999999, "exactly 0.0"),
    (ENUM_AXIS, 3.0, "exact code"), (ENUM_AXIS, 0.5, "exact code"), (ENUM_AXIS, -1.0, "exact code"),
    (ENUM_AXIS, math.nan, "exact code"), (ENUM_AXIS, math.inf, "exact code"),
]


@pytest.mark.parametrize("path,code,piece", REJECT)
def test_reject(layout, path, code, piece):
    with pytest.raises(SweepError) as err:
        one(layout, path, code)
    msg = str(err.value)
    assert msg.startswith("<sweep>: ") and path in msg and "(config 0)" in msg and piece in msg, msg
    assert repr(float(code)) in msg and "; fix: " in msg


def test_message_names_first_bad_config_and_value(layout):
    codes = np.array([[0.0, 1.0], [1.0, 0.0], [0.5, 1.0], [1.0, 7.0]])
    with pytest.raises(SweepError) as err:
        decode_codes(layout, [BOOL_AXIS, ENUM_AXIS], codes)
    assert str(err.value).startswith(f"<sweep>: {BOOL_AXIS} (config 2) = 0.5: ")


@pytest.mark.parametrize("paths,piece", [
    (["trade.sl_atr_mul"], "did you mean trade.sl_atr_mult?"),
    (["indicators.ave_avg_atr_window"], "did you mean thresholds.entry.ave_avg_atr_window?"),
    (["trade.use_bbo_for_fills"], "engine-only"),
    (["engine.interval"], "engine-only"),
    (["engine.candle_close_grace_ms"], "engine-only"),
    (["watchlist_exclude"], "engine-only"),
    (["trade"], "section"),
    ([BOOL_AXIS, ENUM_AXIS, BOOL_AXIS], "duplicate"),
])
def test_bad_paths(layout, paths, piece):
    with pytest.raises(SweepError, match=piece.replace(".", r"\.").replace("?", r"\?")):
        decode_codes(layout, paths, np.zeros((1, len(paths))))


@pytest.mark.parametrize("codes,piece", [
    (np.array([[True]]), "binary64 numbers"),
    (np.array([["1.0"]]), "binary64 numbers"),
    (np.array([[1.0]], dtype=object), "binary64 numbers"),
    (np.zeros((0, 1)), "empty sweep"),
    (np.zeros((2, 2)), "shape"),
    (np.zeros(1), "shape"),
])
def test_bad_code_arrays(layout, codes, piece):
    with pytest.raises(SweepError, match=piece):
        decode_codes(layout, [BOOL_AXIS], codes)


def test_integer_dtype_and_no_paths(layout):
    got = decode_codes(layout, [INT_AXIS, ENUM_AXIS], np.array([[5, 2]], dtype=np.int64))
    assert got.dtype == np.float64 and got.tolist() == [[5.0, 2.0]]
    empty = decode_codes(layout, [], np.zeros((3, 0)))
    assert empty.shape == (3, 0)


def test_input_not_modified_and_contiguous(layout):
    codes = np.asfortranarray(np.array([[-0.0, -0.0], [1.0, 1.0]]))
    got = decode_codes(layout, [BOOL_AXIS, INT_AXIS], codes)
    assert got.flags["C_CONTIGUOUS"] and math.copysign(1.0, got[0, 0]) == 1.0 and math.copysign(1.0, got[0, 1]) == 1.0
    assert math.copysign(1.0, codes[0, 0]) == -1.0


def test_full_144v_grids_accepted(layout):
    spec = load_yaml12_file(REPO / "sweeps" / "full_144v.yaml")
    paths = [a["path"] for a in spec["axes"]]
    assert len(paths) == 148 and set(paths) == set(layout.swept_fields)
    width = max(len(a["values"]) for a in spec["axes"])
    codes = np.array([[a["values"][r % len(a["values"])] for a in spec["axes"]] for r in range(width)], dtype=float)
    got = decode_codes(layout, paths, codes)
    assert np.array_equal(got, codes)
    assert list(sweep_columns(layout, paths)) == [layout.index[p] for p in paths]


# -- property: any float is accepted iff the kind's rule (and the axis range) holds -----------------

any_float = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0.0, -0.0, 1.0, 2.0, 3.0, -1.0, 0.5, 2.0**63, -(2.0**63), 2.0**63 - 1024, 1e9, 1e9 + 1,
                     10000.0, 10001.0, 5e-324, 1.0000000000000002, 0.9999999999999999]),
    st.integers(-10, 10001).map(float),
)


def _accepted(layout, path, x):
    try:
        return True, one(layout, path, x)
    except SweepError:
        return False, None


@given(x=any_float)
def test_property_float_axis(layout, x):
    ok, got = _accepted(layout, FLOAT_FREE, x)
    assert ok == math.isfinite(x)
    if ok:
        assert got == x and math.copysign(1.0, got) == math.copysign(1.0, x)
    ok, got = _accepted(layout, FLOAT_POS, x)
    assert ok == (math.isfinite(x) and x > 0.0)


@given(x=any_float)
def test_property_int_axis(layout, x):
    rule = math.isfinite(x) and x == math.trunc(x) and 0 <= x <= 1e9
    ok, got = _accepted(layout, INT_AXIS, x)
    assert ok == rule
    if ok:
        assert got == float(int(x)) and math.copysign(1.0, got) == 1.0


@given(x=any_float)
def test_property_bool_axis(layout, x):
    ok, got = _accepted(layout, BOOL_AXIS, x)
    assert ok == (x == 0.0 or x == 1.0)
    if ok:
        assert got == x and math.copysign(1.0, got) == 1.0


@given(x=any_float)
def test_property_enum_axis(layout, x):
    ok, got = _accepted(layout, ENUM_AXIS, x)
    assert ok == (x in (0.0, 1.0, 2.0))
    if ok:
        assert got == x and math.copysign(1.0, got) == 1.0


@pytest.fixture(scope="module")
def free_int_layout(tmp_path_factory):
    p = tmp_path_factory.mktemp("schema") / "schema.csv"
    p.write_text("path,kind,enum_values,default,unit,range,swept,scope,portfolio_scope,used_by,effect\n"
                 "s.n,int,,0,,,yes,strategy,no,,\n")
    return load_layout(p)


@given(x=any_float)
def test_property_int64_bound_without_range(free_int_layout, x):
    rule = math.isfinite(x) and x == math.trunc(x) and -(2**63) <= x < 2**63
    ok, got = _accepted(free_int_layout, "s.n", x)
    assert ok == rule
    if ok:
        assert got == float(int(x))


@given(data=st.lists(st.sampled_from([0.0, 1.0, 0.37, -0.0]), min_size=1, max_size=30))
def test_property_vectorised_equals_scalar(layout, data):
    codes = np.array(data)[:, None]
    bad = [i for i, x in enumerate(data) if x not in (0.0, 1.0)]
    if bad:
        with pytest.raises(SweepError, match=rf"\(config {bad[0]}\)"):
            decode_codes(layout, [BOOL_AXIS], codes)
    else:
        assert decode_codes(layout, [BOOL_AXIS], codes)[:, 0].tolist() == [abs(x) for x in data]
