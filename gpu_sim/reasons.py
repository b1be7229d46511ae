"""Integer reason codes of the simulator and the ONE table that turns them into the spec's strings.

Kernels write a reason code plus up to two numeric fields (``x1``, ``x2``) per record; the host renders
the full string here (strategy-exits.md §6.6: "a reason string is a pure function of its kind and
parameters; an implementation may store kind and parameters and format them when the log is
written"). Numeric fields per code:

=====================  ==========================================================  ==========  ==========
code                   text                                                        x1          x2
=====================  ==========================================================  ==========  ==========
ENTRY                  ``<Conf> entry``                                            —           —
ENTRY_SUB_BAR          ``<Conf> entry (sub-bar)``                                  —           —
PYRAMID                ``Pyramid #<n>``                                            n           —
TREND_EXHAUSTION       ``Trend Exhaustion (ADX < {T})``                            T           —
STAGNATION             ``Stagnation Exit (Low Vol: {atr:.2f} < {a*0.70:.2f})``     atr         a*0.70
TSME                   ``Trend Saturation Momentum Exhaustion (ADX: {adx:.1f},     adx         adx_slope
                       ADX_slope: {adx_slope:.2f})``
MMDE                   ``MACD Persistent Divergence (Profit: {pa:.2f} ATR)``       pa          —
RSI_OVERBOUGHT         ``RSI Overbought ({rsi:.1f}, Thr: {ub})``                   rsi         ub
RSI_OVERSOLD           ``RSI Oversold ({rsi:.1f}, Thr: {lb})``                     rsi         lb
FUNDING                ``Funding rate=<rate:.6f>``                                 rate        —
=====================  ==========================================================  ==========  ==========

``<Conf>`` comes from the record's confidence code. ``{x:.Nf}``: fixed point, correctly rounded from the
exact binary value, ties to even (Python's ``format``); ``{T}`` etc.: shortest round-trip decimal in
plain positional notation without a trailing ``.0`` and never with an exponent (§6.6, spec-notes N14).
"""
from __future__ import annotations

from decimal import Decimal
from enum import IntEnum

__all__ = ["Reason", "REASON_TEXT", "CONF_NAMES", "reason_text", "format_fixed", "format_plain",
           "PESC_IGNORED"]


class Reason(IntEnum):
    NONE = 0
    ENTRY = 1
    ENTRY_SUB_BAR = 2
    PYRAMID = 3
    STOP_LOSS = 4
    TRAILING_STOP = 5
    TAKE_PROFIT = 6
    TAKE_PROFIT_PARTIAL = 7
    SIGNAL_FLIP = 8
    END_OF_BACKTEST = 9
    TREND_BREAKDOWN = 10
    TREND_EXHAUSTION = 11
    EMA_MACRO_BREAKDOWN = 12
    EMA_MACRO_BREAKOUT = 13
    STAGNATION = 14
    TSME = 15
    MMDE = 16
    RSI_OVERBOUGHT = 17
    RSI_OVERSOLD = 18
    FUNDING = 19


# Plain ints for kernel source (numba freezes module-level ints as constants on both targets).
R_NONE = int(Reason.NONE)
R_ENTRY = int(Reason.ENTRY)
R_ENTRY_SUB_BAR = int(Reason.ENTRY_SUB_BAR)
R_PYRAMID = int(Reason.PYRAMID)
R_STOP_LOSS = int(Reason.STOP_LOSS)
R_TRAILING_STOP = int(Reason.TRAILING_STOP)
R_TAKE_PROFIT = int(Reason.TAKE_PROFIT)
R_TAKE_PROFIT_PARTIAL = int(Reason.TAKE_PROFIT_PARTIAL)
R_SIGNAL_FLIP = int(Reason.SIGNAL_FLIP)
R_END_OF_BACKTEST = int(Reason.END_OF_BACKTEST)
R_TREND_BREAKDOWN = int(Reason.TREND_BREAKDOWN)
R_TREND_EXHAUSTION = int(Reason.TREND_EXHAUSTION)
R_EMA_MACRO_BREAKDOWN = int(Reason.EMA_MACRO_BREAKDOWN)
R_EMA_MACRO_BREAKOUT = int(Reason.EMA_MACRO_BREAKOUT)
R_STAGNATION = int(Reason.STAGNATION)
R_TSME = int(Reason.TSME)
R_MMDE = int(Reason.MMDE)
R_RSI_OVERBOUGHT = int(Reason.RSI_OVERBOUGHT)
R_RSI_OVERSOLD = int(Reason.RSI_OVERSOLD)
R_FUNDING = int(Reason.FUNDING)

