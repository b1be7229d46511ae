"""Fees, slippage, exits and funding on the cash balance (strategy-exits.md §6.1-§6.3, §2.8; D24-D26).

``balance`` changes only by ``−fee`` at opens/adds, ``+q(pnl − fee)`` at exits and ``+delta`` at funding
(§6.1, C1); it is never quantised itself. ``q`` (§0.3, D37) is applied exactly where the spec writes it.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from engine_ref.arith import clamp, q
from engine_ref.records import TradeRecord, funding_reason

if TYPE_CHECKING:  # pragma: no cover
    from engine_ref.sim_state import SimState

HOUR_MS = 3_600_000
#: D53.6: a funding rate older than this before the boundary is not applied.
FUNDING_MAX_AGE_MS = 2 * HOUR_MS


def fee_rate_from_bps(taker_fee_bps: float) -> float:
    """``fee_rate = taker_fee_bps / 10000.0`` (§6.2, D24)."""
    return taker_fee_bps / 10000.0


def slippage_fraction(cfg: dict) -> float:
    """``s = trade.slippage_bps / 10000.0`` of the symbol's effective config (§6.2)."""
    return cfg["trade"]["slippage_bps"] / 10000.0


def entry_fill_price(side: str, price: float, s: float) -> float:
    """Open/add fill: LONG ``q(p × (1 + s))``, SHORT ``q(p × (1 − s))`` (§3.6, §4, D24)."""
    if side == "LONG":
        return q(price * (1.0 + s))
    return q(price * (1.0 - s))


def exit_fill_price(side: str, price: float, s: float) -> float:
    """Exit fill (every exit kind): LONG ``q(p × (1 − s))``, SHORT ``q(p × (1 + s))`` (§6.3, D24)."""
    if side == "LONG":
        return q(price * (1.0 - s))
    return q(price * (1.0 + s))


def fill_notional_usd(size: float, fill: float) -> float:
    """Fill notional ``q(size × fill)`` (§3.6, §4)."""
    return q(size * fill)


def fee_usd(notional_usd: float, fee_rate: float) -> float:
    """Taker fee ``q(n × fee_rate)`` on the fill notional (§6.2, D24)."""
    return q(notional_usd * fee_rate)


@dataclass(frozen=True)
class ExitOrder:
    """An exit decision to execute: ``FULL`` or ``PARTIAL`` (fraction ``pct``) at the evaluated close."""

    kind: str  # "FULL" | "PARTIAL"
    reason: str
    price: float
    pct: float = 1.0


def full_exit(reason: str, price: float) -> ExitOrder:
    return ExitOrder("FULL", reason, price)


def _exit_pnl_fee(side: str, fill: float, entry_price: float, closed: float,
                  fee_rate: float) -> tuple[float, float, float, float]:
    """``(n, pnl, fee, cash)`` of §6.3 for ``closed`` base units at ``fill``."""
    n = q(fill * closed)
    raw = (fill - entry_price) * closed
    pnl = q(raw) if side == "LONG" else q(-raw)
    fee = q(n * fee_rate)
    cash = q(pnl - fee)
    return n, pnl, fee, cash


def apply_exit(state: "SimState", symbol: str, order: ExitOrder, time_ms: int) -> None:
    """``apply_exit(sym, r, τ)`` of §6.3: fill with adverse slippage, credit ``q(pnl − fee)``, log, PESC clock."""
    pos = state.positions[symbol]
    fill = exit_fill_price(pos.side, order.price, slippage_fraction(state.cfg(symbol)))
    if order.kind == "PARTIAL":
        pct = clamp(order.pct, 0.0, 1.0)
        closed = q(pos.size * pct)
    else:
        closed = pos.size
    n, pnl, fee, cash = _exit_pnl_fee(pos.side, fill, pos.entry_price, closed, state.fee_rate)
    state.balance = state.balance + cash
    state.last_close[symbol] = (time_ms, pos.side, order.reason)
    state.last_exit_ms[symbol] = time_ms
    if order.kind == "PARTIAL":
        f = closed / pos.size if pos.size > 0 else 0.0
        state.log(TradeRecord(time_ms, symbol, f"REDUCE_{pos.side}", fill, closed, n, order.reason,
                              pos.confidence, pnl, fee, state.balance, pos.entry_atr, pos.leverage,
                              pos.margin_used * f))
        f_clamped = clamp(f, 0.0, 1.0)
        removed = pos.size * f_clamped
        pos.size = pos.size - removed
        pos.margin_used = pos.margin_used * (1.0 - f_clamped)
        pos.tp1_taken = True
        return
    state.log(TradeRecord(time_ms, symbol, f"CLOSE_{pos.side}", fill, closed, n, order.reason,
                          pos.confidence, pnl, fee, state.balance, pos.entry_atr, pos.leverage,
                          pos.margin_used))
    del state.positions[symbol]


def funding_rate_at(times_ms: list[int], rates: list[float], boundary_ms: int) -> float | None:
    """Rate settled at ``b`` (§2.8, D25, D53.6-7): the row at ``b``, else the latest row before ``b``.

    None when there is no such row or when that row is older than 2 hours before ``b`` (D53.6: a stale
    rate is not applied; the symbol is skipped at that boundary, like a symbol without a rate).
    """
    lo, hi = 0, len(times_ms)
    while lo < hi:  # first index with time > b
        mid = (lo + hi) // 2
        if times_ms[mid] <= boundary_ms:
            lo = mid + 1
        else:
            hi = mid
    if lo == 0:
        return None
    if boundary_ms - times_ms[lo - 1] > FUNDING_MAX_AGE_MS:
        return None
    return rates[lo - 1]


def settle_funding(state: "SimState", boundary_ms: int) -> None:
    """``funding(b)`` of §2.8 (D25): every open position, ascending symbol, pays ``q(((−signed) × mark) × rate)``."""
    for symbol in sorted(state.positions):
        series = state.funding.get(symbol)
        if series is None:
            continue
        rate = funding_rate_at(series[0], series[1], boundary_ms)
        if rate is None:
            continue
        pos = state.positions[symbol]
        price = state.mark(symbol)
        signed_size = pos.size if pos.side == "LONG" else -pos.size
        delta = q(((-signed_size) * price) * rate)
        state.balance = state.balance + delta
        state.log(TradeRecord(boundary_ms, symbol, "FUNDING", price, pos.size, pos.size * price,
                              funding_reason(rate), pos.confidence, delta, 0.0, state.balance,
                              pos.entry_atr, pos.leverage, pos.margin_used))
