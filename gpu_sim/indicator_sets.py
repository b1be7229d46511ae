"""Indicator sets of a batch (dedup) and the parallel indicator precompute.

A *set* is one distinct indicator-window tuple (``ind_fields.WINDOW_PATHS`` order) among the batch's
``(config, symbol)`` rows. Sets are numbered in order of first use, scanning configs then symbols
(ascending byte-wise), so the defaults of a one-config batch are set 0. Tuples are canonical: with
``filters.use_stoch_rsi_filter`` off, StochRSI is not computed (strategy-entries.md §2.5: %K = %D = 0.0,
never read), so its three windows are stored as 0 and such rows share a set.

``compute_indicators`` fills ``ind[set, symbol, bar, field]`` float64 (``ind_fields.FIELDS`` order, C
order) for every needed ``(set, symbol)`` pair in parallel (``prange``); rows past a symbol's bars, and
pairs no config uses, are NaN. Inputs are validated here; the kernels never raise. The parallel
driver itself (``indicators.precompute_sets``) lives beside the code it inlines so that numba's
``cache=True`` invalidates it with that code.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from harness.errors import ConfigError, DataError

from .config_loader import ParamsBatch
from .ind_fields import N_FIELDS, WINDOW_PATHS
from .indicators import N_WINDOWS, W_STOCH_RSI, W_STOCH_SMOOTH1, W_STOCH_SMOOTH2, W_USE_STOCH, precompute_sets
from .layout import Layout
from .market_arrays import BarArrays

__all__ = ["IndicatorSets", "compute_indicators", "dedup_sets", "k_ring_capacity", "window_table"]

STOCH_WINDOWS = (W_STOCH_RSI, W_STOCH_SMOOTH1, W_STOCH_SMOOTH2)
MAX_WINDOW = 2**31 - 1   # int32-safe bar counts; the schema's own range ([1, 10000]) is the loader's rule


@dataclass(frozen=True, eq=False)
class IndicatorSets:
    """Distinct window tuples and the set of every ``(config, symbol)`` row.

    ``windows`` int64 ``(n_sets, N_WINDOWS)`` (canonical tuples, see the module docstring);
    ``set_ids`` int32 ``(n_configs, n_symbols)``; ``needed`` bool ``(n_sets, n_symbols)``: some config
    uses set ``i`` for symbol ``s``; ``symbols`` the batch's symbols (byte-wise order).
    """

    windows: np.ndarray
    set_ids: np.ndarray
    needed: np.ndarray
    symbols: tuple[str, ...]

    @property
    def n_sets(self) -> int:
        return int(self.windows.shape[0])


def window_table(params: np.ndarray, layout: Layout) -> np.ndarray:
    """The WINDOW_PATHS columns of ``params`` (..., n_fields) as checked int64 (..., N_WINDOWS)."""
    cols = [layout.index[p] for p in WINDOW_PATHS]
    raw = np.asarray(params, dtype=np.float64)[..., cols]
    for j, path in enumerate(WINDOW_PATHS):
        x = raw[..., j]
        if j == W_USE_STOCH:
            bad = (x != 0.0) & (x != 1.0)
            rule, fix = "a bool leaf must be 0.0 or 1.0", "decode the sweep value with the one decoder (D29)"
        else:
            bad = ~((x >= 1.0) & (x <= MAX_WINDOW) & (x == np.floor(x)))
            rule, fix = "a window must be an integer >= 1 (§7)", "use a whole number of bars, at least 1"
        if bad.any():
            where = tuple(int(i) for i in np.argwhere(bad)[0])
            raise ConfigError(f"<params>: {path} = {float(x[where])!r} at row {where}: {rule}; fix: {fix}")
    table = raw.astype(np.int64)
    off = table[..., W_USE_STOCH] == 0
    for j in STOCH_WINDOWS:
        table[..., j][off] = 0
    return table


def dedup_sets(batch: ParamsBatch) -> IndicatorSets:
    """Distinct indicator sets of ``batch.params`` (n_configs, n_symbols, n_fields), first use first."""
    table = window_table(batch.params, batch.layout)
    n_configs, n_symbols = table.shape[:2]
    flat = table.reshape(-1, N_WINDOWS)
    if flat.shape[0] == 0:
        uniq = np.zeros((0, N_WINDOWS), np.int64)
        ids = np.zeros((n_configs, n_symbols), np.int32)
        return IndicatorSets(uniq, ids, np.zeros((0, n_symbols), bool), tuple(batch.symbols))
    uniq, first, inverse = np.unique(flat, axis=0, return_index=True, return_inverse=True)
    order = np.argsort(first, kind="stable")
    rank = np.empty(order.size, dtype=np.int64)
    rank[order] = np.arange(order.size)
    ids = rank[inverse.reshape(-1)].reshape(n_configs, n_symbols).astype(np.int32)
    needed = np.zeros((order.size, n_symbols), dtype=bool)
    needed[ids, np.arange(n_symbols)[None, :]] = True
    return IndicatorSets(np.ascontiguousarray(uniq[order]), ids, needed, tuple(batch.symbols))


def k_ring_capacity(windows: np.ndarray, max_bars: int) -> int:
    """Capacity of the %K ring: the largest ``stoch_rsi_smooth1`` of the sets that compute StochRSI
    (D44a), but never more than ``max_bars`` (a ring cannot hold more values than there are bars)."""
    w = np.asarray(windows)
    on = w[:, W_USE_STOCH] != 0 if w.size else np.zeros(0, bool)
    largest = int(w[on, W_STOCH_SMOOTH1].max()) if on.any() else 1
    return max(1, min(largest, int(max_bars)))


def _check_windows(windows: np.ndarray) -> np.ndarray:
    a = np.asarray(windows)
    if a.dtype.kind not in "iu":
        raise ConfigError(f"<sets>: windows dtype {a.dtype} is not integer; fix: build them with dedup_sets")
    w = np.ascontiguousarray(a, dtype=np.int64)
    if w.ndim != 2 or w.shape[1] != N_WINDOWS:
        raise ConfigError(f"<sets>: windows shape {w.shape} must be (n_sets, {N_WINDOWS}); "
                          f"fix: build them with dedup_sets or window_table")
    lo = np.ones_like(w)
    lo[:, W_USE_STOCH] = 0
    for j in STOCH_WINDOWS:            # canonical 0 allowed when StochRSI is off
        lo[:, j] = (w[:, W_USE_STOCH] != 0).astype(np.int64)
    hi = np.full(N_WINDOWS, MAX_WINDOW, dtype=np.int64)
    hi[W_USE_STOCH] = 1
    bad = (w < lo) | (w > hi[None, :])
    if bad.any():
        i, j = (int(x) for x in np.argwhere(bad)[0])
        raise ConfigError(f"<sets>: set {i} {WINDOW_PATHS[j]} = {int(w[i, j])} is out of range "
                          f"[{int(lo[i, j])}, {int(hi[j])}]; fix: windows are integers >= 1 (§7)")
    return w


def compute_indicators(windows: np.ndarray, bars: BarArrays, needed: np.ndarray | None = None,
                       out: np.ndarray | None = None) -> np.ndarray:
    """Precompute ``ind`` float64 ``(n_sets, n_symbols, max_bars, N_FIELDS)`` for ``windows`` int64
    ``(n_sets, N_WINDOWS)`` over the main ``bars`` (``needed``: bool ``(n_sets, n_symbols)``, default all;
    ``out``: optional preallocated C-contiguous result)."""
    w = _check_windows(windows)
    n_sets, n_sym, max_bars = w.shape[0], len(bars.symbols), bars.max_bars
    if bars.h.shape != (n_sym, max_bars) or bars.n_bars.shape != (n_sym,) or \
            (n_sym and not 0 <= int(bars.n_bars.min()) <= int(bars.n_bars.max()) <= max_bars):
        raise DataError("<bars>: arrays do not match their symbols / n_bars; fix: build them with pack_bars")
    need = np.ones((n_sets, n_sym), dtype=bool) if needed is None else np.asarray(needed, dtype=bool)
    if need.shape != (n_sets, n_sym):
        raise ConfigError(f"<sets>: needed shape {need.shape} must be {(n_sets, n_sym)}; fix: use IndicatorSets.needed")
    shape = (n_sets, n_sym, max_bars, N_FIELDS)
    if out is None:
        out = np.empty(shape, dtype=np.float64)
    elif out.shape != shape or out.dtype != np.float64 or not out.flags.c_contiguous or not out.flags.writeable:
        raise ConfigError(f"<out>: need a writable C-contiguous float64 array of shape {shape}, got "
                          f"{out.dtype} {out.shape}; fix: pass out=None")
    if out.size == 0:
        return out
    k_rings = np.zeros((n_sets * n_sym, k_ring_capacity(w, max_bars)), dtype=np.float64)
    precompute_sets(w, need, bars.h, bars.l, bars.c, bars.v, bars.n_bars, k_rings, out)
    return out
