"""The clock: windows, events and their order (strategy-exits.md §2; D2–D7, D25, D43, D44e, D46, D53.6;
spec-notes N14). One call of :func:`simulate_config` runs a block of configs over the whole batch, in
lockstep (the clock is the same for every config; on CUDA a block is one config).

Windows ``W_0 = (T_0, C_0]``, ``W_j = (C_{j−1}, C_j]``, trailing ``W_n = (C_{n−1}, D]``. Per window: the
context (D7) and ``budget = 0``, then events by ascending τ, at equal τ exit sub-bar step X, entry tick
N, main step M, funding F (D4), then one equity sample (D26, D44e). After the last window the remaining
positions are liquidated at ``D`` (§2.9).

Inputs shared by every config (host-prepared, see ``simulate_cpu``): ``timeline`` (sorted unique
main-bar open times), ``xticks`` / ``nticks`` (sorted unique exit / entry sub-bar close times in
``(T_0, D]``) with ``xcd`` / ``ncd`` (the sub-bar closes by tick and symbol, NaN where a symbol has no
sub-bar closing at that tick), ``sample_day`` (day bucket of each equity sample, consecutive from 0),
market arrays padded per symbol (``*_nb`` = bar counts), ``run_i`` / ``run_f`` (``RI_*`` / ``RF_*``),
``sym_flags``, and the tables of work shared by groups of configs: the window context
(:func:`context_table`) and the raw entry signals at main bars (:func:`signal_table`).

Work skipped because it provably changes nothing: the exit sub-bar step visits open positions only
(``GI_POSMASK``) and skips a close inside the position's quiet band (``kernel_exits.quiet_band``), where
the evaluation would neither exit nor move a level or latch.
"""
from __future__ import annotations

import math

from gpu_sim.fma import mul
from gpu_sim.ind_fields import ADX, ATR, EMA_FAST, EMA_SLOW, PREV_CLOSE, PREV_EMA_FAST
from gpu_sim.kernel_accounting import apply_exit, cooldown_active, equity, mark_price, settle_funding
from gpu_sim.kernel_arith import fmax
from gpu_sim.kernel_exits import evaluate_exits, quiet_band, update_position_state
from gpu_sim.kernel_entries import generate_signal
from gpu_sim.kernel_jit import device
from gpu_sim.kernel_orders import entry_evaluation, entry_on_signal, execute_candidates
from gpu_sim.kernel_records import (
    M_AVG_LOSS,
    M_AVG_TRADE_PNL,
    M_AVG_WIN,
    M_FINAL_BALANCE,
    M_GROSS_LOSS,
    M_GROSS_PROFIT,
    M_INITIAL_BALANCE,
    M_MAX_DRAWDOWN_PCT,
    M_MAX_DRAWDOWN_USD,
    M_N_EQUITY_SAMPLES,
    M_N_RECORDS,
    M_PROFIT_FACTOR,
    M_RECORDS_OVERFLOW,
    M_RUINED,
    M_SHARPE_RATIO,
    M_TOTAL_FEES,
    M_TOTAL_FUNDING,
    M_TOTAL_LOSSES,
    M_TOTAL_PNL,
    M_TOTAL_SIGNALS,
    M_TOTAL_TRADES,
    M_TOTAL_WINS,
    M_WIN_RATE,
)
from gpu_sim.kernel_state import (
    ABSENT,
    BUY,
    EXIT_FULL,
    EXIT_NONE,
    GF_BALANCE,
    GF_CTX_BREADTH,
    GF_CTX_BTC_ADX,
    GF_CTX_BTC_ATR,
    GF_CTX_BTC_CLOSE,
    GF_FEES,
    GF_FUNDING,
    GF_GROSS_LOSS,
    GF_GROSS_PROFIT,
    GF_MAX_DD,
    GF_MAX_DD_PCT,
    GF_PEAK,
    GF_SUM_PNL,
    GI_BUDGET,
    GI_CTX_BANK,
    GI_CTX_BDEF,
    GI_CTX_BTC_BULL,
    GI_LOSSES,
    GI_NPOS,
    GI_NREC,
    GI_NSAMPLES,
    GI_POSMASK,
    GI_RUINED,
    GI_SIGNALS,
    GI_TRADES,
    GI_WINS,
    HOUR_MS,
    INT64_MAX,
    NEUTRAL,
    N_CTX_F,
    N_CTX_I,
    N_GF,
    N_GI,
    N_SI,
    PF_QHI,
    PF_QLO,
    PF_TRAIL,
    POSMASK_BITS,
    P_EXIT_COOLDOWN_S,
    P_SLIPPAGE_BPS,
    RF_FEE_RATE,
    RF_INITIAL_BALANCE,
    RI_BTCUSDT_IDX,
    RI_BTC_IDX,
    RI_ENTRY_MODE,
    RI_EXIT_MODE,
    RI_FROM_TS,
    RI_HAS_FUNDING,
    RI_LOOKBACK,
    RI_MAIN_MS,
    RI_RUN_END,
    SELL,
    SF_ENTRY_SUBS,
    SF_IS_BTC,
    SF_IS_PAXG,
    SI_BAR_COUNT,
    SI_BE_ARMED,
    SI_FCUR,
    SI_HAS_POS,
    SI_HAS_TRAIL,
    SI_LAST_CLOSE_T,
    SI_LAST_ENTRY_T,
    SI_LAST_EXIT_T,
    SI_QBC,
    SI_TP1,
    STALE_FUNDING_MS,
)
from gpu_sim.reasons import R_END_OF_BACKTEST, R_ENTRY, R_ENTRY_SUB_BAR


