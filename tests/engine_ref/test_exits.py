"""Exit rules of strategy-exits.md §5 with the scenarios of DECISIONS.md D13-D18 and PESC (D16).

Unit scenarios build a LONG at entry 100 with entry ATR 1 and feed snapshots (ADX 30, RSI 55 unless
stated); the cooldown (D18) and PESC (D16) scenarios run the real loop on hand-built bars with scripted
indicators and signals (tests/engine_ref/engine_doubles.py).
"""
from __future__ import annotations

import pytest

from engine_ref.exits import evaluate_exits, sl_level, take_profit, update_position_state
from engine_ref.engine import run_backtest
from engine_ref.positions import Position
from engine_ref.records import fmt_plain

from tests.engine_ref.engine_doubles import (MIN, T0, bars, configs, install_indicators, install_signals,
                                             quiet_exits, snapshot)

BASE = {"trade.enable_breakeven_stop": False, "trade.enable_partial_tp": False,
        "trade.enable_rsi_overextension_exit": False}


def cfg_with(**dotted) -> dict:
    overrides = dict(BASE)
    overrides.update({k.replace("__", "."): v for k, v in dotted.items()})
    return configs(["XYZ"], overrides).symbols["XYZ"]


def long_pos(conf: str = "High", threshold: float = 22.0, side: str = "LONG") -> Position:
    return Position(symbol="XYZ", side=side, entry_price=100.0, size=10.0, confidence=conf, entry_atr=1.0,
                    entry_adx_threshold=threshold, leverage=5.0, margin_used=200.0, open_time_ms=T0,
                    last_add_time_ms=T0)


def step(pos: Position, cfg: dict, close: float, **fields):
    """One evaluation: the exit order, or None after update_position_state (§5.0, §5.2)."""
    s = snapshot(close, **{"adx": 30.0, "rsi": 55.0, **fields})
    order = evaluate_exits(pos, s, cfg)
    if order is None:
        update_position_state(pos, s, cfg)
    return order


# ---- D13 trailing stop ------------------------------------------------------------------------

@pytest.mark.parametrize("vbts, stored, exits", [(True, 100.5, False), (False, 100.7, True)])
def test_d13_vol_buffered_trailing(vbts, stored, exits):
    cfg = cfg_with(trade__enable_vol_buffered_trailing=vbts, trade__trailing_distance_atr=0.8,
                   trade__trailing_start_atr=1.0)
    pos = long_pos()
    assert step(pos, cfg, 101.5, bb_width_ratio=1.5) is None
    assert pos.trailing_sl == pytest.approx(stored, abs=1e-12)
    order = step(pos, cfg, 100.6)
    assert (order is not None and order.reason == "Trailing Stop") == exits


@pytest.mark.parametrize("low_start, exits", [(0.5, True), (0.0, False)])
def test_d13_low_conf_start(low_start, exits):
    cfg = cfg_with(trade__trailing_distance_atr=0.5, trade__trailing_start_atr=1.0,
                   trade__trailing_start_atr_low_conf=low_start)
    pos = long_pos("Low")
    assert step(pos, cfg, 100.7) is None
    if exits:
        assert pos.trailing_sl == pytest.approx(100.2, abs=1e-12)
    else:
        assert pos.trailing_sl is None
    order = step(pos, cfg, 100.1)
    assert (order is not None and order.reason == "Trailing Stop") == exits
    assert order is None or order.price == 100.1


@pytest.mark.parametrize("low_dist, stored, exits", [(0.5, 101.0, True), (1.0, 100.5, False)])
def test_d13_low_conf_distance(low_dist, stored, exits):
    cfg = cfg_with(trade__trailing_start_atr=1.0, trade__trailing_distance_atr_low_conf=low_dist)
    pos = long_pos("Low")
    assert step(pos, cfg, 101.5) is None
    assert pos.trailing_sl == pytest.approx(stored, abs=1e-12)
    order = step(pos, cfg, 100.8)
    assert (order is not None and order.reason == "Trailing Stop") == exits


