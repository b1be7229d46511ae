"""config/schema.csv is the one source of names, kinds and defaults, and matches the spec."""
from __future__ import annotations

import csv
from collections import Counter

import pytest

from harness.schema import load_schema, parse_default
from tests.conftest import SHARED_AXES

SPEC_SECTIONS = {"trade": 74, "thresholds.entry": 22, "indicators": 13, "market_regime": 12,
                 "filters": 10, "thresholds.tp_and_momentum": 8, "thresholds.ranging": 5,
                 "thresholds.anomaly": 2, "thresholds.stoch_rsi": 2}


def test_counts_match_spec_readme() -> None:
    schema = load_schema()
    assert len(schema.axes) == 157
    assert len(schema.swept) == 148
    assert Counter(a.kind for a in schema.swept) == {"float": 88, "bool": 31, "int": 25, "enum": 4}
    assert Counter(a.section for a in schema.swept) == SPEC_SECTIONS
    assert all(a.scope == "strategy" for a in schema.swept)
    assert {a.path for a in schema.engine_only} == {
        "trade.use_bbo_for_fills", "watchlist_exclude", "engine.interval", "engine.entry_interval",
        "engine.exit_interval", "engine.loop_target_s", "engine.signal_on_candle_close",
        "engine.heartbeat_every_s", "engine.candle_close_grace_ms"}


def test_schema_matches_shared_axes_csv() -> None:
    if not SHARED_AXES.is_file():
        pytest.skip("../shared/spec/axes.csv absent")
    spec = {r["path"]: r for r in csv.DictReader(SHARED_AXES.open(newline=""))}
    schema = load_schema()
    assert [a.path for a in schema.axes] == list(spec)
    for a in schema.axes:
        row = spec[a.path]
        assert a.kind == row["kind"], a.path
        assert a.default == parse_default(row["kind"], row["default"]), a.path
        assert "|".join(a.enum_values) == row["enum_values"], a.path
        assert a.swept == (row["swept"] == "yes"), a.path


def test_portfolio_scope_keys_are_d27s() -> None:
    portfolio = {a.path for a in load_schema().axes if a.portfolio_scope}
    assert portfolio == {"trade.max_open_positions", "trade.max_entry_orders_per_loop",
                         "trade.max_total_margin_pct", "watchlist_exclude"} | {
        a.path for a in load_schema().axes if a.path.startswith("engine.")}


def test_defaults_lie_in_their_range() -> None:
    for a in load_schema().axes:
        if a.kind in ("float", "int"):
            assert a.range.contains(float(a.default)), (a.path, a.default, a.range)


def test_every_sweep_grid_value_is_valid() -> None:
    from harness.sweep_spec import load_sweep_spec
    spec = load_sweep_spec(load_schema().path.parents[1] / "sweeps" / "full_144v.yaml")
    assert len(spec.axes) == 148
