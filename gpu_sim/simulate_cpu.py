"""CPU driver: ``prange`` over blocks of configs; each block runs the whole simulation with its configs in
lockstep (``kernel_loop.simulate_config``), so that an event's market rows are read once per block.

The wrapper owns shapes (STYLE.md 3): it validates inputs, resolves the run (intervals, sub-bar modes,
``to_ts`` truncation as per-symbol bar counts, run end ``D``, timeline, tick lists, equity-sample day
buckets), preallocates state and outputs, and launches :func:`_simulate_all`. Kernels never raise.

Work shared by configs is done once per group of configs before the launch (:func:`allocate`): the
window context (``kernel_loop.context_table``, per distinct row of indicator sets) and the raw entry
signals at main bars (``kernel_loop.signal_table``, per distinct indicator sets + values of the
parameters ``generate_signal`` reads), each when its table fits ``TABLE_BUDGET_BYTES``; otherwise the
kernel computes them per config. Both ways run the same kernel functions on the same inputs.

Normalisation (strategy-exits.md §1.1, D38): the market arrays must already hold only the universe
(``watchlist_exclude`` applied) and be validated (``harness.data.validate_market``). Here: active
sub-bar series by interval length (D39); ``D_data`` over main bars and active sub-bar series before
truncation; ``to_ts`` drops bars closing after it (and funding rows after it) by shortening the
per-symbol counts; sub-bars closing at or before ``T_0`` are skipped by the kernel.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import prange

from harness.errors import ConfigError, DataError

from .config_loader import ParamsBatch, interval_ms
from .ind_fields import N_FIELDS
from .indicator_sets import compute_indicators, dedup_sets
from . import kernel_state
from .kernel_jit import cpu_jit, registry
from .kernel_loop import context_table, signal_table, simulate_config
from .kernel_records import METRIC_NAMES, N_METRICS, N_REC_F, N_REC_I, decode_records, metrics_dict
from .kernel_state import (
    ABSENT,
    DAY_MS,
    N_CF,
    N_CI,
    N_CTX_F,
    N_CTX_I,
    N_GF,
    N_GI,
    N_PF,
    N_RF,
    N_RI,
    N_SI,
    RF_FEE_RATE,
    RF_INITIAL_BALANCE,
    RI_BTC_IDX,
    RI_BTCUSDT_IDX,
    RI_ENTRY_MODE,
    RI_ENTRY_MS,
    RI_EXIT_MODE,
    RI_EXIT_MS,
    RI_FROM_TS,
    RI_HAS_FUNDING,
    RI_LOOKBACK,
    RI_MAIN_MS,
    RI_RUN_END,
    SF_ENTRY_SUBS,
    SF_IS_BTC,
    SF_IS_PAXG,
)
from .layout import ascii_upper
from .market_arrays import MarketArrays

__all__ = ["RunParams", "SimResult", "KernelInputs", "KERNEL_ARGS", "simulate_cpu", "prepare_run", "allocate",
           "run_kernel", "result_from"]

#: Kernel argument order, shared by the CPU driver and the CUDA kernel (``kernel_cuda``).
KERNEL_ARGS = ("params", "portfolio", "set_ids", "ind", "mt", "mc", "mv", "mnb", "xcd", "ncd", "ft", "fr", "fnb",
               "timeline", "xticks", "nticks", "sample_day", "sym_flags", "run_i", "run_f", "grp", "ctx_i", "ctx_f",
               "sig", "sig_thr", "sym_i", "pos_f", "g_i", "g_f", "cand_i", "cand_f", "day_vals", "rec_i", "rec_f",
               "eq_out", "metrics")

#: Largest shared table (bytes) precomputed before a launch; a larger one is left to the kernel.
TABLE_BUDGET_BYTES = 256 * 2**20


#: Most configs per lockstep block (``kernel_loop.simulate_config``): a block shares each event's market
#: rows in cache; prange distributes the blocks over the threads. Blocks shrink so that a batch makes at
#: least ``MIN_BLOCKS`` of them when it can (every thread of a 16-core machine gets several).
BLOCK = 32
MIN_BLOCKS = 32


@cpu_jit(parallel=True, error_model="numpy", _nrt=False)
def _simulate_all(params, portfolio, set_ids, ind, mt, mc, mv, mnb, xcd, ncd, ft, fr, fnb,
                  timeline, xticks, nticks, sample_day, sym_flags, run_i, run_f, grp, ctx_i, ctx_f, sig, sig_thr,
                  sym_i, pos_f, g_i, g_f, cand_i, cand_f, day_vals, rec_i, rec_f, eq_out, metrics):
    n_cfg = params.shape[0]
    size = max(1, min(BLOCK, n_cfg // MIN_BLOCKS))
    for blk in prange((n_cfg + size - 1) // size):
        c0 = blk * size
        c1 = min(c0 + size, n_cfg)
        simulate_config(params, portfolio, set_ids, ind, mt, mc, mv, mnb, xcd, ncd, ft, fr, fnb,
                        timeline, xticks, nticks, sample_day, sym_flags, run_i, run_f, grp, ctx_i, ctx_f,
                        sig, sig_thr, sym_i, pos_f, g_i, g_f, cand_i, cand_f, day_vals, rec_i, rec_f, eq_out,
                        metrics, c0, c1)


@cpu_jit(parallel=True, error_model="numpy", _nrt=False)
def _context_tables(set_rows, ind, mc, mt, mnb, timeline, run_i, si, g_i, g_f, ctx_i, ctx_f):
    for g in prange(set_rows.shape[0]):
        context_table(set_rows[g], ind, mc, mt, mnb, timeline, run_i, si[g], g_i[g], g_f[g], ctx_i[g], ctx_f[g])


@cpu_jit(parallel=True, error_model="numpy", _nrt=False)
def _signal_tables(params, set_rows, ind, mt, mc, mv, mnb, timeline, sym_flags, run_i, si, g_i, g_f, sig, sig_thr):
    for g in prange(set_rows.shape[0]):
        signal_table(params[g], set_rows[g], ind, mt, mc, mv, mnb, timeline, sym_flags, run_i, si[g], g_i[g],
                     g_f[g], sig[g], sig_thr[g])


def param_columns(function: str) -> tuple[int, ...]:
    """Parameter columns (``kernel_state.P_*``) that kernel function ``function`` and its kernel callees
    read, found in their code (so an edit of the kernel source keeps the signal groups exact)."""
    reg = registry()
    cols: set[int] = set()
    seen: set[str] = set()
    todo = [function]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        for ref in reg[name].py_func.__code__.co_names:
            if ref.startswith("P_") and isinstance(getattr(kernel_state, ref, None), int):
                cols.add(getattr(kernel_state, ref))
            elif ref in reg:
                todo.append(ref)
    return tuple(sorted(cols))


def _groups(key: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(first, group)`` of the rows of ``key`` (n, m) int64: ``first[g]`` the first row of group ``g``,
    ``group[i]`` the group of row ``i``; groups are the distinct rows, numbered by first occurrence."""
    if key.shape[0] == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    _, first, inverse = np.unique(key, axis=0, return_index=True, return_inverse=True)
    order = np.argsort(first, kind="stable")
    rank = np.empty(order.size, dtype=np.int64)
    rank[order] = np.arange(order.size)
    return first[order].astype(np.int64), rank[inverse.reshape(-1)]


