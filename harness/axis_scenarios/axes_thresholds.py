"""Liveness scenarios of the 35 entry-threshold axes (``thresholds.*`` gates, modes, DRE, ranging, anomaly,
StochRSI; strategy-entries.md §4.2–§4.3, DECISIONS.md D12, D20, D31).

Every scenario runs a base that isolates one gate (the other entry filters off, ``entry_min_confidence``
low, pyramiding, SSF and REEF off, so a signal becomes an OPEN) and predicts *where* the two values
differ: the first trade-log record where the runs part is an entry action (an OPEN, or the
"Signal Flip" close that a new signal triggers) of the looser value that the stricter value does not
take at that decision time, on a bar whose gating quantity lies between the two thresholds — e.g.
"min_adx 10 opens on a bar with 10 < ADX ≤ 25 that min_adx 25 blocks". Until that record both runs
are identical (same market, same state), so it is the very bar the axis decides. The bar's quantity is
read from the symbol's indicator snapshot of the bar that closed at the record's time (main-bar entry
mode, §5.1), computed by the reference indicator layer with the variant's windows (an oracle for the
market condition, not for the engine under test). Confidence axes instead predict the same OPEN with
another confidence label ("<Conf> entry").
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from harness.axis_scenarios.builders import from_closes, hand_market, synthetic
from harness.axis_scenarios.framework import AxisScenario, Trades, opens
from harness.engine_inputs import EngineInputs

HOUR_MS = 3_600_000

# ---- snapshot oracle --------------------------------------------------------------------------------

_INDICATOR_FLAGS = ("filters.use_stoch_rsi_filter",)


@lru_cache(maxsize=64)
def _snapshots(market: Callable[[], EngineInputs], windows: tuple[tuple[str, object], ...]) -> dict:
    """symbol -> {close time ms: IndicatorSnapshot} of every main bar (1h main interval)."""
    from engine_ref.config_loader import load_config
    from engine_ref.indicators import SymbolIndicators

    cfg = load_config(None, sweep_overrides=dict(windows))
    out: dict[str, dict[int, Any]] = {}
    for sym, a in market().main.items():
        ind, per = SymbolIndicators.from_config(cfg), {}
        for k in range(len(a["t"])):
            snap = ind.update(t=int(a["t"][k]), o=a["o"][k], h=a["h"][k], l=a["l"][k], c=a["c"][k], v=a["v"][k])
            per[int(a["t"][k]) + HOUR_MS] = snap
        out[sym] = per
    return out


def _indicator_keys(flat: Mapping[str, object]) -> tuple[tuple[str, object], ...]:
    from engine_ref.indicators import WINDOW_KEYS

    keys = {path for _, path in WINDOW_KEYS} | set(_INDICATOR_FLAGS)
    return tuple(sorted((k, v) for k, v in flat.items() if k in keys))


@dataclass(frozen=True)
class Entry:
    """The divergent entry action: its record, direction, snapshot, and the variant's flat config."""

    rec: dict
    side: str  # "long" / "short": the direction of the signal that acted
    s: Any  # snapshot of the bar that closed at the record's time
    cfg: Mapping[str, object]
    snaps: dict
    market: Any = None

    def v(self, path: str) -> Any:
        """A config value the scenario's base sets explicitly (the predicates read no defaults)."""
        return self.cfg[path]

    def snap_with(self, **overrides: object) -> Any:
        """The same bar's snapshot under other indicator windows (``path=value`` with dots as ``__``)."""
        flat = {**self.cfg, **{k.replace("__", "."): v for k, v in overrides.items()}}
        return _snapshots(self.market, _indicator_keys(flat))[self.rec["symbol"]][self.rec["timestamp_ms"]]

    @property
    def low(self) -> bool:
        """Opened with Low confidence (Mode B with pullback_confidence low, or Mode C)."""
        return self.rec["confidence"] == "Low"

    @property
    def btc_bullish(self) -> bool | None:
        """§3.1 flag of the record's window: BTC's latest bar closed at or before τ − 1h."""
        per = self.snaps.get("BTC")
        if not per:
            return None
        times = [t for t in per if t <= self.rec["timestamp_ms"] - HOUR_MS]
        if not times:
            return None
        b = per[max(times)]
        return b.c > b.ema_slow

    def describe(self) -> str:
        """The record and the bar's gating quantities, for assertion messages."""
        s, nan = self.s, float("nan")
        pc = abs(s.c - s.prev_close) / s.prev_close if s.prev_close else 0.0
        return (f"{self.rec['action']} {self.rec['symbol']} @{self.rec['timestamp_ms']} ({self.side}, "
                f"{self.rec['reason']!r}): adx={s.adx:.3f} adx_slope={s.adx_slope:.3f} rsi={s.rsi:.3f} "
                f"atr/avg={s.atr / s.avg_atr if s.avg_atr else nan:.4f} bbwr={s.bb_width_ratio:.4f} "
                f"macd={s.macd_hist:.5g} prev_macd={s.prev_macd_hist:.5g} k={s.stoch_k:.3f} d={s.stoch_d:.3f} "
                f"dist={abs(s.c - s.ema_fast) / s.ema_fast:.5f} pc={pc:.5f} "
                f"slope={s.ema_slow_slope_pct:.6f} v/vsma={s.v / s.vol_sma if s.vol_sma else nan:.3f}")


