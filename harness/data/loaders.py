"""Loaders and writers for market data: JSON, SQLite store, CSV. Every loader validates before returning.

Formats (times are integer ms; ``t`` = bar open time; close time = ``t + interval_ms``):

* **JSON** (main bars of one interval), the format of ``hl_candles_1h_btc_eth_sol.json``:
  ``{SYMBOL: [{"t", "o", "h", "l", "c", "v"[, "t_close"][, "n"]}, ...]}``. No other keys are accepted,
  values must be JSON numbers, duplicate keys are errors; ``t_close`` / ``n`` are all-or-none per symbol.
* **SQLite store**: see :mod:`harness.data.sqlite_store` (``load_sqlite`` / ``write_sqlite`` are
  re-exported here).
* **CSV candles**: a header naming the columns ``symbol,interval,t,o,h,l,c,v`` plus optionally
  ``t_close`` and ``n`` (any order; an empty optional cell = absent). One file holds any number of
  (symbol, interval) series; rows of one series keep file order (they must be sorted by ``t``).
  **CSV funding**: header ``symbol,t,rate``. ``load_csv(x.csv)`` also reads funding from
  ``x.funding.csv`` when that file exists and no ``funding_path`` is given; ``write_csv`` writes it there.

Series are selected by interval *length* (D39): asking for ``60m`` reads rows stored as ``1h``; two
stored spellings of one length are a DataError. Loaded series carry the requested interval string.
Writes are atomic (temporary file in the target folder, then ``os.replace``).
"""
from __future__ import annotations

import csv
import json
import os
from collections.abc import Iterable, Sequence
from pathlib import Path

from harness.data._io import FIELDS, INTS, atomic_path, build_series, finish, need_file, pick_intervals
from harness.data.intervals import interval_ms
from harness.data.market import MarketData, Series, as_float64, as_int64
from harness.data.sqlite_store import load_sqlite, stored_intervals_sqlite, write_sqlite
from harness.errors import DataError

__all__ = ["SQLITE_SUFFIXES", "atomic_path", "load_csv", "load_funding_csv", "load_json", "load_market",
           "load_sqlite", "stored_intervals", "write_csv", "write_json", "write_market", "write_sqlite"]

SQLITE_SUFFIXES = (".sqlite", ".sqlite3", ".db")
_CSV_REQUIRED = ("symbol", "interval", "t", "o", "h", "l", "c", "v")
_FUNDING_COLUMNS = ("symbol", "t", "rate")
PathLike = str | os.PathLike


def _no_dup_keys(src: str):
    def hook(pairs: list[tuple[str, object]]) -> dict:
        out: dict = {}
        for k, v in pairs:
            if k in out:
                raise DataError(f"{src}: duplicate JSON key {k!r}. Fix: give each symbol / field once.")
            out[k] = v
        return out
    return hook


def load_json(path: PathLike, interval: str = "1h", *, symbols: Iterable[str] | None = None,
              require_symbols: Iterable[str] = (), funding_path: PathLike | None = None) -> MarketData:
    """Load main bars of ``interval`` from the JSON format (funding optionally from a CSV file)."""
    p = need_file(path)
    src = str(p)
    try:
        doc = json.loads(p.read_text(encoding="utf-8"), object_pairs_hook=_no_dup_keys(src))
    except (ValueError, UnicodeDecodeError) as e:
        raise DataError(f"{src}: not valid JSON ({e}). Fix: supply an object of symbol -> list of bars.") from e
    if not isinstance(doc, dict):
        raise DataError(f"{src}: top level is a {type(doc).__name__}, not an object of symbol -> bars. "
                        f"Fix: use the documented JSON format.")
    main = {sym: _json_series(src, sym, interval, rows) for sym, rows in doc.items()}
    funding = load_funding_csv(funding_path) if funding_path is not None else {}
    return finish(MarketData(interval, main, {}, funding, [], src), symbols, require_symbols)


