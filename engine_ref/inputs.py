"""Input normalisation of a run (strategy-exits.md §1.1; DECISIONS.md D2, D33, D38, D39, D53.18).

The steps run in the fixed order of §1.1 [D38]: (1) reject malformed series — every supplied main,
sub-bar and funding series (D33, D40, D41, D53.1-5; the harness validator checks the same rules
independently and reports gaps), (2) universe and removal of other symbols' inputs,
(3) active sub-bar series by interval length, (4) ``D_data``, (5) ``to_ts`` truncation and the run end
``D``, (6) sub-bars closing at or before ``T_0`` are dropped. Every value reaches decision code as an
exact Python ``int`` / ``float``, never a numpy scalar; a series is held in stdlib sequences that hand
out such numbers (``memoryview`` / ``array``, 8 bytes a value) rather than as Python objects, because a
year of 3m sub-bars is millions of rows.
"""
from __future__ import annotations

import math
import operator
from array import array
from bisect import bisect_right
from dataclasses import dataclass
from itertools import islice, repeat
from typing import Any, Mapping, Sequence

from engine_ref.config_schema import ascii_upper, interval_ms
from harness.errors import ConfigError, DataError

_FIELDS = ("o", "h", "l", "c", "v")


@dataclass(frozen=True)
class Bars:
    """One series of bars (open times ``t`` in ms, strictly increasing; close time = ``t + interval_ms``).

    Columns are sequences of exact Python numbers (``memoryview``, ``array`` or ``tuple``, see ``_column``).
    """

    t: Sequence[int]
    o: Sequence[float]
    h: Sequence[float]
    l: Sequence[float]  # noqa: E741 - the spec's name
    c: Sequence[float]
    v: Sequence[float]

    def __len__(self) -> int:
        return len(self.t)

    def rows(self, start: int, end: int) -> "Bars":
        """Rows ``start … end−1`` (the series itself when that is all of it)."""
        if start == 0 and end == len(self):
            return self
        return Bars(self.t[start:end], self.o[start:end], self.h[start:end], self.l[start:end],
                    self.c[start:end], self.v[start:end])

    def row_closing_at(self, close_ms: int, step_ms: int) -> int | None:
        """Index of the bar whose close time ``t + step_ms`` is ``close_ms``, or ``None`` (binary search)."""
        i = bisect_right(self.t, close_ms - step_ms) - 1
        return i if i >= 0 and self.t[i] == close_ms - step_ms else None


@dataclass(frozen=True)
class RunInputs:
    """Normalised inputs: universe (ascending), series per symbol, interval lengths, timeline, run end."""

    universe: tuple[str, ...]
    main: dict[str, Bars]
    exit_bars: dict[str, Bars] | None      # None = exit sub-bar mode off
    entry_bars: dict[str, Bars] | None     # None = entry sub-bar mode off
    funding: dict[str, tuple[list[int], list[float]]] | None
    interval_ms: int
    exit_ms: int | None
    entry_ms: int | None
    timeline: tuple[int, ...]
    run_end_ms: int


def _plain(values: Any, cast) -> tuple:
    seq = values.tolist() if hasattr(values, "tolist") else list(values)
    return tuple(cast(x) for x in seq)


def _native_buffer(values: Any, typecode: str) -> memoryview | None:
    """``values`` as a flat contiguous buffer of 8-byte native ``typecode`` values (numpy int64 / float64
    arrays are such buffers), else None."""
    try:
        view = memoryview(values)
    except TypeError:
        return None
    formats = ("q", "l") if typecode == "q" else ("d",)  # signed 8-byte integer (C long long / long); binary64
    if view.ndim == 1 and view.c_contiguous and view.itemsize == 8 and view.format in formats:
        return view
    return None


