"""Exit evaluation and the persistent position state (strategy-exits.md §5; D13–D17, D19).

A snapshot is ``row`` (``ind[set, s, k]``, the indicator fields of the latest main bar) plus the price
fields a sub-bar view replaces (D5): ``close`` (main close or sub-bar close) and ``prev_close`` (the
snapshot's own ``prev_close``, or the main close ``S.c`` for a view). Exits read no other price.
"""
from __future__ import annotations

import math

from gpu_sim.fma import mul
from gpu_sim.ind_fields import (
    ADX,
    ADX_SLOPE,
    ATR,
    ATR_SLOPE,
    BB_WIDTH_RATIO,
    EMA_FAST,
    EMA_MACRO,
    EMA_SLOW,
    MACD_HIST,
    PREV2_MACD_HIST,
    PREV3_MACD_HIST,
    PREV_MACD_HIST,
    RSI,
)
from gpu_sim.kernel_accounting import atr_eff, profit_atr
from gpu_sim.kernel_arith import clamp, fmax, fmin
from gpu_sim.kernel_jit import device
from gpu_sim.kernel_state import (
    CONF_LOW,
    EXIT_FULL,
    EXIT_NONE,
    EXIT_PARTIAL,
    LONG,
    P_ADX_STRONG_GT,
    P_ADX_WEAK_LT,
    P_BLOCK_EXITS_ON_EXTREME_DEV,
    P_BREAKEVEN_BUFFER_ATR,
    P_BREAKEVEN_START_ATR,
    P_ENABLE_BREAKEVEN_STOP,
    P_ENABLE_PARTIAL_TP,
    P_ENABLE_RSI_OVEREXTENSION_EXIT,
    P_ENABLE_VOL_BUFFERED_TRAILING,
    P_GLITCH_ATR_MULT,
    P_GLITCH_PRICE_DEV_PCT,
    P_REQUIRE_MACRO_ALIGNMENT,
    P_RSI_EXIT_LB_HI_PROFIT,
    P_RSI_EXIT_LB_HI_PROFIT_LOW_CONF,
    P_RSI_EXIT_LB_LO_PROFIT,
    P_RSI_EXIT_LB_LO_PROFIT_LOW_CONF,
    P_RSI_EXIT_PROFIT_ATR_SWITCH,
    P_RSI_EXIT_UB_HI_PROFIT,
    P_RSI_EXIT_UB_HI_PROFIT_LOW_CONF,
    P_RSI_EXIT_UB_LO_PROFIT,
    P_RSI_EXIT_UB_LO_PROFIT_LOW_CONF,
    P_SL_ATR_MULT,
    P_SMART_EXIT_ADX_EXHAUSTION_LT,
    P_SMART_EXIT_ADX_EXHAUSTION_LT_LOW_CONF,
    P_TP_ATR_MULT,
    P_TP_MULT_STRONG,
    P_TP_MULT_WEAK,
    P_TP_PARTIAL_ATR_MULT,
    P_TP_PARTIAL_MIN_NOTIONAL_USD,
    P_TP_PARTIAL_PCT,
    P_TRAILING_DISTANCE_ATR,
    P_TRAILING_DISTANCE_ATR_LOW_CONF,
    P_TRAILING_START_ATR,
    P_TRAILING_START_ATR_LOW_CONF,
    P_TSME_MIN_PROFIT_ATR,
    P_TSME_REQUIRE_ADX_SLOPE_NEGATIVE,
    PF_ENTRY,
    PF_ENTRY_ATR,
    PF_ENTRY_THR,
    PF_SIZE,
    PF_TRAIL,
    SI_BE_ARMED,
    SI_CONF,
    SI_HAS_TRAIL,
    SI_SIDE,
    SI_TP1,
)
from gpu_sim.reasons import (
    R_EMA_MACRO_BREAKDOWN,
    R_EMA_MACRO_BREAKOUT,
    R_MMDE,
    R_NONE,
    R_RSI_OVERBOUGHT,
    R_RSI_OVERSOLD,
    R_STAGNATION,
    R_STOP_LOSS,
    R_TAKE_PROFIT,
    R_TAKE_PROFIT_PARTIAL,
    R_TRAILING_STOP,
    R_TREND_BREAKDOWN,
    R_TREND_EXHAUSTION,
    R_TSME,
)

