"""Helpers for the gpu_sim kernel tests: default params rows, one-config state arrays, hand-built
scenarios (candles + hand-set indicator rows) run through ``simulate_cpu.run_kernel``.

Nothing here decides anything: scenarios set every input the kernel reads explicitly.
"""
from __future__ import annotations

import struct

import numpy as np

from gpu_sim.config_loader import load_params
from gpu_sim.ind_fields import FIELDS, N_FIELDS
from gpu_sim.kernel_loop import init_state
from gpu_sim.kernel_records import N_REC_F, N_REC_I
from gpu_sim.kernel_state import N_GF, N_GI, N_PF, N_SI
from gpu_sim.layout import load_layout
from gpu_sim.market_arrays import pack_market
from gpu_sim.simulate_cpu import RunParams, prepare_run, run_kernel

LAYOUT = load_layout()
HOUR = 3_600_000
T0 = 1_704_067_200_000  # 2024-01-01 00:00 UTC


def bits(x: float) -> int:
    return struct.unpack("<q", struct.pack("<d", float(x)))[0]


def same(a: float, b: float) -> bool:
    """Bit-identical binary64 values."""
    return bits(a) == bits(b)


def col(path: str) -> int:
    return LAYOUT.index[path]


def default_row(**overrides) -> np.ndarray:
    """A default effective-config row with ``overrides`` given as ``path=value`` (dots as '__')."""
    row = np.array(LAYOUT.defaults, dtype=np.float64)
    for key, value in overrides.items():
        row[col(key.replace("__", "."))] = float(value)
    return row


def set_paths(row: np.ndarray, values: dict) -> np.ndarray:
    for path, value in values.items():
        row[col(path)] = float(value)
    return row


class OneConfig:
    """State arrays of one config (slices as the kernel sees them) with ``n_sym`` symbols."""

    def __init__(self, n_sym: int = 1, capacity: int = 64, initial_balance: float = 10000.0, n_bars: int = 8):
        self.si = np.zeros((n_sym, N_SI), np.int64)
        self.pf = np.zeros((n_sym, N_PF), np.float64)
        self.g_i = np.zeros(N_GI, np.int64)
        self.g_f = np.zeros(N_GF, np.float64)
        self.rec_i = np.zeros((capacity, N_REC_I), np.int64)
        self.rec_f = np.zeros((capacity, N_REC_F), np.float64)
        self.mc = np.full((n_sym, n_bars), np.nan)
        init_state(self.si, self.pf, self.g_i, self.g_f, initial_balance)


def ind_row(**values) -> np.ndarray:
    """One snapshot row: every field 0.0 except ``values`` (field names of ind_fields.FIELDS)."""
    row = np.zeros(N_FIELDS, np.float64)
    for k, v in values.items():
        row[FIELDS.index(k)] = float(v)
    return row


# ---- scenario runs -----------------------------------------------------------------------------

#: Entry config that lets a hand-set snapshot decide alone: every gate off, Mode A with MACD mode
#: "none", DRE limits below RSI 60, min confidence low, no SSF/REEF/PESC/cooldowns.
OPEN_ENTRIES = {
    "filters.enable_ranging_filter": 0, "filters.enable_anomaly_filter": 0,
    "filters.enable_extension_filter": 0, "filters.require_adx_rising": 0,
    "filters.require_btc_alignment": 0, "filters.use_stoch_rsi_filter": 0,
    "thresholds.entry.ave_enabled": 0, "thresholds.entry.min_adx": 0.0,
    "thresholds.entry.macd_hist_entry_mode": 2, "trade.entry_min_confidence": 0,
    "trade.enable_ssf_filter": 0, "trade.enable_reef_filter": 0,
    "trade.reentry_cooldown_min_mins": 0, "trade.reentry_cooldown_max_mins": 0,
    "trade.reentry_cooldown_minutes": 0, "trade.entry_cooldown_s": 0, "trade.exit_cooldown_s": 0,
    "trade.enable_pyramiding": 0, "trade.enable_rsi_overextension_exit": 0,
    "trade.smart_exit_adx_exhaustion_lt": 0.0, "trade.enable_partial_tp": 0,
    "trade.slippage_bps": 0.0,
}

