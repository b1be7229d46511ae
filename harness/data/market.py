"""Market-data model handed to both engines: plain numpy arrays per symbol.

Conventions (DECISIONS.md D2, D39, D40, D41, D53):

* Times are integer milliseconds since the Unix epoch (UTC), ``int64``.
* ``t`` is the bar's **open** time; its close time is ``t + interval_ms`` (computed, never read).
  The data field ``t_close`` (``t + interval_ms − 1`` in exchange data) is kept only so that it can be
  checked (D40).
* Prices ``o h l c`` and volume ``v`` are ``float64``; trade counts ``n`` are ``int64`` when present.
* Symbols are keys of plain dicts sorted ascending byte-wise (UTF-8 bytes; D53.1, strategy-exits §0.5).
* Funding is ``symbol -> (times int64 ms, hourly rate float64)``; a row at time ``b`` is the rate settled
  at boundary ``b``, positive means longs pay shorts (D53.7).
* Every array is C-contiguous and read-only. Negative zeros in float arrays are canonicalised to
  ``+0.0`` (SQLite cannot store ``-0.0``, so this keeps every file format byte-identical).

Construction checks structure only (dtypes, lengths, keys); value rules live in
:mod:`harness.data.validate`.
"""
from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass, field

import numpy as np

from harness.data.intervals import INT64_MAX, interval_ms as _interval_ms
from harness.errors import DataError

__all__ = ["Gap", "MarketData", "Series", "as_float64", "as_int64", "symbol_order"]

_PRICE_FIELDS = ("o", "h", "l", "c", "v")


def symbol_order(names) -> list[str]:
    """Return ``names`` sorted ascending byte-wise (UTF-8), the one symbol order (D53.1)."""
    return sorted(names, key=lambda s: s.encode("utf-8"))


def _readonly(a: np.ndarray, original: object) -> np.ndarray:
    """Return ``a`` read-only, taking a view first when ``a`` is the caller's own array."""
    if a is original:
        a = a.view()
    a.flags.writeable = False
    return a


def as_int64(x: object, what: str) -> np.ndarray:
    """Coerce ``x`` to a 1-D contiguous read-only ``int64`` array; integral floats are accepted.

    ``what`` names the array in the error (e.g. ``"BTC 1h t"``). Bools, strings, fractional or
    out-of-range values raise :class:`DataError`.
    """
    a = np.asarray(x)
    if a.ndim != 1:
        raise DataError(f"{what}: expected a 1-D array, got shape {a.shape}. Fix: pass one row per bar.")
    if a.dtype.kind == "f" and a.size:
        bad = ~np.isfinite(a) | (a != np.floor(a)) | (np.abs(a) > 2.0**63 - 1024)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise DataError(f"{what}: row {i} value {a[i]!r} is not an integer in int64 range. "
                            f"Fix: times and counts must be whole numbers.")
    elif a.dtype.kind == "u" and a.size and int(a.max()) > INT64_MAX:
        raise DataError(f"{what}: value {int(a.max())} exceeds int64. Fix: use values < 2**63.")
    elif a.dtype.kind not in "iuf":
        raise DataError(f"{what}: dtype {a.dtype} is not numeric. Fix: pass integers.")
    out = np.ascontiguousarray(a, dtype=np.int64)
    return _readonly(out, x)


def as_float64(x: object, what: str) -> np.ndarray:
    """Coerce ``x`` to a 1-D contiguous read-only ``float64`` array with ``-0.0`` mapped to ``+0.0``."""
    a = np.asarray(x)
    if a.ndim != 1:
        raise DataError(f"{what}: expected a 1-D array, got shape {a.shape}. Fix: pass one row per bar.")
    if a.dtype.kind not in "iuf":
        raise DataError(f"{what}: dtype {a.dtype} is not numeric. Fix: pass numbers.")
    out = np.ascontiguousarray(a, dtype=np.float64)
    if out.size and bool((np.signbit(out) & (out == 0.0)).any()):
        out = out + 0.0  # IEEE: -0.0 + 0.0 == +0.0; every other value unchanged
    return _readonly(out, x)


@dataclass(frozen=True)
class Series:
    """One symbol's bars of one interval (open times ``t`` in ms; close time = ``t + interval_ms``)."""

    symbol: str
    interval: str
    interval_ms: int
    t: np.ndarray
    t_close: np.ndarray | None
    o: np.ndarray
    h: np.ndarray
    l: np.ndarray  # noqa: E741 - the spec's field name
    c: np.ndarray
    v: np.ndarray
    n: np.ndarray | None

    def __post_init__(self) -> None:
        if not isinstance(self.symbol, str) or not self.symbol:
            raise DataError(f"series symbol {self.symbol!r} must be a non-empty string. Fix: name the symbol.")
        length = _interval_ms(self.interval, f"symbol {self.symbol!r}")
        if self.interval_ms != length:
            raise DataError(f"symbol {self.symbol!r}: interval_ms {self.interval_ms!r} != length of "
                            f"{self.interval!r} ({length}). Fix: use Series.build.")
        tag = f"symbol {self.symbol!r} interval {self.interval}"
        set_ = object.__setattr__
        set_(self, "t", as_int64(self.t, f"{tag} field t"))
        for name in _PRICE_FIELDS:
            set_(self, name, as_float64(getattr(self, name), f"{tag} field {name}"))
        for name in ("t_close", "n"):
            if getattr(self, name) is not None:
                set_(self, name, as_int64(getattr(self, name), f"{tag} field {name}"))
        size = self.t.size
        for name in ("t_close", *_PRICE_FIELDS, "n"):
            arr = getattr(self, name)
            if arr is not None and arr.size != size:
                raise DataError(f"{tag}: field {name} has {arr.size} rows but t has {size}. "
                                f"Fix: give every field one value per bar.")

    @classmethod
    def build(cls, symbol: str, interval: str, t, o, h, l, c, v,  # noqa: E741
              *, t_close=None, n=None) -> Series:
        """Build a series, computing ``interval_ms`` from ``interval`` (D39)."""
        return cls(symbol, interval, _interval_ms(interval, f"symbol {symbol!r}"),
                   t, t_close, o, h, l, c, v, n)

    def __len__(self) -> int:
        return int(self.t.size)

    def close_times(self) -> np.ndarray:
        """Close times ``t + interval_ms`` (D2) as a new ``int64`` array."""
        return self.t + np.int64(self.interval_ms)