HOLD = 0  # take_profit: no TP decision


@device(inline=True)
def stop_crossed(side, close, level):
    """LONG ``close <= level``; SHORT ``close >= level`` (§0.4)."""
    if side == LONG:
        return close <= level
    return close >= level


@device(inline=True)
def target_crossed(side, close, level):
    """LONG ``close >= level``; SHORT ``close <= level`` (§0.4)."""
    if side == LONG:
        return close >= level
    return close <= level


@device(inline=True)
def be_reached(side, entry, a, close, start_atr):
    """Profit in price ≥ ``atr_eff × breakeven_start_atr`` at the evaluated close (§5.1)."""
    bs = a * start_atr
    if side == LONG:
        return (close - entry) >= bs
    return (entry - close) >= bs


@device(inline=True)
def sl_level(p, side, entry, a, be_armed, close, adx, adx_slope):
    """Stop-loss level with ASE / DASE / SLB and the latched breakeven floor (§5.1, D14)."""
    m = p[P_SL_ATR_MULT]
    underwater = close < entry if side == LONG else close > entry
    if adx_slope < 0.0 and underwater:
        m = m * 0.8
    if adx > 40.0:
        if side == LONG:
            pr = (close - entry) / a
        else:
            pr = (entry - close) / a
        if pr > 0.5:
            m = m * 1.15
    if adx > 45.0:
        m = m * 1.10
    if side == LONG:
        sl = entry - mul(a, m)
    else:
        sl = entry + mul(a, m)
    if p[P_ENABLE_BREAKEVEN_STOP] != 0.0:
        if be_armed or be_reached(side, entry, a, close, p[P_BREAKEVEN_START_ATR]):
            bb = mul(a, p[P_BREAKEVEN_BUFFER_ATR])
            if side == LONG:
                sl = fmax(sl, entry + bb)
            else:
                sl = fmin(sl, entry - bb)
    return sl


@device(inline=True)
def take_profit(p, side, entry, a, size, tp1_taken, close, adx):
    """``(kind, reason, pct)``: EXIT_FULL / EXIT_PARTIAL or HOLD (§5.3, D15)."""
    if adx > p[P_ADX_STRONG_GT]:
        tpm = p[P_TP_MULT_STRONG]
    elif adx < p[P_ADX_WEAK_LT]:
        tpm = p[P_TP_MULT_WEAK]
    else:
        tpm = p[P_TP_ATR_MULT]
    tp = entry + mul(a, tpm) if side == LONG else entry - mul(a, tpm)
    ptam = p[P_TP_PARTIAL_ATR_MULT]
    if p[P_ENABLE_PARTIAL_TP] != 0.0:
        if not tp1_taken:
            pm = ptam if ptam > 0.0 else tpm
            ptp = entry + mul(a, pm) if side == LONG else entry - mul(a, pm)
            if target_crossed(side, close, ptp):
                pct = clamp(p[P_TP_PARTIAL_PCT], 0.0, 1.0)
                if pct > 0.0 and pct < 1.0:
                    if ((size * (1.0 - pct)) * close) < p[P_TP_PARTIAL_MIN_NOTIONAL_USD]:
                        return HOLD, R_NONE, 0.0
                    return EXIT_PARTIAL, R_TAKE_PROFIT_PARTIAL, pct
                # pct 0 or 1: fall through to the full-TP check
            else:
                if ptam <= 0.0:
                    return HOLD, R_NONE, 0.0
                # separate partial level not reached: fall through
        else:
            if ptam > 0.0 and target_crossed(side, close, tp):
                return EXIT_FULL, R_TAKE_PROFIT, 0.0
            return HOLD, R_NONE, 0.0
    if target_crossed(side, close, tp):
        return EXIT_FULL, R_TAKE_PROFIT, 0.0
    return HOLD, R_NONE, 0.0


@device(inline=True)
def low_conf(p, col, col_low, low):
    """``p[col]``, or its low-confidence variant ``p[col_low]`` for a low-confidence entry when that is > 0
    (the rule of every ``*_low_conf`` axis)."""
    if low and p[col_low] > 0.0:
        return p[col_low]
    return p[col]


