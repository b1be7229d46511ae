"""Liveness scenarios of the 36 exit axes (strategy-exits.md §5; DECISIONS.md D13-D15, D17-D19, D31).

HAND rows: one position on a hand-built market whose every exit evaluation is under control.

* Main series (1h, symbol ``AAA``): a flat stretch, then a trend; every bar has a true range of exactly
  1.0 (ATR = 1.0) and the last close is exactly 100.0.
* ``lookback`` = number of main bars, so only the LAST main bar is ready: the one entry is an OPEN at
  100.0 (slippage 0, entry ATR 1.0) at its close, Medium confidence (Mode A) or Low (``LOW_CONF``:
  min_adx 100 blocks Mode A, slow-drift Mode C fires). "short" = the mirror image ``200 - price``
  (RSI becomes 100 - RSI; ADX, ATR, slopes unchanged).
* After that bar there are only exit sub-bars (15m; 10s for the cooldown) in the trailing window: each
  exit evaluation sees the entry bar's indicators (D5) and a listed close, so a close is "entry ± k ATR".
* Whatever the listed closes do not exit is "held": closed "End of Backtest" at 100.0.

Markets (indicators of the entry bar):

market    | trend moves per bar          | ADX  | ADX slope | RSI (long / short) | BB-width ratio
----------|------------------------------|------|-----------|--------------------|---------------
TREND     | +0.75 −0.5 × 24              | 46.5 | −1.28     | 57.8 / 42.2        | 1.56
CALM      | +0.5 −0.375 × 40             | 27.0 | −0.65     | 55.2 / 44.8        | 0.97
HOT       | +0.75 +0.5 −0.375 × 60       | 47.5 | −0.39     | 74.7 / 25.3        | 0.95
WARM      | +0.5 +0.5 −0.5 × 28          | 44.6 | −0.81     | 66.4 / 33.6        | 1.37
SATURATED | as HOT × 48, +.5 +.25 +.125  | 71.4 | +0.15     | 77.6 / 22.4        | 0.92 (MACD hist falls twice)

``BASE`` (every row): entry filters off (ranging, anomaly, extension, ADX rising, BTC, StochRSI, SSF, REEF,
DRE RSI limits, AVE), min_adx 15, MACD mode none, entry_min_confidence low, no pyramiding, slippage 0,
min_atr_pct 0; the exits not under test are neutralised: breakeven off, partial TP off, RSI exit off, ADX
exhaustion 0 (= the entry threshold, below the entry ADX). Each row's own base and its reasoning are in
its ``base`` and ``note``. Paths are ``trade.<axis>``, except ``thresholds.tp_and_momentum.*`` for
tp_mult_strong, tp_mult_weak, adx_strong_gt, adx_weak_lt.

axis                                  | A     | B     | market          | sub-bar closes      | A exits    | B exits
--------------------------------------|-------|-------|-----------------|---------------------|------------|-----------
sl_atr_mult                           | 1.0   | 3.0   | TREND           | 98.5, 96            | SL 98.5    | SL 96
tp_atr_mult                           | 3.0   | 5.0   | TREND           | 103.5               | TP 103.5   | held
tp_mult_strong                        | 4.9   | 7.0   | TREND           | 105                 | TP 105     | held
adx_strong_gt                         | 40    | 52    | TREND           | 105                 | TP 105     | held
tp_mult_weak                          | 2.1   | 3.9   | CALM            | 102.5               | TP 102.5   | held
adx_weak_lt                           | 21    | 30    | CALM            | 103.5               | held       | TP 103.5
enable_partial_tp                     | off   | on    | TREND           | 104.5               | TP 104.5   | TPP 104.5
tp_partial_atr_mult                   | 1.0   | 3.0   | TREND           | 101.5               | TPP 101.5  | held
tp_partial_pct                        | 0.35  | 0.65  | TREND           | 104.5               | TPP 35 %   | TPP 65 %
tp_partial_min_notional_usd           | 7     | 13    | TREND           | 101.5               | TPP 101.5  | held
enable_breakeven_stop                 | off   | on    | TREND           | 100.8, 100.04, 97.5 | SL 97.5    | SL 100.04
breakeven_start_atr                   | 0.7   | 0.9   | TREND           | 100.8, 100.04, 97.5 | SL 100.04  | SL 97.5
breakeven_buffer_atr                  | 0.035 | 0.065 | TREND           | 100.8, 100.05, 97.5 | SL 97.5    | SL 100.05
trailing_start_atr                    | 0.5   | 1.0   | TREND           | 100.7, 100.1        | TS 100.1   | held
trailing_distance_atr                 | 0.5   | 1.0   | TREND           | 101.5, 100.8        | TS 100.8   | held
trailing_start_atr_low_conf           | 0.0   | 0.5   | TREND Low       | 100.7, 100.1        | held       | TS 100.1
trailing_distance_atr_low_conf        | 0.5   | 1.0   | TREND Low       | 101.5, 100.8        | TS 100.8   | held
enable_vol_buffered_trailing          | off   | on    | TREND           | 101.5, 100.6, 100.4 | TS 100.6   | TS 100.4
exit_cooldown_s                       | 10    | 15    | TREND (10s)     | 101.5, 97, 100.3    | TPP, SL 97 | TPP, held
block_exits_on_extreme_dev            | off   | on    | TREND           | 90, 97              | SL 90      | SL 97
glitch_atr_mult                       | 8.4   | 12.0  | TREND           | 90, 97              | SL 97      | SL 90
glitch_price_dev_pct                  | 0.28  | 0.52  | TREND           | 60, 97              | SL 97      | SL 60
enable_rsi_overextension_exit         | off   | on    | TREND           | 100.5               | held       | RSI+ 100.5
rsi_exit_ub_lo_profit                 | 56    | 80    | TREND           | 100.5               | RSI+ 100.5 | held
rsi_exit_ub_hi_profit                 | 49    | 70    | TREND           | 101.6               | RSI+ 101.6 | held
rsi_exit_profit_atr_switch            | 1.05  | 1.95  | TREND           | 101.5               | RSI+ 101.5 | held
rsi_exit_ub_lo_profit_low_conf        | 0     | 50    | TREND Low       | 100.5               | held       | RSI+ 100.5
rsi_exit_ub_hi_profit_low_conf        | 0     | 50    | TREND Low       | 101.6               | held       | RSI+ 101.6
rsi_exit_lb_lo_profit                 | 20    | 26    | HOT short       | 99.5                | held       | RSI- 99.5
rsi_exit_lb_hi_profit                 | 30    | 39    | WARM short      | 98.4                | held       | RSI- 98.4
rsi_exit_lb_lo_profit_low_conf        | 0     | 50    | TREND short Low | 99.5                | held       | RSI- 99.5
rsi_exit_lb_hi_profit_low_conf        | 0     | 50    | TREND short Low | 98.4                | held       | RSI- 98.4
smart_exit_adx_exhaustion_lt          | 0     | 30    | CALM            | 100.25              | held       | EXH 100.25
smart_exit_adx_exhaustion_lt_low_conf | 15    | 30    | CALM Low        | 100.25              | held       | EXH 100.25
tsme_min_profit_atr                   | 0.7   | 1.3   | SATURATED       | 101.25              | TSME       | held
tsme_require_adx_slope_negative       | off   | on    | SATURATED       | 101.25              | TSME       | held

SL "Stop Loss", TS "Trailing Stop", TP "Take Profit", TPP REDUCE "Take Profit (Partial)", RSI+ / RSI-
"RSI Overbought" / "RSI Oversold", EXH "Trend Exhaustion (ADX < 30)", TSME "Trend Saturation Momentum
Exhaustion"; a number is the exit price.

SYNTHETIC rows (name ``synthetic``) repeat seven headline axes on a seeded 3-symbol, 30-day slice with
aggregate predictions (more stop losses with a tighter stop, stops never closer than 0.8 × sl_atr_mult
ATRs, partial REDUCE records only with partial TP on, ...).
"""
from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from functools import lru_cache

