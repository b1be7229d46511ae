"""Liveness scenarios: sizing, leverage, execution costs, exposure, pyramiding, entry filters F1–F4,
cooldowns (strategy-exits.md §2.4, §2.5, §3, §4, §5.7, §6.2; strategy-entries.md §4.6; DECISIONS.md
D6, D16, D18, D20, D24, D26, D31, D42).

Each expectation states the rule of the spec it checks, in terms of trade-log fields only:

* **Sizing** scenarios run one symbol (synthetic ``BTC``) with slippage 0 and pyramiding and partial
  take-profit off, so an OPEN's entry equity is ``balance + fee_usd`` of its own record (no other
  position is open, §3.2) and its decision price is its fill price. ``margin_used / entry equity`` is
  then ``allocation_pct × cm × am × vs`` (§3.3), a quantity that does not depend on the path; where a
  base fixes two of the three multipliers at 1 the third is read straight off the record.
* The **ADX of a candidate** is not a trade-log field; the ADX-multiplier scenarios recover it from the
  sizing formula (``am = ADX / adx_sizing_full_adx`` where unclamped) and predict the other run's ``am``.
* **Pyramiding** scenarios rebuild each position (entry price, size, margin, last add) from its OPEN /
  ADD records (``ledger``) and check §4 steps 1–4 and 6 at every ADD.
* **Filters / transforms** run on hand-built trends whose indicator values lie in a narrow band at every
  bar after the warm-up (values measured with the reference indicators and stated in each note), so a
  threshold on one side of the band admits every signal and on the other side blocks every signal.
* **Cooldowns** (D16, D18) run on hand-built sub-bar fixtures (10 s / 10 min entry and exit sub-bars).

Every scenario takes < 0.3 s with engine_ref (the table < 5 s on one core).
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from functools import lru_cache

import numpy as np

from harness.axis_scenarios.builders import START_MS, Bar, series, synthetic
from harness.axis_scenarios.framework import AxisScenario, Trades, opens
from harness.data import interval_ms
from harness.engine_inputs import EngineInputs

HOUR = 3_600_000
MINUTE = 60_000
SECOND = 1_000
REL = 1e-9  # tolerance of float identities (records are quantised at 1e-12)

# ---- markets ------------------------------------------------------------------------------------


def btc_main() -> EngineInputs:
    """One symbol (BTC), 30 days of synthetic 1h bars (seed 7): ~90 entries, Low/Medium/High."""
    return synthetic(1, 30, 7)


def btc_ticks() -> EngineInputs:
    """One symbol (BTC), 20 days of synthetic 1h bars with 15m entry sub-bars (seed 7)."""
    return synthetic(1, 20, 7, ("15m",))


def four_ticks() -> EngineInputs:
    """Four symbols, 10 days of synthetic 1h bars with 15m entry sub-bars (seed 7)."""
    return synthetic(4, 10, 7, ("15m",))


def trend_bars(n: int, steps: Sequence[float], counter_wick: float, wick: float = 0.001,
               p0: float = 100.0) -> list[Bar]:
    """A trend of ``n`` 1h bars repeating the close-to-close ``steps``; bars against the trend get a
    wick of ``counter_wick`` in the counter direction (tunes ADX), all others ``wick``. Volume 1000."""
    up = steps[0] > 0
    bars, prev = [], p0
    for k in range(n):
        r = steps[k % len(steps)]
        o, c = prev, prev * (1.0 + r)
        against = (r < 0) if up else (r > 0)
        hi = max(o, c) * (1.0 + (counter_wick if (against and not up) else wick))
        lo = min(o, c) * (1.0 - (counter_wick if (against and up) else wick))
        bars.append((o, hi, lo, c, 1000.0))
        prev = c
    return bars


N_TREND = 64        # main bars of every hand-built trend
LOOKBACK = 40       # readiness of hand-built scenarios: first decision on bar 39
T_READY = START_MS + LOOKBACK * HOUR  # close time of bar 39 (the first ready main step)

# Reference-indicator values over bars 39..63 with the HAND base (ema 8/20, RSI/ADX/ATR 14):
#   UP_*: closes +1 % / −0.25 % alternating: RSI 78.4–81.1, MACD hist 0.047–0.152 (> 0), close > EMA-fast.
#   DN_*: closes −1 % / +0.4 % alternating: RSI 27.1–30.2, close < EMA-fast.
UP = (0.01, -0.0025)
DN = (-0.01, 0.004)
UP_STRONG = (UP, 0.010)   # ADX 64.0–64.7
UP_MID = (UP, 0.012)      # ADX 33.8–34.9
UP_WEAK = (UP, 0.020)     # ADX 21.8–23.0
DN_STRONG = (DN, 0.008)   # ADX 72.8–73.4
DN_MID = (DN, 0.010)      # ADX 33.3–34.4
LOW_ATR = ((0.002, -0.0005), 0.0005, 0.0002)  # ATR / close 0.176 %–0.181 % (< 0.3 %), RSI ~80, ADX 100


@lru_cache(maxsize=None)
def trend_market(kind: tuple, symbols: tuple[str, ...] = ("AAA",)) -> EngineInputs:
    """Identical hand-built trends ``kind = (steps, counter_wick[, wick])`` for ``symbols`` (1h main bars)."""
    bars = trend_bars(N_TREND, *kind)
    return EngineInputs({s: series(bars) for s in symbols}, {}, None)


def _sub_series(rows: Sequence[tuple[int, float, float]], step_ms: int) -> dict[str, np.ndarray]:
    """Arrays of sparse sub-bars: rows ``(close_time_ms, open, close)``; wicks 0.05 %."""
    t = np.asarray([r[0] - step_ms for r in rows], dtype=np.int64)
    o = np.asarray([r[1] for r in rows], dtype=np.float64)
    c = np.asarray([r[2] for r in rows], dtype=np.float64)
    return {"t": t, "o": o, "h": np.maximum(o, c) * 1.0005, "l": np.minimum(o, c) * 0.9995, "c": c,
            "v": np.full(len(rows), 10.0)}


@lru_cache(maxsize=None)
def tick_market(kind: tuple, interval: str, ticks: tuple[tuple[int, float], ...]) -> EngineInputs:
    """One symbol ``AAA``: a hand-built trend plus sparse sub-bars of ``interval`` (used as entry and exit
    sub-bars). ``ticks`` = ``(close_time_ms, factor)``: the sub-bar closes at ``factor ×`` the close of
    the latest main bar closed at or before the start of its window (the bar its view reads, D5)."""
    bars = trend_bars(N_TREND, *kind)
    rows, prev = [], None
    for tau, f in ticks:
        k = (tau - 1 - START_MS) // HOUR - 1  # bar closed at the left end of τ's window
        ref = bars[k][3]
        o = ref if prev is None else prev
        rows.append((tau, o, ref * f))
        prev = ref * f
    step = interval_ms(interval)
    return EngineInputs({"AAA": series(bars)}, {step: {"AAA": _sub_series(rows, step)}}, None)


# ---- bases --------------------------------------------------------------------------------------

#: Frequent Mode-A entries: most gates off, MACD mode none, small EMA windows.
PERMISSIVE = {
    "trade.entry_min_confidence": "low",
    "filters.enable_ranging_filter": False, "filters.enable_anomaly_filter": False,
    "filters.enable_extension_filter": False, "filters.require_adx_rising": False,
    "filters.require_btc_alignment": False, "filters.use_stoch_rsi_filter": False,
    "thresholds.entry.macd_hist_entry_mode": "none", "thresholds.entry.ave_enabled": False,
    "thresholds.entry.min_adx": 10.0,
    "indicators.ema_slow_window": 20, "indicators.ema_fast_window": 8,
}

#: One-symbol synthetic runs: Low (slow drift), Medium and High entries; sizing read off the records.
SYNTH = {
    **PERMISSIVE,
    "thresholds.entry.enable_slow_drift_entries": True,
    "thresholds.entry.high_conf_volume_mult": 1.75,
    "trade.enable_partial_tp": False, "trade.enable_pyramiding": False, "trade.slippage_bps": 0.0,
}

#: Hand-built trends: REEF, SSF and the RSI-overextension exit off (the trends sit at RSI ~80 / ~28).
HAND = {
    **PERMISSIVE,
    "trade.enable_reef_filter": False, "trade.enable_ssf_filter": False,
    "trade.enable_rsi_overextension_exit": False, "trade.enable_pyramiding": False,
    "trade.enable_partial_tp": False, "trade.slippage_bps": 0.0,
}

#: §3.3 with the ADX and volatility multipliers fixed at 1 (min_mult 1, scalar clamp [1, 1]).
CM_ONLY = {"trade.adx_sizing_min_mult": 1.0, "trade.vol_scalar_min": 1.0, "trade.vol_scalar_max": 1.0}
#: §3.3 with the confidence and ADX multipliers fixed at 1: only the volatility scalar varies.
VS_ONLY = {"trade.adx_sizing_min_mult": 1.0, "trade.confidence_mult_high": 1.0,
           "trade.confidence_mult_medium": 1.0, "trade.confidence_mult_low": 1.0}
#: §3.3 with the confidence and volatility multipliers fixed at 1: only the ADX multiplier varies.
AM_ONLY = {"trade.vol_scalar_min": 1.0, "trade.vol_scalar_max": 1.0, "trade.confidence_mult_high": 1.0,
           "trade.confidence_mult_medium": 1.0, "trade.confidence_mult_low": 1.0}

# ---- record helpers -----------------------------------------------------------------------------


def close(x: float, y: float, rel: float = REL) -> bool:
    return abs(x - y) <= rel * max(abs(x), abs(y), 1e-300)


def side(rec: dict) -> str:
    return "LONG" if rec["action"].endswith("LONG") else "SHORT"


def kind_of(rec: dict) -> str:
    return rec["action"].split("_")[0]


def adds(trades: Trades) -> Trades:
    return [t for t in trades if t["action"].startswith("ADD")]


def entry_equity(rec: dict) -> float:
    """Entry equity of an OPEN when no other position is open (one-symbol runs): balance before the fee."""
    return rec["balance"] + rec["fee_usd"]


def margin_frac(rec: dict) -> float:
    """``margin_used / entry equity`` of an OPEN of a one-symbol run = allocation × cm × am × vs (§3.3)."""
    return rec["margin_used"] / entry_equity(rec)


def by_key(trades: Trades, kinds: tuple[str, ...] = ("OPEN",)) -> dict[tuple, dict]:
    """Records of ``kinds`` keyed by (τ, symbol, action)."""
    return {(t["timestamp_ms"], t["symbol"], t["action"]): t for t in trades if kind_of(t) in kinds}


def paired(ta: Trades, tb: Trades, kinds: tuple[str, ...] = ("OPEN",)) -> list[tuple[dict, dict]]:
    a, b = by_key(ta, kinds), by_key(tb, kinds)
    return [(a[k], b[k]) for k in sorted(a.keys() & b.keys())]


def opens_of(trades: Trades, conf: str) -> Trades:
    return [t for t in opens(trades) if t["confidence"] == conf]


def need(cond: bool, msg: str) -> None:
    assert cond, msg


def open_signature(trades: Trades) -> list[tuple]:
    return [(t["timestamp_ms"], t["symbol"], t["action"], t["confidence"]) for t in opens(trades)]


def ledger(trades: Trades) -> list[tuple[dict, dict | None]]:
    """Each record with the state of its symbol's position just before it (side, entry price, size,
    entry ATR, time of the open / last add, adds so far), rebuilt from the log (§3.6, §4, §6.3)."""
    pos: dict[str, dict] = {}
    out = []
    for t in trades:
        sym, k = t["symbol"], kind_of(t)
        before = dict(pos[sym]) if sym in pos else None
        out.append((t, before))
        if k == "OPEN":
            pos[sym] = {"side": side(t), "entry": t["price"], "size": t["size"], "atr": t["entry_atr"],
                        "last_add": t["timestamp_ms"], "adds": 0, "margin": t["margin_used"]}
        elif k == "ADD":
            p = pos[sym]
            total = p["size"] + t["size"]
            p["entry"] = (p["entry"] * p["size"] + t["price"] * t["size"]) / total
            p["size"], p["last_add"], p["adds"], p["margin"] = total, t["timestamp_ms"], p["adds"] + 1, \
                t["margin_used"]
        elif k == "REDUCE":
            pos[sym]["size"] = pos[sym]["size"] - t["size"]
        elif k == "CLOSE":
            pos.pop(sym, None)
    return out


def max_concurrent(trades: Trades) -> int:
    n = best = 0
    for t in trades:
        if kind_of(t) == "OPEN":
            n += 1
            best = max(best, n)
        elif kind_of(t) == "CLOSE":
            n -= 1
    return best


def profit_atr_at(before: dict, price: float) -> float:
    """§1.2 ``profit_atr`` of the position before an add, at the add's decision price (slippage 0)."""
    if before["atr"] <= 0:
        return 0.0
    if before["side"] == "LONG":
        return (price - before["entry"]) / before["atr"]
    return (before["entry"] - price) / before["atr"]


