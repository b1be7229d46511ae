"""gpu_sim.kernel_loop through simulate_cpu: the clock and event order of strategy-exits.md §2 on
hand-built scenarios (candles + hand-set indicator rows), D4/D43 ordering, funding (D25, Q14, N14),
sub-bar views (D3, D5), budget, ranking, flips, from_ts, trailing window, end of data."""
from __future__ import annotations

import pytest

from gpu_sim.kernel_arith import q
from gpu_sim.simulate_cpu import RunParams
from harness.errors import ConfigError, DataError

from .kernel_cases import BULL, FLAT, HOUR, OPEN_ENTRIES, T0, Scenario, same

M15 = 15 * 60_000
#: SELL under OPEN_ENTRIES whose EMA gap is a "weak cross" (< 0.1 %, ADX > 25), so a long is not closed
#: by the trend-breakdown exit first and the flip is what closes it.
BEAR = dict(BULL, ema_fast=100.95, ema_slow=101.0, rsi=40.0, macd_hist=-1.0, prev_macd_hist=-0.5)


def acts(result, config=0):
    return [(r["timestamp_ms"], r["symbol"], r["action"], r["reason"]) for r in result.records(config)]


def basic(symbol="AAA", closes=(100.0, 100.0, 101.0), fields=(FLAT, BULL, FLAT)):
    sc = Scenario([symbol])
    for k, (c, f) in enumerate(zip(closes, fields)):
        sc.bar(symbol, T0 + k * HOUR, c, **f)
    return sc


def test_main_bar_entry_and_end_of_data():
    r = basic().run(OPEN_ENTRIES)
    rec = r.records(0)
    assert acts(r) == [(T0 + 2 * HOUR, "AAA", "OPEN_LONG", "Medium entry"),
                       (T0 + 3 * HOUR, "AAA", "CLOSE_LONG", "End of Backtest")]
    o = rec[0]
    margin = (10000.0 * 0.03) * ((0.7 * 0.75) * 1.0)            # §3.3, Medium, ADX 30, ATR 1 % of price
    size = (margin * 3.0) / 100.0
    fee = q(q(size * 100.0) * 0.00035)
    assert o["price"] == 100.0 and same(o["size"], size) and same(o["margin_used"], margin)
    assert o["leverage"] == 3.0 and same(o["fee_usd"], fee)
    curve = r.equity_curve(0)
    assert [t for t, _ in curve] == [T0 + HOUR, T0 + 2 * HOUR, T0 + 3 * HOUR]
    assert curve[0][1] == 10000.0 and same(curve[1][1], 10000.0 - fee)
    assert same(curve[2][1], (10000.0 - fee) + (101.0 - 100.0) * size)
    m = r.metrics_of(0)
    assert m["total_trades"] == 1 and m["total_wins"] == 1 and m["n_equity_samples"] == 3
    assert same(m["final_balance"], rec[-1]["balance"])


def test_lookback_gates_entries():
    r = basic().run(OPEN_ENTRIES, run=RunParams(lookback=3))
    assert acts(r) == []                                         # bar 1 has bar_count 2 < 3
    r = basic().run(OPEN_ENTRIES, run=RunParams(lookback=2))
    assert acts(r)[0][2] == "OPEN_LONG"


def test_funding_after_main_step_at_the_boundary():
    """Q14/D25: a position opened at τ = b pays at b; F comes after M at equal τ."""
    sc = basic()
    for k in range(4):
        sc.fund("AAA", T0 + k * HOUR, 0.0001)
    r = sc.run(OPEN_ENTRIES)
    a = acts(r)
    assert a[0] == (T0 + 2 * HOUR, "AAA", "OPEN_LONG", "Medium entry")
    assert a[1] == (T0 + 2 * HOUR, "AAA", "FUNDING", "Funding rate=0.000100")
    assert a[2] == (T0 + 3 * HOUR, "AAA", "FUNDING", "Funding rate=0.000100")
    assert a[3][2:] == ("CLOSE_LONG", "End of Backtest")
    o, f = r.records(0)[:2]
    assert same(f["pnl"], q((-o["size"] * 100.0) * 0.0001)) and f["price"] == 100.0