from harness.axis_scenarios.builders import START_MS, Bar, from_closes, series, synthetic
from harness.axis_scenarios.framework import AxisScenario, Expect, Trades, exits, opens, reasons
from harness.data import interval_ms
from harness.engine_inputs import EngineInputs

SYM = "AAA"
ENTRY = 100.0
HOUR_MS = 3_600_000

# ---- markets ------------------------------------------------------------------------------------


def unit_range_bars(moves: Sequence[float], end: float = ENTRY, flat_pairs: int = 33,
                    down_low: float = 1.0, up_low: float = 0.0) -> list[Bar]:
    """Bars with a true range of exactly 1.0 (so ATR = 1.0) ending at close ``end``.

    ``flat_pairs`` pairs of ±0.125 moves (wicks centred) precede ``moves`` (close-to-close changes,
    |move| ≤ 1, multiples of 1/8 so every price is exact). The 1.0 range of a trend bar is placed
    ``up_low`` (up bar) / ``down_low`` (down bar) of the way down: 0 = body at the bottom of the range
    (higher high), 1 = body at the top (lower low); this sets the directional movement, hence the ADX.
    """
    steps = [(m, 0.5) for m in (0.125, -0.125) * flat_pairs]
    steps += [(m, up_low if m > 0 else down_low) for m in moves]
    closes = [end]
    for m, _ in reversed(steps):
        closes.append(closes[-1] - m)
    closes.reverse()
    prev = closes[0]
    bars: list[Bar] = [(prev, prev + 0.5, prev - 0.5, prev, 1000.0)]
    for (_, u), c in zip(steps, closes[1:]):
        lo, hi = min(prev, c), max(prev, c)
        low = lo - u * (1.0 - (hi - lo))
        bars.append((prev, low + 1.0, low, c, 1000.0))
        prev = c
    return bars


