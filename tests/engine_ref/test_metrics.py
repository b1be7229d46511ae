"""Report metrics (strategy-exits.md §6.8, D46), reason codes and categories (§6.7), formatting (§6.6)."""
from __future__ import annotations

import math
import struct

import pytest

from engine_ref.metrics import compute_metrics, daily_closes, max_drawdown, profit_factor, sharpe_ratio
from engine_ref.records import TradeRecord, exit_category, fmt_fixed, fmt_plain, reason_code

DAY = 86_400_000
D0 = 20_000 * DAY


def rec(action: str, pnl: float = 0.0, fee: float = 0.0, reason: str = "x", conf: str = "High",
        sym: str = "AAA") -> TradeRecord:
    return TradeRecord(D0, sym, action, 1.0, 1.0, 1.0, reason, conf, pnl, fee, 0.0, 1.0, 1.0, 1.0)


def bits(x: float) -> bytes:
    return struct.pack("<d", x)


def test_sharpe_d46_exact():
    curve = [(D0, 100.0), (D0 + 3_600_000, 101.0), (D0 + DAY, 102.0), (D0 + 3 * DAY + 5, 99.0)]
    assert daily_closes(curve) == [101.0, 102.0, 99.0]  # last sample per day, day 2 skipped
    r1 = (102.0 - 101.0) / 101.0
    r2 = (99.0 - 102.0) / 102.0
    mean = (0.0 + r1 + r2) / 2.0
    var = (0.0 + ((r1 - mean) * (r1 - mean)) + ((r2 - mean) * (r2 - mean))) / 2.0
    expected = (mean / math.sqrt(var)) * math.sqrt(365.0)
    assert bits(sharpe_ratio(curve)) == bits(expected)


def test_sharpe_degenerate_cases():
    assert sharpe_ratio([]) == 0.0
    assert sharpe_ratio([(D0, 100.0), (D0 + 1, 120.0)]) == 0.0          # one day: m < 1
    assert sharpe_ratio([(D0, 100.0), (D0 + DAY, 100.0), (D0 + 2 * DAY, 100.0)]) == 0.0  # std < 1e-12
    # r_1 = 0.0 (|b_0| ≤ 1e-12), r_2 = 0.1
    r2 = (110.0 - 100.0) / 100.0
    mean = (0.0 + 0.0 + r2) / 2.0
    std = math.sqrt((0.0 + ((0.0 - mean) * (0.0 - mean)) + ((r2 - mean) * (r2 - mean))) / 2.0)
    got = sharpe_ratio([(D0, 0.0), (D0 + DAY, 100.0), (D0 + 2 * DAY, 110.0)])
    assert bits(got) == bits((mean / std) * math.sqrt(365.0))


def test_max_drawdown_fraction():
    curve = [(i, v) for i, v in enumerate([100.0, 120.0, 90.0, 130.0, 100.0])]
    dd_usd, dd_pct = max_drawdown(curve)
    assert dd_usd == 30.0 and dd_pct == 30.0 / 120.0
    assert max_drawdown([]) == (0.0, 0.0)
    assert max_drawdown([(0, 0.0), (1, -5.0)]) == (5.0, 0.0)  # peak ≤ 1e-12 → pct 0


def test_profit_factor_rules():
    assert profit_factor(10.0, -4.0) == 2.5
    assert profit_factor(10.0, 0.0) == math.inf
    assert profit_factor(0.0, 0.0) == 0.0


