"""Pre-ranking filters F1–F4 for a flat symbol (strategy-entries.md §4.6, strategy-exits.md §2.4, §5.7).

They run after the transforms and the position interaction, only when the symbol is flat, in the
order F1 → F4, on the post-T2 direction with the unchanged snapshot / view values:

* F1 ``meets_min_confidence`` — ``rank(confidence) >= rank(trade.entry_min_confidence)``.
* F2 ``pesc_blocked`` — post-exit same-direction cooldown with the three-anchor ADX duration [D16].
* F3 ``ssf_blocked`` — MACD-histogram sign filter (exactly 0 blocks both sides).
* F4 ``reef_blocked`` — ADX-tiered RSI extremes.

``first_blocking_filter`` runs the four in order and names the first that blocks (the ``gate_stats``
counter of strategy-exits.md §2.4). Pyramid adds use none of them (strategy-exits.md §4).
"""
from __future__ import annotations

from typing import Any, NamedTuple

from engine_ref.arith import clamp, trunc_i
from engine_ref.entry_modes import BUY, SELL, confidence_from_config, confidence_rank

LONG = "LONG"
SHORT = "SHORT"
#: The one exit reason that never starts a PESC cooldown (exact string equality, §5.7).
SIGNAL_FLIP_REASON = "Signal Flip"

#: F2 ADX anchors and step (fixed constants, strategy-exits.md §7.7): max at ≤ 25, base at 32.5, min at ≥ 40.
PESC_ADX_WEAK = 25.0
PESC_ADX_MID = 32.5
PESC_ADX_STRONG = 40.0
PESC_ADX_STEP = 7.5
MS_PER_MINUTE = 60000.0

_SIDE_OF_SIGNAL = {BUY: LONG, SELL: SHORT}


class LastExit(NamedTuple):
    """``last_close[sym]`` of strategy-exits.md §1.3: the latest partial or full exit of a symbol."""

    exit_time_ms: int
    side: str
    reason: str


def side_for_signal(signal: str) -> str:
    """§0.4 of strategy-exits.md: a BUY wants LONG, a SELL wants SHORT."""
    return _SIDE_OF_SIGNAL[signal]


def meets_min_confidence(confidence: str, cfg: dict) -> bool:
    """F1 — the signal's confidence ranks at least ``trade.entry_min_confidence`` (Low < Medium < High)."""
    minimum = confidence_from_config(cfg["trade"]["entry_min_confidence"])
    return confidence_rank(confidence) >= confidence_rank(minimum)


def pesc_cooldown_minutes(adx: float, cfg: dict) -> float:
    """F2 duration [D16]: piecewise linear in ADX through (≤ 25, max), (32.5, base), (≥ 40, min),
    then clamped to [min, max]. All three keys are integer minutes, converted to binary64 first."""
    t = cfg["trade"]
    mn = float(t["reentry_cooldown_min_mins"])
    mx = float(t["reentry_cooldown_max_mins"])
    b = float(t["reentry_cooldown_minutes"])
    if adx <= PESC_ADX_WEAK:
        cd = mx
    elif adx < PESC_ADX_MID:
        cd = mx + (((adx - PESC_ADX_WEAK) / PESC_ADX_STEP) * (b - mx))
    elif adx < PESC_ADX_STRONG:
        cd = b + (((adx - PESC_ADX_MID) / PESC_ADX_STEP) * (mn - b))
    else:
        cd = mn
    return clamp(cd, mn, mx)


def pesc_blocked(last_exit: LastExit | tuple | None, want_side: str, decision_time_ms: int,
                 adx: float, cfg: dict) -> bool:
    """F2 — PESC (strategy-exits.md §5.7, entries §4.6): block a same-side re-entry for the cooldown.

    ``last_exit`` is ``(exit_time_ms, side, reason)`` of the symbol's latest partial or full exit, or
    ``None``; ``want_side`` is ``LONG``/``SHORT``; ``decision_time_ms`` is τ of this evaluation point;
    ``adx`` is the candidate snapshot's (or view's) ADX. The duration in ms is truncated toward zero (N7).
    """
    if last_exit is None:
        return False
    exit_time_ms, exit_side, exit_reason = last_exit
    if exit_reason == SIGNAL_FLIP_REASON:
        return False
    if exit_side != want_side:
        return False
    cooldown_ms = trunc_i(pesc_cooldown_minutes(adx, cfg) * MS_PER_MINUTE)
    return (decision_time_ms - exit_time_ms) < cooldown_ms


def ssf_blocked(signal: str, S: Any, cfg: dict) -> bool:
    """F3 — SSF: with ``enable_ssf_filter`` a BUY needs ``S.macd_hist > 0``, a SELL ``S.macd_hist < 0``."""
    if not cfg["trade"]["enable_ssf_filter"]:
        return False
    passes = (signal == BUY and S.macd_hist > 0.0) or (signal == SELL and S.macd_hist < 0.0)
    return not passes


def reef_blocked(signal: str, S: Any, cfg: dict) -> bool:
    """F4 — REEF: RSI extreme blocks, with the wider ``*_extreme_*`` levels once ADX ≥ ``reef_adx_threshold``."""
    t = cfg["trade"]
    if not t["enable_reef_filter"]:
        return False
    strong = S.adx >= t["reef_adx_threshold"]
    if signal == BUY:
        limit = t["reef_long_rsi_extreme_gt"] if strong else t["reef_long_rsi_block_gt"]
        return S.rsi > limit
    if signal == SELL:
        limit = t["reef_short_rsi_extreme_lt"] if strong else t["reef_short_rsi_block_lt"]
        return S.rsi < limit
    return False


def first_blocking_filter(signal: str, confidence: str, S: Any, cfg: dict,
                          last_exit: LastExit | tuple | None, decision_time_ms: int) -> str | None:
    """F1 → F4 in order for a flat symbol: the ``gate_stats`` name of the first filter that blocks
    (``"confidence"``, ``"pesc"``, ``"ssf"``, ``"reef"``), or ``None`` when the candidate may be ranked."""
    if not meets_min_confidence(confidence, cfg):
        return "confidence"
    if pesc_blocked(last_exit, side_for_signal(signal), decision_time_ms, S.adx, cfg):
        return "pesc"
    if ssf_blocked(signal, S, cfg):
        return "ssf"
    if reef_blocked(signal, S, cfg):
        return "reef"
    return None
