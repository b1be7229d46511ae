"""Liveness scenarios: entry filters, indicator windows and market-regime axes (D8-D12, D31).

Every scenario runs on a small hand-built candle table whose **decisive bar is the last bar**:
``lookback`` equals the number of bars, so exactly one main-bar entry evaluation point exists per
symbol (τ = close of the last bar, D2) and the prediction reads "an OPEN at τ with value A, none (or
a different one) with value B". A position opened there is closed by the end-of-data liquidation at
the same τ. Market tables are deterministic formulas (trends, sine waves, plateau/decline/recovery);
the indicator values quoted in the notes were read from engine_ref's §2 indicators on those tables
and are what makes the decisive bar decisive.

``PERMISSIVE`` (shared by all rows) switches off every gate/filter that a row does not study, so a
trending bar yields a Mode-A signal (bull/bear alignment, close beyond EMA-fast, RSI beyond 50) and
the signal opens; each row adds only the settings its axis needs and changes nothing but its axis.

Regime rows (D7-D10, D31) use 10-symbol universes built from three kinds of series: ``up`` (steady
rise: EMA-fast > EMA-slow, a BUY), ``down`` (steady fall: a SELL) and ``flat`` (constant close:
EMA-fast = EMA-slow exactly, neither bullish nor a signal). Breadth is the share of ``up`` symbols
(context of the window, i.e. of the previous bar, D7/Q16); every symbol has the same length.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from harness.axis_scenarios.builders import START_MS, Bar, from_closes, hand_market
from harness.axis_scenarios.framework import AxisScenario, Trades, opens
from harness.engine_inputs import EngineInputs

HOUR_MS = 3_600_000

#: Everything a row does not study is permissive: a trending bar's Mode-A signal opens.
PERMISSIVE: dict[str, object] = {
    "filters.enable_ranging_filter": False,
    "filters.enable_anomaly_filter": False,
    "filters.enable_extension_filter": False,
    "filters.require_adx_rising": False,
    "filters.require_btc_alignment": False,
    "filters.require_macro_alignment": False,
    "filters.require_volume_confirmation": False,
    "filters.use_stoch_rsi_filter": False,
    "thresholds.entry.min_adx": 0.0,
    "thresholds.entry.ave_enabled": False,
    "thresholds.entry.macd_hist_entry_mode": "none",
    "thresholds.tp_and_momentum.rsi_long_weak": 50.0,
    "thresholds.tp_and_momentum.rsi_long_strong": 50.0,
    "thresholds.tp_and_momentum.rsi_short_weak": 50.0,
    "thresholds.tp_and_momentum.rsi_short_strong": 50.0,
    "trade.entry_min_confidence": "low",
    "trade.enable_ssf_filter": False,
    "trade.enable_reef_filter": False,
    "trade.enable_pyramiding": False,
    "trade.max_entry_orders_per_loop": 20,
}


def base(**extra: object) -> dict[str, object]:
    """``PERMISSIVE`` plus a row's own settings (keys given with ``__`` for ``.``)."""
    out = dict(PERMISSIVE)
    out.update({k.replace("__", "."): v for k, v in extra.items()})
    return out


# ---- market tables -------------------------------------------------------------------------------

def trend(n: int, step: float, start: float = 100.0) -> list[float]:
    """``n`` closes growing (or falling) geometrically by ``step`` per bar."""
    return [start * (1.0 + step) ** k for k in range(n)]


def wave(n: int, drift: float, amp: float, period: int, start: float = 100.0) -> list[float]:
    """A drifting sine: ``start·(1+drift)^k·(1 + amp·sin(2πk/period))``."""
    return [start * (1.0 + drift) ** k * (1.0 + amp * math.sin(2.0 * math.pi * k / period)) for k in range(n)]


def reversal(n_down: int, down: float, n_up: int, up: float, start: float = 100.0) -> list[float]:
    """A fall of ``n_down`` bars by ``down`` per bar, then a rise of ``n_up`` bars by ``up``."""
    c = [start]
    for _ in range(n_down):
        c.append(c[-1] * (1.0 + down))
    for _ in range(n_up):
        c.append(c[-1] * (1.0 + up))
    return c


def chop_then_trend(n_chop: int, amp: float, period: int, n_trend: int, up: float) -> list[float]:
    """A flat sine chop, then a rise of ``up`` per bar with a damped ripple."""
    c = [100.0 * (1.0 + amp * math.sin(2.0 * math.pi * k / period)) for k in range(n_chop)]
    for k in range(n_trend):
        c.append(c[-1] * (1.0 + up) * (1.0 + 0.3 * amp * math.sin(2.0 * math.pi * k / period)))
    return c


