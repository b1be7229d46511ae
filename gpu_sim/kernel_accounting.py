"""Accounting: marks, equity, margin, sizing, fills, opens, adds, exits, funding.

strategy-exits.md §1.2 helpers, §3.2–§3.6, §4 (apply part), §6.1–§6.3, §2.8; DECISIONS D24–D26.
State arrays are the per-config slices documented in ``kernel_state`` (``si = sym_i[c]``,
``pf = pos_f[c]``, ``g_i``, ``g_f``, ``rec_i = rec_i[c]``, ``rec_f = rec_f[c]``); ``mc`` are the main
closes ``(n_symbols, max_bars)`` from which marks are read.
"""
from __future__ import annotations

from gpu_sim.fma import mul
from gpu_sim.kernel_arith import clamp, fmin, q
from gpu_sim.kernel_jit import device
from gpu_sim.kernel_records import (
    A_ADD_LONG,
    A_ADD_SHORT,
    A_CLOSE_LONG,
    A_CLOSE_SHORT,
    A_FUNDING,
    A_OPEN_LONG,
    A_OPEN_SHORT,
    A_REDUCE_LONG,
    A_REDUCE_SHORT,
    log_record,
)
from gpu_sim.kernel_state import (
    ABSENT,
    CONF_HIGH,
    CONF_MEDIUM,
    EXIT_PARTIAL,
    GF_BALANCE,
    GI_NPOS,
    GI_POSMASK,
    LONG,
    PF_ENTRY,
    PF_ENTRY_ATR,
    PF_ENTRY_THR,
    PF_LEV,
    PF_MARGIN,
    PF_SIZE,
    PF_TRAIL,
    POSMASK_BITS,
    P_ADX_SIZING_FULL_ADX,
    P_ADX_SIZING_MIN_MULT,
    P_ALLOCATION_PCT,
    P_CONFIDENCE_MULT_HIGH,
    P_CONFIDENCE_MULT_LOW,
    P_CONFIDENCE_MULT_MEDIUM,
    P_ENABLE_DYNAMIC_LEVERAGE,
    P_ENABLE_DYNAMIC_SIZING,
    P_LEVERAGE,
    P_LEVERAGE_HIGH,
    P_LEVERAGE_LOW,
    P_LEVERAGE_MAX_CAP,
    P_LEVERAGE_MEDIUM,
    P_VOL_BASELINE_PCT,
    P_VOL_SCALAR_MAX,
    P_VOL_SCALAR_MIN,
    SI_ADDS,
    SI_BAR_COUNT,
    SI_BE_ARMED,
    SI_CONF,
    SI_HAS_POS,
    SI_HAS_TRAIL,
    SI_LAST_ADD_T,
    SI_LAST_CLOSE_REASON,
    SI_LAST_CLOSE_SIDE,
    SI_LAST_CLOSE_T,
    SI_LAST_ENTRY_T,
    SI_LAST_EXIT_T,
    SI_OPEN_T,
    SI_QBC,
    SI_SIDE,
    SI_TP1,
)
from gpu_sim.reasons import R_FUNDING, R_PYRAMID


# ---- position helpers (§1.2) --------------------------------------------------------------------

@device(inline=True)
def profit_usd(side, entry, size, p):
    """``(p − entry) × size`` (LONG) / ``(entry − p) × size`` (SHORT)."""
    if side == LONG:
        return (p - entry) * size
    return (entry - p) * size


@device(inline=True)
def profit_atr(side, entry, entry_atr, p):
    """Price move in the position's favour in entry ATRs; 0 when ``entry_atr <= 0``."""
    if entry_atr <= 0.0:
        return 0.0
    if side == LONG:
        return (p - entry) / entry_atr
    return (entry - p) / entry_atr


@device(inline=True)
def atr_eff(entry, entry_atr):
    """``entry_atr`` if > 0, else ``entry × 0.005``."""
    if entry_atr > 0.0:
        return entry_atr
    return entry * 0.005


@device(inline=True)
def mark_price(si, pf, mc, s):
    """Close of the symbol's latest processed main bar, else the entry price (D26)."""
    bc = si[s, SI_BAR_COUNT]
    if bc > 0:
        return mc[s, bc - 1]
    return pf[s, PF_ENTRY]


@device(inline=True)
def cooldown_active(last_ms, tau, cooldown_s):
    """``last`` exists and ``τ − last < cooldown_s × 1000`` (integer ms, §2.5)."""
    if last_ms == ABSENT:
        return False
    return tau - last_ms < int(cooldown_s) * 1000


@device(inline=True)
def equity(si, pf, g_f, mc):
    """``balance + Σ profit_usd(pos, mark)`` over positions in ascending symbol order (§3.2)."""
    u = 0.0
    for s in range(si.shape[0]):
        if si[s, SI_HAS_POS] != 0:
            m = mark_price(si, pf, mc, s)
            e = pf[s, PF_ENTRY]
            if si[s, SI_SIDE] == LONG:
                u = u + mul(m - e, pf[s, PF_SIZE])
            else:
                u = u + mul(e - m, pf[s, PF_SIZE])
    return g_f[GF_BALANCE] + u