def test_trailing_level_only_ratchets_in_favour():
    cfg = cfg_with(trade__trailing_distance_atr=0.5, trade__trailing_start_atr=1.0)
    pos = long_pos()
    step(pos, cfg, 102.0)
    first = pos.trailing_sl
    step(pos, cfg, 101.8)  # lower candidate level: kept
    assert pos.trailing_sl == first
    step(pos, cfg, 102.5)
    assert pos.trailing_sl > first


def test_short_trailing_mirror():
    cfg = cfg_with(trade__trailing_distance_atr=0.5, trade__trailing_start_atr=1.0)
    pos = long_pos(side="SHORT")
    assert step(pos, cfg, 98.5) is None
    assert pos.trailing_sl == pytest.approx(99.0, abs=1e-12)
    order = step(pos, cfg, 99.2)
    assert order is not None and order.reason == "Trailing Stop"


# ---- D14 latched breakeven ---------------------------------------------------------------------

def be_cfg(on=True, start=0.7, buffer=0.05):
    return cfg_with(trade__enable_breakeven_stop=on, trade__breakeven_start_atr=start,
                    trade__breakeven_buffer_atr=buffer, trade__trailing_start_atr=1.0)


def test_d14_breakeven_latched_stop():
    pos = long_pos()
    cfg = be_cfg()
    assert step(pos, cfg, 100.8) is None and pos.be_armed
    order = step(pos, cfg, 100.04)
    assert order is not None and order.reason == "Stop Loss" and order.price == 100.04


def test_d14_breakeven_off_holds_until_atr_stop():
    pos = long_pos()
    cfg = be_cfg(on=False)
    assert step(pos, cfg, 100.8) is None and not pos.be_armed
    assert step(pos, cfg, 100.04) is None
    order = step(pos, cfg, 98.0)
    assert order is not None and order.reason == "Stop Loss"


@pytest.mark.parametrize("start, armed", [(0.7, True), (0.9, False)])
def test_d14_start_decides_arming(start, armed):
    pos = long_pos()
    cfg = be_cfg(start=start)
    step(pos, cfg, 100.8)
    assert pos.be_armed == armed
    assert (step(pos, cfg, 100.04) is not None) == armed


@pytest.mark.parametrize("buffer, exits", [(0.035, False), (0.065, True)])
def test_d14_buffer_decides_exit(buffer, exits):
    pos = long_pos()
    cfg = be_cfg(buffer=buffer)
    step(pos, cfg, 100.8)
    assert (step(pos, cfg, 100.05) is not None) == exits


def test_d14_floor_applies_on_the_reaching_evaluation():
    """buffer ≥ start: the evaluation that first reaches the start level exits (§5.1)."""
    pos = long_pos()
    cfg = be_cfg(start=0.5, buffer=0.6)
    assert sl_level(pos, snapshot(100.5, adx=30.0), cfg["trade"]) == 100.6
    assert step(pos, cfg, 100.5).reason == "Stop Loss"


def test_stop_multipliers_ase_dase_slb():
    pos = long_pos()
    trade = cfg_with()["trade"]
    assert sl_level(pos, snapshot(99.0, adx=30.0, adx_slope=-1.0), trade) == 100.0 - 1.0 * (2.0 * 0.8)
    assert sl_level(pos, snapshot(101.0, adx=41.0), trade) == 100.0 - 1.0 * (2.0 * 1.15)
    assert sl_level(pos, snapshot(100.2, adx=46.0), trade) == 100.0 - 1.0 * (2.0 * 1.10)


# ---- D15 take profit ---------------------------------------------------------------------------

@pytest.mark.parametrize("strong, exits", [(4.9, True), (7.0, False)])
def test_d15_strong_band(strong, exits):
    cfg = cfg_with(thresholds__tp_and_momentum__tp_mult_strong=strong)
    order = take_profit(long_pos(), snapshot(105.0, adx=45.0), cfg)
    assert (order is not None and order.reason == "Take Profit") == exits


