"""gpu_sim.kernel_exits: exit priority (§5.0), trailing / breakeven / TP / smart-exit scenarios of
DECISIONS D13–D17 — compiled kernel functions on hand-set snapshots."""
from __future__ import annotations

import numpy as np
import pytest

from gpu_sim.kernel_exits import evaluate_exits, update_position_state
from gpu_sim.kernel_state import (
    CONF_HIGH,
    CONF_LOW,
    CONF_MEDIUM,
    EXIT_FULL,
    EXIT_NONE,
    EXIT_PARTIAL,
    LONG,
    PF_ENTRY,
    PF_ENTRY_ATR,
    PF_ENTRY_THR,
    PF_LEV,
    PF_MARGIN,
    PF_SIZE,
    PF_TRAIL,
    SHORT,
    SI_BE_ARMED,
    SI_CONF,
    SI_HAS_POS,
    SI_HAS_TRAIL,
    SI_SIDE,
    SI_TP1,
)
from gpu_sim.reasons import Reason, reason_text

from .kernel_cases import OneConfig, default_row, ind_row, same

#: D13/D14 baseline: long at 100, entry ATR 1, breakeven off, ADX 30, RSI 55; no other exit can fire.
BASE = dict(ema_fast=101.0, ema_slow=100.0, ema_macro=90.0, adx=30.0, adx_slope=0.1, atr=1.0, atr_slope=0.1,
            rsi=55.0, bb_width_ratio=1.0)


def position(side=LONG, conf=CONF_HIGH, entry=100.0, atr=1.0, size=10.0, thr=15.0):
    st = OneConfig(1)
    st.si[0, SI_HAS_POS] = 1
    st.si[0, SI_SIDE] = side
    st.si[0, SI_CONF] = conf
    st.pf[0, PF_ENTRY] = entry
    st.pf[0, PF_ENTRY_ATR] = atr
    st.pf[0, PF_SIZE] = size
    st.pf[0, PF_ENTRY_THR] = thr
    st.pf[0, PF_LEV] = 5.0
    st.pf[0, PF_MARGIN] = 200.0
    return st


def step(p, st, close, prev_close=0.0, paxg=False, **fields):
    """One evaluation as the loop runs it: evaluate, else update the persistent state."""
    row = ind_row(**{**BASE, **fields})
    kind, reason, pct, x1, x2 = evaluate_exits(p, st.si, st.pf, 0, row, close, prev_close, paxg)
    if kind == EXIT_NONE:
        update_position_state(p, st.si, st.pf, 0, row, close)
    return kind, Reason(reason), pct, x1, x2


def cfg(**kw):
    base = dict(trade__enable_breakeven_stop=0, trade__enable_partial_tp=0)
    base.update(kw)
    return default_row(**base)


# ---- D13 trailing ------------------------------------------------------------------------------

@pytest.mark.parametrize("vbts, stored, exits", [(1, 100.5, False), (0, 100.7, True)])
def test_d13_vol_buffered_trailing(vbts, stored, exits):
    p = cfg(trade__trailing_distance_atr=0.8, trade__trailing_start_atr=1.0,
            trade__enable_vol_buffered_trailing=vbts)
    st = position()
    assert step(p, st, 101.5, bb_width_ratio=1.5)[0] == EXIT_NONE
    assert st.si[0, SI_HAS_TRAIL] == 1 and same(st.pf[0, PF_TRAIL], stored)
    kind, reason, *_ = step(p, st, 100.6)
    assert (kind == EXIT_FULL and reason == Reason.TRAILING_STOP) == exits
    if not exits:
        assert kind == EXIT_NONE


@pytest.mark.parametrize("low_start, exits", [(0.5, True), (0.0, False)])
def test_d13_low_conf_start(low_start, exits):
    p = cfg(trade__trailing_distance_atr=0.5, trade__trailing_start_atr=1.0,
            trade__trailing_start_atr_low_conf=low_start)
    st = position(conf=CONF_LOW)
    assert step(p, st, 100.7)[0] == EXIT_NONE
    if exits:
        assert same(st.pf[0, PF_TRAIL], 100.2)
    else:
        assert st.si[0, SI_HAS_TRAIL] == 0
    kind, reason, *_ = step(p, st, 100.1)
    assert (kind, reason) == ((EXIT_FULL, Reason.TRAILING_STOP) if exits else (EXIT_NONE, Reason.NONE))