def shared_tables(params: np.ndarray, set_ids: np.ndarray, ind: np.ndarray, k: "KernelInputs",
                  budget: int | None = None) -> dict:
    """The kernel arguments ``grp``, ``ctx_i``, ``ctx_f``, ``sig``, ``sig_thr`` (see the module docstring):
    per config its context group and signal group, and the tables of those groups (0 rows: not
    precomputed, the kernel computes the values per config)."""
    budget = TABLE_BUDGET_BYTES if budget is None else budget
    n_cfg, n_sym = set_ids.shape
    n_win = k.timeline.shape[0] + 1
    max_bars = k.mt.shape[1]
    grp = np.zeros((n_cfg, 2), np.int64)
    out = {"grp": grp,
           "ctx_i": np.zeros((1, 0, N_CTX_I), np.int64), "ctx_f": np.zeros((1, 0, N_CTX_F), np.float64),
           "sig": np.zeros((1, 0, 0), np.int8), "sig_thr": np.zeros((1, 0, 0), np.float64)}
    if n_cfg == 0 or n_sym == 0:
        return {name: _ro(a) for name, a in out.items()}
    sets = np.ascontiguousarray(set_ids, dtype=np.int64)
    ind = _ro(ind)
    first, grp[:, 0] = _groups(sets)
    n_g = first.size
    if n_g * n_win * (N_CTX_I + N_CTX_F) * 8 <= budget:
        ctx_i = np.zeros((n_g, n_win, N_CTX_I), np.int64)
        ctx_f = np.zeros((n_g, n_win, N_CTX_F), np.float64)
        _context_tables(sets[first], ind, k.mc, k.mt, k.mnb, k.timeline, k.run_i,
                        np.zeros((n_g, n_sym, N_SI), np.int64), np.zeros((n_g, N_GI), np.int64),
                        np.zeros((n_g, N_GF), np.float64), ctx_i, ctx_f)
        out["ctx_i"], out["ctx_f"] = ctx_i, ctx_f
    else:
        grp[:, 0] = 0
    cols = list(param_columns("generate_signal"))
    bits = np.ascontiguousarray(params[:, :, cols], dtype=np.float64).view(np.int64).reshape(n_cfg, -1)
    first, grp[:, 1] = _groups(np.concatenate([sets, bits], axis=1))
    n_g = first.size
    if n_g * n_sym * max_bars * 9 <= budget:
        sig = np.zeros((n_g, n_sym, max_bars), np.int8)
        sig_thr = np.zeros((n_g, n_sym, max_bars), np.float64)
        _signal_tables(np.ascontiguousarray(params[first], dtype=np.float64), sets[first], ind, k.mt, k.mc, k.mv,
                       k.mnb, k.timeline, k.sym_flags, k.run_i, np.zeros((n_g, n_sym, N_SI), np.int64),
                       np.zeros((n_g, N_GI), np.int64), np.zeros((n_g, N_GF), np.float64), sig, sig_thr)
        out["sig"], out["sig_thr"] = sig, sig_thr
    else:
        grp[:, 1] = 0
    return {name: _ro(a) for name, a in out.items()}


