"""engine_ref entry layer: gate block G1–G10 and signal modes A/B/C (strategy-entries.md §4.2–§4.3).

Every row is one scenario: a baseline bar (``bull`` → Mode-A BUY, ``bear`` → Mode-A SELL with the
defaults, see ``snapshots.py``), the snapshot fields that change, the config keys that change, the BTC
flag of the window, the symbol, and the spec's predicted ``(signal, confidence, entry_adx_threshold)``.
The comment on a row names the decisive comparison.
"""
from __future__ import annotations

import ast
from pathlib import Path
from typing import NamedTuple

import pytest

from engine_ref.entries import (dre_rsi_limits, effective_min_adx, evaluate_gates, generate)
from engine_ref.entry_modes import EntrySignal
from tests.engine_ref.snapshots import bear_snapshot, bull_snapshot, config_with, context_with, sub_bar_view

BUY_MED = ("BUY", "Medium", 22.0)
SELL_MED = ("SELL", "Medium", 22.0)
NONE = ("NEUTRAL", None, 0.0)
SAME = object()  # "btc flag matching the baseline's direction"


class Row(NamedTuple):
    name: str
    base: str
    snap: dict
    cfg: dict
    expect: tuple
    btc_bullish: object = SAME
    symbol: str = "ETH"


def run_row(row: Row) -> EntrySignal:
    snap = (bull_snapshot if row.base == "bull" else bear_snapshot)(**row.snap)
    btc = (row.base == "bull") if row.btc_bullish is SAME else row.btc_bullish
    return generate(snap, config_with(row.cfg), context_with(btc_bullish=btc), row.symbol)


def check(rows: list[Row]):
    return pytest.mark.parametrize("row", rows, ids=[r.name for r in rows])


MIN15 = {"thresholds.entry.min_adx": 15.0}
RANGING_BAR = {"adx": 20.0, "bb_width_ratio": 0.7}  # votes: ADX 20 < 21, ratio 0.7 < 0.8

BASELINE = [
    Row("baseline bull -> Mode A BUY Medium", "bull", {}, {}, BUY_MED),
    Row("baseline bear -> Mode A SELL Medium", "bear", {}, {}, SELL_MED),
    Row("Mode A: close below EMA-fast in an up-trend -> nothing", "bull", {"c": 99.5}, {}, NONE),
]

G1_RANGING = [
    Row("G1 two votes (ADX, width) -> ranging blocks", "bull", RANGING_BAR, MIN15, NONE),
    Row("G1 ranging filter off", "bull", RANGING_BAR, {**MIN15, "filters.enable_ranging_filter": False},
        ("BUY", "Medium", 15.0)),
    Row("G1 min_signals 3 -> two votes are not ranging", "bull", RANGING_BAR,
        {**MIN15, "thresholds.ranging.min_signals": 3}, ("BUY", "Medium", 15.0)),
    Row("G1 RSI vote 47 < 52 < 53 plus width -> ranging", "bull", {"rsi": 52.0, "bb_width_ratio": 0.7},
        {"thresholds.tp_and_momentum.rsi_long_weak": 50.0, "thresholds.tp_and_momentum.rsi_long_strong": 50.0},
        NONE),
    Row("G1 RSI vote band is open: RSI 53 does not vote", "bull", {"rsi": 53.0, "bb_width_ratio": 0.7},
        {"thresholds.tp_and_momentum.rsi_long_weak": 50.0, "thresholds.tp_and_momentum.rsi_long_strong": 50.0},
        BUY_MED),
    Row("G1 min_signals 0 is literal: always ranging [D20]", "bull", {},
        {"thresholds.ranging.min_signals": 0}, NONE),
]

