"""Test helpers for the entry layer: hand-made snapshots, sub-bar views, configs and window contexts.

``Snap`` carries every field of strategy-entries.md §2.12 (plus the ``open/high/low/close`` aliases of
strategy-exits.md §1.4), so the entry layer is tested without the indicator engine. The two baselines
are "clean" trend bars that pass every default gate:

* ``bull_snapshot()`` → Mode A ``BUY`` / ``Medium`` / threshold 22.0 with the defaults, BTC bullish;
* ``bear_snapshot()`` → Mode A ``SELL`` / ``Medium`` / threshold 22.0 with the defaults, BTC bearish.

Why they pass (defaults): ranging votes 0 (ADX 30 ≥ 21, width ratio 1.0 ≥ 0.8, RSI outside 47–53);
anomaly: |101 − 100.5| / 100.5 ≈ 0.005 ≤ 0.10, |101 − 100| / 100 = 0.01 ≤ 0.50; extension 0.01 ≤ 0.04;
ADX slope 1.0 > 0 (rising; TMC gives min(22, 25) = 22); ATR / avg ATR = 1.0 ≤ 1.5 (no AVE); ADX 30 > 22;
DRE long limit 56 + (8/18)·(52 − 56) ≈ 54.2 < RSI 60; MACD accelerating 0.5 > 0.3; StochRSI 0.5;
volume 100 ≤ 100 × 2.5 → Medium.
"""
from __future__ import annotations

import copy
import dataclasses
import functools
from types import SimpleNamespace

from engine_ref.config_loader import load_config
from engine_ref.context import WindowContext
from engine_ref.indicators import IndicatorSnapshot


#: The real snapshot type (the §2.12 field names, frozen): tests build it directly, so a field
#: added to or renamed in the indicator layer cannot leave a test double behind.
Snap = IndicatorSnapshot

BULL = Snap(
    t=1_700_000_000_000, o=100.6, h=101.2, l=100.4, c=101.0, v=100.0,
    ema_fast=100.0, ema_slow=99.0, ema_macro=95.0,
    adx=30.0, adx_pos=25.0, adx_neg=15.0, adx_slope=1.0,
    bb_upper=103.0, bb_lower=97.0, bb_width=0.06, bb_width_avg=0.06, bb_width_ratio=1.0,
    atr=1.0, atr_slope=0.0, avg_atr=1.0,
    rsi=60.0, stoch_k=0.5, stoch_d=0.5,
    macd_hist=0.5, prev_macd_hist=0.3, prev2_macd_hist=0.2, prev3_macd_hist=0.1,
    vol_sma=100.0, vol_trend=True,
    prev_close=100.5, prev_ema_fast=99.9, prev_ema_slow=98.95,
    prev_volume=90.0, prev_vol_sma=95.0, prev_vol_trend=False,
    ema_slow_slope_pct=0.001, bar_index=250,
)

BEAR = dataclasses.replace(
    BULL, o=99.4, h=99.6, l=98.8, c=99.0,
    ema_fast=100.0, ema_slow=101.0, ema_macro=105.0,
    adx_pos=15.0, adx_neg=25.0, rsi=40.0,
    macd_hist=-0.5, prev_macd_hist=-0.3, prev2_macd_hist=-0.2, prev3_macd_hist=-0.1,
    prev_close=99.5, prev_ema_fast=100.1, prev_ema_slow=101.05, ema_slow_slope_pct=-0.001,
)


def bull_snapshot(**overrides: object) -> Snap:
    """The bullish baseline with ``overrides`` (field names of §2.12)."""
    return dataclasses.replace(BULL, **overrides)


def bear_snapshot(**overrides: object) -> Snap:
    """The bearish baseline with ``overrides``."""
    return dataclasses.replace(BEAR, **overrides)


def sub_bar_view(snapshot: Snap, *, c: float, t: int | None = None) -> Snap:
    """The view ``V(S, b)`` of D5 for a sub-bar closing at ``c`` (o = h = l = c for simplicity)."""
    return dataclasses.replace(
        snapshot, t=snapshot.t if t is None else t, o=c, h=c, l=c, c=c,
        prev_close=snapshot.c, prev_ema_fast=snapshot.ema_fast, prev_ema_slow=snapshot.ema_slow,
    )


@functools.lru_cache(maxsize=1)
def _defaults() -> dict:
    return load_config(None)


def config_with(overrides: dict[str, object] | None = None) -> dict:
    """A deep copy of the default effective config with dotted-path ``overrides`` applied."""
    cfg = copy.deepcopy(_defaults())
    for path, value in (overrides or {}).items():
        *parents, leaf = path.split(".")
        node = cfg
        for part in parents:
            node = node[part]
        if leaf not in node:
            raise KeyError(f"unknown config path {path}")
        node[leaf] = value
    return cfg


def context_with(breadth_pct: float = 50.0, breadth_defined: bool = True, btc_bullish: bool | None = True,
                 btc_close: float | None = 40000.0, btc_adx: float | None = 30.0,
                 btc_atr: float | None = 200.0) -> WindowContext:
    """A window context built by hand (BTC: ADX 30, ATR/close 0.005 unless overridden)."""
    btc_symbol = None if btc_close is None else "BTC"
    return WindowContext(breadth_pct, breadth_defined, btc_bullish, btc_close, btc_adx, btc_atr, btc_symbol)


def symbol_state(snapshot: Snap | None, bar_count: int) -> SimpleNamespace:
    """A per-symbol indicator state as ``compute_context`` reads it (``snapshot``, ``bar_count``)."""
    return SimpleNamespace(snapshot=snapshot, bar_count=bar_count)


def trend_snapshot(bullish: bool, **overrides: object) -> Snap:
    """A snapshot whose EMA-fast is above (bullish) or below (not bullish) its EMA-slow."""
    return bull_snapshot(**overrides) if bullish else bear_snapshot(**overrides)


def universe_states(n_bullish: int, n_total: int = 10, *, with_btc: bool = True, btc_adx: float = 30.0,
                    btc_atr: float = 200.0, btc_close: float = 40000.0, btc_bullish: bool = True,
                    bar_count: int = 300) -> dict[str, SimpleNamespace]:
    """``n_total`` symbols (``BTC`` first when ``with_btc``, then ``S01``…), the first ``n_bullish`` of
    them (in that order) with EMA-fast > EMA-slow. BTC's close, EMA-slow, ADX and ATR make its trend flag
    ``btc_bullish`` and its ATR/close ``btc_atr / btc_close``."""
    names = (["BTC"] if with_btc else []) + [f"S{i:02d}" for i in range(1, n_total + 1)]
    names = names[:n_total]
    states = {}
    for i, name in enumerate(names):
        snap = trend_snapshot(i < n_bullish)
        if name == "BTC":
            ema_slow = btc_close * (0.99 if btc_bullish else 1.01)
            snap = dataclasses.replace(snap, c=btc_close, adx=btc_adx, atr=btc_atr, ema_slow=ema_slow,
                                       ema_fast=ema_slow * (1.001 if i < n_bullish else 0.999))
        states[name] = symbol_state(snap, bar_count)
    return states
