"""engine_ref indicators: hand-computed tiny vectors for every recurrence of strategy-entries.md §2,
the §2.14 test vectors (bit-exact), the snapshot/view contract (§2.10-§2.12, D5) and the D45 rules.

Tiny vectors use windows whose divisions are exact where possible (w = 2, 4; EMA w = 3 → alpha 0.5)
so that the expected numbers can be checked by hand; where a value is not a short decimal the
expected value is written as the spec's expression in the spec's operation order.
"""
from __future__ import annotations

import copy
import csv
import dataclasses
import json
import math
import re
from pathlib import Path

import pytest

from engine_ref.indicators import (IndicatorParams, IndicatorSnapshot, SymbolIndicators, WINDOW_KEYS,
                                   view)
from engine_ref.indicators_bands import BollingerWidth, VolumeAverages
from engine_ref.indicators_momentum import EmaSlowSlope, MacdHistogram, StochRsi
from engine_ref.indicators_primitives import Ema, RollingWindow
from engine_ref.indicators_wilder import AdxWilder, AtrWilder, RsiWilder
from harness.errors import ConfigError

REPO_ROOT = Path(__file__).resolve().parents[2]
SCHEMA_CSV = REPO_ROOT / "config" / "schema.csv"


def make_indicator_config(**overrides: object) -> dict:
    """A nested effective-config fragment with every key the indicators read, defaults from schema.csv.

    ``overrides`` use the last path component (``ema_fast_window=3``, ``use_stoch_rsi_filter=False``).
    """
    rows = {row["path"]: row for row in csv.DictReader(SCHEMA_CSV.open(encoding="utf-8"))}
    cfg: dict = {}
    for path in [p for _, p in WINDOW_KEYS] + ["filters.use_stoch_rsi_filter"]:
        row = rows[path]
        value: object = int(row["default"]) if row["kind"] == "int" else row["default"] == "true"
        *parents, leaf = path.split(".")
        node = cfg
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = overrides.pop(leaf, value)
    assert not overrides, f"unknown override(s) {sorted(overrides)}"
    return cfg


def feed(cfg: dict, bars: list[tuple[float, float, float, float, float]]) -> list[IndicatorSnapshot]:
    """Feed ``(o, h, l, c, v)`` bars one hour apart; return the snapshots."""
    ind = SymbolIndicators.from_config(cfg)
    return [ind.update(t=k * 3_600_000, o=o, h=h, l=l, c=c, v=v) for k, (o, h, l, c, v) in enumerate(bars)]


def closes_only(closes: list[float], volume: float = 1.0) -> list[tuple[float, float, float, float, float]]:
    return [(c, c, c, c, volume) for c in closes]


# --- §2.0 rolling window ------------------------------------------------------------------------------

def test_rolling_window_partial_and_full_statistics() -> None:
    rw = RollingWindow(3)
    assert rw.mean() == 0.0 and rw.std_pop() == 0.0 and not rw.full()
    rw.push(1.0)
    assert (rw.mean(), rw.std_pop(), rw.full()) == (1.0, 0.0, False)
    rw.push(3.0)
    assert (rw.mean(), rw.std_pop(), rw.full()) == (2.0, 1.0, False)  # partial window
    rw.push(2.0)
    assert rw.full() and rw.mean() == 2.0
    assert rw.std_pop() == math.sqrt(2.0 / 3.0)  # ((-1)^2 + 1^2 + 0^2) / 3, population
    rw.push(6.0)  # drops 1.0
    assert rw.values_oldest_first() == (3.0, 2.0, 6.0)
    assert (rw.min(), rw.max(), rw.oldest(), rw.newest()) == (2.0, 6.0, 3.0, 6.0)
    assert rw.mean() == ((0.0 + 3.0) + 2.0 + 6.0) / 3.0


def test_rolling_window_mean_is_sequential_oldest_to_newest() -> None:
    tiny = 3 * 2.0**-55
    rw = RollingWindow(8)
    for x in [1.0] + [tiny] * 7:
        rw.push(x)
    assert rw.mean() == 1.0 / 8.0  # every tiny addend is absorbed by the running total


