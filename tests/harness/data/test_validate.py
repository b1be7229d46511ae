"""Every data rule raises its own DataError naming source, symbol, interval, row and value."""
from __future__ import annotations

import numpy as np
import pytest

from harness.data.intervals import INT64_MAX
from harness.data.market import Gap
from harness.data.validate import ascii_upper, missing_sub_bars, validate_market, validate_series
from harness.errors import DataError
from tests.harness.data import H, T0, bars, market

M3 = 180_000


def fails(*series, sub=None, funding=None, require=()) -> str:
    """The DataError message of validating a market over ``series``."""
    with pytest.raises(DataError) as e:
        validate_market(market(*series, sub=sub, funding=funding), require_symbols=require)
    msg = str(e.value)
    assert msg.startswith("test.json: ") and "Fix:" in msg
    return msg


def names(msg: str, *parts: str) -> None:
    for p in parts:
        assert p in msg, (p, msg)


def test_valid_market_passes_without_gaps() -> None:
    md = market(bars(), bars(symbol="ETH"), sub={"3m": {"BTC": bars(20, interval="3m")}},
                funding={"BTC": ([T0, T0 + H], [1e-5, -2e-5])})
    assert validate_market(md, require_symbols=("BTC",)) == []


def test_unsorted() -> None:
    t = T0 + np.array([0, 2, 1, 3, 4]) * H
    names(fails(bars(t=t)), "symbol 'BTC'", "interval 1h", "row 2", f"t={T0 + H}", "sorted")


def test_duplicate() -> None:
    t = T0 + np.array([0, 1, 1, 2, 3]) * H
    names(fails(bars(t=t)), "'BTC'", "row 2", f"t={T0 + H}", "unique")


