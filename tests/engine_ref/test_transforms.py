"""engine_ref transforms T1–T4 (strategy-entries.md §4.4, §3.3) and the DECISIONS.md scenarios that
concern them: D8 regime filter, D9 regime gate, D10 auto-reverse (D31's liveness tables, 10-symbol
universes built with ``universe_states``), D20 ``min_atr_pct = 0`` and D53.19 (undefined breadth).

Each scenario runs the real pipeline piece: ``compute_context`` over the universe, ``generate`` on a
clean Mode-A bar, then ``apply_transforms``; the expected value is the final signal.
"""
from __future__ import annotations

from typing import NamedTuple

import pytest

from engine_ref.context import compute_context
from engine_ref.entries import generate
from engine_ref.entry_filters import side_for_signal
from engine_ref.transforms import apply_transforms, atr_floor, regime_filter, regime_gate_open, reverse
from tests.engine_ref.snapshots import bear_snapshot, bull_snapshot, config_with, context_with, universe_states


class Scenario(NamedTuple):
    name: str
    universe: dict  # universe_states(...) keyword arguments, n_bullish first
    cfg: dict
    expect: str
    base: str = "bull"  # "bull": Mode-A BUY on ETH; "bear": Mode-A SELL on ETH


def final_signal(sc: Scenario) -> str:
    states = universe_states(**sc.universe)
    ctx = compute_context(states, universe=sorted(states))
    cfg = config_with({"filters.require_btc_alignment": False, **sc.cfg})
    snap = bull_snapshot() if sc.base == "bull" else bear_snapshot()
    signal, _conf, _thr = generate(snap, cfg, ctx, "ETH")
    assert signal == ("BUY" if sc.base == "bull" else "SELL")
    return apply_transforms(signal, snap, cfg, ctx).signal


def table(rows: list[Scenario]):
    return pytest.mark.parametrize("sc", rows, ids=[r.name for r in rows])


# -- T1 -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("atr, price, min_atr_pct, expected", [
    (0.2, 101.0, 0.003, 101.0 * 0.003),   # raw ATR below 0.3 % of the price -> floored (0.303)
    (0.5, 101.0, 0.003, 0.5),             # above the floor -> raw ATR
    (0.303, 101.0, 0.003, 0.303),         # equal to the floor (101 * 0.003 == 0.303) -> not below, raw
    (0.2, 101.0, 0.0, 0.2),               # D20 / D31: min_atr_pct 0 never floors
], ids=["floored", "raw above floor", "equal to floor is raw", "min_atr_pct 0 keeps raw ATR [D20]"])
def test_t1_atr_floor(atr: float, price: float, min_atr_pct: float, expected: float) -> None:
    assert atr_floor(atr, price, config_with({"trade.min_atr_pct": min_atr_pct})) == expected


def test_t1_never_changes_the_signal_and_reads_the_raw_atr() -> None:
    out = apply_transforms("BUY", bull_snapshot(atr=0.2), config_with(), context_with())
    assert (out.signal, out.atr_entry) == ("BUY", 101.0 * 0.003)


# -- T2 (D10) -------------------------------------------------------------------------------------

AUTO = {"market_regime.enable_auto_reverse": True}
D10 = [
    Scenario("D10 breadth 70, auto_reverse_breadth_high 90 -> BUY becomes SELL", {"n_bullish": 7},
             {**AUTO, "market_regime.auto_reverse_breadth_high": 90.0}, "SELL"),
    Scenario("D10 breadth 70, auto_reverse_breadth_high 63 -> stays BUY", {"n_bullish": 7},
             {**AUTO, "market_regime.auto_reverse_breadth_high": 63.0}, "BUY"),
    Scenario("D10 breadth 10, auto_reverse_breadth_low 7 -> flips", {"n_bullish": 1},
             {**AUTO, "market_regime.auto_reverse_breadth_low": 7.0}, "SELL"),
    Scenario("D10 breadth 10, auto_reverse_breadth_low 10 -> flips (inclusive)", {"n_bullish": 1},
             {**AUTO, "market_regime.auto_reverse_breadth_low": 10.0}, "SELL"),
    Scenario("D10 breadth 10, auto_reverse_breadth_low 13 -> no flip", {"n_bullish": 1},
             {**AUTO, "market_regime.auto_reverse_breadth_low": 13.0}, "BUY"),
    Scenario("D10 auto-reverse off, reverse_entry_signal on -> flips", {"n_bullish": 7},
             {"trade.reverse_entry_signal": True}, "SELL"),
    Scenario("D10 auto-reverse off, reverse_entry_signal off -> no flip", {"n_bullish": 7}, {}, "BUY"),
    Scenario("D10 auto-reverse overrides reverse_entry_signal (breadth outside the band)", {"n_bullish": 7},
             {**AUTO, "market_regime.auto_reverse_breadth_high": 63.0, "trade.reverse_entry_signal": True}, "BUY"),
    Scenario("D10 SELL becomes BUY", {"n_bullish": 7}, AUTO, "BUY", base="bear"),
]