def mirror(bars: Sequence[Bar], axis: float = 2 * ENTRY) -> list[Bar]:
    """The market upside down (``axis − price``): a long set-up becomes the same short set-up."""
    return [(axis - o, axis - lo, axis - h, axis - c, v) for (o, h, lo, c, v) in bars]


def _trend(pattern: Sequence[float], n: int, tail: Sequence[float] = ()) -> list[float]:
    """``n`` moves repeating ``pattern``, then ``tail``."""
    return (list(pattern) * n)[:n] + list(tail)


#: name -> main bars (see the market table in the module docstring).
MARKETS: dict[str, list[Bar]] = {
    "TREND": unit_range_bars(_trend((0.75, -0.5), 24), flat_pairs=33, down_low=1.0),
    "CALM": unit_range_bars(_trend((0.5, -0.375), 40), flat_pairs=25, down_low=0.75, up_low=0.25),
    "HOT": unit_range_bars(_trend((0.75, 0.5, -0.375), 60), flat_pairs=15, down_low=1.0),
    "WARM": unit_range_bars(_trend((0.5, 0.5, -0.5), 28), flat_pairs=31, down_low=1.0),
    "SATURATED": unit_range_bars(_trend((0.75, 0.5, -0.375), 48, tail=(0.5, 0.25, 0.125)), flat_pairs=21,
                                 down_low=0.5),
}


@lru_cache(maxsize=None)
def entry_then_subbars(market: str, short: bool, sub_closes: tuple[float, ...],
                       sub_interval: str = "15m") -> EngineInputs:
    """Main bars of ``market`` (mirrored for a short), then exit sub-bars closing at ``sub_closes``
    after the last main close (the trailing window, D3): every exit evaluation sees the entry bar."""
    main = MARKETS[market]
    if short:
        main = mirror(main)
    end_ms = START_MS + HOUR_MS * len(main)  # close time of the last main bar = entry time τ0
    sub = from_closes([ENTRY, *sub_closes], volume=100.0)[1:]
    main_arrays, sub_arrays = series(main, START_MS, "1h"), series(sub, end_ms, sub_interval)
    for arr in (*main_arrays.values(), *sub_arrays.values()):
        arr.flags.writeable = False  # cached and shared by every run
    return EngineInputs({SYM: main_arrays}, {interval_ms(sub_interval): {SYM: sub_arrays}}, None)


def market(name: str, *sub_closes: float, short: bool = False,
           sub_interval: str = "15m") -> Callable[[], EngineInputs]:
    """The market callable of a row (cached inputs)."""
    return lambda: entry_then_subbars(name, short, tuple(sub_closes), sub_interval)


def n_main(name: str) -> int:
    return len(MARKETS[name])


# ---- shared base ----------------------------------------------------------------------------------

BASE: dict[str, object] = {
    "engine.exit_interval": "15m",
    # entries: Mode A on the entry bar whatever its RSI / MACD / ADX slope
    "filters.enable_ranging_filter": False,
    "filters.enable_anomaly_filter": False,
    "filters.enable_extension_filter": False,
    "filters.require_adx_rising": False,
    "filters.require_btc_alignment": False,
    "filters.use_stoch_rsi_filter": False,
    "thresholds.entry.macd_hist_entry_mode": "none",
    "thresholds.entry.ave_enabled": False,
    "thresholds.entry.min_adx": 15.0,
    "thresholds.tp_and_momentum.rsi_long_weak": 0.0,
    "thresholds.tp_and_momentum.rsi_long_strong": 0.0,
    "thresholds.tp_and_momentum.rsi_short_weak": 100.0,
    "thresholds.tp_and_momentum.rsi_short_strong": 100.0,
    "trade.entry_min_confidence": "low",
    "trade.enable_ssf_filter": False,
    "trade.enable_reef_filter": False,
    "trade.enable_pyramiding": False,
    "trade.slippage_bps": 0.0,
    "trade.min_atr_pct": 0.0,
    # exits not under test
    "trade.enable_breakeven_stop": False,
    "trade.enable_partial_tp": False,
    "trade.enable_rsi_overextension_exit": False,
    "trade.smart_exit_adx_exhaustion_lt": 0.0,
}

#: Low confidence: Mode A impossible (min ADX 100), slow-drift Mode C (confidence Low) fires instead.
LOW_CONF: dict[str, object] = {
    "thresholds.entry.min_adx": 100.0,
    "thresholds.entry.enable_slow_drift_entries": True,
}