@dataclass(frozen=True)
class RunParams:
    """Run parameters (D22, D42): identical for every config of a launch."""

    initial_balance: float = 10_000.0
    lookback: int = 200
    taker_fee_bps: float = 3.5
    from_ts: int | None = None
    to_ts: int | None = None
    allow_missing_sub_bars: bool = False

    def check(self) -> None:
        ib, lb, fee = self.initial_balance, self.lookback, self.taker_fee_bps
        if not (isinstance(ib, (int, float)) and np.isfinite(ib) and ib > 0):
            raise ConfigError(f"<run>: initial_balance = {ib!r}: must be finite and > 0 (D42); fix: e.g. 10000.0")
        if isinstance(lb, bool) or not isinstance(lb, (int, np.integer)) or lb < 0:
            raise ConfigError(f"<run>: lookback = {lb!r}: must be an integer >= 0 (D42); fix: e.g. 200")
        if not (isinstance(fee, (int, float)) and np.isfinite(fee) and fee >= 0):
            raise ConfigError(f"<run>: taker_fee_bps = {fee!r}: must be finite and >= 0 (D42); fix: e.g. 3.5")
        for name in ("from_ts", "to_ts"):
            v = getattr(self, name)
            if v is not None and (isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 0):
                raise ConfigError(f"<run>: {name} = {v!r}: must be an integer ms time >= 0 (D42); fix: e.g. "
                                  f"1704067200000 or None")


@dataclass(frozen=True, eq=False)
class KernelInputs:
    """Everything the kernel reads, shared by all configs (read-only arrays)."""

    symbols: tuple[str, ...]
    mt: np.ndarray
    mc: np.ndarray
    mv: np.ndarray
    mnb: np.ndarray
    xt: np.ndarray
    xc: np.ndarray
    xnb: np.ndarray
    nt: np.ndarray
    nc: np.ndarray
    nnb: np.ndarray
    ft: np.ndarray
    fr: np.ndarray
    fnb: np.ndarray
    timeline: np.ndarray
    xticks: np.ndarray
    nticks: np.ndarray
    sample_t: np.ndarray
    sample_day: np.ndarray
    sym_flags: np.ndarray
    run_i: np.ndarray
    run_f: np.ndarray


