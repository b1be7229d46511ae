"""Pack the harness's per-symbol market arrays into SIM's flat, padded arrays.

Input shapes (``harness.engine_inputs``): ``main[symbol] = {"t", "o", "h", "l", "c", "v"}`` 1-D numpy
arrays (``t`` int64 open times in ms, the rest float64); ``sub_bars[interval_ms][symbol]`` the same for
one sub-bar length; ``funding[symbol] = (times int64 ms, hourly rates float64)``.

Output conventions:

* Symbols are the main-bar universe in ascending byte-wise (UTF-8) order; row ``s`` of every array is
  ``symbols[s]`` (DECISIONS.md D44c: index order is name order). Sub-bar and funding rows follow the
  same numbering; a symbol without sub-bars or funding has 0 rows there; entries for symbols outside
  the universe are ignored.
* Bars: ``t`` int64 ``(n_symbols, max_bars)``, ``o h l c v`` float64 ``(n_symbols, max_bars)``,
  ``n_bars`` int32 ``(n_symbols,)``; bar ``k < n_bars[s]`` is the symbol's own ``k``-th bar (no gap
  filling). Padding: ``t = T_PAD`` (int64 max, "never"), prices NaN. Kernels never read padding.
* Funding: ``times`` int64 / ``rates`` float64 ``(n_symbols, max_rows)``, ``n_rows`` int32, same padding.
* All arrays are new C-contiguous copies, read-only. Values are checked here (kernels never raise):
  matching lengths, strictly ascending integral times, finite prices and rates.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Mapping

import numpy as np

from harness.errors import DataError

__all__ = ["BAR_FIELDS", "T_PAD", "BarArrays", "FundingArrays", "MarketArrays", "pack_bars", "pack_funding",
           "pack_market", "pack_inputs", "sort_symbols"]

BAR_FIELDS = ("t", "o", "h", "l", "c", "v")
PRICE_FIELDS = BAR_FIELDS[1:]
T_PAD = np.iinfo(np.int64).max


@dataclass(frozen=True, eq=False)
class BarArrays:
    """One interval's bars of every symbol, padded to ``max_bars`` (see the module docstring)."""

    symbols: tuple[str, ...]
    t: np.ndarray
    o: np.ndarray
    h: np.ndarray
    l: np.ndarray  # noqa: E741 - the spec's field name
    c: np.ndarray
    v: np.ndarray
    n_bars: np.ndarray

    @property
    def max_bars(self) -> int:
        return int(self.t.shape[1])


@dataclass(frozen=True, eq=False)
class FundingArrays:
    """Funding rows of every symbol, padded to ``max_rows``."""

    symbols: tuple[str, ...]
    times: np.ndarray
    rates: np.ndarray
    n_rows: np.ndarray

    @property
    def max_rows(self) -> int:
        return int(self.times.shape[1])


@dataclass(frozen=True, eq=False)
class MarketArrays:
    """Main bars, sub-bars by interval length in ms (ascending), and funding, on one symbol numbering."""

    symbols: tuple[str, ...]
    main: BarArrays
    sub: Mapping[int, BarArrays] = field(default_factory=dict)
    funding: FundingArrays | None = None


def sort_symbols(names: Iterable[str]) -> tuple[str, ...]:
    """Unique symbol names in ascending byte-wise (UTF-8) order; duplicates and non-strings rejected."""
    names = list(names)
    for s in names:
        if not isinstance(s, str) or not s:
            raise DataError(f"symbol {s!r} is not a non-empty string. Fix: key the arrays by symbol name.")
    if len(set(names)) != len(names):
        raise DataError(f"duplicate symbols in {names!r}. Fix: list each symbol once.")
    return tuple(sorted(names, key=lambda s: s.encode("utf-8", "surrogatepass")))


def _ro(a: np.ndarray) -> np.ndarray:
    a.flags.writeable = False
    return a


def _times(x: object, what: str) -> np.ndarray:
    a = np.asarray(x)
    if a.ndim != 1 or a.dtype.kind not in "iu":
        raise DataError(f"{what}: expected a 1-D integer array of ms times, got dtype {a.dtype} shape {a.shape}. "
                        f"Fix: pass int64 open times.")
    if a.dtype.kind == "u" and a.size and int(a.max()) > T_PAD - 1:
        raise DataError(f"{what}: time {int(a.max())} is beyond int64. Fix: use ms since the epoch.")
    a = a.astype(np.int64, copy=False)
    if a.size > 1:
        bad = np.flatnonzero(a[1:] <= a[:-1])
        if bad.size:
            i = int(bad[0]) + 1
            raise DataError(f"{what}: row {i} time {int(a[i])} is not after row {i - 1} ({int(a[i - 1])}); "
                            f"rule: strictly ascending unique times. Fix: sort and de-duplicate.")
    if a.size and int(a[-1]) == T_PAD:
        raise DataError(f"{what}: time {T_PAD} is reserved for padding. Fix: use ms since the epoch.")
    return a