# ---- expectations -------------------------------------------------------------------------------


def expect_all(*checks: Callable[[Trades, Trades], None]) -> Callable[[Trades, Trades], None]:
    def run(ta: Trades, tb: Trades) -> None:
        for c in checks:
            c(ta, tb)
    return run


def same_opens(ta: Trades, tb: Trades) -> None:
    """Sizing never changes which entries happen here (one symbol, no margin cap, no partials)."""
    need(open_signature(ta) == open_signature(tb) and len(opens(ta)) >= 10,
         "sizing axis changed the entry sequence (expected identical OPEN times/sides/confidences)")


def fracs_follow(formula: Callable[[dict], float], who: str) -> Callable[[Trades], None]:
    def check_one(trades: Trades) -> None:
        bad = [(t["timestamp_ms"], t["confidence"], margin_frac(t), formula(t)) for t in opens(trades)
               if not close(margin_frac(t), formula(t))]
        need(not bad, f"{who}: OPEN margin / entry equity differs from §3.3: (τ, conf, got, want) {bad[:3]}")
    return check_one


def cm_formula(alloc: float, cm: dict[str, float]) -> Callable[[dict], float]:
    return lambda t: alloc * cm[t["confidence"]]


def vs_formula(alloc: float, base_pct: float, vmin: float, vmax: float) -> Callable[[dict], float]:
    def f(t: dict) -> float:
        vr = (t["entry_atr"] / t["price"]) / base_pct if base_pct > 0 else 1.0
        vraw = 1.0 / vr if vr > 0 else 1.0
        return alloc * min(max(vraw, vmin), vmax)
    return f


def vraws(trades: Trades, base_pct: float) -> list[float]:
    return [base_pct / (t["entry_atr"] / t["price"]) for t in opens(trades)]


