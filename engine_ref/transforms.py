"""Engine transforms T1–T4 of a non-NEUTRAL signal (strategy-entries.md §4.4, strategy-exits.md §2.10).

* T1 ``atr_floor`` — entry ATR floored at ``close × min_atr_pct`` (never changes the signal).
* T2 ``reverse`` — static ``reverse_entry_signal`` or, when enabled, auto-reverse by breadth [D10].
* T3 ``regime_filter`` — directional block at breadth extremes, on the post-T2 direction [D8].
* T4 ``regime_gate`` — neutralise while the regime gate of §3.3 is closed [D9].

While breadth is undefined (no universe symbol has two processed bars) the auto-reverse and the regime
filter are skipped (DECISIONS.md D53.19); the gate has its own ``regime_gate_fail_open`` rule (§3.3).
All transforms read the window context (§3, ``engine_ref.context.WindowContext``) and the evaluated
symbol's effective config; confidence and ``entry_adx_threshold`` are never changed.
"""
from __future__ import annotations

from typing import Any, NamedTuple

from engine_ref.entry_modes import BUY, NEUTRAL, SELL

_OPPOSITE = {BUY: SELL, SELL: BUY, NEUTRAL: NEUTRAL}


class TransformedSignal(NamedTuple):
    """Result of T1–T4: the final direction (or NEUTRAL) and the entry ATR (quote currency, floored)."""

    signal: str
    atr_entry: float


def atr_floor(atr: float, price: float, cfg: dict) -> float:
    """T1 / strategy-exits.md §2.12: ``price × min_atr_pct`` if the raw ATR is below it, else the raw ATR.

    ``price`` is the evaluation price ``S.c`` (main close or entry sub-bar close); ``min_atr_pct = 0``
    never floors [D20].
    """
    floor = price * cfg["trade"]["min_atr_pct"]
    if atr < floor:
        return floor
    return atr


def reverse_wanted(cfg: dict, context: Any) -> bool:
    """T2 flip decision [D10]: ``reverse_entry_signal``, overridden entirely by auto-reverse when enabled
    (flip iff ``auto_reverse_breadth_low ≤ breadth ≤ auto_reverse_breadth_high``).

    D53.19: while breadth is undefined only the auto-reverse override is skipped, so the static
    ``reverse_entry_signal`` decides (D10's "otherwise" branch), as if auto-reverse were off.
    """
    mr = cfg["market_regime"]
    rev = cfg["trade"]["reverse_entry_signal"]
    if mr["enable_auto_reverse"] and context.breadth_defined:
        breadth = context.breadth_pct
        rev = (mr["auto_reverse_breadth_low"] <= breadth and breadth <= mr["auto_reverse_breadth_high"])
    return rev


def reverse(signal: str, cfg: dict, context: Any) -> str:
    """T2 — reverse / auto-reverse: BUY ↔ SELL when ``reverse_wanted``; NEUTRAL stays NEUTRAL."""
    if reverse_wanted(cfg, context):
        return _OPPOSITE[signal]
    return signal


def regime_filter(signal: str, cfg: dict, context: Any) -> str:
    """T3 — regime filter [D8]: SELL → NEUTRAL while breadth > ``breadth_block_short_above``; BUY →
    NEUTRAL while breadth < ``breadth_block_long_below`` (both strict). Skipped while breadth is
    undefined (D53.19)."""
    mr = cfg["market_regime"]
    if not mr["enable_regime_filter"] or not context.breadth_defined:
        return signal
    breadth = context.breadth_pct
    if signal == SELL and breadth > mr["breadth_block_short_above"]:
        signal = NEUTRAL
    if signal == BUY and breadth < mr["breadth_block_long_below"]:
        signal = NEUTRAL
    return signal


def regime_gate_open(cfg: dict, context: Any) -> bool:
    """``gate_on(cfg)`` of §3.3 [D9] for the evaluated symbol's config and the window context.

    Closed (false) inside the breadth chop band ``[regime_gate_breadth_low, regime_gate_breadth_high]``
    (empty when low > high), else while BTC ADX < ``regime_gate_btc_adx_min`` or BTC ATR / BTC close <
    ``regime_gate_btc_atr_pct_min``. ``regime_gate_fail_open`` decides when breadth is undefined, when
    there is no BTC bank, or when the BTC close is not positive.
    """
    mr = cfg["market_regime"]
    if not mr["enable_regime_gate"]:
        return True
    if not context.breadth_defined:
        return mr["regime_gate_fail_open"]
    if mr["regime_gate_breadth_low"] <= context.breadth_pct <= mr["regime_gate_breadth_high"]:
        return False
    if context.btc_close is None or context.btc_close <= 0.0:
        return mr["regime_gate_fail_open"]
    btc_adx = context.btc_adx
    atr_pct = context.btc_atr / context.btc_close
    if btc_adx < mr["regime_gate_btc_adx_min"]:
        return False
    if atr_pct < mr["regime_gate_btc_atr_pct_min"]:
        return False
    return True


def regime_gate(signal: str, cfg: dict, context: Any) -> str:
    """T4 — regime gate [D9]: NEUTRAL while the gate is closed (no open, add or flip; exits unaffected)."""
    if regime_gate_open(cfg, context):
        return signal
    return NEUTRAL


def apply_transforms(signal: str, S: Any, cfg: dict, context: Any) -> TransformedSignal:
    """T1 → T2 → T3 → T4 in the order of §4.1 / strategy-exits.md §2.4 for the entry layer's signal.

    ``S`` is the evaluated snapshot or view (T1 reads ``S.atr`` raw and ``S.c``). Returns the final
    signal (NEUTRAL when T3 or T4 neutralised it; a NEUTRAL input stays NEUTRAL) and the entry ATR.
    """
    atr_entry = atr_floor(S.atr, S.c, cfg)
    if signal == NEUTRAL:
        return TransformedSignal(NEUTRAL, atr_entry)
    signal = reverse(signal, cfg, context)
    signal = regime_filter(signal, cfg, context)
    if signal == NEUTRAL:
        return TransformedSignal(NEUTRAL, atr_entry)
    signal = regime_gate(signal, cfg, context)
    return TransformedSignal(signal, atr_entry)