def _column(values: Any, typecode: str) -> Sequence:
    """One column as exact Python numbers: ``int`` (``typecode`` ``"q"``) or ``float`` (``"d"``).

    A read-only native buffer of that type (the harness's numpy arrays) is used in place through a
    ``memoryview``, which indexes to Python numbers; a writable one is copied byte for byte into an
    ``array``; anything else is converted value by value with ``int`` / ``float`` into an ``array`` (a
    tuple when an int does not fit 64 bits).
    """
    view = _native_buffer(values, typecode)
    if view is not None and view.readonly:
        return view
    if view is not None:
        col = array(typecode)
        col.frombytes(view.cast("B"))
        return col
    seq = _plain(values, int if typecode == "q" else float)
    try:
        return array(typecode, seq)
    except OverflowError:
        return tuple(seq)


def _rows_valid(t: Sequence[int], cols: list, step_ms: int) -> bool:
    """True iff every row passes the rules of :func:`_report_bad_row`; each rule is one pass over columns.

    Finiteness is checked on ``h`` and ``v`` only: a NaN anywhere fails one of the order rules, and with
    them ``0 < l ≤ o ≤ h`` and ``1e-9 ≤ c ≤ h`` bound ``o``, ``l`` and ``c`` once ``h`` is finite.
    """
    o, h, low, c, v = cols
    ge, le = operator.ge, operator.le
    return (all(map(ge, map(operator.sub, islice(t, 1, None), t), repeat(step_ms)))  # spacing (D53.4)
            and all(map(le, repeat(0), t)) and not any(map(operator.mod, t, repeat(step_ms)))  # phase
            and all(map(operator.lt, repeat(0), low)) and all(map(le, low, o)) and all(map(le, low, c))
            and all(map(ge, h, o)) and all(map(ge, h, c)) and all(map(ge, v, repeat(0)))
            and all(map(ge, c, repeat(1e-9)))                                                  # D53.2
            and all(map(math.isfinite, h)) and all(map(math.isfinite, v)))                     # D33


def _check_rows(what: str, t: Sequence[int], cols: list, step_ms: int) -> None:
    """Step 1 rules for every bar: order, spacing and phase (D33, D53.3-5), values (D33, D53.2)."""
    if not _rows_valid(t, cols, step_ms):
        _report_bad_row(what, t, cols, step_ms)


def _report_bad_row(what: str, t: Sequence[int], cols: list, step_ms: int) -> None:
    """Raise the step-1 error of the first row that breaks a rule (row by row, rules in order)."""
    isfinite = math.isfinite
    for i, (ti, o, h, low, c, v) in enumerate(zip(t, *cols)):
        if i and ti - t[i - 1] < step_ms:
            raise DataError(f"{what}: row {i} (t={ti}) is not after the previous bar by at least one "
                            "interval (unsorted, duplicate or overlapping open times, D33, D53.4).")
        if ti < 0 or ti % step_ms != 0:
            raise DataError(f"{what}: row {i} open time {ti} is not a multiple of the interval (D53.3, D53.5).")
        if not (isfinite(o) and isfinite(h) and isfinite(low) and isfinite(c) and isfinite(v)):
            raise DataError(f"{what}: row {i} (t={ti}) has a non-finite value (D33).")
        if not (low > 0 and low <= o and low <= c and h >= o and h >= c and v >= 0 and c >= 1e-9):
            raise DataError(f"{what}: row {i} (t={ti}) breaks l > 0, l <= min(o, c), h >= max(o, c), v >= 0, "
                            "c >= 1e-9 (D53.2).")


def to_bars(raw: Mapping[str, Sequence], what: str, step_ms: int) -> Bars:
    """Convert one series to Python numbers (exact), apply the step-1 rules (§1.1, D33, D40, D53), store it."""
    t = _column(raw["t"], "q")
    cols = [_column(raw[k], "d") for k in _FIELDS]
    if any(len(col) != len(t) for col in cols):
        raise DataError(f"{what}: arrays t/o/h/l/c/v differ in length. Fix: one value per bar in every array.")
    _check_rows(what, t, cols, step_ms)
    if "t_close" in raw:
        for i, tc in enumerate(_plain(raw["t_close"], int)):
            if tc != t[i] + step_ms - 1:
                raise DataError(f"{what}: row {i} t_close={tc} != t + {step_ms} - 1; the data is not of the "
                                f"configured interval (D40).")
    return Bars(t, *cols)


