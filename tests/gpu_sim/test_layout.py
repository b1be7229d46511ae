"""gpu_sim.layout: the float64 column layout read from config/schema.csv."""
from __future__ import annotations

import csv
import math
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from gpu_sim.layout import (
    KIND_BOOL,
    KIND_ENUM,
    KIND_FLOAT,
    KIND_INT,
    ascii_lower,
    ascii_upper,
    closest_path,
    levenshtein,
    load_layout,
)
from harness.errors import ConfigError

SCHEMA = Path(__file__).resolve().parents[2] / "config" / "schema.csv"
KIND_NAMES = {KIND_FLOAT: "float", KIND_INT: "int", KIND_BOOL: "bool", KIND_ENUM: "enum"}


@pytest.fixture(scope="module")
def layout():
    return load_layout()


@pytest.fixture(scope="module")
def rows():
    with SCHEMA.open(newline="") as fh:
        return list(csv.DictReader(fh))


def test_counts(layout, rows):
    assert len(rows) == 157 and len(layout.leaf_paths) == 157
    assert len(layout.fields) == layout.n_fields == 153
    assert int(layout.swept_mask.sum()) == 148
    swept_kinds = Counter(KIND_NAMES[int(k)] for k, s in zip(layout.kinds, layout.swept_mask) if s)
    assert swept_kinds == {"float": 88, "bool": 31, "int": 25, "enum": 4}
    engine_only = [f for f, s in zip(layout.fields, layout.swept_mask) if not s]
    assert engine_only == ["engine.candle_close_grace_ms", "engine.heartbeat_every_s", "engine.loop_target_s",
                           "engine.signal_on_candle_close", "trade.use_bbo_for_fills"]
    sections = Counter(f.rsplit(".", 1)[0] for f in layout.swept_fields)
    assert sections == {"trade": 74, "thresholds.entry": 22, "indicators": 13, "market_regime": 12,
                        "filters": 10, "thresholds.tp_and_momentum": 8, "thresholds.ranging": 5,
                        "thresholds.anomaly": 2, "thresholds.stoch_rsi": 2}


def test_fields_follow_schema_order(layout, rows):
    numeric = [r["path"] for r in rows if r["kind"] in ("float", "int", "bool", "enum")]
    assert list(layout.fields) == numeric
    assert list(layout.leaf_paths) == [r["path"] for r in rows]
    assert all(layout.index[f] == i for i, f in enumerate(layout.fields))
    assert list(layout.swept_fields) == [r["path"] for r in rows if r["swept"] == "yes"]


def test_defaults_and_kinds_match_schema(layout, rows):
    for r in rows:
        if r["kind"] in ("str", "list[str]"):
            continue
        col = layout.index[r["path"]]
        assert KIND_NAMES[int(layout.kinds[col])] == r["kind"]
        d = layout.defaults[col]
        if r["kind"] == "bool":
            assert d == (1.0 if r["default"] == "true" else 0.0)
        elif r["kind"] == "enum":
            names = r["enum_values"].split("|")
            assert layout.enum_names[col] == tuple(names)
            assert d == float(names.index(r["default"]))
        else:
            assert d == float(r["default"])
            assert layout.enum_names[col] == ()
    assert layout.defaults.dtype == np.float64 and layout.kinds.dtype == np.int8


def test_string_leaves(layout):
    assert dict(layout.string_leaves) == {"engine.entry_interval": "", "engine.exit_interval": "",
                                          "engine.interval": "1h", "watchlist_exclude": ()}
    assert layout.string_kinds["watchlist_exclude"] == "list[str]"
    assert layout.string_kinds["engine.interval"] == "str"


def test_masks(layout, rows):
    want_portfolio = {r["path"] for r in rows if r["portfolio_scope"] == "yes"}
    assert layout.portfolio_paths == want_portfolio
    got = {f for f, p in zip(layout.fields, layout.portfolio_mask) if p}
    assert got == want_portfolio - set(layout.string_leaves)
    assert {"trade.max_open_positions", "trade.max_entry_orders_per_loop", "trade.max_total_margin_pct"} <= got
    assert "trade.use_bbo_for_fills" not in got


@pytest.mark.parametrize("path,lo,hi,lo_open,hi_open", [
    ("trade.leverage", 0.0, math.inf, True, True),
    ("trade.slippage_bps", 0.0, 10000.0, False, True),
    ("indicators.adx_window", 2.0, 10000.0, False, False),
    ("trade.tp_partial_pct", 0.0, 1.0, False, False),
    ("trade.entry_cooldown_s", 0.0, 1e9, False, False),
    ("thresholds.ranging.rsi_low", -math.inf, math.inf, True, True),
    ("trade.enable_pyramiding", -math.inf, math.inf, True, True),
])
def test_ranges(layout, path, lo, hi, lo_open, hi_open):
    c = layout.index[path]
    assert (layout.lo[c], layout.hi[c], bool(layout.lo_open[c]), bool(layout.hi_open[c])) == (lo, hi, lo_open, hi_open)


