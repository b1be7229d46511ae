"""gpu_sim vs engine_ref throughput (not a test; prints measured figures).

In one run, on the same synthetic data and the production config (config/strategy_overrides.yaml,
entry sub-bars off, exit sub-bars 3m or off):

* engine_ref: config-symbol-bars/s replaying ONE config;
* gpu_sim cpu backend: config-symbol-bars/s over a batch of K configs (the production YAML plus
  sweep rows of exit/sizing axes — indicator windows fixed, so one indicator set), metrics only; the
  time includes the indicator precompute and the launch's shared tables (compile/cache loads are
  warmed outside it, like engine_ref's imports);
* their ratio (issue target ≥ 500×), with and without 3m exit sub-bars; on a shared machine the wall
  ratio moves with the other load, so the CPU-time ratio is printed too (engine_ref's CPU seconds per
  config × configs ÷ gpu_sim's CPU seconds over all threads × cores: the ratio on idle cores);
* allocated memory per 10,000 configs (state + outputs; with and without trade-record buffers);
* kernel compile time: first call in a fresh source tree (cold) and from the on-disk cache.

    .venv/bin/python benchmarks/sim_speed.py [--symbols 20] [--days 90] [--configs 2000] [--no-compile]
"""
from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from engine_ref.config_loader import load_config_set  # noqa: E402
from engine_ref.engine import run_backtest  # noqa: E402
from gpu_sim.config_loader import load_params  # noqa: E402
from gpu_sim.indicator_sets import compute_indicators, dedup_sets  # noqa: E402
from gpu_sim.market_arrays import pack_inputs  # noqa: E402
from gpu_sim.simulate_cpu import RunParams, allocate, prepare_run, run_kernel  # noqa: E402
from harness.data import synth_market  # noqa: E402
from harness.engine_inputs import engine_inputs  # noqa: E402
from harness.yamlio import dump_yaml, read_yaml, write_text_atomic  # noqa: E402

SWEEP = {  # exit / sizing axes only: every config shares the production indicator set
    "trade.sl_atr_mult": [1.0, 1.5, 2.0, 2.5, 3.0], "trade.tp_atr_mult": [3.0, 4.0, 5.0, 6.0, 8.0],
    "trade.trailing_distance_atr": [0.3, 0.5, 0.8, 1.1], "trade.allocation_pct": [0.05, 0.1, 0.2],
    "trade.enable_partial_tp": [0.0, 1.0], "trade.leverage_medium": [2.0, 3.0, 5.0],
}


def production_yaml(folder: Path, sub: str | None) -> Path:
    doc = read_yaml(REPO / "config" / "strategy_overrides.yaml")
    doc["global"]["engine"]["entry_interval"] = ""
    doc["global"]["engine"]["exit_interval"] = sub or ""
    return write_text_atomic(folder / f"bench-{sub or 'nosub'}.yaml", dump_yaml(doc))


def codes(n: int, seed: int = 0) -> np.ndarray:
    rng = random.Random(seed)
    return np.array([[rng.choice(v) for v in SWEEP.values()] for _ in range(n)], dtype=np.float64)


