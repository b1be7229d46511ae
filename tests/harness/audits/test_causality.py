"""Causality audit (D3 truncation invariance, indicator lookahead) and its report.

engine_ref passes on seeded synthetic data with 3m sub-bars and funding (production config and the
defaults); known-bad runners — one that drops the last record decided before the cut, one that peeks
one main bar ahead — are flagged at the right first divergence; the comparator fails on
known-different pairs (STYLE.md 7).
"""
from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from gpu_sim.indicator_sets import compute_indicators
from harness.audits import (CUT_KINDS, Cut, WindowSet, bit_equal, causality_audit, choose_cuts, compare_truncated,
                            default_windows, indicator_lookahead, main_interval_ms, make_runner, warmup_audit)
from harness.audits.causality import END_OF_BACKTEST, SHIPPED
from harness.axis_scenarios.builders import synthetic
from harness.engine_inputs import EngineInputs
from harness.reports.causality_md import render_causality_md, summary_line

HOUR_MS = 3_600_000


@pytest.fixture(scope="module")
def market() -> EngineInputs:
    return synthetic(3, 12, 1, ("3m",), True)   # production config trades here (lookback 30)


@pytest.fixture(scope="module")
def runner():
    return make_runner("ref", lookback=30)


@pytest.fixture(scope="module")
def full_run(market, runner):
    return runner(market, SHIPPED, None)


def rec(ts: int, price: float = 100.0, reason: str = "Medium entry", action: str = "OPEN_LONG") -> dict:
    return {"timestamp_ms": ts, "symbol": "BTC", "action": action, "price": price, "reason": reason}


# --- the comparator on known pairs ------------------------------------------------------------------

def test_bit_equal_known_pairs() -> None:
    assert bit_equal(1.0, 1.0) and bit_equal(math.nan, math.nan) and bit_equal("a", "a") and bit_equal(3, 3)
    assert not bit_equal(0.0, -0.0)
    assert not bit_equal(1.0, math.nextafter(1.0, 2.0))
    assert not bit_equal(20, 20.0)


def test_comparator_fails_on_known_different_pair() -> None:
    full = ([rec(10), rec(20), rec(30, 101.0), rec(50)], [(10, 1.0), (20, 1.0), (30, 2.0)])
    same = compare_truncated(full, ([rec(10), rec(20), rec(30, 101.0), rec(30, 99.0, END_OF_BACKTEST)],
                                    [(10, 1.0), (20, 1.0), (30, 2.0)]), 30, {10, 20, 30})
    assert same == (3, 1, 3, None)
    last_bit = math.nextafter(101.0, 200.0)
    *_, v = compare_truncated(full, ([rec(10), rec(20), rec(30, last_bit)], full[1][:3]), 30, {10, 20, 30})
    assert (v.what, v.index, v.field, v.full_value, v.cut_value, v.at_ms) == ("record", 2, "price", 101.0, last_bit, 30)
    *_, v = compare_truncated(full, ([rec(10), rec(20)], full[1]), 30, {10, 20, 30})
    assert (v.what, v.index, v.field) == ("record", 2, "<missing>")
    *_, v = compare_truncated(full, ([rec(10), rec(20), rec(30, 101.0), rec(30)], full[1]), 30, {10, 20, 30})
    assert (v.what, v.index, v.field, v.cut_value) == ("liquidation", 3, "reason", "Medium entry")
    *_, v = compare_truncated(full, (full[0][:3] + [rec(31, 1.0, END_OF_BACKTEST)], full[1]), 30, {10, 20, 30})
    assert (v.what, v.index, v.field) == ("liquidation", 3, "timestamp_ms")
    *_, v = compare_truncated(full, (full[0][:3], [(10, 1.0), (20, 1.0), (30, 2.5)]), 30, {10, 20, 30})
    assert (v.what, v.index, v.field, v.full_value, v.cut_value) == ("equity", 2, "equity", 2.0, 2.5)
    cut_records = [rec(10), rec(20), rec(30, last_bit)]   # record diverges at τ 30, equity already at τ 20
    *_, v = compare_truncated(full, (cut_records, [(10, 1.0), (20, 0.5)]), 30, {10, 20, 30})
    assert (v.what, v.index, v.at_ms) == ("equity", 1, 20)


# --- engine_ref passes -------------------------------------------------------------------------------

def test_engine_ref_production_config_passes(market, runner, full_run) -> None:
    rows = causality_audit(runner, market, SHIPPED, case="production", n_cuts=12, seed=0)
    assert len(rows) == 12 and all(r.ok for r in rows), [r for r in rows if not r.ok]
    assert set(CUT_KINDS) <= {r.kind for r in rows}
    assert sum(r.records for r in rows) > 100 and any(r.liquidations for r in rows)
    assert any(r["action"] == "FUNDING" for r in full_run[0])


def test_engine_ref_defaults_pass() -> None:
    inputs = synthetic(3, 60, 3, ("3m",), True)   # a slice on which the defaults trade
    rows = causality_audit(make_runner("ref", lookback=100), inputs, None, case="defaults", n_cuts=8, seed=1)
    assert all(r.ok for r in rows) and sum(r.records for r in rows) > 0