def _funding_rows(sym: str, rows: tuple[Sequence[int], Sequence[float]]) -> tuple[list[int], list[float]]:
    times, rates = list(_plain(rows[0], int)), list(_plain(rows[1], float))
    if len(times) != len(rates):
        raise DataError(f"funding {sym}: times and rates differ in length (D41).")
    for i, (tm, rate) in enumerate(zip(times, rates)):
        if tm < 0 or (i and tm <= times[i - 1]) or not math.isfinite(rate):
            raise DataError(f"funding {sym}: row {i} (time={tm}, rate={rate}) breaks D41 "
                            "(integer times >= 0, strictly increasing, finite rates).")
    return times, rates


def active_length(portfolio: dict, key: str, main_ms: int) -> int | None:
    """Step 3 (C6, D39): length of ``engine.<key>`` if non-empty and different from the main length."""
    text = portfolio["engine"][key]
    if text == "":
        return None
    length = interval_ms(text)
    if length is None:
        raise ConfigError(f"engine.{key} = {text!r} is not an interval [1-9][0-9]*[smhd] (D39).")
    if length > main_ms:
        raise ConfigError(f"engine.{key} = {text!r} is longer than engine.interval (D32).")
    return None if length == main_ms else length


def universe_of(main: Mapping[str, Bars], portfolio: dict) -> tuple[str, ...]:
    """Step 2 (D48): symbols with main bars minus ``watchlist_exclude`` (ASCII upper-case on both sides)."""
    seen: dict[str, str] = {}
    for name in main:
        if ascii_upper(name) in seen:
            raise DataError(f"symbols {seen[ascii_upper(name)]!r} and {name!r} collide under ASCII upper-casing "
                            "(D53.1).")
        seen[ascii_upper(name)] = name
    excluded = {ascii_upper(s) for s in portfolio.get("watchlist_exclude", []) or []}
    names = [s for s, bars in main.items() if len(bars) > 0 and ascii_upper(s) not in excluded]
    return tuple(sorted(names))


def _select_sub(converted: Mapping[int, Mapping[str, Bars]], length: int | None, universe: Sequence[str],
                allow_missing: bool) -> dict[str, Bars] | None:
    """Step 3: the active series of one sub-bar mode, universe symbols only (D53.18 coverage rule)."""
    if length is None:
        return None
    by_sym = converted.get(length, {})
    out: dict[str, Bars] = {}
    for sym in universe:
        if sym not in by_sym or len(by_sym[sym]) == 0:
            if not allow_missing:
                raise DataError(f"sub-bars of {length} ms missing for universe symbol {sym} (D53.18). Fix: "
                                "supply them or pass allow_missing_sub_bars=True.")
            continue
        out[sym] = by_sym[sym]
    return out


def _last_close(series: Mapping[str, Bars] | None, step_ms: int | None) -> int | None:
    closes = [bars.t[-1] + step_ms for bars in (series or {}).values() if len(bars) and step_ms]
    return max(closes) if closes else None


def _truncate(series: dict[str, Bars] | None, step_ms: int, limit_ms: int | None,
              first_ms: int | None) -> dict[str, Bars] | None:
    """Steps 5-6: keep bars with ``first < close ≤ limit`` (``None`` bounds are open)."""
    if series is None:
        return None
    out: dict[str, Bars] = {}
    for sym, bars in series.items():
        end = len(bars) if limit_ms is None else bisect_right(bars.t, limit_ms - step_ms)
        start = 0 if first_ms is None else bisect_right(bars.t, first_ms - step_ms, 0, end)
        out[sym] = bars.rows(start, end)
    return out