__all__ = ["simulate_config", "init_state", "window_context", "main_step", "exit_subbar_step", "entry_tick",
           "funding_step", "sample_equity", "sharpe_ratio", "finish_metrics", "feed_bars", "context_table",
           "signal_table", "liquidate_all"]

@device
def init_state(si, pf, g_i, g_f, initial_balance):
    """D50 initial state: no positions, absent clocks, zero counters, balance = initial balance."""
    for s in range(si.shape[0]):
        for f in range(N_SI):
            si[s, f] = 0
        si[s, SI_LAST_ENTRY_T] = ABSENT
        si[s, SI_LAST_EXIT_T] = ABSENT
        si[s, SI_LAST_CLOSE_T] = ABSENT
        for f in range(pf.shape[1]):
            pf[s, f] = 0.0
    for f in range(N_GI):
        g_i[f] = 0
    for f in range(N_GF):
        g_f[f] = 0.0
    g_f[GF_BALANCE] = initial_balance


@device
def window_context(si, sets, ind, mc, g_i, g_f, btc_idx, btcusdt_idx):
    """Breadth, BTC flag and BTC gate metrics from every symbol's latest processed main bar (D7)."""
    total = 0
    bull = 0
    for s in range(si.shape[0]):
        bc = si[s, SI_BAR_COUNT]
        if bc >= 2:
            total += 1
            if ind[sets[s], s, bc - 1, EMA_FAST] > ind[sets[s], s, bc - 1, EMA_SLOW]:
                bull += 1
    if total > 0:
        g_f[GF_CTX_BREADTH] = (float(bull) / float(total)) * 100.0
        g_i[GI_CTX_BDEF] = 1
    else:
        g_f[GF_CTX_BREADTH] = 50.0
        g_i[GI_CTX_BDEF] = 0
    bank = -1
    if btc_idx >= 0 and si[btc_idx, SI_BAR_COUNT] >= 1:
        bank = btc_idx
    elif btcusdt_idx >= 0 and si[btcusdt_idx, SI_BAR_COUNT] >= 1:
        bank = btcusdt_idx
    g_i[GI_CTX_BANK] = bank
    if bank < 0:
        g_i[GI_CTX_BTC_BULL] = -1
        g_f[GF_CTX_BTC_CLOSE] = 0.0
        g_f[GF_CTX_BTC_ADX] = 0.0
        g_f[GF_CTX_BTC_ATR] = 0.0
    else:
        k = si[bank, SI_BAR_COUNT] - 1
        close = mc[bank, k]
        g_i[GI_CTX_BTC_BULL] = 1 if close > ind[sets[bank], bank, k, EMA_SLOW] else 0
        g_f[GF_CTX_BTC_CLOSE] = close
        g_f[GF_CTX_BTC_ADX] = ind[sets[bank], bank, k, ADX]
        g_f[GF_CTX_BTC_ATR] = ind[sets[bank], bank, k, ATR]


