"""gpu_sim.reasons: the one code -> string table and the §6.6 number formatting; record decoding."""
from __future__ import annotations

import numpy as np
import pytest

from gpu_sim.kernel_records import (
    A_ADD_SHORT,
    ACTION_NAMES,
    N_REC_F,
    N_REC_I,
    REC_ACTION,
    REC_CONF,
    REC_REASON,
    REC_SYM,
    REC_TS,
    REC_X1,
    decode_records,
)
from gpu_sim.reasons import REASON_TEXT, Reason, format_fixed, format_plain, reason_text


def test_table_covers_every_code():
    assert set(REASON_TEXT) == set(Reason)


@pytest.mark.parametrize("code, conf, x1, x2, text", [
    (Reason.ENTRY, 2, 0, 0, "High entry"),
    (Reason.ENTRY_SUB_BAR, 0, 0, 0, "Low entry (sub-bar)"),
    (Reason.PYRAMID, 1, 2.0, 0, "Pyramid #2"),
    (Reason.STOP_LOSS, 1, 0, 0, "Stop Loss"),
    (Reason.TRAILING_STOP, 1, 0, 0, "Trailing Stop"),
    (Reason.TAKE_PROFIT, 1, 0, 0, "Take Profit"),
    (Reason.TAKE_PROFIT_PARTIAL, 1, 0, 0, "Take Profit (Partial)"),
    (Reason.SIGNAL_FLIP, 1, 0, 0, "Signal Flip"),
    (Reason.END_OF_BACKTEST, 1, 0, 0, "End of Backtest"),
    (Reason.TREND_BREAKDOWN, 1, 0, 0, "Trend Breakdown (EMA Cross)"),
    (Reason.TREND_EXHAUSTION, 1, 22.0, 0, "Trend Exhaustion (ADX < 22)"),
    (Reason.TREND_EXHAUSTION, 1, 27.5, 0, "Trend Exhaustion (ADX < 27.5)"),
    (Reason.TREND_EXHAUSTION, 1, 35.75000000000001, 0, "Trend Exhaustion (ADX < 35.75000000000001)"),
    (Reason.EMA_MACRO_BREAKDOWN, 1, 0, 0, "EMA Macro Breakdown"),
    (Reason.EMA_MACRO_BREAKOUT, 1, 0, 0, "EMA Macro Breakout"),
    (Reason.STAGNATION, 1, 0.123, 0.7000000000000001, "Stagnation Exit (Low Vol: 0.12 < 0.70)"),
    (Reason.TSME, 1, 50.25, -0.125, "Trend Saturation Momentum Exhaustion (ADX: 50.2, ADX_slope: -0.12)"),
    (Reason.MMDE, 1, 1.505, 0, "MACD Persistent Divergence (Profit: 1.50 ATR)"),
    (Reason.RSI_OVERBOUGHT, 1, 80.05, 80.0, "RSI Overbought (80.0, Thr: 80)"),
    (Reason.RSI_OVERSOLD, 1, 27.1, 30.0, "RSI Oversold (27.1, Thr: 30)"),
    (Reason.FUNDING, 1, 0.0001, 0, "Funding rate=0.000100"),
    (Reason.FUNDING, 1, -0.0, 0, "Funding rate=-0.000000"),
])
def test_reason_text(code, conf, x1, x2, text):
    assert reason_text(code, conf, x1, x2) == text


def test_fixed_formatting_rules():
    assert format_fixed(0.125, 2) == "0.12"          # exact binary tie → even
    assert format_fixed(0.375, 2) == "0.38"
    assert format_fixed(2.675, 2) == "2.67"          # 2.675 is below the tie in binary
    assert format_fixed(-0.0, 2) == "-0.00"


@pytest.mark.parametrize("x, text", [(22.0, "22"), (27.5, "27.5"), (0.0, "0"), (1e-05, "0.00001"),
                                     (1e16, "10000000000000000"), (100.0, "100"), (0.1, "0.1")])
def test_plain_formatting(x, text):
    assert format_plain(x) == text


def test_decode_records_roundtrip():
    rec_i = np.zeros((2, N_REC_I), np.int64)
    rec_f = np.zeros((2, N_REC_F), np.float64)
    rec_i[0, [REC_TS, REC_SYM, REC_ACTION, REC_REASON, REC_CONF]] = [1_700_000_000_000, 1, A_ADD_SHORT,
                                                                    Reason.PYRAMID, 1]
    rec_f[0, REC_X1] = 1.0
    rows = decode_records(rec_i, rec_f, 1, ("AAA", "BBB"))
    assert len(rows) == 1
    r = rows[0]
    assert (r["timestamp_ms"], r["symbol"], r["action"], r["reason"], r["confidence"]) == (
        1_700_000_000_000, "BBB", "ADD_SHORT", "Pyramid #1", "Medium")
    assert list(r) == ["timestamp_ms", "symbol", "action", "price", "size", "notional", "reason", "confidence",
                       "pnl", "fee_usd", "balance", "entry_atr", "leverage", "margin_used", "mae_usd", "mfe_usd"]
    assert ACTION_NAMES[A_ADD_SHORT] == "ADD_SHORT"