#: Partial TP at 1 ATR (half the position).
PARTIAL_AT_1: dict[str, object] = {
    "trade.enable_partial_tp": True,
    "trade.tp_partial_atr_mult": 1.0,
    "trade.tp_partial_pct": 0.5,
}

MIDDLE_TP_BAND = {"thresholds.tp_and_momentum.adx_strong_gt": 52.0}  # TREND's ADX 46.5 -> tp_atr_mult
NO_VBTS = {"trade.enable_vol_buffered_trailing": False}
RSI_EXIT = {"trade.enable_rsi_overextension_exit": True}
BREAKEVEN = {"trade.enable_breakeven_stop": True, "trade.breakeven_start_atr": 0.7,
             "trade.breakeven_buffer_atr": 0.05}
GLITCH_ON = {"trade.block_exits_on_extreme_dev": True, "trade.glitch_price_dev_pct": 0.4,
             "trade.glitch_atr_mult": 8.4}

# ---- expectations -------------------------------------------------------------------------------

Exit = tuple[str, str, float]  # (action prefix "CLOSE" / "REDUCE", reason prefix, price)
HELD: list[Exit] = [("CLOSE", "End of Backtest", ENTRY)]


def _summary(trades: Trades) -> list[tuple[str, str, float]]:
    return [(t["action"], t["reason"], t["price"]) for t in trades]


def _check_open(label: str, trades: Trades, side: str, conf: str) -> None:
    o = opens(trades)
    assert len(o) == 1, f"{label}: expected one OPEN, got {_summary(trades)}"
    rec = o[0]
    assert rec["action"] == f"OPEN_{side}" and rec["confidence"] == conf, \
        f"{label}: expected OPEN_{side} {conf}, got {rec['action']} {rec['confidence']}"
    assert rec["price"] == ENTRY and rec["entry_atr"] == 1.0, \
        f"{label}: the set-up needs an entry at {ENTRY} with ATR 1.0, got {rec['price']} / {rec['entry_atr']}"


def _check_exits(label: str, trades: Trades, want: Sequence[Exit]) -> None:
    got = exits(trades)
    ok = len(got) == len(want) and all(
        t["action"].startswith(kind) and t["reason"].startswith(reason)
        and math.isclose(t["price"], price, rel_tol=0.0, abs_tol=1e-9)
        for t, (kind, reason, price) in zip(got, want))
    assert ok, f"{label}: expected exits {list(want)}, got {_summary(got)}"


def exits_as(a: Sequence[Exit], b: Sequence[Exit], side: str = "LONG", conf: str = "Medium") -> Expect:
    """One OPEN at 100.0 (ATR 1.0) in both runs; run A's and run B's exit records are ``a`` and ``b``."""

    def expect(ta: Trades, tb: Trades) -> None:
        for label, trades, want in (("A", ta, a), ("B", tb, b)):
            _check_open(label, trades, side, conf)
            _check_exits(label, trades, want)
    return expect


def partial_fraction(pct_a: float, pct_b: float) -> Expect:
    """Both runs REDUCE once (Take Profit (Partial)); the reduced size is ``pct`` of the opened size."""

    def expect(ta: Trades, tb: Trades) -> None:
        for label, trades, pct in (("A", ta, pct_a), ("B", tb, pct_b)):
            _check_open(label, trades, "LONG", "Medium")
            red = [t for t in trades if t["action"] == "REDUCE_LONG"]
            assert len(red) == 1 and red[0]["reason"] == "Take Profit (Partial)", \
                f"{label}: expected one partial REDUCE, got {_summary(trades)}"
            ratio = red[0]["size"] / opens(trades)[0]["size"]
            assert math.isclose(ratio, pct, rel_tol=1e-9), f"{label}: reduced {ratio} of the size, expected {pct}"
    return expect


def row(axis: str, a: object, b: object, mkt: str, closes: Sequence[float], expect: Expect,
        base: dict[str, object] | None = None, note: str = "", short: bool = False,
        sub_interval: str = "15m", name: str = "") -> AxisScenario:
    flat = dict(BASE)
    flat.update(base or {})
    if sub_interval != "15m":
        flat["engine.exit_interval"] = sub_interval
    return AxisScenario(axis=axis, a=a, b=b, market=market(mkt, *closes, short=short, sub_interval=sub_interval),
                        expect=expect, base=flat, note=note, lookback=n_main(mkt), name=name)


T = "trade."
TM = "thresholds.tp_and_momentum."
SL, TS, TP, TPP = "Stop Loss", "Trailing Stop", "Take Profit", "Take Profit (Partial)"
OVERBOUGHT, OVERSOLD = "RSI Overbought (", "RSI Oversold ("
TSME = "Trend Saturation Momentum Exhaustion"

