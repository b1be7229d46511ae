"""Window context: market breadth, BTC trend flag and BTC gate metrics (strategy-entries.md §3, D7).

Computed once at the start of every window ``W_j``, before any main bar opening at ``T_j`` is fed, from
each universe symbol's latest processed main bar (close ≤ the window's left end). The same context
serves every decision of the window (exit sub-bars, entry ticks, and the main step at ``C_j`` — one bar
of lag there, quirk Q16). Each symbol's indicator state was built with its own effective config (D27),
so the EMA windows behind ``ema_fast`` / ``ema_slow`` are already per symbol.

Input per symbol: any object with ``snapshot`` (the latest ``IndicatorSnapshot`` or ``None``) and
``bar_count`` (main bars processed so far) — e.g. ``engine_ref.indicators.SymbolIndicators``.
A symbol that stopped trading keeps its last snapshot and still counts (D53.6).
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from engine_ref.config_schema import ascii_upper

#: §3.1 BTC bank lookup order: the exact symbol ``BTC``, else ``BTCUSDT``.
BTC_CONTEXT_SYMBOLS = ("BTC", "BTCUSDT")
#: §3.1: the BTC bank needs at least one processed main bar.
BTC_BANK_MIN_BARS = 1
#: §3.2: a symbol counts for breadth once it has at least two processed main bars.
BREADTH_MIN_BARS = 2
#: §3.2: breadth when no symbol qualifies (then ``breadth_defined`` is false).
UNDEFINED_BREADTH_PCT = 50.0


@dataclass(frozen=True)
class WindowContext:
    """The window context of §3 / D7 (strategy-exits.md §1.4).

    ``breadth_pct``: percent (0–100) of qualifying universe symbols with EMA-fast > EMA-slow; 50.0 when
    ``breadth_defined`` is false. ``btc_bullish``: BTC close > BTC EMA-slow, ``None`` without a BTC bank.
    ``btc_close`` / ``btc_adx`` / ``btc_atr``: the bank's latest close (quote currency), ADX and raw ATR
    (quote currency, not floored) for the regime gate (§3.3); ``None`` without a bank. ``btc_symbol``
    names the bank's symbol (``"BTC"``, ``"BTCUSDT"`` or ``None``).
    """

    breadth_pct: float
    breadth_defined: bool
    btc_bullish: bool | None
    btc_close: float | None
    btc_adx: float | None
    btc_atr: float | None
    btc_symbol: str | None = None


def _bars_fed(symbol_states: Mapping[str, Any], symbol: str) -> int:
    """Processed main bars of ``symbol`` (0 when it has no indicator state)."""
    state = symbol_states.get(symbol)
    if state is None or state.snapshot is None:
        return 0
    return state.bar_count


def market_breadth(symbol_states: Mapping[str, Any], universe: Iterable[str]) -> tuple[float, bool]:
    """§3.2 — ``(breadth_pct, breadth_defined)`` over every universe symbol with ≥ 2 processed bars.

    BTC and symbols without a bar at ``T_j`` are included; bullish = EMA-fast > EMA-slow (strict).
    ``(bull / total) × 100.0`` — binary64 division first, then the product.
    """
    total = 0
    bull = 0
    for symbol in sorted(universe):
        if _bars_fed(symbol_states, symbol) >= BREADTH_MIN_BARS:
            total += 1
            snap = symbol_states[symbol].snapshot
            if snap.ema_fast > snap.ema_slow:
                bull += 1
    if total > 0:
        return (float(bull) / float(total)) * 100.0, True
    return UNDEFINED_BREADTH_PCT, False


def btc_bank_symbol(symbol_states: Mapping[str, Any], universe: Iterable[str]) -> str | None:
    """§3.1 — the universe symbol named ``BTC`` with ≥ 1 processed bar, else the one named ``BTCUSDT``
    likewise, else ``None``. Names are compared after ASCII upper-casing, like every BTC name test (D48);
    symbols that collide under upper-casing are a data error (D53.1), so at most one symbol matches."""
    members = sorted(universe)
    for target in BTC_CONTEXT_SYMBOLS:
        for symbol in members:
            if ascii_upper(symbol) == target and _bars_fed(symbol_states, symbol) >= BTC_BANK_MIN_BARS:
                return symbol
    return None


def compute_context(symbol_states: Mapping[str, Any], configs: Mapping[str, Any] | None = None,
                    universe: Iterable[str] | None = None) -> WindowContext:
    """The window context (§3, D7) from every universe symbol's latest processed main bar.

    ``universe`` defaults to the keys of ``symbol_states``. ``configs`` (per-symbol effective configs)
    is accepted for the loop's convenience and not read: every config-dependent input (the BTC EMA-slow
    window of §3.1, each symbol's EMA windows) is already inside that symbol's snapshot.
    """
    del configs  # not needed: see the docstring
    members = sorted(symbol_states) if universe is None else sorted(universe)
    breadth_pct, breadth_defined = market_breadth(symbol_states, members)
    bank = btc_bank_symbol(symbol_states, members)
    if bank is None:
        return WindowContext(breadth_pct, breadth_defined, None, None, None, None, None)
    snap = symbol_states[bank].snapshot
    return WindowContext(
        breadth_pct=breadth_pct,
        breadth_defined=breadth_defined,
        btc_bullish=snap.c > snap.ema_slow,
        btc_close=snap.c,
        btc_adx=snap.adx,
        btc_atr=snap.atr,
        btc_symbol=bank,
    )
