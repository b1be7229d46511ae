"""Data model: coercion, read-only arrays, key order, structural errors, fingerprint."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from harness.data.market import Gap, MarketData, Series, symbol_order
from harness.errors import DataError
from tests.harness.data import T0, bars, market


def test_series_coerces_and_freezes() -> None:
    s = Series.build("BTC", "1h", [T0, T0 + 3_600_000], [1, 2], [2, 3], [1, 1], [2, 3], [0, 1])
    assert s.interval_ms == 3_600_000 and len(s) == 2
    assert s.t.dtype == np.int64 and s.o.dtype == np.float64 and s.t_close is None and s.n is None
    assert s.close_times().tolist() == [T0 + 3_600_000, T0 + 7_200_000]
    with pytest.raises(ValueError):
        s.o[0] = 5.0
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.symbol = "ETH"  # type: ignore[misc]


def test_caller_array_stays_writable() -> None:
    o = np.array([1.0, 2.0])
    s = bars(2, o=o)
    assert o.flags.writeable and not s.o.flags.writeable


def test_negative_zero_is_canonicalised() -> None:
    s = bars(2, v=np.array([-0.0, 1.0]))
    assert not np.signbit(s.v[0])


@pytest.mark.parametrize("field, value, match", [
    ("t", [T0, T0 + 0.5], "not an integer"),
    ("t", [True, False], "not numeric"),
    ("o", ["1", "2"], "not numeric"),
    ("o", [1.0], "has 1 rows but t has 2"),
    ("n", [[1, 2]], "1-D"),
])
def test_series_structure_errors(field: str, value: object, match: str) -> None:
    with pytest.raises(DataError, match=match) as e:
        bars(2, **{field: np.array(value) if field != "o" or value != [1.0] else value})
    assert "BTC" in str(e.value)


def test_interval_ms_must_match() -> None:
    with pytest.raises(DataError, match="interval_ms"):
        Series("BTC", "1h", 60_000, [T0], None, [1.0], [1.0], [1.0], [1.0], [1.0], None)


def test_market_sorts_symbols_bytewise_and_sub_by_length() -> None:
    md = market(bars(symbol="b"), bars(symbol="B"), bars(symbol="a"),
                sub={"15m": {"b": bars(symbol="b", interval="15m")}, "3m": {"a": bars(symbol="a", interval="3m")}})
    assert md.symbols() == ("B", "a", "b") == tuple(symbol_order(["b", "a", "B"]))
    assert list(md.sub) == ["3m", "15m"]
    assert md.n_bars() == {"1h": 15, "3m": 5, "15m": 5}


def test_market_structure_errors() -> None:
    with pytest.raises(DataError, match="key each series"):
        MarketData("1h", {"ETH": bars(symbol="BTC")})
    with pytest.raises(DataError, match="key each series"):
        MarketData("1h", {"BTC": bars(interval="3m")})
    with pytest.raises(DataError, match="same length"):
        market(bars(), sub={"60s": {}, "1m": {}})
    with pytest.raises(DataError, match="2 times but 1 rates"):
        market(bars(), funding={"BTC": ([1, 2], [0.0])})


def test_fingerprint_stable_and_sensitive() -> None:
    a = market(bars(), bars(symbol="ETH"), funding={"BTC": ([T0], [1e-5])})
    b = market(bars(symbol="ETH"), bars(), funding={"BTC": ([T0], [1e-5])}, source="elsewhere.db")
    assert a.fingerprint() == b.fingerprint() and len(a.fingerprint()) == 64
    c_up = np.nextafter(bars().c, np.inf)
    assert market(bars(c=c_up), bars(symbol="ETH"), funding={"BTC": ([T0], [1e-5])}).fingerprint() != a.fingerprint()
    assert market(bars(), bars(symbol="ETH")).fingerprint() != a.fingerprint()
    assert market(bars(t_close=False), bars(symbol="ETH"), funding={"BTC": ([T0], [1e-5])}).fingerprint() \
        != a.fingerprint()


def test_fingerprint_uses_interval_length_not_spelling() -> None:
    assert market(bars()).fingerprint() == market(bars(interval="60m"), main_interval="60m").fingerprint()


def test_gap_record() -> None:
    g = Gap("BTC", "1h", T0, T0 + 3 * 3_600_000, 2)
    assert dataclasses.astuple(g) == ("BTC", "1h", T0, T0 + 10_800_000, 2)