@device(inline=True)
def rsi_exit_bounds(p, low, hi_profit):
    """``(ub, lb)`` of the RSI overextension exit in the low- or high-profit band (§5.4.7, D19); a
    low-confidence entry uses the band's ``_low_conf`` bound where that is > 0."""
    if hi_profit:
        c_ub, c_lb = P_RSI_EXIT_UB_HI_PROFIT, P_RSI_EXIT_LB_HI_PROFIT
        c_ub_low, c_lb_low = P_RSI_EXIT_UB_HI_PROFIT_LOW_CONF, P_RSI_EXIT_LB_HI_PROFIT_LOW_CONF
    else:
        c_ub, c_lb = P_RSI_EXIT_UB_LO_PROFIT, P_RSI_EXIT_LB_LO_PROFIT
        c_ub_low, c_lb_low = P_RSI_EXIT_UB_LO_PROFIT_LOW_CONF, P_RSI_EXIT_LB_LO_PROFIT_LOW_CONF
    return low_conf(p, c_ub, c_ub_low, low), low_conf(p, c_lb, c_lb_low, low)


@device(inline=True)
def rsi_exit(p, side, low, pa, rsi):
    """``(reason, threshold)`` of the RSI overextension exit, or ``(R_NONE, 0)`` (§5.4.7, D19)."""
    sw = fmax(p[P_RSI_EXIT_PROFIT_ATR_SWITCH], 0.0)
    ub, lb = rsi_exit_bounds(p, low, not (pa < sw))
    if side == LONG and rsi > ub:
        return R_RSI_OVERBOUGHT, ub
    if side != LONG and rsi < lb:
        return R_RSI_OVERSOLD, lb
    return R_NONE, 0.0


@device(inline=True)
def smart_exit(p, side, low, entry, a, thr_entry, pa, close, row, is_paxg):
    """``(reason, x1, x2)`` of the first matching smart exit, or ``(R_NONE, 0, 0)`` (§5.4)."""
    adx = row[ADX]
    ema_fast = row[EMA_FAST]
    ema_slow = row[EMA_SLOW]
    # 5.4.1 trend breakdown / ADX exhaustion
    t0 = low_conf(p, P_SMART_EXIT_ADX_EXHAUSTION_LT, P_SMART_EXIT_ADX_EXHAUSTION_LT_LOW_CONF, low)
    thr = t0 if t0 > 0.0 else thr_entry
    thr = fmax(thr, 0.0)
    dev = abs(ema_fast - ema_slow) / ema_slow if ema_slow > 0.0 else 0.0
    weak = dev < 0.001 and adx > 25.0
    if side == LONG:
        cross = ema_fast < ema_slow and not weak
    else:
        cross = ema_fast > ema_slow and not weak
    if cross:
        return R_TREND_BREAKDOWN, 0.0, 0.0
    if thr > 0.0 and adx < thr:
        return R_TREND_EXHAUSTION, thr, 0.0
    # 5.4.2 macro breakdown
    if p[P_REQUIRE_MACRO_ALIGNMENT] != 0.0 and row[EMA_MACRO] > 0.0:
        if side == LONG and close < row[EMA_MACRO]:
            return R_EMA_MACRO_BREAKDOWN, 0.0, 0.0
        if side != LONG and close > row[EMA_MACRO]:
            return R_EMA_MACRO_BREAKOUT, 0.0, 0.0
    # 5.4.3 stagnation
    underwater = close < entry if side == LONG else close > entry
    floor_atr = a * 0.70
    if row[ATR] < floor_atr and underwater and not is_paxg:
        return R_STAGNATION, row[ATR], floor_atr
    # 5.4.5 TSME
    h = row[MACD_HIST]
    p1 = row[PREV_MACD_HIST]
    p2 = row[PREV2_MACD_HIST]
    p3 = row[PREV3_MACD_HIST]
    adx_slope = row[ADX_SLOPE]
    if adx > 50.0 and pa >= p[P_TSME_MIN_PROFIT_ATR] and (
            p[P_TSME_REQUIRE_ADX_SLOPE_NEGATIVE] == 0.0 or adx_slope < 0.0):
        if side == LONG:
            contract = h < p1 and p1 < p2
        else:
            contract = h > p1 and p1 > p2
        if contract:
            return R_TSME, adx, adx_slope
    # 5.4.6 MMDE
    if pa > 1.5 and adx > 35.0:
        if side == LONG:
            div = h < p1 and p1 < p2 and p2 < p3
        else:
            div = h > p1 and p1 > p2 and p2 > p3
        if div:
            return R_MMDE, pa, 0.0
    # 5.4.7 RSI overextension
    if p[P_ENABLE_RSI_OVEREXTENSION_EXIT] != 0.0:
        reason, lim = rsi_exit(p, side, low, pa, row[RSI])
        if reason != R_NONE:
            return reason, row[RSI], lim
    return R_NONE, 0.0, 0.0