@pytest.mark.parametrize("low_dist, stored, exits", [(0.5, 101.0, True), (1.0, 100.5, False)])
def test_d13_low_conf_distance(low_dist, stored, exits):
    p = cfg(trade__trailing_start_atr=1.0, trade__trailing_distance_atr_low_conf=low_dist)
    st = position(conf=CONF_LOW)
    step(p, st, 101.5)
    assert same(st.pf[0, PF_TRAIL], stored)
    kind, *_ = step(p, st, 100.8)
    assert (kind == EXIT_FULL) == exits


def test_trailing_only_ratchets_and_tightens_in_profit():
    p = cfg(trade__trailing_distance_atr=0.8, trade__enable_vol_buffered_trailing=0)
    st = position()
    step(p, st, 102.0)                         # 102 − 0.8 = 101.2
    step(p, st, 101.6)                         # 100.8 < stored → unchanged
    assert same(st.pf[0, PF_TRAIL], 101.2)
    step(p, st, 103.0, adx=40.0, adx_slope=1.0)   # profit 3 ATR, ADX > 35 rising: k = 1.0 → 102.2
    assert same(st.pf[0, PF_TRAIL], 102.2)
    st2 = position()
    step(p, st2, 103.0, atr_slope=-1.0, adx=30.0)  # k = 0.5 → 0.4, floor 0.5 → 102.5
    assert same(st2.pf[0, PF_TRAIL], 102.5)
    st3 = position()
    step(p, st3, 103.0, atr_slope=-1.0, rsi=65.0)  # floor 0.7 for a long with RSI > 60 → 102.3
    assert same(st3.pf[0, PF_TRAIL], 102.3)


def test_trailing_short_side():
    p = cfg(trade__trailing_distance_atr=0.8, trade__enable_vol_buffered_trailing=0)
    st = position(side=SHORT)
    step(p, st, 98.0, ema_fast=99.0, ema_slow=100.0)
    assert same(st.pf[0, PF_TRAIL], 98.8)
    kind, reason, *_ = step(p, st, 98.9, ema_fast=99.0, ema_slow=100.0)
    assert (kind, reason) == (EXIT_FULL, Reason.TRAILING_STOP)


# ---- D14 breakeven ------------------------------------------------------------------------------

@pytest.mark.parametrize("enabled, start, exits", [(1, 0.7, True), (0, 0.7, False), (1, 0.9, False)])
def test_d14_latched_breakeven(enabled, start, exits):
    p = cfg(trade__enable_breakeven_stop=enabled, trade__breakeven_start_atr=start,
            trade__breakeven_buffer_atr=0.05, trade__trailing_start_atr=1.0)
    st = position()
    assert step(p, st, 100.8)[0] == EXIT_NONE
    assert st.si[0, SI_BE_ARMED] == (1 if enabled and start == 0.7 else 0)
    kind, reason, *_ = step(p, st, 100.04)
    assert (kind, reason) == ((EXIT_FULL, Reason.STOP_LOSS) if exits else (EXIT_NONE, Reason.NONE))


@pytest.mark.parametrize("buffer, exits", [(0.035, False), (0.065, True)])
def test_d14_buffer(buffer, exits):
    p = cfg(trade__enable_breakeven_stop=1, trade__breakeven_start_atr=0.7, trade__breakeven_buffer_atr=buffer,
            trade__trailing_start_atr=1.0)
    st = position()
    step(p, st, 100.8)
    kind, *_ = step(p, st, 100.05)
    assert (kind == EXIT_FULL) == exits


def test_breakeven_applies_on_the_reaching_evaluation():
    """buffer ≥ start: the evaluation that first reaches the start level already exits (§5.1)."""
    p = cfg(trade__enable_breakeven_stop=1, trade__breakeven_start_atr=0.5, trade__breakeven_buffer_atr=0.6,
            trade__trailing_start_atr=5.0)
    st = position()
    kind, reason, *_ = step(p, st, 100.55)
    assert (kind, reason) == (EXIT_FULL, Reason.STOP_LOSS)