def plateau_decline_rise(level: float, n_plateau: int, n_decline: int, n_rise: int, up: float) -> list[float]:
    """``n_plateau`` bars at ``level``, a linear decline to 100 over ``n_decline`` bars, then a rise."""
    c = [level] * n_plateau
    for _ in range(n_decline):
        c.append(c[-1] - (level - 100.0) / n_decline)
    for _ in range(n_rise):
        c.append(c[-1] * (1.0 + up))
    return c


def with_volumes(bars: Sequence[Bar], volumes: Sequence[float]) -> list[Bar]:
    """The same bars with the last ``len(volumes)`` volumes replaced."""
    out = list(bars)
    first = len(out) - len(volumes)
    for i, v in enumerate(volumes):
        o, h, l, c, _ = out[first + i]
        out[first + i] = (o, h, l, c, float(v))
    return out


def one(sym: str, bars: Sequence[Bar]) -> Callable[[], EngineInputs]:
    return lambda: hand_market({sym: list(bars)})


def last_tau(n: int) -> int:
    """Decision time τ of the last of ``n`` hourly bars (its close time, D2)."""
    return START_MS + n * HOUR_MS


# ---- expectation helpers -------------------------------------------------------------------------

def opens_at(trades: Trades, tau: int, symbol: str | None = None, action: str | None = None) -> Trades:
    return [t for t in opens(trades) if t["timestamp_ms"] == tau
            and (symbol is None or t["symbol"] == symbol) and (action is None or t["action"] == action)]


def only_a_opens(tau: int, symbol: str, action: str, why: str) -> Callable[[Trades, Trades], None]:
    """Value A opens ``action`` of ``symbol`` at τ; value B opens nothing for it at τ."""
    def expect(ta: Trades, tb: Trades) -> None:
        assert len(opens_at(ta, tau, symbol, action)) == 1, f"A: expected {action} {symbol} at {tau}: {ta}"
        assert not opens_at(tb, tau, symbol), f"B: {why}: {tb}"
    return expect


def only_b_opens(tau: int, symbol: str, action: str, why: str) -> Callable[[Trades, Trades], None]:
    def expect(ta: Trades, tb: Trades) -> None:
        assert not opens_at(ta, tau, symbol), f"A: {why}: {ta}"
        assert len(opens_at(tb, tau, symbol, action)) == 1, f"B: expected {action} {symbol} at {tau}: {tb}"
    return expect


def opens_a_then_b(tau: int, symbol: str, action_a: str, action_b: str) -> Callable[[Trades, Trades], None]:
    """The same symbol opens at τ in both runs, ``action_a`` with A and ``action_b`` with B."""
    def expect(ta: Trades, tb: Trades) -> None:
        oa, ob = opens_at(ta, tau, symbol), opens_at(tb, tau, symbol)
        assert [t["action"] for t in oa] == [action_a], f"A: expected {action_a} {symbol} at {tau}: {ta}"
        assert [t["action"] for t in ob] == [action_b], f"B: expected {action_b} {symbol} at {tau}: {tb}"
    return expect


# ---- filters (strategy-entries.md §4.2-§4.3) -------------------------------------------------------

UP60 = from_closes(trend(60, 0.003))                     # steady rise: a Mode-A BUY on every bar
N60 = len(UP60)

_spike = trend(60, 0.003)
_spike[-1] = _spike[-2] * 1.12                            # +12 % in one bar: > price_change_pct_gt 0.10
SPIKE = from_closes(_spike)

_ext = trend(60, 0.003)
_ext[-1] = _ext[-2] * 1.05                                # +5 %: |c − EMA20|/EMA20 ≈ 0.071 > 0.04, move < 0.10
EXTENDED = from_closes(_ext)

RANGING = from_closes(wave(64, 0.0005, 0.02, 7))          # last bar: ADX 9.1 < 21, RSI 52.7 in (47, 53): 2 votes
ADX_FALLING = from_closes(wave(61, 0.003, 0.02, 9))       # last bar: ADX 34.9, ADX slope −1.19, RSI 59
STOCH_HIGH = from_closes(wave(68, 0.001, 0.005, 9))       # last bar: %K 0.891, %D 0.876 (windows 14/3/3)

# BTC falling (close < EMA-slow: bearish flag), ETH rising; 40 bars each.
BTC_BEAR = {"BTC": from_closes(trend(40, -0.003, 42000.0)), "ETH": from_closes(trend(40, 0.003, 2300.0))}

# 100 bars at 160, a decline to 100 over 100 bars, then a 2 %-per-bar recovery: on the last bar
# EMA-fast > EMA-slow and close > EMA-fast, but EMA-slow is still far below EMA-macro(200).
MACRO_BELOW = from_closes(plateau_decline_rise(160.0, 100, 100, 25, 0.02))

# Volume: previous bar 3000 (above its SMA, trend up), last bar 500 (below its SMA; trend still up).
VOL_PREV = with_volumes(from_closes(trend(40, 0.003)), [3000.0, 500.0])

