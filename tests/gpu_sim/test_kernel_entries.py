"""gpu_sim.kernel_entries: gates and modes (strategy-entries §4.2–§4.3), transforms T2–T4 (D8–D10,
D53.19), PESC (D16), REEF, ranking and execution (§4.7, strategy-exits §2.4) — compiled functions."""
from __future__ import annotations

import numpy as np
import pytest

from gpu_sim.kernel_entries import generate_signal, pesc_blocked, reef_blocks, transform_signal
from gpu_sim.kernel_orders import execute_candidates
from gpu_sim.kernel_records import REC_MARGIN, REC_SIZE, REC_SYM
from gpu_sim.kernel_state import (
    ABSENT,
    BUY,
    CF_ADX,
    CF_ATR,
    CF_PRICE,
    CF_THR,
    CI_CONF,
    CI_SCORE,
    CI_SIDE,
    CI_SYM,
    CONF_HIGH,
    CONF_LOW,
    CONF_MEDIUM,
    GF_CTX_BREADTH,
    GF_CTX_BTC_ADX,
    GF_CTX_BTC_ATR,
    GF_CTX_BTC_CLOSE,
    GI_BUDGET,
    GI_CTX_BANK,
    GI_CTX_BDEF,
    GI_NCAND,
    GI_NPOS,
    GI_NREC,
    LONG,
    N_CF,
    N_CI,
    NEUTRAL,
    SELL,
    SHORT,
    SI_LAST_CLOSE_REASON,
    SI_LAST_CLOSE_SIDE,
    SI_LAST_CLOSE_T,
)
from gpu_sim.reasons import R_ENTRY, R_SIGNAL_FLIP, R_STOP_LOSS

from .kernel_cases import BULL, OPEN_ENTRIES, T0, OneConfig, default_row, ind_row, set_paths

FEE = 0.00035


def open_row(**kw):
    return set_paths(default_row(**kw), OPEN_ENTRIES)


def gen(p, close=100.0, prev_close=99.5, prev_ema_fast=99.0, vol=100.0, is_btc=False, btc=-1, **fields):
    row = ind_row(**{**BULL, **fields})
    return generate_signal(p, row, close, prev_close, prev_ema_fast, vol, is_btc, btc)


# ---- gates and Mode A -------------------------------------------------------------------------------

def test_mode_a_buy_and_sell():
    p = open_row()
    assert gen(p) == (BUY, CONF_MEDIUM, 0.0)
    assert gen(p, vol=251.0)[1] == CONF_HIGH                       # v > vol_sma × 2.5
    s = gen(p, close=97.0, ema_fast=98.0, ema_slow=99.0, rsi=40.0)
    assert s[0] == SELL


def test_mode_a_dre_rsi_limit():
    p = set_paths(open_row(), {"thresholds.entry.min_adx": 22.0})
    # ADX 30: wgt = (30 − 22) / (40 − 22); long limit 56 + wgt × (52 − 56) = 54.22…
    assert gen(p, rsi=54.3, adx=30.0)[0] == BUY
    assert gen(p, rsi=54.2, adx=30.0)[0] == NEUTRAL


@pytest.mark.parametrize("k, d, blocked", [(0.9, 0.88, True), (0.9, 0.80, False), (0.8, 0.9, False)])
def test_d12_stoch_k_and_d(k, d, blocked):
    p = set_paths(open_row(), {"filters.use_stoch_rsi_filter": 1})
    assert (gen(p, stoch_k=k, stoch_d=d)[0] == NEUTRAL) == blocked


def test_g4_volume_confirmation():
    p = set_paths(open_row(), {"filters.require_volume_confirmation": 1, "filters.vol_confirm_include_prev": 1})
    assert gen(p, vol=90.0, prev_volume=120.0, prev_vol_sma=100.0, vol_trend=0.0, prev_vol_trend=1.0)[0] == BUY
    assert gen(p, vol=90.0, prev_volume=90.0, prev_vol_sma=100.0, vol_trend=1.0)[0] == NEUTRAL
    assert gen(p, vol=120.0, vol_trend=0.0, prev_vol_trend=0.0)[0] == NEUTRAL      # AND, not OR (D11)
    p2 = set_paths(open_row(), {"filters.require_volume_confirmation": 1, "filters.vol_confirm_include_prev": 0})
    assert gen(p2, vol=120.0, vol_trend=1.0)[0] == BUY
    assert gen(p2, vol=120.0, vol_trend=0.0, prev_vol_trend=1.0)[0] == NEUTRAL


