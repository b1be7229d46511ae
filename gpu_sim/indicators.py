"""SIM indicator kernels: the strategy-entries.md §2 recurrences over one symbol's main bars.

Written from the spec only (§2.0-§2.12, DECISIONS.md D21, D23, D44, D45, D50); shares no code with
engine_ref.

Conventions
-----------
* Inputs: one symbol's main-bar arrays ``h, l, c, v`` (float64, 1-D, >= ``n`` rows; rows ``>= n`` are
  padding and never read); ``n`` its bar count, the full loaded history from its first bar (D21);
  ``win`` int64 ``(N_WINDOWS,)`` in ``ind_fields.WINDOW_PATHS`` order (``W_*`` below; ``W_USE_STOCH``
  is 0/1). Windows are validated >= 1 by the wrapper (``indicator_sets``); kernels never raise.
* Output ``out`` float64 ``(max_bars, N_FIELDS)``, columns in ``ind_fields.FIELDS`` order: row ``k`` is
  the snapshot after bar ``k`` (§2.12); booleans 0.0/1.0; rows ``n..`` are set to NaN.
* Arithmetic (D23, §0.5): binary64, every operation in the spec's written order and grouping, no
  fastmath, numpy error model (no exception paths; every divisor is non-zero by a guard or by
  validation, D45). Every product goes through ``gpu_sim.fma.mul``, which a CUDA build rebinds to a
  round-to-nearest multiply so that no product fuses into an FMA (§10). Every window sum is an
  explicit loop oldest -> newest from +0.0 (N3, D45); no numpy reductions.
* Rolling windows (§2.0, D44): a ring pushed once per bar holds exactly the last ``min(k+1, cap)``
  values of a series that is already stored in full (an input column or an earlier output column),
  so those windows are read in place. Only the raw StochRSI values behind %K have no column; they
  live in the caller's ``k_ring`` (float64, capacity >= min(stoch_rsi_smooth1, n), D44a).
* Every function is plain Python over arrays and scalars compiled by ``njit``; ``.py_func`` gives the
  source for a ``cuda.jit(device=True)`` build (``DEVICE_FUNCS``, callees first, rebound as
  ``gpu_sim.kernel_jit.build_cuda`` does). The rolling-window helpers live in this file on purpose:
  numba's ``cache=True`` only watches the caller's own source file.
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from gpu_sim.fma import mul
from gpu_sim.ind_fields import (
    ADX, ADX_NEG, ADX_POS, ADX_SLOPE, ATR, ATR_SLOPE, AVG_ATR, BAR_INDEX, BB_LOWER, BB_UPPER, BB_WIDTH,
    BB_WIDTH_AVG, BB_WIDTH_RATIO, EMA_FAST, EMA_MACRO, EMA_SLOW, EMA_SLOW_SLOPE_PCT, MACD_HIST, N_FIELDS,
    PREV2_MACD_HIST, PREV3_MACD_HIST, PREV_CLOSE, PREV_EMA_FAST, PREV_EMA_SLOW, PREV_MACD_HIST,
    PREV_VOL_SMA, PREV_VOL_TREND, PREV_VOLUME, RSI, STOCH_D, STOCH_K, VOL_SMA, VOL_TREND, WINDOW_PATHS,
)

# Column of each window in a ``win`` row (WINDOW_PATHS order; a test checks the names line up).
(W_EMA_FAST, W_EMA_SLOW, W_EMA_MACRO, W_ADX, W_ATR, W_RSI, W_BB, W_BB_WIDTH_AVG, W_STOCH_RSI,
 W_STOCH_SMOOTH1, W_STOCH_SMOOTH2, W_VOL_SMA, W_VOL_TREND, W_AVE_AVG_ATR, W_SLOPE, W_USE_STOCH) = range(16)
N_WINDOWS = len(WINDOW_PATHS)
assert N_WINDOWS == 16, "WINDOW_PATHS changed: update the W_* columns of gpu_sim.indicators"

MACD_FAST, MACD_SLOW, MACD_SIGNAL = 12, 26, 9  # §2.7, fixed

# ADX phases (§2.2).
_INIT, _ACCUM, _DXACC, _WARM = 0, 1, 2, 3

_helper = njit(inline="always", error_model="numpy")   # tiny helpers, inlined at the numba IR level
_kernel = njit(cache=True, error_model="numpy")        # column writers: never raise, cached


# ---------------------------------------------------------------------------------------------------
# Scalar helpers (inlined at the numba IR level)

@_helper
def max2(a: float, b: float) -> float:
    """Exact maximum (inputs are never NaN, N6)."""
    return b if b > a else a


@_helper
def ema_step(alpha: float, x: float, prev: float) -> float:
    """§2.1: ``(alpha × x) + ((1.0 − alpha) × prev)``."""
    return mul(alpha, x) + mul(1.0 - alpha, prev)


@_helper
def smooth_step(prev: float, x: float, w: float) -> float:
    """Wilder average step of ATR, RSI and WARM ADX: ``((prev × (w − 1.0)) + x) / w``."""
    return (mul(prev, w - 1.0) + x) / w


@_helper
def wilder(x: float, s: float, w: float) -> float:
    """§2.2 smoothed sum: ``(S − (S / w)) + x``."""
    return (s - (s / w)) + x


@_helper
def true_range(h: float, l: float, prev_c: float) -> float:  # noqa: E741
    """``max(max(h − l, |h − C|), |l − C|)`` against the previous close (§2.2, §2.3)."""
    return max2(max2(h - l, abs(h - prev_c)), abs(l - prev_c))


@_helper
def dm_tr(h: float, l: float, ph: float, pl: float, pc: float):  # noqa: E741
    """§2.2 ``dm_tr``: ``(+DM, −DM, TR)`` of bar (h, l) after the bar (ph, pl, pc)."""
    up = h - ph
    dn = pl - l
    pdm = up if (up > dn and up > 0.0) else 0.0
    mdm = dn if (dn > up and dn > 0.0) else 0.0
    return pdm, mdm, true_range(h, l, pc)


@_helper
def di_dx(sp: float, sm: float, st: float):
    """§2.2 ``di_dx``: ``(+DI, −DI, DX)`` from the smoothed sums."""
    dip = mul(sp / st, 100.0) if st > 0.0 else 0.0
    din = mul(sm / st, 100.0) if st > 0.0 else 0.0
    s = dip + din
    dx = mul(abs(dip - din) / s, 100.0) if s > 0.0 else 0.0
    return dip, din, dx


# ---------------------------------------------------------------------------------------------------
# RW(cap) of §2.0, read in place (see the module docstring)

@_helper
def first_held(k: int, cap: int) -> int:
    """Index of the oldest value a ring of capacity ``cap`` pushed at bars 0..k holds."""
    return k - cap + 1 if k >= cap else 0


@_helper
def window_mean(x, first: int, last: int) -> float:
    """§2.0 ``mean()`` of ``x[first..last]`` (count >= 1): sequential sum from +0.0, then ÷ count."""
    acc = 0.0
    for i in range(first, last + 1):
        acc = acc + x[i]
    return acc / (last - first + 1)


@_helper
def window_std_pop(x, first: int, last: int, m: float) -> float:
    """§2.0 ``std_pop()`` of ``x[first..last]`` given its ``mean()`` ``m`` (ddof 0)."""
    acc = 0.0
    for i in range(first, last + 1):
        d = x[i] - m
        acc = acc + mul(d, d)
    return math.sqrt(acc / (last - first + 1))


@_helper
def window_min_max(x, first: int, last: int):
    """Exact ``(min, max)`` of ``x[first..last]`` (count >= 1)."""
    lo = x[first]
    hi = x[first]
    for i in range(first + 1, last + 1):
        if x[i] < lo:
            lo = x[i]
        if x[i] > hi:
            hi = x[i]
    return lo, hi


# ---------------------------------------------------------------------------------------------------
# Column writers: each runs one indicator over bars 0..n-1 of one symbol.

@_kernel
def ema_column(x, n: int, window: int, out, col: int) -> None:
    """§2.1 EMA(window) of ``x`` into ``out[:, col]``: seed ``x[0]``, no warm-up mask."""
    alpha = 2.0 / (float(window) + 1.0)
    e = 0.0
    for k in range(n):
        e = x[0] if k == 0 else ema_step(alpha, x[k], e)
        out[k, col] = e


@_kernel
def macd_column(c, n: int, out) -> None:
    """§2.7 MACD histogram (12/26/9): ``line − EMA9(line)``, all three EMAs seeded at bar 0."""
    af = 2.0 / (float(MACD_FAST) + 1.0)
    a_s = 2.0 / (float(MACD_SLOW) + 1.0)
    ag = 2.0 / (float(MACD_SIGNAL) + 1.0)
    f = s = g = 0.0
    for k in range(n):
        if k == 0:
            f = c[0]
            s = c[0]
            g = f - s
        else:
            f = ema_step(af, c[k], f)
            s = ema_step(a_s, c[k], s)
            g = ema_step(ag, f - s, g)
        out[k, MACD_HIST] = (f - s) - g


@_kernel
def adx_columns(h, l, c, n: int, window: int, out) -> None:  # noqa: E741
    """§2.2 Wilder ADX, +DI, −DI (phases INIT/ACCUM/DXACC/WARM, D50 zero start) and ADX slope."""
    w = float(window)
    phase = _INIT
    sp = sm = st = dxsum = adx = prev = 0.0
    cnt = dxcnt = 0
    for k in range(n):
        a = dip = din = 0.0
        if phase == _INIT:
            phase = _ACCUM
        else:
            pdm, mdm, tr = dm_tr(h[k], l[k], h[k - 1], l[k - 1], c[k - 1])
            if phase == _ACCUM:
                sp = sp + pdm
                sm = sm + mdm
                st = st + tr
                cnt += 1
                if cnt >= window:
                    dip, din, dx = di_dx(sp, sm, st)
                    dxsum = dx
                    dxcnt = 1
                    phase = _DXACC
                    a = dx
            else:
                sp = wilder(pdm, sp, w)
                sm = wilder(mdm, sm, w)
                st = wilder(tr, st, w)
                dip, din, dx = di_dx(sp, sm, st)
                if phase == _DXACC:
                    dxsum = dxsum + dx
                    dxcnt += 1
                    if dxcnt >= window:
                        adx = dxsum / w
                        phase = _WARM
                        a = adx
                    else:
                        a = dxsum / dxcnt
                else:
                    adx = smooth_step(adx, dx, w)
                    a = adx
        out[k, ADX] = a
        out[k, ADX_POS] = dip
        out[k, ADX_NEG] = din
        out[k, ADX_SLOPE] = a - prev
        prev = a


@_kernel
def atr_columns(h, l, c, n: int, window: int, ave_window: int, out) -> None:  # noqa: E741
    """§2.3 Wilder ATR (running mean of TR in warm-up), ATR slope, and §2.9 avg_atr."""
    w = float(window)
    total = 0.0
    cnt = 0
    atr = prev = 0.0
    atr_col = out[:, ATR]
    for k in range(n):
        tr = h[0] - l[0] if k == 0 else true_range(h[k], l[k], c[k - 1])
        if cnt < window:
            total = total + tr
            cnt += 1
            atr = total / w if cnt >= window else total / cnt
        else:
            atr = smooth_step(atr, tr, w)
        out[k, ATR] = atr
        out[k, ATR_SLOPE] = atr - prev
        prev = atr
        out[k, AVG_ATR] = window_mean(atr_col, first_held(k, ave_window), k)


@_kernel
def rsi_column(c, n: int, window: int, out) -> None:
    """§2.4 Wilder RSI, SMA-seeded at bar ``window``; 50.0 before that."""
    w = float(window)
    gs = ls = ag = al = 0.0
    cnt = 0
    warm = False
    for k in range(n):
        val = 50.0
        if k > 0:
            ch = c[k] - c[k - 1]
            gain = ch if ch > 0.0 else 0.0
            loss = -ch if ch < 0.0 else 0.0
            if not warm:
                gs = gs + gain
                ls = ls + loss
                cnt += 1
                if cnt >= window:
                    ag = gs / w
                    al = ls / w
                    warm = True
            else:
                ag = smooth_step(ag, gain, w)
                al = smooth_step(al, loss, w)
            if warm:
                val = 100.0 if al == 0.0 else 100.0 - (100.0 / (1.0 + (ag / al)))
        out[k, RSI] = val


@_kernel
def stoch_columns(n: int, q: int, a: int, b: int, use: int, k_ring, out) -> None:
    """§2.5 StochRSI %K / %D over the RSI column (needs ``rsi_column`` first); 0.0 when unused."""
    rsi = out[:, RSI]
    kcol = out[:, STOCH_K]
    pushes = 0
    for k in range(n):
        sk = sd = 0.0
        if use != 0:
            sk = sd = 0.5
            if k + 1 >= q:
                lo, hi = window_min_max(rsi, k - q + 1, k)
                rng = hi - lo
                k_ring[pushes % a] = (rsi[k] - lo) / rng if rng > 0.0 else 0.5
                pushes += 1
                held = pushes if pushes < a else a
                acc = 0.0
                for i in range(pushes - held, pushes):
                    acc = acc + k_ring[i % a]
                sk = acc / held
                out[k, STOCH_K] = sk
                sd = window_mean(kcol, k - (pushes if pushes < b else b) + 1, k)
        out[k, STOCH_K] = sk
        out[k, STOCH_D] = sd


@_kernel
def bb_columns(c, n: int, window: int, avg_window: int, out) -> None:
    """§2.6 Bollinger bands (mult 2.0), width, width average and width ratio."""
    width_col = out[:, BB_WIDTH]
    for k in range(n):
        first = first_held(k, window)
        mid = window_mean(c, first, k)
        upper = lower = mid
        if k + 1 >= window:
            sd = window_std_pop(c, first, k, mid)
            upper = mid + mul(2.0, sd)
            lower = mid - mul(2.0, sd)
        width = (upper - lower) / c[k] if c[k] > 0.0 else 0.0
        out[k, BB_UPPER] = upper
        out[k, BB_LOWER] = lower
        out[k, BB_WIDTH] = width
        avg = window_mean(width_col, first_held(k, avg_window), k)
        out[k, BB_WIDTH_AVG] = avg
        out[k, BB_WIDTH_RATIO] = width / avg if avg > 0.0 else 1.0


@_kernel
def vol_columns(v, n: int, sma_window: int, trend_window: int, out) -> None:
    """§2.8 volume SMA (partial mean in warm-up) and ``vol_trend = short mean > SMA``."""
    for k in range(n):
        sma = window_mean(v, first_held(k, sma_window), k)
        short = window_mean(v, first_held(k, trend_window), k)
        out[k, VOL_SMA] = sma
        out[k, VOL_TREND] = 1.0 if short > sma else 0.0


@_kernel
def lag_columns(c, v, n: int, slope_window: int, out) -> None:
    """§2.10 lagged fields and bar index, §2.11 EMA-slow slope (needs the other columns first)."""
    for k in range(n):
        p1 = k >= 1
        out[k, PREV_CLOSE] = c[k - 1] if p1 else 0.0
        out[k, PREV_EMA_FAST] = out[k - 1, EMA_FAST] if p1 else 0.0
        out[k, PREV_EMA_SLOW] = out[k - 1, EMA_SLOW] if p1 else 0.0
        out[k, PREV_MACD_HIST] = out[k - 1, MACD_HIST] if p1 else 0.0
        out[k, PREV2_MACD_HIST] = out[k - 2, MACD_HIST] if k >= 2 else 0.0
        out[k, PREV3_MACD_HIST] = out[k - 3, MACD_HIST] if k >= 3 else 0.0
        out[k, PREV_VOLUME] = v[k - 1] if p1 else 0.0
        out[k, PREV_VOL_SMA] = out[k - 1, VOL_SMA] if p1 else 0.0
        out[k, PREV_VOL_TREND] = out[k - 1, VOL_TREND] if p1 else 0.0
        slope = 0.0
        if (k + 1) >= slope_window and c[k] > 0.0:
            slope = (out[k, EMA_SLOW] - out[k - slope_window + 1, EMA_SLOW]) / c[k]
        out[k, EMA_SLOW_SLOPE_PCT] = slope
        out[k, BAR_INDEX] = float(k)


@_kernel
def pad_rows(out, n: int) -> None:
    """Set rows ``n..`` (no bar) to NaN."""
    for k in range(n, out.shape[0]):
        for f in range(out.shape[1]):
            out[k, f] = np.nan


@_kernel
def symbol_indicators(h, l, c, v, n: int, win, k_ring, out) -> None:  # noqa: E741
    """Every §2.12 snapshot field of one symbol and one window set into ``out`` (see module doc)."""
    ema_column(c, n, win[W_EMA_FAST], out, EMA_FAST)
    ema_column(c, n, win[W_EMA_SLOW], out, EMA_SLOW)
    ema_column(c, n, win[W_EMA_MACRO], out, EMA_MACRO)
    macd_column(c, n, out)
    adx_columns(h, l, c, n, win[W_ADX], out)
    atr_columns(h, l, c, n, win[W_ATR], win[W_AVE_AVG_ATR], out)
    rsi_column(c, n, win[W_RSI], out)
    stoch_columns(n, win[W_STOCH_RSI], win[W_STOCH_SMOOTH1], win[W_STOCH_SMOOTH2], win[W_USE_STOCH],
                  k_ring, out)
    bb_columns(c, n, win[W_BB], win[W_BB_WIDTH_AVG], out)
    vol_columns(v, n, win[W_VOL_SMA], win[W_VOL_TREND], out)
    lag_columns(c, v, n, win[W_SLOPE], out)
    pad_rows(out, n)


@njit(parallel=True, cache=True, error_model="numpy")
def precompute_sets(win, needed, h, l, c, v, n_bars, k_rings, ind) -> None:  # noqa: E741
    """CPU driver: ``ind[s, j]`` = :func:`symbol_indicators` of symbol ``j`` under window set ``s``,
    all ``(s, j)`` pairs in parallel; a pair with ``needed[s, j]`` false is all NaN.

    ``win`` int64 (n_sets, N_WINDOWS); ``needed`` bool (n_sets, n_symbols); ``h l c v`` float64 and
    ``n_bars`` int32 from ``market_arrays.BarArrays``; ``k_rings`` float64 (n_sets * n_symbols, cap),
    one %K ring per pair; ``ind`` float64 (n_sets, n_symbols, max_bars, N_FIELDS). Kept in this file
    so that its ``cache=True`` entry is invalidated with the code it inlines.
    """
    n_sym = h.shape[0]
    for task in prange(win.shape[0] * n_sym):
        s = task // n_sym
        j = task - s * n_sym
        n = n_bars[j] if needed[s, j] else 0
        symbol_indicators(h[j], l[j], c[j], v[j], n, win[s], k_rings[task], ind[s, j])


# Functions a CUDA device build compiles from ``.py_func``, callees first.
DEVICE_FUNCS = ("max2", "ema_step", "smooth_step", "wilder", "true_range", "dm_tr", "di_dx", "first_held",
                "window_mean", "window_std_pop", "window_min_max", "ema_column",
                "macd_column", "adx_columns", "atr_columns", "rsi_column", "stoch_columns", "bb_columns",
                "vol_columns", "lag_columns", "pad_rows", "symbol_indicators")

assert N_FIELDS == 32