# ---- D15 dynamic TP --------------------------------------------------------------------------------

@pytest.mark.parametrize("strong, exits", [(4.9, True), (7.0, False)])
def test_d15_strong_band(strong, exits):
    p = cfg(thresholds__tp_and_momentum__tp_mult_strong=strong)
    st = position()
    kind, reason, *_ = step(p, st, 105.0, adx=45.0)
    assert (kind, reason) == ((EXIT_FULL, Reason.TAKE_PROFIT) if exits else (EXIT_NONE, Reason.NONE))


@pytest.mark.parametrize("weak_lt, exits", [(21.0, True), (30.0, False)])
def test_d15_weak_band(weak_lt, exits):
    p = cfg(thresholds__tp_and_momentum__adx_weak_lt=weak_lt, thresholds__tp_and_momentum__tp_mult_weak=5.0,
            trade__tp_atr_mult=4.0, trade__trailing_start_atr=10.0)
    st = position()
    kind, *_ = step(p, st, 104.5, adx=25.0)
    assert (kind == EXIT_FULL) == exits


@pytest.mark.parametrize("strong_gt, exits", [(40.0, True), (52.0, False)])
def test_d15_strong_threshold(strong_gt, exits):
    p = cfg(thresholds__tp_and_momentum__adx_strong_gt=strong_gt, thresholds__tp_and_momentum__tp_mult_strong=4.9,
            trade__tp_atr_mult=6.0, trade__trailing_start_atr=10.0)
    st = position()
    kind, *_ = step(p, st, 105.0, adx=45.0)
    assert (kind == EXIT_FULL) == exits


def test_partial_tp_ladder():
    p = default_row(trade__enable_breakeven_stop=0, trade__enable_partial_tp=1, trade__tp_partial_pct=0.5,
                    trade__tp_partial_atr_mult=0.0, trade__trailing_start_atr=10.0)
    st = position()
    kind, reason, pct, *_ = step(p, st, 104.5)          # middle band tpm 4 → partial at 104
    assert (kind, reason, pct) == (EXIT_PARTIAL, Reason.TAKE_PROFIT_PARTIAL, 0.5)
    st.si[0, SI_TP1] = 1
    assert step(p, st, 106.0)[0] == EXIT_NONE           # after TP1 with no separate level: HOLD
    p2 = default_row(trade__enable_breakeven_stop=0, trade__enable_partial_tp=1, trade__tp_partial_pct=0.5,
                     trade__tp_partial_atr_mult=2.0, trade__trailing_start_atr=10.0)
    st2 = position()
    assert step(p2, st2, 102.5)[:3] == (EXIT_PARTIAL, Reason.TAKE_PROFIT_PARTIAL, 0.5)
    st2.si[0, SI_TP1] = 1
    assert step(p2, st2, 103.0)[0] == EXIT_NONE
    assert step(p2, st2, 104.0)[:2] == (EXIT_FULL, Reason.TAKE_PROFIT)


def test_partial_remainder_guard_holds_then_smart_exits_run():
    p = default_row(trade__enable_breakeven_stop=0, trade__enable_partial_tp=1, trade__tp_partial_pct=0.5,
                    trade__tp_partial_min_notional_usd=1e9, trade__trailing_start_atr=10.0)
    st = position()
    assert step(p, st, 104.5)[0] == EXIT_NONE
    st = position()
    kind, reason, *_ = step(p, st, 104.5, ema_fast=99.0, ema_slow=100.0)   # EMA cross still fires
    assert (kind, reason) == (EXIT_FULL, Reason.TREND_BREAKDOWN)


# ---- D17 exhaustion --------------------------------------------------------------------------------

