"""Simulation state of one run (strategy-exits.md §1.3, §3.2; DECISIONS.md D26, D50).

Holds the cash balance, open positions, per-symbol marks and clocks, the trade log and the equity
curve. Sums over positions are explicit loops in ascending symbol order starting at 0.0 (D23, D45).
"""
from __future__ import annotations

from typing import Any

from engine_ref.positions import Position, profit_usd
from engine_ref.records import TradeRecord


class SimState:
    """Mutable state shared by the loop (§2), sizing (§3), pyramiding (§4), exits (§5) and accounting (§6)."""

    def __init__(self, portfolio: dict, symbol_cfgs: dict[str, dict], initial_balance: float,
                 fee_rate: float, funding: dict[str, tuple[list[int], list[float]]] | None = None) -> None:
        self.portfolio = portfolio
        self.symbol_cfgs = symbol_cfgs
        self.fee_rate = fee_rate
        self.funding = funding or {}
        self.balance = initial_balance
        self.positions: dict[str, Position] = {}
        self.marks: dict[str, float] = {}            # latest processed main close (D26)
        self.last_entry_ms: dict[str, int] = {}      # absent = never blocks (D50)
        self.last_exit_ms: dict[str, int] = {}
        self.last_close: dict[str, tuple[int, str, str]] = {}  # (τ, side, reason) — PESC (§5.7)
        self.trades: list[TradeRecord] = []
        self.signal_log: list[tuple[int, str, str, str]] = []  # (τ, symbol, raw signal, confidence)
        self.gate_stats: dict[str, int] = {}
        self.equity_curve: list[tuple[int, float]] = []
        self.budget = 0                              # new opens in the current window (§2.4)

    def cfg(self, symbol: str) -> dict:
        """The symbol's effective config (D27)."""
        return self.symbol_cfgs[symbol]

    def log(self, record: TradeRecord) -> None:
        """Append a trade-log record at the moment its action executes (§6.5, D43)."""
        self.trades.append(record)

    def count_gate(self, name: str) -> None:
        """Informational ``gate_stats`` counter (§2.4; not part of parity, D35)."""
        self.gate_stats[name] = self.gate_stats.get(name, 0) + 1

    def mark(self, symbol: str) -> float:
        """``mark(sym)``: latest processed main close, else the position's entry price (D26)."""
        if symbol in self.marks:
            return self.marks[symbol]
        return self.positions[symbol].entry_price

    def unrealized_usd(self) -> float:
        """``unrealized()`` of §3.2: Σ ``profit_usd(pos, mark)``, ascending symbol, from 0.0."""
        total = 0.0
        for symbol in sorted(self.positions):
            total = total + profit_usd(self.positions[symbol], self.mark(symbol))
        return total

    def equity(self) -> float:
        """``equity() = balance + unrealized()`` (§3.2)."""
        return self.balance + self.unrealized_usd()

    def total_margin_usd(self) -> float:
        """Σ ``margin_used`` over positions, ascending symbol, from 0.0 (§2.4, §4 step 7)."""
        total = 0.0
        for symbol in sorted(self.positions):
            total = total + self.positions[symbol].margin_used
        return total

    def _cooldown_active(self, clock: dict[str, int], symbol: str, time_ms: int, key: str) -> bool:
        last = clock.get(symbol)
        if last is None:
            return False
        return time_ms - last < self.cfg(symbol)["trade"][key] * 1000

    def entry_cooldown_active(self, symbol: str, time_ms: int) -> bool:
        """§2.5 (D18): ``τ − last_entry_ms < entry_cooldown_s × 1000`` (integer ms)."""
        return self._cooldown_active(self.last_entry_ms, symbol, time_ms, "entry_cooldown_s")

    def exit_cooldown_active(self, symbol: str, time_ms: int) -> bool:
        """§2.5 (D18): ``τ − last_exit_ms < exit_cooldown_s × 1000`` (integer ms)."""
        return self._cooldown_active(self.last_exit_ms, symbol, time_ms, "exit_cooldown_s")

    def as_dict(self) -> dict[str, Any]:  # pragma: no cover - debugging aid
        return {"balance": self.balance, "positions": dict(self.positions), "marks": dict(self.marks)}