G2_G3 = [
    Row("G2 anomaly: |101-91|/91 = 0.11 > 0.10", "bull", {"prev_close": 91.0}, {}, NONE),
    Row("G2 anomaly filter off", "bull", {"prev_close": 91.0}, {"filters.enable_anomaly_filter": False}, BUY_MED),
    Row("G2 prev_close 0 -> price change 0.0 (guard)", "bull", {"prev_close": 0.0}, {}, BUY_MED),
    Row("G2 EMA-fast deviation 41/60 = 0.68 > 0.50", "bull", {"ema_fast": 60.0, "ema_slow": 59.0},
        {"filters.enable_extension_filter": False}, NONE),
    Row("G2 EMA-fast deviation 31/70 = 0.44 passes", "bull", {"ema_fast": 70.0, "ema_slow": 69.0},
        {"filters.enable_extension_filter": False}, BUY_MED),
    Row("G3 extension: 4.5/100 = 0.045 > 0.04", "bull", {"c": 104.5}, {}, NONE),
    Row("G3 max_dist_ema_fast 0.05 admits it", "bull", {"c": 104.5},
        {"thresholds.entry.max_dist_ema_fast": 0.05}, BUY_MED),
    Row("G3 extension filter off", "bull", {"c": 104.5}, {"filters.enable_extension_filter": False}, BUY_MED),
]

VOL = {"filters.require_volume_confirmation": True}
G4_VOLUME = [
    Row("G4 include_prev: neither bar above its SMA -> blocked", "bull", {}, VOL, NONE),
    Row("G4 include_prev: this bar above SMA, trend -> ok", "bull", {"v": 101.0}, VOL, BUY_MED),
    Row("G4 include_prev: previous bar above SMA, previous trend -> ok", "bull",
        {"vol_trend": False, "prev_volume": 96.0, "prev_vol_trend": True}, VOL, BUY_MED),
    Row("G4 include_prev: volume ok but no trend on either bar -> blocked", "bull",
        {"v": 101.0, "vol_trend": False, "prev_vol_trend": False}, VOL, NONE),
    Row("G4 include_prev off: this bar's trend is required", "bull",
        {"v": 101.0, "vol_trend": False, "prev_vol_trend": True},
        {**VOL, "filters.vol_confirm_include_prev": False}, NONE),
    Row("G4 include_prev off: volume and trend of this bar -> ok", "bull", {"v": 101.0},
        {**VOL, "filters.vol_confirm_include_prev": False}, BUY_MED),
]

G5_G6 = [
    Row("G5 ADX falling -> blocked", "bull", {"adx_slope": -0.1}, {}, NONE),
    Row("G5 ADX slope 0 is not rising", "bull", {"adx_slope": 0.0}, {}, NONE),
    Row("G5 ADX 41 > saturation 40 passes while falling", "bull", {"adx_slope": -0.1, "adx": 41.0}, {}, BUY_MED),
    Row("G5 require_adx_rising off", "bull", {"adx_slope": -0.1}, {"filters.require_adx_rising": False}, BUY_MED),
    Row("G6 ADX must exceed min_adx strictly (22 > 22 false)", "bull", {"adx": 22.0}, {}, NONE),
    Row("G6 TMC: slope 0.6 relaxes min_adx 28 to 25", "bull", {"adx": 26.0, "adx_slope": 0.6},
        {"thresholds.entry.min_adx": 28.0}, ("BUY", "Medium", 25.0)),
    Row("G6 TMC needs slope > 0.5", "bull", {"adx": 26.0, "adx_slope": 0.5},
        {"thresholds.entry.min_adx": 28.0}, NONE),
    Row("G6 AVE: ATR/avg 1.6 > 1.5 -> min 27.5 blocks ADX 27", "bull", {"atr": 1.6, "adx": 27.0}, {}, NONE),
    Row("G6 AVE: ADX 28 > 27.5 passes, threshold 27.5", "bull", {"atr": 1.6, "adx": 28.0}, {},
        ("BUY", "Medium", 27.5)),
    Row("G6 AVE ratio 1.5 is not > 1.5", "bull", {"atr": 1.5, "adx": 27.0}, {}, BUY_MED),
    Row("G6 AVE off", "bull", {"atr": 1.6, "adx": 27.0}, {"thresholds.entry.ave_enabled": False}, BUY_MED),
    Row("G6 avg_atr 0 skips AVE (guard)", "bull", {"atr": 1.6, "avg_atr": 0.0, "adx": 27.0}, {}, BUY_MED),
    Row("G6 AVE mult 0 is literal: min ADX 0 [D20]", "bull", {"atr": 1.6, "adx": 10.0},
        {"thresholds.entry.ave_adx_mult": 0.0}, ("BUY", "Medium", 0.0)),
    Row("G6 AVE mult 1.25 at ADX 10 blocks", "bull", {"atr": 1.6, "adx": 10.0}, {}, NONE),
    Row("G6 TMC then AVE: min(28,25)*1.25 = 31.25 blocks ADX 31", "bull",
        {"atr": 1.6, "adx": 31.0, "adx_slope": 0.6}, {"thresholds.entry.min_adx": 28.0}, NONE),
    Row("G6 TMC then AVE: ADX 32 passes, threshold 31.25", "bull",
        {"atr": 1.6, "adx": 32.0, "adx_slope": 0.6}, {"thresholds.entry.min_adx": 28.0},
        ("BUY", "Medium", 31.25)),
]

