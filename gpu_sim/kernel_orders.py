"""One symbol at one entry evaluation point and the candidates of that point: position interaction
(signal flip, pyramiding §4), filters F1–F4, ranking by score then symbol and execution under the window
budget, position cap and margin headroom (strategy-exits.md §2.4, §3.4–§3.6, §4; strategy-entries.md
§4.5–§4.7; D6, D18, D26, Q13).
"""
from __future__ import annotations

from gpu_sim.fma import mul
from gpu_sim.ind_fields import ADX, ATR, MACD_HIST, RSI
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
from gpu_sim.kernel_arith import trunc_i
from gpu_sim.kernel_entries import atr_floor, generate_signal, pesc_blocked, reef_blocks, transform_signal
from gpu_sim.kernel_jit import device
from gpu_sim.kernel_state import (
    BUY,
    CF_ADX,
    CF_ATR,
    CF_PRICE,
    CF_THR,
    CI_CONF,
    CI_SCORE,
    CI_SIDE,
    CI_SYM,
    EXIT_FULL,
    GI_BUDGET,
    GI_CTX_BTC_BULL,
    GI_NCAND,
    GI_NPOS,
    GI_SIGNALS,
    LONG,
    NEUTRAL,
    P_ADD_COOLDOWN_MINUTES,
    P_ADD_FRACTION_OF_BASE_MARGIN,
    P_ADD_MIN_CONFIDENCE,
    P_ADD_MIN_PROFIT_ATR,
    P_ALLOCATION_PCT,
    P_BUMP_TO_MIN_NOTIONAL,
    P_ENABLE_PYRAMIDING,
    P_ENABLE_REEF_FILTER,
    P_ENABLE_SSF_FILTER,
    P_ENTRY_COOLDOWN_S,
    P_ENTRY_MIN_CONFIDENCE,
    P_MAX_ADDS_PER_SYMBOL,
    P_MAX_ENTRY_ORDERS_PER_LOOP,
    P_MAX_OPEN_POSITIONS,
    P_MAX_TOTAL_MARGIN_PCT,
    P_MIN_NOTIONAL_USD,
    P_SLIPPAGE_BPS,
    PF_ENTRY,
    PF_ENTRY_ATR,
    PF_LEV,
    SELL,
    SF_IS_BTC,
    SHORT,
    SI_ADDS,
    SI_HAS_POS,
    SI_LAST_ADD_T,
    SI_LAST_ENTRY_T,
    SI_SIDE,
)
from gpu_sim.reasons import R_SIGNAL_FLIP


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
    add_margin = mul(e * p[P_ALLOCATION_PCT], p[P_ADD_FRACTION_OF_BASE_MARGIN])
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
def entry_on_signal(p, pp, si, pf, g_i, g_f, rec_i, rec_f, cand_i, cand_f, mc, s, tau, row, close, signal, conf,
                    thr, fee_rate):
    """A raw non-NEUTRAL signal ``(signal, conf, thr)`` of ``generate_signal`` → transforms → flip /
    pyramid / filters → candidate (appended to ``cand_*``)."""
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


@device
def entry_evaluation(p, pp, si, pf, g_i, g_f, rec_i, rec_f, cand_i, cand_f, mc, s, tau, row, close,
                     prev_close, prev_ema_fast, vol, sym_flags, fee_rate):
    """Signal → :func:`entry_on_signal` (nothing happens on a NEUTRAL raw signal)."""
    signal, conf, thr = generate_signal(p, row, close, prev_close, prev_ema_fast, vol,
                                        (sym_flags & SF_IS_BTC) != 0, g_i[GI_CTX_BTC_BULL])
    if signal == NEUTRAL:
        return
    entry_on_signal(p, pp, si, pf, g_i, g_f, rec_i, rec_f, cand_i, cand_f, mc, s, tau, row, close, signal, conf,
                    thr, fee_rate)


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
            size = mul(size, headroom / margin)
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
