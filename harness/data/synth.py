"""Seeded synthetic crypto-perps market (main bars, sub-bars, hourly funding) for tests and sweeps.

Conventions: times in ms, ``t`` = bar open time, close time = ``t + interval_ms``; ``t_close`` is
written as ``t + interval_ms - 1`` like exchange data (D40); funding rows sit on hour boundaries ``b``
and hold the hourly rate settled at ``b`` (positive: longs pay shorts, D53.7).

Model (one path per symbol at the *base* resolution = gcd of all requested intervals, e.g. 1m for
3m/5m/15m/1h, 3m for 3m/1h):

* a market regime per main bar from a Markov chain over ``trend_up / trend_down / chop / crash``;
* BTC log-returns: regime drift + GARCH(1,1)-clustered volatility × regime multiplier;
* every other symbol follows BTC's log-return of the previous *main* bar × its beta (spread evenly
  over the base bars of the next main bar) plus its own GARCH noise correlated with BTC's base
  shocks (rho);
* intrabar wicks from half-normal excursions; prices rounded to a per-symbol decimal tick
  (6 significant digits at the start price) **before** aggregation, so every aggregate is exact;
* lognormal volume, higher in volatile bars, with an intraday cycle; volume is a whole number of
  per-symbol lots of size 2**k, so every partial sum is exact in float64; trade counts ``n`` follow
  volume;
* hourly funding: AR(1) mean-reverting around a regime-dependent level (about -1e-4 .. +1e-4).

Aggregation: ``o`` = first ``o``, ``c`` = last ``c``, ``h`` = max, ``l`` = min, ``v`` and ``n`` = the
sequential sum in time order (an explicit loop; exact, because volumes are lot multiples). Every
sub-bar series therefore aggregates exactly to its main bars.

Determinism: the output depends only on the arguments. Stream 0 of ``SeedSequence(seed)`` drives
the regimes and stream ``1 + i`` symbol ``i`` (in generation order ``BTC, ETH, SOL, S003, ...``), so a
symbol's path does not depend on how many symbols are generated. Output is byte-identical for the
same arguments on one platform; across CPUs numpy's vectorised ``exp``/``log`` may differ in the last
bit, which can only matter at an exact rounding tie of a tick, lot or funding decimal.
"""
from __future__ import annotations

import bisect
import math
from dataclasses import dataclass

import numpy as np

from harness.data.intervals import interval_ms
from harness.data.market import MarketData, Series
from harness.data.validate import validate_market
from harness.errors import DataError

__all__ = ["REGIMES", "symbol_names", "synth_market", "synth_regimes"]

REGIMES = ("trend_up", "trend_down", "chop", "crash")
_HOUR = 3_600_000
_DAY = 86_400_000
_P_HOUR = np.array([[0.992, 0.002, 0.005, 0.001],   # hourly transition matrix, rows = from
                    [0.002, 0.991, 0.005, 0.002],
                    [0.004, 0.004, 0.991, 0.001],
                    [0.000, 0.050, 0.050, 0.900]])
_DRIFT_H = np.array([4e-4, -4e-4, 0.0, -4e-3])       # BTC log drift per hour
_VOL_MULT = np.array([1.0, 1.1, 0.7, 2.5])
_FUND_LEVEL = np.array([6e-5, -3e-5, 1.25e-5, -1e-4])
_GARCH_A, _GARCH_B = 0.08, 0.90
_NAMED = {  # symbol: (start price, hourly vol, lag beta, rho, notional per hour USD, trade size USD)
    "BTC": (42000.0, 0.006, 0.0, 1.0, 8e7, 2e4),
    "ETH": (2300.0, 0.008, 1.1, 0.8, 3e7, 1e4),
    "SOL": (100.0, 0.011, 1.4, 0.65, 1e7, 5e3),
}


@dataclass(frozen=True)
class _Plan:
    start_ms: int
    base_ms: int
    main_ms: int
    n_main: int
    k: int                        # base bars per main bar
    intervals: tuple[str, ...]    # sub-bar intervals, ascending length

    @property
    def n_base(self) -> int:
        return self.n_main * self.k

    @property
    def dt_hours(self) -> float:
        return self.main_ms / _HOUR


@dataclass(frozen=True)
class _Profile:
    p0: float
    vol_h: float
    beta: float
    rho: float
    notional_h: float
    trade_usd: float
    fund_scale: float