CM_DEFAULT = {"Low": 0.5, "Medium": 0.7, "High": 1.0}
ALLOC = 0.1


def leverage_is(expected: Callable[[dict], float], who: str) -> Callable[[Trades], None]:
    def check_one(trades: Trades) -> None:
        bad = [(t["timestamp_ms"], t["confidence"], t["leverage"], expected(t)) for t in opens(trades)
               if t["leverage"] != expected(t)]
        need(not bad, f"{who}: OPEN leverage differs from §3.3: (τ, conf, got, want) {bad[:3]}")
        off = [t for t in opens(trades) if not close(t["notional"], t["margin_used"] * t["leverage"], 1e-9)]
        need(not off, f"{who}: OPEN notional != margin × leverage (slippage 0): {off[:1]}")
    return check_one


LEV_DEFAULT = {"Low": 1.0, "Medium": 3.0, "High": 5.0}


def has_conf(conf: str, n: int = 1) -> Callable[[Trades, Trades], None]:
    def check_both(ta: Trades, tb: Trades) -> None:
        need(len(opens_of(ta, conf)) >= n and len(opens_of(tb, conf)) >= n,
             f"fixture must produce {conf}-confidence entries in both runs")
    return check_both


# --- sizing -----------------------------------------------------------------------------------------


def _allocation(ta: Trades, tb: Trades) -> None:
    same_opens(ta, tb)
    pairs = paired(ta, tb)
    bad = [(a["timestamp_ms"], margin_frac(b) / margin_frac(a)) for a, b in pairs
           if not close(margin_frac(b), 2.0 * margin_frac(a))]
    need(not bad, f"allocation 0.1 -> 0.2 must double every OPEN's margin / entry equity: {bad[:3]}")


def _dyn_sizing(ta: Trades, tb: Trades) -> None:
    fracs_follow(lambda t: ALLOC, "dynamic sizing off (margin = equity × allocation_pct)")(ta)
    fracs_follow(cm_formula(ALLOC, CM_DEFAULT), "dynamic sizing on (margin × confidence multiplier)")(tb)
    has_conf("Medium")(ta, tb)


def _cm(conf: str, va: float, vb: float) -> Callable[[Trades, Trades], None]:
    def check(ta: Trades, tb: Trades) -> None:
        has_conf(conf)(ta, tb)
        fracs_follow(cm_formula(ALLOC, {**CM_DEFAULT, conf: va}), f"confidence_mult_{conf.lower()} {va}")(ta)
        fracs_follow(cm_formula(ALLOC, {**CM_DEFAULT, conf: vb}), f"confidence_mult_{conf.lower()} {vb}")(tb)
        others = [c for c in CM_DEFAULT if c != conf]
        need(any(opens_of(ta, c) for c in others), "fixture must also have entries of other confidences")
    return check


def _am_pairs(ta: Trades, tb: Trades) -> list[tuple[dict, float, float]]:
    same_opens(ta, tb)
    return [(a, margin_frac(a) / ALLOC, margin_frac(b) / ALLOC) for a, b in paired(ta, tb)]


def _full_adx(ta: Trades, tb: Trades) -> None:
    # am = clamp(ADX / full, 0.42, 1): where run b (full 52) is unclamped, ADX = 52·am_b and run a
    # (full 28) must have am_a = clamp(ADX / 28, 0.42, 1).
    rows = _am_pairs(ta, tb)
    checked = 0
    for a, am_a, am_b in rows:
        need(am_a >= am_b * (1 - REL), f"full_adx 28 must never size below full_adx 52 at τ={a['timestamp_ms']}")
        if 0.42 * (1 + 1e-9) < am_b < 1.0 * (1 - 1e-9):
            adx = am_b * 52.0
            need(close(am_a, min(max(adx / 28.0, 0.42), 1.0), 1e-9),
                 f"ADX {adx:.3f}: am with full_adx 28 = {am_a}, expected {min(max(adx / 28.0, 0.42), 1.0)}")
            checked += 1
    need(checked >= 5 and any(am_a > am_b * (1 + 1e-6) for _, am_a, am_b in rows),
         "fixture must have unclamped ADX multipliers where the two full_adx values differ")


def _min_mult(ta: Trades, tb: Trades) -> None:
    # am = clamp(ADX / 40, min, 1)  ⇒  am(0.78) = max(am(0.42), 0.78) for every entry.
    rows = _am_pairs(ta, tb)
    bad = [(a["timestamp_ms"], am_a, am_b) for a, am_a, am_b in rows if not close(am_b, max(am_a, 0.78), 1e-9)]
    need(not bad, f"ADX multiplier with min 0.78 must be max(am(0.42), 0.78): {bad[:3]}")
    need(any(am_a < 0.78 for _, am_a, _ in rows) and any(0.42 * (1 + 1e-9) < am_a < 0.78 for _, am_a, _ in rows),
         "fixture must have entries with ADX / 40 below 0.78")


def _vol(va: dict, vb: dict, probe: Callable[[Trades, Trades], None]) -> Callable[[Trades, Trades], None]:
    def check(ta: Trades, tb: Trades) -> None:
        fracs_follow(vs_formula(ALLOC, **va), f"volatility scalar {va}")(ta)
        fracs_follow(vs_formula(ALLOC, **vb), f"volatility scalar {vb}")(tb)
        probe(ta, tb)
    return check


def _vol_baseline_probe(ta: Trades, tb: Trades) -> None:
    same_opens(ta, tb)
    pairs = paired(ta, tb)
    need(all(margin_frac(b) >= margin_frac(a) * (1 - REL) for a, b in pairs),
         "a higher vol_baseline_pct must never size smaller")
    mid = [a for a in opens(ta) if 0.35 < 0.007 / (a["entry_atr"] / a["price"]) < 1.3 / (0.013 / 0.007)]
    need(len(mid) >= 3, "fixture must have entries where both baselines give an unclamped scalar")


def _vol_max_probe(ta: Trades, tb: Trades) -> None:
    need(any(v > 0.7 for v in vraws(ta, 0.013)), "fixture must have raw scalars above 0.7 (clamped by max 0.7)")


def _vol_min_probe(ta: Trades, tb: Trades) -> None:
    need(any(v < 0.65 for v in vraws(ta, 0.007)), "fixture must have raw scalars below 0.65 (raised by min 0.65)")


# --- leverage ---------------------------------------------------------------------------------------


def _lev_by_conf(table: dict[str, float]) -> Callable[[dict], float]:
    return lambda t: table[t["confidence"]]


def _lev(conf: str, va: float, vb: float) -> Callable[[Trades, Trades], None]:
    def check(ta: Trades, tb: Trades) -> None:
        has_conf(conf)(ta, tb)
        leverage_is(_lev_by_conf({**LEV_DEFAULT, conf: va}), f"leverage_{conf.lower()} {va}")(ta)
        leverage_is(_lev_by_conf({**LEV_DEFAULT, conf: vb}), f"leverage_{conf.lower()} {vb}")(tb)
    return check


def _dyn_lev(ta: Trades, tb: Trades) -> None:
    leverage_is(lambda t: 2.0, "dynamic leverage off: trade.leverage 2.0 for every entry")(ta)
    leverage_is(_lev_by_conf(LEV_DEFAULT), "dynamic leverage on: leverage_low/medium/high by confidence")(tb)
    has_conf("Medium")(ta, tb)
    has_conf("High")(ta, tb)