#: Snapshot fields of a bullish Mode-A bar under OPEN_ENTRIES (BUY, Medium: v not > 2.5 × vol_sma).
BULL = dict(ema_fast=99.0, ema_slow=98.0, ema_macro=90.0, adx=30.0, adx_slope=0.1, atr=1.0, avg_atr=1.0,
            rsi=60.0, stoch_k=0.5, stoch_d=0.5, macd_hist=1.0, prev_macd_hist=0.5, vol_sma=100.0,
            bb_width_ratio=1.0)
#: Neutral snapshot (no trend: ema_fast == ema_slow).
FLAT = dict(ema_fast=100.0, ema_slow=100.0, ema_macro=90.0, adx=30.0, atr=1.0, avg_atr=1.0, rsi=50.0,
            vol_sma=100.0, bb_width_ratio=1.0)


class Scenario:
    """Hand-built market: per symbol a list of main bars ``(t_open, close, fields)`` where ``fields``
    are the snapshot's indicator values after that bar; optional sub-bars ``(t_open, close)`` and
    funding rows ``(t, rate)``."""

    def __init__(self, symbols, main_ms: int = HOUR):
        self.symbols = sorted(symbols, key=lambda s: s.encode())
        self.main_ms = main_ms
        self.bars = {s: [] for s in self.symbols}
        self.sub = {}
        self.funding = None

    def bar(self, sym, t, close, volume=100.0, **fields):
        self.bars[sym].append((t, close, volume, fields))
        return self

    def sub_bar(self, length_ms, sym, t, close):
        self.sub.setdefault(length_ms, {}).setdefault(sym, []).append((t, close))
        return self

    def fund(self, sym, t, rate):
        self.funding = self.funding or {}
        self.funding.setdefault(sym, []).append((t, rate))
        return self

    def market(self):
        main = {}
        for s in self.symbols:
            rows = self.bars[s]
            t = np.array([r[0] for r in rows], np.int64)
            c = np.array([r[1] for r in rows], np.float64)
            v = np.array([r[2] for r in rows], np.float64)
            main[s] = {"t": t, "o": c, "h": c, "l": c, "c": c, "v": v}
        sub = {}
        for ms, per in self.sub.items():
            sub[ms] = {}
            for s, rows in per.items():
                t = np.array([r[0] for r in rows], np.int64)
                c = np.array([r[1] for r in rows], np.float64)
                sub[ms][s] = {"t": t, "o": c, "h": c, "l": c, "c": c, "v": np.ones_like(c)}
        fund = None
        if self.funding is not None:
            fund = {s: (np.array([r[0] for r in rows], np.int64), np.array([r[1] for r in rows]))
                    for s, rows in self.funding.items()}
        return pack_market(main, sub, fund)

    def ind(self):
        n_bars = max(len(v) for v in self.bars.values())
        ind = np.full((1, len(self.symbols), n_bars, N_FIELDS), np.nan)
        for i, s in enumerate(self.symbols):
            prev = None
            for k, (_, close, volume, fields) in enumerate(self.bars[s]):
                row = ind_row(**fields)
                if "prev_close" not in fields:
                    row[FIELDS.index("prev_close")] = 0.0 if prev is None else prev[0]
                if "prev_ema_fast" not in fields:
                    row[FIELDS.index("prev_ema_fast")] = 0.0 if prev is None else prev[1]
                row[FIELDS.index("bar_index")] = float(k)
                ind[0, i, k] = row
                prev = (close, row[FIELDS.index("ema_fast")])
        return ind

    def run(self, overrides=None, portfolio=None, per_symbol=None, run=None, engine=None, capacity=256):
        """Run one config; ``overrides`` apply to every symbol and the portfolio row."""
        batch = load_params(None, self.symbols)
        params = np.array(batch.params, dtype=np.float64)
        port = np.array(batch.portfolio, dtype=np.float64)
        for path, value in (overrides or {}).items():
            params[..., col(path)] = float(value)
            port[..., col(path)] = float(value)
        for path, value in (portfolio or {}).items():
            port[..., col(path)] = float(value)
        for sym, values in (per_symbol or {}).items():
            i = self.symbols.index(sym)
            for path, value in values.items():
                params[0, i, col(path)] = float(value)
        eng = {"engine.interval": f"{self.main_ms // 60000}m", "engine.exit_interval": "",
               "engine.entry_interval": ""}
        eng.update(engine or {})
        k = prepare_run(self.market(), eng, run or RunParams(lookback=0))
        set_ids = np.zeros((1, len(self.symbols)), np.int32)
        return run_kernel(params, port, set_ids, self.ind(), k, record_capacity=capacity)
