"""Run one YAML (optionally with sweep rows) on each engine and return comparable ``EngineRun``s.

Each engine loads the YAML with its own loader and receives the same plain arrays; sweep rows are
handed to engine_ref as native values decoded by the one decoder (harness.decode) and to gpu_sim as
the raw codes it decodes itself (docs/spec-notes.md N2).
"""
from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from harness.decode import decode_row
from harness.engine_inputs import EngineInputs
from harness.replay import RunParams
from harness.trade_parity import EngineRun

SIM_BACKENDS = ("cpu", "cuda", "cudasim")


def ref_run(yaml_path: Path | None, inputs: EngineInputs, run: RunParams = RunParams(), *,
            sweep_paths: Sequence[str] = (), sweep_codes: Sequence[float] = ()) -> EngineRun:
    """engine_ref on one config."""
    from engine_ref.config_loader import load_config_set
    from engine_ref.engine import run_backtest

    overrides = decode_row(sweep_paths, sweep_codes) if sweep_paths else None
    configs = load_config_set(yaml_path, tuple(inputs.main), run.strategy_mode, run_mode=run.run_mode,
                              sweep_overrides=overrides)
    res = run_backtest(inputs.main, configs, sub_bars=inputs.sub_bars or None, funding=inputs.funding,
                       initial_balance=run.initial_balance, lookback=run.lookback,
                       taker_fee_bps=run.taker_fee_bps, from_ts=run.from_ts, to_ts=run.to_ts,
                       allow_missing_sub_bars=run.allow_missing_sub_bars)
    return EngineRun("ref", [dataclasses.asdict(r) for r in res.trades],
                     [(int(t), float(e)) for t, e in res.equity_curve], float(res.final_balance),
                     metrics={k: v for k, v in res.metrics.items() if not isinstance(v, dict)})


def sim_runs(yaml_path: Path | None, inputs: EngineInputs, run: RunParams = RunParams(), *,
             sweep_paths: Sequence[str] = (), sweep_codes: np.ndarray | None = None,
             backend: str = "cpu", record_capacity: int = 4096, grow: bool = True) -> list[EngineRun]:
    """gpu_sim on every sweep row (one run without a sweep), one launch.

    With ``grow`` (default) a launch in which any config overflowed its record buffer is repeated
    once with a capacity that fits the largest count (the kernel keeps counting past capacity), so
    parity compares complete logs; ``grow=False`` keeps the OVERFLOW verdict (D44d).
    """
    from gpu_sim.runner import run_yaml
    from gpu_sim.simulate_cpu import RunParams as SimRunParams

    sim_run = SimRunParams(initial_balance=run.initial_balance, lookback=run.lookback,
                           taker_fee_bps=run.taker_fee_bps, from_ts=run.from_ts, to_ts=run.to_ts,
                           allow_missing_sub_bars=run.allow_missing_sub_bars)
    def launch(capacity: int):
        return run_yaml(yaml_path, inputs.main, inputs.sub_bars, inputs.funding, sim_run,
                        mode=run.strategy_mode, run_mode=run.run_mode, sweep_paths=sweep_paths,
                        sweep_codes=sweep_codes, backend=backend, record_capacity=capacity)

    res = launch(record_capacity)
    if grow and res.overflow.any():  # D44d: an overflowed config is re-run with a buffer that fits
        res = launch(int(res.n_records.max()) + 64)
    n = res.metrics.shape[0]
    return [EngineRun(backend, res.records(c), res.equity_curve(c), float(res.metrics_of(c)["final_balance"]),
                      bool(res.overflow[c]), metrics=_sim_metrics(res.metrics_of(c))) for c in range(n)]


SIM_ONLY_METRICS = ("n_records", "records_overflow", "n_equity_samples", "total_funding")


def _sim_metrics(m: dict) -> dict:
    """gpu_sim's metrics minus its buffer bookkeeping (``ruined`` as a bool like engine_ref's)."""
    out = {k: v for k, v in m.items() if k not in SIM_ONLY_METRICS}
    if "ruined" in out:
        out["ruined"] = bool(out["ruined"])
    return out
