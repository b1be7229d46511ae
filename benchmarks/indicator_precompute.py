"""Speed of gpu_sim's indicator precompute (prints, asserts nothing).

Usage: ``python benchmarks/indicator_precompute.py [--symbols 50] [--days 365] [--sets 40] [--repeat 3]``.

1. Compile time, each in a fresh process with an empty then a warm ``NUMBA_CACHE_DIR``: the first
   call (1 set × 1 tiny symbol) on a cold cache compiles; on a warm cache it loads ``cache=True`` code.
2. Throughput in this process (compiled beforehand): ``--sets`` distinct window tuples drawn from the
   full_144v grids (half with the StochRSI filter on) over ``--symbols`` synthetic symbols of ``--days``
   hourly bars; reports sets/s and symbol-bars/s (sets × Σ bars / s), best of ``--repeat``, plus the
   size of ``ind``. NUMBA_NUM_THREADS sets the thread count (default: all cores).
"""
from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

_CHILD = r"""
import time
t0 = time.perf_counter()
import numpy as np
from gpu_sim.indicator_sets import compute_indicators
from gpu_sim.market_arrays import pack_market
t_import = time.perf_counter() - t0
c = np.linspace(100.0, 110.0, 64)
m = pack_market({"BTC": {"t": np.arange(64, dtype=np.int64), "o": c, "h": c + 1, "l": c - 1, "c": c, "v": c}})
w = np.array([[20, 50, 200, 14, 14, 14, 20, 30, 14, 3, 3, 20, 5, 50, 20, 1]], dtype=np.int64)
t1 = time.perf_counter()
compute_indicators(w, m.main)
print(f"{t_import:.3f} {time.perf_counter() - t1:.3f}")
"""


def compile_times() -> tuple[str, str]:
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "NUMBA_CACHE_DIR": cache, "PYTHONPATH": str(REPO)}
        runs = [subprocess.run([sys.executable, "-c", _CHILD], env=env, capture_output=True, text=True, cwd=REPO)
                for _ in range(2)]
    return tuple(r.stdout.strip() if r.returncode == 0 else "error: " + r.stderr[-500:] for r in runs)


def window_sets(n_sets: int, seed: int) -> np.ndarray:
    from gpu_sim.ind_fields import WINDOW_PATHS
    from harness.sweep_spec import load_sweep_spec

    grids = {a.path: a.values for a in load_sweep_spec(REPO / "sweeps" / "full_144v.yaml").axes}
    rng = random.Random(seed)
    rows: set[tuple[int, ...]] = set()
    while len(rows) < n_sets:
        row = [int(rng.choice(grids[p])) for p in WINDOW_PATHS[:-1]] + [len(rows) % 2]
        if row[-1] == 0:
            row[8:11] = [0, 0, 0]  # canonical form: StochRSI off (indicator_sets docstring)
        rows.add(tuple(row))
    return np.array(sorted(rows), dtype=np.int64)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--symbols", type=int, default=50)
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--sets", type=int, default=40)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)

    cold, warm = compile_times()
    print(f"first call, cold cache  [import s, call s]: {cold}")
    print(f"first call, warm cache  [import s, call s]: {warm}")

    import numba

    from gpu_sim.indicator_sets import compute_indicators
    from gpu_sim.market_arrays import pack_inputs
    from harness.data import synth_market
    from harness.engine_inputs import engine_inputs

    t0 = time.perf_counter()
    market = pack_inputs(engine_inputs(synth_market(args.symbols, args.days, seed=7, sub_intervals=(), funding=False)))
    print(f"synthetic market: {args.symbols} symbols x {args.days} days, {int(market.main.n_bars.sum())} bars "
          f"({time.perf_counter() - t0:.1f} s)")
    windows = window_sets(args.sets, seed=1)
    compute_indicators(windows[:1], market.main)  # compile / load
    shape = (len(windows), len(market.symbols), market.main.max_bars, 32)
    out = np.empty(shape)
    out.fill(0.0)  # touch the pages outside the timing
    best = float("inf")
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        compute_indicators(windows, market.main, out=out)
        best = min(best, time.perf_counter() - t0)
    sym_bars = len(windows) * int(market.main.n_bars.sum())
    print(f"threads {numba.get_num_threads()}: {len(windows)} sets in {best:.3f} s -> "
          f"{len(windows) / best:.1f} sets/s, {sym_bars / best / 1e6:.2f} M symbol-bars/s; "
          f"ind {out.nbytes / 2**30:.2f} GiB {shape}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
