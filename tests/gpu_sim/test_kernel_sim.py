"""simulate_cpu end to end on the seeded synthetic market: smoke (defaults trade), every entry/exit mode,
prange batch == single-config runs, causality under to_ts truncation (D3), accounting identity
(balance moves only by fees, realised cash and funding; D26), metrics recomputed from the records and
the equity curve (§6.8, D46)."""
from __future__ import annotations

import math

import numpy as np
import pytest

from gpu_sim.config_loader import load_params
from gpu_sim.kernel_arith import q
from gpu_sim.market_arrays import pack_inputs
from gpu_sim.simulate_cpu import RunParams, simulate_cpu
from harness.data import synth_market
from harness.engine_inputs import engine_inputs

from .kernel_cases import same

SUBS = ("5m", "15m")
#: Four configs: defaults; medium confidence; low confidence with pullback + slow-drift modes; the same
#: without the RSI exit and with a 0.5 partial at a separate 2 ATR level.
PATHS = ["trade.entry_min_confidence", "thresholds.entry.enable_pullback_entries",
         "thresholds.entry.enable_slow_drift_entries", "trade.enable_rsi_overextension_exit",
         "trade.tp_partial_atr_mult"]
CODES = np.array([[2, 0, 0, 1, 0.0], [1, 0, 0, 1, 0.0], [0, 1, 1, 1, 0.0], [0, 1, 1, 0, 2.0]], float)
MODES = [("", ""), ("15m", ""), ("", "5m"), ("15m", "5m"), ("5m", "5m")]


@pytest.fixture(scope="module")
def market():
    md = synth_market(n_symbols=6, days=45, seed=11, sub_intervals=SUBS)
    return pack_inputs(engine_inputs(md, sub_intervals=SUBS))


def batch_for(market, exit_iv="", entry_iv="", codes=CODES):
    b = load_params(None, list(market.symbols), sweep_paths=PATHS, sweep_codes=codes)
    object.__setattr__(b, "engine", {**b.engine, "engine.exit_interval": exit_iv,
                                     "engine.entry_interval": entry_iv})
    return b


def key(rec):
    return tuple(rec.values())


@pytest.fixture(scope="module")
def runs(market):
    return {m: simulate_cpu(batch_for(market, *m), market, RunParams(), record_capacity=20000) for m in MODES}


def test_defaults_trade():
    """Smoke: the schema defaults (High-confidence entries only, lookback 200) trade on 120 days."""
    md = synth_market(n_symbols=8, days=120, seed=7, sub_intervals=())
    mk = pack_inputs(engine_inputs(md))
    r = simulate_cpu(load_params(None, list(mk.symbols)), mk, RunParams())
    m = r.metrics_of(0)
    assert m["total_trades"] >= 2 and m["n_records"] >= 4 and not m["records_overflow"]
    assert m["final_balance"] != 10000.0 and m["n_equity_samples"] == 120 * 24


@pytest.mark.parametrize("mode", MODES)
def test_every_mode_trades(runs, mode):
    r = runs[mode]
    recs = r.records(2)
    assert r.metrics_of(2)["total_trades"] > 20
    actions = {x["action"] for x in recs}
    assert {"OPEN_LONG", "CLOSE_LONG", "FUNDING"} <= actions
    sub_open = any(x["reason"].endswith("(sub-bar)") for x in recs if x["action"].startswith("OPEN"))
    assert sub_open == (mode[1] != "")
    assert all(x["timestamp_ms"] <= y["timestamp_ms"] for x, y in zip(recs, recs[1:]))


def test_batch_equals_single_config_runs(market, runs):
    full = runs[("15m", "5m")]
    for c in range(CODES.shape[0]):
        one = simulate_cpu(batch_for(market, "15m", "5m", CODES[c:c + 1]), market, RunParams(),
                           record_capacity=20000)
        assert one.records(0) == full.records(c)
        np.testing.assert_array_equal(one.metrics[0], full.metrics[c])
        np.testing.assert_array_equal(one.equity[0], full.equity[c])


def test_deterministic(market, runs):
    again = simulate_cpu(batch_for(market, "15m", "5m"), market, RunParams(), record_capacity=20000)
    np.testing.assert_array_equal(again.metrics, runs[("15m", "5m")].metrics)
    np.testing.assert_array_equal(again.rec_f, runs[("15m", "5m")].rec_f)