def _btc_alignment(tau: int) -> Callable[[Trades, Trades], None]:
    """A (off): ETH's BUY opens; B (on): no ETH long while BTC is bearish. BTC's own short opens in both."""
    eth = only_a_opens(tau, "ETH", "OPEN_LONG", "BTC bearish: a non-BTC long is not aligned")

    def expect(ta: Trades, tb: Trades) -> None:
        eth(ta, tb)
        for run in (ta, tb):
            assert len(opens_at(run, tau, "BTC", "OPEN_SHORT")) == 1, f"BTC is self-exempt (Q17): {run}"
    return expect


SCENARIOS: list[AxisScenario] = [
    AxisScenario(
        "filters.enable_anomaly_filter", False, True, one("ETH", SPIKE),
        only_a_opens(last_tau(N60), "ETH", "OPEN_LONG", "anomaly filter on: no entry on the +12 % spike bar"),
        base=base(), lookback=N60,
        note="Last bar closes 12 % above the previous close (> price_change_pct_gt 0.10): off → BUY opens; "
             "on → anomaly, no entry on the spike bar (G2)."),
    AxisScenario(
        "filters.enable_extension_filter", False, True, one("ETH", EXTENDED),
        only_a_opens(last_tau(N60), "ETH", "OPEN_LONG", "extension filter on: close too far above EMA-fast"),
        base=base(), lookback=N60,
        note="Last bar +5 %: |close − EMA_fast| / EMA_fast ≈ 0.071 > max_dist_ema_fast 0.04 → extended (G3)."),
    AxisScenario(
        "filters.enable_ranging_filter", False, True, one("ETH", RANGING),
        only_a_opens(last_tau(len(RANGING)), "ETH", "OPEN_LONG", "ranging filter on: 2 ranging votes"),
        base=base(), lookback=len(RANGING),
        note="Choppy drift: last bar ADX 9.1 < adx_below 21 and RSI 52.7 in (47, 53) → 2 votes ≥ min_signals 2 "
             "→ ranging, no entry (G1); the bar is a BUY when the filter is off."),
    AxisScenario(
        "filters.require_adx_rising", False, True, one("ETH", ADX_FALLING),
        only_a_opens(last_tau(len(ADX_FALLING)), "ETH", "OPEN_LONG", "ADX falling and below saturation"),
        base=base(), lookback=len(ADX_FALLING),
        note="Last bar ADX 34.9 with slope −1.19 (falling) and ADX ≤ adx_rising_saturation 40: on → Mode A "
             "blocked (G5); off → BUY."),
    AxisScenario(
        "filters.adx_rising_saturation", 28.0, 52.0, one("ETH", ADX_FALLING),
        only_a_opens(last_tau(len(ADX_FALLING)), "ETH", "OPEN_LONG", "ADX 34.9 ≤ saturation 52 and falling"),
        base=base(filters__require_adx_rising=True), lookback=len(ADX_FALLING),
        note="require_adx_rising on; last bar ADX 34.9 falling: saturation 28 → ADX > 28 passes (BUY), 52 → "
             "blocked (G5)."),
    AxisScenario(
        "filters.require_btc_alignment", False, True, lambda: hand_market(BTC_BEAR),
        _btc_alignment(last_tau(40)),
        base=base(thresholds__entry__btc_adx_override=100.0), lookback=40,
        note="BTC below its EMA-slow (btc_bullish false), ETH BUY: alignment on → no ETH long while BTC is "
             "bearish (G8; btc_adx_override 100 so ETH's ADX never exempts it). BTC's own short (self-exempt) "
             "opens in both runs."),
    AxisScenario(
        "filters.require_macro_alignment", False, True, one("ETH", MACRO_BELOW),
        only_a_opens(last_tau(len(MACRO_BELOW)), "ETH", "OPEN_LONG", "EMA-slow below EMA-macro"),
        base=base(), lookback=len(MACRO_BELOW),
        note="Recovery after a long decline: EMA-fast > EMA-slow but EMA-slow < EMA-macro(200): on → bull "
             "needs EMA-slow > EMA-macro, no long (G7)."),
    AxisScenario(
        "filters.require_volume_confirmation", False, True, one("ETH", UP60),
        only_a_opens(last_tau(N60), "ETH", "OPEN_LONG", "constant volume: v is not > its SMA"),
        base=base(), lookback=N60,
        note="Constant volume 1000: v = vol_sma (not >) and vol_trend false → G4 fails when required."),
    AxisScenario(
        "filters.vol_confirm_include_prev", False, True, one("ETH", VOL_PREV),
        only_b_opens(last_tau(len(VOL_PREV)), "ETH", "OPEN_LONG", "current bar alone fails G4"),
        base=base(filters__require_volume_confirmation=True), lookback=len(VOL_PREV),
        note="Volumes …1000, 3000, 500: last bar v 500 < vol_sma 1075, vol_trend true (1300 > 1075); previous "
             "bar 3000 > its SMA: include_prev 0 → G4 fails; 1 → OR with the previous bar passes (D11)."),
    AxisScenario(
        "filters.use_stoch_rsi_filter", False, True, one("ETH", STOCH_HIGH),
        only_a_opens(last_tau(len(STOCH_HIGH)), "ETH", "OPEN_LONG", "%K and %D both ≥ 0.85"),
        base=base(), lookback=len(STOCH_HIGH),
        note="Last bar %K 0.891 and %D 0.876 ≥ block_long_if_k_gt 0.85: filter on → long blocked (D12)."),
]