def test_position_closed_at_boundary_does_not_pay():
    sc = basic(closes=(100.0, 100.0, 97.0))                      # bar 2 closes below the 98 stop
    for k in range(4):
        sc.fund("AAA", T0 + k * HOUR, 0.0001)
    a = acts(sc.run(OPEN_ENTRIES))
    assert [x[2] for x in a] == ["OPEN_LONG", "FUNDING", "CLOSE_LONG"]
    assert a[2] == (T0 + 3 * HOUR, "AAA", "CLOSE_LONG", "Stop Loss")


def test_stale_funding_rate_is_not_applied():
    """spec-notes N14: a rate older than 2 h before the boundary is skipped; exactly 2 h applies."""
    sc = basic(closes=(100.0, 100.0, 101.0, 101.0, 101.0), fields=(FLAT, BULL, FLAT, FLAT, FLAT))
    sc.fund("AAA", T0 + 2 * HOUR, 0.0001)
    a = acts(sc.run(OPEN_ENTRIES))
    fund = [x[0] for x in a if x[2] == "FUNDING"]
    assert fund == [T0 + 2 * HOUR, T0 + 3 * HOUR, T0 + 4 * HOUR]   # T0+5H is 3 h after the row


def test_exit_subbar_uses_previous_bar_and_precedes_main():
    """D3/D5: exit sub-bars of W_2 see bar 1's snapshot; the stop fires at the 30-minute sub-bar."""
    sc = basic(closes=(100.0, 100.0, 101.0))
    for i, c in enumerate((99.0, 97.5, 99.0, 101.0)):
        sc.sub_bar(M15, "AAA", T0 + 2 * HOUR + i * M15, c)
    r = sc.run(OPEN_ENTRIES, engine={"engine.exit_interval": "15m"})
    a = acts(r)
    assert a == [(T0 + 2 * HOUR, "AAA", "OPEN_LONG", "Medium entry"),
                 (T0 + 2 * HOUR + 2 * M15, "AAA", "CLOSE_LONG", "Stop Loss")]
    assert r.records(0)[1]["price"] == 97.5


def test_exit_subbar_glitch_guard_uses_last_main_close():
    sc = basic(closes=(100.0, 100.0, 101.0))
    sc.sub_bar(M15, "AAA", T0 + 2 * HOUR, 90.0)                 # −10 % vs the last main close 100
    over = dict(OPEN_ENTRIES, **{"trade.block_exits_on_extreme_dev": 1, "trade.glitch_price_dev_pct": 0.05})
    a = acts(sc.run(over, engine={"engine.exit_interval": "15m"}))
    assert [x[3] for x in a] == ["Medium entry", "End of Backtest"]


def test_entry_tick_at_main_close_is_exit_evaluated_by_that_main_step():
    """D43: an entry tick at τ = C_j precedes the main step at C_j, which evaluates the new position."""
    sc = basic(closes=(100.0, 100.0, 97.0), fields=(FLAT, BULL, FLAT))
    sc.sub_bar(M15, "AAA", T0 + 2 * HOUR + 3 * M15, 100.0)       # closes at C_2 = T0 + 3 h
    r = sc.run(OPEN_ENTRIES, engine={"engine.entry_interval": "15m"})
    assert acts(r) == [(T0 + 3 * HOUR, "AAA", "OPEN_LONG", "Medium entry (sub-bar)"),
                       (T0 + 3 * HOUR, "AAA", "CLOSE_LONG", "Stop Loss")]


def test_entry_ticks_only_in_entry_mode_and_share_the_window_budget():
    sc = Scenario(["AAA", "BBB"])
    for s in ("AAA", "BBB"):
        sc.bar(s, T0, 100.0, **FLAT).bar(s, T0 + HOUR, 100.0, **BULL).bar(s, T0 + 2 * HOUR, 100.0, **BULL)
    sc.sub_bar(M15, "BBB", T0 + 2 * HOUR, 100.0)                 # tick at C_1 + 15 min
    sc.sub_bar(M15, "AAA", T0 + 2 * HOUR + M15, 100.0)           # tick at C_1 + 30 min
    r = sc.run(OPEN_ENTRIES, portfolio={"trade.max_entry_orders_per_loop": 1},
               engine={"engine.entry_interval": "15m"})
    opens = [x for x in acts(r) if x[2].startswith("OPEN")]
    assert opens == [(T0 + 2 * HOUR + M15, "BBB", "OPEN_LONG", "Medium entry (sub-bar)")]