HAND: list[AxisScenario] = [
    # ---- stop loss, take profit ---------------------------------------------------------------
    row(T + "sl_atr_mult", 1.0, 3.0, "TREND", (98.5, 96.0),
        exits_as([("CLOSE", SL, 98.5)], [("CLOSE", SL, 96.0)]),
        note="SL distance = mult × 0.8 (ASE: ADX slope < 0, underwater) × 1.1 (SLB: ADX 46.5 > 45)"),
    row(T + "tp_atr_mult", 3.0, 5.0, "TREND", (103.5,),
        exits_as([("CLOSE", TP, 103.5)], HELD), base=MIDDLE_TP_BAND,
        note="ADX 46.5 between adx_weak_lt 30 and adx_strong_gt 52: tpm = tp_atr_mult (D15)"),
    row(TM + "tp_mult_strong", 4.9, 7.0, "TREND", (105.0,),
        exits_as([("CLOSE", TP, 105.0)], HELD),
        note="D15: ADX 46.5 > adx_strong_gt 40, long 5 ATR in profit"),
    row(TM + "adx_strong_gt", 40.0, 52.0, "TREND", (105.0,),
        exits_as([("CLOSE", TP, 105.0)], HELD),
        base={TM + "tp_mult_strong": 4.9, T + "tp_atr_mult": 6.0},
        note="D15: at ADX 46.5, 40 -> strong band (4.9 ATR), 52 -> middle band (6 ATR)"),
    row(TM + "tp_mult_weak", 2.1, 3.9, "CALM", (102.5,),
        exits_as([("CLOSE", TP, 102.5)], HELD),
        note="D15: ADX 27 < adx_weak_lt 30 -> weak band"),
    row(TM + "adx_weak_lt", 21.0, 30.0, "CALM", (103.5,),
        exits_as(HELD, [("CLOSE", TP, 103.5)]),
        note="D15: at ADX 27, 21 -> middle band (tp_atr_mult 4), 30 -> weak band (tp_mult_weak 3)"),
    # ---- partial take profit ------------------------------------------------------------------
    row(T + "enable_partial_tp", False, True, "TREND", (104.5,),
        exits_as([("CLOSE", TP, 104.5)], [("REDUCE", TPP, 104.5), ("CLOSE", "End of Backtest", ENTRY)]),
        base=MIDDLE_TP_BAND, note="partial level = full TP level 4 ATR (tp_partial_atr_mult 0)"),
    row(T + "tp_partial_atr_mult", 1.0, 3.0, "TREND", (101.5,),
        exits_as([("REDUCE", TPP, 101.5), ("CLOSE", "End of Backtest", ENTRY)], HELD),
        base={**MIDDLE_TP_BAND, T + "enable_partial_tp": True},
        note="separate partial level 1 ATR is crossed, 3 ATR is not (then the full level 4 ATR is checked)"),
    row(T + "tp_partial_pct", 0.35, 0.65, "TREND", (104.5,), partial_fraction(0.35, 0.65),
        base={**MIDDLE_TP_BAND, T + "enable_partial_tp": True}),
    row(T + "tp_partial_min_notional_usd", 7.0, 13.0, "TREND", (101.5,),
        exits_as([("REDUCE", TPP, 101.5), ("CLOSE", "End of Backtest", ENTRY)], HELD),
        base={**PARTIAL_AT_1, T + "enable_dynamic_sizing": False, T + "enable_dynamic_leverage": False,
              T + "leverage": 1.0, T + "allocation_pct": 0.002},
        note="notional 20 USD (size 0.2); remainder after half at 101.5 = 10.15 USD: above 7, below 13"),
    # ---- breakeven (D14) ----------------------------------------------------------------------
    row(T + "enable_breakeven_stop", False, True, "TREND", (100.8, 100.04, 97.5),
        exits_as([("CLOSE", SL, 97.5)], [("CLOSE", SL, 100.04)]),
        base=BREAKEVEN,
        note="D14: 100.8 arms (start 0.7); the latched level 100.05 stops the fall to 100.04"),
    row(T + "breakeven_start_atr", 0.7, 0.9, "TREND", (100.8, 100.04, 97.5),
        exits_as([("CLOSE", SL, 100.04)], [("CLOSE", SL, 97.5)]), base=BREAKEVEN,
        note="D14: the 100.8 close (0.8 ATR) arms the breakeven with 0.7, not with 0.9"),
    row(T + "breakeven_buffer_atr", 0.035, 0.065, "TREND", (100.8, 100.05, 97.5),
        exits_as([("CLOSE", SL, 97.5)], [("CLOSE", SL, 100.05)]), base=BREAKEVEN,
        note="D14: latched level 100.035 (held at 100.05) vs 100.065 (exit at 100.05)"),
    # ---- trailing (D13) -----------------------------------------------------------------------
    row(T + "trailing_start_atr", 0.5, 1.0, "TREND", (100.7, 100.1),
        exits_as([("CLOSE", TS, 100.1)], HELD), base={**NO_VBTS, T + "trailing_distance_atr": 0.5},
        note="0.7 ATR profit starts the trail with 0.5 (level 100.2), not with 1.0"),
    row(T + "trailing_distance_atr", 0.5, 1.0, "TREND", (101.5, 100.8),
        exits_as([("CLOSE", TS, 100.8)], HELD), base={**NO_VBTS, T + "trailing_start_atr": 1.0},
        note="level after 101.5: 101.0 (0.5) vs 100.5 (1.0); RSI 57.8 -> floor 0.5, ADX >= 25 -> no x0.7"),
    row(T + "trailing_start_atr_low_conf", 0.0, 0.5, "TREND", (100.7, 100.1),
        exits_as(HELD, [("CLOSE", TS, 100.1)], conf="Low"),
        base={**LOW_CONF, **NO_VBTS, T + "trailing_start_atr": 1.0, T + "trailing_distance_atr_low_conf": 0.5},
        note="D13 Low-conf start: 0.0 = main start 1.0 (nothing stored); 0.5 stores 100.2"),
    row(T + "trailing_distance_atr_low_conf", 0.5, 1.0, "TREND", (101.5, 100.8),
        exits_as([("CLOSE", TS, 100.8)], HELD, conf="Low"),
        base={**LOW_CONF, **NO_VBTS, T + "trailing_start_atr": 1.0, T + "trailing_distance_atr": 0.8},
        note="D13 Low-conf distance: level 101.0 (0.5) vs 100.5 (1.0)"),
    row(T + "enable_vol_buffered_trailing", False, True, "TREND", (101.5, 100.6, 100.4),
        exits_as([("CLOSE", TS, 100.6)], [("CLOSE", TS, 100.4)]),
        base={T + "trailing_start_atr": 1.0, T + "trailing_distance_atr": 0.8},
        note="D13 VBTS: BB-width ratio 1.56 > 1.2 widens 0.8 to 1.0: level 100.5 instead of 100.7"),
    # ---- exit cooldown (D18, 10-second sub-bars) ------------------------------------------------
    row(T + "exit_cooldown_s", 10, 15, "TREND", (101.5, 97.0, 100.3),
        exits_as([("REDUCE", TPP, 101.5), ("CLOSE", SL, 97.0)],
                 [("REDUCE", TPP, 101.5), ("CLOSE", "End of Backtest", ENTRY)]),
        base=PARTIAL_AT_1, sub_interval="10s",
        note="D18: partial at τ, stop crossed at τ+10 s: evaluated with 10 s, skipped with 15 s"),
    # ---- glitch guard -------------------------------------------------------------------------
    row(T + "block_exits_on_extreme_dev", False, True, "TREND", (90.0, 97.0),
        exits_as([("CLOSE", SL, 90.0)], [("CLOSE", SL, 97.0)]),
        base=GLITCH_ON,
        note="a 10-ATR move from the last main close (> glitch_atr_mult 8.4) freezes exits"),
    row(T + "glitch_atr_mult", 8.4, 12.0, "TREND", (90.0, 97.0),
        exits_as([("CLOSE", SL, 97.0)], [("CLOSE", SL, 90.0)]), base=GLITCH_ON,
        note="10-ATR move (10 %, below glitch_price_dev_pct 0.4): frozen with 8.4, not with 12"),
    row(T + "glitch_price_dev_pct", 0.28, 0.52, "TREND", (60.0, 97.0),
        exits_as([("CLOSE", SL, 97.0)], [("CLOSE", SL, 60.0)]),
        base={**GLITCH_ON, T + "glitch_atr_mult": 100.0},
        note="a -40 % move (40 ATR, below glitch_atr_mult 100): frozen with 0.28, not with 0.52"),
    # ---- RSI overextension (RSI of the entry bar: 57.8 long TREND, 25.3 / 33.6 / 42.2 short) -----
    row(T + "enable_rsi_overextension_exit", False, True, "TREND", (100.5,),
        exits_as(HELD, [("CLOSE", OVERBOUGHT, 100.5)]), base={T + "rsi_exit_ub_lo_profit": 56.0}),
    row(T + "rsi_exit_ub_lo_profit", 56.0, 80.0, "TREND", (100.5,),
        exits_as([("CLOSE", OVERBOUGHT, 100.5)], HELD), base=RSI_EXIT,
        note="profit 0.5 ATR < switch 1.5: lo-profit bound; RSI 57.8"),
    row(T + "rsi_exit_ub_hi_profit", 49.0, 70.0, "TREND", (101.6,),
        exits_as([("CLOSE", OVERBOUGHT, 101.6)], HELD), base={**RSI_EXIT, T + "rsi_exit_ub_lo_profit": 80.0},
        note="profit 1.6 ATR >= switch 1.5: hi-profit bound; RSI 57.8"),
    row(T + "rsi_exit_profit_atr_switch", 1.05, 1.95, "TREND", (101.5,),
        exits_as([("CLOSE", OVERBOUGHT, 101.5)], HELD),
        base={**RSI_EXIT, T + "rsi_exit_ub_hi_profit": 49.0, T + "rsi_exit_ub_lo_profit": 80.0},
        note="profit 1.5 ATR: hi bound 49 (exit) with switch 1.05, lo bound 80 (held) with 1.95"),
    row(T + "rsi_exit_ub_lo_profit_low_conf", 0.0, 50.0, "TREND", (100.5,),
        exits_as(HELD, [("CLOSE", "RSI Overbought (57.8, Thr: 50)", 100.5)], conf="Low"),
        base={**LOW_CONF, **RSI_EXIT, T + "rsi_exit_ub_lo_profit": 80.0},
        note="D19: 0 = main bound 80; 50 replaces it for the Low-confidence position"),
    row(T + "rsi_exit_ub_hi_profit_low_conf", 0.0, 50.0, "TREND", (101.6,),
        exits_as(HELD, [("CLOSE", "RSI Overbought (57.8, Thr: 50)", 101.6)], conf="Low"),
        base={**LOW_CONF, **RSI_EXIT, T + "rsi_exit_ub_hi_profit": 70.0, T + "rsi_exit_ub_lo_profit": 80.0},
        note="D19, profit 1.6 ATR >= switch 1.5"),
    row(T + "rsi_exit_lb_lo_profit", 20.0, 26.0, "HOT", (99.5,),
        exits_as(HELD, [("CLOSE", OVERSOLD, 99.5)], side="SHORT"), base=RSI_EXIT, short=True,
        note="short, RSI 25.3, profit 0.5 ATR < switch"),
    row(T + "rsi_exit_lb_hi_profit", 30.0, 39.0, "WARM", (98.4,),
        exits_as(HELD, [("CLOSE", OVERSOLD, 98.4)], side="SHORT"),
        base={**RSI_EXIT, T + "rsi_exit_lb_lo_profit": 20.0}, short=True,
        note="short, RSI 33.6, profit 1.6 ATR >= switch"),
    row(T + "rsi_exit_lb_lo_profit_low_conf", 0.0, 50.0, "TREND", (99.5,),
        exits_as(HELD, [("CLOSE", "RSI Oversold (42.2, Thr: 50)", 99.5)], side="SHORT", conf="Low"),
        base={**LOW_CONF, **RSI_EXIT, T + "rsi_exit_lb_lo_profit": 20.0}, short=True,
        note="D19: Low-confidence short, RSI 42.2; 0 = main bound 20"),
    row(T + "rsi_exit_lb_hi_profit_low_conf", 0.0, 50.0, "TREND", (98.4,),
        exits_as(HELD, [("CLOSE", "RSI Oversold (42.2, Thr: 50)", 98.4)], side="SHORT", conf="Low"),
        base={**LOW_CONF, **RSI_EXIT, T + "rsi_exit_lb_hi_profit": 30.0, T + "rsi_exit_lb_lo_profit": 20.0},
        short=True, note="D19: profit 1.6 ATR >= switch; 0 = main bound 30"),
    # ---- smart exits --------------------------------------------------------------------------
    row(T + "smart_exit_adx_exhaustion_lt", 0.0, 30.0, "CALM", (100.25,),
        exits_as(HELD, [("CLOSE", "Trend Exhaustion (ADX < 30)", 100.25)]),
        note="D17: ADX 27; 0 = entry threshold 15 (min_adx) -> no exit; 30 -> exit"),
    row(T + "smart_exit_adx_exhaustion_lt_low_conf", 15.0, 30.0, "CALM", (100.25,),
        exits_as(HELD, [("CLOSE", "Trend Exhaustion (ADX < 30)", 100.25)], conf="Low"),
        base=LOW_CONF, note="D17/D19: Low-confidence position at ADX 27 (main value 0 = entry threshold 10)"),
    row(T + "tsme_min_profit_atr", 0.7, 1.3, "SATURATED", (101.25,),
        exits_as([("CLOSE", TSME, 101.25)], HELD), base={T + "tsme_require_adx_slope_negative": False},
        note="ADX 71.4 > 50, MACD histogram fell twice; profit 1.25 ATR"),
    row(T + "tsme_require_adx_slope_negative", False, True, "SATURATED", (101.25,),
        exits_as([("CLOSE", TSME, 101.25)], HELD),
        note="ADX slope +0.15 at the entry bar: the exit needs a falling ADX only when on"),
]