MACRO = {"filters.require_macro_alignment": True}
G7_G8 = [
    Row("G7 EMA-fast == EMA-slow: neither bull nor bear", "bull", {"ema_fast": 99.0}, {}, NONE),
    Row("G7 macro: EMA-slow 99 > EMA-macro 95 keeps the long", "bull", {}, MACRO, BUY_MED),
    Row("G7 macro: EMA-slow 99 <= EMA-macro 99.5 blocks the long", "bull", {"ema_macro": 99.5}, MACRO, NONE),
    Row("G7 macro: EMA-slow 101 >= EMA-macro 100.5 blocks the short", "bear", {"ema_macro": 100.5}, MACRO, NONE),
    Row("G8 BTC bearish blocks a long", "bull", {}, {}, NONE, btc_bullish=False),
    Row("G8 BTC bullish blocks a short", "bear", {}, {}, NONE, btc_bullish=True),
    Row("G8 BTC flag unknown -> exempt", "bull", {}, {}, BUY_MED, btc_bullish=None),
    Row("G8 symbol BTC is self-exempt", "bull", {}, {}, BUY_MED, btc_bullish=False, symbol="BTC"),
    Row("G8 ASCII upper-case: 'btc' is BTC", "bull", {}, {}, BUY_MED, btc_bullish=False, symbol="btc"),
    Row("G8 BTCUSDT is not exempt [Q17]", "bull", {}, {}, NONE, btc_bullish=False, symbol="BTCUSDT"),
    Row("G8 ADX 41 > btc_adx_override 40 -> exempt", "bull", {"adx": 41.0}, {}, BUY_MED, btc_bullish=False),
    Row("G8 ADX 40 is not > 40", "bull", {"adx": 40.0}, {}, NONE, btc_bullish=False),
    Row("G8 alignment off", "bull", {}, {"filters.require_btc_alignment": False}, BUY_MED, btc_bullish=False),
]

SLOW = {"thresholds.entry.enable_slow_drift_entries": True}
G9_G10 = [
    Row("G9 slope 0.001 >= 0.0006 un-ranges -> Mode A fires", "bull", RANGING_BAR, {**MIN15, **SLOW},
        ("BUY", "Medium", 15.0)),
    Row("G9 slope 0.0005 stays ranging", "bull", {**RANGING_BAR, "ema_slow_slope_pct": 0.0005},
        {**MIN15, **SLOW}, NONE),
    Row("G9 |slope| of a down-trend un-ranges too", "bear", RANGING_BAR, {**MIN15, **SLOW},
        ("SELL", "Medium", 15.0)),
    Row("G9 needs slow drift enabled", "bull", RANGING_BAR, MIN15, NONE),
    Row("G10 RSI 54 at the long limit 56+0.5*(52-56) = 54 does not pass", "bull",
        {"adx": 31.0, "rsi": 54.0}, {}, NONE),
    Row("G10 RSI 54.01 above the long limit passes", "bull", {"adx": 31.0, "rsi": 54.01}, {}, BUY_MED),
    Row("G10 ADX 45 >= adx_strong_gt: strong limit 52", "bull", {"adx": 45.0, "rsi": 52.5}, {}, BUY_MED),
    Row("G10 ADX 22.5 near min_adx: limit 56-(0.5/18)*4 = 55.89 blocks RSI 55", "bull",
        {"adx": 22.5, "rsi": 55.0}, {}, NONE),
    Row("G10 adx_strong_gt <= min_adx -> hi = min_adx + 1", "bull", {"rsi": 53.0},
        {"thresholds.tp_and_momentum.adx_strong_gt": 20.0}, BUY_MED),
    Row("G10 default hi 40: RSI 53 below limit 54.2", "bull", {"rsi": 53.0}, {}, NONE),
    Row("G10 RSI 46 at the short limit 44+0.5*(48-44) = 46 does not pass", "bear",
        {"adx": 31.0, "rsi": 46.0}, {}, NONE),
    Row("G10 RSI 45.9 below the short limit passes", "bear", {"adx": 31.0, "rsi": 45.9}, {}, SELL_MED),
]