def test_stale_symbol_not_evaluated_at_entry_ticks():
    """D53.6 / N14: at an entry tick a symbol is evaluated only if its latest bar closes at the window's
    left end."""
    def case(sub_open):
        sc = Scenario(["AAA", "BBB"])
        for k in range(3):
            sc.bar("AAA", T0 + k * HOUR, 100.0, **FLAT)
        sc.bar("BBB", T0, 100.0, **BULL)                         # BBB's only bar closes at C_0
        sc.sub_bar(M15, "BBB", sub_open, 100.0)
        r = sc.run(OPEN_ENTRIES, engine={"engine.entry_interval": "15m"},
                   run=RunParams(lookback=0, allow_missing_sub_bars=True))
        return [x[:3] for x in acts(r) if x[2].startswith("OPEN")]
    assert case(T0 + HOUR) == [(T0 + HOUR + M15, "BBB", "OPEN_LONG")]       # W_1: left end C_0
    assert case(T0 + 2 * HOUR) == []                                         # W_2: stale


def test_missing_entry_sub_bars_evaluate_in_main_step():
    """D53.18 / N14: with allow_missing_sub_bars a symbol without entry sub-bars enters at main closes."""
    sc = Scenario(["AAA", "BBB"])
    for k, f in enumerate((FLAT, BULL, FLAT)):
        sc.bar("AAA", T0 + k * HOUR, 100.0, **f)
        sc.bar("BBB", T0 + k * HOUR, 100.0, **FLAT)
    sc.sub_bar(M15, "BBB", T0 + 2 * HOUR, 100.0)
    r = sc.run(OPEN_ENTRIES, engine={"engine.entry_interval": "15m"},
               run=RunParams(lookback=0, allow_missing_sub_bars=True))
    assert acts(r)[0] == (T0 + 2 * HOUR, "AAA", "OPEN_LONG", "Medium entry")


def test_ranking_in_main_step_by_score_then_symbol():
    sc = Scenario(["AAA", "BBB", "CCC"])
    for s, adx in (("AAA", 30.5), ("BBB", 35.0), ("CCC", 30.9)):
        sc.bar(s, T0, 100.0, **FLAT).bar(s, T0 + HOUR, 100.0, **dict(BULL, adx=adx))
    opens = [x[1] for x in acts(sc.run(OPEN_ENTRIES)) if x[2].startswith("OPEN")]
    assert opens == ["BBB", "AAA", "CCC"]                        # 135, then 130 / 130 by name


def test_signal_flip_then_reentry_same_point():
    sc = basic(closes=(100.0, 100.0, 100.5), fields=(FLAT, BULL, BEAR))
    a = acts(sc.run(OPEN_ENTRIES))
    assert a[1:3] == [(T0 + 3 * HOUR, "AAA", "CLOSE_LONG", "Signal Flip"),
                      (T0 + 3 * HOUR, "AAA", "OPEN_SHORT", "Medium entry")]


def test_flip_ignores_exit_cooldown_and_pesc_ignores_flips():
    over = dict(OPEN_ENTRIES, **{"trade.exit_cooldown_s": 10 ** 6, "trade.reentry_cooldown_min_mins": 600,
                                 "trade.reentry_cooldown_max_mins": 600})
    sc = basic(closes=(100.0, 100.0, 100.5, 100.0), fields=(FLAT, BULL, BEAR, BULL))
    a = [x[2:] for x in acts(sc.run(over))]
    assert a[:5] == [("OPEN_LONG", "Medium entry"), ("CLOSE_LONG", "Signal Flip"), ("OPEN_SHORT", "Medium entry"),
                     ("CLOSE_SHORT", "Signal Flip"), ("OPEN_LONG", "Medium entry")]


