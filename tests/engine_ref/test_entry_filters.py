"""engine_ref pre-ranking filters F1–F4 (strategy-entries.md §4.6, strategy-exits.md §2.4, §5.7, D16)."""
from __future__ import annotations

import math

import pytest

from engine_ref.entry_filters import (LastExit, first_blocking_filter, meets_min_confidence, pesc_blocked,
                                      pesc_cooldown_minutes, reef_blocked, side_for_signal, ssf_blocked)
from tests.engine_ref.snapshots import bear_snapshot, bull_snapshot, config_with

MINUTE_MS = 60_000
T0 = 1_700_000_000_000  # exit time of the scenarios


# -- F1 -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("confidence, minimum, passes", [
    ("High", "high", True), ("Medium", "high", False), ("Low", "high", False),
    ("High", "medium", True), ("Medium", "medium", True), ("Low", "medium", False),
    ("High", "low", True), ("Medium", "low", True), ("Low", "low", True),
])
def test_f1_min_confidence(confidence: str, minimum: str, passes: bool) -> None:
    assert meets_min_confidence(confidence, config_with({"trade.entry_min_confidence": minimum})) is passes


# -- F2 PESC (D16) --------------------------------------------------------------------------------

@pytest.mark.parametrize("adx, minutes", [
    (0.0, 180.0), (25.0, 180.0), (27.5, 140.0), (30.0, 100.0), (32.5, 60.0), (35.0, 55.0), (37.5, 50.0),
    (40.0, 45.0), (60.0, 45.0),
], ids=lambda v: str(v))
def test_f2_pesc_default_schedule_d16(adx: float, minutes: float) -> None:
    """D16: defaults 60/45/180 give 180 min at ADX 25, 100 at 30, 60 at 32.5, 55 at 35, 45 at 40."""
    assert pesc_cooldown_minutes(adx, config_with()) == minutes


@pytest.mark.parametrize("base_minutes, blocked", [(42, False), (60, True)],
                         ids=["base 42 -> clamped to min 45 -> allowed", "base 60 -> blocked"])
def test_f2_pesc_d16_scenario(base_minutes: int, blocked: bool) -> None:
    """D16: stop-loss exit of a long, new BUY 50 minutes later with ADX 32.5."""
    cfg = config_with({"trade.reentry_cooldown_minutes": base_minutes})
    last = LastExit(T0, "LONG", "Stop Loss")
    assert pesc_blocked(last, "LONG", T0 + 50 * MINUTE_MS, 32.5, cfg) is blocked


def test_f2_pesc_base_above_max_is_clamped() -> None:
    cfg = config_with({"trade.reentry_cooldown_minutes": 200})
    assert pesc_cooldown_minutes(32.5, cfg) == 180.0


@pytest.mark.parametrize("last, want, blocked", [
    (None, "LONG", False),
    (LastExit(T0, "LONG", "Signal Flip"), "LONG", False),
    (LastExit(T0, "SHORT", "Stop Loss"), "LONG", False),
    (LastExit(T0, "LONG", "Take Profit (Partial)"), "LONG", True),
    (LastExit(T0, "LONG", "End of Backtest"), "LONG", True),
    ((T0, "SHORT", "Trailing Stop"), "SHORT", True),
], ids=["no exit recorded", "Signal Flip never blocks", "opposite side", "partial exit counts",
        "end-of-data close counts", "plain tuple, short side"])
def test_f2_pesc_which_exits_count(last, want: str, blocked: bool) -> None:
    assert pesc_blocked(last, want, T0 + 10 * MINUTE_MS, 30.0, config_with()) is blocked


def test_f2_pesc_boundary_is_strict() -> None:
    """Blocked while elapsed < 45 min at ADX 40; allowed at exactly 45 min."""
    cfg = config_with()
    last = LastExit(T0, "LONG", "Stop Loss")
    assert pesc_blocked(last, "LONG", T0 + 45 * MINUTE_MS - 1, 40.0, cfg) is True
    assert pesc_blocked(last, "LONG", T0 + 45 * MINUTE_MS, 40.0, cfg) is False


def test_f2_pesc_duration_truncates_toward_zero() -> None:
    """cd × 60000 is truncated to integer ms (N7): ADX 25.1 gives a fractional cooldown."""
    cfg = config_with()
    cooldown_ms = math.trunc(pesc_cooldown_minutes(25.1, cfg) * 60000.0)
    last = LastExit(T0, "LONG", "Stop Loss")
    assert pesc_blocked(last, "LONG", T0 + cooldown_ms - 1, 25.1, cfg) is True
    assert pesc_blocked(last, "LONG", T0 + cooldown_ms, 25.1, cfg) is False


