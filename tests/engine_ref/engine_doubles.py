"""Test doubles and tiny hand-built inputs for the engine_ref loop tests.

* ``ScriptedIndicators`` stands in for ``SymbolIndicators``: every snapshot field has a neutral
  default (ADX 30, ATR 1, RSI 50, EMAs equal to the close, MACD 0 ...) and can be overridden per bar
  open time, so an exit scenario controls exactly what the exit rules see.
* ``scripted_signals`` replaces the entry layer's ``generate``: a signal per (symbol, view/bar ``t``).
* ``configs`` builds a ConfigSet from the defaults with dotted overrides.
* ``bars`` builds a series from closes (o = previous close, h/l around o/c, v = 1).
"""
from __future__ import annotations

import json
import os
import tempfile
from typing import Any, Iterable

from engine_ref.config_loader import load_config_set
from engine_ref.entry_modes import EntrySignal, NO_SIGNAL
from engine_ref.indicators import IndicatorSnapshot

MIN = 60_000
HOUR = 3_600_000
T0 = 1_767_225_600_000  # 2026-01-01T00:00:00Z, a multiple of every interval used here

_DEFAULTS = dict(
    ema_macro=0.0, adx=30.0, adx_pos=20.0, adx_neg=10.0, adx_slope=0.0, bb_upper=0.0, bb_lower=0.0,
    bb_width=0.0, bb_width_avg=0.0, bb_width_ratio=1.0, atr=1.0, atr_slope=0.0, avg_atr=1.0, rsi=50.0,
    stoch_k=0.5, stoch_d=0.5, macd_hist=0.0, prev_macd_hist=0.0, prev2_macd_hist=0.0,
    prev3_macd_hist=0.0, vol_sma=1.0, vol_trend=False, prev_volume=0.0, prev_vol_sma=0.0,
    prev_vol_trend=False, ema_slow_slope_pct=0.0,
)


def snapshot(close: float, **fields: Any) -> IndicatorSnapshot:
    """A snapshot with neutral defaults (EMAs = close, prev_close = close) and ``fields`` overridden."""
    values = dict(_DEFAULTS, t=T0, o=close, h=close, l=close, c=close, v=1.0, ema_fast=close,
                  ema_slow=close, prev_close=close, prev_ema_fast=close, prev_ema_slow=close, bar_index=0)
    values.update(fields)
    return IndicatorSnapshot(**values)


class ScriptedIndicators:
    """``SymbolIndicators`` double: snapshot fields from ``script[t]`` (a dict) over neutral defaults."""

    def __init__(self, script: dict[int, dict[str, Any]] | None = None) -> None:
        self.script = script or {}
        self.bar_count = 0
        self.snapshot: IndicatorSnapshot | None = None

    def update(self, *, t: int, o: float, h: float, l: float, c: float, v: float) -> IndicatorSnapshot:  # noqa: E741
        prev = self.snapshot
        fields: dict[str, Any] = dict(t=t, o=o, h=h, l=l, c=c, v=v, bar_index=self.bar_count)
        if prev is not None:
            fields.update(prev_close=prev.c, prev_ema_fast=prev.ema_fast, prev_ema_slow=prev.ema_slow)
        fields.update(self.script.get(t, {}))
        self.snapshot = snapshot(c, **fields)
        self.bar_count += 1
        return self.snapshot


def install_indicators(monkeypatch, scripts: dict[str, dict[int, dict[str, Any]]] | None = None) -> None:
    """Make the loop build ``ScriptedIndicators`` (per-symbol scripts keyed by bar open time)."""
    import engine_ref.engine as engine

    scripts = scripts or {}

    class _Factory:
        @staticmethod
        def from_config(cfg: dict) -> ScriptedIndicators:
            return ScriptedIndicators(scripts.get(cfg.get("_test_symbol"), {}))

    monkeypatch.setattr(engine, "SymbolIndicators", _Factory)