def bench_case(sub: str | None, args: argparse.Namespace, folder: Path) -> dict:
    md = synth_market(n_symbols=args.symbols, days=args.days, seed=7, sub_intervals=(sub,) if sub else (),
                      funding=True)
    inputs = engine_inputs(md, (sub,) if sub else (), funding=True)
    yaml_path = production_yaml(folder, sub)
    bars = sum(len(a["t"]) for a in inputs.main.values())
    cfg = load_config_set(yaml_path, md.symbols())
    t0, c0 = time.perf_counter(), time.process_time()
    run_backtest(inputs.main, cfg, sub_bars=inputs.sub_bars or None, funding=inputs.funding, lookback=200)
    t_ref, c_ref = time.perf_counter() - t0, time.process_time() - c0
    batch = load_params(yaml_path, md.symbols(), sweep_paths=tuple(SWEEP), sweep_codes=codes(args.configs))
    market = pack_inputs(inputs)
    k = prepare_run(market, dict(batch.engine), RunParams(lookback=200))
    sets = dedup_sets(batch)
    compute_indicators(sets.windows, market.main, sets.needed)  # warm (compile or cache load) outside the timing
    t0, c0 = time.perf_counter(), time.process_time()
    ind = compute_indicators(sets.windows, market.main, sets.needed)
    t_ind, c_ind = time.perf_counter() - t0, time.process_time() - c0
    run_kernel(batch.params[:2], batch.portfolio[:2], sets.set_ids[:2], ind, k, record_capacity=0,
               equity_curve=False)  # warm (compile or cache load) outside the timing
    t0, c0 = time.perf_counter(), time.process_time()
    res = run_kernel(batch.params, batch.portfolio, sets.set_ids, ind, k, record_capacity=0, equity_curve=False)
    t_sim, c_sim = time.perf_counter() - t0, time.process_time() - c0
    mem = {cap: sum(a.nbytes for a in allocate(batch.params[:1000], batch.portfolio[:1000],
                                               sets.set_ids[:1000], ind, k, record_capacity=cap,
                                               equity_curve=False).values() if isinstance(a, np.ndarray))
           for cap in (0, 4096)}
    ref_rate, sim_rate = bars / t_ref, args.configs * bars / (t_sim + t_ind)
    cpu_ratio = args.configs * c_ref / (c_sim + c_ind) * (os.cpu_count() or 1)
    return {"sub": sub or "off", "bars": bars, "t_ref": t_ref, "t_sim": t_sim, "t_ind": t_ind,
            "ref_rate": ref_rate, "sim_rate": sim_rate, "ratio": sim_rate / ref_rate, "cpu_ratio": cpu_ratio,
            "c_ref": c_ref, "c_sim": c_sim + c_ind,
            "trades": float(res.metrics_of(0)["total_trades"]), "mem0": mem[0] * 10, "mem4096": mem[4096] * 10,
            "sets": len(sets.windows)}


COMPILE_SCRIPT = """
import time; t0 = time.perf_counter()
from harness.data import synth_market
from harness.engine_inputs import engine_inputs
from gpu_sim.runner import run_yaml
md = synth_market(n_symbols=2, days=3, seed=1, sub_intervals=('3m',))
i = engine_inputs(md, ('3m',))
run_yaml(None, i.main, i.sub_bars, None)
print(time.perf_counter() - t0)
"""


def compile_times() -> tuple[float, float]:
    """Seconds to first result in a fresh copy of the tree (cold cache), then again (cached)."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "tree"
        for name in ("gpu_sim", "harness", "engine_ref", "config", "sweeps"):
            shutil.copytree(REPO / name, root / name, ignore=shutil.ignore_patterns("__pycache__"))
        env = dict(os.environ, PYTHONPATH=str(root))
        runs = [float(subprocess.run([sys.executable, "-c", COMPILE_SCRIPT], cwd=root, env=env, check=True,
                                     capture_output=True, text=True).stdout.strip().splitlines()[-1])
                for _ in range(2)]
    return runs[0], runs[1]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--symbols", type=int, default=20)
    ap.add_argument("--days", type=int, default=90)
    ap.add_argument("--configs", type=int, default=2000)
    ap.add_argument("--no-compile", action="store_true")
    args = ap.parse_args()
    print(f"sim_speed: {args.symbols} symbols x {args.days} days of 1h, production config, "
          f"{args.configs} gpu_sim configs, {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory() as tmp:
        for sub in (None, "3m"):
            r = bench_case(sub, args, Path(tmp))
            print(f"  exit sub-bars {r['sub']:>3}: engine_ref {r['ref_rate']:>12,.0f} config-symbol-bars/s "
                  f"({r['t_ref']:.2f} s for 1 config)")
            print(f"                    gpu_sim cpu {r['sim_rate']:>12,.0f} config-symbol-bars/s "
                  f"({r['t_sim']:.2f} s kernel + {r['t_ind']:.2f} s indicators ({r['sets']} set) "
                  f"for {args.configs} configs)")
            print(f"                    ratio {r['ratio']:,.0f}x (target >= 500x); memory per 10,000 configs: "
                  f"{r['mem0'] / 2**20:,.0f} MiB metrics-only, {r['mem4096'] / 2**20:,.0f} MiB with "
                  f"4,096-record buffers")
            print(f"                    cpu time: engine_ref {r['c_ref']:.2f} s, gpu_sim {r['c_sim']:.2f} s (all "
                  f"threads); ratio if spread over {os.cpu_count()} idle cores {r['cpu_ratio']:,.0f}x")
    if not args.no_compile:
        cold, warm = compile_times()
        print(f"  kernel compile: first call {cold:.1f} s (empty cache), cached {warm:.1f} s "
              f"(tiny run incl. imports)")


if __name__ == "__main__":
    main()