@dataclass(frozen=True, eq=False)
class SimResult:
    """Outputs of one launch. ``rec_i``/``rec_f``: (n_configs, capacity, ·); ``equity``: (n_configs,
    n_samples) or None; ``metrics``: (n_configs, N_METRICS) in ``METRIC_NAMES`` order."""

    symbols: tuple[str, ...]
    metrics: np.ndarray
    rec_i: np.ndarray
    rec_f: np.ndarray
    equity: np.ndarray | None
    sample_t: np.ndarray

    @property
    def n_records(self) -> np.ndarray:
        return self.metrics[:, METRIC_NAMES.index("n_records")].astype(np.int64)

    @property
    def overflow(self) -> np.ndarray:
        return self.metrics[:, METRIC_NAMES.index("records_overflow")] != 0.0

    def records(self, config: int) -> list[dict]:
        """The §6.5 trade log of ``config`` (only the records that fit the buffer; see ``overflow``)."""
        return decode_records(self.rec_i[config], self.rec_f[config], int(self.n_records[config]), self.symbols)

    def metrics_of(self, config: int) -> dict:
        return metrics_dict(self.metrics[config])

    def equity_curve(self, config: int) -> list[tuple[int, float]]:
        if self.equity is None:
            raise ValueError("equity curves were not requested (equity_curve=False)")
        return [(int(t), float(v)) for t, v in zip(self.sample_t, self.equity[config])]


def _ro(a: np.ndarray) -> np.ndarray:
    v = np.ascontiguousarray(a).view()
    v.flags.writeable = False
    return v


def _sub_series(market: MarketArrays, length: int | None, what: str, allow_missing: bool):
    """(t, c, n_bars) of the active sub-bar series of ``length`` ms, or empty arrays."""
    n_sym = len(market.symbols)
    if length is None:
        return np.zeros((n_sym, 0), np.int64), np.zeros((n_sym, 0)), np.zeros(n_sym, np.int64)
    bars = market.sub.get(length)
    if bars is None:
        if not allow_missing:
            raise DataError(f"<market>: {what} sub-bar mode is on ({length} ms) but no such series was supplied "
                            f"(D53.18). Fix: load the series or pass allow_missing_sub_bars=True.")
        return np.zeros((n_sym, 0), np.int64), np.zeros((n_sym, 0)), np.zeros(n_sym, np.int64)
    if bars.symbols != market.symbols:
        raise DataError(f"<market>: {what} sub-bar symbols {bars.symbols} != universe {market.symbols}. "
                        f"Fix: pack them with pack_market.")
    nb = bars.n_bars.astype(np.int64)
    if not allow_missing and np.any(nb == 0):
        miss = [market.symbols[i] for i in np.flatnonzero(nb == 0)]
        raise DataError(f"<market>: {what} sub-bar mode is on but {miss} have no sub-bars (D53.18). Fix: load "
                        f"them or pass allow_missing_sub_bars=True (those symbols then use main bars only).")
    return bars.t, bars.c, nb


def _check_series(t: np.ndarray, nb: np.ndarray, length: int, what: str, symbols) -> None:
    """D53.3–D53.5: open times on the interval's phase, bars at least one interval apart (a series of
    another interval than configured would otherwise pass silently: MarketArrays carry no interval)."""
    for s in range(nb.size):
        ts = t[s, :nb[s]]
        bad = np.flatnonzero(ts % length != 0)
        if bad.size:
            raise DataError(f"<market>: {what} bars of {symbols[s]!r}: open time {int(ts[bad[0]])} is not a multiple "
                            f"of the interval ({length} ms) (D53.3, D53.5). Fix: load the series of the configured "
                            f"interval.")
        gap = np.flatnonzero(np.diff(ts) < length)
        if gap.size:
            raise DataError(f"<market>: {what} bars of {symbols[s]!r}: open times {int(ts[gap[0]])} and "
                            f"{int(ts[gap[0] + 1])} are closer than the interval ({length} ms) (D53.4). Fix: load "
                            f"the series of the configured interval.")


def _last_close(t: np.ndarray, nb: np.ndarray, length: int) -> int | None:
    ends = [int(t[s, nb[s] - 1]) + length for s in range(nb.size) if nb[s] > 0]
    return max(ends) if ends else None


def _truncate(t: np.ndarray, nb: np.ndarray, length: int, to_ts: int | None) -> np.ndarray:
    """Per-symbol counts of rows whose close (``t + length``) is <= ``to_ts``."""
    if to_ts is None:
        return nb.copy()
    out = np.empty_like(nb)
    for s in range(nb.size):
        out[s] = np.searchsorted(t[s, :nb[s]] + length, to_ts, side="right")
    return out


