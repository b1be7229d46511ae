"""JSON, SQLite and CSV loaders: real data, round trips, atomic writes and format errors."""
from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from harness.data import loaders, sqlite_store
from harness.data.loaders import (load_csv, load_json, load_market, load_sqlite, stored_intervals, write_csv,
                                  write_json, write_market, write_sqlite)
from harness.data.synth import synth_market
from harness.errors import DataError
from tests.harness.data import H, T0, bars, market


@pytest.fixture(scope="module")
def small():
    return synth_market(n_symbols=3, days=2, seed=11, sub_intervals=("3m", "15m"))


def same(a, b) -> None:
    assert a.fingerprint() == b.fingerprint()
    for group_a, group_b in [(a.main, b.main), *zip(a.sub.values(), b.sub.values(), strict=True)]:
        for sym in group_a:
            for f in ("t", "t_close", "o", "h", "l", "c", "v", "n"):
                x, y = getattr(group_a[sym], f), getattr(group_b[sym], f)
                assert (x is None and y is None) or (x.dtype == y.dtype and np.array_equal(x, y)), (sym, f)


# ---------------------------------------------------------------- real data
def test_real_hyperliquid_json(shared_candles: Path) -> None:
    md = load_market(shared_candles, "1h", require_symbols=("BTC",))
    raw = json.loads(shared_candles.read_text())
    assert md.symbols() == ("BTC", "ETH", "SOL") and md.gaps == [] and md.source == str(shared_candles)
    for sym, rows in raw.items():
        s = md.main[sym]
        assert len(s) == len(rows) == 600
        assert s.t.tolist() == [r["t"] for r in rows] and s.t_close.tolist() == [r["t_close"] for r in rows]
        assert s.c.tolist() == [float(r["c"]) for r in rows] and s.n.tolist() == [r["n"] for r in rows]
    with pytest.raises(DataError, match="D40"):
        load_json(shared_candles, "30m")  # 1h bars under a 30m main interval
    with pytest.raises(DataError, match="overlap"):
        load_json(shared_candles, "1d")  # 1h bars under a 1d interval: closer than one interval (D53.4)


# ---------------------------------------------------------------- JSON
def _json(tmp_path: Path, doc: object, name: str = "c.json") -> Path:
    p = tmp_path / name
    p.write_text(doc if isinstance(doc, str) else json.dumps(doc))
    return p


def _row(i: int, **kw) -> dict:
    r = {"t": T0 + i * H, "t_close": T0 + (i + 1) * H - 1, "o": 10.0, "h": 11.0, "l": 9.0, "c": 10.5, "v": 1.0, "n": 3}
    r.update(kw)
    return {k: v for k, v in r.items() if v is not None}


@pytest.mark.parametrize("doc, match", [
    ("{not json", "not valid JSON"),
    ([1, 2], "top level is a list"),
    ({"BTC": {"t": 1}}, "not a list of bars"),
    ({"BTC": [_row(0, T=5)]}, r"row 0: unexpected \['T'\]"),
    ({"BTC": [_row(0), _row(1, c="10.5")]}, "row 1: c='10.5' is not a number"),
    ({"BTC": [_row(0), _row(1, o=True)]}, "row 1: o=True is not a number"),
    ({"BTC": [_row(0), _row(1, t_close=None)]}, "row 1: field t_close is missing .* all-or-none"),
    ({"BTC": [_row(0, v=None)]}, "row 0: field v is missing"),
    ('{"BTC": [], "BTC": []}', "duplicate JSON key 'BTC'"),
    ({"BTC": [_row(0), _row(1, l=12.0)]}, r"row 1: l=12\.0 .*low must be <= min"),
])
def test_json_errors(tmp_path: Path, doc: object, match: str) -> None:
    p = _json(tmp_path, doc)
    with pytest.raises(DataError, match=match) as e:
        load_json(p)
    assert str(p) in str(e.value)


def test_json_optional_fields_absent(tmp_path: Path) -> None:
    md = load_json(_json(tmp_path, {"ETH": [_row(i, t_close=None, n=None) for i in range(3)]}))
    assert md.main["ETH"].t_close is None and md.main["ETH"].n is None


