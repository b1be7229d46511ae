"""The accounting identity, checked from the trade log alone (strategy-exits.md §6.1, D26).

The harness's own implementation (neither engine's): replaying the log in order, every record's
``balance`` must equal the previous balance plus exactly its cash effect — ``−fee`` at OPEN/ADD,
``+q(pnl − fee)`` at REDUCE/CLOSE, ``+pnl`` (the funding delta) at FUNDING — and the last one
must equal the run's final balance. This is "final balance = initial + realised PnL − fees +
funding" in the order and rounding the spec prescribes, so it holds bit for bit.
"""
from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

from harness.errors import ParityError

TWO_52 = 4503599627370496.0


def round_half_away(y: float) -> float:
    """``R(y)`` of strategy-exits.md §0.3 (a zero result is +0.0, D37)."""
    if not math.isfinite(y) or abs(y) >= TWO_52:
        return y
    t = float(math.trunc(y))
    if abs(y - t) >= 0.5:
        t = t + (1.0 if y > 0 else -1.0)
    return 0.0 if t == 0 else t


def q(x: float) -> float:
    """``q(x) = R(x × 1e12) / 1e12``."""
    return round_half_away(x * 1e12) / 1e12


def cash_effect(rec: Mapping) -> float:
    action = rec["action"]
    if action.startswith(("OPEN", "ADD")):
        return -rec["fee_usd"]
    if action.startswith(("CLOSE", "REDUCE")):
        return q(rec["pnl"] - rec["fee_usd"])
    if action == "FUNDING":
        return rec["pnl"]
    raise ParityError(f"unknown trade-log action {action!r}")


def check_balance_identity(trades: Iterable[Mapping], initial_balance: float, final_balance: float) -> None:
    """Raise ParityError at the first record whose balance breaks §6.1, or at a wrong final balance."""
    balance = initial_balance
    for i, rec in enumerate(trades):
        balance = balance + cash_effect(rec)
        if balance != rec["balance"]:
            raise ParityError(f"accounting identity broken at record {i} ({rec['action']} {rec['symbol']} "
                              f"t={rec['timestamp_ms']}): expected balance {balance!r}, record says "
                              f"{rec['balance']!r}")
    if balance != final_balance:
        raise ParityError(f"accounting identity broken: trade log ends at {balance!r}, run reports final "
                          f"balance {final_balance!r}")