MODE_A = [
    Row("A MACD accel: hist 0.2 < prev 0.3 blocks", "bull", {"macd_hist": 0.2}, {}, NONE),
    Row("A MACD accel: equal hist blocks", "bull", {"macd_hist": 0.3}, {}, NONE),
    Row("A MACD sign: 0.2 > 0 passes", "bull", {"macd_hist": 0.2},
        {"thresholds.entry.macd_hist_entry_mode": "sign"}, BUY_MED),
    Row("A MACD sign: -0.1 blocks", "bull", {"macd_hist": -0.1},
        {"thresholds.entry.macd_hist_entry_mode": "sign"}, NONE),
    Row("A MACD none: any histogram", "bull", {"macd_hist": -0.1},
        {"thresholds.entry.macd_hist_entry_mode": "none"}, BUY_MED),
    Row("A MACD accel short: -0.2 > prev -0.3 blocks", "bear", {"macd_hist": -0.2}, {}, NONE),
    Row("A StochRSI D12: K 0.90, D 0.88 both >= 0.85 block", "bull", {"stoch_k": 0.90, "stoch_d": 0.88}, {}, NONE),
    Row("A StochRSI D12: K 0.90, D 0.80 -> long allowed", "bull", {"stoch_k": 0.90, "stoch_d": 0.80}, {}, BUY_MED),
    Row("A StochRSI: K = D = 0.85 at the level blocks (>=)", "bull", {"stoch_k": 0.85, "stoch_d": 0.85}, {}, NONE),
    Row("A StochRSI filter off", "bull", {"stoch_k": 0.95, "stoch_d": 0.95},
        {"filters.use_stoch_rsi_filter": False}, BUY_MED),
    Row("A StochRSI short: K 0.10, D 0.12 both <= 0.15 block", "bear", {"stoch_k": 0.10, "stoch_d": 0.12}, {}, NONE),
    Row("A StochRSI short: K 0.10, D 0.20 -> short allowed", "bear", {"stoch_k": 0.10, "stoch_d": 0.20}, {},
        SELL_MED),
    Row("A confidence High: v 251 > 100*2.5", "bull", {"v": 251.0}, {}, ("BUY", "High", 22.0)),
    Row("A confidence Medium: v 250 is not > 250", "bull", {"v": 250.0}, {}, BUY_MED),
    Row("A high_conf_volume_mult 0.5: v 100 > 50 -> High", "bear", {},
        {"thresholds.entry.high_conf_volume_mult": 0.5}, ("SELL", "High", 22.0)),
]