def test_compute_metrics_table_and_breakdowns():
    trades = [
        rec("OPEN_LONG", fee=0.5, reason="High entry"),
        rec("REDUCE_LONG", pnl=10.0, fee=0.25, reason="Take Profit (Partial)"),
        rec("FUNDING", pnl=-0.125, reason="Funding rate=0.000100"),
        rec("CLOSE_LONG", pnl=-4.0, fee=0.25, reason="Stop Loss"),
        rec("OPEN_SHORT", fee=0.5, reason="Medium entry (sub-bar)", conf="Medium", sym="BBB"),
        rec("CLOSE_SHORT", pnl=0.0, fee=0.5, reason="End of Backtest", conf="Medium", sym="BBB"),
    ]
    m = compute_metrics(trades, [(D0, 10000.0), (D0 + DAY, 10004.0)], 10000.0, 10003.875, total_signals=7)
    assert (m["total_trades"], m["total_wins"], m["total_losses"]) == (3, 1, 1)
    assert m["win_rate"] == 1.0 / 3.0 and m["total_pnl"] == 3.875
    assert (m["gross_profit"], m["gross_loss"], m["profit_factor"]) == (10.0, -4.0, 2.5)
    assert m["avg_trade_pnl"] == 6.0 / 3.0 and m["avg_win"] == 10.0 and m["avg_loss"] == -4.0
    assert m["total_fees"] == 2.0 and m["total_signals"] == 7 and not m["ruined"]
    assert list(m["by_confidence"]) == ["Low", "Medium", "High"]
    assert m["by_confidence"]["High"] == {"count": 2, "pnl": 6.0, "win_rate": 0.5, "avg_pnl": 3.0}
    assert m["by_confidence"]["Low"]["count"] == 0
    assert set(m["by_exit_category"]) == {"Take Profit", "Stop Loss", "End of Backtest"}
    assert m["by_reason_code"]["exit_end_of_backtest"]["count"] == 1
    assert m["by_side"]["LONG"]["count"] == 2 and m["by_symbol"]["BBB"]["pnl"] == 0.0


def test_no_trades_metrics_and_ruin_flag():
    m = compute_metrics([], [(D0, 10.0), (D0 + 1, -1.0)], 10000.0, -1.0)
    assert m["total_trades"] == 0 and m["win_rate"] == 0.0 and m["profit_factor"] == 0.0 and m["ruined"]


@pytest.mark.parametrize("action, reason, code", [
    ("FUNDING", "Funding rate=0.000100", "funding_payment"),
    ("OPEN_LONG", "High entry", "entry_signal"),
    ("OPEN_SHORT", "Low entry (sub-bar)", "entry_signal_sub_bar"),
    ("ADD_LONG", "Pyramid #2", "entry_pyramid"),
    ("CLOSE_LONG", "Stop Loss", "exit_stop_loss"),
    ("REDUCE_SHORT", "Take Profit (Partial)", "exit_take_profit"),
    ("CLOSE_SHORT", "Trailing Stop", "exit_trailing_stop"),
    ("CLOSE_SHORT", "Signal Flip", "exit_signal_flip"),
    ("CLOSE_LONG", "End of Backtest", "exit_end_of_backtest"),
    ("CLOSE_LONG", "RSI Overbought (80.0, Thr: 80)", "exit_filter"),
    ("WHAT", "x", "unknown"),
])
def test_reason_codes(action, reason, code):
    assert reason_code(action, reason) == code


@pytest.mark.parametrize("reason, category", [
    ("Trend Exhaustion (ADX < 18)", "Trend Exhaustion"), ("EMA Macro Breakout", "EMA Macro Breakdown"),
    ("Stagnation Exit (Low Vol: 0.50 < 0.70)", "Stagnation Exit"),
    ("RSI Oversold (20.0, Thr: 20)", "RSI Overextension"),
    ("Trend Saturation Momentum Exhaustion (ADX: 55.0, ADX_slope: -0.50)", "TSME"),
    ("MACD Persistent Divergence (Profit: 1.60 ATR)", "MMDE"), ("End of Backtest", "End of Backtest"),
    ("Take Profit (Partial)", "Take Profit"),
])
def test_exit_categories(reason, category):
    assert exit_category(reason) == category


def test_number_formatting():
    assert [fmt_plain(x) for x in (22.0, 27.5, 35.75000000000001, 1e-05, 0.0)] == [
        "22", "27.5", "35.75000000000001", "0.00001", "0"]
    assert fmt_fixed(-0.0, 2) == "-0.00" and fmt_fixed(0.125, 2) == "0.12" and fmt_fixed(2.675, 2) == "2.67"