@pytest.mark.parametrize("weak_lt, exits", [(21.0, False), (30.0, True)])
def test_d15_weak_band(weak_lt, exits):
    cfg = cfg_with(thresholds__tp_and_momentum__adx_weak_lt=weak_lt, trade__tp_atr_mult=4.0,
                   thresholds__tp_and_momentum__tp_mult_weak=3.0)
    order = take_profit(long_pos(), snapshot(103.5, adx=25.0), cfg)
    assert (order is not None) == exits


@pytest.mark.parametrize("strong_gt, exits", [(40.0, True), (52.0, False)])
def test_d15_strong_threshold(strong_gt, exits):
    cfg = cfg_with(thresholds__tp_and_momentum__adx_strong_gt=strong_gt, trade__tp_atr_mult=6.0,
                   thresholds__tp_and_momentum__tp_mult_strong=4.9)
    assert (take_profit(long_pos(), snapshot(105.0, adx=45.0), cfg) is not None) == exits


def test_partial_take_profit_ladder():
    cfg = cfg_with(trade__enable_partial_tp=True, trade__tp_partial_pct=0.5, trade__tp_atr_mult=4.0)
    pos = long_pos()
    order = take_profit(pos, snapshot(104.0, adx=35.0), cfg)
    assert order.kind == "PARTIAL" and order.pct == 0.5 and order.reason == "Take Profit (Partial)"
    pos.tp1_taken = True  # without a separate partial level the remainder is not closed by TP
    assert take_profit(pos, snapshot(110.0, adx=35.0), cfg) is None


def test_partial_remainder_guard_holds_and_smart_exits_still_run():
    cfg = cfg_with(trade__enable_partial_tp=True, trade__tp_partial_min_notional_usd=1e9)
    pos = long_pos()
    assert take_profit(pos, snapshot(104.0, adx=35.0), cfg) is None
    order = evaluate_exits(pos, snapshot(104.0, adx=35.0, ema_fast=99.0, ema_slow=100.0), cfg)
    assert order.reason == "Trend Breakdown (EMA Cross)"


def test_separate_partial_level_then_full_level():
    cfg = cfg_with(trade__enable_partial_tp=True, trade__tp_partial_atr_mult=2.0, trade__tp_atr_mult=4.0)
    pos = long_pos()
    assert take_profit(pos, snapshot(102.0, adx=35.0), cfg).kind == "PARTIAL"
    pos.tp1_taken = True
    assert take_profit(pos, snapshot(103.0, adx=35.0), cfg) is None
    assert take_profit(pos, snapshot(104.0, adx=35.0), cfg).reason == "Take Profit"


# ---- D17 ADX exhaustion ------------------------------------------------------------------------

@pytest.mark.parametrize("t0, exits", [(0.0, False), (30.0, True)])
def test_d17_exhaustion_threshold(t0, exits):
    cfg = cfg_with(trade__smart_exit_adx_exhaustion_lt=t0)
    order = evaluate_exits(long_pos("Medium", threshold=15.0), snapshot(100.5, adx=16.0, rsi=55.0), cfg)
    assert (order is not None and order.reason == f"Trend Exhaustion (ADX < {fmt_plain(t0)})") == exits


@pytest.mark.parametrize("low, exits", [(15.0, False), (30.0, True)])
def test_d17_low_conf_threshold(low, exits):
    cfg = cfg_with(trade__smart_exit_adx_exhaustion_lt=0.0, trade__smart_exit_adx_exhaustion_lt_low_conf=low)
    order = evaluate_exits(long_pos("Low", threshold=15.0), snapshot(100.5, adx=16.0, rsi=55.0), cfg)
    assert (order is not None and order.reason == "Trend Exhaustion (ADX < 30)") == exits


