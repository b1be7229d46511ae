"""Entry signal: gates G1–G10, modes A/B/C, transforms T1–T4 and the filters F2 (PESC) and F4 (REEF)
(strategy-entries.md §3.3, §4.2–§4.4, §4.6; strategy-exits.md §5.7; D8–D12, D16, D20, D53.19,
spec-notes N10). Position interaction, pyramiding, ranking and execution are in ``kernel_orders``.

A snapshot is ``row`` (indicator fields of the symbol's latest main bar) plus the fields a sub-bar view
replaces (D5): ``close``, ``prev_close``, ``prev_ema_fast`` (``prev_ema_slow`` is read by no rule) and
the bar volume ``vol`` (a view keeps the main bar's volume). The window context lives in ``g_i``/``g_f``.
"""
from __future__ import annotations

from gpu_sim.fma import mul
from gpu_sim.ind_fields import (
    ADX,
    ADX_SLOPE,
    ATR,
    AVG_ATR,
    BB_WIDTH_RATIO,
    EMA_FAST,
    EMA_MACRO,
    EMA_SLOW,
    EMA_SLOW_SLOPE_PCT,
    MACD_HIST,
    PREV_MACD_HIST,
    PREV_VOL_SMA,
    PREV_VOL_TREND,
    PREV_VOLUME,
    RSI,
    STOCH_D,
    STOCH_K,
    VOL_SMA,
    VOL_TREND,
)
from gpu_sim.kernel_arith import clamp, fmin, trunc_i
from gpu_sim.kernel_jit import device
from gpu_sim.kernel_state import (
    ABSENT,
    BUY,
    CONF_HIGH,
    CONF_LOW,
    CONF_MEDIUM,
    GF_CTX_BREADTH,
    GF_CTX_BTC_ADX,
    GF_CTX_BTC_ATR,
    GF_CTX_BTC_CLOSE,
    GI_CTX_BANK,
    GI_CTX_BDEF,
    MACD_ACCEL,
    MACD_SIGN,
    NEUTRAL,
    P_ADX_RISING_SATURATION,
    P_ADX_STRONG_GT,
    P_AUTO_REVERSE_BREADTH_HIGH,
    P_AUTO_REVERSE_BREADTH_LOW,
    P_AVE_ADX_MULT,
    P_AVE_ATR_RATIO_GT,
    P_AVE_ENABLED,
    P_BLOCK_LONG_IF_K_GT,
    P_BLOCK_SHORT_IF_K_LT,
    P_BREADTH_BLOCK_LONG_BELOW,
    P_BREADTH_BLOCK_SHORT_ABOVE,
    P_BTC_ADX_OVERRIDE,
    P_EMA_FAST_DEV_PCT_GT,
    P_ENABLE_ANOMALY_FILTER,
    P_ENABLE_AUTO_REVERSE,
    P_ENABLE_EXTENSION_FILTER,
    P_ENABLE_PULLBACK_ENTRIES,
    P_ENABLE_RANGING_FILTER,
    P_ENABLE_REGIME_FILTER,
    P_ENABLE_REGIME_GATE,
    P_ENABLE_SLOW_DRIFT_ENTRIES,
    P_HIGH_CONF_VOLUME_MULT,
    P_MACD_HIST_ENTRY_MODE,
    P_MAX_DIST_EMA_FAST,
    P_MIN_ADX,
    P_MIN_ATR_PCT,
    P_PRICE_CHANGE_PCT_GT,
    P_PULLBACK_CONFIDENCE,
    P_PULLBACK_MIN_ADX,
    P_PULLBACK_REQUIRE_MACD_SIGN,
    P_PULLBACK_RSI_LONG_MIN,
    P_PULLBACK_RSI_SHORT_MAX,
    P_RANGING_ADX_BELOW,
    P_RANGING_BB_WIDTH_RATIO_BELOW,
    P_RANGING_MIN_SIGNALS,
    P_RANGING_RSI_HIGH,
    P_RANGING_RSI_LOW,
    P_REEF_ADX_THRESHOLD,
    P_REEF_LONG_RSI_BLOCK_GT,
    P_REEF_LONG_RSI_EXTREME_GT,
    P_REEF_SHORT_RSI_BLOCK_LT,
    P_REEF_SHORT_RSI_EXTREME_LT,
    P_REENTRY_COOLDOWN_MAX_MINS,
    P_REENTRY_COOLDOWN_MIN_MINS,
    P_REENTRY_COOLDOWN_MINUTES,
    P_REGIME_GATE_BREADTH_HIGH,
    P_REGIME_GATE_BREADTH_LOW,
    P_REGIME_GATE_BTC_ADX_MIN,
    P_REGIME_GATE_BTC_ATR_PCT_MIN,
    P_REGIME_GATE_FAIL_OPEN,
    P_REQUIRE_ADX_RISING,
    P_REQUIRE_BTC_ALIGNMENT,
    P_REQUIRE_MACRO_ALIGNMENT,
    P_REQUIRE_VOLUME_CONFIRMATION,
    P_REVERSE_ENTRY_SIGNAL,
    P_RSI_LONG_STRONG,
    P_RSI_LONG_WEAK,
    P_RSI_SHORT_STRONG,
    P_RSI_SHORT_WEAK,
    P_SLOW_DRIFT_MIN_ADX,
    P_SLOW_DRIFT_MIN_SLOPE_PCT,
    P_SLOW_DRIFT_REQUIRE_MACD_SIGN,
    P_SLOW_DRIFT_RSI_LONG_MIN,
    P_SLOW_DRIFT_RSI_SHORT_MAX,
    P_USE_STOCH_RSI_FILTER,
    P_VOL_CONFIRM_INCLUDE_PREV,
    SELL,
    SI_LAST_CLOSE_REASON,
    SI_LAST_CLOSE_SIDE,
    SI_LAST_CLOSE_T,
)
from gpu_sim.reasons import PESC_IGNORED


