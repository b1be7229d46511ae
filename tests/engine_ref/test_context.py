"""engine_ref window context: breadth, BTC trend flag, BTC gate metrics (strategy-entries.md §3, D7)."""
from __future__ import annotations

import dataclasses
import json
from collections import Counter
from pathlib import Path

import pytest

from engine_ref.context import WindowContext, btc_bank_symbol, compute_context, market_breadth
from engine_ref.entries import generate
from engine_ref.indicators import IndicatorSnapshot, SymbolIndicators
from engine_ref.transforms import apply_transforms
from tests.engine_ref.snapshots import (Snap, bear_snapshot, bull_snapshot, config_with, symbol_state,
                                        universe_states)


def test_breadth_two_of_ten_bullish_is_20_percent() -> None:
    ctx = compute_context(universe_states(2))
    assert (ctx.breadth_pct, ctx.breadth_defined) == (20.0, True)


@pytest.mark.parametrize("n_bullish, expected_pct", [(0, 0.0), (1, 10.0), (7, 70.0), (10, 100.0)])
def test_breadth_of_a_ten_symbol_universe(n_bullish: int, expected_pct: float) -> None:
    assert compute_context(universe_states(n_bullish)).breadth_pct == expected_pct


def test_breadth_is_binary64_division_then_times_100() -> None:
    states = {"A": symbol_state(bull_snapshot(), 5), "B": symbol_state(bear_snapshot(), 5),
              "C": symbol_state(bear_snapshot(), 5)}
    assert market_breadth(states, states) == ((1.0 / 3.0) * 100.0, True)


def test_breadth_is_strict_ema_fast_equal_to_ema_slow_is_not_bullish() -> None:
    states = {"A": symbol_state(bull_snapshot(ema_fast=99.0, ema_slow=99.0), 5),
              "B": symbol_state(bull_snapshot(), 5)}
    assert compute_context(states).breadth_pct == 50.0


def test_breadth_needs_two_processed_bars() -> None:
    """A symbol with one bar does not count; the other two give 1 of 2 = 50 % (defined)."""
    states = {"A": symbol_state(bull_snapshot(), 300), "B": symbol_state(bear_snapshot(), 2),
              "C": symbol_state(bull_snapshot(), 1), "D": symbol_state(None, 0)}
    assert compute_context(states).breadth_pct == 50.0
    assert compute_context(states).breadth_defined is True


def test_breadth_undefined_is_50_when_no_symbol_qualifies() -> None:
    states = {"A": symbol_state(bull_snapshot(), 1), "B": symbol_state(None, 0)}
    ctx = compute_context(states)
    assert (ctx.breadth_pct, ctx.breadth_defined) == (50.0, False)


def test_breadth_counts_only_universe_symbols() -> None:
    states = universe_states(2)
    states["XYZ"] = symbol_state(bull_snapshot(), 300)  # e.g. removed by watchlist_exclude
    assert compute_context(states, universe=sorted(set(states) - {"XYZ"})).breadth_pct == 20.0
    assert compute_context(states).breadth_pct == (3.0 / 11.0) * 100.0


def test_universe_symbol_without_state_is_skipped() -> None:
    states = universe_states(1, 2)
    assert compute_context(states, universe=["BTC", "S01", "NEW"]).breadth_pct == 50.0


def test_btc_flag_close_above_ema_slow() -> None:
    assert compute_context(universe_states(5, btc_bullish=True)).btc_bullish is True
    assert compute_context(universe_states(5, btc_bullish=False)).btc_bullish is False


def test_btc_flag_is_strict() -> None:
    states = {"BTC": symbol_state(bull_snapshot(c=100.0, ema_slow=100.0), 10)}
    assert compute_context(states).btc_bullish is False


def test_btc_with_one_bar_sets_the_flag_but_not_breadth() -> None:
    states = {"BTC": symbol_state(bull_snapshot(), 1)}
    ctx = compute_context(states)
    assert (ctx.btc_bullish, ctx.btc_symbol, ctx.breadth_defined) == (True, "BTC", False)