# ---- indicator windows (strategy-entries.md §2) ---------------------------------------------------

STOCH_FAST = from_closes(wave(67, 0.001, 0.005, 9))      # %K jumped in the last bars
STOCH_WIN = from_closes(wave(72, 0.001, 0.005, 17))
REV_EMA_FAST = from_closes(reversal(40, -0.002, 11, 0.004))
REV_EMA_SLOW = from_closes(reversal(40, -0.002, 9, 0.004))
MACRO_MID = from_closes(plateau_decline_rise(160.0, 60, 100, 67, 0.006))
RSI_WAVE = from_closes(wave(32, 0.0005, 0.005, 5))
ADX_TREND = from_closes(chop_then_trend(60, 0.01, 5, 17, 0.002))
BB_WAVE = from_closes(wave(61, 0.0005, 0.005, 31))
BBAVG_WAVE = from_closes(wave(72, 0.0005, 0.005, 23))

# ATR: a steady rise whose last five bars have 1 % wicks instead of 0.1 %.
_atr = from_closes(trend(60, 0.003))
ATR_EXPAND = _atr[:-5] + [(o, h * 1.009, l * 0.991, c, v) for (o, h, l, c, v) in _atr[-5:]]

# Volume SMA: 2000 until 10 bars before the end, then 1000 ×9 and 3500 on the last bar.
VOL_SMA = with_volumes(from_closes(trend(60, 0.003)), [2000.0] * 20 + [1000.0] * 9 + [3500.0])
# Volume trend: bars −20..−11 at 3000, −10..−4 at 200, last three at 2000.
VOL_TREND = with_volumes(from_closes(trend(60, 0.003)), [3000.0] * 10 + [200.0] * 7 + [2000.0] * 3)

# Ranging vote reduced to the Bollinger-width vote (ADX < 0 and 50 < RSI < 50 never vote).
BB_ONLY = dict(filters__enable_ranging_filter=True, thresholds__ranging__min_signals=1,
               thresholds__ranging__adx_below=0.0, thresholds__ranging__rsi_low=50.0,
               thresholds__ranging__rsi_high=50.0)


def _same_open_entry_atr(tau: int) -> Callable[[Trades, Trades], None]:
    def expect(ta: Trades, tb: Trades) -> None:
        oa, ob = opens_at(ta, tau, "ETH", "OPEN_LONG"), opens_at(tb, tau, "ETH", "OPEN_LONG")
        assert len(oa) == 1 and len(ob) == 1, (ta, tb)
        assert oa[0]["price"] == ob[0]["price"], "the decision bar and price do not depend on the ATR window"
        assert oa[0]["entry_atr"] > ob[0]["entry_atr"], ("ATR(10) must react more to the recent range "
                                                         f"expansion than ATR(20): {oa[0]} vs {ob[0]}")
    return expect


def _confidence_high_then_medium(tau: int) -> Callable[[Trades, Trades], None]:
    def expect(ta: Trades, tb: Trades) -> None:
        oa, ob = opens_at(ta, tau, "ETH", "OPEN_LONG"), opens_at(tb, tau, "ETH", "OPEN_LONG")
        assert len(oa) == 1 and len(ob) == 1, (ta, tb)
        assert (oa[0]["confidence"], oa[0]["reason"]) == ("High", "High entry"), oa
        assert (ob[0]["confidence"], ob[0]["reason"]) == ("Medium", "Medium entry"), ob
    return expect


