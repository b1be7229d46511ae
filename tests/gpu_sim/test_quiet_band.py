"""The work the exit sub-bar step skips: closes inside a position's quiet band, flat symbols.

gpu_sim.kernel_exits.quiet_band: every close strictly inside the band leaves a position untouched.

The exit sub-bar step skips evaluations whose close lies in the band of the current snapshot and state
(kernel_loop.exit_subbar_step). This property test draws random positions, snapshots and exit
parameters (every exit rule on or off, both sides, trailing / breakeven / partial states, glitch guard)
and evaluates closes inside each band — random ones and the closest doubles to both ends — with the
kernel's own evaluate_position: nothing may change (state, balance, records).
"""
from __future__ import annotations

import math

import numpy as np
import pytest

from gpu_sim.kernel_accounting import open_position
from gpu_sim.kernel_exits import quiet_band
from gpu_sim.kernel_loop import evaluate_position, exit_subbar_step
from gpu_sim.kernel_state import (
    ABSENT,
    GI_NPOS,
    LONG,
    PF_ENTRY,
    PF_ENTRY_ATR,
    PF_ENTRY_THR,
    PF_LEV,
    PF_MARGIN,
    PF_SIZE,
    PF_TRAIL,
    POSMASK_BITS,
    SF_IS_PAXG,
    SHORT,
    SI_BAR_COUNT,
    SI_BE_ARMED,
    SI_CONF,
    SI_HAS_POS,
    SI_HAS_TRAIL,
    SI_LAST_EXIT_T,
    SI_QBC,
    SI_SIDE,
    SI_TP1,
)

from .kernel_cases import OneConfig, col, default_row, ind_row

BASE_ROW = ind_row(ema_fast=101.0, ema_slow=100.0, ema_macro=90.0, adx=30.0, adx_slope=0.1, atr=1.0, atr_slope=0.1,
                   rsi=55.0, bb_width_ratio=1.0)


def random_case(rng: np.random.Generator):
    p = default_row()
    u = rng.uniform
    flip = lambda prob=0.5: float(rng.random() < prob)  # noqa: E731
    for path, value in {
        "trade.sl_atr_mult": u(0.3, 4.0), "trade.tp_atr_mult": u(0.5, 8.0),
        "thresholds.tp_and_momentum.tp_mult_strong": u(0.5, 9.0),
        "thresholds.tp_and_momentum.tp_mult_weak": u(0.5, 6.0),
        "thresholds.tp_and_momentum.adx_strong_gt": u(20, 50), "thresholds.tp_and_momentum.adx_weak_lt": u(10, 30),
        "trade.enable_partial_tp": flip(), "trade.tp_partial_pct": rng.choice([0.0, 0.5, 0.7, 1.0]),
        "trade.tp_partial_atr_mult": rng.choice([0.0, u(0.3, 3.0)]),
        "trade.tp_partial_min_notional_usd": u(0, 50),
        "trade.enable_breakeven_stop": flip(), "trade.breakeven_start_atr": u(-0.5, 2.0),
        "trade.breakeven_buffer_atr": u(-0.2, 0.5),
        "trade.trailing_start_atr": u(-0.5, 3.0), "trade.trailing_distance_atr": u(0.1, 2.0),
        "trade.trailing_start_atr_low_conf": rng.choice([0.0, u(0.2, 2.0)]),
        "trade.trailing_distance_atr_low_conf": rng.choice([0.0, u(0.2, 2.0)]),
        "trade.enable_vol_buffered_trailing": flip(),
        "trade.smart_exit_adx_exhaustion_lt": rng.choice([0.0, u(5, 30)]),
        "trade.smart_exit_adx_exhaustion_lt_low_conf": rng.choice([0.0, u(5, 30)]),
        "filters.require_macro_alignment": flip(),
        "trade.tsme_min_profit_atr": u(-1.0, 3.0), "trade.tsme_require_adx_slope_negative": flip(),
        "trade.enable_rsi_overextension_exit": flip(), "trade.rsi_exit_profit_atr_switch": u(-1, 3),
        "trade.rsi_exit_ub_lo_profit": u(60, 95), "trade.rsi_exit_ub_hi_profit": u(60, 95),
        "trade.rsi_exit_lb_lo_profit": u(5, 40), "trade.rsi_exit_lb_hi_profit": u(5, 40),
        "trade.block_exits_on_extreme_dev": flip(0.3), "trade.glitch_price_dev_pct": u(0.001, 0.2),
        "trade.glitch_atr_mult": u(0.5, 20.0), "trade.exit_cooldown_s": 0.0, "trade.slippage_bps": u(0, 20),
    }.items():
        p[col(path)] = float(value)
    st = OneConfig(1)
    side = LONG if rng.random() < 0.5 else SHORT
    entry = u(50, 150)
    atr = rng.choice([0.0, u(0.2, 5.0)])
    st.si[0, SI_HAS_POS] = 1
    st.si[0, SI_SIDE] = side
    st.si[0, SI_CONF] = int(rng.integers(0, 3))
    st.si[0, SI_TP1] = int(rng.random() < 0.3)
    st.si[0, SI_BE_ARMED] = int(rng.random() < 0.3)
    st.si[0, SI_LAST_EXIT_T] = ABSENT
    st.pf[0, PF_ENTRY] = entry
    st.pf[0, PF_ENTRY_ATR] = atr
    st.pf[0, PF_SIZE] = u(0.1, 20)
    st.pf[0, PF_ENTRY_THR] = u(0, 30)
    st.pf[0, PF_LEV] = 3.0
    st.pf[0, PF_MARGIN] = 100.0
    if rng.random() < 0.6:
        st.si[0, SI_HAS_TRAIL] = 1
        st.pf[0, PF_TRAIL] = entry + (1 if side == LONG else -1) * u(-3, 4) * max(atr, 0.5)
    ema_slow = entry * u(0.97, 1.03)
    bull = rng.random() < 0.8
    ema_fast = ema_slow * (u(1.0, 1.02) if (bull == (side == LONG)) else u(0.98, 1.0))
    h = u(-1, 1)
    row = ind_row(ema_fast=ema_fast, ema_slow=ema_slow, ema_macro=rng.choice([0.0, entry * u(0.9, 1.1)]),
                  adx=u(5, 70), adx_slope=u(-1, 1), atr=u(0.1, 4.0), atr_slope=u(-1, 1), rsi=u(10, 90),
                  bb_width_ratio=u(0.5, 2.0), macd_hist=h, prev_macd_hist=h + u(-0.5, 0.5),
                  prev2_macd_hist=h + u(-1, 1), prev3_macd_hist=h + u(-1.5, 1.5))
    prev_close = rng.choice([0.0, entry * u(0.95, 1.05)])
    return p, st, row, prev_close, float(rng.random() < 0.1)


