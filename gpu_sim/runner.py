"""gpu_sim's host entry point for one YAML over one market: universe, params, packing, launch.

The universe is gpu_sim's own: symbols with main bars minus ``watchlist_exclude`` (ASCII upper-case
comparison on both sides, D33/D48), read from the portfolio config this loader built. Inputs are the
harness's plain arrays (``main[symbol] = {"t","o","h","l","c","v"}``, ``sub_bars[interval_ms]``,
``funding[symbol]``); nothing here imports engine_ref.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from gpu_sim.config_loader import ParamsBatch, load_params
from gpu_sim.layout import ascii_upper
from gpu_sim.market_arrays import pack_market, sort_symbols
from gpu_sim.simulate_cpu import RunParams, SimResult, simulate_cpu

BACKENDS = ("cpu", "cuda", "cudasim")


def universe(symbols: Sequence[str], exclude: Sequence[str]) -> tuple[str, ...]:
    """Symbols with main bars minus ``watchlist_exclude`` (ASCII upper-case on both sides)."""
    drop = {ascii_upper(x) for x in exclude}
    return sort_symbols(s for s in symbols if ascii_upper(s) not in drop)


def load_batch(yaml_path: str | Path | None, symbols: Sequence[str], *, mode: str | None = None,
               run_mode: str = "backtest", sweep_paths: Sequence[str] = (),
               sweep_codes: np.ndarray | None = None) -> ParamsBatch:
    """Params for the universe of ``symbols`` under this YAML (the universe needs the portfolio config)."""
    probe = load_params(yaml_path, (), mode=mode, run_mode=run_mode, sweep_paths=sweep_paths,
                        sweep_codes=sweep_codes)
    uni = universe(symbols, probe.engine["watchlist_exclude"])
    return load_params(yaml_path, uni, mode=mode, run_mode=run_mode, sweep_paths=sweep_paths,
                       sweep_codes=sweep_codes)


def run_yaml(yaml_path: str | Path | None, main: Mapping, sub_bars: Mapping | None = None,
             funding: Mapping | None = None, run: RunParams = RunParams(), *, mode: str | None = None,
             run_mode: str = "backtest", sweep_paths: Sequence[str] = (),
             sweep_codes: np.ndarray | None = None, backend: str = "cpu",
             record_capacity: int = 4096, equity_curve: bool = True) -> SimResult:
    """Simulate every config of (YAML + sweep rows) on the market; one config when no sweep."""
    batch = load_batch(yaml_path, tuple(main), mode=mode, run_mode=run_mode, sweep_paths=sweep_paths,
                       sweep_codes=sweep_codes)
    keep = set(batch.symbols)
    market = pack_market({s: a for s, a in main.items() if s in keep},
                         {ms: {s: a for s, a in per.items() if s in keep} for ms, per in (sub_bars or {}).items()},
                         None if funding is None else {s: r for s, r in funding.items() if s in keep})
    if backend == "cpu":
        return simulate_cpu(batch, market, run, record_capacity=record_capacity, equity_curve=equity_curve)
    if backend in ("cuda", "cudasim"):
        from gpu_sim.kernel_cuda import simulate_cuda
        return simulate_cuda(batch, market, run, record_capacity=record_capacity, equity_curve=equity_curve)
    raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