@device
def total_margin(si, pf):
    """``Σ margin_used`` over positions, ascending symbol, from 0.0."""
    t = 0.0
    for s in range(si.shape[0]):
        if si[s, SI_HAS_POS] != 0:
            t = t + pf[s, PF_MARGIN]
    return t


# ---- fills (§6.2, D24) ----------------------------------------------------------------------------

@device(inline=True)
def entry_fill(side, price, slippage_bps):
    s = slippage_bps / 10000.0
    if side == LONG:
        return q(price * (1.0 + s))
    return q(price * (1.0 - s))


@device(inline=True)
def exit_fill(side, price, slippage_bps):
    s = slippage_bps / 10000.0
    if side == LONG:
        return q(price * (1.0 - s))
    return q(price * (1.0 + s))


# ---- sizing (§3.3) ---------------------------------------------------------------------------------

@device
def entry_sizing(p, equity_e, price, conf, atr, adx):
    """``(size, margin, lev)`` of a new entry from the unslipped decision price."""
    margin = mul(equity_e, p[P_ALLOCATION_PCT])
    if p[P_ENABLE_DYNAMIC_SIZING] != 0.0:
        if conf == CONF_HIGH:
            cm = p[P_CONFIDENCE_MULT_HIGH]
        elif conf == CONF_MEDIUM:
            cm = p[P_CONFIDENCE_MULT_MEDIUM]
        else:
            cm = p[P_CONFIDENCE_MULT_LOW]
        am = clamp(adx / p[P_ADX_SIZING_FULL_ADX], p[P_ADX_SIZING_MIN_MULT], 1.0)
        if p[P_VOL_BASELINE_PCT] > 0.0 and price > 0.0:
            vr = (atr / price) / p[P_VOL_BASELINE_PCT]
        else:
            vr = 1.0
        vraw = 1.0 / vr if vr > 0.0 else 1.0
        vs = clamp(vraw, p[P_VOL_SCALAR_MIN], p[P_VOL_SCALAR_MAX])
        margin = mul(margin, ((cm * am) * vs))
    if p[P_ENABLE_DYNAMIC_LEVERAGE] != 0.0:
        if conf == CONF_HIGH:
            lev = p[P_LEVERAGE_HIGH]
        elif conf == CONF_MEDIUM:
            lev = p[P_LEVERAGE_MEDIUM]
        else:
            lev = p[P_LEVERAGE_LOW]
        if p[P_LEVERAGE_MAX_CAP] > 0.0:
            lev = fmin(lev, p[P_LEVERAGE_MAX_CAP])
    else:
        lev = p[P_LEVERAGE]
    notional = margin * lev
    size = notional / price if price > 0.0 else 0.0
    return size, margin, lev


# ---- open (§3.6) -----------------------------------------------------------------------------------

@device
def open_position(si, pf, g_i, g_f, rec_i, rec_f, s, tau, side, conf, price, size, margin, lev, atr_e,
                  thr, reason, slippage_bps, fee_rate):
    """Open a position at the slipped fill; returns False (nothing recorded) when a size is not positive."""
    if size <= 0.0 or margin <= 0.0 or lev <= 0.0:
        return False
    fill = entry_fill(side, price, slippage_bps)
    n = q(size * fill)
    fee = q(n * fee_rate)
    g_f[GF_BALANCE] = g_f[GF_BALANCE] - fee
    si[s, SI_HAS_POS] = 1
    si[s, SI_QBC] = -1
    if s < POSMASK_BITS:
        g_i[GI_POSMASK] = g_i[GI_POSMASK] | (1 << s)
    si[s, SI_SIDE] = side
    si[s, SI_CONF] = conf
    si[s, SI_HAS_TRAIL] = 0
    si[s, SI_BE_ARMED] = 0
    si[s, SI_ADDS] = 0
    si[s, SI_TP1] = 0
    si[s, SI_OPEN_T] = tau
    si[s, SI_LAST_ADD_T] = tau
    si[s, SI_LAST_ENTRY_T] = tau
    pf[s, PF_ENTRY] = fill
    pf[s, PF_SIZE] = size
    pf[s, PF_ENTRY_ATR] = atr_e
    pf[s, PF_ENTRY_THR] = thr
    pf[s, PF_TRAIL] = 0.0
    pf[s, PF_LEV] = lev
    pf[s, PF_MARGIN] = margin
    g_i[GI_NPOS] += 1
    action = A_OPEN_LONG if side == LONG else A_OPEN_SHORT
    log_record(g_i, g_f, rec_i, rec_f, tau, s, action, reason, conf, fill, size, n, 0.0, fee, atr_e, lev,
               margin, 0.0, 0.0)
    return True


# ---- pyramid add, apply part (§4) -------------------------------------------------------------------

