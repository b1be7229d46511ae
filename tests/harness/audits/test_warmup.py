"""Recursive-warm-up audit: finite, sane bar counts; EMA(w) converges in O(w) bars; engine_ref agrees."""
from __future__ import annotations

import numpy as np
import pytest

from harness.audits import (INDICATORS, WindowSet, convergence, default_windows, largest_grid_windows,
                            ref_spot_check, warmup_audit, warmup_details)
from harness.axis_scenarios.builders import synthetic
from harness.engine_inputs import EngineInputs

FAST = "indicators.ema_fast_window"


@pytest.fixture(scope="module")
def market() -> EngineInputs:
    return synthetic(2, 200, 7, (), False)   # 4800 bars: room for EMA(200) to converge exactly


def test_window_sets_from_schema_and_sweep() -> None:
    d, big = default_windows().windows, largest_grid_windows().windows
    assert d["indicators.ema_macro_window"] == 200 and d["indicators.adx_window"] == 14
    assert d["filters.use_stoch_rsi_filter"] == 1
    assert big["indicators.ema_macro_window"] == 260 and big["thresholds.entry.ave_avg_atr_window"] == 80
    assert all(big[p] >= d[p] for p in d)


def test_convergence_counts_a_suffix() -> None:
    full = np.zeros((6, 32))
    late = full.copy()
    late[[0, 2], 0] = 1.0                       # ema_fast differs at bars 0 and 2, then agrees
    late[1, 0] = 1e-12                          # not within 1e-9 of 0.0: the scale is max(|a|, |b|)
    assert convergence(late, full, ("ema_fast",)) == (3, 3)
    late[4, 0] = np.nextafter(0.0, 1.0)
    assert convergence(late, full, ("ema_fast",)) == (5, 5)
    late[5, 0] = -0.0
    assert convergence(late, full, ("ema_fast",)) == (5, None)   # -0.0 is not bit-equal, but within 1e-9


def test_default_windows_converge_within_the_data(market) -> None:
    rows = warmup_audit(market, [default_windows()], starts=(0, 100, 400))
    assert [r.indicator for r in rows] == [name for name, _, _ in INDICATORS]
    assert all(r.bars_rel is not None and r.bars_exact is not None for r in rows), rows
    assert all(r.bars_rel <= r.bars_exact for r in rows)
    by = {r.indicator: r for r in rows}
    assert by["Bollinger bands / width"].bars_exact <= 20 and by["BB width avg / ratio"].bars_exact <= 20 + 30
    assert by["volume SMA / trend"].bars_exact <= 20
    assert by["EMA macro"].bars_exact > by["EMA slow"].bars_exact > by["EMA fast"].bars_exact


def test_full_history_start_needs_no_bars(market) -> None:
    details = warmup_details(market, [default_windows()], starts=(0,))
    assert details and all((d.bars_rel, d.bars_exact) == (0, 0) for d in details)


def test_ema_converges_in_order_w_bars(market) -> None:
    ws = [5, 10, 20, 40, 80]
    sets = [WindowSet(f"ema{w}", {**default_windows().windows, FAST: w}) for w in ws]
    rows = [r for r in warmup_audit(market, sets, starts=(50, 300)) if r.indicator == "EMA fast"]
    exact = [r.bars_exact for r in rows]
    rel = [r.bars_rel for r in rows]
    assert exact == sorted(exact) and rel == sorted(rel)
    for w, e, r in zip(ws, exact, rel):
        assert 5 * (w + 1) <= e <= 25 * (w + 1), (w, e)
        assert 2 * (w + 1) <= r <= 15 * (w + 1), (w, r)


def test_short_history_reports_never(market) -> None:
    rows = warmup_audit(synthetic(1, 20, 7, (), False), [default_windows()], starts=(100,))
    macro = next(r for r in rows if r.indicator == "EMA macro")
    assert (macro.bars_rel, macro.bars_exact, macro.horizon_bars) == (None, None, 380)


def test_engine_ref_recount_agrees_with_gpu_sim(market) -> None:
    checks = ref_spot_check(market, default_windows(), "BTC", 400)
    assert len(checks) == len(INDICATORS) and all(c.agree for c in checks), [c for c in checks if not c.agree]
