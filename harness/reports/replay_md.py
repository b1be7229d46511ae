"""Summary table of one replay's metrics (rows in, text out)."""
from __future__ import annotations

from tabulate import tabulate

# metric key, label with unit, scale
SUMMARY = [
    ("total_trades", "trades", 1),
    ("total_pnl", "PnL [USD]", 1),
    ("final_balance", "final balance [USD]", 1),
    ("win_rate", "win rate [%]", 100),
    ("profit_factor", "profit factor", 1),
    ("max_drawdown_pct", "max DD [%]", 100),
    ("sharpe_ratio", "Sharpe", 1),
    ("total_fees", "fees [USD]", 1),
]


def summary_rows(metrics: dict) -> list[list[object]]:
    return [[label, metrics[key] * scale if isinstance(metrics.get(key), (int, float)) else metrics.get(key)]
            for key, label, scale in SUMMARY if key in metrics]


def render_summary(engine: str, metrics: dict, seconds: float) -> str:
    rows = summary_rows(metrics) + [["engine", engine], ["run time [s]", round(seconds, 3)]]
    return tabulate(rows, ["metric", "value"], tablefmt="simple", floatfmt=".4f")