def _leverage(ta: Trades, tb: Trades) -> None:
    leverage_is(lambda t: 1.0, "leverage 1.0 (dynamic off)")(ta)
    leverage_is(lambda t: 5.0, "leverage 5.0 (dynamic off)")(tb)


def _lev_cap(ta: Trades, tb: Trades) -> None:
    leverage_is(_lev_by_conf(LEV_DEFAULT), "no cap (0)")(ta)
    leverage_is(lambda t: min(LEV_DEFAULT[t["confidence"]], 1.0), "cap 1.0: min(leverage_<conf>, 1.0)")(tb)
    need(any(t["leverage"] == 1.0 for t in opens(tb)) and any(t["leverage"] > 1.0 for t in opens(ta)),
         "fixture must have Medium/High entries (leverage > 1 before the cap)")


# --- execution --------------------------------------------------------------------------------------


def _slippage(ta: Trades, tb: Trades) -> None:
    # Every fill is adverse (D24): buys (OPEN/ADD LONG, CLOSE/REDUCE SHORT) at p × (1 + s), sells at
    # p × (1 − s); sizes come from the unslipped decision price p. Records at the same (τ, action) of the
    # two runs must therefore share p = fill / (1 ± s), and the first OPEN has the same size in both.
    sa, sb = 7.0 / 10000.0, 13.0 / 10000.0

    def decision_price(rec: dict, s: float) -> float:
        buy = rec["action"] in ("OPEN_LONG", "ADD_LONG", "CLOSE_SHORT", "REDUCE_SHORT")
        return rec["price"] / (1.0 + s) if buy else rec["price"] / (1.0 - s)

    pairs = paired(ta, tb, ("OPEN", "ADD", "CLOSE", "REDUCE"))
    need(len(pairs) >= 20, "fixture must have many fills at the same decision times")
    bad = [(a["timestamp_ms"], a["action"]) for a, b in pairs
           if not close(decision_price(a, sa), decision_price(b, sb), 1e-11)]
    need(not bad, f"fills must be the decision price moved by slippage_bps: {bad[:3]}")
    need(all(a["price"] != b["price"] for a, b in pairs), "every fill price must move with slippage_bps")
    need(all(((b["price"] > a["price"]) == (a["action"] in ("OPEN_LONG", "ADD_LONG", "CLOSE_SHORT", "REDUCE_SHORT")))
             for a, b in pairs), "higher slippage: buys fill higher, sells fill lower")
    fa, fb = opens(ta)[0], opens(tb)[0]
    need(fa["size"] == fb["size"] and fa["timestamp_ms"] == fb["timestamp_ms"],
         "the first OPEN is sized from the unslipped price (same size with 7 and 13 bps)")


def _min_notional(ta: Trades, tb: Trades) -> None:
    oa = opens(ta)
    need(len(oa) >= 5 and all(7.0 <= t["notional"] * (1 + REL) for t in oa)
         and any(t["notional"] < 13.0 for t in oa), "min 7: entries of notional in [7, 13) are taken")
    need(all(t["notional"] >= 13.0 * (1 - REL) for t in opens(tb)),
         "min 13: no entry below 13 USD notional (they are skipped)")
    need(len(opens(tb)) < len(oa), "min 13 must skip the ~10 USD entries")


def _bump(ta: Trades, tb: Trades) -> None:
    need(not opens(ta), "bump off: every ~10 USD entry is below min_notional 13 and skipped")
    ob = opens(tb)
    need(len(ob) >= 5, "bump on: the same entries are taken, enlarged")
    bad = [t for t in ob if not (close(t["notional"], 13.0, 1e-9) and close(t["margin_used"], 13.0, 1e-9))]
    need(not bad, f"bump on: size = 13 / price (notional 13, margin 13 / leverage 1): {bad[:1]}")


# --- exposure ---------------------------------------------------------------------------------------


def _first_step(trades: Trades) -> Trades:
    return [t for t in opens(trades) if t["timestamp_ms"] == T_READY]


def _margin_cap(ta: Trades, tb: Trades) -> None:
    # Three identical symbols signal together on the first ready bar; entry equity 10 000; each wants
    # 0.3 × 10 000 = 3000 margin. Headroom = equity × cap − Σ margin (§2.4): clamp, then skip at ≤ 0.
    ma = [t["margin_used"] for t in _first_step(ta)]
    mb = [t["margin_used"] for t in _first_step(tb)]
    need(len(ma) == 2 and close(ma[0], 3000.0) and close(ma[1], 1200.0),
         f"cap 0.42: margins must be [3000, 1200 (clamped)] and the third entry skipped, got {ma}")
    need(len(mb) == 3 and close(mb[0], 3000.0) and close(mb[1], 3000.0) and close(mb[2], 1800.0),
         f"cap 0.78: margins must be [3000, 3000, 1800 (clamped)], got {mb}")
    need([t["symbol"] for t in _first_step(tb)] == ["AAA", "BBB", "CCC"], "ties execute in symbol order")


def _max_open(ta: Trades, tb: Trades) -> None:
    need(max_concurrent(ta) == 14 and len(_first_step(ta)) == 14,
         f"max_open_positions 14: never more than 14 positions (got {max_concurrent(ta)})")
    need(max_concurrent(tb) == 20 and len(_first_step(tb)) == 20,
         f"max_open_positions 20: all 20 signalling symbols open (got {max_concurrent(tb)})")


def _max_open_one(ta: Trades, tb: Trades) -> None:
    need(max_concurrent(ta) == 1, f"max_open_positions 1: at most one open position (got {max_concurrent(ta)})")
    need(max_concurrent(tb) >= 2, "max_open_positions 6: several positions at once")


def _orders_main(ta: Trades, tb: Trades) -> None:
    per_a = Counter(t["timestamp_ms"] for t in opens(ta))
    need(max(per_a.values()) == 4 and per_a[T_READY] == 4 and per_a[T_READY + HOUR] == 4,
         f"budget 4: four OPENs on the first ready bar, the other four on the next: {sorted(per_a.items())[:3]}")
    need(Counter(t["timestamp_ms"] for t in opens(tb))[T_READY] == 8, "budget 8: all eight open at once")


def _window(tau: int) -> int:
    return (tau - 1) // HOUR  # W_j = (C_{j-1}, C_j]


def _orders_ticks(ta: Trades, tb: Trades) -> None:
    per_a = Counter(_window(t["timestamp_ms"]) for t in opens(ta))
    per_b = Counter(_window(t["timestamp_ms"]) for t in opens(tb))
    need(max(per_a.values()) == 1, "budget 1 with entry ticks: at most one OPEN per window (all ticks together)")
    need(max(per_b.values()) >= 2, "budget 6: some window has several OPENs")
    need(any(t["timestamp_ms"] % HOUR for t in opens(ta)), "entries happen at entry ticks inside the hour")


# --- entry filters / transforms ---------------------------------------------------------------------


def _only_sides(trades: Trades, want: str) -> bool:
    o = opens(trades)
    return bool(o) and all(side(t) == want for t in o)


def blocks_all(direction: str, who: str) -> Callable[[Trades, Trades], None]:
    """Run a takes entries in ``direction`` (all of them), run b takes none."""
    def check(ta: Trades, tb: Trades) -> None:
        need(_only_sides(ta, direction) and opens(ta)[0]["timestamp_ms"] == T_READY,
             f"{who}: value A admits the {direction} entries (first one on the first ready bar)")
        need(not opens(tb), f"{who}: value B blocks every {direction} entry of the fixture")
    return check