# ---- gates and modes (strategy-entries §4.2–§4.3) -----------------------------------------------

@device
def generate_signal(p, row, close, prev_close, prev_ema_fast, vol, is_btc, btc_bull):
    """``(signal, confidence, entry_adx_threshold)``; signal BUY / SELL / NEUTRAL."""
    adx = row[ADX]
    adx_slope = row[ADX_SLOPE]
    rsi = row[RSI]
    ema_fast = row[EMA_FAST]
    ema_slow = row[EMA_SLOW]
    macd = row[MACD_HIST]
    slope = row[EMA_SLOW_SLOPE_PCT]
    # G1 ranging vote
    ranging = False
    if p[P_ENABLE_RANGING_FILTER] != 0.0:
        votes = 0
        if adx < p[P_RANGING_ADX_BELOW]:
            votes += 1
        if row[BB_WIDTH_RATIO] < p[P_RANGING_BB_WIDTH_RATIO_BELOW]:
            votes += 1
        if p[P_RANGING_RSI_LOW] < rsi and rsi < p[P_RANGING_RSI_HIGH]:
            votes += 1
        ranging = float(votes) >= p[P_RANGING_MIN_SIGNALS]
    # G2 anomaly
    anomaly = False
    if p[P_ENABLE_ANOMALY_FILTER] != 0.0:
        pc = abs(close - prev_close) / prev_close if prev_close > 0.0 else 0.0
        dev = abs(close - ema_fast) / ema_fast if ema_fast > 0.0 else 0.0
        anomaly = pc > p[P_PRICE_CHANGE_PCT_GT] or dev > p[P_EMA_FAST_DEV_PCT_GT]
    # G3 extension
    extended = False
    if p[P_ENABLE_EXTENSION_FILTER] != 0.0:
        dist = abs(close - ema_fast) / ema_fast if ema_fast > 0.0 else 0.0
        extended = dist > p[P_MAX_DIST_EMA_FAST]
    # G4 volume confirmation (D11)
    if p[P_REQUIRE_VOLUME_CONFIRMATION] == 0.0:
        vol_ok = True
    elif p[P_VOL_CONFIRM_INCLUDE_PREV] != 0.0:
        vol_ok = ((vol > row[VOL_SMA]) or (row[PREV_VOLUME] > row[PREV_VOL_SMA])) and (
            row[VOL_TREND] != 0.0 or row[PREV_VOL_TREND] != 0.0)
    else:
        vol_ok = vol > row[VOL_SMA] and row[VOL_TREND] != 0.0
    # G5 ADX rising or saturated
    rising = True
    if p[P_REQUIRE_ADX_RISING] != 0.0:
        rising = adx_slope > 0.0 or adx > p[P_ADX_RISING_SATURATION]
    # G6 effective minimum ADX (TMC, AVE)
    m = p[P_MIN_ADX]
    if adx_slope > 0.5:
        m = fmin(m, 25.0)
    if p[P_AVE_ENABLED] != 0.0 and row[AVG_ATR] > 0.0:
        ratio = row[ATR] / row[AVG_ATR]
        if ratio > p[P_AVE_ATR_RATIO_GT]:
            m = m * p[P_AVE_ADX_MULT]
    adx_ok = adx > m
    # G7 EMA alignment
    bull = ema_fast > ema_slow
    bear = ema_fast < ema_slow
    if p[P_REQUIRE_MACRO_ALIGNMENT] != 0.0:
        bull = bull and (ema_slow > row[EMA_MACRO])
        bear = bear and (ema_slow < row[EMA_MACRO])
    # G8 BTC alignment
    exempt = (p[P_REQUIRE_BTC_ALIGNMENT] == 0.0) or is_btc or (btc_bull < 0) or (adx > p[P_BTC_ADX_OVERRIDE])
    btc_ok_long = exempt or btc_bull == 1
    btc_ok_short = exempt or btc_bull == 0
    # G9 slow-drift un-ranging
    if p[P_ENABLE_SLOW_DRIFT_ENTRIES] != 0.0 and ranging and abs(slope) >= p[P_SLOW_DRIFT_MIN_SLOPE_PCT]:
        ranging = False
    # G10 DRE RSI limits
    lo = p[P_MIN_ADX]
    hi = p[P_ADX_STRONG_GT] if p[P_ADX_STRONG_GT] > lo else lo + 1.0
    wgt = clamp((adx - lo) / (hi - lo), 0.0, 1.0)
    rsi_long_limit = p[P_RSI_LONG_WEAK] + mul(wgt, p[P_RSI_LONG_STRONG] - p[P_RSI_LONG_WEAK])
    rsi_short_limit = p[P_RSI_SHORT_WEAK] + mul(wgt, p[P_RSI_SHORT_STRONG] - p[P_RSI_SHORT_WEAK])
    all_pass = adx_ok and (not ranging) and (not anomaly) and (not extended) and vol_ok and rising
    # Mode A: standard trend entry
    if all_pass:
        mode = p[P_MACD_HIST_ENTRY_MODE]
        if mode == MACD_ACCEL:
            macd_long = macd > row[PREV_MACD_HIST]
            macd_short = macd < row[PREV_MACD_HIST]
        elif mode == MACD_SIGN:
            macd_long = macd > 0.0
            macd_short = macd < 0.0
        else:
            macd_long = True
            macd_short = True
        stoch_long = True
        stoch_short = True
        if p[P_USE_STOCH_RSI_FILTER] != 0.0:
            k = row[STOCH_K]
            d = row[STOCH_D]
            stoch_long = not (k >= p[P_BLOCK_LONG_IF_K_GT] and d >= p[P_BLOCK_LONG_IF_K_GT])
            stoch_short = not (k <= p[P_BLOCK_SHORT_IF_K_LT] and d <= p[P_BLOCK_SHORT_IF_K_LT])
        conf_ab = CONF_HIGH if vol > (row[VOL_SMA] * p[P_HIGH_CONF_VOLUME_MULT]) else CONF_MEDIUM
        if bull and close > ema_fast:
            if rsi > rsi_long_limit and macd_long and stoch_long and btc_ok_long:
                return BUY, conf_ab, m
        elif bear and close < ema_fast:
            if rsi < rsi_short_limit and macd_short and stoch_short and btc_ok_short:
                return SELL, conf_ab, m
    gates_bc = (not anomaly) and (not extended) and (not ranging) and vol_ok
    # Mode B: pullback continuation
    if p[P_ENABLE_PULLBACK_ENTRIES] != 0.0 and gates_bc and adx >= p[P_PULLBACK_MIN_ADX]:
        cross_up = (prev_close <= prev_ema_fast) and (close > ema_fast)
        cross_dn = (prev_close >= prev_ema_fast) and (close < ema_fast)
        need_sign = p[P_PULLBACK_REQUIRE_MACD_SIGN] != 0.0
        conf_b = int(p[P_PULLBACK_CONFIDENCE])
        if cross_up and bull and btc_ok_long:
            if (macd > 0.0 or not need_sign) and rsi >= p[P_PULLBACK_RSI_LONG_MIN]:
                return BUY, conf_b, p[P_PULLBACK_MIN_ADX]
        elif cross_dn and bear and btc_ok_short:
            if (macd < 0.0 or not need_sign) and rsi <= p[P_PULLBACK_RSI_SHORT_MAX]:
                return SELL, conf_b, p[P_PULLBACK_MIN_ADX]
    # Mode C: slow drift
    if p[P_ENABLE_SLOW_DRIFT_ENTRIES] != 0.0 and gates_bc and adx >= p[P_SLOW_DRIFT_MIN_ADX]:
        min_slope = p[P_SLOW_DRIFT_MIN_SLOPE_PCT]
        need_sign = p[P_SLOW_DRIFT_REQUIRE_MACD_SIGN] != 0.0
        if bull and close > ema_slow and btc_ok_long and slope >= min_slope:
            if (macd > 0.0 or not need_sign) and rsi >= p[P_SLOW_DRIFT_RSI_LONG_MIN]:
                return BUY, CONF_LOW, p[P_SLOW_DRIFT_MIN_ADX]
        elif bear and close < ema_slow and btc_ok_short and slope <= -min_slope:
            if (macd < 0.0 or not need_sign) and rsi <= p[P_SLOW_DRIFT_RSI_SHORT_MAX]:
                return SELL, CONF_LOW, p[P_SLOW_DRIFT_MIN_ADX]
    return NEUTRAL, CONF_LOW, 0.0