# ---- synthetic slices: the same axes on a 3-symbol, 30-day seeded market (1h bars, no sub-bars) ----
# Many positions, both sides; the predictions are aggregate (counts, bounds over every exit). The base
# is BASE (entries frequent: Mode A with every filter off, lookback 60) with slippage 0 (fill = close)
# and breakeven off, so a stop-loss exit lies at least 0.8 × sl_atr_mult ATRs beyond the entry (§5.1:
# ASE ×0.8 is the only factor below 1).

SYN_BASE: dict[str, object] = {k: v for k, v in BASE.items() if k != "engine.exit_interval"}
SYN_BASE.update({T + "min_atr_pct": 0.003, T + "enable_partial_tp": True,
                 T + "enable_rsi_overextension_exit": True, T + "smart_exit_adx_exhaustion_lt": 18.0})


def _count(trades: Trades, reason: str) -> int:
    return sum(1 for r in reasons(trades) if r.startswith(reason))


def _stop_distances(trades: Trades) -> list[float]:
    """ATRs between entry and fill of every "Stop Loss" exit (positive = against the position)."""
    entry: dict[str, float] = {}
    out: list[float] = []
    for t in trades:
        if t["action"].startswith("OPEN"):
            entry[t["symbol"]] = t["price"]
        elif t["reason"] == SL:
            sign = 1.0 if t["action"].endswith("LONG") else -1.0
            out.append(sign * (entry[t["symbol"]] - t["price"]) / t["entry_atr"])
    return out


