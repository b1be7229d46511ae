"""Trade-log records, reason strings and reason codes (strategy-exits.md §6.5-§6.7, DECISIONS.md D35, D43).

A record is appended when its action executes, so the log is in event order (§6.5 "Order"). Every
numeric field except ``timestamp_ms`` is a binary64 Python ``float`` compared by bit pattern in parity
runs; ``confidence`` is one of ``Low``, ``Medium``, ``High`` (D43).
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

#: The nine action strings of §6.5.
ACTIONS = ("OPEN_LONG", "OPEN_SHORT", "ADD_LONG", "ADD_SHORT", "REDUCE_LONG", "REDUCE_SHORT",
           "CLOSE_LONG", "CLOSE_SHORT", "FUNDING")

# Fixed reason strings (§6.6).
STOP_LOSS = "Stop Loss"
TRAILING_STOP = "Trailing Stop"
TAKE_PROFIT = "Take Profit"
TAKE_PROFIT_PARTIAL = "Take Profit (Partial)"
SIGNAL_FLIP = "Signal Flip"
END_OF_BACKTEST = "End of Backtest"
TREND_BREAKDOWN = "Trend Breakdown (EMA Cross)"
EMA_MACRO_BREAKDOWN = "EMA Macro Breakdown"
EMA_MACRO_BREAKOUT = "EMA Macro Breakout"


@dataclass(frozen=True, slots=True)
class TradeRecord:
    """One trade-log row (§6.5). Money in USD, ``price`` in quote per base unit, ``size`` in base units."""

    timestamp_ms: int
    symbol: str
    action: str
    price: float
    size: float
    notional: float
    reason: str
    confidence: str
    pnl: float
    fee_usd: float
    balance: float
    entry_atr: float
    leverage: float
    margin_used: float
    mae_usd: float = 0.0
    mfe_usd: float = 0.0


def fmt_fixed(x: float, decimals: int) -> str:
    """``{x:.Nf}`` of §6.6: correctly rounded from the exact binary value, ties-to-even, ``-0.0`` → ``-0.00``."""
    return format(x, f".{decimals}f")


def fmt_plain(x: float) -> str:
    """``{T}`` of §6.6: shortest round-trip decimal, plain positional notation, no trailing ``.0``.

    22.0 → ``22``, 27.5 → ``27.5``, 35.75000000000001 → ``35.75000000000001``.
    """
    text = repr(float(x))
    if "e" in text or "E" in text:
        text = format(Decimal(text), "f")
    if text.endswith(".0"):
        text = text[:-2]
    return text


def entry_reason(confidence: str, sub_bar: bool) -> str:
    """``"<Conf> entry"`` (main step) or ``"<Conf> entry (sub-bar)"`` (entry tick) — §2.4, §6.5."""
    return f"{confidence} entry (sub-bar)" if sub_bar else f"{confidence} entry"


def pyramid_reason(adds_count: int) -> str:
    """``"Pyramid #<n>"`` with ``n`` = ``adds_count`` after the add, 1-based (§6.5)."""
    return f"Pyramid #{adds_count}"


def funding_reason(rate: float) -> str:
    """``"Funding rate=<rate:.6f>"`` (§6.5)."""
    return f"Funding rate={fmt_fixed(rate, 6)}"


_EXIT_CODES = (
    ("Stop Loss", "exit_stop_loss"),
    ("Trailing Stop", "exit_trailing_stop"),
    ("Take Profit", "exit_take_profit"),
    ("Signal Flip", "exit_signal_flip"),
    ("Funding", "exit_funding"),
    ("Force Close", "exit_force_close"),
    ("End of Backtest", "exit_end_of_backtest"),
)


def reason_code(action: str, reason: str) -> str:
    """``reason_code(action, reason)`` of §6.7, first match."""
    if action == "FUNDING":
        return "funding_payment"
    if action.startswith("OPEN_"):
        return "entry_signal_sub_bar" if "sub-bar" in reason else "entry_signal"
    if action.startswith("ADD_"):
        return "entry_pyramid"
    if action.startswith("CLOSE_") or action.startswith("REDUCE_"):
        for needle, code in _EXIT_CODES:
            if needle in reason:
                return code
        return "exit_filter"
    return "unknown"


_CATEGORIES = (
    (("Stop Loss",), "Stop Loss"),
    (("Trailing Stop",), "Trailing Stop"),
    (("Take Profit",), "Take Profit"),
    (("Signal Flip",), "Signal Flip"),
    (("Trend Breakdown",), "Trend Breakdown"),
    (("Trend Exhaustion",), "Trend Exhaustion"),
    (("EMA Macro",), "EMA Macro Breakdown"),
    (("Stagnation",), "Stagnation Exit"),
    (("RSI Over",), "RSI Overextension"),
    (("TSME", "Saturation"), "TSME"),
    (("MMDE", "Divergence"), "MMDE"),
    (("Funding",), "Funding Headwind"),
    (("Force Close",), "Force Close (EOD)"),
)


def exit_category(reason: str) -> str:
    """Exit category of §6.7 (first substring match; otherwise the reason itself)."""
    for needles, category in _CATEGORIES:
        for needle in needles:
            if needle in reason:
                return category
    return reason


def is_trade(record: TradeRecord) -> bool:
    """A trade is an exit fill: a REDUCE or CLOSE record (§6.8 ``closes``; glossary "trade")."""
    return record.action.startswith("CLOSE") or record.action.startswith("REDUCE")