def snapshot(st):
    si = st.si.copy()
    si[:, SI_QBC] = 0
    return si, st.pf.copy(), st.g_i.copy(), st.g_f.copy(), st.rec_i.copy(), st.rec_f.copy()


def closes_in(lo, hi, rng):
    a = lo if math.isfinite(lo) else (hi - 1000.0 if math.isfinite(hi) else -1000.0)
    b = hi if math.isfinite(hi) else a + 1000.0
    out = list(rng.uniform(max(a, 1e-6), b, 6)) if b > max(a, 1e-6) else []
    if math.isfinite(lo):
        x = lo
        for _ in range(3):
            x = math.nextafter(x, math.inf)
            out.append(x)
    if math.isfinite(hi):
        x = hi
        for _ in range(3):
            x = math.nextafter(x, -math.inf)
            out.append(x)
    return [c for c in out if lo < c < hi and c > 0.0]


def test_quiet_band_closes_change_nothing():
    rng = np.random.default_rng(20260)
    checked = bands = 0
    for _ in range(2500):
        p, st, row, prev_close, paxg = random_case(rng)
        lo, hi = quiet_band(p, st.si, st.pf, 0, row, prev_close, paxg != 0.0)
        if not (lo < hi):
            continue
        bands += 1
        before = snapshot(st)
        for c in closes_in(lo, hi, rng):
            evaluate_position(p, st.si, st.pf, st.g_i, st.g_f, st.rec_i, st.rec_f, 0, 10**12, row, c, prev_close,
                              SF_IS_PAXG if paxg else 0, 0.00035)
            after = snapshot(st)
            for x, y in zip(before, after):
                assert np.array_equal(x.view(np.int64), y.view(np.int64)), (lo, hi, c)
            checked += 1
    assert bands > 500 and checked > 5000, (bands, checked)


@pytest.mark.parametrize("n_sym", [8, POSMASK_BITS, POSMASK_BITS + 1, 70])
def test_subbar_step_visits_every_open_position(n_sym):
    """Open positions are found from the GI_POSMASK bit set (up to POSMASK_BITS symbols) or from the
    state (more symbols): each position whose sub-bar crosses its stop is closed, flat symbols and
    symbols without a sub-bar at the tick are untouched."""
    p = default_row(trade__enable_partial_tp=0, trade__exit_cooldown_s=0)
    params = np.repeat(p[None, :], n_sym, axis=0)
    st = OneConfig(n_sym, capacity=256)
    held = sorted({0, 3, n_sym // 2, n_sym - 2, n_sym - 1})
    for s in held:
        assert open_position(st.si, st.pf, st.g_i, st.g_f, st.rec_i, st.rec_f, s, 1000, LONG, 1, 100.0, 1.0, 20.0,
                             5.0, 1.0, 20.0, 0, 0.0, 0.0)
    rows = np.zeros((1, n_sym, 1, len(BASE_ROW)))
    rows[0, :, 0, :] = BASE_ROW
    st.si[:, SI_BAR_COUNT] = 1
    mc = np.full((n_sym, 1), 100.0)
    xcd = np.full((1, n_sym), 50.0)               # far below every stop
    xcd[0, held[1]] = np.nan                      # no sub-bar for this one at the tick
    exit_subbar_step(params, np.zeros(n_sym, np.int64), rows, mc, xcd, 0, st.si, st.pf, st.g_i, st.g_f, st.rec_i,
                     st.rec_f, np.zeros(n_sym, np.int64), 0.0, 2000)
    still = [s for s in range(n_sym) if st.si[s, SI_HAS_POS] != 0]
    assert still == [held[1]]
    assert st.g_i[GI_NPOS] == 1