def first_diff(ta: Trades, tb: Trades) -> int | None:
    """Index of the first record where the two logs differ (None if equal)."""
    for i in range(min(len(ta), len(tb))):
        if ta[i] != tb[i]:
            return i
    return None if len(ta) == len(tb) else min(len(ta), len(tb))


def _entry_side(rec: dict) -> str | None:
    """Direction of the signal behind an entry action: OPEN_LONG -> long; a Signal-Flip CLOSE_LONG -> short."""
    act = rec["action"]
    if act.startswith("OPEN_"):
        return "long" if act == "OPEN_LONG" else "short"
    if act.startswith("CLOSE_") and rec["reason"] == "Signal Flip":
        return "short" if act == "CLOSE_LONG" else "long"
    return None


def _key(rec: dict) -> tuple:
    return rec["timestamp_ms"], rec["symbol"], rec["action"]


def divergent_entry(loose: Trades, tight: Trades, market, flat: Mapping[str, object]) -> Entry:
    """The first record where the runs part must be an entry action of ``loose`` absent from ``tight``."""
    i = first_diff(loose, tight)
    assert i is not None and i < len(loose), "the looser value took no extra action where the runs part"
    rec = loose[i]
    side = _entry_side(rec)
    assert side is not None, f"first divergent record is not an entry action: {rec}"
    assert not any(_key(r) == _key(rec) for r in tight), f"the stricter value also took {_key(rec)}"
    assert i == len(tight) or tight[i]["timestamp_ms"] >= rec["timestamp_ms"], \
        f"the stricter value acted first: {tight[i]}"
    snaps = _snapshots(market, _indicator_keys(flat))
    return Entry(rec, side, snaps[rec["symbol"]][rec["timestamp_ms"]], flat, snaps, market)


def admits(axis: str, loose: object, tight: object, market, base: Mapping[str, object],
           why: Callable[[Entry], bool], note: str, *, name: str = "", loose_is_a: bool = True,
           lookback: int = 0, more: Callable[[Trades, Trades], None] | None = None) -> AxisScenario:
    """``loose`` admits an entry that ``tight`` blocks, on a bar where ``why(entry)`` holds."""

    def expect(ta: Trades, tb: Trades) -> None:
        lo, ti = (ta, tb) if loose_is_a else (tb, ta)
        e = divergent_entry(lo, ti, market, {**base, axis: loose})
        assert why(e), f"{axis}: the divergent entry is not on a bar the axis decides: {e.describe()}"
        if more is not None:
            more(lo, ti)

    a, b = (loose, tight) if loose_is_a else (tight, loose)
    return AxisScenario(axis, a, b, market, expect, base=dict(base), note=note, lookback=lookback, name=name)


def relabels(axis: str, a: object, b: object, market, base: Mapping[str, object], conf_a: str, conf_b: str,
             why: Callable[[Entry], bool], note: str, *, name: str = "", lookback: int = 0) -> AxisScenario:
    """Both values open at the same bar; the OPEN carries confidence ``conf_a`` vs ``conf_b``."""

    def expect(ta: Trades, tb: Trades) -> None:
        i = first_diff(ta, tb)
        assert i is not None and i < len(ta) and i < len(tb), "one log ends where they part"
        tau = ta[i]["timestamp_ms"]
        # ranking puts higher confidence first, so the same OPENs of τ may come in another order (§4.7)
        pairs = [(ra, rb) for ra in ta[i:] if ra["timestamp_ms"] == tau and ra["action"].startswith("OPEN_")
                 for rb in tb[i:] if rb["timestamp_ms"] == tau and _key(rb) == _key(ra)]
        changed = [(ra, rb) for ra, rb in pairs if ra["confidence"] != rb["confidence"]]
        assert changed, f"no OPEN of τ={tau} changed its confidence: {ta[i]} / {tb[i]}"
        for ra, rb in changed:
            assert (ra["reason"], ra["confidence"]) == (f"{conf_a} entry", conf_a), ra
            assert (rb["reason"], rb["confidence"]) == (f"{conf_b} entry", conf_b), rb
        ra = changed[0][0]
        snaps = _snapshots(market, _indicator_keys({**base, axis: a}))
        e = Entry(ra, _entry_side(ra), snaps[ra["symbol"]][tau], {**base, axis: a}, snaps, market)
        assert why(e), f"{axis}: the relabelled OPEN is not on a bar the axis decides: {e.describe()}"

    return AxisScenario(axis, a, b, market, expect, base=dict(base), note=note, lookback=lookback, name=name)