def more_exits(reason: str, a_more: bool = True) -> Expect:
    def expect(ta: Trades, tb: Trades) -> None:
        na, nb = _count(ta, reason), _count(tb, reason)
        assert (na > nb) if a_more else (nb > na), f"'{reason}' exits: A {na}, B {nb}"
    return expect


def stops_beyond(m_a: float, m_b: float) -> Expect:
    """More stop losses with the tighter stop A; every stop of a run lies ≥ 0.8 × mult ATRs out."""
    def expect(ta: Trades, tb: Trades) -> None:
        more_exits(SL)(ta, tb)
        for label, trades, mult in (("A", ta, m_a), ("B", tb, m_b)):
            d = _stop_distances(trades)
            assert d and min(d) >= 0.8 * mult - 1e-9, \
                f"{label}: closest stop {min(d, default=None)} ATR < 0.8 × {mult}"
    return expect


def breakeven_stops(ta: Trades, tb: Trades) -> None:
    """Off: every stop ≥ 1.6 ATR (0.8 × 2.0) out; on: some stops fire within 1 ATR (the breakeven level)."""
    da, db = _stop_distances(ta), _stop_distances(tb)
    assert da and min(da) >= 1.6 - 1e-9, f"A (off): a stop {min(da, default=None)} ATR out"
    assert any(x < 1.0 for x in db), f"B (on): no stop within 1 ATR of the entry: {sorted(db)[:5]}"


