"""Smart exits (strategy-exits.md §5.4; D17, D19), first match wins.

Each rule returns its full reason string (§6.6 formatting) or None. ``pa`` is ``profit_atr`` (0 when
``entry_atr ≤ 0``); ``s`` the evaluated snapshot or sub-bar view; ``cfg`` the symbol's effective config.
"""
from __future__ import annotations

from typing import Any

from engine_ref.config_schema import ascii_upper
from engine_ref.positions import LONG, Position, atr_eff
from engine_ref.records import (EMA_MACRO_BREAKDOWN, EMA_MACRO_BREAKOUT, TREND_BREAKDOWN, fmt_fixed,
                                fmt_plain)

def exhaustion_threshold(pos: Position, trade: dict) -> float:
    """§5.4.1 ``T`` (D17, D19): configured value > 0 overrides, 0 = the entry mode's threshold."""
    t0 = trade["smart_exit_adx_exhaustion_lt"]
    if pos.confidence == "Low" and trade["smart_exit_adx_exhaustion_lt_low_conf"] > 0:
        t0 = trade["smart_exit_adx_exhaustion_lt_low_conf"]
    t = t0 if t0 > 0 else pos.entry_adx_threshold
    return max(t, 0.0)


def trend_exit(pos: Position, s: Any, trade: dict) -> str | None:
    """§5.4.1 trend breakdown (EMA cross, weak-cross buffer) then ADX exhaustion."""
    t = exhaustion_threshold(pos, trade)
    dev = abs(s.ema_fast - s.ema_slow) / s.ema_slow if s.ema_slow > 0 else 0.0
    weak = dev < 0.001 and s.adx > 25.0
    if pos.side == LONG:
        cross = s.ema_fast < s.ema_slow and not weak
    else:
        cross = s.ema_fast > s.ema_slow and not weak
    if cross:
        return TREND_BREAKDOWN
    if t > 0 and s.adx < t:
        return f"Trend Exhaustion (ADX < {fmt_plain(t)})"
    return None


def macro_exit(pos: Position, s: Any, cfg: dict) -> str | None:
    """§5.4.2, only with ``filters.require_macro_alignment`` and ``ema_macro > 0``."""
    if not (cfg["filters"]["require_macro_alignment"] and s.ema_macro > 0):
        return None
    if pos.side == LONG and s.close < s.ema_macro:
        return EMA_MACRO_BREAKDOWN
    if pos.side != LONG and s.close > s.ema_macro:
        return EMA_MACRO_BREAKOUT
    return None


def stagnation_exit(pos: Position, s: Any) -> str | None:
    """§5.4.3: raw ATR below 70 % of ``atr_eff`` while underwater; ``PAXG`` exempt (Q18)."""
    a = atr_eff(pos)
    limit = a * 0.70
    under = s.close < pos.entry_price if pos.side == LONG else s.close > pos.entry_price
    if s.atr < limit and under and ascii_upper(pos.symbol) != "PAXG":
        return f"Stagnation Exit (Low Vol: {fmt_fixed(s.atr, 2)} < {fmt_fixed(limit, 2)})"
    return None


def tsme_exit(pos: Position, s: Any, pa: float, trade: dict) -> str | None:
    """§5.4.5 trend saturation momentum exhaustion (ADX > 50, profit, two MACD contractions)."""
    if not (s.adx > 50.0 and pa >= trade["tsme_min_profit_atr"]):
        return None
    if trade["tsme_require_adx_slope_negative"] and not s.adx_slope < 0:
        return None
    if pos.side == LONG:
        contracting = s.macd_hist < s.prev_macd_hist and s.prev_macd_hist < s.prev2_macd_hist
    else:
        contracting = s.macd_hist > s.prev_macd_hist and s.prev_macd_hist > s.prev2_macd_hist
    if not contracting:
        return None
    return (f"Trend Saturation Momentum Exhaustion (ADX: {fmt_fixed(s.adx, 1)}, "
            f"ADX_slope: {fmt_fixed(s.adx_slope, 2)})")


def mmde_exit(pos: Position, s: Any, pa: float) -> str | None:
    """§5.4.6 MACD persistent divergence (profit > 1.5 ATR, ADX > 35, three moves against)."""
    if not (pa > 1.5 and s.adx > 35.0):
        return None
    h, p1, p2, p3 = s.macd_hist, s.prev_macd_hist, s.prev2_macd_hist, s.prev3_macd_hist
    if pos.side == LONG:
        against = h < p1 and p1 < p2 and p2 < p3
    else:
        against = h > p1 and p1 > p2 and p2 > p3
    if against:
        return f"MACD Persistent Divergence (Profit: {fmt_fixed(pa, 2)} ATR)"
    return None


def _low_conf(value: float, override: float, low: bool) -> float:
    return override if low and override > 0 else value


def rsi_exit(pos: Position, s: Any, pa: float, trade: dict) -> str | None:
    """§5.4.7 RSI overextension (D19 low-confidence overrides; switch clamp is a no-op, D52)."""
    if not trade["enable_rsi_overextension_exit"]:
        return None
    low = pos.confidence == "Low"
    sw = max(trade["rsi_exit_profit_atr_switch"], 0.0)
    band = "lo" if pa < sw else "hi"
    ub = _low_conf(trade[f"rsi_exit_ub_{band}_profit"], trade[f"rsi_exit_ub_{band}_profit_low_conf"], low)
    lb = _low_conf(trade[f"rsi_exit_lb_{band}_profit"], trade[f"rsi_exit_lb_{band}_profit_low_conf"], low)
    if pos.side == LONG and s.rsi > ub:
        return f"RSI Overbought ({fmt_fixed(s.rsi, 1)}, Thr: {fmt_plain(ub)})"
    if pos.side != LONG and s.rsi < lb:
        return f"RSI Oversold ({fmt_fixed(s.rsi, 1)}, Thr: {fmt_plain(lb)})"
    return None


def smart_exit(pos: Position, s: Any, pa: float, cfg: dict) -> str | None:
    """``smart_exit(pos, s, pa)`` of §5.4: 5.4.1 → 5.4.2 → 5.4.3 → 5.4.5 → 5.4.6 → 5.4.7 (no 5.4.4, Q9)."""
    trade = cfg["trade"]
    reason = trend_exit(pos, s, trade)
    if reason is None:
        reason = macro_exit(pos, s, cfg)
    if reason is None:
        reason = stagnation_exit(pos, s)
    if reason is None:
        reason = tsme_exit(pos, s, pa, trade)
    if reason is None:
        reason = mmde_exit(pos, s, pa)
    if reason is None:
        reason = rsi_exit(pos, s, pa, trade)
    return reason