def _min_conf(ta: Trades, tb: Trades) -> None:
    ca = Counter(t["confidence"] for t in opens(ta))
    need(ca["Low"] > 0 and ca["Medium"] > 0, "entry_min_confidence low admits Low and Medium entries")
    need(opens(tb) and all(t["confidence"] == "High" for t in opens(tb)),
         "entry_min_confidence high: only High-confidence entries")


def _reverse(ta: Trades, tb: Trades) -> None:
    need(_only_sides(ta, "LONG"), "reverse off: the uptrend's BUY signals open longs")
    need(_only_sides(tb, "SHORT"), "reverse on: every BUY becomes a SELL (only shorts)")
    need(opens(ta)[0]["timestamp_ms"] == opens(tb)[0]["timestamp_ms"] == T_READY,
         "the first entry happens on the same (first ready) bar in both runs")


# --- pyramiding ---------------------------------------------------------------------------------------


def _pyr_on(ta: Trades, tb: Trades) -> None:
    need(not adds(ta), "pyramiding off: no ADD records")
    ab = adds(tb)
    need(len(ab) >= 5, "pyramiding on: same-direction signals add to open positions")
    need(any(t["timestamp_ms"] % HOUR for t in ab), "D6: adds happen at entry ticks (inside the hour)")
    need(all(t["timestamp_ms"] % (15 * MINUTE) == 0 for t in ab), "adds only at entry-tick decision times")


def _adds_per_position(trades: Trades) -> list[int]:
    return [before["adds"] + 1 for t, before in ledger(trades) if kind_of(t) == "ADD"]


def _max_adds(ta: Trades, tb: Trades) -> None:
    na, nb = _adds_per_position(ta), _adds_per_position(tb)
    need(na and max(na) == 1, f"max_adds_per_symbol 1: one add per position at most (got {max(na or [0])})")
    need(nb and max(nb) == 3, f"max_adds_per_symbol 3: up to three adds (got {max(nb or [0])})")
    need(all(t["reason"] == f"Pyramid #{n}" for t, n in zip(adds(tb), nb)), "reason Pyramid #<n>")


def _add_gaps(trades: Trades) -> list[float]:
    return [(t["timestamp_ms"] - before["last_add"]) / MINUTE for t, before in ledger(trades) if kind_of(t) == "ADD"]


def _add_cooldown(ta: Trades, tb: Trades) -> None:
    ga, gb = _add_gaps(ta), _add_gaps(tb)
    need(ga and min(ga) >= 42 and gb and min(gb) >= 78, "an add comes ≥ add_cooldown_minutes after the open/last add")
    need(any(g < 78 for g in ga), "cooldown 42: adds 45–75 minutes after the open/last add occur")


def _add_profits(trades: Trades) -> list[float]:
    return [profit_atr_at(before, t["price"]) for t, before in ledger(trades) if kind_of(t) == "ADD"]


def _add_profit(ta: Trades, tb: Trades) -> None:
    pa, pb = _add_profits(ta), _add_profits(tb)
    need(pa and min(pa) >= 0.35 - 1e-9 and pb and min(pb) >= 0.65 - 1e-9,
         f"adds need profit ≥ add_min_profit_atr entry ATRs (min {min(pa or [0]):.3f} / {min(pb or [0]):.3f})")
    need(any(p < 0.65 for p in pa), "threshold 0.35: some add at 0.35–0.65 ATR profit")


def _add_conf(ta: Trades, tb: Trades) -> None:
    need(any(t["confidence"] == "Low" for t in adds(ta)), "add_min_confidence low: Low signals add")
    need(adds(tb) and all(t["confidence"] in ("Medium", "High") for t in adds(tb)),
         "add_min_confidence medium: only Medium/High signals add")


def add_rows(trades: Trades) -> list[tuple[dict, dict, float, float]]:
    """``(ADD record, position before, equity at the add, add margin)`` of a one-symbol main-bar run with
    slippage 0: equity = balance before the fee + unrealised at the mark, which is the add's decision
    close (= its fill) in a main step (§3.2, §4 step 6); add margin = margin_used after − before."""
    rows = []
    for t, before in ledger(trades):
        if kind_of(t) != "ADD":
            continue
        pnl = ((t["price"] - before["entry"]) * before["size"] if before["side"] == "LONG"
               else (before["entry"] - t["price"]) * before["size"])
        rows.append((t, before, t["balance"] + t["fee_usd"] + pnl, t["margin_used"] - before["margin"]))
    return rows


def _add_fraction(frac: float) -> Callable[[Trades], None]:
    def check_one(trades: Trades) -> None:
        rows = add_rows(trades)
        need(len(rows) >= 5, "fixture must have pyramid adds")
        for t, _, equity, add_margin in rows:
            need(close(add_margin, equity * ALLOC * frac, 1e-8),
                 f"add margin {add_margin} != equity {equity} × {ALLOC} × {frac} at τ={t['timestamp_ms']}")
            need(close(t["size"], add_margin * t["leverage"] / t["price"], 1e-8),
                 "add size = add margin × position leverage / close")
    return check_one


def _bump_adds(ta: Trades, tb: Trades) -> None:
    need(not opens(ta) and not adds(ta), "bump off: ~10 USD entries and ~5 USD adds are all skipped")
    rows = add_rows(tb)
    need(len(rows) >= 3, "bump on: pyramid adds happen (enlarged)")
    for t, _, equity, add_margin in rows:
        need(close(t["notional"], 13.0, 1e-9), f"bumped add notional must be 13, got {t['notional']}")
        need(close(add_margin, equity * 0.05 * 0.5, 1e-8),
             f"§4 step 6: the add margin is NOT bumped (E × 0.05 × 0.5 = {equity * 0.025}), got {add_margin}")


def _margin_cap_adds(ta: Trades, tb: Trades) -> None:
    # One uptrend, 3000 margin at the open (0.3 × 10 000); an add of 0.3 × equity would bring Σ margin to
    # ~6000: refused under 0.42 × equity (§3.4: headroom_add < 0), allowed under 0.78 × equity; a second
    # add (~9000) is refused under 0.78 too.
    need(len(opens(ta)) >= 1 and not adds(ta), "cap 0.42: the pyramid add is refused")
    rows = add_rows(tb)
    need(len(rows) == 1, f"cap 0.78: exactly one add fits under the cap, got {len(rows)}")
    t, _, equity, _ = rows[0]
    need(t["margin_used"] <= 0.78 * equity and t["margin_used"] > 0.42 * equity,
         "the add's total margin lies between the two caps")


# --- cooldowns --------------------------------------------------------------------------------------


def times(trades: Trades, action: str) -> list[int]:
    return [t["timestamp_ms"] for t in trades if t["action"] == action]


def open_times_are(ta_want: list[int], tb_want: list[int], who: str) -> Callable[[Trades, Trades], None]:
    def check(ta: Trades, tb: Trades) -> None:
        oa, ob = times(ta, "OPEN_LONG"), times(tb, "OPEN_LONG")
        need(oa[:len(ta_want)] == ta_want, f"{who}: value A OPEN_LONG times {oa} expected to start {ta_want}")
        need(ob[:len(tb_want)] == tb_want, f"{who}: value B OPEN_LONG times {ob} expected to start {tb_want}")
        need(any(t["reason"] == "Stop Loss" for t in ta) and any(t["reason"] == "Stop Loss" for t in tb),
             f"{who}: the fixture's stop-out must happen in both runs")
    return check


# ---- scenario tables ----------------------------------------------------------------------------