PULL = {"thresholds.entry.enable_pullback_entries": True}
B_BULL = {"adx_slope": -0.1, "prev_close": 99.8}  # Mode A fails (not rising); 99.8 <= 99.9, 101 > 100
MODE_B = [
    Row("B pullback cross up -> BUY Low, threshold pullback_min_adx", "bull", B_BULL, PULL, ("BUY", "Low", 22.0)),
    Row("B disabled -> nothing", "bull", B_BULL, {}, NONE),
    Row("B pullback_confidence high", "bull", B_BULL, {**PULL, "thresholds.entry.pullback_confidence": "high"},
        ("BUY", "High", 22.0)),
    Row("B prev_close == prev_EMA-fast counts as below", "bull", {**B_BULL, "prev_close": 99.9}, PULL,
        ("BUY", "Low", 22.0)),
    Row("B no cross: prev_close 100 above prev_EMA-fast 99.9", "bull", {**B_BULL, "prev_close": 100.0}, PULL, NONE),
    Row("B MACD sign required: -0.1 blocks", "bull", {**B_BULL, "macd_hist": -0.1}, PULL, NONE),
    Row("B MACD sign not required", "bull", {**B_BULL, "macd_hist": -0.1},
        {**PULL, "thresholds.entry.pullback_require_macd_sign": False}, ("BUY", "Low", 22.0)),
    Row("B RSI 49.9 < pullback_rsi_long_min 50", "bull", {**B_BULL, "rsi": 49.9}, PULL, NONE),
    Row("B RSI 50 >= 50 passes", "bull", {**B_BULL, "rsi": 50.0}, PULL, ("BUY", "Low", 22.0)),
    Row("B ADX 21.9 < pullback_min_adx 22", "bull", {**B_BULL, "adx": 21.9}, PULL, NONE),
    Row("B pullback_min_adx 20 admits ADX 21.9", "bull", {**B_BULL, "adx": 21.9},
        {**PULL, "thresholds.entry.pullback_min_adx": 20.0}, ("BUY", "Low", 20.0)),
    Row("B ignores the StochRSI filter", "bull", {**B_BULL, "stoch_k": 0.9, "stoch_d": 0.9}, PULL,
        ("BUY", "Low", 22.0)),
    Row("B blocked by extension", "bull", {**B_BULL, "c": 104.5}, PULL, NONE),
    Row("B blocked by BTC alignment", "bull", B_BULL, PULL, NONE, btc_bullish=False),
    Row("B cross down -> SELL Low", "bear", {"adx_slope": -0.1, "prev_close": 100.2}, PULL, ("SELL", "Low", 22.0)),
    Row("A wins over B when both fire", "bull", {"prev_close": 99.8}, PULL, BUY_MED),
]

C_BULL = {"adx_slope": -0.1}  # Mode A fails (not rising); no pullback cross (prev_close 100.5 > 99.9)
MODE_C = [
    Row("C slow drift up -> BUY Low, threshold slow_drift_min_adx", "bull", C_BULL, SLOW, ("BUY", "Low", 10.0)),
    Row("C disabled -> nothing", "bull", C_BULL, {}, NONE),
    Row("C slope 0.0006 >= min passes", "bull", {**C_BULL, "ema_slow_slope_pct": 0.0006}, SLOW, ("BUY", "Low", 10.0)),
    Row("C slope 0.0005 < min", "bull", {**C_BULL, "ema_slow_slope_pct": 0.0005}, SLOW, NONE),
    Row("C RSI 49 < slow_drift_rsi_long_min", "bull", {**C_BULL, "rsi": 49.0}, SLOW, NONE),
    Row("C MACD sign required", "bull", {**C_BULL, "macd_hist": -0.1}, SLOW, NONE),
    Row("C MACD sign not required", "bull", {**C_BULL, "macd_hist": -0.1},
        {**SLOW, "thresholds.entry.slow_drift_require_macd_sign": False}, ("BUY", "Low", 10.0)),
    Row("C ADX 9.9 < slow_drift_min_adx 10", "bull", {**C_BULL, "adx": 9.9}, SLOW, NONE),
    Row("C slow_drift_min_adx 5 admits ADX 9.9", "bull", {**C_BULL, "adx": 9.9},
        {**SLOW, "thresholds.entry.slow_drift_min_adx": 5.0}, ("BUY", "Low", 5.0)),
    Row("C close must be above EMA-slow", "bull", {**C_BULL, "c": 98.9}, SLOW, NONE),
    Row("C slow drift down -> SELL Low", "bear", C_BULL, SLOW, ("SELL", "Low", 10.0)),
    Row("C down-trend needs slope <= -min", "bear", {**C_BULL, "ema_slow_slope_pct": -0.0005}, SLOW, NONE),
    Row("B wins over C", "bull", {**C_BULL, "prev_close": 99.8}, {**SLOW, **PULL}, ("BUY", "Low", 22.0)),
]

ALL_ROWS = BASELINE + G1_RANGING + G2_G3 + G4_VOLUME + G5_G6 + G7_G8 + G9_G10 + MODE_A + MODE_B + MODE_C


@check(ALL_ROWS)
def test_generate(row: Row) -> None:
    assert tuple(run_row(row)) == row.expect