SCENARIOS += [
    AxisScenario(
        "indicators.stoch_rsi_smooth2", 2, 5, one("ETH", STOCH_FAST),
        only_b_opens(last_tau(len(STOCH_FAST)), "ETH", "OPEN_LONG", "%D(2) 0.869 ≥ 0.85 with %K 0.938: blocked"),
        base=base(filters__use_stoch_rsi_filter=True), lookback=len(STOCH_FAST),
        note="D12 scenario: %K rose quickly to 0.938 (≥ 0.85); smooth2 2 → %D 0.869, long blocked; "
             "smooth2 5 → %D 0.540, long allowed."),
    AxisScenario(
        "indicators.stoch_rsi_smooth1", 2, 5, one("ETH", STOCH_FAST),
        only_b_opens(last_tau(len(STOCH_FAST)), "ETH", "OPEN_LONG", "%K(2) 0.989, %D 0.869: blocked"),
        base=base(filters__use_stoch_rsi_filter=True), lookback=len(STOCH_FAST),
        note="%K smoothing over the RSI position: smooth1 2 → %K 0.989, %D 0.869 (both ≥ 0.85, long blocked); "
             "smooth1 5 → %K 0.734 (long allowed)."),
    AxisScenario(
        "indicators.stoch_rsi_window", 10, 20, one("ETH", STOCH_WIN),
        only_b_opens(last_tau(len(STOCH_WIN)), "ETH", "OPEN_LONG", "RSI at the top of its 10-bar range"),
        base=base(filters__use_stoch_rsi_filter=True), lookback=len(STOCH_WIN),
        note="Min/max lookback of StochRSI: window 10 → RSI at the top of its range, %K 1.0 / %D 0.959 (long "
             "blocked); window 20 includes an earlier higher RSI → %K 0.873 / %D 0.781 (allowed)."),
    AxisScenario(
        "indicators.ema_fast_window", 5, 20, one("ETH", REV_EMA_FAST),
        only_a_opens(last_tau(len(REV_EMA_FAST)), "ETH", "OPEN_LONG", "EMA-fast(20) still below EMA-slow"),
        base=base(), lookback=len(REV_EMA_FAST),
        note="Rebound after a decline: EMA-fast(5) 95.70 > EMA-slow(50) 95.56 → bull, BUY; EMA-fast(20) 94.63 "
             "< EMA-slow → not bull, no long (G7)."),
    AxisScenario(
        "indicators.ema_slow_window", 20, 50, one("ETH", REV_EMA_SLOW),
        only_a_opens(last_tau(len(REV_EMA_SLOW)), "ETH", "OPEN_LONG", "EMA-fast(10) below EMA-slow(50)"),
        base=base(indicators__ema_fast_window=10), lookback=len(REV_EMA_SLOW),
        note="Rebound after a decline, EMA-fast(10) 94.40: EMA-slow(20) 94.27 → bull, BUY; EMA-slow(50) 95.50 "
             "→ bear side, close above EMA-fast → no signal."),
    AxisScenario(
        "indicators.ema_macro_window", 140, 260, one("ETH", MACRO_MID),
        only_a_opens(last_tau(len(MACRO_MID)), "ETH", "OPEN_LONG", "EMA-slow below EMA-macro(260)"),
        base=base(filters__require_macro_alignment=True), lookback=len(MACRO_MID),
        note="Macro alignment on; recovery after a plateau at 160 and a decline: EMA-slow 132.1 is above "
             "EMA-macro(140) 129.0 but below EMA-macro(260) 135.2, which still weighs the old plateau (G7)."),
    AxisScenario(
        "indicators.rsi_window", 10, 20, one("ETH", RSI_WAVE),
        only_a_opens(last_tau(len(RSI_WAVE)), "ETH", "OPEN_LONG", "RSI(20) 59.8 below the DRE limit 61.5"),
        base=base(thresholds__tp_and_momentum__rsi_long_weak=61.5,
                  thresholds__tp_and_momentum__rsi_long_strong=61.5), lookback=len(RSI_WAVE),
        note="DRE long limit 61.5 (G10): RSI(10) 63.0 > 61.5 → BUY; RSI(20) 59.8 → no long."),
    AxisScenario(
        "indicators.adx_window", 8, 18, one("ETH", ADX_TREND),
        only_a_opens(last_tau(len(ADX_TREND)), "ETH", "OPEN_LONG", "ADX(18) below min_adx 25"),
        base=base(thresholds__entry__min_adx=25.0), lookback=len(ADX_TREND),
        note="A trend starting after a chop: ADX(8) 39.4 > min_adx 25 → BUY; ADX(18) ≈ 11.1 still below → "
             "adx_ok false (G6)."),
    AxisScenario(
        "indicators.atr_window", 10, 20, one("ETH", ATR_EXPAND),
        _same_open_entry_atr(last_tau(len(ATR_EXPAND))),
        base=base(trade__min_atr_pct=0.0), lookback=len(ATR_EXPAND),
        note="Same OPEN (bar, price) in both runs; the last five bars have 1 % wicks instead of 0.1 %, so the "
             "Wilder ATR(10) — the entry ATR with min_atr_pct 0 (T1) — is larger than ATR(20)."),
    AxisScenario(
        "indicators.bb_window", 10, 30, one("ETH", BB_WAVE),
        only_a_opens(last_tau(len(BB_WAVE)), "ETH", "OPEN_LONG", "bb_width_ratio(30) 0.48 < 0.8: ranging"),
        base=base(**BB_ONLY), lookback=len(BB_WAVE),
        note="Ranging vote = Bollinger vote only (min_signals 1, ADX/RSI votes disabled): bb_window 10 → width "
             "ratio 1.09 (not ranging, BUY); 30 → 0.48 < bb_width_ratio_below 0.8 → ranging, no entry."),
    AxisScenario(
        "indicators.bb_width_avg_window", 15, 50, one("ETH", BBAVG_WAVE),
        only_a_opens(last_tau(len(BBAVG_WAVE)), "ETH", "OPEN_LONG", "ratio to the 50-bar width average 0.79"),
        base=base(**BB_ONLY), lookback=len(BBAVG_WAVE),
        note="Ranging vote = Bollinger vote only: width / avg(15) 0.915 (not ranging, BUY); width / avg(50) "
             "0.792 < 0.8 → ranging, no entry."),
    AxisScenario(
        "indicators.vol_sma_window", 10, 30, one("ETH", VOL_SMA),
        _confidence_high_then_medium(last_tau(len(VOL_SMA))),
        base=base(), lookback=len(VOL_SMA),
        note="Last-bar volume 3500: vol_sma(10) 1250 → 3500 > 1250×2.5 → High entry; vol_sma(30) 1750 → "
             "Medium entry (Mode-A confidence)."),
    AxisScenario(
        "indicators.vol_trend_window", 3, 10, one("ETH", VOL_TREND),
        only_a_opens(last_tau(len(VOL_TREND)), "ETH", "OPEN_LONG", "vol_trend(10) false"),
        base=base(filters__require_volume_confirmation=True, filters__vol_confirm_include_prev=False),
        lookback=len(VOL_TREND),
        note="Volume confirmation on (current bar only): v 2000 > vol_sma(20) 1870; mean of last 3 = 2000 > "
             "1870 → vol_trend, BUY; mean of last 10 = 740 → no trend, no entry (G4)."),
]