# ---- transforms T1–T4 (§4.4, §3.3) ----------------------------------------------------------------

@device(inline=True)
def atr_floor(p, atr, price):
    """T1: ``price × min_atr_pct`` if the raw ATR is below it, else the raw ATR (§2.12)."""
    fl = price * p[P_MIN_ATR_PCT]
    if atr < fl:
        return fl
    return atr


@device
def regime_gate_open(p, g_i, g_f):
    """T4 gate of strategy-entries §3.3 for this symbol's config and the window context."""
    if p[P_ENABLE_REGIME_GATE] == 0.0:
        return True
    fail_open = p[P_REGIME_GATE_FAIL_OPEN] != 0.0
    if g_i[GI_CTX_BDEF] == 0:
        return fail_open
    breadth = g_f[GF_CTX_BREADTH]
    if p[P_REGIME_GATE_BREADTH_LOW] <= breadth and breadth <= p[P_REGIME_GATE_BREADTH_HIGH]:
        return False
    if g_i[GI_CTX_BANK] < 0 or g_f[GF_CTX_BTC_CLOSE] <= 0.0:
        return fail_open
    if g_f[GF_CTX_BTC_ADX] < p[P_REGIME_GATE_BTC_ADX_MIN]:
        return False
    if g_f[GF_CTX_BTC_ATR] / g_f[GF_CTX_BTC_CLOSE] < p[P_REGIME_GATE_BTC_ATR_PCT_MIN]:
        return False
    return True