SIZE_BASE = {**SYNTH, "trade.allocation_pct": ALLOC}


def _sizing() -> list[AxisScenario]:
    return [
        AxisScenario(
            "trade.allocation_pct", 0.1, 0.2, btc_main, _allocation,
            base={k: v for k, v in SYNTH.items()}, lookback=30,
            note="§3.3: margin = entry equity × allocation_pct × multipliers; one symbol, so entry equity = "
                 "balance + fee of the OPEN and every OPEN's margin / equity doubles."),
        AxisScenario(
            "trade.enable_dynamic_sizing", False, True, btc_main, _dyn_sizing,
            base={**SIZE_BASE, **CM_ONLY}, lookback=30,
            note="§3.3: off → margin = equity × allocation_pct; on → × confidence multiplier (ADX and volatility "
                 "multipliers pinned to 1 by min_mult 1 and scalar clamp [1, 1])."),
        AxisScenario(
            "trade.confidence_mult_medium", 0.5, 1.0, btc_main, _cm("Medium", 0.5, 1.0),
            base={**SIZE_BASE, **CM_ONLY}, lookback=30,
            note="§3.3: Medium entries' margin = equity × allocation × confidence_mult_medium; Low/High unchanged."),
        AxisScenario(
            "trade.confidence_mult_high", 0.7, 1.3, btc_main, _cm("High", 0.7, 1.3),
            base={**SIZE_BASE, **CM_ONLY}, lookback=30,
            note="§3.3: High entries (volume > 1.75 × SMA) sized with confidence_mult_high; others unchanged."),
        AxisScenario(
            "trade.confidence_mult_low", 0.35, 0.65, btc_main, _cm("Low", 0.35, 0.65),
            base={**SIZE_BASE, **CM_ONLY}, lookback=30,
            note="§3.3: Low entries (slow-drift mode) sized with confidence_mult_low; others unchanged."),
        AxisScenario(
            "trade.adx_sizing_full_adx", 28.0, 52.0, btc_main, _full_adx,
            base={**SIZE_BASE, **AM_ONLY, "trade.adx_sizing_min_mult": 0.42}, lookback=30,
            note="§3.3: am = clamp(ADX / full_adx, 0.42, 1); where am(52) is unclamped the ADX is 52·am and "
                 "am(28) must equal clamp(ADX / 28, 0.42, 1) — a lower full_adx sizes weak trends up."),
        AxisScenario(
            "trade.adx_sizing_min_mult", 0.42, 0.78, btc_main, _min_mult,
            base={**SIZE_BASE, **AM_ONLY}, lookback=30,
            note="§3.3: am = clamp(ADX / 40, min_mult, 1), so am(0.78) = max(am(0.42), 0.78) entry by entry."),
        AxisScenario(
            "trade.vol_baseline_pct", 0.007, 0.013, btc_main,
            _vol({"base_pct": 0.007, "vmin": 0.35, "vmax": 1.3}, {"base_pct": 0.013, "vmin": 0.35, "vmax": 1.3},
                 _vol_baseline_probe),
            base={**SIZE_BASE, **VS_ONLY, "trade.vol_scalar_min": 0.35, "trade.vol_scalar_max": 1.3}, lookback=30,
            note="§3.3: vs = clamp(vol_baseline_pct / (entry ATR / price), 0.35, 1.3) read off each OPEN "
                 "(entry_atr, price); the synthetic BTC ATR is 0.5–2.3 % of price."),
        AxisScenario(
            "trade.vol_scalar_max", 0.7, 1.3, btc_main,
            _vol({"base_pct": 0.013, "vmin": 0.35, "vmax": 0.7}, {"base_pct": 0.013, "vmin": 0.35, "vmax": 1.3},
                 _vol_max_probe),
            base={**SIZE_BASE, **VS_ONLY, "trade.vol_baseline_pct": 0.013, "trade.vol_scalar_min": 0.35},
            lookback=30, note="§3.3: calm bars (raw scalar > 0.7) are capped at 0.7 with max 0.7, not with 1.3."),
        AxisScenario(
            "trade.vol_scalar_min", 0.35, 0.65, btc_main,
            _vol({"base_pct": 0.007, "vmin": 0.35, "vmax": 1.3}, {"base_pct": 0.007, "vmin": 0.65, "vmax": 1.3},
                 _vol_min_probe),
            base={**SIZE_BASE, **VS_ONLY, "trade.vol_baseline_pct": 0.007, "trade.vol_scalar_max": 1.3},
            lookback=30, note="§3.3: volatile bars (raw scalar < 0.65) are raised to 0.65 with min 0.65."),
        AxisScenario(
            "trade.min_atr_pct", 0.0, 0.003, lambda: trend_market(LOW_ATR), _min_atr,
            base={**HAND, "trade.vol_baseline_pct": 0.0025}, lookback=LOOKBACK,
            note="D20/D31: raw ATR 0.18 % of price; 0 keeps the raw ATR as entry_atr, 0.003 floors it at "
                 "0.3 % × close; with vol_baseline 0.25 % the raw ATR gives scalar 1.0 (clamped), the floor 0.83."),
    ]


def _min_atr(ta: Trades, tb: Trades) -> None:
    oa, ob = opens(ta), opens(tb)
    need(oa and all(t["entry_atr"] < 0.003 * t["price"] * 0.7 for t in oa),
         "min_atr_pct 0: entry_atr is the raw ATR (< 0.3 % of price)")
    need(ob and all(close(t["entry_atr"], 0.003 * t["price"], 1e-9) for t in ob),
         "min_atr_pct 0.003: entry_atr = 0.3 % × close (the floor binds at every entry)")
    a0, b0 = oa[0], ob[0]
    need(a0["timestamp_ms"] == b0["timestamp_ms"] == T_READY, "first entry on the first ready bar in both runs")
    need(close(b0["margin_used"] / a0["margin_used"], (0.0025 / 0.003) / 1.0, 1e-9),
         "the floored ATR lowers the volatility scalar (size ratio 0.0025 / 0.003)")
    # Targets scale with the entry ATR: the raw ATR's take-profit (7 ATR, ADX 100) is reached, the floored
    # one's is not before the end of the data.
    ea, eb = [t["reason"] for t in ta if kind_of(t) == "CLOSE"], [t["reason"] for t in tb if kind_of(t) == "CLOSE"]
    need(ea[0] == "Take Profit" and eb[0] == "End of Backtest",
         f"tighter raw-ATR target exits first: {ea[:1]} vs {eb[:1]}")


def _leverage_table() -> list[AxisScenario]:
    base = {**SYNTH, "trade.allocation_pct": ALLOC}
    return [
        AxisScenario(
            "trade.enable_dynamic_leverage", False, True, btc_main, _dyn_lev,
            base={**base, "trade.leverage": 2.0}, lookback=30,
            note="§3.3: off → leverage field = trade.leverage (2.0); on → leverage_low/medium/high by confidence."),
        AxisScenario(
            "trade.leverage", 1.0, 5.0, btc_main, _leverage,
            base={**base, "trade.enable_dynamic_leverage": False, "trade.leverage_max_cap": 0.5}, lookback=30,
            note="§3.3: with dynamic leverage off every OPEN has leverage = trade.leverage, notional = margin × it "
                 "(leverage_max_cap 0.5 in the base is not applied in this branch)."),
        AxisScenario(
            "trade.leverage_low", 0.7, 1.3, btc_main, _lev("Low", 0.7, 1.3), base=base, lookback=30,
            note="§3.3: Low-confidence (slow-drift) entries use leverage_low, 0.7 as is (no floor at 1)."),
        AxisScenario(
            "trade.leverage_medium", 2.0, 5.0, btc_main, _lev("Medium", 2.0, 5.0), base=base, lookback=30,
            note="§3.3: Medium-confidence entries use leverage_medium."),
        AxisScenario(
            "trade.leverage_high", 3.5, 6.5, btc_main, _lev("High", 3.5, 6.5), base=base, lookback=30,
            note="§3.3: High-confidence entries use leverage_high."),
        AxisScenario(
            "trade.leverage_max_cap", 0.0, 1.0, btc_main, _lev_cap, base=base, lookback=30,
            note="§3.3: cap 0 = no cap; cap 1.0 → leverage = min(leverage_<conf>, 1.0) (Medium 3 → 1, High 5 → 1)."),
    ]