def test_cuts_are_seeded_and_spread(market, full_run) -> None:
    a, b = choose_cuts(market, full_run[0], 12, 5), choose_cuts(market, full_run[0], 12, 5)
    assert a == b and len(a) == 12 and a == sorted(a, key=lambda c: c.tau_ms)
    t0 = int(market.main["BTC"]["t"][0])
    assert a[0] == Cut(t0 + HOUR_MS - 1, "before first close")
    assert {c.tau_ms % 180_000 for c in a if c.kind.startswith("sub-bar")} <= {0, 1}


# --- known-bad runners -------------------------------------------------------------------------------

def drop_last_decided(runner):
    """Bad: a truncated run loses its last record decided before the cut."""
    def run(inputs, yaml_path, to_ts):
        trades, curve = runner(inputs, yaml_path, to_ts)
        if to_ts is not None:
            keep = [i for i, r in enumerate(trades) if r["reason"] != END_OF_BACKTEST]
            trades = [r for i, r in enumerate(trades) if not keep or i != keep[-1]]
        return trades, curve
    return run


def visible(inputs: EngineInputs, to_ts: int, step: int) -> EngineInputs:
    main = {s: {f: a[a_t + step <= to_ts] for f, a in arrs.items()}
            for s, arrs in inputs.main.items() for a_t in [arrs["t"]]}
    return dataclasses.replace(inputs, main=main)


def peek_one_bar(runner, step: int):
    """Bad: bar k carries bar k+1's prices (one bar of look-ahead); at a cut the last bar has no next."""
    def run(inputs, yaml_path, to_ts):
        seen = inputs if to_ts is None else visible(inputs, to_ts, step)
        main = {s: {f: (a if f == "t" else np.concatenate([a[1:], a[-1:]])) for f, a in arrs.items()}
                for s, arrs in seen.main.items()}
        return runner(dataclasses.replace(seen, main=main), yaml_path, to_ts)
    return run


def test_dropped_record_is_the_first_divergence(market, runner, full_run) -> None:
    tau = full_run[0][60]["timestamp_ms"]
    prefix = [r for r in full_run[0] if r["timestamp_ms"] <= tau]
    (row,) = causality_audit(drop_last_decided(runner), market, SHIPPED, cuts=[Cut(tau, "record τ")])
    v = row.violation
    assert v is not None and (v.what, v.index, v.at_ms) == ("record", len(prefix) - 1, prefix[-1]["timestamp_ms"])


def test_one_bar_peek_is_flagged_at_the_cut(market, runner) -> None:
    step = main_interval_ms(market)
    bad = peek_one_bar(runner, step)
    trades, _ = bad(market, SHIPPED, None)
    def still_open(o: dict) -> bool:
        tau = (o["timestamp_ms"] // HOUR_MS + 1) * HOUR_MS
        return not any(r["symbol"] == o["symbol"] and r["action"].startswith("CLOSE")
                       and o["timestamp_ms"] < r["timestamp_ms"] <= tau for r in trades)
    opens = [r for r in trades if r["action"].startswith("OPEN") and still_open(r)]
    tau = (opens[len(opens) // 2]["timestamp_ms"] // HOUR_MS + 1) * HOUR_MS   # next main close: marked there
    (row,) = causality_audit(bad, market, SHIPPED, cuts=[Cut(tau, "main close")])
    assert row.violation is not None and row.violation.at_ms == tau   # nothing before the peeked bar differs


# --- indicator lookahead -----------------------------------------------------------------------------

def test_gpu_sim_indicators_are_causal() -> None:
    rows = indicator_lookahead(synthetic(3, 30, 7, (), False), n_cuts=5, seed=0)
    assert rows and all(r.ok for r in rows)
    assert {r.set_name for r in rows} == {"default", "largest grid (full_144v)"} and 0 in {r.cut_bar for r in rows}


def peeking_compute(windows, bars):
    """Bad precompute: bar k reads bar k+1's close (each row's last bar keeps its own)."""
    c = np.array(bars.c)
    for s, n in enumerate(bars.n_bars):
        c[s, :n - 1] = c[s, 1:n]
    c.flags.writeable = False                  # same array type as pack_bars: no new numba specialisation
    return compute_indicators(windows, dataclasses.replace(bars, c=c))


def test_peeking_precompute_is_flagged_at_the_cut_bar() -> None:
    rows = indicator_lookahead(synthetic(2, 10, 7, (), False), [default_windows()], n_cuts=4, seed=0,
                               compute=peeking_compute)
    assert rows and all(r.violation is not None for r in rows)
    assert all((r.violation.index, r.violation.field) == (r.cut_bar, "ema_fast") for r in rows)


# --- report ------------------------------------------------------------------------------------------

def test_report_renders_summary_and_tables(market, runner, full_run) -> None:
    cuts = causality_audit(drop_last_decided(runner), market, SHIPPED, case="bad",
                           cuts=[Cut(full_run[0][40]["timestamp_ms"], "record τ")])
    ind = indicator_lookahead(synthetic(1, 10, 7, (), False), [default_windows()], n_cuts=2)
    warm = warmup_audit(synthetic(1, 40, 7, (), False), [WindowSet("tiny", default_windows().windows)], (0, 50))
    text = render_causality_md(cuts, ind, warm, meta={"seed": 0})
    n = len(cuts) + len(ind)
    assert summary_line(cuts, ind, warm).startswith(f"causality: {n} cuts, 1 violations; warm-up: ")
    assert "(worst: EMA macro, ema_macro=200)" in text and "never within 910 bars to 1e-9" in text
    assert "| case " in text and "✗ record #" in text and "### tiny (starts S = 50)" in text