@device(inline=True)
def evaluate_exits(p, si, pf, s, row, close, prev_close, is_paxg):
    """``(kind, reason, pct, x1, x2)`` in priority order glitch → SL → trailing → TP → smart (§5.0)."""
    side = si[s, SI_SIDE]
    entry = pf[s, PF_ENTRY]
    entry_atr = pf[s, PF_ENTRY_ATR]
    pa = profit_atr(side, entry, entry_atr, close)
    # 0. glitch guard
    if p[P_BLOCK_EXITS_ON_EXTREME_DEV] != 0.0 and prev_close > 0.0:
        d = abs(close - prev_close)
        atr = row[ATR]
        if d / prev_close > p[P_GLITCH_PRICE_DEV_PCT] or (atr > 0.0 and d > atr * p[P_GLITCH_ATR_MULT]):
            return EXIT_NONE, R_NONE, 0.0, 0.0, 0.0
    a = atr_eff(entry, entry_atr)
    adx = row[ADX]
    # 1. stop loss (with latched breakeven)
    sl = sl_level(p, side, entry, a, si[s, SI_BE_ARMED] != 0, close, adx, row[ADX_SLOPE])
    if stop_crossed(side, close, sl):
        return EXIT_FULL, R_STOP_LOSS, 0.0, 0.0, 0.0
    # 2. trailing stop (stored level)
    if si[s, SI_HAS_TRAIL] != 0 and stop_crossed(side, close, pf[s, PF_TRAIL]):
        return EXIT_FULL, R_TRAILING_STOP, 0.0, 0.0, 0.0
    # 3. take profit
    kind, reason, pct = take_profit(p, side, entry, a, pf[s, PF_SIZE], si[s, SI_TP1] != 0, close, adx)
    if kind != HOLD:
        return kind, reason, pct, 0.0, 0.0
    # 4. smart exits
    low = si[s, SI_CONF] == CONF_LOW
    reason, x1, x2 = smart_exit(p, side, low, entry, a, pf[s, PF_ENTRY_THR], pa, close, row, is_paxg)
    if reason != R_NONE:
        return EXIT_FULL, reason, 0.0, x1, x2
    return EXIT_NONE, R_NONE, 0.0, 0.0, 0.0


@device(inline=True)
def update_position_state(p, si, pf, s, row, close):
    """Ratchet the stored trailing level and latch breakeven after a non-exiting evaluation (§5.2)."""
    side = si[s, SI_SIDE]
    entry = pf[s, PF_ENTRY]
    entry_atr = pf[s, PF_ENTRY_ATR]
    pa = profit_atr(side, entry, entry_atr, close)
    a = atr_eff(entry, entry_atr)
    low = si[s, SI_CONF] == CONF_LOW
    start = low_conf(p, P_TRAILING_START_ATR, P_TRAILING_START_ATR_LOW_CONF, low)
    dist = low_conf(p, P_TRAILING_DISTANCE_ATR, P_TRAILING_DISTANCE_ATR_LOW_CONF, low)
    if pa >= start:
        rsi = row[RSI]
        adx = row[ADX]
        floor = 0.7 if ((side == LONG and rsi > 60.0) or (side != LONG and rsi < 40.0)) else 0.5
        eff = dist
        if p[P_ENABLE_VOL_BUFFERED_TRAILING] != 0.0 and row[BB_WIDTH_RATIO] > 1.2:
            eff = dist * 1.25
        if pa > 2.0:
            if adx > 35.0 and row[ADX_SLOPE] > 0.0:
                k = 1.0
            elif row[ATR_SLOPE] > 0.0:
                k = 0.75
            else:
                k = 0.5
            eff = dist * k
        elif adx < 25.0:
            eff = dist * 0.7
        eff = fmax(eff, floor)
        if side == LONG:
            new = close - mul(a, eff)
        else:
            new = close + mul(a, eff)
        if si[s, SI_HAS_TRAIL] == 0:
            pf[s, PF_TRAIL] = new
            si[s, SI_HAS_TRAIL] = 1
        elif side == LONG and new > pf[s, PF_TRAIL]:
            pf[s, PF_TRAIL] = new
        elif side != LONG and new < pf[s, PF_TRAIL]:
            pf[s, PF_TRAIL] = new
    if p[P_ENABLE_BREAKEVEN_STOP] != 0.0 and be_reached(side, entry, a, close, p[P_BREAKEVEN_START_ATR]):
        si[s, SI_BE_ARMED] = 1