def test_generate_returns_a_named_triple() -> None:
    out = generate(bull_snapshot(), config_with(), context_with(), "ETH")
    signal, confidence, threshold = out
    assert (out.signal, out.confidence, out.entry_adx_threshold) == (signal, confidence, threshold)


def test_g6_effective_min_adx_operation_order() -> None:
    """TMC first (min with 25.0), then AVE (× ave_adx_mult): (min(30, 25)) × 1.3 in binary64."""
    cfg = config_with({"thresholds.entry.min_adx": 30.0, "thresholds.entry.ave_adx_mult": 1.3})
    assert effective_min_adx(bull_snapshot(adx_slope=0.7, atr=2.0), cfg) == 25.0 * 1.3


def test_g10_dre_limits_follow_the_written_formula() -> None:
    """wgt = clamp((adx − lo)/(hi − lo), 0, 1); limits weak + wgt·(strong − weak), in that order."""
    cfg = config_with()
    wgt = (33.3 - 22.0) / (40.0 - 22.0)
    assert dre_rsi_limits(bull_snapshot(adx=33.3), cfg) == (56.0 + (wgt * (52.0 - 56.0)),
                                                             44.0 + (wgt * (48.0 - 44.0)))
    assert dre_rsi_limits(bull_snapshot(adx=5.0), cfg) == (56.0, 44.0)
    assert dre_rsi_limits(bull_snapshot(adx=80.0), cfg) == (52.0, 48.0)


def test_gate_flags_of_the_baseline() -> None:
    g = evaluate_gates(bull_snapshot(), config_with(), "ETH", True)
    assert g.all_pass and g.bull and not g.bear and g.btc_ok_long and not g.btc_ok_short
    assert g.effective_min_adx == 22.0


def test_sub_bar_view_pullback_cross_at_the_sub_bar_close() -> None:
    """§5.2 / D5: the main bar closed below EMA-fast (99.8 < 100), nothing fires on it; an entry
    sub-bar closing at 100.5 crosses EMA-fast of the last closed bar: prev_close := 99.8,
    prev_ema_fast := 100 → Mode B BUY (Mode A blocked: ADX falling)."""
    cfg = config_with(PULL)
    main = bull_snapshot(c=99.8, adx_slope=-0.1, prev_close=99.7)
    assert tuple(generate(main, cfg, context_with(), "ETH")) == NONE
    view = sub_bar_view(main, c=100.5)
    assert (view.prev_close, view.prev_ema_fast) == (99.8, 100.0)
    assert tuple(generate(view, cfg, context_with(), "ETH")) == ("BUY", "Low", 22.0)


def test_sub_bar_view_anomaly_measures_the_move_since_the_last_main_close() -> None:
    """§5.2: |c' − c_{k−1}| / c_{k−1} — a sub-bar at 111.2 is 11.1 % above the main close 100.1."""
    cfg = config_with({"filters.enable_extension_filter": False})
    main = bull_snapshot(c=100.1)
    assert tuple(generate(main, cfg, context_with(), "ETH")) == BUY_MED
    assert tuple(generate(sub_bar_view(main, c=111.2), cfg, context_with(), "ETH")) == NONE
    assert tuple(generate(sub_bar_view(main, c=105.0), cfg, context_with(), "ETH")) == BUY_MED


DECISION_MODULES = ("context", "entries", "entry_modes", "transforms", "entry_filters", "ranking")


@pytest.mark.parametrize("module", DECISION_MODULES)
def test_decision_code_imports_and_sums(module: str) -> None:
    """No numpy/numba/gpu_sim/harness (except harness.errors) and no library sums (D45, N3)."""
    path = Path(__file__).resolve().parents[2] / "engine_ref" / f"{module}.py"
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            for name in names:
                root = name.split(".")[0]
                assert root not in {"numpy", "numba", "gpu_sim", "pandas", "statistics"}, name
                assert root != "harness" or name == "harness.errors", name
        if isinstance(node, ast.Call):
            func = node.func
            called = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
            assert called not in {"sum", "fsum"}, f"{module}: library sum at line {node.lineno}"
    assert len(path.read_text(encoding="utf-8").splitlines()) <= 300