def test_overlap_main_and_sub() -> None:
    t = T0 + np.array([0, H, H + H // 2, 3 * H, 4 * H])
    names(fails(bars(t=t)), "row 2", "1800000 ms apart", "overlap", "D53.4")
    sub = bars(4, "ETH", "3m", t=T0 + np.array([0, M3, M3 + 60_000, 3 * M3]))
    names(fails(bars(), sub={"3m": {"ETH": sub}}), "'ETH'", "interval 3m", "row 2", "overlap")


def test_main_phase() -> None:
    msg = fails(bars(t0=T0 + H // 2))
    names(msg, "row 0", "remainder 1800000", "multiples of the main interval", "D53.5", "5 rows")


def test_sub_phase() -> None:
    sub = bars(3, "BTC", "3m", t0=T0 + 60_000)
    names(fails(bars(), sub={"3m": {"BTC": sub}}), "interval 3m", "row 0", "remainder 60000", "D53.3")


def test_close_time_overflow() -> None:
    names(fails(bars(1, t0=INT64_MAX - 100, t_close=False)), "row 0", str(INT64_MAX - 100), "int64")


def test_t_close_off_by_one() -> None:
    s = bars()
    names(fails(bars(t_close=s.t + H)), "row 0", f"t_close={T0 + H}", f"expected {T0 + H - 1}", "D40")


def test_t_close_of_a_longer_interval() -> None:
    """D40's case: 1h bars loaded under a 30m main interval."""
    t = T0 + np.arange(5, dtype=np.int64) * H
    s = bars(interval="30m", t=t, t_close=t + H - 1)
    with pytest.raises(DataError) as e:
        validate_market(market(s, main_interval="30m"))
    names(str(e.value), "interval 30m", "row 0", f"t_close={T0 + H - 1}", "D40")


@pytest.mark.parametrize("field", ["o", "h", "l", "c", "v"])
@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
def test_non_finite(field: str, value: float) -> None:
    arr = getattr(bars(), field).copy()
    arr[3] = value
    names(fails(bars(**{field: arr})), "row 3", f"{field}={float(value)!r}", "finite", "D33")


def _with(field: str, row: int, value: float, **more) -> str:
    s = bars()
    arrays = {f: getattr(s, f).copy() for f in ("o", "h", "l", "c", "v")}
    arrays[field][row] = value
    for k, v in more.items():
        arrays[k][row] = v
    return fails(bars(**arrays))


def test_low_not_positive() -> None:
    names(_with("l", 3, 0.0), "row 3", "l=0.0", "low must be > 0")
    names(_with("l", 1, -2.0), "row 1", "l=-2.0", "low must be > 0")


def test_close_below_minimum() -> None:
    msg = fails(bars(2, o=[5e-10, 5e-10], h=[5e-10, 5e-10], l=[1e-10, 1e-10], c=[5e-10, 2e-9]))
    names(msg, "row 0", "c=5e-10", "close must be >= 1e-9", "D53.2")


def test_low_above_open_or_close() -> None:
    names(_with("l", 1, 101.2), "row 1", "l=101.2", "low must be <= min(open, close)")


def test_high_below_open_or_close() -> None:
    names(_with("h", 4, 103.9), "row 4", "h=103.9", "high must be >= max(open, close)")


def test_negative_volume() -> None:
    names(_with("v", 2, -1.0), "row 2", "v=-1.0", "volume must be >= 0")


def test_count_of_offending_rows() -> None:
    names(fails(bars(v=np.array([1.0, -1.0, -1.0, 1.0, -3.0]))), "row 1", "3 rows break this rule")


@pytest.mark.parametrize("where", ["main", "sub", "funding"])
def test_symbol_collision(where: str) -> None:
    kw = {"main": {}, "sub": {"sub": {"3m": {"btc": bars(symbol="btc", interval="3m")}}},
          "funding": {"funding": {"Btc": ([T0], [0.0])}}}[where]
    series = (bars(), bars(symbol="btc")) if where == "main" else (bars(),)
    msg = fails(*series, **kw)
    names(msg, "'BTC'", "collide under ASCII upper-casing", "D53.1")


def test_collision_uses_ascii_mapping_only() -> None:
    assert "ı".upper() == "I" and ascii_upper("ı") == "ı" and ascii_upper("sol-ß") == "SOL-ß"
    validate_market(market(bars(symbol="I"), bars(symbol="ı"), bars(symbol="SS"), bars(symbol="ß")))


@pytest.mark.parametrize("times, rates, row, text, rule", [
    ([T0, -5], [0.0, 0.0], 1, "time=-5", ">= 0"),
    ([T0, T0, T0 + H], [0.0, 0.0, 0.0], 1, f"time={T0}", "strictly increasing"),
    ([T0 + H, T0], [0.0, 0.0], 1, f"time={T0}", "strictly increasing"),
    ([T0, T0 + H], [1e-5, np.nan], 1, "rate=nan", "finite"),
    ([T0, T0 + H], [np.inf, 0.0], 0, "rate=inf", "finite"),
])
def test_funding_rows(times, rates, row, text, rule) -> None:
    msg = fails(bars(), funding={"ETH": (times, rates)})
    names(msg, "funding symbol 'ETH'", f"row {row}", text, rule, "D41")


def test_funding_times_must_be_integers() -> None:
    with pytest.raises(DataError, match="not an integer"):
        market(bars(), funding={"ETH": ([T0 + 0.5], [0.0])})


def test_required_symbol() -> None:
    names(fails(bars(symbol="ETH"), require=("BTC",)), "required symbol 'BTC'", "['ETH']")
    validate_market(market(bars(symbol="btc")), require_symbols=("BTC",))  # ASCII upper-case (D48)
    names(fails(bars(symbol="ETH"), bars(0), require=("BTC",)), "required symbol 'BTC'")


def test_gaps_are_reported_not_errors() -> None:
    t = T0 + np.array([0, 1, 4, 5, 7]) * H
    sub = bars(4, "BTC", "3m", t=T0 + np.array([0, 1, 2, 10]) * M3)
    gaps = validate_market(market(bars(t=t), sub={"3m": {"BTC": sub}}))
    assert gaps == [Gap("BTC", "1h", T0 + H, T0 + 4 * H, 2), Gap("BTC", "1h", T0 + 5 * H, T0 + 7 * H, 1),
                    Gap("BTC", "3m", T0 + 2 * M3, T0 + 10 * M3, 7)]


def test_missing_sub_bars() -> None:
    md = market(bars(), bars(symbol="ETH"), sub={"3m": {"BTC": bars(symbol="BTC", interval="3m")}})
    with pytest.raises(DataError) as e:
        validate_market(md, active_sub_intervals=("3m",))
    names(str(e.value), "['ETH']", "D53.18", "allow_missing_sub_bars")
    assert missing_sub_bars(md, "180s", allow=True) == ("ETH",)  # found by length (D39)
    assert missing_sub_bars(md, "3m", universe=("BTC",)) == ()
    assert validate_market(md, active_sub_intervals=("3m",), allow_missing_sub_bars=True) == []


def test_validate_series_source_and_role() -> None:
    with pytest.raises(DataError, match=r"^x\.csv: symbol 'S', interval 5m, row 0: .*D53\.3"):
        validate_series(bars(2, "S", "5m", t0=T0 + 1000), source="x.csv", role="sub")