def test_json_round_trip_and_symbols_filter(tmp_path: Path) -> None:
    md = market(bars(), bars(symbol="ETH", t_close=False), bars(symbol="SOL"))
    p = write_json(md, tmp_path / "m.json")
    same(load_json(p), md)
    assert load_json(p, symbols=["ETH"]).symbols() == ("ETH",)
    with pytest.raises(DataError, match=r"requested symbols \['DOGE'\]"):
        load_json(p, symbols=["DOGE"])


def test_json_writer_refuses_sub_bars(tmp_path: Path, small) -> None:
    with pytest.raises(DataError, match="JSON holds main bars only"):
        write_json(small, tmp_path / "x.json")
    assert not (tmp_path / "x.json").exists()


# ---------------------------------------------------------------- SQLite
def test_sqlite_round_trip(tmp_path: Path, small) -> None:
    p = write_sqlite(small, tmp_path / "m.sqlite")
    back = load_sqlite(p, "1h", ("3m", "15m"))
    same(back, small)
    assert [list(map(float, f[1])) for f in back.funding.values()] == [list(f[1]) for f in small.funding.values()]
    assert stored_intervals(p) == (("3m", "15m", "1h"), "1h")
    assert list(tmp_path.iterdir()) == [p]  # no temporary left behind


def test_sqlite_selection(tmp_path: Path, small) -> None:
    p = write_sqlite(small, tmp_path / "m.db")
    md = load_sqlite(p, "60m", ("180s",), symbols=["ETH"])  # selection by length (D39)
    assert md.symbols() == ("ETH",) and list(md.sub) == ["180s"] and list(md.funding) == ["ETH"]
    assert md.main["ETH"].interval == "60m"
    assert np.array_equal(md.main["ETH"].c, small.main["ETH"].c)
    with pytest.raises(DataError, match=r"no bars of interval '5m' \(stored: \['15m', '1h', '3m'\]\)"):
        load_sqlite(p, "1h", ("5m",))


def test_sqlite_two_spellings_of_one_length(tmp_path: Path) -> None:
    p = write_sqlite(market(bars()), tmp_path / "m.sqlite")
    con = sqlite3.connect(p)
    con.execute("INSERT INTO candles VALUES('ETH','60m',?,NULL,1,1,1,1,1,NULL)", (T0,))
    con.commit()
    con.close()
    with pytest.raises(DataError, match="'1h' and '60m' have the same length"):
        load_sqlite(p, "1h", ())


def test_sqlite_validates_and_names_file(tmp_path: Path) -> None:
    p = write_sqlite(market(bars(), funding={"BTC": ([T0], [0.0])}), tmp_path / "m.sqlite")
    con = sqlite3.connect(p)
    con.execute("UPDATE candles SET v=-2 WHERE t=?", (T0 + 2 * H,))
    con.commit()
    con.close()
    with pytest.raises(DataError, match=r"m\.sqlite: symbol 'BTC', interval 1h, row 2: v=-2\.0"):
        load_sqlite(p, sub_intervals=())


def test_sqlite_bad_files(tmp_path: Path) -> None:
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database at all" * 100)
    with pytest.raises(DataError, match="not an SQLite database"):
        load_sqlite(junk)
    empty = tmp_path / "empty.sqlite"
    sqlite3.connect(empty).execute("CREATE TABLE x(a)").connection.close()
    with pytest.raises(DataError, match="no 'candles' table"):
        load_sqlite(empty)


def test_sqlite_write_is_atomic(tmp_path: Path, small, monkeypatch) -> None:
    p = write_sqlite(market(bars()), tmp_path / "m.sqlite")
    before = p.read_bytes()

    def boom(s):
        raise RuntimeError("disk full")
    monkeypatch.setattr(sqlite_store, "_rows", boom)
    with pytest.raises(RuntimeError):
        write_sqlite(small, p)
    assert p.read_bytes() == before and list(tmp_path.iterdir()) == [p]


# ---------------------------------------------------------------- CSV
def test_csv_round_trip_with_funding_sibling(tmp_path: Path, small) -> None:
    p = write_csv(small, tmp_path / "m.csv")
    assert (tmp_path / "m.funding.csv").is_file()
    same(load_csv(p, "1h", ("3m", "15m")), small)
    assert stored_intervals(p) == (("3m", "15m", "1h"), None)
    only_main = load_csv(p, "1h")
    assert only_main.sub == {} and only_main.symbols() == small.symbols()
    write_csv(market(bars()), p)  # no funding: the stale sibling goes too
    assert not (tmp_path / "m.funding.csv").exists() and load_csv(p).funding == {}