# --- §2.1 EMA -----------------------------------------------------------------------------------------

def test_ema_seeded_with_first_close_alpha_half() -> None:
    ema = Ema(3)  # alpha = 2 / (3 + 1) = 0.5
    assert [ema.update(c) for c in (10.0, 12.0, 8.0, 8.0)] == [10.0, 11.0, 9.5, 8.75]


def test_ema_alpha_quarter_and_operation_order() -> None:
    ema = Ema(7)  # alpha = 0.25
    assert [ema.update(c) for c in (8.0, 16.0, 12.0)] == [8.0, 10.0, 10.5]
    ema20 = Ema(20)
    alpha = 2.0 / (20.0 + 1.0)
    e0 = ema20.update(100.0)
    assert ema20.update(101.3) == (alpha * 101.3) + ((1.0 - alpha) * e0)


# --- §2.2 ADX / DI ------------------------------------------------------------------------------------

# (h, l, c); by hand: pdm/mdm/TR per bar are in the comments.
ADX_BARS = [
    (10.0, 8.0, 9.0),   # k0 INIT
    (13.0, 9.0, 10.0),  # k1 up 3, dn -1 -> pdm 3, mdm 0; TR max(4, 4, 0) = 4
    (12.0, 8.0, 9.0),   # k2 up -1, dn 1 -> pdm 0, mdm 1; TR max(4, 2, 2) = 4
    (11.0, 7.0, 8.0),   # k3 up -1, dn 1 -> pdm 0, mdm 1; TR 4
    (12.0, 8.0, 11.0),  # k4 up 1, dn -1 -> pdm 1, mdm 0; TR max(4, 4, 0) = 4
]


def test_adx_window_2_hand_vector() -> None:
    adx = AdxWilder(2)
    out = [tuple(adx.update(h, l, c)) for h, l, c in ADX_BARS]
    assert out[0] == (0.0, 0.0, 0.0)  # INIT
    assert out[1] == (0.0, 0.0, 0.0)  # ACCUM, cnt 1 < 2
    # k2: raw sums SP 3, SM 1, ST 8 -> DI+ 37.5, DI- 12.5, DX (25 / 50) * 100 = 50; ADX = DX
    assert out[2] == (50.0, 37.5, 12.5)
    # k3: SP (3 - 1.5) + 0 = 1.5, SM (1 - 0.5) + 1 = 1.5, ST (8 - 4) + 4 = 8 -> DX 0;
    #     dxcnt 2 >= 2 -> ADX = (50 + 0) / 2 = 25, WARM
    assert out[3] == (25.0, 18.75, 18.75)
    # k4: SP 0.75 + 1 = 1.75, SM 0.75, ST 8 -> DI+ 21.875, DI- 9.375, DX (12.5 / 31.25) * 100 = 40
    #     ADX = ((25 * 1) + 40) / 2 = 32.5
    assert out[4] == (32.5, 21.875, 9.375)