# ---- bases ------------------------------------------------------------------------------------------

#: Every entry filter off, every signal an OPEN: a scenario turns on only the gate it tests.
OPEN_ALL: dict[str, object] = {
    "trade.entry_min_confidence": "low",
    "trade.enable_pyramiding": False,
    "trade.enable_ssf_filter": False,
    "trade.enable_reef_filter": False,
    "filters.enable_ranging_filter": False,
    "filters.enable_anomaly_filter": False,
    "filters.enable_extension_filter": False,
    "filters.require_adx_rising": False,
    "filters.require_btc_alignment": False,
    "filters.use_stoch_rsi_filter": False,
    "thresholds.entry.ave_enabled": False,
}


def with_(*parts: Mapping[str, object]) -> dict[str, object]:
    """The union of flat override maps (later parts win)."""
    out: dict[str, object] = {}
    for p in parts:
        out.update(p)
    return out


JUMP_BAR = 120  # index of the jump bar of the hand-built anomaly markets (the first ready bar)


def _jump_market(jump: float) -> Callable[[], EngineInputs]:
    """One symbol rising 0.3 % a bar for 120 bars, then a bar that closes ``jump`` x the previous close."""

    @lru_cache(maxsize=1)
    def market() -> EngineInputs:
        closes = [100.0 * 1.003 ** k for k in range(JUMP_BAR)]
        closes.append(closes[-1] * jump)
        closes += [closes[-1] * 1.003 ** k for k in range(1, 6)]
        return hand_market({"ETH": from_closes(closes)})

    return market


#: +58 %: |close − EMA_fast| / EMA_fast ≈ 0.5 at the jump bar.
jump_58 = _jump_market(1.58)
#: +10 %: close-to-close change 0.10 at the jump bar.
jump_10 = _jump_market(1.10)


def syn() -> EngineInputs:
    """BTC + one altcoin, 30 days of seeded 1h bars."""
    return synthetic(2, 30, 7)


LB = 50  # lookback: ADX, Bollinger-width average and StochRSI past their warm-up before the first entry

E = "thresholds.entry."
R = "thresholds.ranging."
TM = "thresholds.tp_and_momentum."
SR = "thresholds.stoch_rsi."

#: DRE limits independent of ADX (weak = strong), so min_adx moves only the ADX floor.
FLAT_DRE = {TM + "rsi_long_weak": 52.0, TM + "rsi_long_strong": 52.0,
            TM + "rsi_short_weak": 48.0, TM + "rsi_short_strong": 48.0}


def dist(s: Any) -> float:
    return abs(s.c - s.ema_fast) / s.ema_fast


def atr_ratio(s: Any) -> float:
    return s.atr / s.avg_atr


def dre_limits(e: Entry) -> tuple[float, float]:
    """G10 with the variant's values (all five keys set in the scenario's base or axis)."""
    lo = e.v(E + "min_adx")
    strong = e.v(TM + "adx_strong_gt")
    hi = strong if strong > lo else lo + 1.0
    w = min(max((e.s.adx - lo) / (hi - lo), 0.0), 1.0)
    lw, ls, sw, ss = (e.v(TM + k) for k in
                      ("rsi_long_weak", "rsi_long_strong", "rsi_short_weak", "rsi_short_strong"))
    return lw + (w * (ls - lw)), sw + (w * (ss - sw))


def dre_with(e: Entry, **kv: float) -> tuple[float, float]:
    """G10 limits at the same bar with other ``tp_and_momentum`` values (the other variant's)."""
    cfg = {**e.cfg, **{TM + k: v for k, v in kv.items()}}
    return dre_limits(Entry(e.rec, e.side, e.s, cfg, e.snaps, e.market))