# ---- market regime: 10-symbol universes (strategy-entries.md §3, §4.4; D7-D10, D31) ------------------

N_REG = 40
UP = from_closes(trend(N_REG, 0.003))
DOWN = from_closes(trend(N_REG, -0.003))
FLAT = from_closes([100.0] * N_REG)
TAU_REG = last_tau(N_REG)
OTHERS = ("ADA", "AVAX", "DOGE", "DOT", "LINK", "LTC", "SOL", "XRP")     # with BTC and ETH: 10 symbols


def universe(kinds: dict[str, Sequence[Bar]], n: int = N_REG) -> Callable[[], EngineInputs]:
    """A universe from a ``symbol → bars`` table (every series ``n`` bars)."""
    assert all(len(b) == n for b in kinds.values())
    return lambda: hand_market({s: list(b) for s, b in kinds.items()})


def ten(n_up: int, btc: Sequence[Bar] | None, last_down: bool = False) -> dict[str, Sequence[Bar]]:
    """A 10-symbol table: ETH rising, BTC as given, the first ``n_up`` OTHERS rising and the rest flat
    (``last_down``: the last one falls instead). Without BTC an extra symbol ``BNB`` makes it 10."""
    table: dict[str, Sequence[Bar]] = {"ETH": UP}
    if btc is not None:
        table["BTC"] = btc
    others = OTHERS if btc is not None else OTHERS + ("BNB",)
    for i, sym in enumerate(others):
        table[sym] = UP if i < n_up else FLAT
    if last_down:
        table[others[-1]] = DOWN
    assert len(table) == 10
    return table


GATE_ON = {"market_regime__enable_regime_gate": True}

# Breadth 20: BTC and ETH rise (BTC ADX 100, ATR/close ≈ 0.005: the BTC checks pass), 8 flat.
B20 = universe(ten(0, btc=UP))
# Breadth 70: BTC, ETH and 5 OTHERS rise, 3 flat.
B70 = universe(ten(5, btc=UP))
# Breadth 100 (BTC's drifting wave counts as bullish too); BTC ADX 17.05 on the context bar, ATR/close 0.0056.
BTC_ADX17 = from_closes(wave(44, 0.0005, 0.005, 5, 42000.0))
UP44 = from_closes(trend(44, 0.003))
B_ADX17 = universe({"BTC": BTC_ADX17, "ETH": UP44, **{s: UP44 for s in OTHERS}}, n=44)
# Breadth 100 with a BTC rising 0.15 % per bar with 0.05 % wicks: ATR/close 0.00244, ADX 100.
BTC_ATR25 = from_closes(trend(N_REG, 0.0015, 42000.0), wick_pct=0.0005)
B_ATR25 = universe(ten(8, btc=BTC_ATR25))
# No BTC in the universe, breadth 100 (outside every chop band).
NO_BTC = universe(ten(9, btc=None))
# Breadth 10: ETH the only riser, BTC and 8 others flat.
B10 = universe(ten(0, btc=FLAT))
# Breadth 70 (BTC, ETH, 5 OTHERS rise) and one falling symbol (XRP, a SELL).
B70_SELL = universe(ten(5, btc=UP, last_down=True))