#: PESC ignores exactly this last-exit reason ("Signal Flip", strategy-exits.md §5.7).
PESC_IGNORED = R_SIGNAL_FLIP

CONF_NAMES = ("Low", "Medium", "High")

#: The one code -> text table. ``{conf}`` is the capitalised confidence; numeric slots name x1/x2 and
#: are filled by :func:`reason_text` with the formatting rule of each slot.
REASON_TEXT: dict[Reason, str] = {
    Reason.NONE: "",
    Reason.ENTRY: "{conf} entry",
    Reason.ENTRY_SUB_BAR: "{conf} entry (sub-bar)",
    Reason.PYRAMID: "Pyramid #{x1:int}",
    Reason.STOP_LOSS: "Stop Loss",
    Reason.TRAILING_STOP: "Trailing Stop",
    Reason.TAKE_PROFIT: "Take Profit",
    Reason.TAKE_PROFIT_PARTIAL: "Take Profit (Partial)",
    Reason.SIGNAL_FLIP: "Signal Flip",
    Reason.END_OF_BACKTEST: "End of Backtest",
    Reason.TREND_BREAKDOWN: "Trend Breakdown (EMA Cross)",
    Reason.TREND_EXHAUSTION: "Trend Exhaustion (ADX < {x1:plain})",
    Reason.EMA_MACRO_BREAKDOWN: "EMA Macro Breakdown",
    Reason.EMA_MACRO_BREAKOUT: "EMA Macro Breakout",
    Reason.STAGNATION: "Stagnation Exit (Low Vol: {x1:.2f} < {x2:.2f})",
    Reason.TSME: "Trend Saturation Momentum Exhaustion (ADX: {x1:.1f}, ADX_slope: {x2:.2f})",
    Reason.MMDE: "MACD Persistent Divergence (Profit: {x1:.2f} ATR)",
    Reason.RSI_OVERBOUGHT: "RSI Overbought ({x1:.1f}, Thr: {x2:plain})",
    Reason.RSI_OVERSOLD: "RSI Oversold ({x1:.1f}, Thr: {x2:plain})",
    Reason.FUNDING: "Funding rate={x1:.6f}",
}


def format_fixed(x: float, decimals: int) -> str:
    """``{x:.Nf}``: correctly rounded from the exact binary value, ties to even; ``-0.0`` -> ``-0.00``."""
    return format(float(x), f".{decimals}f")


def format_plain(x: float) -> str:
    """Shortest round-trip decimal, plain positional (no exponent), without a trailing ``.0``."""
    text = format(Decimal(repr(float(x))), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def _slot(spec: str, value: float) -> str:
    if spec == "int":
        return str(int(value))
    if spec == "plain":
        return format_plain(value)
    return format_fixed(value, int(spec[1:-1]))


def reason_text(code: int, conf: int, x1: float = 0.0, x2: float = 0.0) -> str:
    """The spec's reason string for a record (code, confidence code, numeric fields)."""
    template = REASON_TEXT[Reason(int(code))]
    out = []
    i = 0
    while i < len(template):
        j = template.find("{", i)
        if j < 0:
            out.append(template[i:])
            break
        out.append(template[i:j])
        k = template.index("}", j)
        field = template[j + 1:k]
        if field == "conf":
            out.append(CONF_NAMES[int(conf)])
        else:
            name, spec = field.split(":")
            out.append(_slot(spec, x1 if name == "x1" else x2))
        i = k + 1
    return "".join(out)
