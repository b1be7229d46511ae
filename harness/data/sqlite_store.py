"""SQLite market-data store (re-exported by :mod:`harness.data.loaders`).

Schema (times integer ms; ``t`` = bar open time; close time = ``t + interval_ms``)::

    candles(symbol TEXT, interval TEXT, t INTEGER, t_close INTEGER, o REAL, h REAL, l REAL, c REAL,
            v REAL, n INTEGER, PRIMARY KEY(symbol, interval, t))
    funding(symbol TEXT, t INTEGER, rate REAL, PRIMARY KEY(symbol, t))
    meta(key TEXT PRIMARY KEY, value TEXT)      -- informational: format, main_interval, fingerprint, source

``t_close`` / ``n`` are NULL when the source had no such field. Writes go to a temporary database in
the target folder that is renamed onto the target when complete. Series are selected by interval
length (D39) and loaded in ascending ``t``.
"""
from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import numpy as np

from harness.data._io import FIELDS, OPTIONAL, atomic_path, build_series, finish, need_file, pick_intervals
from harness.data.intervals import interval_ms
from harness.data.market import MarketData, Series, as_float64, as_int64
from harness.errors import DataError

__all__ = ["load_sqlite", "stored_intervals_sqlite", "write_sqlite"]

_SCHEMA = """
CREATE TABLE candles(symbol TEXT NOT NULL, interval TEXT NOT NULL, t INTEGER NOT NULL, t_close INTEGER,
  o REAL NOT NULL, h REAL NOT NULL, l REAL NOT NULL, c REAL NOT NULL, v REAL NOT NULL, n INTEGER,
  PRIMARY KEY(symbol, interval, t));
CREATE TABLE funding(symbol TEXT NOT NULL, t INTEGER NOT NULL, rate REAL NOT NULL, PRIMARY KEY(symbol, t));
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


def write_sqlite(md: MarketData, path: str | os.PathLike) -> Path:
    """Write ``md`` to a new SQLite store at ``path`` (temporary database, then rename)."""
    with atomic_path(path) as tmp:
        con = sqlite3.connect(tmp)
        try:
            con.executescript("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;" + _SCHEMA)
            for m in [md.main, *md.sub.values()]:
                for s in m.values():
                    con.executemany("INSERT INTO candles VALUES(?,?,?,?,?,?,?,?,?,?)", _rows(s))
            for sym, (ft, fr) in md.funding.items():
                con.executemany("INSERT INTO funding VALUES(?,?,?)",
                                zip([sym] * ft.size, ft.tolist(), fr.tolist(), strict=True))
            meta = {"format": "driftgate-market-v1", "main_interval": md.main_interval,
                    "fingerprint": md.fingerprint(), "source": md.source}
            con.executemany("INSERT INTO meta VALUES(?,?)", sorted(meta.items()))
            con.commit()
        finally:
            con.close()
    return Path(path)


def _rows(s: Series) -> Iterator[tuple]:
    """Rows of one series in the column order of ``candles``."""
    n = len(s)
    opt = [(getattr(s, f).tolist() if getattr(s, f) is not None else [None] * n) for f in OPTIONAL]
    return zip([s.symbol] * n, [s.interval] * n, s.t.tolist(), opt[0], s.o.tolist(), s.h.tolist(),
               s.l.tolist(), s.c.tolist(), s.v.tolist(), opt[1], strict=True)


def _connect_ro(path: str | os.PathLike) -> tuple[sqlite3.Connection, str]:
    """Open ``path`` read-only and check that it has a ``candles`` table."""
    p = need_file(path)
    con = sqlite3.connect(f"{p.resolve().as_uri()}?mode=ro", uri=True)
    try:
        names = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    except sqlite3.DatabaseError as e:
        con.close()
        raise DataError(f"{p}: not an SQLite database ({e}). Fix: pass a store written by write_sqlite.") from e
    if "candles" not in names:
        con.close()
        raise DataError(f"{p}: SQLite file has no 'candles' table. Fix: pass a store written by write_sqlite.")
    return con, str(p)


def _has_table(con: sqlite3.Connection, name: str) -> bool:
    row = con.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name=?", (name,)).fetchone()
    return row is not None


def stored_intervals_sqlite(path: str | os.PathLike) -> tuple[tuple[str, ...], str | None]:
    """Intervals stored in the store (ascending length) and the main interval recorded in ``meta``."""
    con, src = _connect_ro(path)
    with contextlib.closing(con):
        found = [r[0] for r in con.execute("SELECT DISTINCT interval FROM candles")]
        meta = dict(con.execute("SELECT key, value FROM meta").fetchall()) if _has_table(con, "meta") else {}
    return tuple(sorted(found, key=lambda s: (interval_ms(s, src), s))), meta.get("main_interval")


def load_sqlite(path: str | os.PathLike, main_interval: str = "1h", sub_intervals: Sequence[str] = ("3m",),
                symbols: Iterable[str] | None = None, *, require_symbols: Iterable[str] = ()) -> MarketData:
    """Load main bars, the requested sub-bar series and funding from an SQLite store, validated.

    A requested interval with no stored rows is a DataError; ``symbols`` (exact names) restricts
    every table to those symbols.
    """
    con, src = _connect_ro(path)
    keep = None if symbols is None else set(symbols)
    with contextlib.closing(con):
        stored = [r[0] for r in con.execute("SELECT DISTINCT interval FROM candles")]
        pick = pick_intervals(src, stored, [main_interval, *sub_intervals])
        series: dict[str, dict[str, Series]] = {}
        for want, have in pick.items():
            syms = [r[0] for r in con.execute("SELECT DISTINCT symbol FROM candles WHERE interval=?", (have,))]
            series[want] = {sym: _sql_series(con, src, sym, want, have) for sym in syms
                            if keep is None or sym in keep}
        funding = _sql_funding(con, src, keep) if _has_table(con, "funding") else {}
    main = series.pop(main_interval)
    return finish(MarketData(main_interval, main, series, funding, [], src), symbols, require_symbols)


def _sql_series(con: sqlite3.Connection, src: str, sym: str, want: str, have: str) -> Series:
    rows = con.execute("SELECT t, t_close, o, h, l, c, v, n FROM candles WHERE symbol=? AND interval=? "
                       "ORDER BY t", (sym, have)).fetchall()
    columns = zip(*rows, strict=True) if rows else ([] for _ in FIELDS)
    cols = {f: list(col) for f, col in zip(FIELDS, columns, strict=True)}
    return build_series(src, sym, want, cols)


def _sql_funding(con: sqlite3.Connection, src: str, keep: set[str] | None) -> dict:
    out = {}
    for (sym,) in con.execute("SELECT DISTINCT symbol FROM funding").fetchall():
        if keep is None or sym in keep:
            rows = con.execute("SELECT t, rate FROM funding WHERE symbol=? ORDER BY t", (sym,)).fetchall()
            ts, rs = zip(*rows, strict=True)
            out[sym] = (as_int64(np.array(ts), f"{src}: funding {sym!r} t"),
                        as_float64(np.array(rs), f"{src}: funding {sym!r} rate"))
    return out