def test_f2_pesc_min_max_zero_disables() -> None:
    cfg = config_with({"trade.reentry_cooldown_min_mins": 0, "trade.reentry_cooldown_max_mins": 0})
    assert pesc_blocked(LastExit(T0, "LONG", "Stop Loss"), "LONG", T0, 30.0, cfg) is False


# -- F3 SSF ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("signal, macd_hist, enabled, blocked", [
    ("BUY", 0.1, True, False), ("BUY", 0.0, True, True), ("BUY", -0.1, True, True),
    ("SELL", -0.1, True, False), ("SELL", 0.0, True, True), ("SELL", 0.1, True, True),
    ("BUY", -0.1, False, False), ("SELL", 0.1, False, False),
], ids=["BUY hist>0", "BUY hist 0 blocks", "BUY hist<0", "SELL hist<0", "SELL hist 0 blocks", "SELL hist>0",
        "off BUY", "off SELL"])
def test_f3_ssf(signal: str, macd_hist: float, enabled: bool, blocked: bool) -> None:
    cfg = config_with({"trade.enable_ssf_filter": enabled})
    assert ssf_blocked(signal, bull_snapshot(macd_hist=macd_hist), cfg) is blocked


# -- F4 REEF --------------------------------------------------------------------------------------

@pytest.mark.parametrize("signal, adx, rsi, blocked", [
    ("BUY", 30.0, 70.0, False), ("BUY", 30.0, 70.1, True),
    ("BUY", 45.0, 74.0, False), ("BUY", 45.0, 75.0, False), ("BUY", 45.0, 75.1, True),
    ("SELL", 30.0, 30.0, False), ("SELL", 30.0, 29.9, True),
    ("SELL", 45.0, 26.0, False), ("SELL", 45.0, 25.0, False), ("SELL", 45.0, 24.9, True),
], ids=["BUY weak rsi 70 ok", "BUY weak rsi 70.1 blocked", "BUY strong rsi 74 ok", "BUY strong rsi 75 ok",
        "BUY strong rsi 75.1 blocked", "SELL weak rsi 30 ok", "SELL weak rsi 29.9 blocked",
        "SELL strong rsi 26 ok", "SELL strong rsi 25 ok", "SELL strong rsi 24.9 blocked"])
def test_f4_reef_adx_tiers(signal: str, adx: float, rsi: float, blocked: bool) -> None:
    """ADX < 45 uses the block levels (70 / 30), ADX ≥ 45 the extreme levels (75 / 25)."""
    assert reef_blocked(signal, bull_snapshot(adx=adx, rsi=rsi), config_with()) is blocked


def test_f4_reef_off() -> None:
    cfg = config_with({"trade.enable_reef_filter": False})
    assert reef_blocked("BUY", bull_snapshot(rsi=99.0), cfg) is False
    assert reef_blocked("SELL", bear_snapshot(rsi=1.0), cfg) is False


# -- F1 -> F4 in order ----------------------------------------------------------------------------

def test_filters_run_in_order_and_name_the_first_blocker() -> None:
    cfg = config_with({"trade.entry_min_confidence": "medium"})
    pesc = LastExit(T0, "LONG", "Stop Loss")
    now = T0 + MINUTE_MS
    hot = bull_snapshot(macd_hist=-0.1, rsi=90.0)  # SSF and REEF would both block
    assert first_blocking_filter("BUY", "Low", hot, cfg, pesc, now) == "confidence"
    assert first_blocking_filter("BUY", "Medium", hot, cfg, pesc, now) == "pesc"
    assert first_blocking_filter("BUY", "Medium", hot, cfg, None, now) == "ssf"
    assert first_blocking_filter("BUY", "Medium", bull_snapshot(rsi=90.0), cfg, None, now) == "reef"
    assert first_blocking_filter("BUY", "Medium", bull_snapshot(), cfg, None, now) is None


def test_filters_use_the_post_t2_direction() -> None:
    """A BUY reversed to SELL is filtered as a SELL: SSF needs hist < 0, PESC looks at SHORT exits."""
    cfg = config_with({"trade.entry_min_confidence": "low"})
    snap = bull_snapshot(macd_hist=-0.5, rsi=60.0)
    assert first_blocking_filter("SELL", "Medium", snap, cfg, LastExit(T0, "LONG", "Stop Loss"), T0) is None
    assert first_blocking_filter("SELL", "Medium", snap, cfg, LastExit(T0, "SHORT", "Stop Loss"), T0) == "pesc"


def test_side_for_signal() -> None:
    assert (side_for_signal("BUY"), side_for_signal("SELL")) == ("LONG", "SHORT")