@device(inline=True)
def feed_bars(mt, mnb, si, t_open):
    """Pass 1 of M: every symbol with a main bar opening at ``t_open`` takes it (bar counts are the same
    for every config)."""
    for s in range(si.shape[0]):
        bc = si[s, SI_BAR_COUNT]
        if bc < mnb[s] and mt[s, bc] == t_open:
            si[s, SI_BAR_COUNT] = bc + 1


@device(inline=True)
def load_context(ctx_i, ctx_f, j, g_i, g_f):
    """The context of window ``j`` from a precomputed table (what :func:`window_context` would write)."""
    for f in range(N_CTX_I):
        g_i[GI_CTX_BDEF + f] = ctx_i[j, f]
    for f in range(N_CTX_F):
        g_f[GF_CTX_BREADTH + f] = ctx_f[j, f]


@device
def context_table(sets, ind, mc, mt, mnb, timeline, run_i, si, g_i, g_f, ctx_i, ctx_f):
    """``ctx_*[j]`` = the context :func:`window_context` computes at the start of window ``j`` (j = 0..n)
    for the indicator sets ``sets``. It depends on the configs only through ``sets``: bar counts advance
    identically in every config (:func:`feed_bars`). ``si``, ``g_i``, ``g_f`` are scratch."""
    for s in range(si.shape[0]):
        si[s, SI_BAR_COUNT] = 0
    n = timeline.shape[0]
    for j in range(n + 1):
        window_context(si, sets, ind, mc, g_i, g_f, run_i[RI_BTC_IDX], run_i[RI_BTCUSDT_IDX])
        for f in range(N_CTX_I):
            ctx_i[j, f] = g_i[GI_CTX_BDEF + f]
        for f in range(N_CTX_F):
            ctx_f[j, f] = g_f[GF_CTX_BREADTH + f]
        if j < n:
            feed_bars(mt, mnb, si, timeline[j])


@device
def signal_table(params, sets, ind, mt, mc, mv, mnb, timeline, sym_flags, run_i, si, g_i, g_f, sig, sig_thr):
    """The raw signal of every main-bar entry evaluation, for configs sharing ``sets`` and the parameters
    :func:`generate_signal` reads: ``sig[s, k]`` = ``signal × (confidence + 1)`` (0: NEUTRAL) and
    ``sig_thr[s, k]`` = its ADX threshold, for the bar ``k`` of ``s`` fed at the main step M of a window
    (inputs as in :func:`main_step`: the snapshot after bar ``k`` and the BTC flag of the window's
    context). ``sig`` / ``sig_thr`` must be zero on entry; ``si``, ``g_i``, ``g_f`` are scratch."""
    for s in range(si.shape[0]):
        si[s, SI_BAR_COUNT] = 0
    lookback = run_i[RI_LOOKBACK]
    for j in range(timeline.shape[0]):
        window_context(si, sets, ind, mc, g_i, g_f, run_i[RI_BTC_IDX], run_i[RI_BTCUSDT_IDX])
        btc_bull = g_i[GI_CTX_BTC_BULL]
        t_open = timeline[j]
        feed_bars(mt, mnb, si, t_open)
        for s in range(si.shape[0]):
            bc = si[s, SI_BAR_COUNT]
            if bc == 0 or mt[s, bc - 1] != t_open:
                continue
            if (sym_flags[s] & SF_ENTRY_SUBS) != 0 or bc < lookback:
                continue
            row = ind[sets[s], s, bc - 1]
            signal, conf, thr = generate_signal(params[s], row, mc[s, bc - 1], row[PREV_CLOSE], row[PREV_EMA_FAST],
                                                mv[s, bc - 1], (sym_flags[s] & SF_IS_BTC) != 0, btc_bull)
            if signal != NEUTRAL:
                sig[s, bc - 1] = signal * (conf + 1)
                sig_thr[s, bc - 1] = thr