def test_g6_tmc_and_ave():
    p = set_paths(open_row(), {"thresholds.entry.min_adx": 30.0})
    assert gen(p, adx=28.0, adx_slope=0.1)[0] == NEUTRAL
    assert gen(p, adx=28.0, adx_slope=0.6) == (BUY, CONF_MEDIUM, 25.0)                # TMC: min(30, 25)
    p2 = set_paths(open_row(), {"thresholds.entry.min_adx": 20.0, "thresholds.entry.ave_enabled": 1})
    assert gen(p2, adx=24.0, atr=2.0, avg_atr=1.0) == (NEUTRAL, CONF_LOW, 0.0)        # 20 × 1.25 = 25
    assert gen(p2, adx=26.0, atr=2.0, avg_atr=1.0) == (BUY, CONF_MEDIUM, 25.0)


def test_g8_btc_alignment():
    p = set_paths(open_row(), {"filters.require_btc_alignment": 1})
    assert gen(p, btc=0)[0] == NEUTRAL                  # BTC bearish blocks a long
    assert gen(p, btc=1)[0] == BUY
    assert gen(p, btc=-1)[0] == BUY                     # unknown → exempt
    assert gen(p, btc=0, is_btc=True)[0] == BUY         # the symbol BTC itself
    assert gen(p, btc=0, adx=41.0)[0] == BUY            # ADX override 40


def test_g1_ranging_literal_zero():
    p = set_paths(open_row(), {"filters.enable_ranging_filter": 1, "thresholds.ranging.min_signals": 0})
    assert gen(p)[0] == NEUTRAL                          # D20: 0 → always ranging
    p = set_paths(open_row(), {"filters.enable_ranging_filter": 1, "thresholds.ranging.min_signals": 2})
    assert gen(p)[0] == BUY
    assert gen(p, adx=20.0, bb_width_ratio=0.5)[0] == NEUTRAL


def test_anomaly_and_extension():
    p = set_paths(open_row(), {"filters.enable_anomaly_filter": 1})
    assert gen(p, close=100.0, prev_close=80.0)[0] == NEUTRAL
    p = set_paths(open_row(), {"filters.enable_extension_filter": 1})
    assert gen(p, close=104.0)[0] == NEUTRAL             # |104 − 99| / 99 > 0.04
    assert gen(p, close=102.0)[0] == BUY


def test_mode_b_pullback():
    p = set_paths(open_row(), {"thresholds.entry.min_adx": 50.0, "thresholds.entry.enable_pullback_entries": 1,
                               "thresholds.entry.pullback_confidence": 1})
    assert gen(p, prev_close=98.5, prev_ema_fast=99.0) == (BUY, CONF_MEDIUM, 22.0)
    assert gen(p, prev_close=99.5, prev_ema_fast=99.0)[0] == NEUTRAL          # no cross
    assert gen(p, prev_close=98.5, prev_ema_fast=99.0, macd_hist=-1.0)[0] == NEUTRAL


def test_mode_c_slow_drift():
    p = set_paths(open_row(), {"thresholds.entry.min_adx": 50.0, "thresholds.entry.enable_slow_drift_entries": 1})
    assert gen(p, ema_slow_slope_pct=0.001) == (BUY, CONF_LOW, 10.0)
    assert gen(p, ema_slow_slope_pct=0.0001)[0] == NEUTRAL


# ---- transforms T2–T4 ---------------------------------------------------------------------------------

def ctx(breadth=50.0, defined=True, bank=0, btc_close=100.0, btc_adx=30.0, btc_atr=0.5):
    st = OneConfig(1)
    st.g_i[GI_CTX_BDEF] = 1 if defined else 0
    st.g_f[GF_CTX_BREADTH] = breadth
    st.g_i[GI_CTX_BANK] = bank
    st.g_f[GF_CTX_BTC_CLOSE] = btc_close
    st.g_f[GF_CTX_BTC_ADX] = btc_adx
    st.g_f[GF_CTX_BTC_ATR] = btc_atr
    return st


