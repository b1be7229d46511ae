"""Helpers shared by the file formats of :mod:`harness.data.loaders` and :mod:`harness.data.sqlite_store`.

Times are integer ms; ``t`` is a bar's open time and its close time is ``t + interval_ms``.
"""
from __future__ import annotations

import contextlib
import dataclasses
import os
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import numpy as np

from harness.data.intervals import interval_ms
from harness.data.market import MarketData, Series, as_float64, as_int64
from harness.data.validate import validate_market
from harness.errors import DataError

FIELDS = ("t", "t_close", "o", "h", "l", "c", "v", "n")
OPTIONAL = ("t_close", "n")
INTS = ("t", "t_close", "n")


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; on success rename it onto ``path``, else delete it."""
    target = Path(path)
    if not target.parent.is_dir():
        raise DataError(f"{target}: folder {target.parent} does not exist. Fix: create it first.")
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    try:
        yield tmp
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def need_file(path: str | os.PathLike) -> Path:
    """``path`` as a Path, or a DataError naming it when it is not an existing file."""
    p = Path(path)
    if not p.is_file():
        raise DataError(f"{p}: market-data file not found. Fix: check the path, or create data with "
                        f"`driftgate data synth --out {p.name}`.")
    return p


def build_series(src: str, sym: str, interval: str, cols: dict[str, list]) -> Series:
    """Build a Series from per-field value lists of equal length (``None`` = missing value).

    The optional fields ``t_close`` and ``n`` are all-or-none per series; a required field may not
    be missing. Non-numeric values raise a DataError naming source, symbol, interval and field.
    """
    arrays: dict[str, np.ndarray | None] = {}
    for f in FIELDS:
        vals = cols[f]
        missing = [i for i, x in enumerate(vals) if x is None] if None in vals else []
        if f in OPTIONAL and vals and len(missing) == len(vals):
            arrays[f] = None
            continue
        if missing:
            rule = "t_close and n are all-or-none per series" if f in OPTIONAL else f"{f} is required"
            raise DataError(f"{src}: symbol {sym!r}, interval {interval}, row {missing[0]}: field {f} is "
                            f"missing — rule: {rule}. Fix: give every bar a {f} value"
                            f"{' or drop the field from every bar' if f in OPTIONAL else ''}.")
        what = f"{src}: symbol {sym!r} interval {interval} field {f}"
        arr = np.array(vals) if vals else np.zeros(0, dtype=np.int64 if f in INTS else np.float64)
        arrays[f] = (as_int64 if f in INTS else as_float64)(arr, what)
    return Series.build(sym, interval, arrays["t"], arrays["o"], arrays["h"], arrays["l"], arrays["c"],
                        arrays["v"], t_close=arrays["t_close"], n=arrays["n"])


def pick_intervals(src: str, stored: Iterable[str], wanted: Sequence[str]) -> dict[str, str]:
    """Map each wanted interval to the one stored spelling of the same length (D39)."""
    by_len: dict[int, str] = {}
    for s in stored:
        ln = interval_ms(s, f"{src} stored interval")
        if by_len.setdefault(ln, s) != s:
            raise DataError(f"{src}: intervals {by_len[ln]!r} and {s!r} have the same length — D39: one "
                            f"series per (symbol, length). Fix: keep one spelling.")
    out: dict[str, str] = {}
    for w in wanted:
        ln = interval_ms(w, f"{src} requested interval")
        if ln not in by_len:
            raise DataError(f"{src}: no bars of interval {w!r} (stored: {sorted(set(by_len.values()))}). "
                            f"Fix: request a stored interval, or pass sub_intervals=() for main bars only.")
        if w in out:
            raise DataError(f"{src}: interval {w!r} requested twice. Fix: list each interval once.")
        out[w] = by_len[ln]
    return out


def finish(md: MarketData, symbols: Iterable[str] | None, require_symbols: Iterable[str]) -> MarketData:
    """Keep the requested ``symbols`` (exact names), validate, attach the reported gaps."""
    if symbols is not None:
        keep = set(symbols)
        absent = sorted(keep - set(md.main))
        if absent:
            raise DataError(f"{md.source}: requested symbols {absent} have no {md.main_interval} bars "
                            f"(present: {list(md.main)}). Fix: request present symbols.")
        md = dataclasses.replace(
            md, main={k: s for k, s in md.main.items() if k in keep},
            sub={iv: {k: s for k, s in m.items() if k in keep} for iv, m in md.sub.items()},
            funding={k: f for k, f in md.funding.items() if k in keep})
    return dataclasses.replace(md, gaps=validate_market(md, require_symbols))