@table(D10)
def test_t2_auto_reverse_d10(sc: Scenario) -> None:
    assert final_signal(sc) == sc.expect


def test_t2_reversed_buy_opens_a_short() -> None:
    """D31: "turns a BUY into a SHORT entry" — the post-T2 direction decides the side."""
    sc = D10[0]
    assert side_for_signal(final_signal(sc)) == "SHORT"


@pytest.mark.parametrize("signal, expected", [("BUY", "SELL"), ("SELL", "BUY"), ("NEUTRAL", "NEUTRAL")])
def test_t2_static_reverse_swaps_buy_and_sell(signal: str, expected: str) -> None:
    assert reverse(signal, config_with({"trade.reverse_entry_signal": True}), context_with()) == expected


# -- T3 (D8) --------------------------------------------------------------------------------------

FILTER = {"market_regime.enable_regime_filter": True}
D8 = [
    Scenario("D8 breadth 10, breadth_block_long_below 13 -> BUY neutralised", {"n_bullish": 1},
             {**FILTER, "market_regime.breadth_block_long_below": 13.0}, "NEUTRAL"),
    Scenario("D8 breadth 10, breadth_block_long_below 10 -> BUY kept (strict)", {"n_bullish": 1},
             {**FILTER, "market_regime.breadth_block_long_below": 10.0}, "BUY"),
    Scenario("D8 regime filter off -> BUY kept", {"n_bullish": 1},
             {"market_regime.breadth_block_long_below": 13.0}, "BUY"),
    Scenario("D8 breadth 100 > breadth_block_short_above 90 -> SELL neutralised", {"n_bullish": 10},
             FILTER, "NEUTRAL", base="bear"),
    Scenario("D8 breadth 100, breadth_block_short_above 100 -> SELL kept (strict)", {"n_bullish": 10},
             {**FILTER, "market_regime.breadth_block_short_above": 100.0}, "SELL", base="bear"),
    Scenario("D8 breadth 100 does not block a BUY", {"n_bullish": 10}, FILTER, "BUY"),
    Scenario("D8 applies to the post-T2 direction: BUY reversed to SELL at breadth 100 is blocked",
             {"n_bullish": 10}, {**FILTER, "trade.reverse_entry_signal": True}, "NEUTRAL"),
]


@table(D8)
def test_t3_regime_filter_d8(sc: Scenario) -> None:
    assert final_signal(sc) == sc.expect


# -- T4 (D9) --------------------------------------------------------------------------------------

GATE = {"market_regime.enable_regime_gate": True}
BAND_14_56 = {**GATE, "market_regime.regime_gate_breadth_low": 14.0, "market_regime.regime_gate_breadth_high": 56.0}
BAND_26_56 = {**GATE, "market_regime.regime_gate_breadth_low": 26.0, "market_regime.regime_gate_breadth_high": 56.0}
D9 = [
    Scenario("D9 breadth 20 inside band 14-56 -> gate closed, no entry", {"n_bullish": 2}, BAND_14_56, "NEUTRAL"),
    Scenario("D9 breadth 20 outside band 26-56 -> gate open", {"n_bullish": 2}, BAND_26_56, "BUY"),
    Scenario("D9 band is inclusive: breadth 20 with low 20 -> closed", {"n_bullish": 2}, GATE, "NEUTRAL"),
    Scenario("D9 BTC ADX 18, regime_gate_btc_adx_min 14 -> open", {"n_bullish": 9, "btc_adx": 18.0},
             {**GATE, "market_regime.regime_gate_btc_adx_min": 14.0}, "BUY"),
    Scenario("D9 BTC ADX 18, regime_gate_btc_adx_min 20 -> closed", {"n_bullish": 9, "btc_adx": 18.0},
             {**GATE, "market_regime.regime_gate_btc_adx_min": 20.0}, "NEUTRAL"),
    Scenario("D9 BTC ATR/close 0.0025, atr_pct_min 0.0021 -> open", {"n_bullish": 9, "btc_atr": 100.0},
             {**GATE, "market_regime.regime_gate_btc_atr_pct_min": 0.0021}, "BUY"),
    Scenario("D9 BTC ATR/close 0.0025, atr_pct_min 0.003 -> closed", {"n_bullish": 9, "btc_atr": 100.0},
             {**GATE, "market_regime.regime_gate_btc_atr_pct_min": 0.003}, "NEUTRAL"),
    Scenario("D9 no BTC, breadth 90 outside the band, fail_open 1 -> enters", {"n_bullish": 9, "with_btc": False},
             {**GATE, "market_regime.regime_gate_fail_open": True}, "BUY"),
    Scenario("D9 no BTC, breadth 90 outside the band, fail_open 0 -> no entry",
             {"n_bullish": 9, "with_btc": False}, {**GATE, "market_regime.regime_gate_fail_open": False}, "NEUTRAL"),
    Scenario("D9 empty band (low 60 > high 40): breadth 50 is not chop", {"n_bullish": 5},
             {**GATE, "market_regime.regime_gate_breadth_low": 60.0,
              "market_regime.regime_gate_breadth_high": 40.0}, "BUY"),
    Scenario("D9 gate off: breadth 20 in the default band enters", {"n_bullish": 2}, {}, "BUY"),
    Scenario("D9 a closed gate neutralises a SELL too", {"n_bullish": 5}, GATE, "NEUTRAL", base="bear"),
    Scenario("D9 the gate reads the post-T2 signal; closed neutralises it", {"n_bullish": 5},
             {**GATE, "trade.reverse_entry_signal": True}, "NEUTRAL"),
]


