"""Sweep loop speed and optimiser quality (not a test; prints measured figures).

1. Throughput: the full sweep loop (ask -> evaluate -> optuna journal record -> tell) at 2,000 and
   20,000 trials per sampler, on the full_144v space (148 axes): trials/s and the share of wall time
   spent in the sampler (target <= 20 % at the daily profile's scale).
2. Quality: best sweep score after N trials per sampler vs random search at equal N, 5 seeds, at the
   smoke profile's batch (256), on the evaluator's score ("raw") and on a plateau version of it (the score
   floored to steps of ``--plateau-step``: wide flat regions, like a backtest where many
   configurations trade identically); plus the unique-trial fraction (share of trials whose index
   row was not evaluated before; the batched samplers dedup, so it is 100 % until the space is
   exhausted) and the duplicates the sampler replaced.

The evaluator is the analytic ``toy`` stand-in (``--eval-ms`` adds a per-trial cost to imitate a
simulator) unless ``--backend cpu|cuda --candles PATH`` runs gpu_sim on real data.

    .venv/bin/python benchmarks/sweep_speed.py [--trials 2000,20000] [--samplers tpe,cmaes,qmc,random]
        [--batch 1024] [--eval-ms 0] [--quality-trials 2000] [--quality-batch 256] [--seeds 5]
        [--objectives raw,plateau] [--plateau-step 250] [--optuna-tpe-trials 600] [--in-flight 1,4,8]
    .venv/bin/python benchmarks/sweep_speed.py --backend cpu --candles data/parity6x60.sqlite --skip-throughput \
        --samplers tpe,random --seeds 3        # quality on the real objective (minutes per run)
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from harness.factory.evaluators import SimEvaluator, ToyEvaluator  # noqa: E402
from harness.factory.space import make_space  # noqa: E402
from harness.factory.sweep import SweepSettings, run_sweep  # noqa: E402
from harness.schema import REPO_ROOT  # noqa: E402
from harness.sweep_spec import load_sweep_spec  # noqa: E402

BASE = REPO_ROOT / "config" / "strategy_overrides.yaml"


def evaluator(args, space, seed: int):
    if args.backend == "toy":
        return ToyEvaluator(space.n_axes, seed=seed, seconds_per_trial=args.eval_ms / 1000.0)
    return SimEvaluator(space.paths, Path(args.base) if args.base else BASE, Path(args.candles), backend=args.backend)


class PlateauEvaluator:
    """An evaluator with ``total_pnl`` floored to steps of ``step`` (ties over wide regions)."""

    def __init__(self, inner, step: float) -> None:
        self.inner, self.step, self.metric_names = inner, float(step), inner.metric_names

    def evaluate(self, codes):
        m = self.inner.evaluate(codes)
        m[:, 0] = np.floor(m[:, 0] / self.step) * self.step
        return m

    def errors(self):
        return {}

    def describe(self):
        return {**self.inner.describe(), "plateau_step": self.step}


def unique_fraction(res) -> float:
    rows = [np.asarray(r).tobytes() for r in res.idx if r is not None]
    return len(set(rows)) / max(len(rows), 1)


def one(args, space, sampler: str, trials: int, seed: int, eval_seed: int, batch: int | None = None,
        objective: str = "raw", in_flight: int = 1):
    ev = evaluator(args, space, eval_seed)
    if objective not in ("raw", "plateau"):
        raise SystemExit(f"--objectives: unknown {objective!r}; use raw, plateau")
    if objective == "plateau":
        ev = PlateauEvaluator(ev, args.plateau_step)
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        res = run_sweep(space, ev, SweepSettings(
            Path(tmp), trials, sampler=sampler, seed=seed, batch_size=batch or args.batch, progress=False,
            base_yaml=BASE, in_flight=in_flight))
        wall = time.perf_counter() - t0
    return res, wall


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--trials", default="2000,20000")
    ap.add_argument("--samplers", default="tpe,cmaes,qmc,random,optuna-tpe")
    ap.add_argument("--batch", type=int, default=1024)
    ap.add_argument("--eval-ms", type=float, default=0.0, help="toy evaluator cost per trial (ms)")
    ap.add_argument("--backend", default="toy", choices=("toy", "cpu", "cuda"))
    ap.add_argument("--candles")
    ap.add_argument("--base")
    ap.add_argument("--quality-trials", type=int, default=2000)
    ap.add_argument("--quality-batch", type=int, default=256, help="batch of the quality runs (smoke: 256)")
    ap.add_argument("--objectives", default=None,
                    help="comma list of raw (the evaluator's score), plateau (default: raw,plateau for toy, raw else)")
    ap.add_argument("--plateau-step", type=float, default=250.0, help="pnl step of the plateau objective")
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--optuna-tpe-trials", type=int, default=600, help="cap for stock optuna TPE (slow)")
    ap.add_argument("--in-flight", default="1", help="comma list of sampler look-ahead depths for the quality "
                    "runs (a cluster's --in-flight; cmaes only runs at 1)")
    ap.add_argument("--skip-quality", action="store_true")
    ap.add_argument("--skip-throughput", action="store_true")
    args = ap.parse_args()
    space = make_space(load_sweep_spec(REPO_ROOT / "sweeps" / "full_144v.yaml"))
    samplers = args.samplers.split(",")
    print(f"space: {space.n_axes} axes ({len(space.free)} free), batch {args.batch}, evaluator {args.backend}"
          f"{f' +{args.eval_ms} ms/trial' if args.backend == 'toy' else ''}")
    print(f"{'sampler':11s} {'trials':>7s} {'wall s':>8s} {'trials/s':>9s} {'sampler %':>9s} {'storage %':>9s} "
          f"{'eval %':>7s} {'sampler µs/trial':>16s} {'unique %':>8s}")
    for n in ([] if args.skip_throughput else (int(x) for x in args.trials.split(","))):
        for s in samplers:
            nn = min(n, args.optuna_tpe_trials) if s == "optuna-tpe" else n
            res, wall = one(args, space, s, nn, 42, 0)
            t = res.timings
            print(f"{s:11s} {nn:7d} {wall:8.2f} {nn / wall:9.1f} {100 * t['sampler'] / wall:9.2f} "
                  f"{100 * t['storage'] / wall:9.2f} {100 * t['evaluate'] / wall:7.2f} "
                  f"{1e6 * t['sampler'] / nn:16.1f} {100 * unique_fraction(res):8.2f}", flush=True)
    if args.skip_quality:
        return
    n, qb = args.quality_trials, args.quality_batch
    objectives = args.objectives or ("raw,plateau" if args.backend == "toy" else "raw")
    for obj in objectives.split(","):
        seeds = f"evaluator seeds 0..{args.seeds - 1}, " if args.backend == "toy" else ""
        print(f"\nquality ({obj} objective): best sweep score after {n} trials, batch {qb}, {seeds}sampler seeds "
              f"1000..{999 + args.seeds}; higher is better")
        print(f"{'sampler':11s} " + " ".join(f"{'seed ' + str(k):>10s}" for k in range(args.seeds))
              + f" {'mean':>10s} {'wins vs random':>15s} {'unique %':>9s} {'dups replaced':>13s}")
        base = {}
        depths = [int(x) for x in args.in_flight.split(",")]
        rows = [(x, d) for x in ["random"] + [x for x in samplers if x not in ("random", "optuna-tpe")]
                for d in depths if d == 1 or x != "cmaes"]
        for s, depth in rows:
            bests, uniq, dups = [], [], []
            for k in range(args.seeds):
                res, _ = one(args, space, s, n, 1000 + k, k, qb, obj, depth)
                bests.append(float(np.max(res.scores)))
                uniq.append(unique_fraction(res))
                dups.append(res.sampler_meta.get("dedup", {}).get("duplicates", 0))
            if s == "random" and depth == 1:
                base = dict(enumerate(bests))
            wins = sum(b > base[k] for k, b in enumerate(bests))
            label = s if depth == 1 else f"{s} K={depth}"
            print(f"{label:11s} " + " ".join(f"{b:10.1f}" for b in bests) + f" {np.mean(bests):10.1f} "
                  f"{wins:>13d}/{args.seeds} {100 * np.mean(uniq):9.2f} {np.mean(dups):13.1f}", flush=True)


if __name__ == "__main__":
    main()