@device
def add_to_position(si, pf, g_i, g_f, rec_i, rec_f, s, tau, price, add_size, add_margin, conf, atr_e,
                    slippage_bps, fee_rate):
    """Apply a validated pyramid add at the slipped fill of the evaluation close ``price``."""
    side = si[s, SI_SIDE]
    si[s, SI_QBC] = -1
    fill = entry_fill(side, price, slippage_bps)
    n = q(add_size * fill)
    fee = q(n * fee_rate)
    g_f[GF_BALANCE] = g_f[GF_BALANCE] - fee
    size = pf[s, PF_SIZE]
    total = size + add_size
    if total > 0.0:
        pf[s, PF_ENTRY] = (mul(pf[s, PF_ENTRY], size) + mul(fill, add_size)) / total
    pf[s, PF_SIZE] = total
    pf[s, PF_MARGIN] = pf[s, PF_MARGIN] + add_margin
    si[s, SI_ADDS] += 1
    si[s, SI_LAST_ADD_T] = tau
    si[s, SI_LAST_ENTRY_T] = tau
    action = A_ADD_LONG if side == LONG else A_ADD_SHORT
    log_record(g_i, g_f, rec_i, rec_f, tau, s, action, R_PYRAMID, conf, fill, add_size, n, 0.0, fee, atr_e,
               pf[s, PF_LEV], pf[s, PF_MARGIN], float(si[s, SI_ADDS]), 0.0)


# ---- exits (§6.3) ------------------------------------------------------------------------------------

@device
def apply_exit(si, pf, g_i, g_f, rec_i, rec_f, s, tau, price, kind, pct, reason, x1, x2, slippage_bps,
               fee_rate):
    """Full or partial exit at the evaluated close ``price`` (slipped fill, taker fee, PESC/cooldown)."""
    side = si[s, SI_SIDE]
    si[s, SI_QBC] = -1
    fill = exit_fill(side, price, slippage_bps)
    entry = pf[s, PF_ENTRY]
    size = pf[s, PF_SIZE]
    if kind == EXIT_PARTIAL:
        pct2 = clamp(pct, 0.0, 1.0)
        closed = q(size * pct2)
    else:
        closed = size
    n = q(fill * closed)
    raw = (fill - entry) * closed
    pnl = q(raw) if side == LONG else q(-raw)
    fee = q(n * fee_rate)
    cash = q(pnl - fee)
    g_f[GF_BALANCE] = g_f[GF_BALANCE] + cash
    si[s, SI_LAST_CLOSE_T] = tau
    si[s, SI_LAST_CLOSE_SIDE] = side
    si[s, SI_LAST_CLOSE_REASON] = reason
    si[s, SI_LAST_EXIT_T] = tau
    conf = si[s, SI_CONF]
    if kind == EXIT_PARTIAL:
        f = closed / size if size > 0.0 else 0.0
        action = A_REDUCE_LONG if side == LONG else A_REDUCE_SHORT
        log_record(g_i, g_f, rec_i, rec_f, tau, s, action, reason, conf, fill, closed, n, pnl, fee,
                   pf[s, PF_ENTRY_ATR], pf[s, PF_LEV], pf[s, PF_MARGIN] * f, x1, x2)
        f2 = clamp(f, 0.0, 1.0)
        removed = mul(size, f2)
        pf[s, PF_SIZE] = size - removed
        pf[s, PF_MARGIN] = mul(pf[s, PF_MARGIN], 1.0 - f2)
        si[s, SI_TP1] = 1
    else:
        action = A_CLOSE_LONG if side == LONG else A_CLOSE_SHORT
        log_record(g_i, g_f, rec_i, rec_f, tau, s, action, reason, conf, fill, size, n, pnl, fee,
                   pf[s, PF_ENTRY_ATR], pf[s, PF_LEV], pf[s, PF_MARGIN], x1, x2)
        si[s, SI_HAS_POS] = 0
        g_i[GI_NPOS] -= 1
        if s < POSMASK_BITS:
            g_i[GI_POSMASK] = g_i[GI_POSMASK] & ~(1 << s)


# ---- funding (§2.8, D25) -----------------------------------------------------------------------------

@device(inline=True)
def settle_funding(si, pf, g_i, g_f, rec_i, rec_f, mc, s, b, rate):
    """Pay ``q(((−signed_size) × mark) × rate)`` for the open position of ``s`` at boundary ``b``."""
    price = mark_price(si, pf, mc, s)
    size = pf[s, PF_SIZE]
    neg_signed = -size if si[s, SI_SIDE] == LONG else size
    delta = q((neg_signed * price) * rate)
    g_f[GF_BALANCE] = g_f[GF_BALANCE] + delta
    log_record(g_i, g_f, rec_i, rec_f, b, s, A_FUNDING, R_FUNDING, si[s, SI_CONF], price, size,
               size * price, delta, 0.0, pf[s, PF_ENTRY_ATR], pf[s, PF_LEV], pf[s, PF_MARGIN], rate, 0.0)