def test_btcusdt_is_the_fallback_bank() -> None:
    states = {"BTC": symbol_state(None, 0), "BTCUSDT": symbol_state(bear_snapshot(c=30000.0, ema_slow=31000.0,
                                                                                 adx=17.0, atr=90.0), 3)}
    ctx = compute_context(states)
    assert (ctx.btc_symbol, ctx.btc_bullish, ctx.btc_close, ctx.btc_adx, ctx.btc_atr) == \
        ("BTCUSDT", False, 30000.0, 17.0, 90.0)


def test_btc_preferred_over_btcusdt() -> None:
    states = {"BTC": symbol_state(bull_snapshot(), 1), "BTCUSDT": symbol_state(bear_snapshot(), 5)}
    assert btc_bank_symbol(states, states) == "BTC"


def test_btc_outside_the_universe_is_no_bank() -> None:
    states = {"BTC": symbol_state(bull_snapshot(), 5), "ETH": symbol_state(bull_snapshot(), 5)}
    ctx = compute_context(states, universe=["ETH"])
    assert (ctx.btc_bullish, ctx.btc_close, ctx.btc_adx, ctx.btc_atr, ctx.btc_symbol) == (None,) * 5


def test_no_btc_bank_gives_unknown_flag() -> None:
    ctx = compute_context(universe_states(3, with_btc=False))
    assert ctx == WindowContext(30.0, True, None, None, None, None, None)


def test_btc_gate_metrics_are_the_raw_snapshot_values() -> None:
    ctx = compute_context(universe_states(4, btc_adx=18.0, btc_atr=100.0, btc_close=40000.0))
    assert (ctx.btc_close, ctx.btc_adx, ctx.btc_atr) == (40000.0, 18.0, 100.0)


def test_configs_argument_is_accepted() -> None:
    states = universe_states(2)
    cfgs = {sym: config_with() for sym in states}
    assert compute_context(states, cfgs, sorted(states)) == compute_context(states)


def test_window_context_is_immutable() -> None:
    ctx = compute_context(universe_states(2))
    with pytest.raises(AttributeError):
        ctx.breadth_pct = 1.0  # type: ignore[misc]


def test_snapshot_test_double_matches_the_indicator_snapshot() -> None:
    """``Snap`` (tests) and ``IndicatorSnapshot`` (engine) carry the same §2.12 field names."""
    assert [f.name for f in dataclasses.fields(Snap)] == [f.name for f in dataclasses.fields(IndicatorSnapshot)]


def test_real_indicator_states_drive_context_and_generate(shared_candles: Path) -> None:
    """Smoke test on the shared 1h candles: ``SymbolIndicators`` are valid context states, and their
    snapshots go through ``generate`` and ``apply_transforms`` (window context built before each feed)."""
    data = json.loads(shared_candles.read_text(encoding="utf-8"))
    cfg = config_with({"thresholds.entry.enable_pullback_entries": True,
                       "thresholds.entry.enable_slow_drift_entries": True})
    states = {sym: SymbolIndicators.from_config(cfg) for sym in ("BTC", "ETH", "SOL")}
    signals: Counter = Counter()
    for k in range(len(data["BTC"])):
        ctx = compute_context(states)
        for sym in sorted(states):
            snap = states[sym].update_bar(data[sym][k])
            if states[sym].bar_count >= 200:
                raw = generate(snap, cfg, ctx, sym)
                final = apply_transforms(raw.signal, snap, cfg, ctx)
                assert final.atr_entry >= snap.atr
                signals[raw.signal] += 1
    assert ctx.btc_symbol == "BTC" and ctx.breadth_defined
    assert signals["NEUTRAL"] > 0 and signals["BUY"] + signals["SELL"] > 0


def test_btc_bank_name_test_uses_ascii_upper_case_d48() -> None:
    states = {"btc": symbol_state(bull_snapshot(), 3), "ETH": symbol_state(bear_snapshot(), 3)}
    assert compute_context(states).btc_symbol == "btc"