@table(D9)
def test_t4_regime_gate_d9(sc: Scenario) -> None:
    assert final_signal(sc) == sc.expect


@pytest.mark.parametrize("fail_open", [True, False])
def test_regime_gate_fail_open_when_breadth_undefined(fail_open: bool) -> None:
    cfg = config_with({**GATE, "market_regime.regime_gate_fail_open": fail_open})
    assert regime_gate_open(cfg, context_with(breadth_pct=50.0, breadth_defined=False)) is fail_open


@pytest.mark.parametrize("btc_close", [0.0, -1.0])
def test_regime_gate_fail_open_when_btc_close_not_positive(btc_close: float) -> None:
    cfg = config_with({**GATE, "market_regime.regime_gate_fail_open": True})
    assert regime_gate_open(cfg, context_with(breadth_pct=90.0, btc_close=btc_close)) is True
    cfg = config_with({**GATE, "market_regime.regime_gate_fail_open": False})
    assert regime_gate_open(cfg, context_with(breadth_pct=90.0, btc_close=btc_close)) is False


def test_regime_gate_atr_pct_is_atr_over_close() -> None:
    """0.0025 = 100 / 40000 is not < 0.0025: the gate stays open at the exact minimum."""
    cfg = config_with({**GATE, "market_regime.regime_gate_btc_atr_pct_min": 100.0 / 40000.0})
    assert regime_gate_open(cfg, context_with(breadth_pct=90.0, btc_atr=100.0, btc_close=40000.0)) is True


# -- D53.19: undefined breadth skips auto-reverse and the regime filter ---------------------------

UNDEFINED = {"n_bullish": 10, "bar_count": 1}  # no symbol has two bars -> breadth 50.0, undefined
D53_19 = [
    Scenario("D53.19 auto-reverse skipped: breadth 50 (undefined) inside 10-90 does not flip", UNDEFINED,
             AUTO, "BUY"),
    Scenario("D53.19 contrast: breadth 50 (5 of 10, defined) inside 10-90 flips", {"n_bullish": 5}, AUTO, "SELL"),
    Scenario("D53.19 auto-reverse skipped: the static reverse_entry_signal decides", UNDEFINED,
             {**AUTO, "trade.reverse_entry_signal": True}, "SELL"),
    Scenario("D53.19 regime filter skipped: breadth 50 (undefined) < 60 does not block", UNDEFINED,
             {**FILTER, "market_regime.breadth_block_long_below": 60.0}, "BUY"),
    Scenario("D53.19 contrast: breadth 50 (defined) < 60 blocks", {"n_bullish": 5},
             {**FILTER, "market_regime.breadth_block_long_below": 60.0}, "NEUTRAL"),
]


@table(D53_19)
def test_d53_19_undefined_breadth(sc: Scenario) -> None:
    assert final_signal(sc) == sc.expect


def test_regime_filter_leaves_neutral_alone() -> None:
    cfg = config_with({**FILTER, "market_regime.breadth_block_long_below": 60.0})
    assert regime_filter("NEUTRAL", cfg, context_with(breadth_pct=10.0)) == "NEUTRAL"


def test_apply_transforms_keeps_neutral() -> None:
    cfg = config_with({"trade.reverse_entry_signal": True})
    assert apply_transforms("NEUTRAL", bull_snapshot(), cfg, context_with()).signal == "NEUTRAL"