@pytest.mark.parametrize("conf, main, low, exits, thr", [
    (CONF_MEDIUM, 0.0, 0.0, False, 0.0), (CONF_MEDIUM, 30.0, 0.0, True, 30.0),
    (CONF_LOW, 0.0, 15.0, False, 0.0), (CONF_LOW, 0.0, 30.0, True, 30.0),
])
def test_d17_exhaustion(conf, main, low, exits, thr):
    p = cfg(trade__smart_exit_adx_exhaustion_lt=main, trade__smart_exit_adx_exhaustion_lt_low_conf=low)
    st = position(conf=conf, thr=15.0)
    kind, reason, _, x1, _ = step(p, st, 100.5, adx=16.0)
    if exits:
        assert (kind, reason, x1) == (EXIT_FULL, Reason.TREND_EXHAUSTION, thr)
        assert reason_text(reason, conf, x1) == "Trend Exhaustion (ADX < 30)"
    else:
        assert kind == EXIT_NONE


# ---- priority and the glitch guard -----------------------------------------------------------------

def test_priority_sl_before_trailing_before_tp():
    p = cfg(trade__trailing_distance_atr=0.5)
    st = position()
    st.si[0, SI_HAS_TRAIL] = 1
    st.pf[0, PF_TRAIL] = 99.0
    assert step(p, st, 97.5)[1] == Reason.STOP_LOSS           # both crossed: SL first
    st = position()
    st.si[0, SI_HAS_TRAIL] = 1
    st.pf[0, PF_TRAIL] = 110.0                                # trailing crossed and TP crossed
    assert step(p, st, 105.0)[1] == Reason.TRAILING_STOP
    st = position()
    assert step(p, st, 105.0, ema_fast=99.0, ema_slow=100.0)[1] == Reason.TAKE_PROFIT   # TP before smart


def test_glitch_guard_blocks_exits_but_updates_state():
    p = cfg(trade__block_exits_on_extreme_dev=1, trade__glitch_price_dev_pct=0.05, trade__trailing_start_atr=1.0,
            trade__enable_vol_buffered_trailing=0)
    st = position()
    kind, *_ = step(p, st, 110.0, prev_close=100.0)           # +10 %: TP crossed but guarded
    assert kind == EXIT_NONE and st.si[0, SI_HAS_TRAIL] == 1
    st = position()
    kind, *_ = step(p, st, 90.0, prev_close=100.0, atr=1.0)   # SL crossed but guarded
    assert kind == EXIT_NONE
    st = position()
    kind, reason, *_ = step(p, st, 97.5, prev_close=98.0)     # 0.5 % move: SL fires
    assert reason == Reason.STOP_LOSS


def test_glitch_atr_rule():
    p = cfg(trade__block_exits_on_extreme_dev=1, trade__glitch_price_dev_pct=0.5, trade__glitch_atr_mult=2.0)
    st = position()
    assert step(p, st, 97.5, prev_close=100.0, atr=1.0)[0] == EXIT_NONE      # 2.5 > 1 × 2
    assert step(p, st, 97.5, prev_close=98.0, atr=1.0)[1] == Reason.STOP_LOSS


def test_sl_multipliers():
    p = cfg()
    st = position()
    # ASE: ADX slope < 0 and underwater → 2.0 × 0.8 = 1.6 → level 98.4
    assert step(p, st, 98.4, adx_slope=-0.1)[1] == Reason.STOP_LOSS
    st = position()
    assert step(p, st, 98.45, adx_slope=0.1)[0] == EXIT_NONE
    # SLB: ADX > 45 → 2.2 → level 97.8 (underwater, DASE not applied)
    st = position()
    assert step(p, st, 97.85, adx=46.0, ema_fast=101.0)[0] == EXIT_NONE
    st = position()
    assert step(p, st, 97.8, adx=46.0)[1] == Reason.STOP_LOSS


# ---- smart exits -------------------------------------------------------------------------------------

def test_trend_breakdown_weak_cross_buffer():
    p = cfg()
    st = position()
    # |fast − slow| / slow = 0.0005 < 0.001 and ADX > 25: weak cross, no exit
    assert step(p, st, 100.5, ema_fast=99.95, ema_slow=100.0)[0] == EXIT_NONE
    assert step(p, st, 100.5, ema_fast=99.8, ema_slow=100.0)[1] == Reason.TREND_BREAKDOWN


def test_macro_breakdown_and_breakout():
    p = cfg(filters__require_macro_alignment=1)
    st = position()
    assert step(p, st, 100.5, ema_macro=101.0)[1] == Reason.EMA_MACRO_BREAKDOWN
    st = position(side=SHORT)
    assert step(p, st, 99.5, ema_fast=99.0, ema_slow=100.0, ema_macro=99.0)[1] == Reason.EMA_MACRO_BREAKOUT