def test_adx_window_3_running_mean_phase() -> None:
    bars = ADX_BARS + [(12.5, 10.0, 12.0), (12.0, 9.0, 10.0)]
    adx = AdxWilder(3)
    out = [adx.update(h, l, c) for h, l, c in bars]
    w = 3.0

    def di_dx(sp: float, sm: float, st: float) -> tuple[float, float, float]:
        dip, din = (sp / st) * 100.0, (sm / st) * 100.0
        return dip, din, (abs(dip - din) / (dip + din)) * 100.0

    def wilder(x: float, s: float) -> float:
        return (s - (s / w)) + x

    assert [tuple(o) for o in out[:3]] == [(0.0, 0.0, 0.0)] * 3  # INIT, ACCUM, ACCUM
    sp, sm, st = 3.0, 2.0, 12.0  # k3: raw sums of bars 1..3
    dip3, din3, dx3 = di_dx(sp, sm, st)
    assert tuple(out[3]) == (dx3, dip3, din3)
    sp, sm, st = wilder(1.0, sp), wilder(0.0, sm), wilder(4.0, st)  # k4: pdm 1, TR 4
    dip4, din4, dx4 = di_dx(sp, sm, st)
    assert tuple(out[4]) == ((dx3 + dx4) / 2.0, dip4, din4)  # running mean dxsum / dxcnt
    # k5 (12.5, 10, 12): up 0.5, dn -2 -> pdm 0.5; TR max(2.5, 1.5, 1) = 2.5; dxcnt 3 -> adx = dxsum / w
    sp, sm, st = wilder(0.5, sp), wilder(0.0, sm), wilder(2.5, st)
    dip5, din5, dx5 = di_dx(sp, sm, st)
    adx5 = ((dx3 + dx4) + dx5) / w
    assert tuple(out[5]) == (adx5, dip5, din5)
    # k6 (12, 9, 10): up -0.5, dn 1 -> mdm 1; TR max(3, 0, 3) = 3; WARM
    sp, sm, st = wilder(0.0, sp), wilder(1.0, sm), wilder(3.0, st)
    dip6, din6, dx6 = di_dx(sp, sm, st)
    assert tuple(out[6]) == (((adx5 * (w - 1.0)) + dx6) / w, dip6, din6)


def test_adx_equal_up_and_down_moves_count_for_neither() -> None:
    adx = AdxWilder(1)
    adx.update(10.0, 8.0, 9.0)
    # up = 11 - 10 = 1, dn = 8 - 7 = 1: neither strictly larger -> pdm = mdm = 0 -> DI 0, DX 0
    assert tuple(adx.update(11.0, 7.0, 9.0)) == (0.0, 0.0, 0.0)


# --- §2.3 ATR -----------------------------------------------------------------------------------------

ATR_BARS = [  # (h, l, c)
    (10.0, 8.0, 9.0),    # TR0 = h - l = 2
    (12.0, 9.0, 11.0),   # TR max(3, 3, 0) = 3
    (11.5, 10.5, 11.0),  # TR max(1, 0.5, 0.5) = 1
    (15.0, 12.0, 14.0),  # gap up: TR max(3, 4, 1) = 4
    (13.0, 12.0, 12.5),  # gap down: TR max(1, 1, 2) = 2
]


def test_atr_window_2_hand_vector() -> None:
    atr = AtrWilder(2)
    # k0 running mean 2/1; k1 seed (2 + 3) / 2; then ((ATR * 1) + TR) / 2
    assert [atr.update(h, l, c) for h, l, c in ATR_BARS] == [2.0, 2.5, 1.75, 2.875, 2.4375]


def test_atr_window_4_running_mean_then_wilder() -> None:
    atr = AtrWilder(4)
    # running means 2/1, 5/2, 6/3, seed 10/4 at k = w - 1 = 3, then ((2.5 * 3) + 2) / 4
    assert [atr.update(h, l, c) for h, l, c in ATR_BARS] == [2.0, 2.5, 2.0, 2.5, 2.375]


# --- §2.4 RSI -----------------------------------------------------------------------------------------

def test_rsi_window_2_hand_vector() -> None:
    rsi = RsiWilder(2)
    out = [rsi.update(c) for c in (10.0, 11.0, 10.0, 12.0, 11.0, 11.0)]
    # k0, k1 placeholders; k2 seed AG = (1 + 0) / 2, AL = (0 + 1) / 2 -> 50;
    # k3 AG (0.5 + 2) / 2 = 1.25, AL 0.25 -> 100 - 100 / 6; k4 AG 0.625, AL 0.625 -> 50; k5 50
    assert out == [50.0, 50.0, 50.0, 100.0 - (100.0 / (1.0 + 5.0)), 50.0, 50.0]