def _execution() -> list[AxisScenario]:
    small = {**SYNTH, "trade.enable_dynamic_sizing": False, "trade.enable_dynamic_leverage": False,
             "trade.leverage": 1.0, "trade.allocation_pct": 0.05}
    return [
        AxisScenario(
            "trade.slippage_bps", 7.0, 13.0, btc_main, _slippage,
            base={**SYNTH, "trade.enable_pyramiding": True, "trade.allocation_pct": ALLOC}, lookback=30,
            note="D24: adverse slippage on every fill (opens, adds, all exits): fill = decision price × (1 ± s)."),
        AxisScenario(
            "trade.min_notional_usd", 7.0, 13.0, btc_main, _min_notional, base=small, lookback=30,
            initial_balance=200.0,
            note="§2.4: a 200 USD account at 5 % × leverage 1 orders ~10 USD: taken with min 7, skipped with 13."),
        AxisScenario(
            "trade.bump_to_min_notional", False, True, btc_main, _bump,
            base={**small, "trade.min_notional_usd": 13.0}, lookback=30, initial_balance=200.0,
            note="§2.4: ~10 USD orders under min_notional 13: skipped (off) or enlarged to exactly 13 USD (on)."),
        AxisScenario(
            "trade.bump_to_min_notional", False, True, btc_main, _bump_adds, name="adds",
            base={**small, "trade.min_notional_usd": 13.0, "trade.enable_pyramiding": True,
                  "trade.add_min_confidence": "low"}, lookback=30, initial_balance=200.0,
            note="§4 step 6: ~5 USD pyramid adds are enlarged to 13 USD notional while the add margin stays "
                 "equity × allocation × fraction (not bumped)."),
    ]


def _exposure() -> list[AxisScenario]:
    three = ("AAA", "BBB", "CCC")
    eight = tuple(f"S{i:02d}" for i in range(8))
    twenty = tuple(f"S{i:02d}" for i in range(20))
    return [
        AxisScenario(
            "trade.max_total_margin_pct", 0.42, 0.78, lambda: trend_market(UP_STRONG, three), _margin_cap,
            base={**HAND, "trade.enable_dynamic_sizing": False, "trade.allocation_pct": 0.3}, lookback=LOOKBACK,
            note="§2.4/§3.4: three identical uptrends signal on the first ready bar; 3000 margin each against "
                 "a cap of 4200 (0.42) or 7800 (0.78): the last entry is clamped to the headroom, then skipped."),
        AxisScenario(
            "trade.max_total_margin_pct", 0.42, 0.78, lambda: trend_market(UP_STRONG), _margin_cap_adds,
            name="adds",
            base={**HAND, "trade.enable_dynamic_sizing": False, "trade.allocation_pct": 0.3,
                  "trade.enable_pyramiding": True, "trade.add_fraction_of_base_margin": 1.0,
                  "trade.add_min_confidence": "low"}, lookback=LOOKBACK,
            note="§3.4: a pyramid add is refused when Σ margin + add margin would exceed equity × cap "
                 "(no down-sizing): 3000 + ~3000 exceeds 0.42 × equity, fits 0.78 × equity."),
        AxisScenario(
            "trade.max_open_positions", 14, 20, lambda: trend_market(UP_STRONG, twenty), _max_open,
            base={**HAND, "trade.enable_dynamic_sizing": False, "trade.allocation_pct": 0.02,
                  "trade.max_entry_orders_per_loop": 26}, lookback=LOOKBACK,
            note="§3.4: twenty identical uptrends all signal; no new entry while max_open_positions are open."),
        AxisScenario(
            "trade.max_open_positions", 1, 6, four_ticks, _max_open_one, name="one",
            base={**SYNTH, "engine.entry_interval": "15m"}, lookback=30,
            note="§3.4: with max_open_positions 1 at most one position is open at any time (4 synthetic symbols)."),
        AxisScenario(
            "trade.max_entry_orders_per_loop", 4, 8, lambda: trend_market(UP_STRONG, eight), _orders_main,
            base={**HAND, "trade.enable_dynamic_sizing": False, "trade.allocation_pct": 0.05}, lookback=LOOKBACK,
            note="§2.4: eight identical uptrends signal together: 4 open on the first ready bar and 4 on the next "
                 "with budget 4; all 8 at once with budget 8."),
        AxisScenario(
            "trade.max_entry_orders_per_loop", 1, 6, four_ticks, _orders_ticks, name="entry-ticks",
            base={**SYNTH, "engine.entry_interval": "15m"}, lookback=30,
            note="D6: the budget counts new opens over all entry ticks of a window: with 1, at most one OPEN "
                 "per hour window (4 synthetic symbols, 15m entry ticks)."),
    ]


def _filters() -> list[AxisScenario]:
    strong = lambda: trend_market(UP_STRONG)  # noqa: E731
    return [
        AxisScenario(
            "trade.entry_min_confidence", "low", "high", btc_main, _min_conf, base=SYNTH, lookback=30,
            note="F1: low admits Low (slow drift) and Medium entries; high only High-confidence ones."),
        AxisScenario(
            "trade.reverse_entry_signal", False, True, strong, _reverse, base=HAND, lookback=LOOKBACK,
            note="T2: the uptrend's BUYs open longs; reversed, every one becomes a SELL (shorts only)."),
        AxisScenario(
            "trade.enable_ssf_filter", False, True, strong, blocks_all("SHORT", "SSF"),
            base={**HAND, "trade.reverse_entry_signal": True}, lookback=LOOKBACK,
            note="F3 on the post-T2 direction: the uptrend's BUYs are reversed to SELLs; a SELL needs MACD "
                 "hist < 0 and the hist is 0.047–0.152 at every bar, so SSF on blocks them all."),
        AxisScenario(
            "trade.enable_reef_filter", False, True, strong, blocks_all("LONG", "REEF"),
            base={**HAND}, lookback=LOOKBACK,
            note="F4: RSI 78–81 at ADX ~64 (≥ 45, extreme tier): longs blocked above reef_long_rsi_extreme_gt 75."),
        AxisScenario(
            "trade.reef_long_rsi_block_gt", 91.0, 70.0, lambda: trend_market(UP_WEAK), blocks_all("LONG", "REEF"),
            base={**HAND, "trade.enable_reef_filter": True}, lookback=LOOKBACK,
            note="F4 block tier (ADX ~22 < 45): RSI 78–81 passes 91, is blocked by 70."),
        AxisScenario(
            "trade.reef_long_rsi_extreme_gt", 97.5, 75.0, strong, blocks_all("LONG", "REEF"),
            base={**HAND, "trade.enable_reef_filter": True}, lookback=LOOKBACK,
            note="F4 extreme tier (ADX ~64 ≥ 45): RSI 78–81 passes 97.5, is blocked by 75."),
        AxisScenario(
            "trade.reef_short_rsi_block_lt", 21.0, 39.0, lambda: trend_market(DN_MID), blocks_all("SHORT", "REEF"),
            base={**HAND, "trade.enable_reef_filter": True}, lookback=LOOKBACK,
            note="F4 block tier (ADX ~34 < 45): downtrend RSI 27–30 passes 21, is blocked by 39."),
        AxisScenario(
            "trade.reef_short_rsi_extreme_lt", 17.5, 32.5, lambda: trend_market(DN_STRONG),
            blocks_all("SHORT", "REEF"),
            base={**HAND, "trade.enable_reef_filter": True}, lookback=LOOKBACK,
            note="F4 extreme tier (ADX ~73 ≥ 45): downtrend RSI 27–30 passes 17.5, is blocked by 32.5."),
        AxisScenario(
            "trade.reef_adx_threshold", 31.5, 58.5, lambda: trend_market(UP_MID), blocks_all("LONG", "REEF"),
            base={**HAND, "trade.enable_reef_filter": True, "trade.reef_long_rsi_extreme_gt": 97.5},
            lookback=LOOKBACK,
            note="F4 tier switch at ADX ~34, RSI 78–81: threshold 31.5 → extreme tier (97.5, passes); 58.5 → "
                 "block tier (70, blocked)."),
    ]


