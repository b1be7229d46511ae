"""gpu_sim.kernel_accounting: the worked vectors of strategy-exits.md §6.4 (bit-exact), sizing §3.3,
pyramid checks §4, exits §6.3, funding §2.8 — each kernel function called compiled (njit)."""
from __future__ import annotations

import numpy as np
import pytest

from gpu_sim.kernel_accounting import (
    apply_exit,
    entry_sizing,
    equity,
    open_position,
    settle_funding,
)
from gpu_sim.kernel_orders import try_pyramid
from gpu_sim.kernel_records import (
    A_ADD_LONG,
    A_CLOSE_LONG,
    A_CLOSE_SHORT,
    A_FUNDING,
    A_OPEN_LONG,
    A_OPEN_SHORT,
    A_REDUCE_LONG,
    REC_ACTION,
    REC_BALANCE,
    REC_CONF,
    REC_FEE,
    REC_MARGIN,
    REC_NOTIONAL,
    REC_PNL,
    REC_PRICE,
    REC_REASON,
    REC_SIZE,
    REC_TS,
    REC_X1,
)
from gpu_sim.kernel_state import (
    CONF_HIGH,
    EXIT_FULL,
    EXIT_PARTIAL,
    GF_BALANCE,
    GF_FEES,
    GI_NPOS,
    GI_NREC,
    GI_TRADES,
    GI_WINS,
    LONG,
    PF_ENTRY,
    PF_MARGIN,
    PF_SIZE,
    SHORT,
    SI_ADDS,
    SI_BAR_COUNT,
    SI_HAS_POS,
    SI_LAST_CLOSE_REASON,
    SI_LAST_EXIT_T,
    SI_TP1,
)
from gpu_sim.reasons import R_END_OF_BACKTEST, R_ENTRY, R_FUNDING, R_PYRAMID, R_TAKE_PROFIT_PARTIAL

from .kernel_cases import T0, OneConfig, col, default_row, same

FEE = 3.5 / 10000.0
HOUR = 3_600_000


@pytest.fixture(scope="module")
def p():
    return default_row()      # code defaults; slippage_bps 10.0 is the default


def rec(st, k):
    return st.rec_i[k], st.rec_f[k]


