"""Data rules for candles, sub-bars and funding (DECISIONS.md D33, D40, D41, D48, D53).

Every rule raises :class:`~harness.errors.DataError` naming the source, symbol, interval, row index
(0-based, within the series as supplied), the offending value, the rule and the fix. Missing bars are
legal and returned as :class:`~harness.data.market.Gap` records (D53.3).

Times are open times ``t`` in ms; a bar closes at ``t + interval_ms``. The checks run per series in
this order: open-time order (unsorted / duplicate / overlapping, D33, D53.4), close-time range, phase
(D53.3, D53.5), ``t_close`` (D40), finiteness (D33), price and volume bounds (D53.2); then funding
(D41), symbol-name collisions (D53.1, D48), required symbols and sub-bar coverage (D53.18).
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timezone

import numpy as np

from harness.data.intervals import INT64_MAX, interval_ms as _interval_ms
from harness.data.market import Gap, MarketData, Series
from harness.errors import DataError

__all__ = ["MIN_CLOSE", "ascii_upper", "check_required_symbols", "check_symbol_collisions",
           "missing_sub_bars", "validate_funding", "validate_market", "validate_series"]

MIN_CLOSE = 1e-9  # D53.2: c >= 1e-9
_ASCII_UPPER = str.maketrans("abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ")


def ascii_upper(s: str) -> str:
    """Upper-case with the ASCII mapping a–z → A–Z only (D48); other characters are unchanged."""
    return s.translate(_ASCII_UPPER)


def fmt_t(ms: int) -> str:
    """``ms`` with its UTC ISO time, for messages."""
    try:
        iso = datetime.fromtimestamp(int(ms) / 1000, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    except (OverflowError, OSError, ValueError):
        return str(int(ms))
    return f"{int(ms)} ({iso})"


def _first(mask: np.ndarray) -> tuple[int, int]:
    """Index of the first True of ``mask`` and the number of Trues (-1, 0 when none)."""
    idx = np.flatnonzero(mask)
    return (int(idx[0]), int(idx.size)) if idx.size else (-1, 0)


def _fail(src: str, s: Series, row: int, count: int, what: str, rule: str, fix: str) -> DataError:
    more = f" ({count} rows break this rule; the first is shown)" if count > 1 else ""
    return DataError(f"{src}: symbol {s.symbol!r}, interval {s.interval}, row {row}: {what} — rule: "
                     f"{rule}{more}. Fix: {fix}.")


def _check_order(s: Series, src: str) -> None:
    """Open times strictly increasing with spacing >= the interval (D33, D53.4)."""
    if len(s) < 2:
        return
    d = np.diff(s.t)
    i, count = _first(d < s.interval_ms)
    if i < 0:
        return
    prev, cur = int(s.t[i]), int(s.t[i + 1])
    what = f"open time t={fmt_t(cur)} after row {i} t={fmt_t(prev)}"
    if cur < prev:
        rule, fix = "open times must be sorted ascending (D33)", "sort the bars by open time"
    elif cur == prev:
        rule, fix = "open times must be unique (D33)", "remove the duplicate bar"
    else:
        rule = (f"consecutive open times must be at least one interval ({s.interval_ms} ms) apart; "
                f"these are {cur - prev} ms apart, so the bars overlap (D53.4)")
        fix = "check the interval of this series; bars must not overlap"
    raise _fail(src, s, i + 1, count, what, rule, fix)


def _check_phase(s: Series, src: str, role: str) -> None:
    """Open times multiples of the interval; close times inside int64 (D53.3, D53.5)."""
    i, count = _first(s.t > INT64_MAX - s.interval_ms)
    if i >= 0:
        raise _fail(src, s, i, count, f"open time t={int(s.t[i])}",
                    "the close time t + interval_ms must fit in int64", "use millisecond timestamps")
    i, count = _first(s.t % s.interval_ms != 0)
    if i >= 0:
        rule = (f"main-bar open times must be multiples of the main interval ({s.interval_ms} ms), one "
                f"phase for all symbols (D53.5)" if role == "main" else
                f"sub-bar open times must be multiples of their interval ({s.interval_ms} ms) (D53.3)")
        raise _fail(src, s, i, count, f"open time t={fmt_t(int(s.t[i]))} "
                    f"(remainder {int(s.t[i] % s.interval_ms)} ms)", rule,
                    "align the bars to the interval, or check that the series has the configured interval")


def _check_t_close(s: Series, src: str) -> None:
    """A present ``t_close`` equals ``t + interval_ms - 1`` (D40)."""
    if s.t_close is None:
        return
    i, count = _first(s.t_close != s.t + np.int64(s.interval_ms - 1))
    if i >= 0:
        raise _fail(src, s, i, count,
                    f"t_close={int(s.t_close[i])} with t={int(s.t[i])} (expected {int(s.t[i]) + s.interval_ms - 1})",
                    f"t_close must equal t + interval_ms - 1 for the configured interval {s.interval} (D40); "
                    f"the data is of another interval, and using it would read bars before they close",
                    "load the series under its true interval, or supply data of the configured interval")


_VALUE_RULES = (
    ("l", lambda s: ~(s.l > 0.0), "low must be > 0 (D53.2)"),
    ("c", lambda s: ~(s.c >= MIN_CLOSE), "close must be >= 1e-9 (D53.2)"),
    ("l", lambda s: ~(s.l <= np.minimum(s.o, s.c)), "low must be <= min(open, close) (D53.2)"),
    ("h", lambda s: ~(s.h >= np.maximum(s.o, s.c)), "high must be >= max(open, close) (D53.2)"),
    ("v", lambda s: ~(s.v >= 0.0), "volume must be >= 0 (D33, D53.2)"),
)


def _check_values(s: Series, src: str) -> None:
    """Finite values (D33), then the bar bounds of D53.2."""
    for name in ("o", "h", "l", "c", "v"):
        i, count = _first(~np.isfinite(getattr(s, name)))
        if i >= 0:
            raise _fail(src, s, i, count, f"{name}={float(getattr(s, name)[i])!r}",
                        "every price and volume must be finite (D33)", "drop or repair the bar")
    for name, bad, rule in _VALUE_RULES:
        i, count = _first(bad(s))
        if i >= 0:
            ohlcv = ", ".join(f"{f}={float(getattr(s, f)[i])!r}" for f in ("o", "h", "l", "c", "v"))
            raise _fail(src, s, i, count, f"{name}={float(getattr(s, name)[i])!r} ({ohlcv})", rule,
                        "repair the bar (a bar must satisfy 0 < l <= min(o, c), h >= max(o, c), v >= 0)")


def _gaps(s: Series) -> list[Gap]:
    """Reported gaps: consecutive open times more than one interval apart (legal, D53.3)."""
    if len(s) < 2:
        return []
    d = np.diff(s.t)
    return [Gap(s.symbol, s.interval, int(s.t[i]), int(s.t[i + 1]), int(d[i] // s.interval_ms) - 1)
            for i in np.flatnonzero(d > s.interval_ms)]


def validate_series(s: Series, source: str = "<memory>", role: str = "main") -> list[Gap]:
    """Run every per-series rule on ``s`` (``role`` ``"main"`` or ``"sub"``); return its gaps."""
    _check_order(s, source)
    _check_phase(s, source, role)
    _check_t_close(s, source)
    _check_values(s, source)
    return _gaps(s)


def validate_funding(symbol: str, times: np.ndarray, rates: np.ndarray, source: str = "<memory>") -> None:
    """Funding rows: integer times >= 0, strictly increasing, finite rates (D41)."""
    where = f"{source}: funding symbol {symbol!r}"
    i, count = _first(times < 0)
    if i >= 0:
        raise DataError(f"{where}, row {i}: time={int(times[i])} — rule: funding times must be >= 0 (D41)"
                        f"{f' ({count} rows)' if count > 1 else ''}. Fix: use epoch milliseconds.")
    if times.size > 1:
        i, count = _first(np.diff(times) <= 0)
        if i >= 0:
            raise DataError(f"{where}, row {i + 1}: time={fmt_t(int(times[i + 1]))} after row {i} "
                            f"time={fmt_t(int(times[i]))} — rule: funding times must be strictly increasing "
                            f"per symbol (D41). Fix: sort the rows and drop duplicate times.")
    i, count = _first(~np.isfinite(rates))
    if i >= 0:
        raise DataError(f"{where}, row {i}: rate={float(rates[i])!r} at time={int(times[i])} — rule: "
                        f"funding rates must be finite (D41). Fix: drop or repair the row.")


def check_symbol_collisions(md: MarketData) -> None:
    """No two data symbols may be equal under ASCII upper-casing (D53.1, D48)."""
    seen: dict[str, tuple[str, str]] = {}
    places = [("main", md.main)] + [(f"sub {iv}", m) for iv, m in md.sub.items()] + [("funding", md.funding)]
    for where, names in places:
        for sym in names:
            key = ascii_upper(sym)
            other = seen.setdefault(key, (sym, where))
            if other[0] != sym:
                raise DataError(f"{md.source}: symbols {other[0]!r} ({other[1]}) and {sym!r} ({where}) "
                                f"collide under ASCII upper-casing as {key!r} — rule: D53.1/D48. "
                                f"Fix: rename or remove one of them.")


def check_required_symbols(md: MarketData, require_symbols: Iterable[str]) -> None:
    """Every required symbol (compared ASCII upper-case, D48) has main bars."""
    have = {ascii_upper(s) for s, ser in md.main.items() if len(ser)}
    for req in require_symbols:
        if ascii_upper(req) not in have:
            raise DataError(f"{md.source}: required symbol {req!r} has no main bars ({md.main_interval}); "
                            f"symbols present: {list(md.main)} — rule: e.g. BTC alignment needs BTC bars. "
                            f"Fix: add {req!r} to the data or switch off the feature that needs it.")


def missing_sub_bars(md: MarketData, interval: str, universe: Iterable[str] | None = None,
                     allow: bool = False) -> tuple[str, ...]:
    """Universe symbols without bars in the active sub-bar series of ``interval`` (D53.18).

    The series is found by interval length (D39). With ``allow`` the symbols are returned (they use
    main bars only; the caller reports them); otherwise any such symbol is a DataError.
    """
    length = _interval_ms(interval, f"{md.source} sub-bar interval")
    series = next((m for iv, m in md.sub.items() if _interval_ms(iv) == length), {})
    names = md.symbols() if universe is None else tuple(universe)
    missing = tuple(s for s in names if s not in series or len(series[s]) == 0)
    if missing and not allow:
        raise DataError(f"{md.source}: sub-bar interval {interval} is active but symbols {list(missing)} have "
                        f"no {interval} bars — rule: D53.18. Fix: supply their sub-bars, or pass "
                        f"allow_missing_sub_bars to run them on main bars only.")
    return missing


def validate_market(md: MarketData, require_symbols: Iterable[str] = (), *,
                    active_sub_intervals: Iterable[str] = (), allow_missing_sub_bars: bool = False
                    ) -> list[Gap]:
    """Run every data rule on ``md``; return the reported gaps (main series first, then sub-bars)."""
    gaps: list[Gap] = []
    for s in md.main.values():
        gaps += validate_series(s, md.source, "main")
    for m in md.sub.values():
        for s in m.values():
            gaps += validate_series(s, md.source, "sub")
    for sym, (times, rates) in md.funding.items():
        validate_funding(sym, times, rates, md.source)
    check_symbol_collisions(md)
    check_required_symbols(md, require_symbols)
    for iv in active_sub_intervals:
        missing_sub_bars(md, iv, allow=allow_missing_sub_bars)
    return gaps