# ---- quiet band: sub-bar evaluations that provably change nothing ----------------------------------------
#
# Between two main steps an open position is evaluated at every exit sub-bar on the same snapshot (``row``,
# ``prev_close``) with only ``close`` changing. ``quiet_band`` returns an open interval ``(lo, hi)`` of closes
# at which ``evaluate_position`` neither exits nor changes the position state (trailing level, breakeven
# latch), for the current state; the sub-bar step skips such closes (nothing to do, nothing recorded) and
# recomputes the band after every evaluation it does run. Each rule of evaluate_exits /
# update_position_state is bounded with the kernel's own arithmetic:
#
# * rules that fire below / above a level computed without ``close`` (stop loss — every level sl_level can
#   produce, i.e. each combination of its close-dependent multipliers, with the breakeven floor —, trailing
#   stop, take profit and the partial level, EMA-macro break, stagnation) bound ``lo`` / ``hi`` by the level
#   itself (the band is open, so a close equal to a level is never skipped);
# * rules on the profit in ATRs (TSME, MMDE, trailing start) and on the breakeven distance use quantities
#   monotone in ``close`` (a correctly rounded subtraction or division by a positive constant is monotone):
#   a candidate bound is checked with the rule's own expression, so every close on the quiet side of it is
#   quiet too; a candidate that fails the check empties the band;
# * the trailing ratchet is quiet where the new level ``close ∓ a × eff`` (monotone in ``close`` for each of
#   the two values ``eff`` can take) does not pass the stored one, or where the profit is below the start;
# * rules that do not depend on ``close`` (trend breakdown, ADX exhaustion, RSI overextension for either
#   profit band) empty the band when they could fire;
# * the glitch guard (when on) must be off at both ends: ``|close − prev_close|`` is largest at an end.
# Any NaN bound empties the band (comparisons with NaN are false). An empty band skips nothing.

SHRINK = 1e-9  # relative step that moves a candidate bound to the quiet side before it is checked


@device(inline=True)
def raise_lo(lo, t):
    """``max(lo, t)``; NaN if either is NaN (poisons the band)."""
    if t != t or lo != lo:
        return math.nan
    if t > lo:
        return t
    return lo


@device(inline=True)
def lower_hi(hi, t):
    """``min(hi, t)``; NaN if either is NaN."""
    if t != t or hi != hi:
        return math.nan
    if t < hi:
        return t
    return hi


@device(inline=True)
def pa_bound(side, entry, entry_atr, x, strict):
    """A close ``t`` with ``profit_atr(t) < x`` (``strict``) or ``<= x``, checked; then every close on the
    losing side of ``t`` (LONG below, SHORT above) satisfies it too. ±inf when every close does (ATR 0: the
    profit is 0), NaN when no candidate was found."""
    if entry_atr <= 0.0:
        ok = (0.0 < x) if strict else (0.0 <= x)
        if not ok:
            return math.nan
        return math.inf if side == LONG else -math.inf
    d = mul(x, entry_atr)
    d = d - mul(abs(d), SHRINK)
    t = entry + d if side == LONG else entry - d
    v = profit_atr(side, entry, entry_atr, t)
    ok = (v < x) if strict else (v <= x)
    if ok:
        return t
    return math.nan


