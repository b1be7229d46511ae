"""Replay one config on one engine: load candles and configs, run, return records and metrics.

The harness only orchestrates: it validates the data (harness.data), hands the engine plain
arrays (harness.engine_inputs) and the config *file* (each engine loads it with its own loader),
and serialises what comes back. Sub-bar series are selected by the portfolio config's
``engine.entry_interval`` / ``engine.exit_interval`` unless ``sub_bars`` names them explicitly.
"""
from __future__ import annotations

import dataclasses
import json
import time
from dataclasses import dataclass, field
from pathlib import Path

from harness.accounting_check import check_balance_identity
from harness.data import MarketData, interval_ms, load_market
from harness.engine_inputs import EngineInputs, engine_inputs
from harness.errors import DataError, DriftgateError
from harness.yamlio import write_text_atomic

ENGINES = ("ref", "sim")


@dataclass(frozen=True)
class RunParams:
    """Run parameters (config-and-axes.md §3.2; identical for both engines)."""

    initial_balance: float = 10000.0
    lookback: int = 200
    taker_fee_bps: float = 3.5
    from_ts: int | None = None
    to_ts: int | None = None
    run_mode: str = "backtest"
    strategy_mode: str | None = None
    allow_missing_sub_bars: bool = False


@dataclass
class ReplayResult:
    engine: str
    trades: list[dict]
    equity_curve: list[tuple[int, float]]
    metrics: dict
    final_balance: float
    seconds: float
    meta: dict = field(default_factory=dict)


def sub_intervals_for(portfolio_cfg: dict, main_interval: str) -> tuple[str, ...]:
    """Sub-bar intervals the config activates (non-empty, length ≠ main; D33, D39)."""
    main_ms = interval_ms(main_interval)
    out = []
    for key in ("entry_interval", "exit_interval"):
        name = portfolio_cfg["engine"][key]
        if name and interval_ms(name) != main_ms and interval_ms(name) not in [interval_ms(o) for o in out]:
            out.append(name)
    return tuple(out)


def load_inputs(candles: Path, portfolio_cfg: dict, sub_bars: tuple[str, ...] | None,
                funding: bool = True) -> tuple[MarketData, EngineInputs]:
    """Load and validate candles with the sub-bar series the run needs."""
    main_interval = portfolio_cfg["engine"]["interval"]
    subs = sub_bars if sub_bars is not None else sub_intervals_for(portfolio_cfg, main_interval)
    try:
        md = load_market(candles, main_interval=main_interval, sub_intervals=subs)
    except DataError as exc:
        if subs:
            raise DataError(f"{exc}; the config asks for sub-bars {list(subs)} "
                            "(engine.entry_interval / exit_interval): use candles that carry them, "
                            "or a config/mode with empty sub-bar intervals") from None
        raise
    return md, engine_inputs(md, subs, funding=funding)


def _record_dict(rec: object) -> dict:
    return dataclasses.asdict(rec) if dataclasses.is_dataclass(rec) else dict(rec)  # type: ignore[arg-type]


def run_ref(config: Path | None, candles: Path, params: RunParams,
            sub_bars: tuple[str, ...] | None = None) -> ReplayResult:
    """Replay on engine_ref."""
    from engine_ref.config_loader import load_config, load_config_set
    from engine_ref.engine import run_backtest

    portfolio = load_config(config, None, params.strategy_mode, run_mode=params.run_mode)
    md, inp = load_inputs(candles, portfolio, sub_bars)
    configs = load_config_set(config, md.symbols(), params.strategy_mode, run_mode=params.run_mode)
    t0 = time.perf_counter()
    res = run_backtest(inp.main, configs, sub_bars=inp.sub_bars or None, funding=inp.funding,
                       initial_balance=params.initial_balance, lookback=params.lookback,
                       taker_fee_bps=params.taker_fee_bps, from_ts=params.from_ts, to_ts=params.to_ts,
                       allow_missing_sub_bars=params.allow_missing_sub_bars)
    secs = time.perf_counter() - t0
    trades = [_record_dict(r) for r in res.trades]
    check_balance_identity(trades, params.initial_balance, float(res.final_balance))
    meta = {"data_fingerprint": md.fingerprint(), "symbols": list(md.symbols()),
            "main_bars": sum(md.n_bars().values()), "run_params": dataclasses.asdict(params)}
    return ReplayResult("ref", trades,
                        [(int(t), float(e)) for t, e in res.equity_curve], dict(res.metrics),
                        float(res.final_balance), secs, meta)


def run_sim(config: Path | None, candles: Path, params: RunParams, sub_bars: tuple[str, ...] | None = None,
            backend: str = "cpu") -> ReplayResult:
    """Replay on gpu_sim (one config, one launch)."""
    from engine_ref.config_loader import load_config
    from harness.engines import sim_runs

    portfolio = load_config(config, None, params.strategy_mode, run_mode=params.run_mode)
    md, inp = load_inputs(candles, portfolio, sub_bars)
    t0 = time.perf_counter()
    run = sim_runs(config, inp, params, backend=backend)[0]
    secs = time.perf_counter() - t0
    check_balance_identity(run.trades, params.initial_balance, run.final_balance)
    meta = {"data_fingerprint": md.fingerprint(), "symbols": list(md.symbols()), "backend": backend,
            "main_bars": sum(md.n_bars().values()), "run_params": dataclasses.asdict(params),
            "records_overflow": run.overflow}
    return ReplayResult(f"sim[{backend}]", run.trades, run.equity_curve, dict(run.metrics),
                        run.final_balance, secs, meta)


def replay(engine: str, config: Path | None, candles: Path, params: RunParams,
           sub_bars: tuple[str, ...] | None = None, backend: str = "cpu") -> ReplayResult:
    if engine == "ref":
        return run_ref(config, candles, params, sub_bars)
    if engine == "sim":
        return run_sim(config, candles, params, sub_bars, backend)
    raise DriftgateError(f"--engine {engine}: unknown engine; fix: use ref or sim")


def write_replay_json(result: ReplayResult, out: Path) -> Path:
    """The full trade log, equity curve and metrics as JSON (atomic write)."""
    doc = {"engine": result.engine, "meta": result.meta, "metrics": result.metrics,
           "final_balance": result.final_balance, "trades": result.trades,
           "equity_curve": result.equity_curve}
    return write_text_atomic(out, json.dumps(_json_safe(doc), indent=1, allow_nan=False) + "\n")


def _json_safe(x: object) -> object:
    """Plain JSON: non-finite floats (an infinite profit factor) become the strings "inf"/"nan"."""
    if isinstance(x, float) and x != x:
        return "nan"
    if isinstance(x, float) and x in (float("inf"), float("-inf")):
        return "inf" if x > 0 else "-inf"
    if isinstance(x, dict):
        return {str(k): _json_safe(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_json_safe(v) for v in x]
    return x