def test_csv_minimal_columns(tmp_path: Path) -> None:
    p = tmp_path / "c.csv"
    p.write_text("t,symbol,interval,o,h,l,c,v\n"
                 f"{T0},ETH,1h,1,2,0.5,1.5,7\n{T0 + H},ETH,1h,1.5,2,1,1,0\n{T0},ETH,4h,1,2,0.5,1.5,7\n")
    md = load_csv(p)
    assert md.main["ETH"].c.tolist() == [1.5, 1.0] and md.main["ETH"].t_close is None and md.funding == {}


@pytest.mark.parametrize("text, match", [
    ("symbol,interval,t,o,h,l,c\n", r"line 1: CSV header .*missing \['v'\]"),
    ("symbol,interval,t,o,h,l,c,v,extra\n", r"unknown \['extra'\]"),
    ("symbol,interval,t,o,h,l,c,v\nBTC,1h,{T0},1,2,1,1\n", "line 2: 7 cells but the header has 8"),
    ("symbol,interval,t,o,h,l,c,v\nBTC,1h,{T0},1,2,1,1,1\nBTC,1h,{T1},1,x,1,1,1\n", "line 3: h='x' is not a number"),
    ("symbol,interval,t,o,h,l,c,v\nBTC,1h,{T1},1,2,1,1,1\nBTC,1h,{T0},1,2,1,1,1\n",
     r"symbol 'BTC', interval 1h, row 1: open time .* sorted"),
    ("symbol,interval,t,o,h,l,c,v\nBTC,1h,{T0},1,2,1,1,1\nBTC,1H,{T0},1,2,1,1,1\n", "'1H' does not match"),
    ("symbol,interval,t,o,h,l,c,v\nBTC,1h,{T0},,2,1,1,1\n", "row 0: field o is missing"),
])
def test_csv_errors(tmp_path: Path, text: str, match: str) -> None:
    p = tmp_path / "bad.csv"
    p.write_text(text.replace("{T0}", str(T0)).replace("{T1}", str(T0 + H)))
    with pytest.raises(DataError, match=match) as e:
        load_csv(p)
    assert str(p) in str(e.value)


def test_funding_csv_errors(tmp_path: Path) -> None:
    (tmp_path / "m.csv").write_text(f"symbol,interval,t,o,h,l,c,v\nBTC,1h,{T0},1,2,1,1,1\n")
    (tmp_path / "m.funding.csv").write_text(f"symbol,t,rate\nBTC,{T0 + H},1e-5\nBTC,{T0},2e-5\n")
    with pytest.raises(DataError, match=r"funding symbol 'BTC', row 1: .*strictly increasing"):
        load_csv(tmp_path / "m.csv")
    (tmp_path / "f.csv").write_text(f"symbol,t,rate\nBTC,{T0},\n")
    with pytest.raises(DataError, match="line 2: empty t or rate"):
        load_csv(tmp_path / "m.csv", funding_path=tmp_path / "f.csv")


# ---------------------------------------------------------------- dispatch
def test_load_market_dispatch_and_errors(tmp_path: Path, small) -> None:
    for name in ("a.sqlite", "a.db", "a.csv"):
        same(load_market(write_market(small, tmp_path / name), "1h", ("3m", "15m")), small)
    with pytest.raises(DataError, match=r"nope\.sqlite: market-data file not found.*Fix:"):
        load_market(tmp_path / "nope.sqlite")
    (tmp_path / "x.parquet").write_text("")
    with pytest.raises(DataError, match="unknown market-data suffix '.parquet'"):
        load_market(tmp_path / "x.parquet")
    with pytest.raises(DataError, match="unknown market-data suffix"):
        write_market(small, tmp_path / "x.txt")
    j = write_json(market(bars()), tmp_path / "m.json")
    with pytest.raises(DataError, match="JSON file holds main bars of one interval only"):
        load_market(j, "1h", ("3m",))
    with pytest.raises(DataError, match="required symbol 'ETH'"):
        load_market(j, require_symbols=("ETH",))
    with pytest.raises(DataError, match="folder .* does not exist"):
        write_market(small, tmp_path / "missing" / "m.sqlite")
    assert loaders.SQLITE_SUFFIXES == (".sqlite", ".sqlite3", ".db")