def test_v1_to_v5_long_lifecycle(p):
    st = OneConfig(1)
    # ---- V1 open
    size, margin, lev = entry_sizing(p, 10000.0, 100.0, CONF_HIGH, 1.0, 30.0)
    assert (size, margin, lev) == (11.25, 225.0, 5.0)
    ok = open_position(st.si, st.pf, st.g_i, st.g_f, st.rec_i, st.rec_f, 0, T0, LONG, CONF_HIGH, 100.0, size,
                       margin, lev, 1.0, 22.0, R_ENTRY, p[col("trade.slippage_bps")], FEE)
    assert ok
    ri, rf = rec(st, 0)
    assert ri[REC_ACTION] == A_OPEN_LONG and ri[REC_REASON] == R_ENTRY and ri[REC_CONF] == CONF_HIGH
    assert ri[REC_TS] == T0
    assert same(rf[REC_PRICE], 100.1) and same(rf[REC_NOTIONAL], 1126.125) and same(rf[REC_FEE], 0.39414375)
    assert same(rf[REC_BALANCE], 9999.60585625) and same(rf[REC_MARGIN], 225.0)
    st.mc[0, 0] = 100.0
    st.si[0, SI_BAR_COUNT] = 1
    assert same(equity(st.si, st.pf, st.g_f, st.mc), 9998.48085625)
    # ---- V2 add, 60 minutes later at close 102.0
    st.mc[0, 1] = 102.0
    st.si[0, SI_BAR_COUNT] = 2
    assert same(equity(st.si, st.pf, st.g_f, st.mc), 10020.98085625)
    try_pyramid(p, p, st.si, st.pf, st.g_i, st.g_f, st.rec_i, st.rec_f, st.mc, 0, T0 + HOUR, 102.0, CONF_HIGH,
                1.0, FEE)
    assert st.g_i[GI_NREC] == 2
    ri, rf = rec(st, 1)
    assert ri[REC_ACTION] == A_ADD_LONG and ri[REC_REASON] == R_PYRAMID and rf[REC_X1] == 1.0
    assert same(rf[REC_SIZE], 7.368368276654411) and same(rf[REC_PRICE], 102.102)
    assert same(rf[REC_NOTIONAL], 752.325137782969) and same(rf[REC_FEE], 0.263313798224)
    assert same(rf[REC_BALANCE], 9999.342542451775) and same(rf[REC_MARGIN], 375.31471284375)
    assert same(st.pf[0, PF_ENTRY], 100.89230752505627) and same(st.pf[0, PF_SIZE], 18.61836827665441)
    assert st.si[0, SI_ADDS] == 1
    # ---- V3 partial reduce at close 104.0
    apply_exit(st.si, st.pf, st.g_i, st.g_f, st.rec_i, st.rec_f, 0, T0 + 2 * HOUR, 104.0, EXIT_PARTIAL, 0.5,
               R_TAKE_PROFIT_PARTIAL, 0.0, 0.0, 10.0, FEE)
    ri, rf = rec(st, 2)
    assert ri[REC_ACTION] == A_REDUCE_LONG and ri[REC_REASON] == R_TAKE_PROFIT_PARTIAL
    assert same(rf[REC_PRICE], 103.896) and same(rf[REC_SIZE], 9.309184138327)
    assert same(rf[REC_NOTIONAL], 967.186995235622) and same(rf[REC_PNL], 27.961926344158)
    assert same(rf[REC_FEE], 0.338515448332) and same(rf[REC_BALANCE], 10026.9659533476)
    assert same(rf[REC_MARGIN], 187.65735642187084)
    assert same(st.pf[0, PF_SIZE], 9.309184138327412) and same(st.pf[0, PF_MARGIN], 187.65735642187917)
    assert st.si[0, SI_TP1] == 1 and st.si[0, SI_HAS_POS] == 1
    assert st.si[0, SI_LAST_EXIT_T] == T0 + 2 * HOUR and st.si[0, SI_LAST_CLOSE_REASON] == R_TAKE_PROFIT_PARTIAL
    # ---- V4 funding at mark 103.5, rate 0.0001
    st.mc[0, 2] = 103.5
    st.si[0, SI_BAR_COUNT] = 3
    settle_funding(st.si, st.pf, st.g_i, st.g_f, st.rec_i, st.rec_f, st.mc, 0, T0 + 3 * HOUR, 0.0001)
    ri, rf = rec(st, 3)
    assert ri[REC_ACTION] == A_FUNDING and ri[REC_REASON] == R_FUNDING and rf[REC_X1] == 0.0001
    assert same(rf[REC_PNL], -0.096350055832) and same(rf[REC_BALANCE], 10026.869603291769)
    assert same(rf[REC_NOTIONAL], 963.5005583168871) and same(rf[REC_PRICE], 103.5) and rf[REC_FEE] == 0.0
    # ---- V5 close at 103.0
    apply_exit(st.si, st.pf, st.g_i, st.g_f, st.rec_i, st.rec_f, 0, T0 + 4 * HOUR, 103.0, EXIT_FULL, 0.0,
               R_END_OF_BACKTEST, 0.0, 0.0, 10.0, FEE)
    ri, rf = rec(st, 4)
    assert ri[REC_ACTION] == A_CLOSE_LONG and same(rf[REC_PRICE], 102.897)
    assert same(rf[REC_NOTIONAL], 957.887120281476) and same(rf[REC_PNL], 18.662051389971)
    assert same(rf[REC_FEE], 0.335260492099) and same(rf[REC_BALANCE], 10045.196394189641)
    assert same(st.g_f[GF_BALANCE], 10045.196394189641)
    assert st.si[0, SI_HAS_POS] == 0 and st.g_i[GI_NPOS] == 0
    assert st.g_i[GI_TRADES] == 2 and st.g_i[GI_WINS] == 2
    fees = 0.0
    for k in range(5):
        fees = fees + st.rec_f[k, REC_FEE]
    assert same(st.g_f[GF_FEES], fees)