def test_glitch_guard_blocks_exits_but_updates_state():
    cfg = cfg_with(trade__block_exits_on_extreme_dev=True, trade__glitch_price_dev_pct=0.01,
                   trade__enable_breakeven_stop=True)
    pos = long_pos()
    s = snapshot(90.0, prev_close=100.0, adx=30.0)
    assert evaluate_exits(pos, s, cfg) is None  # far below the ATR stop, but blocked


def test_smart_exit_reason_strings():
    cfg = cfg_with(trade__enable_rsi_overextension_exit=True)
    pos = long_pos()
    assert evaluate_exits(pos, snapshot(100.5, adx=30.0, rsi=80.04), cfg).reason == "RSI Overbought (80.0, Thr: 80)"
    pos_s = long_pos(side="SHORT")
    got = evaluate_exits(pos_s, snapshot(99.5, adx=30.0, rsi=19.96), cfg).reason
    assert got == "RSI Oversold (20.0, Thr: 20)"
    stag = evaluate_exits(long_pos(), snapshot(99.5, adx=30.0, rsi=55.0, atr=0.5), cfg).reason
    assert stag == "Stagnation Exit (Low Vol: 0.50 < 0.70)"
    tsme = evaluate_exits(long_pos(), snapshot(101.5, adx=55.0, adx_slope=-0.5, rsi=55.0, macd_hist=1.0,
                                               prev_macd_hist=2.0, prev2_macd_hist=3.0), cfg).reason
    assert tsme == "Trend Saturation Momentum Exhaustion (ADX: 55.0, ADX_slope: -0.50)"
    mmde = evaluate_exits(long_pos(), snapshot(101.6, adx=36.0, rsi=55.0, macd_hist=1.0, prev_macd_hist=2.0,
                                               prev2_macd_hist=3.0, prev3_macd_hist=4.0), cfg).reason
    assert mmde == "MACD Persistent Divergence (Profit: 1.60 ATR)"


def test_paxg_exempt_from_stagnation():
    cfg = cfg_with()
    pos = long_pos()
    pos.symbol = "paxg"
    assert evaluate_exits(pos, snapshot(99.5, adx=30.0, rsi=55.0, atr=0.5), cfg) is None


# ---- D18 cooldowns on sub-minute sub-bars (loop) -------------------------------------------------

def _sub_minute_run(monkeypatch, overrides, main_closes, sub_closes, signals, entry_sub_bars=False):
    sec10 = 10_000
    ov = {**quiet_exits(), "engine.interval": "1m", "engine.exit_interval": "10s", **overrides}
    if entry_sub_bars:
        ov["engine.entry_interval"] = "10s"
    cs = configs(["AAA"], ov)
    install_indicators(monkeypatch)
    install_signals(monkeypatch, signals)
    main = {"AAA": bars(T0, MIN, main_closes)}
    sub = {sec10: {"AAA": bars(T0, sec10, sub_closes)}}
    return run_backtest(main, cs, sub_bars=sub, lookback=1)


@pytest.mark.parametrize("cooldown_s, stop_time", [(10, 20_000), (15, 30_000)])
def test_d18_exit_cooldown(monkeypatch, cooldown_s, stop_time):
    """Partial exit at τ, stop crossed at τ + 10 s: 10 s exits then, 15 s only at τ + 20 s."""
    over = {"trade.exit_cooldown_s": cooldown_s, "trade.enable_partial_tp": True, "trade.tp_partial_pct": 0.5}
    subs = [100.0] * 6 + [104.0, 97.0, 97.0, 97.0, 97.0, 97.0]
    r = _sub_minute_run(monkeypatch, over, [100.0, 100.0], subs, {("AAA", T0): ("BUY", "High", 0.0)})
    actions = [(x.action, x.reason, x.timestamp_ms - (T0 + MIN)) for x in r.trades]
    assert actions[0] == ("OPEN_LONG", "High entry", 0)
    assert actions[1] == ("REDUCE_LONG", "Take Profit (Partial)", 10_000)
    assert actions[2] == ("CLOSE_LONG", "Stop Loss", stop_time)