def test_rsi_zero_average_loss_is_100() -> None:
    rsi = RsiWilder(1)
    assert [rsi.update(c) for c in (1.0, 2.0, 3.0, 3.0)] == [50.0, 100.0, 100.0, 100.0]


def test_rsi_placeholder_until_k_equals_window() -> None:
    rsi = RsiWilder(4)
    out = [rsi.update(c) for c in (1.0, 2.0, 1.0, 2.0, 4.0)]
    assert out[:4] == [50.0] * 4
    # k4: gains 1, 0, 1, 2 -> AG 1.0; losses 0, 1, 0, 0 -> AL 0.25 -> 100 - 100 / 5
    assert out[4] == 80.0


# --- §2.5 Stochastic RSI ------------------------------------------------------------------------------

def test_stoch_rsi_hand_vector() -> None:
    stoch = StochRsi(3, 2, 2)
    out = [tuple(stoch.update(r)) for r in (50.0, 50.0, 60.0, 40.0, 45.0, 55.0)]
    assert out == [
        (0.5, 0.5), (0.5, 0.5),   # R not full: K and D untouched
        (1.0, 1.0),               # raw (60 - 50) / 10; K [1]; D [1]
        (0.5, 0.75),              # raw 0;   K [1, 0]     -> 0.5;   D [1, 0.5]       -> 0.75
        (0.125, 0.3125),          # raw 0.25; K [0, .25]  -> 0.125; D [0.5, 0.125]   -> 0.3125
        (0.625, 0.375),           # raw 1.0; K [.25, 1]   -> 0.625; D [0.125, 0.625] -> 0.375
    ]


def test_stoch_rsi_flat_range_gives_half() -> None:
    stoch = StochRsi(2, 1, 1)
    assert [tuple(stoch.update(r)) for r in (70.0, 70.0, 70.0)] == [(0.5, 0.5)] * 3


def test_stoch_rsi_fields_are_zero_when_filter_off() -> None:
    snaps = feed(make_indicator_config(use_stoch_rsi_filter=False), closes_only([10.0 + k for k in range(40)]))
    assert all(s.stoch_k == 0.0 and s.stoch_d == 0.0 for s in snaps)
    on = feed(make_indicator_config(), closes_only([10.0 + k for k in range(40)]))
    assert on[0].stoch_k == 0.5 and on[-1].stoch_k == 0.5  # flat RSI (100) range -> 0.5


# --- §2.6 Bollinger -----------------------------------------------------------------------------------

def test_bollinger_window_2_hand_vector() -> None:
    bb = BollingerWidth(2, 2)
    out = [tuple(bb.update(c)) for c in (1.0, 3.0, 3.0, 2.0)]
    # (upper, lower, width, width_avg, ratio)
    assert out[0] == (1.0, 1.0, 0.0, 0.0, 1.0)          # warm-up: upper = lower = mean; avg 0 -> ratio 1
    assert out[1] == (4.0, 0.0, 4.0 / 3.0, (0.0 + (4.0 / 3.0)) / 2.0, 2.0)  # mid 2, sd 1; width / close
    assert out[2] == (3.0, 3.0, 0.0, (4.0 / 3.0) / 2.0, 0.0)
    assert out[3] == (3.5, 1.5, 1.0, 0.5, 2.0)          # mid 2.5, sd 0.5, width 2 / 2


# --- §2.7 MACD histogram ------------------------------------------------------------------------------

def test_macd_histogram_hand_vector() -> None:
    macd = MacdHistogram()
    out = [macd.update(c) for c in (10.0, 12.0, 8.0)]
    a12, a26, a9 = 2.0 / 13.0, 2.0 / 27.0, 2.0 / 10.0
    f1 = (a12 * 12.0) + ((1.0 - a12) * 10.0)
    s1 = (a26 * 12.0) + ((1.0 - a26) * 10.0)
    g1 = (a9 * (f1 - s1)) + ((1.0 - a9) * 0.0)  # signal seeded with line_0 = 0
    f2 = (a12 * 8.0) + ((1.0 - a12) * f1)
    s2 = (a26 * 8.0) + ((1.0 - a26) * s1)
    g2 = (a9 * (f2 - s2)) + ((1.0 - a9) * g1)
    assert out == [0.0, (f1 - s1) - g1, (f2 - s2) - g2]