def test_pesc_blocks_same_side_reentry_after_stop():
    over = dict(OPEN_ENTRIES, **{"trade.reentry_cooldown_min_mins": 600, "trade.reentry_cooldown_max_mins": 600,
                                 "trade.reentry_cooldown_minutes": 600})
    sc = basic(closes=(100.0, 100.0, 97.0, 97.0), fields=(FLAT, BULL, FLAT, dict(BULL, ema_fast=96.0,
                                                                                    ema_slow=95.0)))
    a = [x[2:] for x in acts(sc.run(over))]
    assert a == [("OPEN_LONG", "Medium entry"), ("CLOSE_LONG", "Stop Loss")]
    a = [x[2:] for x in acts(sc.run(OPEN_ENTRIES))]
    assert a[2] == ("OPEN_LONG", "Medium entry")


def test_exit_cooldown_skips_evaluation_at_same_tau():
    """D18: a partial exit at the exit sub-bar closing at C_2 blocks the main evaluation at C_2 while
    exit_cooldown_s > 0; the stop then fires at the next evaluation point."""
    over = dict(OPEN_ENTRIES, **{"trade.enable_partial_tp": 1, "trade.tp_partial_pct": 0.5})
    sc = basic(closes=(100.0, 100.0, 97.0, 97.0), fields=(FLAT, BULL, FLAT, FLAT))
    sc.sub_bar(M15, "AAA", T0 + 2 * HOUR + 3 * M15, 105.0)       # closes at C_2: partial TP (level 104)
    eng = {"engine.exit_interval": "15m"}
    a = acts(sc.run(dict(over, **{"trade.exit_cooldown_s": 15}), engine=eng))
    assert [x[2:] for x in a] == [("OPEN_LONG", "Medium entry"), ("REDUCE_LONG", "Take Profit (Partial)"),
                                  ("CLOSE_LONG", "Stop Loss")]
    assert a[1][0] == T0 + 3 * HOUR and a[2][0] == T0 + 4 * HOUR
    b = acts(sc.run(dict(over, **{"trade.exit_cooldown_s": 0}), engine=eng))
    assert b[2][0] == T0 + 3 * HOUR and b[2][2:] == ("CLOSE_LONG", "Stop Loss")


def test_from_ts_bounds_decisions_not_samples():
    sc = basic(closes=(100.0, 100.0, 101.0, 101.0), fields=(FLAT, BULL, FLAT, BULL))
    r = sc.run(OPEN_ENTRIES, run=RunParams(lookback=0, from_ts=T0 + 3 * HOUR))
    a = acts(r)
    assert a[0] == (T0 + 4 * HOUR, "AAA", "OPEN_LONG", "Medium entry")
    assert r.metrics_of(0)["n_equity_samples"] == 4


def test_trailing_window_and_run_end():
    """Sub-bars after the last main close extend D; the trailing window is sampled; EOD at D."""
    sc = basic(closes=(100.0, 100.0, 101.0))
    sc.sub_bar(M15, "AAA", T0 + 3 * HOUR, 101.5)
    sc.sub_bar(M15, "AAA", T0 + 3 * HOUR + M15, 101.7)
    sc.fund("AAA", T0 + 3 * HOUR, 0.0001)
    r = sc.run(OPEN_ENTRIES, engine={"engine.exit_interval": "15m"})
    d = T0 + 3 * HOUR + 2 * M15
    assert r.equity_curve(0)[-1][0] == d and len(r.equity_curve(0)) == 4
    a = acts(r)
    assert a[-1] == (d, "AAA", "CLOSE_LONG", "End of Backtest")
    assert r.records(0)[-1]["price"] == 101.0                    # liquidation at the last main close