def _gate(tau: int, closed_in: str, risers: int, why: str) -> Callable[[Trades, Trades], None]:
    """The run named by ``closed_in`` ("a"/"b") opens nothing at τ (closed gate); the other opens one long
    per rising symbol (``risers`` OPEN_LONG, ETH among them) and nothing else."""
    def expect(ta: Trades, tb: Trades) -> None:
        closed, open_ = (ta, tb) if closed_in == "a" else (tb, ta)
        assert not opens_at(closed, tau), f"{closed_in.upper()}: {why}: {closed}"
        longs = opens_at(open_, tau, action="OPEN_LONG")
        assert len(longs) == len(opens_at(open_, tau)) == risers, f"gate open: {risers} BUYs should open: {open_}"
        assert any(t["symbol"] == "ETH" for t in longs), open_
    return expect


def _mirrored(tau: int, action_a: str, risers: int) -> Callable[[Trades, Trades], None]:
    """The same ``risers`` symbols open at τ in both runs, all ``action_a`` with A and all the opposite
    side with B (T2 flips the direction only: confidence is kept)."""
    other = {"OPEN_LONG": "OPEN_SHORT", "OPEN_SHORT": "OPEN_LONG"}[action_a]

    def expect(ta: Trades, tb: Trades) -> None:
        oa, ob = opens_at(ta, tau), opens_at(tb, tau)
        assert len(oa) == risers and {t["action"] for t in oa} == {action_a}, f"A: {risers} × {action_a}: {ta}"
        assert {t["action"] for t in ob} == {other}, f"B: every open must be {other}: {tb}"
        key = sorted((t["symbol"], t["confidence"]) for t in oa)
        assert key == sorted((t["symbol"], t["confidence"]) for t in ob), "same symbols, same confidence"
        assert "ETH" in {t["symbol"] for t in oa}
    return expect


def _short_block(tau: int) -> Callable[[Trades, Trades], None]:
    """A (short_above 63): XRP's SELL is neutralised at breadth 70; B (90): it opens. Longs unchanged."""
    def expect(ta: Trades, tb: Trades) -> None:
        la = [t["symbol"] for t in opens_at(ta, tau, action="OPEN_LONG")]
        lb = [t["symbol"] for t in opens_at(tb, tau, action="OPEN_LONG")]
        assert la == lb and len(la) == 7, f"the seven BUYs are not affected by the short block: {la} vs {lb}"
        assert not opens_at(ta, tau, action="OPEN_SHORT"), f"A: breadth 70 > 63 neutralises SELLs: {ta}"
        assert [t["symbol"] for t in opens_at(tb, tau, action="OPEN_SHORT")] == ["XRP"], tb
    return expect


# Breadth undefined: two bars only, the entry on the second bar sees a context built from one bar per
# symbol (breadth needs ≥ 2 processed bars, §3.2). Universe: BTC + ETH rising.
B_UNDEF = universe({"BTC": UP[:2], "ETH": UP[:2]}, n=2)