def _validate_all(main: Mapping[str, Mapping[str, Sequence]], main_ms: int,
                  sub_bars: Mapping[int, Mapping[str, Any]] | None,
                  funding: Mapping[str, tuple[Sequence[int], Sequence[float]]] | None):
    """Step 1: convert and check every supplied series (main, every sub-bar length, funding)."""
    conv_main = {sym: to_bars(raw, f"{sym} main {main_ms} ms", main_ms) for sym, raw in main.items()}
    conv_sub = {int(length): {sym: to_bars(raw, f"{sym} sub-bars {int(length)} ms", int(length))
                              for sym, raw in by_sym.items()}
                for length, by_sym in (sub_bars or {}).items()}
    conv_fund = None if funding is None else {sym: _funding_rows(sym, rows) for sym, rows in funding.items()}
    return conv_main, conv_sub, conv_fund


def _funding_in_universe(fund, universe: Sequence[str], to_ts: int | None):
    """Steps 2 and 5 for funding: universe symbols only, rows with time ≤ ``to_ts``."""
    if fund is None:
        return None
    out: dict[str, tuple[list[int], list[float]]] = {}
    for sym in universe:
        if sym in fund:
            times, rates = fund[sym]
            keep = len([tm for tm in times if to_ts is None or tm <= to_ts])
            out[sym] = (times[:keep], rates[:keep])
    return out


def main_interval_ms(portfolio: dict) -> int:
    """Length in ms of ``engine.interval`` (D39)."""
    main_ms = interval_ms(portfolio["engine"]["interval"])
    if main_ms is None:
        raise ConfigError(f"engine.interval = {portfolio['engine']['interval']!r} is not an interval (D39).")
    return main_ms


def normalise_inputs(main: Mapping[str, Mapping[str, Sequence]], portfolio: dict, *,
                     sub_bars: Mapping[int, Mapping[str, Any]] | None = None,
                     funding: Mapping[str, tuple[Sequence[int], Sequence[float]]] | None = None,
                     to_ts: int | None = None, allow_missing_sub_bars: bool = False) -> RunInputs:
    """§1.1 steps 1-6 in the order of D38; returns the run's normalised inputs."""
    main_ms = main_interval_ms(portfolio)
    conv_main, conv_sub, conv_fund = _validate_all(main, main_ms, sub_bars, funding)  # step 1
    universe = universe_of(conv_main, portfolio)                                       # step 2
    exit_ms = active_length(portfolio, "exit_interval", main_ms)                       # step 3
    entry_ms = active_length(portfolio, "entry_interval", main_ms)
    exit_bars = _select_sub(conv_sub, exit_ms, universe, allow_missing_sub_bars)
    entry_bars = _select_sub(conv_sub, entry_ms, universe, allow_missing_sub_bars)
    ends = [e for e in (_last_close({s: conv_main[s] for s in universe}, main_ms),    # step 4
                        _last_close(exit_bars, exit_ms), _last_close(entry_bars, entry_ms)) if e is not None]
    d_data = max(ends) if ends else 0
    run_end = min(to_ts, d_data) if to_ts is not None else d_data                     # step 5
    bars = _truncate({s: conv_main[s] for s in universe}, main_ms, to_ts, None) or {}
    timeline = tuple(sorted({t for b in bars.values() for t in b.t}))
    t0 = timeline[0] if timeline else None                                             # step 6
    exit_bars = _truncate(exit_bars, exit_ms or 0, to_ts, t0)
    entry_bars = _truncate(entry_bars, entry_ms or 0, to_ts, t0)
    return RunInputs(universe, bars, exit_bars, entry_bars, _funding_in_universe(conv_fund, universe, to_ts),
                     main_ms, exit_ms, entry_ms, timeline, run_end)