@pytest.mark.parametrize("breadth, high, low, sig_in, want", [
    (70.0, 90.0, 10.0, BUY, SELL), (70.0, 63.0, 10.0, BUY, BUY),
    (10.0, 90.0, 7.0, BUY, SELL), (10.0, 90.0, 10.0, BUY, SELL), (10.0, 90.0, 13.0, BUY, BUY),
])
def test_d10_auto_reverse(breadth, high, low, sig_in, want):
    p = default_row(market_regime__enable_auto_reverse=1, market_regime__auto_reverse_breadth_high=high,
                    market_regime__auto_reverse_breadth_low=low)
    st = ctx(breadth)
    assert transform_signal(p, st.g_i, st.g_f, sig_in) == want


def test_static_reverse_and_undefined_breadth():
    p = default_row(trade__reverse_entry_signal=1)
    st = ctx()
    assert transform_signal(p, st.g_i, st.g_f, BUY) == SELL
    p2 = default_row(trade__reverse_entry_signal=1, market_regime__enable_auto_reverse=1,
                     market_regime__auto_reverse_breadth_low=60.0)
    assert transform_signal(p2, st.g_i, st.g_f, BUY) == BUY            # breadth 50 outside band: no flip
    und = ctx(defined=False)
    assert transform_signal(p2, und.g_i, und.g_f, BUY) == SELL         # D53.19 / N10: static flag decides


@pytest.mark.parametrize("long_below, blocked", [(13.0, True), (10.0, False)])
def test_d8_regime_filter(long_below, blocked):
    p = default_row(market_regime__enable_regime_filter=1, market_regime__breadth_block_long_below=long_below)
    st = ctx(10.0)
    assert (transform_signal(p, st.g_i, st.g_f, BUY) == NEUTRAL) == blocked
    und = ctx(10.0, defined=False)
    assert transform_signal(p, und.g_i, und.g_f, BUY) == BUY


@pytest.mark.parametrize("overrides, context, open_", [
    ({"market_regime__regime_gate_breadth_low": 14.0}, dict(breadth=20.0), False),
    ({"market_regime__regime_gate_breadth_low": 26.0}, dict(breadth=20.0), True),
    ({"market_regime__regime_gate_btc_adx_min": 14.0}, dict(breadth=10.0, btc_adx=18.0), True),
    ({"market_regime__regime_gate_btc_adx_min": 20.0}, dict(breadth=10.0, btc_adx=18.0), False),
    ({"market_regime__regime_gate_btc_atr_pct_min": 0.0021}, dict(breadth=10.0, btc_atr=0.25), True),
    ({"market_regime__regime_gate_btc_atr_pct_min": 0.003}, dict(breadth=10.0, btc_atr=0.25), False),
    ({"market_regime__regime_gate_fail_open": 1}, dict(breadth=10.0, bank=-1), True),
    ({"market_regime__regime_gate_fail_open": 0}, dict(breadth=10.0, bank=-1), False),
    ({"market_regime__regime_gate_fail_open": 1}, dict(defined=False), True),
    ({"market_regime__regime_gate_fail_open": 0}, dict(defined=False), False),
])
def test_d9_regime_gate(overrides, context, open_):
    p = default_row(market_regime__enable_regime_gate=1, market_regime__regime_gate_breadth_high=56.0,
                    **overrides)
    st = ctx(**context)
    assert (transform_signal(p, st.g_i, st.g_f, BUY) == BUY) == open_


# ---- filters ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("base, adx, dt_min, blocked", [
    (42, 32.5, 50, False), (60, 32.5, 50, True),            # D16 scenario
    (60, 25.0, 179, True), (60, 25.0, 180, False),
    (60, 30.0, 99, True), (60, 30.0, 100, False),
    (60, 40.0, 44, True), (60, 40.0, 45, False),
])
def test_d16_pesc(base, adx, dt_min, blocked):
    p = default_row(trade__reentry_cooldown_minutes=base)
    st = OneConfig(1)
    st.si[0, SI_LAST_CLOSE_T] = T0
    st.si[0, SI_LAST_CLOSE_SIDE] = LONG
    st.si[0, SI_LAST_CLOSE_REASON] = R_STOP_LOSS
    assert pesc_blocked(p, st.si, 0, LONG, T0 + dt_min * 60000, adx) == blocked
    assert not pesc_blocked(p, st.si, 0, SHORT, T0 + dt_min * 60000, adx)