@device
def evaluate_position(p, si, pf, g_i, g_f, rec_i, rec_f, s, tau, row, close, prev_close, sym_flags,
                      fee_rate):
    """One exit evaluation (main bar or exit sub-bar), the exit cooldown first (§2.3 B1, §2.5, §2.6)."""
    si[s, SI_QBC] = -1                      # the state may change: the quiet band is recomputed by its user
    if cooldown_active(si[s, SI_LAST_EXIT_T], tau, p[P_EXIT_COOLDOWN_S]):
        return
    kind, reason, pct, x1, x2 = evaluate_exits(p, si, pf, s, row, close, prev_close,
                                               (sym_flags & SF_IS_PAXG) != 0)
    if kind != EXIT_NONE:
        apply_exit(si, pf, g_i, g_f, rec_i, rec_f, s, tau, close, kind, pct, reason, x1, x2,
                   p[P_SLIPPAGE_BPS], fee_rate)
    else:
        update_position_state(p, si, pf, s, row, close)


@device(inline=True)
def main_step(params, pp, sets, ind, mt, mc, mv, mnb, si, pf, g_i, g_f, rec_i, rec_f, cand_i, cand_f,
              sym_flags, run_i, fee_rate, t_open, sig, sig_thr):
    """M at ``C_j = T_j + I``: pass 1 feeds bars; pass 2 (in scope) exits then entries; then ranking.

    Raw signals come from the config's :func:`signal_table` (``sig``) when it has one (``sig.shape[0] >
    0``), else are computed here (``entry_evaluation``); both give the same signal."""
    tau = t_open + run_i[RI_MAIN_MS]
    n_sym = si.shape[0]
    feed_bars(mt, mnb, si, t_open)
    if tau < run_i[RI_FROM_TS]:
        return
    lookback = run_i[RI_LOOKBACK]
    use_table = sig.shape[0] > 0
    for s in range(n_sym):
        bc = si[s, SI_BAR_COUNT]
        if bc == 0 or mt[s, bc - 1] != t_open:
            continue
        p = params[s]
        row = ind[sets[s], s, bc - 1]
        close = mc[s, bc - 1]
        if si[s, SI_HAS_POS] != 0:
            evaluate_position(p, si, pf, g_i, g_f, rec_i, rec_f, s, tau, row, close, row[PREV_CLOSE],
                              sym_flags[s], fee_rate)
        if (sym_flags[s] & SF_ENTRY_SUBS) != 0:
            continue                        # entries at entry ticks only (D6)
        if bc < lookback:
            continue
        if use_table:
            code = int(sig[s, bc - 1])
            if code != 0:
                entry_on_signal(p, pp, si, pf, g_i, g_f, rec_i, rec_f, cand_i, cand_f, mc, s, tau, row, close,
                                BUY if code > 0 else SELL, (code if code > 0 else -code) - 1, sig_thr[s, bc - 1],
                                fee_rate)
        else:
            entry_evaluation(p, pp, si, pf, g_i, g_f, rec_i, rec_f, cand_i, cand_f, mc, s, tau, row, close,
                             row[PREV_CLOSE], row[PREV_EMA_FAST], mv[s, bc - 1], sym_flags[s], fee_rate)
    execute_candidates(params, pp, si, pf, g_i, g_f, rec_i, rec_f, cand_i, cand_f, mc, tau, R_ENTRY,
                       fee_rate)