def _ticks(t: np.ndarray, nb: np.ndarray, length: int, lo: int, hi: int) -> np.ndarray:
    closes = [t[s, :nb[s]] + length for s in range(nb.size)]
    allc = np.unique(np.concatenate(closes)) if closes else np.zeros(0, np.int64)
    return allc[(allc > lo) & (allc <= hi)].astype(np.int64)


def prepare_run(market: MarketArrays, engine: dict, run: RunParams) -> KernelInputs:
    """Resolve the clock and pack the shared kernel inputs (strategy-exits.md §1.1, §2.1)."""
    run.check()
    syms = market.symbols
    n_sym = len(syms)
    main_ms = interval_ms(engine.get("engine.interval", "1h"))
    if main_ms is None:
        raise ConfigError(f"<engine>: engine.interval = {engine.get('engine.interval')!r} is not an interval (D39)")
    lengths = {}
    for key in ("engine.exit_interval", "engine.entry_interval"):
        text = engine.get(key, "")
        if text == "":
            lengths[key] = None
            continue
        ms = interval_ms(text)
        if ms is None or ms > main_ms:
            raise ConfigError(f"<engine>: {key} = {text!r}: must be an interval no longer than engine.interval "
                              f"(D32, D39)")
        lengths[key] = None if ms == main_ms else ms
    exit_ms, entry_ms = lengths["engine.exit_interval"], lengths["engine.entry_interval"]
    excluded = {ascii_upper(x) for x in engine.get("watchlist_exclude", ())}
    hit = [s for s in syms if ascii_upper(s) in excluded]
    if hit:
        raise DataError(f"<market>: symbols {hit} are in watchlist_exclude but in the market arrays; the universe "
                        f"excludes them (D33, D48). Fix: pack the market without them.")
    xt, xc, xnb = _sub_series(market, exit_ms, "exit", run.allow_missing_sub_bars)
    nt, nc, nnb = _sub_series(market, entry_ms, "entry", run.allow_missing_sub_bars)
    has_entry_subs = nnb > 0                 # before truncation: to_ts must not change a symbol's entry mode
    m = market.main
    mnb = m.n_bars.astype(np.int64)
    _check_series(m.t, mnb, main_ms, "main", syms)
    if exit_ms:
        _check_series(xt, xnb, exit_ms, "exit sub-bar", syms)
    if entry_ms:
        _check_series(nt, nnb, entry_ms, "entry sub-bar", syms)
    ends = [e for e in (_last_close(m.t, mnb, main_ms),
                        _last_close(xt, xnb, exit_ms) if exit_ms else None,
                        _last_close(nt, nnb, entry_ms) if entry_ms else None) if e is not None]
    d_data = max(ends) if ends else 0
    to_ts = run.to_ts
    run_end = d_data if to_ts is None else min(int(to_ts), d_data)
    mnb = _truncate(m.t, mnb, main_ms, to_ts)
    if exit_ms:
        xnb = _truncate(xt, xnb, exit_ms, to_ts)
    if entry_ms:
        nnb = _truncate(nt, nnb, entry_ms, to_ts)
    opens = [m.t[s, :mnb[s]] for s in range(n_sym)]
    timeline = np.unique(np.concatenate(opens)).astype(np.int64) if opens else np.zeros(0, np.int64)
    t0 = int(timeline[0]) if timeline.size else 0
    xticks = _ticks(xt, xnb, exit_ms, t0, run_end) if exit_ms else np.zeros(0, np.int64)
    nticks = _ticks(nt, nnb, entry_ms, t0, run_end) if entry_ms else np.zeros(0, np.int64)
    if market.funding is not None:
        f = market.funding
        ft, fr = f.times, f.rates
        fnb = f.n_rows.astype(np.int64)
        if to_ts is not None:
            fnb = np.array([np.searchsorted(ft[s, :fnb[s]], to_ts, side="right") for s in range(n_sym)],
                           dtype=np.int64)
    else:
        ft, fr, fnb = np.zeros((n_sym, 0), np.int64), np.zeros((n_sym, 0)), np.zeros(n_sym, np.int64)
    closes = timeline + main_ms
    if timeline.size and run_end > int(closes[-1]):
        sample_t = np.concatenate([closes, np.array([run_end], np.int64)])
    else:
        sample_t = closes.astype(np.int64)
    _, sample_day = np.unique(sample_t // DAY_MS, return_inverse=True)
    flags = np.zeros(n_sym, np.int64)
    upper = [ascii_upper(s) for s in syms]
    for i, u in enumerate(upper):
        flags[i] = ((SF_IS_BTC if u == "BTC" else 0) | (SF_IS_PAXG if u == "PAXG" else 0)
                    | (SF_ENTRY_SUBS if entry_ms and has_entry_subs[i] else 0))
    run_i = np.zeros(N_RI, np.int64)
    run_i[RI_LOOKBACK] = int(run.lookback)
    run_i[RI_FROM_TS] = ABSENT if run.from_ts is None else int(run.from_ts)
    run_i[RI_RUN_END] = run_end
    run_i[RI_MAIN_MS] = main_ms
    run_i[RI_EXIT_MS] = exit_ms or 0
    run_i[RI_ENTRY_MS] = entry_ms or 0
    run_i[RI_EXIT_MODE] = 1 if exit_ms else 0
    run_i[RI_ENTRY_MODE] = 1 if entry_ms else 0
    run_i[RI_HAS_FUNDING] = 1 if market.funding is not None else 0
    run_i[RI_BTC_IDX] = upper.index("BTC") if "BTC" in upper else -1
    run_i[RI_BTCUSDT_IDX] = upper.index("BTCUSDT") if "BTCUSDT" in upper else -1
    run_f = np.zeros(N_RF, np.float64)
    run_f[RF_INITIAL_BALANCE] = float(run.initial_balance)
    run_f[RF_FEE_RATE] = float(run.taker_fee_bps) / 10000.0
    return KernelInputs(
        symbols=syms, mt=_ro(m.t), mc=_ro(m.c), mv=_ro(m.v), mnb=_ro(mnb),
        xt=_ro(xt), xc=_ro(xc), xnb=_ro(xnb), nt=_ro(nt), nc=_ro(nc), nnb=_ro(nnb),
        ft=_ro(ft), fr=_ro(fr), fnb=_ro(fnb), timeline=_ro(timeline), xticks=_ro(xticks), nticks=_ro(nticks),
        sample_t=_ro(sample_t.astype(np.int64)), sample_day=_ro(sample_day.astype(np.int64).reshape(-1)),
        sym_flags=_ro(flags), run_i=_ro(run_i), run_f=_ro(run_f))


def _by_tick(t: np.ndarray, c: np.ndarray, nb: np.ndarray, ticks: np.ndarray, length: int) -> np.ndarray:
    """Sub-bar closes by tick: ``out[i, s]`` = close of the sub-bar of ``s`` (among its first ``nb[s]``)
    whose close time ``t + length`` is ``ticks[i]``, NaN where ``s`` has none (prices are finite, so NaN
    marks "no sub-bar"). One row per tick, contiguous over symbols: the kernel reads a tick's row instead
    of advancing a cursor per symbol."""
    n_sym = nb.shape[0]
    out = np.full((ticks.shape[0], n_sym), np.nan, dtype=np.float64)
    for s in range(n_sym):
        n = int(nb[s])
        if n == 0 or ticks.size == 0:
            continue
        closes = t[s, :n] + length
        i = np.searchsorted(ticks, closes)
        hit = i < ticks.size
        hit[hit] = ticks[i[hit]] == closes[hit]
        out[i[hit], s] = c[s, :n][hit]
    return _ro(out)


def allocate(params: np.ndarray, portfolio: np.ndarray, set_ids: np.ndarray, ind: np.ndarray, k: KernelInputs, *,
             record_capacity: int = 4096, equity_curve: bool = True) -> dict:
    """Validate shapes and build every kernel argument (``kernel_cuda.KERNEL_ARGS`` names): shared
    read-only inputs plus zeroed per-config state and outputs."""
    n_cfg, n_sym = params.shape[0], len(k.symbols)
    if params.ndim != 3 or params.shape[1] != n_sym or portfolio.shape != (n_cfg, params.shape[2]):
        raise ConfigError(f"<params>: shapes {params.shape} / {portfolio.shape} do not match {n_sym} symbols")
    if set_ids.shape != (n_cfg, n_sym) or ind.ndim != 4 or ind.shape[1] != n_sym or ind.shape[3] != N_FIELDS:
        raise ConfigError(f"<ind>: set_ids {set_ids.shape} / ind {ind.shape} do not match the batch")
    if n_cfg and n_sym and (int(set_ids.min()) < 0 or int(set_ids.max()) >= ind.shape[0]):
        raise ConfigError("<ind>: set_ids out of range of ind")
    if ind.shape[2] < k.mt.shape[1]:
        raise ConfigError(f"<ind>: {ind.shape[2]} bar rows < {k.mt.shape[1]} main bars")
    if isinstance(record_capacity, bool) or not isinstance(record_capacity, (int, np.integer)) or record_capacity < 0:
        raise ValueError(f"record_capacity = {record_capacity!r}: must be an integer >= 0")
    n_samples = k.sample_t.shape[0]
    n_days = int(k.sample_day[-1]) + 1 if n_samples else 0
    args = {
        "params": _ro(params.astype(np.float64, copy=False)),
        "portfolio": _ro(portfolio.astype(np.float64, copy=False)),
        "set_ids": _ro(set_ids.astype(np.int64)), "ind": _ro(ind),
        "mt": k.mt, "mc": k.mc, "mv": k.mv, "mnb": k.mnb,
        "xcd": _by_tick(k.xt, k.xc, k.xnb, k.xticks, int(k.run_i[RI_EXIT_MS])),
        "ncd": _by_tick(k.nt, k.nc, k.nnb, k.nticks, int(k.run_i[RI_ENTRY_MS])),
        "ft": k.ft, "fr": k.fr, "fnb": k.fnb,
        "timeline": k.timeline, "xticks": k.xticks, "nticks": k.nticks, "sample_day": k.sample_day,
        "sym_flags": k.sym_flags, "run_i": k.run_i, "run_f": k.run_f,
        **shared_tables(params, set_ids, ind, k),
        "sym_i": np.zeros((n_cfg, n_sym, N_SI), np.int64),
        "pos_f": np.zeros((n_cfg, n_sym, N_PF), np.float64),
        "g_i": np.zeros((n_cfg, N_GI), np.int64),
        "g_f": np.zeros((n_cfg, N_GF), np.float64),
        "cand_i": np.zeros((n_cfg, n_sym, N_CI), np.int64),
        "cand_f": np.zeros((n_cfg, n_sym, N_CF), np.float64),
        "day_vals": np.zeros((n_cfg, max(n_days, 1)), np.float64),
        "rec_i": np.zeros((n_cfg, record_capacity, N_REC_I), np.int64),
        "rec_f": np.zeros((n_cfg, record_capacity, N_REC_F), np.float64),
        "eq_out": np.zeros((n_cfg, n_samples if equity_curve else 0), np.float64),
        "metrics": np.zeros((n_cfg, N_METRICS), np.float64),
    }
    return args


def result_from(args: dict, k: KernelInputs, equity_curve: bool) -> SimResult:
    return SimResult(k.symbols, args["metrics"], args["rec_i"], args["rec_f"],
                     args["eq_out"] if equity_curve else None, k.sample_t)


def run_kernel(params: np.ndarray, portfolio: np.ndarray, set_ids: np.ndarray, ind: np.ndarray,
               k: KernelInputs, *, record_capacity: int = 4096, equity_curve: bool = True) -> SimResult:
    """Allocate state and outputs for ``params`` (n_configs, n_symbols, n_fields) and launch on the CPU."""
    args = allocate(params, portfolio, set_ids, ind, k, record_capacity=record_capacity, equity_curve=equity_curve)
    _simulate_all(*(args[name] for name in KERNEL_ARGS))
    return result_from(args, k, equity_curve)


def simulate_cpu(batch: ParamsBatch, market: MarketArrays, run: RunParams = RunParams(), *,
                 record_capacity: int = 4096, equity_curve: bool = True, ind: np.ndarray | None = None,
                 set_ids: np.ndarray | None = None) -> SimResult:
    """Simulate every config of ``batch`` on ``market`` (indicators computed here unless given)."""
    if tuple(batch.symbols) != tuple(market.symbols):
        raise DataError(f"<market>: config symbols {tuple(batch.symbols)} != market universe {market.symbols}. "
                        f"Fix: load the params for the market's symbols (ascending byte-wise).")
    k = prepare_run(market, dict(batch.engine), run)
    if ind is None or set_ids is None:
        sets = dedup_sets(batch)
        ind = compute_indicators(sets.windows, market.main, sets.needed)
        set_ids = sets.set_ids
    return run_kernel(batch.params, batch.portfolio, set_ids, ind, k, record_capacity=record_capacity,
                      equity_curve=equity_curve)
