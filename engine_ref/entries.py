"""Entry decision for one evaluation point: gate block G1–G10 and ``generate`` (strategy-entries.md §4.1–§4.3).

``generate(S, cfg, context, symbol)`` runs the gate block (§4.2) and the signal modes A → B → C
(§4.3, ``engine_ref.entry_modes``) and returns ``EntrySignal(signal, confidence, entry_adx_threshold)``
— stage ``M`` of §4.1. The transforms T1–T4 (``engine_ref.transforms``), position interaction (the loop)
and the filters F1–F4 (``engine_ref.entry_filters``) come after it.

``S`` is a snapshot (main-bar entry mode: the bar that closed at τ) or a sub-bar view (entry tick: the
latest snapshot with the entry sub-bar's prices, §5.2, D5); it is read by the §2.12 field names.
``cfg`` is the evaluated symbol's effective config (nested dict, D27). Every gate is a pure function;
comparisons are exactly as written (N5), arithmetic in the written order (N2, D23).
"""
from __future__ import annotations

from typing import Any

from engine_ref.arith import clamp
from engine_ref.config_schema import ascii_upper
from engine_ref.entry_modes import (BUY, HIGH, LOW, MEDIUM, NEUTRAL, NO_SIGNAL, SELL, EntrySignal,
                                    GateFlags, confidence_rank, run_signal_modes)

__all__ = ["BUY", "SELL", "NEUTRAL", "LOW", "MEDIUM", "HIGH", "NO_SIGNAL", "EntrySignal", "GateFlags",
           "confidence_rank", "generate", "evaluate_gates"]

#: G6 TMC: an ADX slope above this relaxes the min ADX to at most ``TMC_MAX_MIN_ADX`` (fixed constants).
TMC_ADX_SLOPE_GT = 0.5
TMC_MAX_MIN_ADX = 25.0

#: G8: the only symbol exempt from BTC alignment by name (quirk Q17: not ``BTCUSDT``).
BTC_SELF_EXEMPT_SYMBOL = "BTC"


def ranging_vote(S: Any, cfg: dict) -> bool:
    """G1 — ranging vote: ADX low, band width contracted, RSI in the neutral band; ``votes >= min_signals``.

    ``min_signals`` is literal: 0 makes every bar ranging while the filter is on [D20].
    """
    if not cfg["filters"]["enable_ranging_filter"]:
        return False
    r = cfg["thresholds"]["ranging"]
    votes = 0
    votes = votes + int(S.adx < r["adx_below"])
    votes = votes + int(S.bb_width_ratio < r["bb_width_ratio_below"])
    votes = votes + int(r["rsi_low"] < S.rsi and S.rsi < r["rsi_high"])
    return votes >= r["min_signals"]


def anomaly(S: Any, cfg: dict) -> bool:
    """G2 — anomaly: close moved more than ``price_change_pct_gt`` since ``prev_close`` (fraction), or
    deviates more than ``ema_fast_dev_pct_gt`` from EMA-fast. Zero denominators give 0.0 (guards)."""
    if not cfg["filters"]["enable_anomaly_filter"]:
        return False
    a = cfg["thresholds"]["anomaly"]
    pc = abs(S.c - S.prev_close) / S.prev_close if S.prev_close > 0.0 else 0.0
    dev = abs(S.c - S.ema_fast) / S.ema_fast if S.ema_fast > 0.0 else 0.0
    return (pc > a["price_change_pct_gt"]) or (dev > a["ema_fast_dev_pct_gt"])


def extended(S: Any, cfg: dict) -> bool:
    """G3 — extension: distance of the close to EMA-fast (fraction) above ``max_dist_ema_fast``."""
    if not cfg["filters"]["enable_extension_filter"]:
        return False
    dist = abs(S.c - S.ema_fast) / S.ema_fast if S.ema_fast > 0.0 else 0.0
    return dist > cfg["thresholds"]["entry"]["max_dist_ema_fast"]


def volume_confirmed(S: Any, cfg: dict) -> bool:
    """G4 — volume confirmation, the Python rule (SPEC-DEVIATION RP-E8, D11)."""
    f = cfg["filters"]
    if not f["require_volume_confirmation"]:
        return True
    if f["vol_confirm_include_prev"]:
        return (((S.v > S.vol_sma) or (S.prev_volume > S.prev_vol_sma))
                and (S.vol_trend or S.prev_vol_trend))
    return (S.v > S.vol_sma) and S.vol_trend


def adx_rising(S: Any, cfg: dict) -> bool:
    """G5 — ADX rising (slope > 0) or saturated (ADX > ``adx_rising_saturation``)."""
    f = cfg["filters"]
    if not f["require_adx_rising"]:
        return True
    return (S.adx_slope > 0.0) or (S.adx > f["adx_rising_saturation"])