def test_macd_histogram_is_exactly_zero_on_constant_closes() -> None:
    macd = MacdHistogram()
    assert all(macd.update(37.25) == 0.0 for _ in range(60))


# --- §2.8 volume, §2.9 average ATR, §2.11 EMA-slow slope ----------------------------------------------

def test_volume_sma_and_trend_hand_vector() -> None:
    vol = VolumeAverages(3, 2)
    out = [tuple(vol.update(v)) for v in (1.0, 2.0, 6.0, 3.0)]
    # sma 1, 1.5, 3, 11/3; short 1, 1.5, 4, 4.5; trend strict short > sma
    assert out == [(1.0, False), (1.5, False), (3.0, True), (((0.0 + 2.0) + 6.0 + 3.0) / 3.0, True)]


def test_avg_atr_includes_atr_warmup_values() -> None:
    cfg = make_indicator_config(atr_window=2, ave_avg_atr_window=3)
    snaps = feed(cfg, [(c, h, l, c, 1.0) for h, l, c in ATR_BARS])
    assert [s.atr for s in snaps] == [2.0, 2.5, 1.75, 2.875, 2.4375]
    assert [s.avg_atr for s in snaps] == [
        2.0, 4.5 / 2.0, ((0.0 + 2.0) + 2.5 + 1.75) / 3.0, ((0.0 + 2.5) + 1.75 + 2.875) / 3.0,
        ((0.0 + 1.75) + 2.875 + 2.4375) / 3.0,
    ]
    assert [s.atr_slope for s in snaps] == [2.0, 0.5, -0.75, 1.125, -0.4375]


def test_ema_slow_slope_hand_vector() -> None:
    slope = EmaSlowSlope(3)
    # EMA-slow (w = 3) of 10, 12, 8, 8 is 10, 11, 9.5, 8.75
    out = [slope.update(e, c) for e, c in ((10.0, 10.0), (11.0, 12.0), (9.5, 8.0), (8.75, 8.0))]
    assert out == [0.0, 0.0, (9.5 - 10.0) / 8.0, (8.75 - 11.0) / 8.0]
    one = EmaSlowSlope(1)
    assert [one.update(e, 5.0) for e in (1.0, 2.0, 3.0)] == [0.0, 0.0, 0.0]  # Wd = 1 gives 0


def test_ema_slow_slope_in_snapshot_uses_main_close() -> None:
    cfg = make_indicator_config(ema_slow_window=3, slow_drift_slope_window=3)
    snaps = feed(cfg, closes_only([10.0, 12.0, 8.0, 8.0]))
    assert [s.ema_slow for s in snaps] == [10.0, 11.0, 9.5, 8.75]
    assert [s.ema_slow_slope_pct for s in snaps] == [0.0, 0.0, -0.0625, -0.28125]


# --- §2.10 lagged fields, §2.12 snapshot --------------------------------------------------------------