def _json_series(src: str, sym: str, interval: str, rows: object) -> Series:
    if not isinstance(rows, list):
        raise DataError(f"{src}: symbol {sym!r}: value is a {type(rows).__name__}, not a list of bars. "
                        f"Fix: use the documented JSON format.")
    cols: dict[str, list] = {f: [] for f in FIELDS}
    for i, row in enumerate(rows):
        if not isinstance(row, dict) or not set(row) <= set(FIELDS):
            bad = sorted(set(row) - set(FIELDS)) if isinstance(row, dict) else row
            raise DataError(f"{src}: symbol {sym!r}, interval {interval}, row {i}: unexpected {bad!r} — "
                            f"rule: a bar is an object with keys {list(FIELDS)}. Fix: rename or drop them.")
        for f in FIELDS:
            x = row.get(f)
            if x is not None and (isinstance(x, bool) or not isinstance(x, (int, float))):
                raise DataError(f"{src}: symbol {sym!r}, interval {interval}, row {i}: {f}={x!r} is not a "
                                f"number — rule: JSON numbers only. Fix: write the value unquoted.")
            cols[f].append(x)
    return build_series(src, sym, interval, cols)


def write_json(md: MarketData, path: PathLike) -> Path:
    """Write the main bars of ``md`` as JSON (atomic). Sub-bars and funding need SQLite or CSV."""
    if md.sub or md.funding:
        raise DataError(f"{path}: JSON holds main bars only, but the data has sub-bars or funding. "
                        f"Fix: write a .sqlite or .csv file (or generate with --no-funding and no sub-bars).")
    doc = {}
    for sym, s in md.main.items():
        cols = {f: getattr(s, f).tolist() for f in FIELDS if getattr(s, f) is not None}
        doc[sym] = [dict(zip(cols, vals, strict=True)) for vals in zip(*cols.values(), strict=True)]
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(doc, separators=(",", ":")), encoding="utf-8")
    return Path(path)


def _csv_rows(p: Path, required: Sequence[str], optional: Sequence[str]):
    """Yield ``(line_number, {column: text})`` for a CSV with a checked header."""
    with p.open(newline="", encoding="utf-8") as fh:
        reader = csv.reader(fh)
        header = next(reader, [])
        unknown = [c for c in header if c not in (*required, *optional)]
        absent = [c for c in required if c not in header]
        if unknown or absent or len(set(header)) != len(header):
            raise DataError(f"{p}: line 1: CSV header {header} — rule: columns {list(required)} required, "
                            f"{list(optional)} optional, no others, no repeats (unknown {unknown}, missing "
                            f"{absent}). Fix: write the documented header.")
        for line, rec in enumerate(reader, start=2):
            if len(rec) != len(header):
                raise DataError(f"{p}: line {line}: {len(rec)} cells but the header has {len(header)}. "
                                f"Fix: one cell per column.")
            yield line, dict(zip(header, rec, strict=True))


def _csv_number(src: str, line: int, col: str, text: str) -> int | float | None:
    if text == "":
        return None
    try:
        return int(text) if col in INTS and text.lstrip("-").isdigit() else float(text)
    except ValueError:
        raise DataError(f"{src}: line {line}: {col}={text!r} is not a number. Fix: write a decimal number.") from None


def load_csv(path: PathLike, main_interval: str = "1h", sub_intervals: Sequence[str] = (),
             symbols: Iterable[str] | None = None, *, require_symbols: Iterable[str] = (),
             funding_path: PathLike | None = None) -> MarketData:
    """Load main bars and the requested sub-bar series from one candle CSV (plus funding), validated."""
    p = need_file(path)
    src = str(p)
    groups: dict[tuple[str, str], dict[str, list]] = {}
    for line, row in _csv_rows(p, _CSV_REQUIRED, ("t_close", "n")):
        g = groups.setdefault((row["symbol"], row["interval"]), {f: [] for f in FIELDS})
        for f in FIELDS:
            g[f].append(_csv_number(src, line, f, row.get(f, "")))
    pick = pick_intervals(src, {iv for _, iv in groups}, [main_interval, *sub_intervals])
    series = {want: {sym: build_series(src, sym, want, g) for (sym, iv), g in groups.items() if iv == have}
              for want, have in pick.items()}
    main = series.pop(main_interval)
    sibling = _funding_sibling(p)
    if funding_path is None and sibling.is_file():
        funding_path = sibling
    funding = load_funding_csv(funding_path) if funding_path is not None else {}
    return finish(MarketData(main_interval, main, series, funding, [], src), symbols, require_symbols)


def _funding_sibling(p: Path) -> Path:
    return p.with_name(p.stem + ".funding.csv")