def effective_min_adx(S: Any, cfg: dict) -> float:
    """G6 — effective minimum ADX: ``min_adx``, relaxed to ≤ 25 by TMC, then scaled by AVE.

    AVE compares the raw ATR (not the T1 floor) with ``avg_atr``; ``ave_adx_mult`` is literal [D20].
    """
    e = cfg["thresholds"]["entry"]
    m = e["min_adx"]
    if S.adx_slope > TMC_ADX_SLOPE_GT:
        m = min(m, TMC_MAX_MIN_ADX)
    if e["ave_enabled"] and S.avg_atr > 0.0:
        ratio = S.atr / S.avg_atr
        if ratio > e["ave_atr_ratio_gt"]:
            m = m * e["ave_adx_mult"]
    return m


def ema_alignment(S: Any, cfg: dict) -> tuple[bool, bool]:
    """G7 — ``(bull, bear)``: EMA-fast vs EMA-slow, optionally EMA-slow vs EMA-macro (strict)."""
    bull = S.ema_fast > S.ema_slow
    bear = S.ema_fast < S.ema_slow
    if cfg["filters"]["require_macro_alignment"]:
        bull = bull and (S.ema_slow > S.ema_macro)
        bear = bear and (S.ema_slow < S.ema_macro)
    return bull, bear


def btc_alignment(S: Any, cfg: dict, symbol: str, btc_bullish: bool | None) -> tuple[bool, bool]:
    """G8 — ``(btc_ok_long, btc_ok_short)`` from the window's BTC flag (§3.1).

    Exempt: alignment off, the symbol named exactly ``BTC`` after ASCII upper-casing (Q17, D48), BTC
    flag unknown, or ADX above ``btc_adx_override``.
    """
    exempt = ((not cfg["filters"]["require_btc_alignment"])
              or (ascii_upper(symbol) == BTC_SELF_EXEMPT_SYMBOL)
              or (btc_bullish is None)
              or (S.adx > cfg["thresholds"]["entry"]["btc_adx_override"]))
    btc_ok_long = exempt or (btc_bullish is True)
    btc_ok_short = exempt or (btc_bullish is False)
    return btc_ok_long, btc_ok_short


def slow_drift_unranging(S: Any, cfg: dict, ranging: bool) -> bool:
    """G9 — ``ranging`` after the slow-drift override: a steep enough EMA-slow slope un-ranges the bar."""
    e = cfg["thresholds"]["entry"]
    if e["enable_slow_drift_entries"] and ranging and abs(S.ema_slow_slope_pct) >= e["slow_drift_min_slope_pct"]:
        return False
    return ranging


def dre_rsi_limits(S: Any, cfg: dict) -> tuple[float, float]:
    """G10 — ``(rsi_long_limit, rsi_short_limit)`` interpolated by ADX between the weak limits (at the
    base ``min_adx``) and the strong limits (at ``adx_strong_gt``, or ``min_adx + 1`` if not above it)."""
    tm = cfg["thresholds"]["tp_and_momentum"]
    lo = cfg["thresholds"]["entry"]["min_adx"]
    hi = tm["adx_strong_gt"] if tm["adx_strong_gt"] > lo else lo + 1.0
    wgt = clamp((S.adx - lo) / (hi - lo), 0.0, 1.0)
    rsi_long_limit = tm["rsi_long_weak"] + (wgt * (tm["rsi_long_strong"] - tm["rsi_long_weak"]))
    rsi_short_limit = tm["rsi_short_weak"] + (wgt * (tm["rsi_short_strong"] - tm["rsi_short_weak"]))
    return rsi_long_limit, rsi_short_limit


def evaluate_gates(S: Any, cfg: dict, symbol: str, btc_bullish: bool | None) -> GateFlags:
    """The gate block G1–G10 of §4.2 for one evaluation point (G9 reads G1; G11 is an exit rule, D15)."""
    m = effective_min_adx(S, cfg)
    bull, bear = ema_alignment(S, cfg)
    btc_ok_long, btc_ok_short = btc_alignment(S, cfg, symbol, btc_bullish)
    rsi_long_limit, rsi_short_limit = dre_rsi_limits(S, cfg)
    return GateFlags(
        ranging=slow_drift_unranging(S, cfg, ranging_vote(S, cfg)),
        anomaly=anomaly(S, cfg),
        extended=extended(S, cfg),
        vol_ok=volume_confirmed(S, cfg),
        rising=adx_rising(S, cfg),
        adx_ok=S.adx > m,
        effective_min_adx=m,
        bull=bull, bear=bear,
        btc_ok_long=btc_ok_long, btc_ok_short=btc_ok_short,
        rsi_long_limit=rsi_long_limit, rsi_short_limit=rsi_short_limit,
    )


def generate(S: Any, cfg: dict, context: Any, symbol: str) -> EntrySignal:
    """Stages G and M of §4.1: ``(signal, confidence, entry_adx_threshold)`` for ``symbol`` at ``S``.

    ``context`` is the window context (§3, ``engine_ref.context.WindowContext``); only its
    ``btc_bullish`` is read here (G8). NEUTRAL comes back as ``(NEUTRAL, None, 0.0)``.
    """
    gates = evaluate_gates(S, cfg, symbol, context.btc_bullish)
    return run_signal_modes(S, cfg, gates)