def test_lagged_fields_and_bar_index() -> None:
    cfg = make_indicator_config(ema_fast_window=3, ema_slow_window=7, vol_sma_window=3, vol_trend_window=2)
    bars = [(9.0, 10.5, 9.0, 10.0, 1.0), (10.0, 12.0, 10.0, 12.0, 2.0), (12.0, 12.0, 8.0, 8.0, 6.0),
            (8.0, 9.0, 7.5, 8.0, 3.0), (8.0, 8.5, 7.0, 7.5, 1.0)]
    s = feed(cfg, bars)
    first = s[0]
    assert (first.prev_close, first.prev_ema_fast, first.prev_ema_slow) == (0.0, 0.0, 0.0)
    assert (first.prev_macd_hist, first.prev2_macd_hist, first.prev3_macd_hist) == (0.0, 0.0, 0.0)
    assert (first.prev_volume, first.prev_vol_sma, first.prev_vol_trend) == (0.0, 0.0, False)
    assert first.adx_slope == first.adx - 0.0 and first.atr_slope == first.atr - 0.0
    for k in range(1, len(s)):
        assert s[k].bar_index == k
        assert s[k].prev_close == s[k - 1].c
        assert (s[k].prev_ema_fast, s[k].prev_ema_slow) == (s[k - 1].ema_fast, s[k - 1].ema_slow)
        assert s[k].prev_macd_hist == s[k - 1].macd_hist
        assert s[k].prev2_macd_hist == (s[k - 2].macd_hist if k >= 2 else 0.0)
        assert s[k].prev3_macd_hist == (s[k - 3].macd_hist if k >= 3 else 0.0)
        assert (s[k].prev_volume, s[k].prev_vol_sma, s[k].prev_vol_trend) == (
            s[k - 1].v, s[k - 1].vol_sma, s[k - 1].vol_trend)
        assert s[k].adx_slope == s[k].adx - s[k - 1].adx
        assert s[k].atr_slope == s[k].atr - s[k - 1].atr
    assert [x.ema_fast for x in s] == [10.0, 11.0, 9.5, 8.75, 8.125]
    assert [x.vol_trend for x in s] == [False, False, True, True, False]  # short 4.5 > 11/3; 2 < 10/3


SNAPSHOT_FIELDS_2_12 = (
    "t o h l c v ema_fast ema_slow ema_macro adx adx_pos adx_neg adx_slope bb_upper bb_lower bb_width "
    "bb_width_avg bb_width_ratio atr atr_slope avg_atr rsi stoch_k stoch_d macd_hist prev_macd_hist "
    "prev2_macd_hist prev3_macd_hist vol_sma vol_trend prev_close prev_ema_fast prev_ema_slow prev_volume "
    "prev_vol_sma prev_vol_trend ema_slow_slope_pct bar_index"
).split()
INTERFACE_FIELDS_EXITS_1_4 = (
    "close high low open t ema_fast ema_slow ema_macro adx adx_slope atr atr_slope bb_width_ratio rsi "
    "stoch_k stoch_d macd_hist prev_macd_hist prev2_macd_hist prev3_macd_hist prev_close prev_ema_fast "
    "prev_ema_slow ema_slow_slope_pct bar_index"
).split()


def test_snapshot_has_exactly_the_fields_of_2_12_and_the_exits_interface() -> None:
    assert [f.name for f in dataclasses.fields(IndicatorSnapshot)] == SNAPSHOT_FIELDS_2_12
    snap = feed(make_indicator_config(), closes_only([5.0, 6.0]))[-1]
    for name in INTERFACE_FIELDS_EXITS_1_4:
        assert hasattr(snap, name), name
    assert (snap.open, snap.high, snap.low, snap.close) == (snap.o, snap.h, snap.l, snap.c)
    with pytest.raises(dataclasses.FrozenInstanceError):
        snap.c = 1.0  # type: ignore[misc]


def test_update_converts_inputs_to_binary64_and_counts_bars() -> None:
    ind = SymbolIndicators.from_config(make_indicator_config())
    assert ind.bar_count == 0 and ind.snapshot is None
    snap = ind.update(t=7, o=1, h=2, l=1, c=2, v=3)
    assert all(type(getattr(snap, f)) is float for f in ("o", "h", "l", "c", "v", "ema_fast"))
    assert ind.bar_count == 1 and ind.snapshot is snap and snap.bar_index == 0 and snap.t == 7
    snap2 = ind.update_bar({"t": 3_600_007, "o": 2.0, "h": 3.0, "l": 2.0, "c": 3.0, "v": 1.0, "n": 4})
    assert ind.bar_count == 2 and snap2.bar_index == 1 and snap2.prev_close == 2.0


# --- D5 sub-bar view ----------------------------------------------------------------------------------

