"""Trade-record buffers and the per-config metrics row (strategy-exits.md §6.5, §6.8; D43, D44d, D46).

Records go to fixed-capacity per-config buffers, written in execution order (D43):

``rec_i[c, k, RI_*]`` int64: timestamp_ms (τ; funding: boundary), symbol index (ascending byte-wise
order of names, D44c), action code (``A_*``), reason code (:class:`gpu_sim.reasons.Reason`),
confidence code (0 Low, 1 Medium, 2 High).
``rec_f[c, k, RF_*]`` float64: price, size, notional, pnl, fee_usd, balance, entry_atr, leverage,
margin_used, mae_usd, mfe_usd (always 0.0), and the reason's numeric fields x1, x2 (see reasons.py).

``g_i[c, GI_NREC]`` counts the records produced; when it exceeds the capacity the overflow metric is
set, later records are not written and the simulation continues (balances and metrics stay exact;
D44d). Every §6.5 field is reconstructible exactly: :func:`decode_records` renders the rows.

Metrics are accumulated in trade-log order while the records are produced (sums sequential from 0.0,
counts converted to binary64 before a division, D46), so they are exact even when the buffer overflows.
"""
from __future__ import annotations

import numpy as np

from gpu_sim.kernel_jit import device
from gpu_sim.kernel_state import (
    GF_BALANCE,
    GF_FEES,
    GF_FUNDING,
    GF_GROSS_LOSS,
    GF_GROSS_PROFIT,
    GF_SUM_PNL,
    GI_LOSSES,
    GI_NREC,
    GI_TRADES,
    GI_WINS,
)
from gpu_sim.reasons import CONF_NAMES, reason_text

__all__ = ["ACTION_NAMES", "METRIC_NAMES", "N_REC_I", "N_REC_F", "N_METRICS", "decode_records",
           "metrics_dict", "log_record"]

# ---- action codes ---------------------------------------------------------------------------------
A_OPEN_LONG = 0
A_OPEN_SHORT = 1
A_ADD_LONG = 2
A_ADD_SHORT = 3
A_REDUCE_LONG = 4
A_REDUCE_SHORT = 5
A_CLOSE_LONG = 6
A_CLOSE_SHORT = 7
A_FUNDING = 8
ACTION_NAMES = ("OPEN_LONG", "OPEN_SHORT", "ADD_LONG", "ADD_SHORT", "REDUCE_LONG", "REDUCE_SHORT",
                "CLOSE_LONG", "CLOSE_SHORT", "FUNDING")

# ---- record fields --------------------------------------------------------------------------------
REC_TS = 0
REC_SYM = 1
REC_ACTION = 2
REC_REASON = 3
REC_CONF = 4
N_REC_I = 5

REC_PRICE = 0
REC_SIZE = 1
REC_NOTIONAL = 2
REC_PNL = 3
REC_FEE = 4
REC_BALANCE = 5
REC_ENTRY_ATR = 6
REC_LEVERAGE = 7
REC_MARGIN = 8
REC_MAE = 9
REC_MFE = 10
REC_X1 = 11
REC_X2 = 12
N_REC_F = 13

# ---- metrics row metrics[c, M_*] (float64) --------------------------------------------------------
METRIC_NAMES = (
    "initial_balance", "final_balance", "total_pnl", "total_trades", "total_wins", "total_losses",
    "win_rate", "gross_profit", "gross_loss", "profit_factor", "avg_trade_pnl", "avg_win", "avg_loss",
    "total_fees", "max_drawdown_usd", "max_drawdown_pct", "sharpe_ratio", "total_signals",
    "total_funding", "ruined", "n_records", "records_overflow", "n_equity_samples",
)
(M_INITIAL_BALANCE, M_FINAL_BALANCE, M_TOTAL_PNL, M_TOTAL_TRADES, M_TOTAL_WINS, M_TOTAL_LOSSES,
 M_WIN_RATE, M_GROSS_PROFIT, M_GROSS_LOSS, M_PROFIT_FACTOR, M_AVG_TRADE_PNL, M_AVG_WIN, M_AVG_LOSS,
 M_TOTAL_FEES, M_MAX_DRAWDOWN_USD, M_MAX_DRAWDOWN_PCT, M_SHARPE_RATIO, M_TOTAL_SIGNALS,
 M_TOTAL_FUNDING, M_RUINED, M_N_RECORDS, M_RECORDS_OVERFLOW, M_N_EQUITY_SAMPLES) = range(len(METRIC_NAMES))