@dataclass(frozen=True)
class Gap:
    """Missing bars inside one series: open times strictly between ``after_t`` and ``before_t``."""

    symbol: str
    interval: str
    after_t: int
    before_t: int
    missing_bars: int


def _sorted_series_map(m: dict, interval: str, where: str) -> dict[str, Series]:
    """Check a ``symbol -> Series`` map of one interval and return it sorted byte-wise."""
    length = _interval_ms(interval, where)
    for sym, s in m.items():
        if not isinstance(s, Series) or s.symbol != sym or s.interval_ms != length:
            raise DataError(f"{where}: entry {sym!r} is not a Series of symbol {sym!r} with interval "
                            f"length {length} ms (got {getattr(s, 'symbol', s)!r}, "
                            f"{getattr(s, 'interval', None)!r}). Fix: key each series by its own symbol.")
    return {k: m[k] for k in symbol_order(m)}


@dataclass(frozen=True)
class MarketData:
    """All inputs of a run: main bars, sub-bar series, funding rows, reported gaps, source name."""

    main_interval: str
    main: dict[str, Series]
    sub: dict[str, dict[str, Series]] = field(default_factory=dict)
    funding: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    gaps: list[Gap] = field(default_factory=list)
    source: str = "<memory>"

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "main", _sorted_series_map(self.main, self.main_interval, f"{self.source} main"))
        lengths: dict[int, str] = {}
        for iv in self.sub:
            ln = _interval_ms(iv, f"{self.source} sub-bar interval")
            if ln in lengths:
                raise DataError(f"{self.source}: sub-bar intervals {lengths[ln]!r} and {iv!r} have the same "
                                f"length {ln} ms — D39: one series per (symbol, length). Fix: keep one.")
            lengths[ln] = iv
        subs = {lengths[ln]: _sorted_series_map(self.sub[lengths[ln]], lengths[ln],
                                                f"{self.source} sub {lengths[ln]}") for ln in sorted(lengths)}
        set_(self, "sub", subs)
        fund = {}
        for sym in symbol_order(self.funding):
            times, rates = self.funding[sym]
            ft = as_int64(times, f"{self.source} funding {sym!r} times")
            fr = as_float64(rates, f"{self.source} funding {sym!r} rates")
            if ft.size != fr.size:
                raise DataError(f"{self.source}: funding {sym!r} has {ft.size} times but {fr.size} rates. "
                                f"Fix: one rate per time.")
            fund[sym] = (ft, fr)
        set_(self, "funding", fund)
        set_(self, "gaps", list(self.gaps))

    @property
    def main_interval_ms(self) -> int:
        """Length of the main interval in ms."""
        return _interval_ms(self.main_interval)

    def symbols(self) -> tuple[str, ...]:
        """Symbols that have main bars, ascending byte-wise."""
        return tuple(self.main)

    def fingerprint(self) -> str:
        """sha256 (hex) over canonical bytes of every array (little-endian), for run metadata.

        Covers, in order: main series, sub-bar series (ascending interval length), funding; each with
        symbol name, interval length in ms (not its spelling: ``60m`` and ``1h`` hash alike), row count,
        presence flags of the optional fields and the raw bytes. ``source`` and ``gaps`` are excluded.
        """
        h = hashlib.sha256(b"driftgate-market-v1\0")
        groups = [("main", self.main)] + [(f"sub:{interval}", m) for interval, m in self.sub.items()]
        for _, m in groups:
            h.update(struct.pack("<q", len(m)))
            for sym, s in m.items():
                _put_str(h, sym)
                h.update(struct.pack("<qq", s.interval_ms, len(s)))
                for f in ("t", "t_close", "o", "h", "l", "c", "v", "n"):
                    _put_array(h, getattr(s, f))
        h.update(struct.pack("<q", len(self.funding)))
        for sym, (ft, fr) in self.funding.items():
            _put_str(h, sym)
            _put_array(h, ft)
            _put_array(h, fr)
        return h.hexdigest()

    def n_bars(self) -> dict[str, int]:
        """Total bar count per interval (main first, then sub-bar intervals)."""
        out = {self.main_interval: sum(len(s) for s in self.main.values())}
        for interval, m in self.sub.items():
            out[interval] = sum(len(s) for s in m.values())
        return out


def _put_str(h, s: str) -> None:
    b = s.encode("utf-8")
    h.update(struct.pack("<q", len(b)))
    h.update(b)


def _put_array(h, a: np.ndarray | None) -> None:
    if a is None:
        h.update(b"\0")
        return
    h.update(b"\1" + struct.pack("<q", a.size))
    h.update(memoryview(np.ascontiguousarray(a, dtype=a.dtype.newbyteorder("<"))))