class _SubBar:
    def __init__(self, t: int, o: float, h: float, l: float, c: float) -> None:  # noqa: E741
        self.t, self.o, self.h, self.l, self.c = t, o, h, l, c


@pytest.mark.parametrize("sub_bar", [
    {"t": 3_660_000, "o": 12.0, "h": 12.5, "l": 11.5, "c": 11.75, "v": 99.0, "n": 3},
    _SubBar(3_660_000, 12.0, 12.5, 11.5, 11.75),
], ids=["mapping", "object"])
def test_view_D5_substitutes_prices_and_previous_fields_only(sub_bar: object) -> None:
    snaps = feed(make_indicator_config(), [(10.0, 11.0, 9.5, 10.5, 5.0), (10.5, 12.0, 10.0, 11.5, 7.0)])
    base = snaps[-1]
    before = copy.copy(base)
    v = view(base, sub_bar)
    assert (v.t, v.o, v.h, v.l, v.c) == (3_660_000, 12.0, 12.5, 11.5, 11.75)
    assert (v.prev_close, v.prev_ema_fast, v.prev_ema_slow) == (base.c, base.ema_fast, base.ema_slow)
    changed = {"t", "o", "h", "l", "c", "prev_close", "prev_ema_fast", "prev_ema_slow"}
    for name in SNAPSHOT_FIELDS_2_12:
        if name not in changed:
            assert getattr(v, name) == getattr(base, name), name  # v, indicators, slope, bar_index kept
    assert base == before  # the snapshot itself is untouched


# --- IndicatorParams boundary checks ------------------------------------------------------------------

def test_params_read_every_window_from_its_config_path() -> None:
    cfg = make_indicator_config(ave_avg_atr_window=7, slow_drift_slope_window=9, rsi_window=5)
    p = IndicatorParams.from_config(cfg)
    assert (p.ave_avg_atr_window, p.slow_drift_slope_window, p.rsi_window) == (7, 9, 5)
    assert p.use_stoch_rsi_filter is True


@pytest.mark.parametrize("leaf, bad", [("ema_fast_window", 0), ("adx_window", True), ("bb_window", 20.0),
                                       ("slow_drift_slope_window", -1), ("use_stoch_rsi_filter", 1)])
def test_params_reject_invalid_values_with_the_path(leaf: str, bad: object) -> None:
    with pytest.raises(ConfigError, match=leaf):
        IndicatorParams.from_config(make_indicator_config(**{leaf: bad}))


def test_params_reject_a_missing_key_with_the_path() -> None:
    cfg = make_indicator_config()
    del cfg["thresholds"]["entry"]["ave_avg_atr_window"]
    with pytest.raises(ConfigError, match=r"thresholds\.entry\.ave_avg_atr_window"):
        IndicatorParams.from_config(cfg)


# --- §2.14 test vectors (bit-exact, full history of the shared data) -----------------------------------

VECTOR_FIELDS = ("ema_slow ema_fast ema_macro adx adx_pos adx_neg atr avg_atr rsi stoch_k stoch_d "
                 "macd_hist bb_width bb_width_avg vol_sma vol_trend ema_slow_slope_pct").split()