@device
def quiet_band(p, si, pf, s, row, prev_close, is_paxg):
    """``(lo, hi)``: closes ``lo < close < hi`` at which ``evaluate_position`` on this snapshot changes
    nothing for the current state of position ``s`` (see the comment above; ``lo >= hi`` or NaN: none)."""
    side = si[s, SI_SIDE]
    entry = pf[s, PF_ENTRY]
    entry_atr = pf[s, PF_ENTRY_ATR]
    a = atr_eff(entry, entry_atr)
    adx = row[ADX]
    long = side == LONG
    lo = -math.inf
    hi = math.inf
    # 1. stop loss: every level sl_level can return (close-dependent multipliers enumerated)
    for u in range(2):
        for r in range(2):
            m = p[P_SL_ATR_MULT]
            if u == 1:
                m = m * 0.8
            if r == 1:
                m = m * 1.15
            if adx > 45.0:
                m = m * 1.10
            if long:
                lo = raise_lo(lo, entry - mul(a, m))
            else:
                hi = lower_hi(hi, entry + mul(a, m))
    if p[P_ENABLE_BREAKEVEN_STOP] != 0.0:
        bb = mul(a, p[P_BREAKEVEN_BUFFER_ATR])
        if long:
            lo = raise_lo(lo, entry + bb)
        else:
            hi = lower_hi(hi, entry - bb)
    # 2. trailing stop
    if si[s, SI_HAS_TRAIL] != 0:
        if long:
            lo = raise_lo(lo, pf[s, PF_TRAIL])
        else:
            hi = lower_hi(hi, pf[s, PF_TRAIL])
    # 3. take profit (full level, and the partial level while it can fire)
    if adx > p[P_ADX_STRONG_GT]:
        tpm = p[P_TP_MULT_STRONG]
    elif adx < p[P_ADX_WEAK_LT]:
        tpm = p[P_TP_MULT_WEAK]
    else:
        tpm = p[P_TP_ATR_MULT]
    tp = entry + mul(a, tpm) if long else entry - mul(a, tpm)
    if long:
        hi = lower_hi(hi, tp)
    else:
        lo = raise_lo(lo, tp)
    ptam = p[P_TP_PARTIAL_ATR_MULT]
    if p[P_ENABLE_PARTIAL_TP] != 0.0 and si[s, SI_TP1] == 0:
        pm = ptam if ptam > 0.0 else tpm
        ptp = entry + mul(a, pm) if long else entry - mul(a, pm)
        if long:
            hi = lower_hi(hi, ptp)
        else:
            lo = raise_lo(lo, ptp)
    # 4. smart exits
    low = si[s, SI_CONF] == CONF_LOW
    ema_fast = row[EMA_FAST]
    ema_slow = row[EMA_SLOW]
    t0 = low_conf(p, P_SMART_EXIT_ADX_EXHAUSTION_LT, P_SMART_EXIT_ADX_EXHAUSTION_LT_LOW_CONF, low)
    thr = t0 if t0 > 0.0 else pf[s, PF_ENTRY_THR]
    thr = fmax(thr, 0.0)
    dev = abs(ema_fast - ema_slow) / ema_slow if ema_slow > 0.0 else 0.0
    weak = dev < 0.001 and adx > 25.0
    if long:
        cross = ema_fast < ema_slow and not weak
    else:
        cross = ema_fast > ema_slow and not weak
    if cross or (thr > 0.0 and adx < thr):
        return math.nan, math.nan
    if p[P_REQUIRE_MACRO_ALIGNMENT] != 0.0 and row[EMA_MACRO] > 0.0:
        if long:
            lo = raise_lo(lo, row[EMA_MACRO])
        else:
            hi = lower_hi(hi, row[EMA_MACRO])
    if row[ATR] < a * 0.70 and not is_paxg:
        if long:
            lo = raise_lo(lo, entry)
        else:
            hi = lower_hi(hi, entry)
    h = row[MACD_HIST]
    p1 = row[PREV_MACD_HIST]
    p2 = row[PREV2_MACD_HIST]
    p3 = row[PREV3_MACD_HIST]
    if adx > 50.0 and (p[P_TSME_REQUIRE_ADX_SLOPE_NEGATIVE] == 0.0 or row[ADX_SLOPE] < 0.0):
        contract = (h < p1 and p1 < p2) if long else (h > p1 and p1 > p2)
        if contract:
            t = pa_bound(side, entry, entry_atr, p[P_TSME_MIN_PROFIT_ATR], True)
            if long:
                hi = lower_hi(hi, t)
            else:
                lo = raise_lo(lo, t)
    if adx > 35.0:
        div = (h < p1 and p1 < p2 and p2 < p3) if long else (h > p1 and p1 > p2 and p2 > p3)
        if div:
            t = pa_bound(side, entry, entry_atr, 1.5, False)
            if long:
                hi = lower_hi(hi, t)
            else:
                lo = raise_lo(lo, t)
    if p[P_ENABLE_RSI_OVEREXTENSION_EXIT] != 0.0:
        rsi = row[RSI]
        for band in range(2):
            ub, lb = rsi_exit_bounds(p, low, band == 1)
            if (long and rsi > ub) or (not long and rsi < lb):
                return math.nan, math.nan
    # 5. trailing ratchet (update_position_state): profit below the start, or no new level past the stored one
    start = low_conf(p, P_TRAILING_START_ATR, P_TRAILING_START_ATR_LOW_CONF, low)
    dist = low_conf(p, P_TRAILING_DISTANCE_ATR, P_TRAILING_DISTANCE_ATR_LOW_CONF, low)
    t = pa_bound(side, entry, entry_atr, start, True)
    if si[s, SI_HAS_TRAIL] != 0:
        rsi = row[RSI]
        floor = 0.7 if ((long and rsi > 60.0) or (not long and rsi < 40.0)) else 0.5
        e1 = dist
        if p[P_ENABLE_VOL_BUFFERED_TRAILING] != 0.0 and row[BB_WIDTH_RATIO] > 1.2:
            e1 = dist * 1.25
        if adx < 25.0:
            e1 = dist * 0.7
        if adx > 35.0 and row[ADX_SLOPE] > 0.0:
            k = 1.0
        elif row[ATR_SLOPE] > 0.0:
            k = 0.75
        else:
            k = 0.5
        e2 = dist * k
        e1 = fmax(e1, floor)
        e2 = fmax(e2, floor)
        trail = pf[s, PF_TRAIL]
        emin = fmin(e1, e2)
        g = mul(a, emin)
        if long:
            c = trail + g
            c = c - mul(abs(c), SHRINK)
            ok = (c - mul(a, e1)) <= trail and (c - mul(a, e2)) <= trail
        else:
            c = trail - g
            c = c + mul(abs(c), SHRINK)
            ok = (c + mul(a, e1)) >= trail and (c + mul(a, e2)) >= trail
        if ok and (t != t or (long and c > t) or (not long and c < t)):
            t = c
    if long:
        hi = lower_hi(hi, t)
    else:
        lo = raise_lo(lo, t)
    # 6. breakeven latch
    if p[P_ENABLE_BREAKEVEN_STOP] != 0.0 and si[s, SI_BE_ARMED] == 0:
        bs = mul(a, p[P_BREAKEVEN_START_ATR])
        d = bs - mul(abs(bs), SHRINK)
        c = entry + d if long else entry - d
        if be_reached(side, entry, a, c, p[P_BREAKEVEN_START_ATR]):
            return math.nan, math.nan
        if long:
            hi = lower_hi(hi, c)
        else:
            lo = raise_lo(lo, c)
    # 0. glitch guard: off at both ends, hence in between
    if p[P_BLOCK_EXITS_ON_EXTREME_DEV] != 0.0 and prev_close > 0.0:
        atr = row[ATR]
        for end in range(2):
            x = lo if end == 0 else hi
            d = abs(x - prev_close)
            if not (d <= math.inf) or d / prev_close > p[P_GLITCH_PRICE_DEV_PCT] or (
                    atr > 0.0 and d > atr * p[P_GLITCH_ATR_MULT]):
                return math.nan, math.nan
    return lo, hi