def test_v6_short_round_trip(p):
    st = OneConfig(1)
    assert open_position(st.si, st.pf, st.g_i, st.g_f, st.rec_i, st.rec_f, 0, T0, SHORT, CONF_HIGH, 50.0, 2.0,
                         20.0, 5.0, 1.0, 22.0, R_ENTRY, 10.0, FEE)
    ri, rf = rec(st, 0)
    assert ri[REC_ACTION] == A_OPEN_SHORT
    assert same(rf[REC_PRICE], 49.95) and same(rf[REC_NOTIONAL], 99.9) and same(rf[REC_FEE], 0.034965)
    apply_exit(st.si, st.pf, st.g_i, st.g_f, st.rec_i, st.rec_f, 0, T0 + HOUR, 48.0, EXIT_FULL, 0.0,
               R_END_OF_BACKTEST, 0.0, 0.0, 10.0, FEE)
    ri, rf = rec(st, 1)
    assert ri[REC_ACTION] == A_CLOSE_SHORT
    assert same(rf[REC_PRICE], 48.048) and same(rf[REC_NOTIONAL], 96.096) and same(rf[REC_PNL], 3.804)
    assert same(rf[REC_FEE], 0.0336336) and same(st.g_f[GF_BALANCE], 10003.7354014)


def test_short_closed_at_entry_has_positive_zero_pnl(p):
    """D37: pnl of a SHORT closed exactly at its entry fill is q(−(+0.0)) = +0.0."""
    st = OneConfig(1)
    open_position(st.si, st.pf, st.g_i, st.g_f, st.rec_i, st.rec_f, 0, T0, SHORT, CONF_HIGH, 50.0, 2.0, 20.0,
                  5.0, 1.0, 22.0, R_ENTRY, 0.0, FEE)
    apply_exit(st.si, st.pf, st.g_i, st.g_f, st.rec_i, st.rec_f, 0, T0 + HOUR, 50.0, EXIT_FULL, 0.0,
               R_END_OF_BACKTEST, 0.0, 0.0, 0.0, FEE)
    assert same(st.rec_f[1, REC_PNL], 0.0)


def test_long_funding_at_zero_rate_is_positive_zero(p):
    st = OneConfig(1)
    open_position(st.si, st.pf, st.g_i, st.g_f, st.rec_i, st.rec_f, 0, T0, LONG, CONF_HIGH, 50.0, 2.0, 20.0,
                  5.0, 1.0, 22.0, R_ENTRY, 0.0, FEE)
    settle_funding(st.si, st.pf, st.g_i, st.g_f, st.rec_i, st.rec_f, st.mc, 0, T0 + HOUR, 0.0)
    assert same(st.rec_f[1, REC_PNL], 0.0)


@pytest.mark.parametrize("overrides, want", [
    ({}, (11.25, 225.0, 5.0)),
    ({"trade__enable_dynamic_sizing": 0}, (15.0, 300.0, 5.0)),
    ({"trade__enable_dynamic_leverage": 0}, (6.75, 225.0, 3.0)),            # leverage 3.0, cap not applied
    ({"trade__leverage_max_cap": 2.0}, (4.5, 225.0, 2.0)),
    ({"trade__vol_baseline_pct": 0.0}, (11.25, 225.0, 5.0)),                # raw scalar 1.0
])
def test_entry_sizing_branches(overrides, want):
    p = default_row(**overrides)
    assert entry_sizing(p, 10000.0, 100.0, CONF_HIGH, 1.0, 30.0) == want


def test_entry_sizing_vol_scalar_clamped():
    p = default_row()
    # ATR 2 % of price: vr = 2, 1/vr = 0.5 = vol_scalar_min; ATR 4 %: 0.25 clamped to 0.5
    s1 = entry_sizing(p, 10000.0, 100.0, CONF_HIGH, 2.0, 40.0)
    s2 = entry_sizing(p, 10000.0, 100.0, CONF_HIGH, 4.0, 40.0)
    assert s1 == s2 == (7.5, 150.0, 5.0)