def crossed(e: Entry) -> bool:
    """Mode-B cross of EMA-fast in the entry's direction (§4.3)."""
    s = e.s
    if e.side == "long":
        return s.prev_close <= s.prev_ema_fast and s.c > s.ema_fast
    return s.prev_close >= s.prev_ema_fast and s.c < s.ema_fast


def votes(e: Entry) -> int:
    s = e.s
    return (int(s.adx < e.v(R + "adx_below")) + int(s.bb_width_ratio < e.v(R + "bb_width_ratio_below"))
            + int(e.v(R + "rsi_low") < s.rsi < e.v(R + "rsi_high")))


#: The default vote thresholds, spelled out for the predicates.
DEFAULT_VOTES = {R + "adx_below": 21.0, R + "bb_width_ratio_below": 0.8, R + "rsi_low": 47.0, R + "rsi_high": 53.0}


#: The ranging filter on with one decisive vote: ``min_signals`` 1 and the other two votes impossible.
def one_vote(**kv: float) -> dict[str, object]:
    votes_off = {R + "adx_below": 0.0, R + "bb_width_ratio_below": 0.0,  # ADX, ratio >= 0: never below 0
                 R + "rsi_low": 61.1, R + "rsi_high": 37.1}  # empty band (grid points): never votes
    return {"filters.enable_ranging_filter": True, R + "min_signals": 1, E + "min_adx": 10.0,
            **votes_off, **{R + k: v for k, v in kv.items()}}


PULLBACK = with_(OPEN_ALL, {E + "enable_pullback_entries": True, E + "pullback_confidence": "low",
                            E + "pullback_min_adx": 15.4, E + "pullback_require_macd_sign": False,
                            E + "pullback_rsi_long_min": 35.0, E + "pullback_rsi_short_max": 65.0})
SLOW = with_(OPEN_ALL, {E + "enable_slow_drift_entries": True, E + "slow_drift_min_adx": 7.0,
                        E + "slow_drift_min_slope_pct": 0.00042, E + "slow_drift_require_macd_sign": False,
                        E + "slow_drift_rsi_long_min": 35.0, E + "slow_drift_rsi_short_max": 65.0})
AVE = with_(OPEN_ALL, FLAT_DRE, {E + "ave_enabled": True, E + "min_adx": 20.0, E + "ave_atr_ratio_gt": 1.05,
                                 E + "ave_adx_mult": 1.625})


def _dre(min_adx: float, strong_gt: float) -> dict[str, object]:
    """DRE anchors plus the defaults of the four limits (each scenario then moves one)."""
    return {E + "min_adx": min_adx, TM + "adx_strong_gt": strong_gt, TM + "rsi_long_weak": 56.0,
            TM + "rsi_long_strong": 52.0, TM + "rsi_short_weak": 44.0, TM + "rsi_short_strong": 48.0}


def _fewer(fewer: Trades, more: Trades) -> None:
    assert len(opens(fewer)) < len(opens(more)), (len(opens(fewer)), len(opens(more)))


def _no_opens_only_in(none: Trades, some: Trades) -> None:
    assert not opens(none) and opens(some), (len(opens(none)), len(opens(some)))


def slope_ok(e: Entry, slope: float, min_slope: float) -> bool:
    return slope >= min_slope if e.side == "long" else slope <= -min_slope