@device
def transform_signal(p, g_i, g_f, signal):
    """T2 reverse/auto-reverse, T3 regime filter, T4 regime gate; returns the final signal (D8–D10,
    D53.19: with breadth undefined the auto-reverse override and the regime filter are skipped)."""
    bdef = g_i[GI_CTX_BDEF] != 0
    breadth = g_f[GF_CTX_BREADTH]
    rev = p[P_REVERSE_ENTRY_SIGNAL] != 0.0
    if p[P_ENABLE_AUTO_REVERSE] != 0.0 and bdef:
        rev = p[P_AUTO_REVERSE_BREADTH_LOW] <= breadth and breadth <= p[P_AUTO_REVERSE_BREADTH_HIGH]
    if rev:
        signal = -signal
    if p[P_ENABLE_REGIME_FILTER] != 0.0 and bdef:
        if signal == SELL and breadth > p[P_BREADTH_BLOCK_SHORT_ABOVE]:
            signal = NEUTRAL
        if signal == BUY and breadth < p[P_BREADTH_BLOCK_LONG_BELOW]:
            signal = NEUTRAL
    if signal == NEUTRAL:
        return NEUTRAL
    if not regime_gate_open(p, g_i, g_f):
        return NEUTRAL
    return signal


# ---- filters F2, F4 ----------------------------------------------------------------------------------

@device
def pesc_blocked(p, si, s, want, tau, adx):
    """F2 post-exit same-direction cooldown (§5.7, D16)."""
    ct = si[s, SI_LAST_CLOSE_T]
    if ct == ABSENT:
        return False
    if si[s, SI_LAST_CLOSE_REASON] == PESC_IGNORED:
        return False
    if si[s, SI_LAST_CLOSE_SIDE] != want:
        return False
    mn = p[P_REENTRY_COOLDOWN_MIN_MINS]
    mx = p[P_REENTRY_COOLDOWN_MAX_MINS]
    b = p[P_REENTRY_COOLDOWN_MINUTES]
    if adx <= 25.0:
        cd = mx
    elif adx < 32.5:
        cd = mx + mul((adx - 25.0) / 7.5, b - mx)
    elif adx < 40.0:
        cd = b + mul((adx - 32.5) / 7.5, mn - b)
    else:
        cd = mn
    cd = clamp(cd, mn, mx)
    return (tau - ct) < trunc_i(cd * 60000.0)


@device
def reef_blocks(p, signal, adx, rsi):
    """F4 ADX-tiered RSI extremes."""
    if signal == BUY:
        if adx < p[P_REEF_ADX_THRESHOLD]:
            return rsi > p[P_REEF_LONG_RSI_BLOCK_GT]
        return rsi > p[P_REEF_LONG_RSI_EXTREME_GT]
    if adx < p[P_REEF_ADX_THRESHOLD]:
        return rsi < p[P_REEF_SHORT_RSI_BLOCK_LT]
    return rsi < p[P_REEF_SHORT_RSI_EXTREME_LT]