@pytest.mark.parametrize("cooldown_s, enters", [(14, True), (26, False)])
def test_d18_entry_cooldown(monkeypatch, cooldown_s, enters):
    """Entry at τ, stop-out at τ + 10 s, opposite signal at τ + 20 s: 14 s enters, 26 s does not."""
    tau_open = T0 + MIN  # sub-bar [T0+60 s, T0+70 s) closes at τ + 10 s
    signals = {("AAA", T0 + MIN): ("BUY", "High", 0.0), ("AAA", T0 + MIN + 20_000): ("SELL", "High", 0.0)}
    subs = [100.0] * 6 + [100.0, 97.0, 97.0, 97.0, 97.0, 97.0]
    r = _sub_minute_run(monkeypatch, {"trade.entry_cooldown_s": cooldown_s}, [100.0, 100.0, 100.0], subs,
                        signals, entry_sub_bars=True)
    got = [(x.action, x.timestamp_ms - tau_open) for x in r.trades if x.action != "FUNDING"]
    assert got[:2] == [("OPEN_LONG", 10_000), ("CLOSE_LONG", 20_000)]
    assert (("OPEN_SHORT", 30_000) in got) == enters
    assert r.trades[0].reason == "High entry (sub-bar)"


# ---- D16 PESC (loop) ----------------------------------------------------------------------------

@pytest.mark.parametrize("base, allowed", [(42, True), (60, False)])
def test_d16_pesc_mid_anchor(monkeypatch, base, allowed):
    """Stop-loss exit of a long, new BUY 50 minutes later with ADX 32.5: base 42 → 45 min → allowed."""
    step_ms = 10 * MIN
    closes = [100.0, 100.0, 97.0, 100.0, 100.0, 100.0, 100.0, 100.0, 100.0, 100.0]
    ov = {**quiet_exits(), "engine.interval": "10m", "trade.reentry_cooldown_minutes": base}
    cs = configs(["AAA"], ov)
    stop_bar = T0 + 2 * step_ms            # closes at T0 + 30 min: Stop Loss
    rebuy_bar = T0 + 7 * step_ms           # closes at T0 + 80 min = 50 minutes later
    install_indicators(monkeypatch, {"AAA": {rebuy_bar: {"adx": 32.5}}})
    install_signals(monkeypatch, {("AAA", T0): ("BUY", "High", 0.0), ("AAA", rebuy_bar): ("BUY", "High", 0.0)})
    r = run_backtest({"AAA": bars(T0, step_ms, closes)}, cs, lookback=1)
    assert [x.action for x in r.trades][:2] == ["OPEN_LONG", "CLOSE_LONG"]
    assert r.trades[1].timestamp_ms == stop_bar + step_ms and r.trades[1].reason == "Stop Loss"
    reopened = [x for x in r.trades if x.action == "OPEN_LONG" and x.timestamp_ms == rebuy_bar + step_ms]
    assert bool(reopened) == allowed
    assert r.gate_stats.get("pesc", 0) == (0 if allowed else 1)


def test_pesc_ignores_signal_flip_and_counts_partials(monkeypatch):
    """A "Signal Flip" exit never starts PESC (the re-entry in the flipped direction is immediate)."""
    step_ms = 10 * MIN
    cs = configs(["AAA"], {**quiet_exits(), "engine.interval": "10m"})
    install_indicators(monkeypatch)
    install_signals(monkeypatch, {("AAA", T0): ("BUY", "High", 0.0), ("AAA", T0 + step_ms): ("SELL", "High", 0.0)})
    r = run_backtest({"AAA": bars(T0, step_ms, [100.0, 100.0, 100.0])}, cs, lookback=1)
    got = [(x.action, x.reason) for x in r.trades]
    assert got[:3] == [("OPEN_LONG", "High entry"), ("CLOSE_LONG", "Signal Flip"), ("OPEN_SHORT", "High entry")]
    assert r.trades[1].timestamp_ms == r.trades[2].timestamp_ms