SCENARIOS: list[AxisScenario] = [
    # ---- G6: min ADX, TMC, AVE ----
    admits(E + "min_adx", 10.0, 25.0, syn, with_(OPEN_ALL, FLAT_DRE),
           lambda e: 10.0 < e.s.adx <= 25.0,
           "Mode A needs ADX > min_adx (AVE off, DRE flat, TMC caps at 25): min_adx 10 opens on a bar with "
           "10 < ADX <= 25 that min_adx 25 blocks.", lookback=LB),
    admits(E + "ave_enabled", False, True, syn, AVE,
           lambda e: atr_ratio(e.s) > 1.05 and 20.0 < e.s.adx <= 20.0 * 1.625,
           "AVE on multiplies min ADX 20 by 1.625 when ATR/avgATR > 1.05: off opens on an expanding bar with "
           "20 < ADX <= 32.5 that on blocks.", lookback=LB),
    admits(E + "ave_adx_mult", 0.875, 1.625, syn, AVE,
           lambda e: atr_ratio(e.s) > 1.05 and 20.0 * 0.875 < e.s.adx <= 20.0 * 1.625,
           "In volatility expansion (ATR/avgATR > 1.05) the effective min ADX is 20 x mult: 0.875 opens on a "
           "bar with 17.5 < ADX <= 32.5 that 1.625 blocks.", lookback=LB),
    admits(E + "ave_atr_ratio_gt", 1.95, 1.05, syn, AVE,
           lambda e: 1.05 < atr_ratio(e.s) <= 1.95 and 20.0 < e.s.adx <= 32.5,
           "AVE tightens min ADX 20 -> 32.5 only when ATR/avgATR > ave_atr_ratio_gt: 1.95 opens on a bar with "
           "1.05 < ratio <= 1.95 and 20 < ADX <= 32.5 that 1.05 blocks.", lookback=LB),
    admits(E + "ave_avg_atr_window", 30, 80, syn, AVE,
           lambda e: (atr_ratio(e.s) <= 1.05 < atr_ratio(e.snap_with(thresholds__entry__ave_avg_atr_window=80))
                      and 20.0 < e.s.adx <= 32.5),
           "The AVE baseline avgATR is the mean ATR over this window: on a bar where ATR/avgATR(30) <= 1.05 < "
           "ATR/avgATR(80) only window 80 tightens min ADX 20 -> 32.5, so window 30 opens (20 < ADX <= 32.5).",
           lookback=LB),
    # ---- G8: BTC alignment override ----
    admits(E + "btc_adx_override", 28.0, 52.0, syn,
           with_(OPEN_ALL, {"filters.require_btc_alignment": True, "indicators.adx_window": 7}),
           lambda e: (e.rec["symbol"] != "BTC" and e.btc_bullish is not None
                      and e.btc_bullish == (e.side == "short") and 28.0 < e.s.adx <= 52.0),
           "With BTC alignment on, an altcoin may trade against the BTC trend when its ADX > btc_adx_override: "
           "28 opens against BTC on a bar with 28 < ADX <= 52 that 52 blocks (ADX window 7: the seeded altcoin "
           "follows BTC closely and reaches ADX > 28 against it only with the faster ADX).", lookback=LB),
    # ---- G3 extension ----
    admits(E + "max_dist_ema_fast", 0.05, 0.02, syn, with_(OPEN_ALL, {"filters.enable_extension_filter": True}),
           lambda e: 0.02 < dist(e.s) <= 0.05,
           "Extension filter on: 0.05 opens on a bar whose close is 2-5 % from EMA-fast, which 0.02 blocks.",
           lookback=LB),
    # ---- Mode A: MACD mode, confidence ----
    admits(E + "macd_hist_entry_mode", "none", "accel", syn, OPEN_ALL,
           lambda e: e.s.macd_hist <= e.s.prev_macd_hist if e.side == "long" else e.s.macd_hist >= e.s.prev_macd_hist,
           "Mode-A MACD condition: none opens on a bar whose histogram is not accelerating in the entry's "
           "direction, which accel blocks.", name="none-vs-accel", lookback=LB),
    admits(E + "macd_hist_entry_mode", "sign", "accel", syn, OPEN_ALL,
           lambda e: ((e.s.macd_hist > 0.0 >= e.s.macd_hist - e.s.prev_macd_hist) if e.side == "long"
                      else (e.s.macd_hist < 0.0 <= e.s.macd_hist - e.s.prev_macd_hist)),
           "sign opens on a bar whose histogram has the entry's sign but is decelerating, which accel blocks.",
           name="sign-vs-accel", lookback=LB),
    relabels(E + "high_conf_volume_mult", 1.75, 3.25, syn, OPEN_ALL, "High", "Medium",
             lambda e: e.s.vol_sma * 1.75 < e.s.v <= e.s.vol_sma * 3.25,
             "Mode-A confidence is High iff volume > vol_SMA x mult: the same OPEN is 'High entry' with 1.75 and "
             "'Medium entry' with 3.25 on a bar with 1.75 < v/vol_SMA <= 3.25.", lookback=LB),
    # ---- Mode B: pullback ----
    admits(E + "enable_pullback_entries", True, False, syn, PULLBACK,
           lambda e: e.low and crossed(e),
           "Mode B on: a close crossing EMA-fast in an aligned trend opens 'Low entry' (pullback_confidence "
           "low; Mode A only gives Medium/High, Mode C off); off takes no such entry.", lookback=LB),
    relabels(E + "pullback_confidence", "low", "medium", syn, PULLBACK, "Low", "Medium",
             lambda e: crossed(e),
             "Pullback entries carry pullback_confidence: the same Mode-B OPEN (an EMA-fast cross) is "
             "'Low entry' vs 'Medium entry'.", lookback=LB),
    admits(E + "pullback_min_adx", 15.4, 28.6, syn, PULLBACK,
           lambda e: e.low and crossed(e) and 15.4 <= e.s.adx < 28.6,
           "Mode B needs ADX >= pullback_min_adx: 15.4 opens a Low pullback on a bar with 15.4 <= ADX < 28.6 "
           "that 28.6 blocks.", lookback=LB),
    admits(E + "pullback_require_macd_sign", False, True, syn, PULLBACK,
           lambda e: e.low and crossed(e) and (e.s.macd_hist <= 0.0 if e.side == "long" else e.s.macd_hist >= 0.0),
           "Mode B with the MACD-sign requirement off opens a Low pullback whose histogram has the wrong sign, "
           "which the requirement blocks.", lookback=LB),
    admits(E + "pullback_rsi_long_min", 35.0, 65.0, syn, PULLBACK,
           lambda e: e.low and crossed(e) and e.side == "long" and 35.0 <= e.s.rsi < 65.0,
           "Mode-B longs need RSI >= pullback_rsi_long_min: 35 opens a Low pullback long with 35 <= RSI < 65 "
           "that 65 blocks.", lookback=LB),
    admits(E + "pullback_rsi_short_max", 65.0, 35.0, syn, PULLBACK,
           lambda e: e.low and crossed(e) and e.side == "short" and 35.0 < e.s.rsi <= 65.0,
           "Mode-B shorts need RSI <= pullback_rsi_short_max: 65 opens a Low pullback short with 35 < RSI <= 65 "
           "that 35 blocks.", lookback=LB),
    # ---- Mode C: slow drift ----
    admits(E + "enable_slow_drift_entries", True, False, syn, SLOW,
           lambda e: e.low and slope_ok(e, e.s.ema_slow_slope_pct, 0.00042),
           "Mode C on: a steady EMA-slow slope (|slope| >= 0.00042) opens 'Low entry' (Mode A gives only "
           "Medium/High, Mode B off); off takes no such entry.", name="mode-C", lookback=LB),
    admits(E + "slow_drift_min_adx", 7.0, 13.0, syn, SLOW,
           lambda e: e.low and 7.0 <= e.s.adx < 13.0,
           "Mode C needs ADX >= slow_drift_min_adx: 7 opens a Low slow-drift entry with 7 <= ADX < 13 that 13 "
           "blocks.", lookback=LB),
    admits(E + "slow_drift_min_slope_pct", 0.00042, 0.00078, syn, SLOW,
           lambda e: e.low and slope_ok(e, e.s.ema_slow_slope_pct, 0.00042)
           and not slope_ok(e, e.s.ema_slow_slope_pct, 0.00078),
           "Mode C needs |EMA-slow slope| >= slow_drift_min_slope_pct in the trend direction: 0.00042 opens a "
           "Low entry with 0.00042 <= |slope| < 0.00078 that 0.00078 blocks.", lookback=LB),
    admits(E + "slow_drift_require_macd_sign", False, True, syn, SLOW,
           lambda e: e.low and (e.s.macd_hist <= 0.0 if e.side == "long" else e.s.macd_hist >= 0.0),
           "Mode C with the MACD-sign requirement off opens a Low entry whose histogram has the wrong sign, "
           "which the requirement blocks.", lookback=LB),
    admits(E + "slow_drift_rsi_long_min", 35.0, 65.0, syn, SLOW,
           lambda e: e.low and e.side == "long" and 35.0 <= e.s.rsi < 65.0,
           "Mode-C longs need RSI >= slow_drift_rsi_long_min: 35 opens a Low long with 35 <= RSI < 65 that 65 "
           "blocks.", lookback=LB),
    admits(E + "slow_drift_rsi_short_max", 65.0, 35.0, syn, SLOW,
           lambda e: e.low and e.side == "short" and 35.0 < e.s.rsi <= 65.0,
           "Mode-C shorts need RSI <= slow_drift_rsi_short_max: 65 opens a Low short with 35 < RSI <= 65 that "
           "35 blocks.", lookback=LB),
    admits(E + "slow_drift_slope_window", 10, 40, syn, SLOW,
           lambda e: e.low and slope_ok(e, e.s.ema_slow_slope_pct, 0.00042) and not slope_ok(
               e, e.snap_with(thresholds__entry__slow_drift_slope_window=40).ema_slow_slope_pct, 0.00042),
           "The EMA-slow slope is measured over slow_drift_slope_window bars: window 10 opens a Low slow-drift "
           "entry on a bar whose 10-bar slope passes 0.00042 and whose 40-bar slope does not.", lookback=LB),
    # ---- G1 ranging vote ----
    admits(R + "adx_below", 14.7, 27.3, syn, with_(OPEN_ALL, FLAT_DRE, one_vote()),
           lambda e: 14.7 <= e.s.adx < 27.3,
           "Ranging filter on, min_signals 1, only the ADX vote possible: adx_below 14.7 opens on a bar with "
           "14.7 <= ADX < 27.3 that 27.3 calls ranging.", lookback=LB),
    admits(R + "bb_width_ratio_below", 0.56, 1.04, syn, with_(OPEN_ALL, FLAT_DRE, one_vote()),
           lambda e: 0.56 <= e.s.bb_width_ratio < 1.04,
           "Ranging filter on, min_signals 1, only the BB-width vote possible: 0.56 opens on a bar with "
           "0.56 <= width ratio < 1.04 that 1.04 calls ranging.", lookback=LB),
    admits(R + "rsi_high", 53.0, 68.9, syn, with_(OPEN_ALL, FLAT_DRE, one_vote(rsi_low=32.9)),
           lambda e: 53.0 <= e.s.rsi < 68.9,
           "Ranging filter on, min_signals 1, only the RSI-band vote possible (rsi_low 32.9): rsi_high 53 opens "
           "on a bar with 53 <= RSI < 68.9 that 68.9 calls ranging.", lookback=LB),
    admits(R + "rsi_low", 61.1, 47.0, syn, with_(OPEN_ALL, FLAT_DRE, one_vote(rsi_high=68.9)),
           lambda e: 47.0 < e.s.rsi <= 61.1,
           "Ranging filter on, min_signals 1, only the RSI-band vote possible (rsi_high 68.9): rsi_low 61.1 "
           "opens on a bar with 47 < RSI <= 61.1 that 47 calls ranging.", lookback=LB),
    admits(R + "min_signals", 3, 1, syn,
           with_(OPEN_ALL, FLAT_DRE, {"filters.enable_ranging_filter": True, E + "min_adx": 10.0, **DEFAULT_VOTES}),
           lambda e: 1 <= votes(e) < 3,
           "The ranging filter blocks when votes >= min_signals: 3 opens on a bar with 1-2 votes that 1 calls "
           "ranging, and min_signals 1 has fewer OPENs than 3.", loose_is_a=False, lookback=LB,
           more=lambda lo, ti: _fewer(ti, lo)),
    # ---- StochRSI filter (D12: %K and %D) ----
    admits(SR + "block_long_if_k_gt", 1.105, 0.595, syn, with_(OPEN_ALL, {"filters.use_stoch_rsi_filter": True}),
           lambda e: e.side == "long" and e.s.stoch_k >= 0.595 and e.s.stoch_d >= 0.595,
           "StochRSI filter on: 0.595 blocks a Mode-A long with %K and %D both >= 0.595; 1.105 never blocks, so "
           "it opens there.", lookback=LB),
    admits(SR + "block_short_if_k_lt", 0.105, 0.195, syn, with_(OPEN_ALL, {"filters.use_stoch_rsi_filter": True}),
           lambda e: (e.side == "short" and e.s.stoch_k <= 0.195 and e.s.stoch_d <= 0.195
                      and not (e.s.stoch_k <= 0.105 and e.s.stoch_d <= 0.105)),
           "StochRSI filter on: 0.195 blocks a Mode-A short with %K and %D both <= 0.195; 0.105 opens it since "
           "%K or %D is above 0.105.", lookback=LB),
    # ---- G10 DRE RSI limits ----
    admits(TM + "rsi_long_strong", 36.4, 67.6, syn, with_(OPEN_ALL, _dre(10.0, 28.0)),
           lambda e: e.side == "long" and dre_limits(e)[0] < e.s.rsi <= dre_with(e, rsi_long_strong=67.6)[0],
           "DRE: the long RSI limit moves from rsi_long_weak (ADX <= min_adx 10) to rsi_long_strong (ADX >= 28); "
           "36.4 opens a long whose RSI is above the 36.4-limit and at most the 67.6-limit.", lookback=LB),
    admits(TM + "rsi_long_weak", 39.2, 72.8, syn, with_(OPEN_ALL, _dre(10.0, 52.0)),
           lambda e: e.side == "long" and dre_limits(e)[0] < e.s.rsi <= dre_with(e, rsi_long_weak=72.8)[0],
           "DRE: with min_adx 10 and adx_strong_gt 52 the long limit is mostly rsi_long_weak; 39.2 opens a long "
           "whose RSI is above its limit and at most the limit with 72.8.", lookback=LB),
    admits(TM + "rsi_short_strong", 62.4, 33.6, syn, with_(OPEN_ALL, _dre(10.0, 28.0)),
           lambda e: e.side == "short" and dre_with(e, rsi_short_strong=33.6)[1] <= e.s.rsi < dre_limits(e)[1],
           "DRE: the short RSI limit moves to rsi_short_strong at ADX >= 28; 62.4 opens a short whose RSI is "
           "below the 62.4-limit and at least the 33.6-limit.", lookback=LB),
    admits(TM + "rsi_short_weak", 57.2, 30.8, syn, with_(OPEN_ALL, _dre(10.0, 52.0)),
           lambda e: e.side == "short" and dre_with(e, rsi_short_weak=30.8)[1] <= e.s.rsi < dre_limits(e)[1],
           "DRE: with min_adx 10 and adx_strong_gt 52 the short limit is mostly rsi_short_weak; 57.2 opens a "
           "short whose RSI is below its limit and at least the limit with 30.8.", lookback=LB),
    # ---- G9 slow-drift un-ranging ----
    admits(E + "enable_slow_drift_entries", True, False, syn,
           with_(OPEN_ALL, FLAT_DRE, {"trade.entry_min_confidence": "medium", "filters.enable_ranging_filter": True,
                                      E + "min_adx": 10.0, R + "min_signals": 1, E + "slow_drift_min_slope_pct": 0.0006,
                                      **DEFAULT_VOTES}),
           lambda e: (not e.low and votes(e) >= 1 and abs(e.s.ema_slow_slope_pct) >= 0.0006),
           "G9: with slow drift on, a bar the ranging vote flags (min_signals 1) is un-ranged when |EMA-slow slope| "
           ">= 0.0006; min confidence medium hides Mode-C entries, so the extra OPEN is a Mode-A (Medium/High) "
           "entry on a ranging bar that slow drift off blocks.", name="un-ranging", lookback=LB),
    # ---- G2 anomaly (hand-built jump bars; the jump bar is the first ready bar) ----
    admits("thresholds.anomaly.ema_fast_dev_pct_gt", 0.65, 0.35, jump_58,
           with_(OPEN_ALL, {"filters.enable_anomaly_filter": True, "thresholds.anomaly.price_change_pct_gt": 1.0,
                            E + "macd_hist_entry_mode": "none"}),
           lambda e: e.s.bar_index == JUMP_BAR and 0.35 < dist(e.s) <= 0.65,
           "A +58 % jump bar in a steady uptrend closes ~0.5 from EMA-fast: the anomaly filter with 0.35 blocks "
           "the Mode-A long there, 0.65 opens it (price-change test off at 1.0).", lookback=JUMP_BAR + 1),
    admits("thresholds.anomaly.price_change_pct_gt", 0.13, 0.07, jump_10,
           with_(OPEN_ALL, {"filters.enable_anomaly_filter": True, "thresholds.anomaly.ema_fast_dev_pct_gt": 0.65,
                            E + "macd_hist_entry_mode": "none"}),
           lambda e: e.s.bar_index == JUMP_BAR and 0.07 < abs(e.s.c - e.s.prev_close) / e.s.prev_close <= 0.13,
           "A +10 % jump bar in a steady uptrend: the anomaly filter with 0.07 blocks the Mode-A long there, "
           "0.13 opens it (EMA-deviation test at 0.65 does not fire).", lookback=JUMP_BAR + 1),
    # ---- D20: zero is literal ----
    admits(E + "ave_adx_mult", 0.0, 1.0, syn, AVE,
           lambda e: atr_ratio(e.s) > 1.05 and 0.0 < e.s.adx <= 20.0,
           "D20: ave_adx_mult 0 makes the AVE floor 0 (no '<= 0 -> 1.0' guard): in expansion (ATR/avgATR > 1.05) "
           "mult 0 opens on a bar with ADX <= min_adx 20 that mult 1.0 blocks.", name="zero", lookback=LB),
    AxisScenario(R + "min_signals", 0, 3, syn, lambda ta, tb: _no_opens_only_in(ta, tb),
                 base=with_(OPEN_ALL, {"filters.enable_ranging_filter": True}),
                 note="D20: min_signals 0 makes every bar ranging while the filter is on (no clamp to 1), so no "
                      "entry of any mode opens; 3 opens.", lookback=LB, name="zero"),
]