def test_defaults_satisfy_ranges(layout):
    d = layout.defaults
    ok = ((d > layout.lo) | (~layout.lo_open & (d == layout.lo))) & ((d < layout.hi) | (~layout.hi_open & (d == layout.hi)))
    assert ok.all()


def test_cached_and_read_only(layout):
    assert load_layout() is layout
    assert load_layout(SCHEMA) is layout
    with pytest.raises(ValueError):
        layout.defaults[0] = 1.0
    with pytest.raises(TypeError):
        layout.index["x"] = 1  # type: ignore[index]


def test_sections(layout):
    assert set(layout.section_paths) == {"trade", "indicators", "filters", "market_regime", "engine", "thresholds",
                                         "thresholds.entry", "thresholds.ranging", "thresholds.anomaly",
                                         "thresholds.tp_and_momentum", "thresholds.stoch_rsi"}


def test_levenshtein():
    assert levenshtein("", "") == 0
    assert levenshtein("abc", "") == 3
    assert levenshtein("kitten", "sitting") == 3
    assert levenshtein("sl_atr_mul", "sl_atr_mult") == 1
    assert levenshtein("é", "e") == 1


def test_closest_path(layout):
    known = layout.known_paths
    assert closest_path("indicators.ave_avg_atr_window", known) == "thresholds.entry.ave_avg_atr_window"
    assert closest_path("trade.sl_atr_mul", known) == "trade.sl_atr_mult"
    assert closest_path("trade.leverage_hi", known) == "trade.leverage_high"
    assert closest_path("tradee", known) == "trade"
    # ties on the last segment are broken by the full path, then lexicographically
    assert closest_path("x.b", ["z.a", "x.a"]) == "x.a"
    assert closest_path("q.b", ["z.a", "y.a"]) == "y.a"


def test_ascii_case():
    assert ascii_upper("eth-1000pepe") == "ETH-1000PEPE"
    assert ascii_upper("ß ı é") == "ß ı é"          # no Unicode case rules (D48)
    assert ascii_lower("HIGH É") == "high É"


def _write_schema(tmp_path: Path, body: str) -> Path:
    p = tmp_path / "schema.csv"
    p.write_text("path,kind,enum_values,default,unit,range,swept,scope,portfolio_scope,used_by,effect\n" + body)
    return p


@pytest.mark.parametrize("body,piece", [
    ("a.b,float,,x,,,yes,strategy,no,,\n", "default"),
    ("a.b,float,,5,,\"[0,1]\",yes,strategy,no,,\n", "outside its range"),
    ("a.b,float,,0.5,,\"[0;1]\",yes,strategy,no,,\n", "interval notation"),
    ("a.b,complex,,1,,,yes,strategy,no,,\n", "unknown kind"),
    ("a.b,enum,x|y,z,,,yes,strategy,no,,\n", "default"),
    ("a.b,int,,1.5,,,yes,strategy,no,,\n", "default"),
    ("a.b,int,,1,,,yes,strategy,no,,\na.b,int,,1,,,yes,strategy,no,,\n", "duplicate"),
    ("a,int,,1,,,yes,strategy,no,,\na.b,int,,1,,,yes,strategy,no,,\n", "both a leaf and a section"),
    ("a.B,int,,1,,,yes,strategy,no,,\n", "bad path"),
])
def test_bad_schema_rejected(tmp_path, body, piece):
    with pytest.raises(ConfigError, match=piece):
        load_layout(_write_schema(tmp_path, body))


def test_missing_schema(tmp_path):
    with pytest.raises(ConfigError, match="cannot read"):
        load_layout(tmp_path / "nope.csv")


def test_custom_schema(tmp_path):
    lay = load_layout(_write_schema(tmp_path, "s.x,float,,1.5,,\"(0,inf)\",yes,strategy,no,,\n"
                                              "s.n,int,,3,,,yes,strategy,no,,\n"
                                              "s.e,enum,p|q,q,,,yes,strategy,no,,\n"
                                              "engine.interval,str,,1h,,,no,engine-only,yes,,\n"))
    assert lay.fields == ("s.x", "s.n", "s.e")
    assert list(lay.defaults) == [1.5, 3.0, 1.0]
    assert lay.lo_open[0] and lay.hi[0] == math.inf