def _values(x: object, what: str, size: int) -> np.ndarray:
    a = np.asarray(x)
    if a.ndim != 1 or a.dtype.kind not in "iuf":
        raise DataError(f"{what}: expected a 1-D numeric array, got dtype {a.dtype} shape {a.shape}. "
                        f"Fix: pass float64 values.")
    if a.size != size:
        raise DataError(f"{what}: {a.size} rows but t has {size}. Fix: give every field one value per row.")
    a = a.astype(np.float64, copy=False)
    bad = np.flatnonzero(~np.isfinite(a))
    if bad.size:
        i = int(bad[0])
        raise DataError(f"{what}: row {i} value {a[i]!r} is not finite; rule: finite inputs (N6). "
                        f"Fix: repair or drop the row.")
    return a


def _pad2(rows: list[np.ndarray], width: int, dtype, pad) -> np.ndarray:
    out = np.full((len(rows), width), pad, dtype=dtype)
    for i, r in enumerate(rows):
        out[i, :r.size] = r
    return _ro(out)


def pack_bars(series: Mapping[str, Mapping[str, np.ndarray]], symbols: Iterable[str] | None = None,
              *, what: str = "main", required: bool = True) -> BarArrays:
    """Pack ``series[symbol] = {"t", "o", "h", "l", "c", "v"}`` for ``symbols`` (default: every key).

    With ``required`` every symbol must be present (main bars); otherwise a missing one gets 0 bars.
    """
    syms = sort_symbols(series if symbols is None else symbols)
    cols: dict[str, list[np.ndarray]] = {f: [] for f in BAR_FIELDS}
    for sym in syms:
        arrs = series.get(sym)
        if arrs is None:
            if required:
                raise DataError(f"{what}: symbol {sym!r} has no bars. Fix: load it or drop it from the symbols.")
            arrs = {"t": np.zeros(0, np.int64), **{f: np.zeros(0) for f in PRICE_FIELDS}}
        missing = [f for f in BAR_FIELDS if f not in arrs]
        if missing:
            raise DataError(f"{what} {sym!r}: missing fields {missing}. Fix: pass t, o, h, l, c, v.")
        t = _times(arrs["t"], f"{what} {sym!r} field t")
        cols["t"].append(t)
        for f in PRICE_FIELDS:
            cols[f].append(_values(arrs[f], f"{what} {sym!r} field {f}", t.size))
    n_bars = np.array([t.size for t in cols["t"]], dtype=np.int64)
    if n_bars.size and int(n_bars.max()) > np.iinfo(np.int32).max:
        raise DataError(f"{what}: {int(n_bars.max())} bars exceed the int32 bar index. Fix: load fewer bars.")
    width = int(n_bars.max()) if n_bars.size else 0
    packed = {f: _pad2(cols[f], width, np.float64, np.nan) for f in PRICE_FIELDS}
    return BarArrays(symbols=syms, t=_pad2(cols["t"], width, np.int64, T_PAD), **packed,
                     n_bars=_ro(n_bars.astype(np.int32)))


def pack_funding(funding: Mapping[str, tuple[np.ndarray, np.ndarray]] | None,
                 symbols: Iterable[str]) -> FundingArrays:
    """Pack ``funding[symbol] = (times, rates)`` on the numbering of ``symbols`` (absent: 0 rows)."""
    syms = sort_symbols(symbols)
    funding = funding or {}
    times: list[np.ndarray] = []
    rates: list[np.ndarray] = []
    for sym in syms:
        ft, fr = funding.get(sym, (np.zeros(0, np.int64), np.zeros(0)))
        t = _times(ft, f"funding {sym!r} times")
        times.append(t)
        rates.append(_values(fr, f"funding {sym!r} rates", t.size))
    n_rows = np.array([t.size for t in times], dtype=np.int32)
    width = int(n_rows.max()) if n_rows.size else 0
    return FundingArrays(symbols=syms, times=_pad2(times, width, np.int64, T_PAD),
                         rates=_pad2(rates, width, np.float64, np.nan), n_rows=_ro(n_rows))


def pack_market(main: Mapping[str, Mapping[str, np.ndarray]],
                sub_bars: Mapping[int, Mapping[str, Mapping[str, np.ndarray]]] | None = None,
                funding: Mapping[str, tuple[np.ndarray, np.ndarray]] | None = None,
                symbols: Iterable[str] | None = None) -> MarketArrays:
    """Pack main bars (the universe: ``symbols`` or every key of ``main``), sub-bars and funding."""
    bars = pack_bars(main, symbols, what="main", required=True)
    sub: dict[int, BarArrays] = {}
    for ms in sorted(sub_bars or {}):
        if isinstance(ms, bool) or not isinstance(ms, (int, np.integer)) or ms <= 0:
            raise DataError(f"sub_bars key {ms!r} is not an interval length in ms. Fix: key by interval_ms.")
        sub[int(ms)] = pack_bars(sub_bars[ms], bars.symbols, what=f"sub {int(ms)} ms", required=False)
    fund = None if funding is None else pack_funding(funding, bars.symbols)
    return MarketArrays(symbols=bars.symbols, main=bars, sub=sub, funding=fund)


def pack_inputs(inputs) -> MarketArrays:
    """Pack a ``harness.engine_inputs.EngineInputs`` (``.main``, ``.sub_bars``, ``.funding``)."""
    return pack_market(inputs.main, inputs.sub_bars, inputs.funding)
