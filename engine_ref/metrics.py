"""Report metrics (strategy-exits.md §6.8; DECISIONS.md D26, D35, D46, D53.13).

Every sum is sequential from 0.0 in trade-log order (curve order for drawdown and Sharpe); counts are
converted to binary64 before a division; every ratio ``a / b`` is one division (D46). No ``sum()``,
``math.fsum``, ``statistics`` or numpy (D45).
"""
from __future__ import annotations

import math
from typing import Sequence

from engine_ref.records import TradeRecord, exit_category, is_trade, reason_code

DAY_MS = 86_400_000
_CONFIDENCES = ("Low", "Medium", "High")


def _ratio(a: float, count: int) -> float:
    return a / float(count) if count > 0 else 0.0


def trade_totals(closes: Sequence[TradeRecord]) -> dict[str, float | int]:
    """Counts and gross sums over the exit records, in trade-log order (§6.8)."""
    wins = losses = 0
    gross_profit = gross_loss = total_pnl = 0.0
    for rec in closes:
        total_pnl = total_pnl + rec.pnl
        if rec.pnl > 0:
            wins += 1
            gross_profit = gross_profit + rec.pnl
        elif rec.pnl < 0:
            losses += 1
            gross_loss = gross_loss + rec.pnl
    return {"wins": wins, "losses": losses, "gross_profit": gross_profit, "gross_loss": gross_loss,
            "sum_pnl": total_pnl}


def profit_factor(gross_profit: float, gross_loss: float) -> float:
    """``gross_profit / |gross_loss|`` if ``|gross_loss| > 1e-12``; else +∞ if profit > 0; else 0."""
    if abs(gross_loss) > 1e-12:
        return gross_profit / abs(gross_loss)
    return math.inf if gross_profit > 0 else 0.0


def max_drawdown(curve: Sequence[tuple[int, float]]) -> tuple[float, float]:
    """``(max_drawdown_usd, max_drawdown_pct)`` over the equity curve; the pct is a fraction (§6.8)."""
    if not curve:
        return 0.0, 0.0
    peak = curve[0][1]
    max_dd = max_pct = 0.0
    for _, v in curve:
        peak = max(peak, v)
        dd = peak - v
        if dd > max_dd:
            max_dd = dd
        pct = dd / peak if peak > 1e-12 else 0.0
        if pct > max_pct:
            max_pct = pct
    return max_dd, max_pct


def daily_closes(curve: Sequence[tuple[int, float]]) -> list[float]:
    """Last equity value of each day that has samples, in day order (``day = τ div 86 400 000``)."""
    values: list[float] = []
    last_day: int | None = None
    for t_ms, v in curve:
        day = t_ms // DAY_MS
        if day == last_day:
            values[-1] = v
        else:
            values.append(v)
            last_day = day
    return values


def sharpe_ratio(curve: Sequence[tuple[int, float]]) -> float:
    """Sharpe ratio of D46: daily returns, population std, ``(mean / std) × sqrt(365.0)``."""
    b = daily_closes(curve)
    m = len(b) - 1
    if m < 1:
        return 0.0
    returns = [((b[i] - b[i - 1]) / b[i - 1]) if abs(b[i - 1]) > 1e-12 else 0.0 for i in range(1, m + 1)]
    total = 0.0
    for r in returns:
        total = total + r
    mean = total / float(m)
    sq = 0.0
    for r in returns:
        sq = sq + ((r - mean) * (r - mean))
    std = math.sqrt(sq / float(m))
    if std < 1e-12:
        return 0.0
    return (mean / std) * math.sqrt(365.0)


def breakdown(closes: Sequence[TradeRecord], key, with_avg: bool = False,
              order: Sequence[str] = ()) -> dict[str, dict[str, float | int]]:
    """Per-group count, Σ pnl, win rate (pnl > 0) and optionally avg pnl; groups in ``order`` then first use."""
    groups: dict[str, dict[str, float | int]] = {name: {"count": 0, "pnl": 0.0, "wins": 0} for name in order}
    for rec in closes:
        g = groups.setdefault(key(rec), {"count": 0, "pnl": 0.0, "wins": 0})
        g["count"] += 1
        g["pnl"] = g["pnl"] + rec.pnl
        if rec.pnl > 0:
            g["wins"] += 1
    out: dict[str, dict[str, float | int]] = {}
    for name, g in groups.items():
        row = {"count": g["count"], "pnl": g["pnl"], "win_rate": _ratio(g["wins"], g["count"])}
        if with_avg:
            row["avg_pnl"] = _ratio(g["pnl"], g["count"])
        out[name] = row
    return out


def _breakdowns(closes: Sequence[TradeRecord]) -> dict[str, dict]:
    return {
        "by_confidence": breakdown(closes, lambda r: r.confidence, True, _CONFIDENCES),
        "by_exit_category": breakdown(closes, lambda r: exit_category(r.reason)),
        "by_reason_code": breakdown(closes, lambda r: reason_code(r.action, r.reason)),
        "by_symbol": breakdown(closes, lambda r: r.symbol),
        "by_side": breakdown(closes, lambda r: "LONG" if "LONG" in r.action else "SHORT"),
    }


def compute_metrics(trades: Sequence[TradeRecord], equity_curve: Sequence[tuple[int, float]],
                    initial_balance: float, final_balance: float, total_signals: int = 0,
                    gate_stats: dict[str, int] | None = None) -> dict:
    """The §6.8 metrics table (with D46 Sharpe) plus breakdowns and the D53.13 ``ruined`` flag."""
    closes = [rec for rec in trades if is_trade(rec)]
    tot = trade_totals(closes)
    n = len(closes)
    total_fees = 0.0
    for rec in trades:
        total_fees = total_fees + rec.fee_usd
    dd_usd, dd_pct = max_drawdown(equity_curve)
    ruined = final_balance <= 0 or any(v <= 0 for _, v in equity_curve)
    return {
        "initial_balance": initial_balance, "final_balance": final_balance,
        "total_pnl": final_balance - initial_balance, "total_trades": n,
        "total_wins": tot["wins"], "total_losses": tot["losses"], "win_rate": _ratio(tot["wins"], n),
        "gross_profit": tot["gross_profit"], "gross_loss": tot["gross_loss"],
        "profit_factor": profit_factor(tot["gross_profit"], tot["gross_loss"]),
        "avg_trade_pnl": _ratio(tot["sum_pnl"], n), "avg_win": _ratio(tot["gross_profit"], tot["wins"]),
        "avg_loss": _ratio(tot["gross_loss"], tot["losses"]), "total_fees": total_fees,
        "max_drawdown_usd": dd_usd, "max_drawdown_pct": dd_pct, "sharpe_ratio": sharpe_ratio(equity_curve),
        "total_signals": total_signals, "gate_stats": dict(gate_stats or {}), "ruined": ruined,
        **_breakdowns(closes),
    }