def test_to_ts_truncates_and_moves_the_run_end():
    sc = basic(closes=(100.0, 100.0, 101.0, 102.0), fields=(FLAT, BULL, FLAT, FLAT))
    r = sc.run(OPEN_ENTRIES, run=RunParams(lookback=0, to_ts=T0 + 3 * HOUR + 5))
    a = acts(r)
    # bar 3 closes after to_ts and is dropped; D = min(to_ts, D_data) = to_ts (D2, D38)
    assert a[-1] == (T0 + 3 * HOUR + 5, "AAA", "CLOSE_LONG", "End of Backtest")
    assert r.records(0)[-1]["price"] == 101.0
    assert [t for t, _ in r.equity_curve(0)] == [T0 + HOUR, T0 + 2 * HOUR, T0 + 3 * HOUR, T0 + 3 * HOUR + 5]


def test_record_overflow_is_flagged_and_metrics_stay_exact():
    sc = basic()
    for k in range(4):
        sc.fund("AAA", T0 + k * HOUR, 0.0001)
    full = sc.run(OPEN_ENTRIES)
    small = sc.run(OPEN_ENTRIES, capacity=2)
    assert not full.overflow[0] and small.overflow[0]
    assert small.n_records[0] == full.n_records[0] == 4
    assert small.records(0) == full.records(0)[:2]
    mf, ms = full.metrics_of(0), small.metrics_of(0)
    mf.pop("records_overflow"), ms.pop("records_overflow")
    assert mf == ms


def test_to_ts_beyond_data_is_the_unrestricted_run():
    """D38: D = min(to_ts, D_data), so a to_ts after the data changes nothing."""
    sc = basic()
    sc.fund("AAA", T0 + 2 * HOUR, 0.0001)
    full = sc.run(OPEN_ENTRIES)
    late = sc.run(OPEN_ENTRIES, run=RunParams(lookback=0, to_ts=T0 + 30 * HOUR))
    assert late.records(0) == full.records(0)
    assert late.equity_curve(0) == full.equity_curve(0)


@pytest.mark.parametrize("make, engine, run, match", [
    (lambda sc: sc, {"engine.exit_interval": "15m"}, RunParams(lookback=0), "no such series"),
    (lambda sc: sc.sub_bar(M15, "AAA", T0 + HOUR, 100.0), {"engine.entry_interval": "15m"},
     RunParams(lookback=0), "have no sub-bars"),
    (lambda sc: sc.sub_bar(M15, "AAA", T0 + HOUR + 60_000, 100.0), {"engine.exit_interval": "15m"},
     RunParams(lookback=0, allow_missing_sub_bars=True), "not a multiple"),
    (lambda sc: sc, {"watchlist_exclude": ["bbb"]}, RunParams(lookback=0), "watchlist_exclude"),
    (lambda sc: sc, {"engine.interval": "2h"}, RunParams(lookback=0), "not a multiple"),
])
def test_prepare_run_rejects(make, engine, run, match):
    sc = Scenario(["AAA", "BBB"])
    for s in ("AAA", "BBB"):
        sc.bar(s, T0, 100.0, **FLAT).bar(s, T0 + HOUR, 100.0, **FLAT)
    make(sc)
    with pytest.raises(DataError, match=match):
        sc.run(OPEN_ENTRIES, engine=engine, run=run)


@pytest.mark.parametrize("field, value", [("initial_balance", 0.0), ("lookback", -1), ("taker_fee_bps", -0.1),
                                          ("from_ts", -5), ("to_ts", 1.5)])
def test_run_params_rejected(field, value):
    with pytest.raises(ConfigError, match=field):
        basic().run(OPEN_ENTRIES, run=RunParams(**{field: value}))


def test_entry_mode_of_a_symbol_does_not_depend_on_to_ts():
    """A symbol whose entry sub-bars all close after to_ts still enters only at entry ticks (its mode is
    decided before truncation), so the truncated run is a prefix of the full run (D3)."""
    sc = Scenario(["AAA"])
    for k, f in enumerate((FLAT, BULL, FLAT, FLAT)):
        sc.bar("AAA", T0 + k * HOUR, 100.0, **f)
    sc.sub_bar(M15, "AAA", T0 + 3 * HOUR, 100.0)
    eng = {"engine.entry_interval": "15m"}
    cut = sc.run(OPEN_ENTRIES, engine=eng, run=RunParams(lookback=0, to_ts=T0 + 3 * HOUR))
    assert acts(cut) == []