@device(inline=True)
def exit_subbar_step(params, sets, ind, mc, xcd, xi, si, pf, g_i, g_f, rec_i, rec_f, sym_flags, fee_rate, tau):
    """X(τ): positions with an exit sub-bar closing at τ, on the view of the latest snapshot (§2.6).

    ``xcd[xi, s]`` is the close of the exit sub-bar of ``s`` closing at ``τ = xticks[xi]`` (NaN: none)."""
    if g_i[GI_NPOS] == 0:
        return                              # no position: nothing to evaluate
    n_sym = si.shape[0]
    use_mask = n_sym <= POSMASK_BITS
    mask = g_i[GI_POSMASK]
    for s in range(n_sym):
        if use_mask:                        # the open positions from the bit set, no state reads
            if (mask >> s) == 0:
                break
            if ((mask >> s) & 1) == 0:
                continue
        elif si[s, SI_HAS_POS] == 0:
            continue
        price = xcd[xi, s]
        if price != price:
            continue
        bc = si[s, SI_BAR_COUNT]
        if bc == 0:
            continue
        valid = si[s, SI_QBC] == bc
        if valid and pf[s, PF_QLO] < price and price < pf[s, PF_QHI]:
            continue                        # quiet: this evaluation would change nothing (quiet_band)
        has_trail = si[s, SI_HAS_TRAIL]
        trail = pf[s, PF_TRAIL]
        be_armed = si[s, SI_BE_ARMED]
        tp1 = si[s, SI_TP1]
        row = ind[sets[s], s, bc - 1]
        evaluate_position(params[s], si, pf, g_i, g_f, rec_i, rec_f, s, tau, row, price, mc[s, bc - 1],
                          sym_flags[s], fee_rate)
        if si[s, SI_HAS_POS] != 0:
            if not (valid and has_trail == si[s, SI_HAS_TRAIL] and trail == pf[s, PF_TRAIL]
                    and be_armed == si[s, SI_BE_ARMED] and tp1 == si[s, SI_TP1]):
                lo, hi = quiet_band(params[s], si, pf, s, row, mc[s, bc - 1], (sym_flags[s] & SF_IS_PAXG) != 0)
                pf[s, PF_QLO] = lo
                pf[s, PF_QHI] = hi
            si[s, SI_QBC] = bc              # unchanged state (same position, levels, latches): same band


@device
def entry_tick(params, pp, sets, ind, mt, mc, mv, ncd, ni, si, pf, g_i, g_f, rec_i, rec_f, cand_i,
               cand_f, sym_flags, run_i, fee_rate, tau, left):
    """N(τ): entry evaluation on views for symbols with an entry sub-bar closing at τ (§2.7, D6).

    ``ncd[ni, s]`` is the close of the entry sub-bar of ``s`` closing at ``τ = nticks[ni]`` (NaN: none)."""
    main_ms = run_i[RI_MAIN_MS]
    lookback = run_i[RI_LOOKBACK]
    for s in range(si.shape[0]):
        price = ncd[ni, s]
        if price != price:
            continue
        bc = si[s, SI_BAR_COUNT]
        if bc == 0 or bc < lookback:
            continue
        if mt[s, bc - 1] + main_ms != left:
            continue                        # stale symbol (D53.6, spec-notes N14)
        row = ind[sets[s], s, bc - 1]
        entry_evaluation(params[s], pp, si, pf, g_i, g_f, rec_i, rec_f, cand_i, cand_f, mc, s, tau, row,
                         price, mc[s, bc - 1], row[EMA_FAST], mv[s, bc - 1], sym_flags[s], fee_rate)
    execute_candidates(params, pp, si, pf, g_i, g_f, rec_i, rec_f, cand_i, cand_f, mc, tau, R_ENTRY_SUB_BAR,
                       fee_rate)