def only_in_b(reason: str) -> Expect:
    def expect(ta: Trades, tb: Trades) -> None:
        assert _count(ta, reason) == 0 and _count(tb, reason) > 0, \
            f"'{reason}' records: A {_count(ta, reason)} (expected 0), B {_count(tb, reason)} (expected > 0)"
    return expect


def syn(axis: str, a: object, b: object, expect: Expect, base: dict[str, object] | None = None,
        note: str = "") -> AxisScenario:
    flat = dict(SYN_BASE)
    flat.update(base or {})
    return AxisScenario(axis=axis, a=a, b=b, market=lambda: synthetic(3, 30, 7), expect=expect, base=flat,
                        note=note, lookback=60, name="synthetic")


SYNTHETIC: list[AxisScenario] = [
    syn(T + "sl_atr_mult", 1.0, 3.0, stops_beyond(1.0, 3.0),
        note="more stop losses with 1.0; every stop at least 0.8 × mult ATRs beyond the entry"),
    syn(T + "tp_atr_mult", 3.0, 8.0, more_exits(TP),
        base={T + "enable_partial_tp": False, TM + "adx_strong_gt": 100.0, TM + "adx_weak_lt": 0.0},
        note="middle TP band forced (strong above ADX 100, weak below 0): more take profits at 3 ATR"),
    syn(T + "enable_partial_tp", False, True, only_in_b(TPP),
        note="'Take Profit (Partial)' REDUCE records only with partial TP on"),
    syn(T + "enable_breakeven_stop", False, True, breakeven_stops,
        note="D14: breakeven stops fire near the entry; without them every stop is >= 1.6 ATR out"),
    syn(T + "trailing_distance_atr", 0.3, 1.2, more_exits(TS), note="tighter trail: more trailing stops"),
    syn(T + "trailing_start_atr", 0.5, 2.0, more_exits(TS), note="earlier trail: more trailing stops"),
    syn(T + "enable_rsi_overextension_exit", False, True, only_in_b("RSI O"),
        note="'RSI Overbought' / 'RSI Oversold' exits only when on"),
]

SCENARIOS: list[AxisScenario] = HAND + SYNTHETIC
