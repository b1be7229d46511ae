"""Entry pipeline: gates G1–G10, modes A/B/C, transforms T1–T4, position interaction, filters F1–F4,
pyramiding checks, ranking and execution (strategy-entries.md §3.3, §4; strategy-exits.md §2.4, §3.4,
§4, §5.7; D6, D8–D12, D16, D18, D53.19, spec-notes N10).

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
from gpu_sim.kernel_accounting import (
    add_to_position,
    apply_exit,
    cooldown_active,
    entry_sizing,
    equity,
    open_position,
    profit_atr,
    total_margin,
)
from gpu_sim.kernel_arith import clamp, trunc_i
from gpu_sim.kernel_jit import device
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
    EXIT_FULL,
    GF_CTX_BREADTH,
    GF_CTX_BTC_ADX,
    GF_CTX_BTC_ATR,
    GF_CTX_BTC_CLOSE,
    GI_BUDGET,
    GI_CTX_BANK,
    GI_CTX_BDEF,
    GI_CTX_BTC_BULL,
    GI_NCAND,
    GI_NPOS,
    GI_SIGNALS,
    LONG,
    MACD_ACCEL,
    MACD_SIGN,
    NEUTRAL,
    P_ADD_COOLDOWN_MINUTES,
    P_ADD_FRACTION_OF_BASE_MARGIN,
    P_ADD_MIN_CONFIDENCE,
    P_ADD_MIN_PROFIT_ATR,
    P_ADX_RISING_SATURATION,
    P_ADX_STRONG_GT,
    P_ALLOCATION_PCT,
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
    P_BUMP_TO_MIN_NOTIONAL,
    P_EMA_FAST_DEV_PCT_GT,
    P_ENABLE_ANOMALY_FILTER,
    P_ENABLE_AUTO_REVERSE,
    P_ENABLE_EXTENSION_FILTER,
    P_ENABLE_PULLBACK_ENTRIES,
    P_ENABLE_PYRAMIDING,
    P_ENABLE_RANGING_FILTER,
    P_ENABLE_REEF_FILTER,
    P_ENABLE_REGIME_FILTER,
    P_ENABLE_REGIME_GATE,
    P_ENABLE_SLOW_DRIFT_ENTRIES,
    P_ENABLE_SSF_FILTER,
    P_ENTRY_COOLDOWN_S,
    P_ENTRY_MIN_CONFIDENCE,
    P_HIGH_CONF_VOLUME_MULT,
    P_MACD_HIST_ENTRY_MODE,
    P_MAX_ADDS_PER_SYMBOL,
    P_MAX_DIST_EMA_FAST,
    P_MAX_ENTRY_ORDERS_PER_LOOP,
    P_MAX_OPEN_POSITIONS,
    P_MAX_TOTAL_MARGIN_PCT,
    P_MIN_ADX,
    P_MIN_ATR_PCT,
    P_MIN_NOTIONAL_USD,
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
    P_SLIPPAGE_BPS,
    P_SLOW_DRIFT_MIN_ADX,
    P_SLOW_DRIFT_MIN_SLOPE_PCT,
    P_SLOW_DRIFT_REQUIRE_MACD_SIGN,
    P_SLOW_DRIFT_RSI_LONG_MIN,
    P_SLOW_DRIFT_RSI_SHORT_MAX,
    P_USE_STOCH_RSI_FILTER,
    P_VOL_CONFIRM_INCLUDE_PREV,
    PF_ENTRY,
    PF_ENTRY_ATR,
    PF_LEV,
    SELL,
    SF_IS_BTC,
    SHORT,
    SI_ADDS,
    SI_HAS_POS,
    SI_LAST_ADD_T,
    SI_LAST_CLOSE_REASON,
    SI_LAST_CLOSE_SIDE,
    SI_LAST_CLOSE_T,
    SI_LAST_ENTRY_T,
    SI_SIDE,
)
from gpu_sim.reasons import PESC_IGNORED, R_SIGNAL_FLIP


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
        m = min(m, 25.0)
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


# ---- pyramiding (strategy-exits §4) -------------------------------------------------------------------

@device
def try_pyramid(p, pp, si, pf, g_i, g_f, rec_i, rec_f, mc, s, tau, close, conf, atr_e, fee_rate):
    """Checks 1–8 of §4 in order; on success applies the add. Any failure returns silently."""
    if float(si[s, SI_ADDS]) >= p[P_MAX_ADDS_PER_SYMBOL]:
        return
    if float(conf) < p[P_ADD_MIN_CONFIDENCE]:
        return
    if float(tau - si[s, SI_LAST_ADD_T]) / 60000.0 < p[P_ADD_COOLDOWN_MINUTES]:
        return
    if profit_atr(si[s, SI_SIDE], pf[s, PF_ENTRY], pf[s, PF_ENTRY_ATR], close) < p[P_ADD_MIN_PROFIT_ATR]:
        return
    if cooldown_active(si[s, SI_LAST_ENTRY_T], tau, p[P_ENTRY_COOLDOWN_S]):
        return
    e = equity(si, pf, g_f, mc)
    if close <= 0.0:
        return
    add_margin = (e * p[P_ALLOCATION_PCT]) * p[P_ADD_FRACTION_OF_BASE_MARGIN]
    add_notional = add_margin * pf[s, PF_LEV]
    add_size = add_notional / close
    if add_notional < p[P_MIN_NOTIONAL_USD]:
        if p[P_BUMP_TO_MIN_NOTIONAL] != 0.0:
            add_notional = p[P_MIN_NOTIONAL_USD]
            add_size = add_notional / close
        else:
            return
    tm = total_margin(si, pf)
    if mul(e, pp[P_MAX_TOTAL_MARGIN_PCT]) - (tm + add_margin) < 0.0:
        return
    if add_size <= 0.0 or add_margin <= 0.0:
        return
    add_to_position(si, pf, g_i, g_f, rec_i, rec_f, s, tau, close, add_size, add_margin, conf, atr_e,
                    p[P_SLIPPAGE_BPS], fee_rate)


# ---- one symbol at one entry evaluation point (strategy-exits §2.4) -----------------------------------

@device
def entry_evaluation(p, pp, si, pf, g_i, g_f, rec_i, rec_f, cand_i, cand_f, mc, s, tau, row, close,
                     prev_close, prev_ema_fast, vol, sym_flags, fee_rate):
    """Signal → transforms → flip / pyramid / filters → candidate (appended to ``cand_*``)."""
    signal, conf, thr = generate_signal(p, row, close, prev_close, prev_ema_fast, vol,
                                        (sym_flags & SF_IS_BTC) != 0, g_i[GI_CTX_BTC_BULL])
    if signal == NEUTRAL:
        return
    g_i[GI_SIGNALS] += 1
    atr_e = atr_floor(p, row[ATR], close)
    signal = transform_signal(p, g_i, g_f, signal)
    if signal == NEUTRAL:
        return
    want = LONG if signal == BUY else SHORT
    if si[s, SI_HAS_POS] != 0 and si[s, SI_SIDE] != want:
        apply_exit(si, pf, g_i, g_f, rec_i, rec_f, s, tau, close, EXIT_FULL, 0.0, R_SIGNAL_FLIP, 0.0, 0.0,
                   p[P_SLIPPAGE_BPS], fee_rate)
    if si[s, SI_HAS_POS] != 0:
        if p[P_ENABLE_PYRAMIDING] != 0.0:
            try_pyramid(p, pp, si, pf, g_i, g_f, rec_i, rec_f, mc, s, tau, close, conf, atr_e, fee_rate)
        return
    adx = row[ADX]
    if float(conf) < p[P_ENTRY_MIN_CONFIDENCE]:                                        # F1
        return
    if pesc_blocked(p, si, s, want, tau, adx):                                         # F2
        return
    if p[P_ENABLE_SSF_FILTER] != 0.0:                                                  # F3
        macd = row[MACD_HIST]
        if not ((signal == BUY and macd > 0.0) or (signal == SELL and macd < 0.0)):
            return
    if p[P_ENABLE_REEF_FILTER] != 0.0 and reef_blocks(p, signal, adx, row[RSI]):      # F4
        return
    k = g_i[GI_NCAND]
    g_i[GI_NCAND] = k + 1
    cand_i[k, CI_SYM] = s
    cand_i[k, CI_SIDE] = want
    cand_i[k, CI_CONF] = conf
    cand_i[k, CI_SCORE] = conf * 100 + trunc_i(adx)
    cand_f[k, CF_ADX] = adx
    cand_f[k, CF_ATR] = atr_e
    cand_f[k, CF_THR] = thr
    cand_f[k, CF_PRICE] = close


# ---- ranking and execution (strategy-exits §2.4, §3.4–§3.5) --------------------------------------------

@device
def sort_candidates(cand_i, cand_f, n):
    """Stable insertion sort: score descending; ties keep insertion (= ascending symbol) order."""
    for a in range(1, n):
        b = a
        while b > 0 and cand_i[b - 1, CI_SCORE] < cand_i[b, CI_SCORE]:
            for f in range(cand_i.shape[1]):
                t = cand_i[b - 1, f]
                cand_i[b - 1, f] = cand_i[b, f]
                cand_i[b, f] = t
            for f in range(cand_f.shape[1]):
                u = cand_f[b - 1, f]
                cand_f[b - 1, f] = cand_f[b, f]
                cand_f[b, f] = u
            b -= 1


@device
def execute_candidates(params, pp, si, pf, g_i, g_f, rec_i, rec_f, cand_i, cand_f, mc, tau, reason,
                       fee_rate):
    """Open ranked candidates under the window budget, position cap and margin headroom."""
    n = g_i[GI_NCAND]
    g_i[GI_NCAND] = 0
    if n == 0:
        return
    sort_candidates(cand_i, cand_f, n)
    equity_e = equity(si, pf, g_f, mc)
    for k in range(n):
        if float(g_i[GI_BUDGET]) >= pp[P_MAX_ENTRY_ORDERS_PER_LOOP]:
            break
        if float(g_i[GI_NPOS]) >= pp[P_MAX_OPEN_POSITIONS]:
            break
        s = cand_i[k, CI_SYM]
        if si[s, SI_HAS_POS] != 0:
            continue
        p = params[s]
        if cooldown_active(si[s, SI_LAST_ENTRY_T], tau, p[P_ENTRY_COOLDOWN_S]):
            continue
        tm = total_margin(si, pf)
        headroom = mul(equity_e, pp[P_MAX_TOTAL_MARGIN_PCT]) - tm
        if headroom <= 0.0:
            continue
        price = cand_f[k, CF_PRICE]
        conf = cand_i[k, CI_CONF]
        size, margin, lev = entry_sizing(p, equity_e, price, conf, cand_f[k, CF_ATR], cand_f[k, CF_ADX])
        if margin > headroom:
            size = size * (headroom / margin)
            margin = headroom
        notional = size * price
        if notional < p[P_MIN_NOTIONAL_USD]:
            if p[P_BUMP_TO_MIN_NOTIONAL] != 0.0 and price > 0.0:
                size = p[P_MIN_NOTIONAL_USD] / price
                margin = (size * price) / lev
            else:
                continue
        if open_position(si, pf, g_i, g_f, rec_i, rec_f, s, tau, cand_i[k, CI_SIDE], conf, price, size,
                         margin, lev, cand_f[k, CF_ATR], cand_f[k, CF_THR], reason, p[P_SLIPPAGE_BPS],
                         fee_rate):
            g_i[GI_BUDGET] += 1