@device(inline=True)
def funding_step(ft, fr, fnb, mc, si, pf, g_i, g_f, rec_i, rec_f, b):
    """F(b): every open position pays at the latest rate at or before ``b`` unless older than 2 h (§2.8)."""
    for s in range(si.shape[0]):
        if si[s, SI_HAS_POS] == 0:
            continue
        k = si[s, SI_FCUR]
        n = fnb[s]
        while k < n and ft[s, k] <= b:
            k += 1
        si[s, SI_FCUR] = k
        if k == 0:
            continue
        if b - ft[s, k - 1] > STALE_FUNDING_MS:
            continue
        settle_funding(si, pf, g_i, g_f, rec_i, rec_f, mc, s, b, fr[s, k - 1])


@device(inline=True)
def sample_equity(si, pf, g_i, g_f, mc, eq_out, day_vals, sample_day):
    """Equity sample at a window's right end: curve, daily bucket, drawdown, ruin flag (D26, D46)."""
    v = equity(si, pf, g_f, mc)
    w = g_i[GI_NSAMPLES]
    if eq_out.shape[0] > 0:
        eq_out[w] = v
    day_vals[sample_day[w]] = v
    if w == 0:
        g_f[GF_PEAK] = v
    g_f[GF_PEAK] = fmax(g_f[GF_PEAK], v)
    dd = g_f[GF_PEAK] - v
    if dd > g_f[GF_MAX_DD]:
        g_f[GF_MAX_DD] = dd
    pct = dd / g_f[GF_PEAK] if g_f[GF_PEAK] > 1e-12 else 0.0
    if pct > g_f[GF_MAX_DD_PCT]:
        g_f[GF_MAX_DD_PCT] = pct
    if v <= 0.0:
        g_i[GI_RUINED] = 1
    g_i[GI_NSAMPLES] = w + 1


@device
def sharpe_ratio(day_vals, n_days):
    """Daily-bucket Sharpe of D46: population std, sums sequential in day order."""
    m = n_days - 1
    if m < 1:
        return 0.0
    acc = 0.0
    for i in range(1, n_days):
        prev = day_vals[i - 1]
        r = (day_vals[i] - prev) / prev if abs(prev) > 1e-12 else 0.0
        acc = acc + r
    mean = acc / float(m)
    acc2 = 0.0
    for i in range(1, n_days):
        prev = day_vals[i - 1]
        r = (day_vals[i] - prev) / prev if abs(prev) > 1e-12 else 0.0
        d = r - mean
        acc2 = acc2 + mul(d, d)
    std = math.sqrt(acc2 / float(m))
    if std < 1e-12:
        return 0.0
    return (mean / std) * math.sqrt(365.0)