N_METRICS = len(METRIC_NAMES)


@device
def log_record(g_i, g_f, rec_i, rec_f, ts, sym, action, reason, conf, price, size, notional, pnl, fee,
               entry_atr, lev, margin, x1, x2):
    """Append one record (balance = the current balance, i.e. after the event) and fold it into the
    metric accumulators in trade-log order."""
    k = g_i[GI_NREC]
    g_i[GI_NREC] = k + 1
    if k < rec_i.shape[0]:
        rec_i[k, REC_TS] = ts
        rec_i[k, REC_SYM] = sym
        rec_i[k, REC_ACTION] = action
        rec_i[k, REC_REASON] = reason
        rec_i[k, REC_CONF] = conf
        rec_f[k, REC_PRICE] = price
        rec_f[k, REC_SIZE] = size
        rec_f[k, REC_NOTIONAL] = notional
        rec_f[k, REC_PNL] = pnl
        rec_f[k, REC_FEE] = fee
        rec_f[k, REC_BALANCE] = g_f[GF_BALANCE]
        rec_f[k, REC_ENTRY_ATR] = entry_atr
        rec_f[k, REC_LEVERAGE] = lev
        rec_f[k, REC_MARGIN] = margin
        rec_f[k, REC_MAE] = 0.0
        rec_f[k, REC_MFE] = 0.0
        rec_f[k, REC_X1] = x1
        rec_f[k, REC_X2] = x2
    g_f[GF_FEES] = g_f[GF_FEES] + fee
    if action >= A_REDUCE_LONG and action <= A_CLOSE_SHORT:
        g_i[GI_TRADES] += 1
        g_f[GF_SUM_PNL] = g_f[GF_SUM_PNL] + pnl
        if pnl > 0.0:
            g_i[GI_WINS] += 1
            g_f[GF_GROSS_PROFIT] = g_f[GF_GROSS_PROFIT] + pnl
        elif pnl < 0.0:
            g_i[GI_LOSSES] += 1
            g_f[GF_GROSS_LOSS] = g_f[GF_GROSS_LOSS] + pnl
    elif action == A_FUNDING:
        g_f[GF_FUNDING] = g_f[GF_FUNDING] + pnl


# ---- host side ------------------------------------------------------------------------------------

def decode_records(rec_i: np.ndarray, rec_f: np.ndarray, count: int, symbols) -> list[dict]:
    """The §6.5 trade-log rows of one config (``rec_i[c]``, ``rec_f[c]``, ``min(n_records, cap)``)."""
    rows = []
    n = min(int(count), rec_i.shape[0])
    for k in range(n):
        ri = rec_i[k]
        rf = rec_f[k]
        code = int(ri[REC_REASON])
        conf = int(ri[REC_CONF])
        rows.append({
            "timestamp_ms": int(ri[REC_TS]),
            "symbol": symbols[int(ri[REC_SYM])],
            "action": ACTION_NAMES[int(ri[REC_ACTION])],
            "price": float(rf[REC_PRICE]),
            "size": float(rf[REC_SIZE]),
            "notional": float(rf[REC_NOTIONAL]),
            "reason": reason_text(code, conf, float(rf[REC_X1]), float(rf[REC_X2])),
            "confidence": CONF_NAMES[conf],
            "pnl": float(rf[REC_PNL]),
            "fee_usd": float(rf[REC_FEE]),
            "balance": float(rf[REC_BALANCE]),
            "entry_atr": float(rf[REC_ENTRY_ATR]),
            "leverage": float(rf[REC_LEVERAGE]),
            "margin_used": float(rf[REC_MARGIN]),
            "mae_usd": float(rf[REC_MAE]),
            "mfe_usd": float(rf[REC_MFE]),
        })
    return rows


def metrics_dict(row: np.ndarray) -> dict:
    """One config's metrics row as a dict (counts and flags as int / bool)."""
    out = {}
    ints = {"total_trades", "total_wins", "total_losses", "total_signals", "n_records", "n_equity_samples"}
    flags = {"ruined", "records_overflow"}
    for i, name in enumerate(METRIC_NAMES):
        v = float(row[i])
        out[name] = int(v) if name in ints else (v != 0.0 if name in flags else v)
    return out