def test_stagnation_and_paxg_exemption():
    p = cfg()
    st = position()
    kind, reason, _, x1, x2 = step(p, st, 99.5, atr=0.6)
    assert (kind, reason) == (EXIT_FULL, Reason.STAGNATION) and x1 == 0.6 and same(x2, 1.0 * 0.7)
    assert reason_text(reason, CONF_HIGH, x1, x2) == "Stagnation Exit (Low Vol: 0.60 < 0.70)"
    st = position()
    assert step(p, st, 99.5, atr=0.6, paxg=True)[0] == EXIT_NONE


def test_tsme_and_mmde():
    p = cfg(trade__tsme_min_profit_atr=1.0, trade__trailing_start_atr=10.0)
    st = position()
    kind, reason, _, x1, x2 = step(p, st, 102.0, adx=55.0, adx_slope=-0.5, macd_hist=1.0, prev_macd_hist=2.0,
                                   prev2_macd_hist=3.0, prev3_macd_hist=0.0)
    assert reason == Reason.TSME and (x1, x2) == (55.0, -0.5)
    assert reason_text(reason, 0, x1, x2) == ("Trend Saturation Momentum Exhaustion (ADX: 55.0, "
                                              "ADX_slope: -0.50)")
    st = position()
    kind, reason, _, x1, _ = step(p, st, 102.0, adx=36.0, macd_hist=1.0, prev_macd_hist=2.0,
                                  prev2_macd_hist=3.0, prev3_macd_hist=4.0)
    assert reason == Reason.MMDE and x1 == 2.0
    assert reason_text(reason, 0, x1) == "MACD Persistent Divergence (Profit: 2.00 ATR)"


@pytest.mark.parametrize("conf, close, rsi, low_ub, want", [
    (CONF_HIGH, 100.5, 81.0, 0.0, (Reason.RSI_OVERBOUGHT, 80.0)),       # low profit: ub_lo 80
    (CONF_HIGH, 100.5, 79.0, 0.0, None),
    (CONF_HIGH, 101.6, 71.0, 0.0, (Reason.RSI_OVERBOUGHT, 70.0)),       # profit ≥ 1.5 ATR: ub_hi 70
    (CONF_LOW, 100.5, 76.0, 75.5, (Reason.RSI_OVERBOUGHT, 75.5)),       # low-conf override > 0
])
def test_rsi_overextension(conf, close, rsi, low_ub, want):
    p = cfg(trade__rsi_exit_ub_lo_profit_low_conf=low_ub, trade__trailing_start_atr=10.0)
    st = position(conf=conf)
    kind, reason, _, x1, x2 = step(p, st, close, rsi=rsi)
    if want is None:
        assert kind == EXIT_NONE
    else:
        assert (reason, x2, x1) == (want[0], want[1], rsi)
        text = reason_text(reason, conf, x1, x2)
        assert text == f"RSI Overbought ({rsi:.1f}, Thr: {str(want[1]).removesuffix('.0')})"


def test_rsi_oversold_short():
    p = cfg()
    st = position(side=SHORT)
    kind, reason, _, x1, x2 = step(p, st, 99.5, rsi=19.0, ema_fast=99.0, ema_slow=100.0)
    assert (reason, x1, x2) == (Reason.RSI_OVERSOLD, 19.0, 20.0)
    assert reason_text(reason, 0, x1, x2) == "RSI Oversold (19.0, Thr: 20)"


def test_profit_atr_zero_entry_atr_uses_fallback_levels():
    """entry_atr ≤ 0: profit_atr is 0 and levels use atr_eff = entry × 0.005 (§1.2)."""
    p = cfg()
    st = position(atr=0.0)
    assert step(p, st, 99.01, atr=1.0)[0] == EXIT_NONE        # SL at 100 − 0.5 × 2 = 99
    assert step(p, st, 99.0, atr=1.0)[1] == Reason.STOP_LOSS
    np.testing.assert_equal(st.si[0, SI_HAS_TRAIL], 0)