SPEC_2_14 = {  # (symbol, k): values in VECTOR_FIELDS order, as printed in strategy-entries.md §2.14
    ("BTC", 199): "89645.1597315272 89596.75060671825 91441.06837150303 12.268587461546236 17.490275209581384 23.347758537581672 301.7014577912839 508.5248409950944 47.30365034597432 0.23679184113455065 0.36115770709521083 -19.08710184667722 0.013896010726823508 0.016620651234273854 735.7544765 False -0.0002822883256970485",  # noqa: E501
    ("BTC", 599): "70016.10333860233 70038.5501351421 72596.4541158212 15.815512043850617 14.528509183173913 23.081601867043634 742.1154052401209 747.0715696676787 46.10869003656096 0.2695716786155094 0.4590708006264901 -40.416175291898405 0.03832517322434736 0.03728942039061927 1757.5396870000004 False -0.0018080484603155808",  # noqa: E501
    ("ETH", 199): "2964.199299239136 2957.363024403564 3082.7370514593476 7.712903887022615 19.301008720630335 19.6236455128355 15.04757444528291 27.404989901777327 51.96041103440404 0.8706117970670076 0.8812754900835724 0.6532896770958352 0.0147107631345903 0.02269260919868123 13604.678425 False -0.0023354874222368677",  # noqa: E501
    ("ETH", 599): "2083.9087725288796 2090.780024987977 2184.548103419066 16.601491624382128 17.98151158299202 26.287856921540453 29.007739830395867 28.98536639032816 44.5949051532767 0.2517710197933394 0.47235742133383196 -2.681465769166035 0.07525097682540494 0.053675798402929596 31916.487825000007 False 0.002560514333816304",  # noqa: E501
    ("SOL", 199): "127.9350825275626 127.43634704342111 132.63844668702833 12.428552739664283 16.61705250727707 22.20604177833225 0.6386800750621923 1.0254962089154145 46.22099084407593 0.24368147462474354 0.18911701431121178 -0.009481787824825116 0.015398906697636964 0.021774245573173187 39468.05600000001 False -0.004529222611298822",  # noqa: E501
    ("SOL", 599): "86.50330284430134 86.43951951406999 92.47484174413324 15.397687221895534 18.148586428021314 20.96128689584082 1.1763767813884487 1.2551535247359387 49.439261451863715 0.31284699678966077 0.49315906084860334 0.00826861356208912 0.07033396418739468 0.05723342408476104 136280.49599999998 False -0.003553816583271815",  # noqa: E501
}


@pytest.fixture(scope="module")
def default_snapshots(shared_candles: Path) -> dict[str, list[IndicatorSnapshot]]:
    data = json.loads(shared_candles.read_text(encoding="utf-8"))
    cfg = make_indicator_config()  # defaults: Wd = 20, AVE window 50
    out = {}
    for symbol in ("BTC", "ETH", "SOL"):
        ind = SymbolIndicators.from_config(cfg)
        out[symbol] = [ind.update_bar(bar) for bar in data[symbol]]
    return out


@pytest.mark.parametrize("symbol, k", sorted(SPEC_2_14), ids=lambda x: str(x))
def test_spec_2_14_vectors_bit_exact(default_snapshots: dict, symbol: str, k: int) -> None:
    snap = default_snapshots[symbol][k]
    assert snap.bar_index == k
    assert snap.t == {199: 1769256000000, 599: 1770696000000}[k]
    expected = SPEC_2_14[(symbol, k)].split()
    for name, text in zip(VECTOR_FIELDS, expected, strict=True):
        assert repr(getattr(snap, name)) == text, f"{symbol} k={k} {name}"


# --- D45 / purity: no library reductions, no numpy, no cross-engine imports ---------------------------

ENGINE_REF = REPO_ROOT / "engine_ref"
MY_MODULES = ["arith.py", "indicators.py", "indicators_primitives.py", "indicators_wilder.py",
              "indicators_momentum.py", "indicators_bands.py"]


@pytest.mark.parametrize("module", MY_MODULES)
def test_indicator_modules_use_no_library_reductions_or_foreign_imports(module: str) -> None:
    code = "\n".join(line.split("#")[0] for line in (ENGINE_REF / module).read_text().splitlines())
    code = re.sub(r'"""(.|\n)*?"""', "", code)  # docstrings may name the forbidden helpers
    assert not re.search(r"(?<![\w.])sum\(", code), "builtin sum() (D45)"
    assert "fsum" not in code and "statistics" not in code
    assert not re.search(r"^\s*(import|from)\s+(numpy|pandas|numba|gpu_sim)\b", code, re.M)
    for match in re.finditer(r"^\s*from\s+harness(\.\w+)?\s+import", code, re.M):
        assert match.group(1) == ".errors"
