"""Synthetic market: exact aggregation, determinism, regimes, funding, validity."""
from __future__ import annotations

import numpy as np
import pytest

from harness.data.intervals import interval_ms
from harness.data.synth import REGIMES, symbol_names, synth_market, synth_regimes
from harness.data.validate import validate_market
from harness.errors import DataError

H = 3_600_000


@pytest.fixture(scope="module")
def md():
    return synth_market(n_symbols=4, days=3, seed=5)  # 1m base; 3m, 5m, 15m sub-bars; 1h main


def seq_sum(values: np.ndarray) -> float | int:
    """Left-to-right sum, one addition at a time (what the generator documents)."""
    acc = values[0]
    for x in values[1:]:
        acc = acc + x
    return acc


def assert_aggregates(fine, coarse) -> None:
    f = coarse.interval_ms // fine.interval_ms
    assert len(fine) == f * len(coarse)
    assert np.array_equal(fine.t[::f], coarse.t)
    assert np.array_equal(fine.o[::f], coarse.o) and np.array_equal(fine.c[f - 1::f], coarse.c)
    assert np.array_equal(fine.h.reshape(-1, f).max(axis=1), coarse.h)
    assert np.array_equal(fine.l.reshape(-1, f).min(axis=1), coarse.l)
    for j in range(len(coarse)):
        assert seq_sum(fine.v[j * f:(j + 1) * f]) == coarse.v[j]
        assert seq_sum(fine.n[j * f:(j + 1) * f]) == coarse.n[j]


def test_every_sub_interval_aggregates_exactly_to_main(md) -> None:
    assert list(md.sub) == ["3m", "5m", "15m"] and md.main_interval == "1h"
    for group in md.sub.values():
        for sym, fine in group.items():
            assert_aggregates(fine, md.main[sym])
    for sym in md.symbols():
        assert_aggregates(md.sub["3m"][sym], md.sub["15m"][sym])
        assert_aggregates(md.sub["5m"][sym], md.sub["15m"][sym])


def test_other_main_interval() -> None:
    m = synth_market(n_symbols=2, days=2, seed=1, sub_intervals=("1h", "15m"), main_interval="4h")
    for sym in m.symbols():
        assert_aggregates(m.sub["1h"][sym], m.main[sym])
        assert_aggregates(m.sub["15m"][sym], m.sub["1h"][sym])


def test_bar_invariants_and_validity(md) -> None:
    assert md.gaps == [] and validate_market(md) == []
    for group in [md.main, *md.sub.values()]:
        for s in group.values():
            assert np.array_equal(s.t_close, s.t + s.interval_ms - 1)
            assert np.array_equal(s.o[1:], s.c[:-1])  # continuous path
            assert (s.l > 0).all() and (s.l <= np.minimum(s.o, s.c)).all() and (s.h >= np.maximum(s.o, s.c)).all()
            assert (s.v >= 0).all() and (s.n >= 0).all() and s.t[0] == 1704067200000


def test_symbols() -> None:
    assert symbol_names(1) == ["BTC"] and symbol_names(5) == ["BTC", "ETH", "SOL", "S003", "S004"]
    assert synth_market(5, 1, sub_intervals=()).symbols() == ("BTC", "ETH", "S003", "S004", "SOL")


def _arrays(m):
    for group in [m.main, *m.sub.values()]:
        for s in group.values():
            yield from (getattr(s, f) for f in ("t", "t_close", "o", "h", "l", "c", "v", "n"))
    for t, r in m.funding.values():
        yield from (t, r)


def test_deterministic_per_seed(md) -> None:
    again = synth_market(n_symbols=4, days=3, seed=5)
    assert again.fingerprint() == md.fingerprint()
    assert all(a.tobytes() == b.tobytes() for a, b in zip(_arrays(md), _arrays(again), strict=True))
    assert synth_market(n_symbols=4, days=3, seed=6).fingerprint() != md.fingerprint()


def test_symbol_paths_do_not_depend_on_symbol_count(md) -> None:
    fewer = synth_market(n_symbols=2, days=3, seed=5)
    for sym in fewer.symbols():
        assert np.array_equal(fewer.sub["3m"][sym].c, md.sub["3m"][sym].c)
        assert np.array_equal(fewer.funding[sym][1], md.funding[sym][1])


def test_regime_coverage_over_a_year() -> None:
    reg = synth_regimes(365, seed=7)
    counts = np.bincount(reg, minlength=len(REGIMES))
    assert reg.size == 8760 and (counts > 0).all(), counts
    assert counts[REGIMES.index("crash")] < counts.min(initial=10**9, where=np.arange(4) != 3)


def test_regimes_drive_prices_and_funding() -> None:
    m = synth_market(n_symbols=2, days=365, seed=7, sub_intervals=())
    reg = synth_regimes(365, seed=7)
    btc = m.main["BTC"]
    r = np.log(btc.c) - np.log(btc.o)
    up, down, chop, crash = (reg == REGIMES.index(x) for x in REGIMES)
    assert r[crash].mean() < r[down].mean() < 0 < r[up].mean()
    assert r[crash].std() > r[up].std() > r[chop].std()
    times, rates = m.funding["BTC"]
    assert np.array_equal(times, 1704067200000 + H * np.arange(1, 8761))
    assert rates[up].mean() > 0 > rates[down].mean() and np.abs(rates).max() <= 4e-4
    eth = np.log(m.main["ETH"].c) - np.log(m.main["ETH"].o)
    assert np.corrcoef(eth[1:], r[:-1])[0, 1] > 0.3  # BTC leads by one main bar
    assert np.corrcoef(np.abs(r), btc.v)[0, 1] > 0.2  # volume is higher in volatile bars


@pytest.mark.parametrize("kw, match", [
    ({"n_symbols": 0}, "n_symbols"),
    ({"sub_intervals": ("7m",)}, "divide the main interval"),
    ({"sub_intervals": ("1h",)}, "shorter"),
    ({"sub_intervals": ("3m", "180s")}, "distinct lengths"),
    ({"sub_intervals": ("3M",)}, "grammar"),
    ({"start_ms": 1704067200000 + 60_000}, "multiple of the main interval"),
    ({"days": 0}, "days >= 1"),
])
def test_bad_arguments(kw: dict, match: str) -> None:
    args = {"n_symbols": 2, "days": 1, **kw}
    with pytest.raises(DataError, match=match):
        synth_market(**args)


def test_no_funding_and_custom_start() -> None:
    m = synth_market(1, 1, sub_intervals=("5m",), funding=False, start_ms=0)
    assert m.funding == {} and m.main["BTC"].t[0] == 0 and len(m.sub["5m"]["BTC"]) == 288
    assert interval_ms(m.main_interval) * len(m.main["BTC"]) == 86_400_000