@device
def finish_metrics(g_i, g_f, day_vals, sample_day, initial_balance, capacity, metrics):
    """The §6.8 metrics row (D46 formulas)."""
    final = g_f[GF_BALANCE]
    trades = g_i[GI_TRADES]
    wins = g_i[GI_WINS]
    losses = g_i[GI_LOSSES]
    gp = g_f[GF_GROSS_PROFIT]
    gl = g_f[GF_GROSS_LOSS]
    metrics[M_INITIAL_BALANCE] = initial_balance
    metrics[M_FINAL_BALANCE] = final
    metrics[M_TOTAL_PNL] = final - initial_balance
    metrics[M_TOTAL_TRADES] = float(trades)
    metrics[M_TOTAL_WINS] = float(wins)
    metrics[M_TOTAL_LOSSES] = float(losses)
    metrics[M_WIN_RATE] = float(wins) / float(trades) if trades > 0 else 0.0
    metrics[M_GROSS_PROFIT] = gp
    metrics[M_GROSS_LOSS] = gl
    if abs(gl) > 1e-12:
        pfac = gp / abs(gl)
    elif gp > 0.0:
        pfac = math.inf
    else:
        pfac = 0.0
    metrics[M_PROFIT_FACTOR] = pfac
    metrics[M_AVG_TRADE_PNL] = g_f[GF_SUM_PNL] / float(trades) if trades > 0 else 0.0
    metrics[M_AVG_WIN] = gp / float(wins) if wins > 0 else 0.0
    metrics[M_AVG_LOSS] = gl / float(losses) if losses > 0 else 0.0
    metrics[M_TOTAL_FEES] = g_f[GF_FEES]
    metrics[M_MAX_DRAWDOWN_USD] = g_f[GF_MAX_DD]
    metrics[M_MAX_DRAWDOWN_PCT] = g_f[GF_MAX_DD_PCT]
    ns = g_i[GI_NSAMPLES]
    n_days = sample_day[ns - 1] + 1 if ns > 0 else 0
    metrics[M_SHARPE_RATIO] = sharpe_ratio(day_vals, n_days)
    metrics[M_TOTAL_SIGNALS] = float(g_i[GI_SIGNALS])
    metrics[M_TOTAL_FUNDING] = g_f[GF_FUNDING]
    metrics[M_RUINED] = 1.0 if (g_i[GI_RUINED] != 0 or final <= 0.0) else 0.0
    metrics[M_N_RECORDS] = float(g_i[GI_NREC])
    metrics[M_RECORDS_OVERFLOW] = 1.0 if g_i[GI_NREC] > capacity else 0.0
    metrics[M_N_EQUITY_SAMPLES] = float(ns)


@device
def liquidate_all(params, si, pf, g_i, g_f, rec_i, rec_f, mc, run_end, fee_rate):
    """§2.9: after the last window every remaining position is closed at ``D`` at its mark."""
    for s in range(si.shape[0]):
        if si[s, SI_HAS_POS] != 0:
            apply_exit(si, pf, g_i, g_f, rec_i, rec_f, s, run_end, mark_price(si, pf, mc, s), EXIT_FULL, 0.0,
                       R_END_OF_BACKTEST, 0.0, 0.0, params[s, P_SLIPPAGE_BPS], fee_rate)