def _pyramiding() -> list[AxisScenario]:
    ticks = {**SYNTH, "engine.entry_interval": "15m", "trade.enable_pyramiding": True, "trade.allocation_pct": ALLOC,
             "trade.add_min_confidence": "low", "trade.add_min_profit_atr": 0.0, "trade.add_cooldown_minutes": 15,
             "trade.max_adds_per_symbol": 3}
    return [
        AxisScenario(
            "trade.enable_pyramiding", False, True, btc_ticks, _pyr_on,
            base={**ticks, "trade.enable_pyramiding": False}, lookback=30,
            note="D6/D31: with 15m entry sub-bars, same-direction signals at entry ticks add to open positions."),
        AxisScenario(
            "trade.max_adds_per_symbol", 1, 3, btc_ticks, _max_adds, base=ticks, lookback=30,
            note="§4 step 1: at most max_adds_per_symbol ADDs per position (entry ticks, add cooldown 15 min)."),
        AxisScenario(
            "trade.add_cooldown_minutes", 42, 78, btc_ticks, _add_cooldown, base=ticks, lookback=30,
            note="§4 step 3: an ADD comes ≥ add_cooldown_minutes after the open or the previous add."),
        AxisScenario(
            "trade.add_min_profit_atr", 0.35, 0.65, btc_ticks, _add_profit, base=ticks, lookback=30,
            note="§4 step 4: profit (tick close − entry price) / entry ATR ≥ add_min_profit_atr at every ADD."),
        AxisScenario(
            "trade.add_min_confidence", "low", "medium", btc_ticks, _add_conf, base=ticks, lookback=30,
            note="§4 step 2: the ADD record carries the signal's confidence; Low signals add only with 'low'."),
        AxisScenario(
            "trade.add_fraction_of_base_margin", 0.25, 1.0, btc_main,
            expect_all(lambda a, b: _add_fraction(0.25)(a), lambda a, b: _add_fraction(1.0)(b)),
            base={**SYNTH, "trade.enable_pyramiding": True, "trade.allocation_pct": ALLOC,
                  "trade.add_min_confidence": "low"}, lookback=30,
            note="§4 step 6: add margin = equity at the add (balance + unrealised at the close) × allocation × "
                 "fraction; main-bar mode so the mark equals the add's decision close."),
    ]


# --- cooldown fixtures ------------------------------------------------------------------------------

T_TICK = START_MS + 48 * HOUR  # left end of the window of the D18 ticks (main bar 47 closes here)


def _d18() -> AxisScenario:
    s = 10 * SECOND
    ticks = ((T_TICK + s, 1.002), (T_TICK + 2 * s, 0.95), (T_TICK + 3 * s, 1.003), (T_TICK + 4 * s, 1.004))
    return AxisScenario(
        "trade.entry_cooldown_s", 14, 26, lambda: tick_market(UP_STRONG, "10s", ticks),
        open_times_are([T_TICK + s, T_TICK + 3 * s], [T_TICK + s, T_TICK + 4 * s], "D18"),
        base={**HAND, "engine.entry_interval": "10s", "engine.exit_interval": "10s",
              "trade.reentry_cooldown_minutes": 0, "trade.reentry_cooldown_min_mins": 0,
              "trade.reentry_cooldown_max_mins": 0},
        lookback=LOOKBACK,
        note="D18 on 10 s entry/exit sub-bars: entry at τ, stop-out at τ+10 s (close −5 %), a new BUY at "
             "τ+20 s: cooldown 14 s enters there, 26 s only at τ+30 s. PESC is off (min = max = 0) so the "
             "re-entry is same-side (D18 uses an opposite-side signal for the same purpose).")


def _pesc(axis: str, va: int, vb: int, kind: tuple, base_extra: dict, gaps: Sequence[int],
          want_a: int, want_b: int, note: str, name: str = "") -> AxisScenario:
    """Entry at the tick closing at T_TICK, stop-out at T_TICK + 10 min (close −6 %), BUY ticks at the given
    gaps (minutes after the stop-out): run a re-enters at gap ``want_a``, run b at gap ``want_b``."""
    x = T_TICK + 10 * MINUTE
    ticks = ((T_TICK, 1.002), (x, 0.94), *((x + g * MINUTE, 1.002) for g in gaps))
    return AxisScenario(
        axis, va, vb, lambda: tick_market(kind, "10m", ticks),
        open_times_are([T_TICK, x + want_a * MINUTE], [T_TICK, x + want_b * MINUTE], f"PESC {axis}"),
        base={**HAND, "engine.entry_interval": "10m", "engine.exit_interval": "10m", **base_extra},
        lookback=LOOKBACK, note=note, name=name)


def _cooldowns() -> list[AxisScenario]:
    return [
        _d18(),
        _pesc("trade.reentry_cooldown_minutes", 42, 60, UP_MID, {}, (50, 60), 50, 60,
              "D16: stop-out of a long, BUY ticks 50 and 60 min later at ADX ~34 (view bar): base 42 → "
              "cooldown 42.6 clamped to min 45 → re-entry at 50 min; base 60 → 57 min → blocked at 50, "
              "re-entry at 60.", name="D16"),
        _pesc("trade.reentry_cooldown_min_mins", 30, 90, UP_STRONG, {}, (50, 100), 50, 100,
              "§5.7: ADX ~64 ≥ 40 → cooldown = min_mins: 30 re-enters 50 min after the stop-out, 90 only at 100."),
        _pesc("trade.reentry_cooldown_max_mins", 126, 234, UP_WEAK, {}, (50, 130, 240), 130, 240,
              "§5.7: ADX ~22 ≤ 25 → cooldown = max_mins: 126 re-enters 130 min after the stop-out, 234 only "
              "at 240 (the 50-min tick is blocked by both)."),
    ]


SCENARIOS: list[AxisScenario] = [
    *_sizing(), *_leverage_table(), *_execution(), *_exposure(), *_filters(), *_pyramiding(), *_cooldowns(),
]