SCENARIOS += [
    AxisScenario(
        "market_regime.enable_regime_gate", False, True, B20,
        _gate(TAU_REG, "b", 2, "gate closed: breadth 20 in the chop band [20, 80]"),
        base=base(), lookback=N_REG,
        note="10 symbols, breadth 20 (2 of 10 bullish): on → 20 ≤ 20 ≤ 80, gate closed, no OPEN at all in the "
             "window; off → the risers' BUYs open (T4, D9)."),
    AxisScenario(
        "market_regime.regime_gate_breadth_low", 14.0, 26.0, B20,
        _gate(TAU_REG, "a", 2, "band 14–56 contains breadth 20: gate closed"),
        base=base(**GATE_ON, market_regime__regime_gate_breadth_high=56.0), lookback=N_REG,
        note="D31: breadth 20; band 14–56 closes the gate (no entry), band 26–56 leaves it open (BUYs open)."),
    AxisScenario(
        "market_regime.regime_gate_breadth_high", 56.0, 80.0, B70,
        _gate(TAU_REG, "b", 7, "band 20–80 contains breadth 70: gate closed"),
        base=base(**GATE_ON), lookback=N_REG,
        note="Breadth 70 (7 of 10 bullish): band 20–56 → outside, gate open (BUYs open); band 20–80 → chop, "
             "gate closed, no OPEN."),
    AxisScenario(
        "market_regime.regime_gate_btc_adx_min", 14.0, 20.0, B_ADX17,
        _gate(last_tau(44), "b", 10, "BTC ADX 17.05 < 20: gate closed"),
        base=base(**GATE_ON, market_regime__regime_gate_btc_atr_pct_min=0.0021), lookback=44,
        note="D31: breadth 100 (outside the band), BTC ADX 17.05 on the context bar (ATR/close 0.0056): "
             "btc_adx_min 14 → open (BUYs open), 20 → closed (no OPEN)."),
    AxisScenario(
        "market_regime.regime_gate_btc_atr_pct_min", 0.0021, 0.003, B_ATR25,
        _gate(TAU_REG, "b", 10, "BTC ATR/close 0.00244 < 0.003: gate closed"),
        base=base(**GATE_ON), lookback=N_REG,
        note="D31: breadth 100, BTC ADX 100, BTC ATR/close 0.00244 (0.15 % steps, 0.05 % wicks): "
             "atr_pct_min 0.0021 → open, 0.003 → closed."),
    AxisScenario(
        "market_regime.regime_gate_fail_open", False, True, NO_BTC,
        _gate(TAU_REG, "a", 10, "no BTC bank and fail_open 0: gate closed"),
        base=base(**GATE_ON), lookback=N_REG,
        name="no BTC",
        note="D31: universe without BTC/BTCUSDT, breadth 100 (outside the band): the gate falls back to "
             "regime_gate_fail_open — 0 blocks every entry, 1 lets the BUYs open."),
    AxisScenario(
        "market_regime.regime_gate_fail_open", False, True, B_UNDEF,
        _gate(last_tau(2), "a", 2, "breadth undefined and fail_open 0: gate closed"),
        base=base(**GATE_ON, thresholds__entry__enable_pullback_entries=True,
                  thresholds__entry__pullback_min_adx=0.0), lookback=2,
        name="breadth undefined",
        note="§3.3: on the second bar the window context was built from one processed bar per symbol, so "
             "breadth is undefined and the gate state is regime_gate_fail_open: 0 → no entry, 1 → BTC and ETH "
             "open. The signal is a Mode-B pullback (close crosses EMA-fast from the seed bar; ADX is still 0, "
             "which Mode A's strict adx_ok never passes, Mode B's ADX ≥ 0 does; RSI placeholder 50 ≥ 50)."),
    AxisScenario(
        "market_regime.enable_regime_filter", False, True, B10,
        only_a_opens(TAU_REG, "ETH", "OPEN_LONG", "breadth 10 < breadth_block_long_below 13: BUY neutralised"),
        base=base(market_regime__breadth_block_long_below=13.0), lookback=N_REG,
        note="D31: 10 symbols, 1 bullish (breadth 10): filter on with long_below 13 neutralises ETH's BUY (T3)."),
    AxisScenario(
        "market_regime.breadth_block_long_below", 10.0, 13.0, B10,
        only_a_opens(TAU_REG, "ETH", "OPEN_LONG", "breadth 10 < 13: BUY neutralised"),
        base=base(market_regime__enable_regime_filter=True), lookback=N_REG,
        note="D31: breadth 10.0; long_below 13 neutralises the BUY, 10 does not (strict <)."),
    AxisScenario(
        "market_regime.breadth_block_short_above", 63.0, 90.0, B70_SELL,
        _short_block(TAU_REG),
        base=base(market_regime__enable_regime_filter=True), lookback=N_REG,
        note="Breadth 70, XRP falling (SELL): short_above 63 → 70 > 63 neutralises the SELL; 90 → the short "
             "opens. The seven BUYs open in both runs (long_below 10)."),
    AxisScenario(
        "market_regime.enable_auto_reverse", False, True, B70,
        _mirrored(TAU_REG, "OPEN_LONG", 7),
        base=base(), lookback=N_REG,
        note="D31: breadth 70 within [10, 90]: auto-reverse on turns every BUY (the 7 risers, ETH among them) "
             "into a SHORT entry (T2, D10)."),
    AxisScenario(
        "market_regime.auto_reverse_breadth_high", 90.0, 63.0, B70,
        _mirrored(TAU_REG, "OPEN_SHORT", 7),
        base=base(market_regime__enable_auto_reverse=True), lookback=N_REG,
        note="D31: auto-reverse on, breadth 70: high 90 → flipped (OPEN_SHORT); high 63 → 70 > 63, stays a BUY."),
    AxisScenario(
        "market_regime.auto_reverse_breadth_low", 10.0, 13.0, B10,
        opens_a_then_b(TAU_REG, "ETH", "OPEN_SHORT", "OPEN_LONG"),
        base=base(market_regime__enable_auto_reverse=True), lookback=N_REG,
        note="D31: auto-reverse on, breadth 10: low 10 → 10 ≤ 10 flips the BUY (OPEN_SHORT); low 13 → stays a "
             "BUY."),
]