@pytest.mark.parametrize("mode", [("", ""), ("15m", "5m")])
def test_causality_under_to_ts(market, runs, mode):
    """D3: the run with to_ts = τ* yields the full run's records with timestamp ≤ τ*, then only its own
    end-of-data records; equity samples at main closes ≤ τ* are identical."""
    full = runs[mode]
    recs = full.records(2)
    times = sorted({x["timestamp_ms"] for x in recs})
    picks = [times[len(times) // 7], times[len(times) // 3] + 1, times[len(times) // 2] - 60_000,
             times[(4 * len(times)) // 5]]
    for tau in picks:
        cut = simulate_cpu(batch_for(market, *mode, CODES[2:3]), market, RunParams(to_ts=tau),
                           record_capacity=20000)
        got = cut.records(0)
        want = [x for x in recs if x["timestamp_ms"] <= tau]
        assert got[:len(want)] == want
        tail = got[len(want):]
        assert all(x["reason"] == "End of Backtest" and x["timestamp_ms"] == tau for x in tail)
        fc = dict(full.equity_curve(2))
        for t, v in cut.equity_curve(0):
            if t in fc:
                assert same(v, fc[t])
            else:
                assert t == tau


@pytest.mark.parametrize("mode", MODES)
def test_accounting_identity(runs, mode):
    """Each record's balance = previous balance − fee (open/add), + q(pnl − fee) (exits), + pnl (funding)."""
    r = runs[mode]
    for c in range(CODES.shape[0]):
        bal = 10000.0
        for x in r.records(c):
            a = x["action"]
            if a.startswith(("OPEN", "ADD")):
                bal = bal - x["fee_usd"]
                assert x["pnl"] == 0.0
            elif a.startswith(("REDUCE", "CLOSE")):
                bal = bal + q(x["pnl"] - x["fee_usd"])
            else:
                bal = bal + x["pnl"]
                assert x["fee_usd"] == 0.0
            assert same(bal, x["balance"])
        assert same(bal, r.metrics_of(c)["final_balance"])


def host_metrics(records, curve, initial):
    """§6.8 / D46 recomputed on the host with explicit loops (independent of the kernel code)."""
    closes = [x for x in records if x["action"].startswith(("CLOSE", "REDUCE"))]
    n = len(closes)
    wins = [x["pnl"] for x in closes if x["pnl"] > 0]
    losses = [x["pnl"] for x in closes if x["pnl"] < 0]
    gp = 0.0
    for v in wins:
        gp = gp + v
    gl = 0.0
    for v in losses:
        gl = gl + v
    tot = 0.0
    for x in closes:
        tot = tot + x["pnl"]
    fees = 0.0
    for x in records:
        fees = fees + x["fee_usd"]
    peak = curve[0][1] if curve else 0.0
    mdd = 0.0
    mddp = 0.0
    for _, v in curve:
        peak = max(peak, v)
        dd = peak - v
        mdd = max(mdd, dd)
        mddp = max(mddp, dd / peak if peak > 1e-12 else 0.0)
    days = {}
    for t, v in curve:
        days[t // 86_400_000] = v
    b = [days[d] for d in sorted(days)]
    m = len(b) - 1
    rets = [((b[i] - b[i - 1]) / b[i - 1]) if abs(b[i - 1]) > 1e-12 else 0.0 for i in range(1, len(b))]
    sharpe = 0.0
    if m >= 1:
        s = 0.0
        for r in rets:
            s = s + r
        mean = s / float(m)
        v = 0.0
        for r in rets:
            v = v + (r - mean) * (r - mean)
        std = math.sqrt(v / float(m))
        sharpe = 0.0 if std < 1e-12 else (mean / std) * math.sqrt(365.0)
    final = records[-1]["balance"] if records else initial
    pf = gp / abs(gl) if abs(gl) > 1e-12 else (math.inf if gp > 0 else 0.0)
    return {"final_balance": final, "total_trades": n, "total_wins": len(wins), "total_losses": len(losses),
            "win_rate": len(wins) / float(n) if n else 0.0, "gross_profit": gp, "gross_loss": gl,
            "profit_factor": pf, "avg_trade_pnl": tot / float(n) if n else 0.0,
            "avg_win": gp / float(len(wins)) if wins else 0.0, "avg_loss": gl / float(len(losses)) if losses else 0.0,
            "total_fees": fees, "max_drawdown_usd": mdd, "max_drawdown_pct": mddp, "sharpe_ratio": sharpe,
            "total_pnl": final - initial, "n_equity_samples": len(curve)}


@pytest.mark.parametrize("mode", [("", ""), ("15m", "5m")])
def test_metrics_match_records(runs, mode):
    r = runs[mode]
    for c in range(CODES.shape[0]):
        got = r.metrics_of(c)
        want = host_metrics(r.records(c), r.equity_curve(c), 10000.0)
        for k, v in want.items():
            assert got[k] == v or same(got[k], v), (c, k, got[k], v)


#: Configs sharing context groups (indicator sets) and signal groups (sets + generate_signal params) in
#: several combinations: exit/sizing axes only (shared signals), entry axes (own signals), indicator
#: windows (own context), BTC alignment and the regime gate (context-dependent signals and transforms).
SHARE_PATHS = ["indicators.ema_slow_window", "thresholds.entry.min_adx", "trade.sl_atr_mult",
               "filters.require_btc_alignment", "market_regime.enable_regime_gate", "trade.entry_min_confidence"]
SHARE_CODES = np.array([[50, 22.0, 2.0, 1, 0, 0], [50, 22.0, 1.5, 1, 0, 0], [50, 22.0, 3.0, 1, 1, 0],
                        [50, 18.0, 2.0, 1, 0, 0], [30, 22.0, 2.0, 1, 0, 0], [30, 22.0, 2.5, 0, 0, 0],
                        [50, 22.0, 2.0, 1, 0, 0], [30, 18.0, 1.0, 0, 1, 0]], float)


@pytest.mark.parametrize("mode", [("", ""), ("15m", ""), ("15m", "5m")])
def test_shared_tables_equal_per_config(market, monkeypatch, mode):
    """The context and signal tables precomputed per group of configs give exactly what the kernel
    computes per config (TABLE_BUDGET_BYTES = 0 disables the tables)."""
    import gpu_sim.simulate_cpu as sc

    b = load_params(None, list(market.symbols), sweep_paths=SHARE_PATHS, sweep_codes=SHARE_CODES)
    object.__setattr__(b, "engine", {**b.engine, "engine.exit_interval": mode[0], "engine.entry_interval": mode[1]})
    run = RunParams(lookback=60)
    tabled = simulate_cpu(b, market, run, record_capacity=20000)
    k = sc.prepare_run(market, dict(b.engine), run)
    from gpu_sim.indicator_sets import compute_indicators, dedup_sets
    sets = dedup_sets(b)
    ind = compute_indicators(sets.windows, market.main, sets.needed)
    t = sc.shared_tables(b.params, sets.set_ids, ind, k)
    assert t["ctx_i"].shape[0] == len({tuple(r) for r in sets.set_ids}) and t["ctx_i"].shape[1] > 0
    assert 1 < t["sig"].shape[0] < SHARE_CODES.shape[0] and t["sig"].shape[1] == len(market.symbols)
    assert t["grp"][0, 1] == t["grp"][1, 1] == t["grp"][6, 1] and t["grp"][3, 1] != t["grp"][0, 1]
    monkeypatch.setattr(sc, "TABLE_BUDGET_BYTES", 0)
    assert sc.shared_tables(b.params, sets.set_ids, ind, k)["sig"].shape[1:] == (0, 0)
    plain = simulate_cpu(b, market, run, record_capacity=20000)
    assert tabled.metrics[:, 3].min() > 5                 # total_trades: every config trades
    np.testing.assert_array_equal(tabled.metrics.view(np.int64), plain.metrics.view(np.int64))
    np.testing.assert_array_equal(tabled.rec_i, plain.rec_i)
    np.testing.assert_array_equal(tabled.rec_f.view(np.int64), plain.rec_f.view(np.int64))
    np.testing.assert_array_equal(tabled.equity.view(np.int64), plain.equity.view(np.int64))