@device
def simulate_config(params, portfolio, set_ids, ind, mt, mc, mv, mnb, xcd, ncd, ft, fr, fnb,
                    timeline, xticks, nticks, sample_day, sym_flags, run_i, run_f, grp, ctx_i, ctx_f, sig, sig_thr,
                    sym_i, pos_f, g_i, g_f, cand_i, cand_f, day_vals, rec_i, rec_f, eq_out, metrics, c0, c1):
    """Run configs ``c0 <= c < c1`` from D50 state to metrics (per-config arrays are indexed by config).

    The clock (windows, event times and their order) is the same for every config, so the configs of
    the block advance in lockstep: each event is applied to every config of the block in turn, while
    that event's market rows are in cache. Configs never interact: each one's state and results are
    exactly those of a run alone (a CUDA thread runs a block of one config). Config ``c`` uses context
    table ``grp[c, 0]`` and signal table ``grp[c, 1]`` (tables with 0 rows: computed per config)."""
    initial = run_f[RF_INITIAL_BALANCE]
    fee_rate = run_f[RF_FEE_RATE]
    for c in range(c0, c1):
        init_state(sym_i[c], pos_f[c], g_i[c], g_f[c], initial)
    n = timeline.shape[0]
    capacity = rec_i.shape[1]
    main_ms = run_i[RI_MAIN_MS]
    run_end = run_i[RI_RUN_END]
    from_ts = run_i[RI_FROM_TS]
    exit_mode = run_i[RI_EXIT_MODE] != 0
    entry_mode = run_i[RI_ENTRY_MODE] != 0
    has_funding = run_i[RI_HAS_FUNDING] != 0
    btc_idx = run_i[RI_BTC_IDX]
    btcusdt_idx = run_i[RI_BTCUSDT_IDX]
    t0 = timeline[0] if n > 0 else 0
    xp = 0
    while xp < xticks.shape[0] and xticks[xp] <= t0:
        xp += 1
    npos = 0
    while npos < nticks.shape[0] and nticks[npos] <= t0:
        npos += 1
    for j in range(n + 1):
        if n == 0:
            break
        if j < n:
            left = t0 if j == 0 else timeline[j - 1] + main_ms
            right = timeline[j] + main_ms
        else:
            left = timeline[n - 1] + main_ms
            right = run_end
            if right <= left:
                break                       # empty trailing window: no events, no sample
        for c in range(c0, c1):
            if ctx_i.shape[1] > 0:
                load_context(ctx_i[grp[c, 0]], ctx_f[grp[c, 0]], j, g_i[c], g_f[c])
            else:
                window_context(sym_i[c], set_ids[c], ind, mc, g_i[c], g_f[c], btc_idx, btcusdt_idx)
            g_i[c, GI_BUDGET] = 0
        main_pending = j < n
        b = (left // HOUR_MS + 1) * HOUR_MS
        while True:
            tau = INT64_MAX
            if exit_mode and xp < xticks.shape[0] and xticks[xp] <= right:
                tau = xticks[xp]
            if entry_mode and npos < nticks.shape[0] and nticks[npos] <= right and nticks[npos] < tau:
                tau = nticks[npos]
            if main_pending and right < tau:
                tau = right
            if has_funding and b <= right and b < tau:
                tau = b
            if tau == INT64_MAX:
                break
            if exit_mode and xp < xticks.shape[0] and xticks[xp] == tau:
                if tau >= from_ts:
                    for c in range(c0, c1):
                        exit_subbar_step(params[c], set_ids[c], ind, mc, xcd, xp, sym_i[c], pos_f[c], g_i[c],
                                         g_f[c], rec_i[c], rec_f[c], sym_flags, fee_rate, tau)
                xp += 1
            if entry_mode and npos < nticks.shape[0] and nticks[npos] == tau:
                if tau >= from_ts:
                    for c in range(c0, c1):
                        entry_tick(params[c], portfolio[c], set_ids[c], ind, mt, mc, mv, ncd, npos, sym_i[c],
                                   pos_f[c], g_i[c], g_f[c], rec_i[c], rec_f[c], cand_i[c], cand_f[c], sym_flags,
                                   run_i, fee_rate, tau, left)
                npos += 1
            if main_pending and tau == right:
                for c in range(c0, c1):
                    main_step(params[c], portfolio[c], set_ids[c], ind, mt, mc, mv, mnb, sym_i[c], pos_f[c],
                              g_i[c], g_f[c], rec_i[c], rec_f[c], cand_i[c], cand_f[c], sym_flags, run_i,
                              fee_rate, timeline[j], sig[grp[c, 1]], sig_thr[grp[c, 1]])
                main_pending = False
            if has_funding and b == tau:
                if tau >= from_ts:
                    for c in range(c0, c1):
                        funding_step(ft, fr, fnb, mc, sym_i[c], pos_f[c], g_i[c], g_f[c], rec_i[c], rec_f[c], b)
                b += HOUR_MS
        for c in range(c0, c1):
            sample_equity(sym_i[c], pos_f[c], g_i[c], g_f[c], mc, eq_out[c], day_vals[c], sample_day)
    for c in range(c0, c1):
        if n > 0:
            liquidate_all(params[c], sym_i[c], pos_f[c], g_i[c], g_f[c], rec_i[c], rec_f[c], mc, run_end, fee_rate)
        finish_metrics(g_i[c], g_f[c], day_vals[c], sample_day, initial, capacity, metrics[c])