def install_signals(monkeypatch, script: dict[tuple[str, int], tuple[str, str, float]]) -> list:
    """Replace the entry layer's ``generate``: ``script[(symbol, S.t)] = (signal, confidence, threshold)``.

    Returns the list of calls ``(symbol, S.t, S.c)`` made by the loop.
    """
    import engine_ref.entry_eval as entry_eval

    calls: list[tuple[str, int, float]] = []

    def fake_generate(s: Any, cfg: dict, context: Any, symbol: str) -> EntrySignal:
        calls.append((symbol, s.t, s.c))
        if (symbol, s.t) in script:
            return EntrySignal(*script[(symbol, s.t)])
        return NO_SIGNAL

    monkeypatch.setattr(entry_eval, "generate", fake_generate)
    return calls


def configs(symbols: Iterable[str], overrides: dict[str, Any] | None = None):
    """ConfigSet of the defaults plus dotted ``overrides``: strategy axes as the sweep layer, engine-only
    keys (``engine.*``, ``watchlist_exclude``) through a temporary YAML file (D27, D30)."""
    overrides = dict(overrides or {})
    engine_only = {k: overrides.pop(k) for k in list(overrides)
                   if k.startswith("engine.") or k == "watchlist_exclude"}
    path = None
    if engine_only:
        lines = ["global:"]
        eng = {k.split(".", 1)[1]: v for k, v in engine_only.items() if k.startswith("engine.")}
        if eng:
            lines.append("  engine:")
            lines += [f"    {k}: {json.dumps(v)}" for k, v in eng.items()]
        if "watchlist_exclude" in engine_only:
            lines.append(f"  watchlist_exclude: {json.dumps(engine_only['watchlist_exclude'])}")
        with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as fh:
            fh.write("\n".join(lines) + "\n")
            path = fh.name
    try:
        cs = load_config_set(path, list(symbols), sweep_overrides=overrides)
    finally:
        if path is not None:
            os.unlink(path)
    for sym, cfg in cs.symbols.items():
        cfg["_test_symbol"] = sym  # lets install_indicators pick the script; never read by the engine
    return cs


def bars(t0: int, step_ms: int, closes: Iterable[float], *, first_open: float | None = None,
         spread: float = 0.5) -> dict[str, list]:
    """A series with open times ``t0, t0 + step, …`` and the given closes (o = previous close)."""
    out: dict[str, list] = {k: [] for k in ("t", "o", "h", "l", "c", "v")}
    prev = None
    for i, c in enumerate(closes):
        o = c if prev is None and first_open is None else (first_open if prev is None else prev)
        out["t"].append(t0 + i * step_ms)
        out["o"].append(o)
        out["h"].append(max(o, c) + spread)
        out["l"].append(min(o, c) - spread)
        out["c"].append(c)
        out["v"].append(1.0)
        prev = c
    return out


def quiet_exits() -> dict[str, Any]:
    """Overrides that keep the scripted positions free of incidental exits and entry filters."""
    return {
        "trade.smart_exit_adx_exhaustion_lt": 0.0, "trade.enable_rsi_overextension_exit": False,
        "trade.enable_ssf_filter": False, "trade.enable_reef_filter": False, "trade.slippage_bps": 0.0,
        "trade.enable_partial_tp": False, "trade.enable_breakeven_stop": False,
        "trade.enable_pyramiding": False,
    }


def replay_balance(initial: float, trades: list) -> float:
    """Replays the §6.1 balance rule over the log; returns the final balance (bit-exact)."""
    from engine_ref.arith import q

    balance = initial
    for rec in trades:
        if rec.action.startswith(("OPEN", "ADD")):
            balance = balance - rec.fee_usd
        elif rec.action.startswith(("CLOSE", "REDUCE")):
            balance = balance + q(rec.pnl - rec.fee_usd)
        else:
            balance = balance + rec.pnl
        assert balance == rec.balance, rec
    return balance