def _long_after_open(p, close_mark):
    st = OneConfig(1)
    open_position(st.si, st.pf, st.g_i, st.g_f, st.rec_i, st.rec_f, 0, T0, LONG, CONF_HIGH, 100.0, 11.25, 225.0,
                  5.0, 1.0, 22.0, R_ENTRY, 10.0, FEE)
    st.mc[0, 0] = close_mark
    st.si[0, SI_BAR_COUNT] = 1
    return st


@pytest.mark.parametrize("dt_min, close, conf, n_adds_before, want_add", [
    (60, 102.0, CONF_HIGH, 0, True),
    (59, 102.0, CONF_HIGH, 0, False),          # add cooldown (minutes from the open)
    (60, 100.5, CONF_HIGH, 0, False),          # profit 0.4 ATR < 0.5
    (60, 102.0, 0, 0, False),                  # Low < add_min_confidence medium
    (60, 102.0, CONF_HIGH, 2, False),          # max_adds_per_symbol 2 reached
])
def test_pyramid_checks(p, dt_min, close, conf, n_adds_before, want_add):
    st = _long_after_open(p, close)
    st.si[0, SI_ADDS] = n_adds_before
    n0 = st.g_i[GI_NREC]
    try_pyramid(p, p, st.si, st.pf, st.g_i, st.g_f, st.rec_i, st.rec_f, st.mc, 0, T0 + dt_min * 60000, close,
                conf, 1.0, FEE)
    assert (st.g_i[GI_NREC] == n0 + 1) == want_add


def test_pyramid_margin_cap_blocks(p):
    q = default_row(trade__max_total_margin_pct=0.03)   # cap 300 < 225 + 150
    st = _long_after_open(p, 102.0)
    try_pyramid(q, q, st.si, st.pf, st.g_i, st.g_f, st.rec_i, st.rec_f, st.mc, 0, T0 + HOUR, 102.0, CONF_HIGH,
                1.0, FEE)
    assert st.g_i[GI_NREC] == 1


def test_pyramid_min_notional_bump(p):
    q = default_row(trade__min_notional_usd=1000.0, trade__bump_to_min_notional=1)
    st = _long_after_open(p, 102.0)
    try_pyramid(q, q, st.si, st.pf, st.g_i, st.g_f, st.rec_i, st.rec_f, st.mc, 0, T0 + HOUR, 102.0, CONF_HIGH,
                1.0, FEE)
    assert st.g_i[GI_NREC] == 2
    assert same(st.rec_f[1, REC_SIZE], 1000.0 / 102.0)
    q2 = default_row(trade__min_notional_usd=1000.0)
    st2 = _long_after_open(p, 102.0)
    try_pyramid(q2, q2, st2.si, st2.pf, st2.g_i, st2.g_f, st2.rec_i, st2.rec_f, st2.mc, 0, T0 + HOUR, 102.0,
                CONF_HIGH, 1.0, FEE)
    assert st2.g_i[GI_NREC] == 1


def test_open_refuses_non_positive_size(p):
    st = OneConfig(1)
    assert not open_position(st.si, st.pf, st.g_i, st.g_f, st.rec_i, st.rec_f, 0, T0, LONG, CONF_HIGH, 100.0, 0.0,
                             1.0, 5.0, 1.0, 22.0, R_ENTRY, 10.0, FEE)
    assert st.g_i[GI_NREC] == 0 and st.si[0, SI_HAS_POS] == 0


def test_record_overflow_keeps_accounting(p):
    st = OneConfig(1, capacity=1)
    open_position(st.si, st.pf, st.g_i, st.g_f, st.rec_i, st.rec_f, 0, T0, LONG, CONF_HIGH, 100.0, 11.25, 225.0,
                  5.0, 1.0, 22.0, R_ENTRY, 10.0, FEE)
    apply_exit(st.si, st.pf, st.g_i, st.g_f, st.rec_i, st.rec_f, 0, T0 + HOUR, 104.0, EXIT_FULL, 0.0,
               R_END_OF_BACKTEST, 0.0, 0.0, 10.0, FEE)
    assert st.g_i[GI_NREC] == 2 and st.g_i[GI_TRADES] == 1
    assert np.all(st.rec_i[0] == st.rec_i[0]) and st.rec_f.shape[0] == 1