def load_funding_csv(path: PathLike) -> dict:
    """Read funding rows ``symbol,t,rate`` (rows of one symbol keep file order); D41 is checked later."""
    p = need_file(path)
    cols: dict[str, tuple[list, list]] = {}
    for line, row in _csv_rows(p, _FUNDING_COLUMNS, ()):
        ts, rs = cols.setdefault(row["symbol"], ([], []))
        t, r = _csv_number(str(p), line, "t", row["t"]), _csv_number(str(p), line, "rate", row["rate"])
        if t is None or r is None:
            raise DataError(f"{p}: line {line}: empty t or rate. Fix: every funding row needs both.")
        ts.append(t)
        rs.append(r)
    return {sym: (as_int64(ts, f"{p}: funding {sym!r} t"), as_float64(rs, f"{p}: funding {sym!r} rate"))
            for sym, (ts, rs) in cols.items()}


def write_csv(md: MarketData, path: PathLike) -> Path:
    """Write every series of ``md`` to one candle CSV (floats as shortest round-trip ``repr``), atomic.

    Funding, when present, goes to the sibling ``<stem>.funding.csv``; without funding a stale
    sibling is removed, so that ``load_csv`` cannot pick it up.
    """
    with atomic_path(path) as tmp, tmp.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(("symbol", "interval", *FIELDS))
        for m in [md.main, *md.sub.values()]:
            for s in m.values():
                cols = [getattr(s, f).tolist() if getattr(s, f) is not None else [""] * len(s) for f in FIELDS]
                w.writerows((s.symbol, s.interval, *vals) for vals in zip(*cols, strict=True))
    if not md.funding:
        _funding_sibling(Path(path)).unlink(missing_ok=True)
    else:
        with atomic_path(_funding_sibling(Path(path))) as tmp, tmp.open("w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh, lineterminator="\n")
            w.writerow(_FUNDING_COLUMNS)
            for sym, (ft, fr) in md.funding.items():
                w.writerows((sym, t, r) for t, r in zip(ft.tolist(), fr.tolist(), strict=True))
    return Path(path)


def stored_intervals(path: PathLike) -> tuple[tuple[str, ...], str | None]:
    """Intervals present in a file (ascending length) and the main interval recorded there, if any."""
    p = need_file(path)
    suffix = p.suffix.lower()
    if suffix in SQLITE_SUFFIXES:
        return stored_intervals_sqlite(p)
    if suffix == ".csv":
        found = {row["interval"] for _, row in _csv_rows(p, _CSV_REQUIRED, ("t_close", "n"))}
        return tuple(sorted(found, key=lambda s: (interval_ms(s, str(p)), s))), None
    return (), None


def load_market(path: PathLike, main_interval: str = "1h", sub_intervals: Sequence[str] = (),
                symbols: Iterable[str] | None = None, *, require_symbols: Iterable[str] = (),
                funding_path: PathLike | None = None) -> MarketData:
    """Load and validate market data, dispatching on the suffix (.json, .sqlite/.sqlite3/.db, .csv)."""
    p = need_file(path)
    suffix = p.suffix.lower()
    if suffix == ".json":
        if sub_intervals:
            raise DataError(f"{p}: a JSON file holds main bars of one interval only, but sub-bar intervals "
                            f"{list(sub_intervals)} were requested. Fix: use a .sqlite or .csv file.")
        return load_json(p, main_interval, symbols=symbols, require_symbols=require_symbols,
                         funding_path=funding_path)
    if suffix in SQLITE_SUFFIXES:
        if funding_path is not None:
            raise DataError(f"{p}: an SQLite store carries its own funding table. Fix: drop funding_path.")
        return load_sqlite(p, main_interval, tuple(sub_intervals), symbols, require_symbols=require_symbols)
    if suffix == ".csv":
        return load_csv(p, main_interval, tuple(sub_intervals), symbols, require_symbols=require_symbols,
                        funding_path=funding_path)
    raise DataError(f"{p}: unknown market-data suffix {p.suffix!r}. Fix: use .json, .sqlite, .db or .csv.")


def write_market(md: MarketData, path: PathLike) -> Path:
    """Write ``md`` by suffix: .sqlite/.sqlite3/.db (everything), .csv (+ .funding.csv), .json (main only)."""
    suffix = Path(path).suffix.lower()
    if suffix in SQLITE_SUFFIXES:
        return write_sqlite(md, path)
    if suffix == ".csv":
        return write_csv(md, path)
    if suffix == ".json":
        return write_json(md, path)
    raise DataError(f"{path}: unknown market-data suffix {Path(path).suffix!r}. Fix: use .sqlite, .csv or .json.")