def test_pesc_ignores_flips_and_absent():
    p = default_row()
    st = OneConfig(1)
    assert st.si[0, SI_LAST_CLOSE_T] == ABSENT
    assert not pesc_blocked(p, st.si, 0, LONG, T0, 30.0)
    st.si[0, SI_LAST_CLOSE_T] = T0
    st.si[0, SI_LAST_CLOSE_SIDE] = LONG
    st.si[0, SI_LAST_CLOSE_REASON] = R_SIGNAL_FLIP
    assert not pesc_blocked(p, st.si, 0, LONG, T0 + 1000, 30.0)


def test_reef_tiers():
    p = default_row()
    assert reef_blocks(p, BUY, 30.0, 71.0) and not reef_blocks(p, BUY, 30.0, 69.0)
    assert not reef_blocks(p, BUY, 50.0, 74.0) and reef_blocks(p, BUY, 50.0, 76.0)
    assert reef_blocks(p, SELL, 30.0, 29.0) and not reef_blocks(p, SELL, 50.0, 26.0)


# ---- ranking and execution ---------------------------------------------------------------------------

def candidates(st, cands):
    for k, (sym, side, conf, adx) in enumerate(cands):
        st.cand_i[k, CI_SYM] = sym
        st.cand_i[k, CI_SIDE] = side
        st.cand_i[k, CI_CONF] = conf
        st.cand_i[k, CI_SCORE] = conf * 100 + int(adx)
        st.cand_f[k, CF_ADX] = adx
        st.cand_f[k, CF_ATR] = 1.0
        st.cand_f[k, CF_THR] = 22.0
        st.cand_f[k, CF_PRICE] = 100.0
    st.g_i[GI_NCAND] = len(cands)


def exec_state(n_sym):
    st = OneConfig(n_sym)
    st.cand_i = np.zeros((n_sym, N_CI), np.int64)
    st.cand_f = np.zeros((n_sym, N_CF), np.float64)
    return st


def run_exec(st, params, pp):
    execute_candidates(params, pp, st.si, st.pf, st.g_i, st.g_f, st.rec_i, st.rec_f, st.cand_i, st.cand_f, st.mc,
                       T0, R_ENTRY, FEE)
    return [int(st.rec_i[k, REC_SYM]) for k in range(st.g_i[GI_NREC])]


def test_ranking_score_then_symbol():
    params = np.stack([default_row()] * 4)
    pp = default_row()
    st = exec_state(4)
    # scores: s0 High 30.9 → 230; s1 Medium 45 → 145; s2 High 30.1 → 230; s3 High 31 → 231
    candidates(st, [(0, LONG, CONF_HIGH, 30.9), (1, SHORT, CONF_MEDIUM, 45.0), (2, LONG, CONF_HIGH, 30.1),
                    (3, LONG, CONF_HIGH, 31.0)])
    assert run_exec(st, params, pp) == [3, 0, 2, 1]
    assert st.g_i[GI_BUDGET] == 4 and st.g_i[GI_NPOS] == 4


def test_budget_and_max_positions():
    params = np.stack([default_row()] * 3)
    st = exec_state(3)
    candidates(st, [(0, LONG, CONF_HIGH, 30.0), (1, LONG, CONF_HIGH, 31.0), (2, LONG, CONF_HIGH, 32.0)])
    assert run_exec(st, params, default_row(trade__max_entry_orders_per_loop=2)) == [2, 1]
    st = exec_state(3)
    candidates(st, [(0, LONG, CONF_HIGH, 30.0), (1, LONG, CONF_HIGH, 31.0), (2, LONG, CONF_HIGH, 32.0)])
    assert run_exec(st, params, default_row(trade__max_open_positions=1)) == [2]
    st = exec_state(3)
    candidates(st, [(0, LONG, CONF_HIGH, 30.0)])
    assert run_exec(st, params, default_row(trade__max_open_positions=0)) == []


def test_margin_headroom_clamps_then_skips():
    params = np.stack([default_row()] * 3)
    pp = default_row(trade__max_total_margin_pct=0.05)        # headroom 500 at equity 10000
    st = exec_state(3)
    candidates(st, [(0, LONG, CONF_HIGH, 40.0), (1, LONG, CONF_HIGH, 40.0), (2, LONG, CONF_HIGH, 40.0)])
    assert run_exec(st, params, pp) == [0, 1]                  # 300, then clamped to 200, then 0 → skip
    assert st.rec_f[0, REC_MARGIN] == 300.0 and st.rec_f[1, REC_MARGIN] == 200.0
    assert st.rec_f[1, REC_SIZE] == 15.0 * (200.0 / 300.0)
