"""Scale-out throughput: sweep trials/s in this process vs 1 and 2 local Dask workers (not a test).

Each mode runs the same sweep (gpu_sim ``cpu`` backend, shipped YAML with 3m sub-bars, on a seeded
synthetic market, ``full_144v``
space, tpe, the same seed, batch size and ``in_flight``, compact records in a journal file) in a
fresh subprocess, so numba's thread count is set per mode:

* ``inline-1t`` — the evaluator in the sweep process, ``NUMBA_NUM_THREADS=1`` (one core);
* ``inline``    — the evaluator in the sweep process, numba on every core (the embedded default);
* ``local:1-1t`` / ``local:2-1t`` — 1 and 2 Dask workers with one numba thread each (worker scaling:
  the figure the issue asks for, expect ~2x on 2 cores);
* ``local:1`` — one Dask worker with ``NUMBA_NUM_THREADS = cores`` (what ``--cluster local:1`` does).

Printed per mode: wall seconds of the sweep (cluster start and each worker's first build of the
resident evaluator included), trials/s, trials/s over the steady part (after the first batch came
back), how busy the workers were (evaluator seconds / span / workers), plus whether the recorded
trials equal the first mode's bit for bit.

    .venv/bin/python benchmarks/cluster_speed.py [--symbols 20] [--days 90] [--trials 4097] [--batch 256]
        [--in-flight 4] [--modes inline-1t,local:1-1t,local:2-1t,inline,local:1]
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CHILD = r"""
import json, sys, time
from pathlib import Path
sys.path.insert(0, {root!r})
import numpy as np
from harness.factory.cluster import DaskExecutor, EvaluatorSpec
from harness.factory.executors import InlineExecutor
from harness.factory.space import make_space
from harness.factory.sweep import SweepSettings, run_sweep
from harness.sweep_spec import load_sweep_spec

space = make_space(load_sweep_spec(Path({spec!r})))
spec = EvaluatorSpec("cpu", tuple(space.paths), {candles!r}, {base!r}, (("lookback", 200),))
mode = {mode!r}
t0 = time.perf_counter()
ex = InlineExecutor(spec.build()) if mode.startswith("inline") else \
    DaskExecutor(mode.split("-")[0], spec, numba_threads=1 if mode.endswith("-1t") else None)
t_start = time.perf_counter() - t0
first = []
class Timed:
    def __init__(self, ex): self.ex, self.workers = ex, ex.workers
    def submit(self, k, c): self.ex.submit(k, c)
    def wait(self):
        r = self.ex.wait(); first.append(time.perf_counter()); return r
    def describe(self): return self.ex.describe()
    def stats(self): return self.ex.stats()
    def close(self): self.ex.close()
t1 = time.perf_counter()
res = run_sweep(space, Timed(ex), SweepSettings(Path({run!r}), {trials}, "tpe", 11, {batch}, progress=False,
                                               base_yaml=Path({base!r}), in_flight={in_flight}))
t_end = time.perf_counter()
ex.close()
np.save(Path({run!r}) / "metrics.npy", res.metrics)
steady_trials = {trials} - 1 - {batch}
print(json.dumps({{"start_s": t_start, "sweep_s": t_end - t1, "trials": len(res.index),
                   "steady_s": t_end - first[1] if len(first) > 1 else float("nan"), "steady_trials": steady_trials,
                   "stats": res.executor_stats, "timings": res.timings}}))
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--symbols", type=int, default=20)
    ap.add_argument("--days", type=int, default=90)
    ap.add_argument("--trials", type=int, default=4097)
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--in-flight", type=int, default=4)
    ap.add_argument("--modes", default="inline-1t,local:1-1t,local:2-1t,inline,local:1")
    args = ap.parse_args()

    import numpy as np
    from tabulate import tabulate

    from harness.data import synth_market, write_market

    base = ROOT / "config" / "strategy_overrides.yaml"
    spec = ROOT / "sweeps" / "full_144v.yaml"
    cores = os.cpu_count() or 1
    with tempfile.TemporaryDirectory(prefix="driftgate-cluster-bench-") as tmp:
        tmp = Path(tmp)
        t = time.perf_counter()
        candles = write_market(synth_market(n_symbols=args.symbols, days=args.days, seed=3, sub_intervals=("3m",)),
                               tmp / "candles.sqlite")
        print(f"data: {args.symbols} symbols x {args.days} days of 1h + 3m sub-bars (synthetic, seed 3), "
              f"{time.perf_counter() - t:.1f} s; {cores} cores; sweep {args.trials} trials, batch {args.batch}, "
              f"in flight {args.in_flight}, tpe seed 11, backend cpu")
        rows, ref = [], None
        for k, mode in enumerate(args.modes.split(",")):
            run = tmp / f"{k}_{mode.replace(':', '_').replace('-', '_')}"
            run.mkdir()
            env = dict(os.environ)
            env["NUMBA_NUM_THREADS"] = "1" if mode == "inline-1t" else str(cores)
            code = CHILD.format(root=str(ROOT), spec=str(spec), candles=str(candles), base=str(base), mode=mode,
                                run=str(run), trials=args.trials, batch=args.batch, in_flight=args.in_flight)
            out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
            if out.returncode != 0:
                print(f"{mode}: failed\n{out.stderr[-3000:]}")
                continue
            r = json.loads(out.stdout.strip().splitlines()[-1])
            m = np.load(run / "metrics.npy")
            same = "-" if ref is None else ("yes" if np.array_equal(m, ref, equal_nan=True) else "NO")
            ref = m if ref is None else ref
            rows.append([mode, f"{r['start_s']:.1f}", f"{r['sweep_s']:.1f}", f"{(r['trials'] - 1) / r['sweep_s']:.0f}",
                         f"{r['steady_trials'] / r['steady_s']:.0f}",
                         f"{r['stats']['busy_fraction']:.0%}" if "busy_fraction" in r["stats"] else "-",
                         list(r["stats"].get("by_worker", {}).values()) or "-", same])
        print(tabulate(rows, headers=["mode", "start s", "sweep s", "trials/s", "steady trials/s",
                                      "workers busy", "batches by worker", "same trials"]))


if __name__ == "__main__":
    main()