def symbol_names(n_symbols: int) -> list[str]:
    """Generation order of the symbols: ``BTC, ETH, SOL``, then ``S003, S004, ...``."""
    return (["BTC", "ETH", "SOL"] + [f"S{i:03d}" for i in range(3, n_symbols)])[:n_symbols]


def _rng(seed: int, stream: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(stream,)))


def _plan(days: int, main_interval: str, sub_intervals: tuple[str, ...], start_ms: int) -> _Plan:
    main_ms = interval_ms(main_interval, "synth main_interval")
    subs = sorted(sub_intervals, key=lambda s: interval_ms(s, "synth sub_intervals"))
    lengths = [interval_ms(s) for s in subs]
    if len(set(lengths)) != len(lengths) or any(main_ms % ln or ln >= main_ms for ln in lengths):
        raise DataError(f"synth: sub_intervals {list(sub_intervals)} must be distinct lengths that divide the "
                        f"main interval {main_interval} and are shorter. Fix: e.g. ('3m', '5m', '15m') for 1h.")
    if days < 1 or start_ms < 0 or start_ms % main_ms:
        raise DataError(f"synth: days={days}, start_ms={start_ms} — rule: days >= 1 and start_ms a multiple "
                        f"of the main interval ({main_ms} ms) >= 0. Fix: e.g. start_ms=1704067200000.")
    base = math.gcd(main_ms, *lengths)
    n_main = days * _DAY // main_ms
    if n_main < 1:
        raise DataError(f"synth: {days} days hold no whole {main_interval} bar. Fix: raise days.")
    return _Plan(start_ms, base, main_ms, n_main, main_ms // base, tuple(subs))


def _step_matrix(dt: float) -> np.ndarray:
    """Regime transition matrix for one main bar of ``dt`` hours."""
    whole, frac = int(dt), dt - int(dt)
    p = np.linalg.matrix_power(_P_HOUR, whole)
    return p @ (np.eye(4) + (_P_HOUR - np.eye(4)) * frac)


def _regimes(plan: _Plan, rng: np.random.Generator) -> np.ndarray:
    cum = np.cumsum(_step_matrix(plan.dt_hours), axis=1)
    cum[:, -1] = 1.0
    rows = [r.tolist() for r in cum]
    out = np.empty(plan.n_main, dtype=np.int8)
    state = 2  # start in chop
    for j, u in enumerate(rng.random(plan.n_main).tolist()):
        state = min(bisect.bisect_right(rows[state], u), 3)
        out[j] = state
    return out


def synth_regimes(days: int = 365, seed: int = 7, main_interval: str = "1h",
                  start_ms: int = 1704067200000) -> np.ndarray:
    """The regime index per main bar (into :data:`REGIMES`) that :func:`synth_market` uses."""
    return _regimes(_plan(days, main_interval, (), start_ms), _rng(seed, 0))


def _profile(name: str, rng: np.random.Generator) -> _Profile:
    u = rng.random(7)  # always drawn, so every stream has the same layout
    if name in _NAMED:
        return _Profile(*_NAMED[name], fund_scale=1.0)
    return _Profile(p0=float(10 ** (-2 + 4.5 * u[0])), vol_h=0.008 + 0.008 * u[1], beta=0.8 + u[2],
                    rho=0.3 + 0.4 * u[3], notional_h=float(10 ** (5 + 2 * u[4])),
                    trade_usd=float(10 ** (3 + 0.7 * u[5])), fund_scale=0.5 + 1.5 * u[6])


def _garch_sigma(step_shock: list[float], var0: float) -> np.ndarray:
    """GARCH(1,1) sigma per main bar driven by the standardised step shocks (mean variance ``var0``)."""
    omega = var0 * (1.0 - _GARCH_A - _GARCH_B)
    var, out = var0, np.empty(len(step_shock))
    for j, s in enumerate(step_shock):
        sd = math.sqrt(var)
        out[j] = sd
        var = omega + _GARCH_A * (sd * s) ** 2 + _GARCH_B * var
    return out


def _log_path(plan: _Plan, prof: _Profile, shock: np.ndarray, drift: np.ndarray,
              mult: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Base log-close path, base sigma and per-main-bar log-returns (before rounding)."""
    k = plan.k
    grid = shock.reshape(plan.n_main, k)
    step_shock = (grid.sum(axis=1) / math.sqrt(k)).tolist()
    sig = _garch_sigma(step_shock, prof.vol_h ** 2 * plan.dt_hours) * mult
    sb = np.repeat(sig / math.sqrt(k), k)
    r = (np.repeat(drift / k, k) + sb * shock)
    logc = math.log(prof.p0) + np.cumsum(r)
    ends = logc[k - 1::k]
    step_ret = np.diff(ends, prepend=math.log(prof.p0))
    return logc, sb, step_ret


def _to_ticks(x: np.ndarray, e: int) -> np.ndarray:
    """Whole ticks of size ``10**e`` (at least one tick, so prices stay > 0)."""
    q = np.rint(x * 10.0 ** -e) if e < 0 else np.rint(x / 10.0 ** e)
    return np.maximum(q, 1.0).astype(np.int64)


def _from_ticks(q: np.ndarray, e: int) -> np.ndarray:
    """Prices from ticks: ``q / 10**-e`` is the correctly rounded decimal for ``e < 0``."""
    return q / 10.0 ** -e if e < 0 else q * 10.0 ** e


def _base_bars(plan: _Plan, prof: _Profile, logc: np.ndarray, sb: np.ndarray, t: np.ndarray,
               rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Rounded base OHLCV + n from the log path (wicks and volume draw from ``rng``).

    ``o`` is the previous bar's ``c`` (ticks, so exactly); ``h``/``l`` add half-normal wicks and are
    clamped so that ``0 < l <= min(o, c)`` and ``h >= max(o, c)`` hold after rounding.
    """
    e = math.floor(math.log10(prof.p0)) - 5            # decimal tick 10**e: 6 significant digits
    c_raw = np.exp(logc)
    qc = _to_ticks(c_raw, e)
    qo = np.concatenate((_to_ticks(np.array([prof.p0]), e), qc[:-1]))
    o_raw = np.concatenate(([prof.p0], c_raw[:-1]))
    wick = np.abs(rng.standard_normal((2, logc.size))) * (0.5 * sb)
    qh = np.maximum(_to_ticks(np.maximum(o_raw, c_raw) * np.exp(wick[0]), e), np.maximum(qo, qc))
    ql = np.maximum(np.minimum(_to_ticks(np.minimum(o_raw, c_raw) * np.exp(-wick[1]), e),
                               np.minimum(qo, qc)), 1)
    del wick, o_raw
    bars = {"o": _from_ticks(qo, e), "h": _from_ticks(qh, e), "l": _from_ticks(ql, e), "c": _from_ticks(qc, e)}
    bars["v"], bars["n"] = _volume(plan, prof, logc, sb, t, bars["c"], rng)
    return bars


def _volume(plan: _Plan, prof: _Profile, logc: np.ndarray, sb: np.ndarray, t: np.ndarray,
            close: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Lognormal volume in whole lots of 2**k coins (exact sums) and trade counts."""
    per_bar = prof.notional_h / prof.p0 * plan.base_ms / _HOUR
    lot = 2.0 ** math.floor(math.log2(per_bar / 1000.0))
    sb0 = prof.vol_h * math.sqrt(plan.base_ms / _HOUR)
    absr = np.abs(np.diff(logc, prepend=math.log(prof.p0)))
    season = 1.0 + 0.35 * np.cos(2.0 * np.pi * (((t // _HOUR) % 24) - 14) / 24.0)
    raw = per_bar * np.exp(0.6 * rng.standard_normal(logc.size) - 0.18) * season
    raw *= 0.5 * sb / sb0 + 0.5 * absr / sb0
    lots = np.rint(raw / lot).astype(np.int64)
    v = lots * lot
    n = np.rint(v * close / prof.trade_usd).astype(np.int64)
    return v, n


def _seq_sum(x: np.ndarray, f: int) -> np.ndarray:
    """Sums of consecutive groups of ``f`` values, added one by one in time order (explicit loop)."""
    g = x.reshape(-1, f)
    acc = g[:, 0].copy()
    for j in range(1, f):
        acc += g[:, j]
    return acc


def _aggregate(bars: dict[str, np.ndarray], f: int) -> dict[str, np.ndarray]:
    """Aggregate groups of ``f`` base bars: first o, max h, min l, last c, sequential sums of v and n."""
    if f == 1:
        return bars
    return {"o": np.ascontiguousarray(bars["o"][::f]), "h": bars["h"].reshape(-1, f).max(axis=1),
            "l": bars["l"].reshape(-1, f).min(axis=1), "c": np.ascontiguousarray(bars["c"][f - 1::f]),
            "v": _seq_sum(bars["v"], f), "n": _seq_sum(bars["n"], f)}


def _times(plan: _Plan, length: int) -> tuple[np.ndarray, np.ndarray]:
    """Open times and data ``t_close`` (= t + interval_ms - 1) of one interval, shared by all symbols."""
    t = plan.start_ms + np.arange(plan.n_main * (plan.main_ms // length), dtype=np.int64) * length
    return t, t + np.int64(length - 1)


def _shock_and_drift(plan: _Plan, prof: _Profile, regimes: np.ndarray, rng: np.random.Generator,
                     btc: tuple[np.ndarray, np.ndarray] | None) -> tuple[np.ndarray, np.ndarray]:
    """Standard-normal base shocks and per-main-bar drift (BTC: regime; others: lagged BTC × beta)."""
    z = rng.standard_normal(plan.n_base)
    if btc is None:
        return z, _DRIFT_H[regimes] * plan.dt_hours
    btc_shock, btc_ret = btc
    shock = prof.rho * btc_shock + math.sqrt(1.0 - prof.rho ** 2) * z
    lagged = np.concatenate(([0.0], btc_ret[:-1]))
    return shock, prof.beta * lagged


def _funding(plan: _Plan, prof: _Profile, regimes: np.ndarray,
             rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Hourly funding rows on the hour boundaries inside (start, end]: AR(1) around a regime level."""
    end = plan.start_ms + plan.n_main * plan.main_ms
    times = np.arange((plan.start_ms // _HOUR + 1) * _HOUR, end + 1, _HOUR, dtype=np.int64)
    level = (_FUND_LEVEL[regimes[(times - 1 - plan.start_ms) // plan.main_ms]] * prof.fund_scale).tolist()
    noise = (rng.standard_normal(times.size) * 4e-6).tolist()
    rate, out = level[0] if level else 0.0, np.empty(times.size)
    for j in range(times.size):
        rate = 0.95 * rate + 0.05 * level[j] + noise[j]
        out[j] = rate
    return times, np.round(np.clip(out, -4e-4, 4e-4), 10)


def _series(name: str, interval: str, times: tuple[np.ndarray, np.ndarray], b: dict) -> Series:
    return Series.build(name, interval, times[0], b["o"], b["h"], b["l"], b["c"], b["v"],
                        t_close=times[1], n=b["n"])


def synth_market(n_symbols: int = 20, days: int = 365, seed: int = 7,
                 sub_intervals: tuple[str, ...] = ("3m", "5m", "15m"), main_interval: str = "1h",
                 start_ms: int = 1704067200000, funding: bool = True) -> MarketData:
    """Generate a validated synthetic market (see the module docstring); deterministic per arguments."""
    if not isinstance(n_symbols, int) or n_symbols < 1:
        raise DataError(f"synth: n_symbols={n_symbols!r} — rule: an integer >= 1 (BTC is always first). "
                        f"Fix: pass e.g. 20.")
    plan = _plan(days, main_interval, tuple(sub_intervals), start_ms)
    regimes = _regimes(plan, _rng(seed, 0))
    t_base = plan.start_ms + np.arange(plan.n_base, dtype=np.int64) * plan.base_ms
    times = {iv: _times(plan, interval_ms(iv)) for iv in (main_interval, *plan.intervals)}
    main: dict[str, Series] = {}
    sub: dict[str, dict[str, Series]] = {iv: {} for iv in plan.intervals}
    fund: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    btc = None
    for i, name in enumerate(symbol_names(n_symbols)):
        rng = _rng(seed, 1 + i)
        prof = _profile(name, rng)
        shock, drift = _shock_and_drift(plan, prof, regimes, rng, btc)
        logc, sb, step_ret = _log_path(plan, prof, shock, drift, _VOL_MULT[regimes])
        btc = (shock, step_ret) if btc is None else btc
        base = _base_bars(plan, prof, logc, sb, t_base, rng)
        del shock, logc, sb
        for iv in plan.intervals:
            sub[iv][name] = _series(name, iv, times[iv], _aggregate(base, interval_ms(iv) // plan.base_ms))
        main[name] = _series(name, main_interval, times[main_interval], _aggregate(base, plan.k))
        if funding:
            fund[name] = _funding(plan, prof, regimes, rng)
    src = (f"synth(n_symbols={n_symbols}, days={days}, seed={seed}, sub_intervals={list(plan.intervals)}, "
           f"main_interval={main_interval!r}, start_ms={start_ms}, funding={funding})")
    md = MarketData(main_interval, main, sub, fund, [], src)
    return MarketData(main_interval, md.main, md.sub, md.funding, validate_market(md), src)
