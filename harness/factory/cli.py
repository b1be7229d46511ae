"""argparse subcommands ``sweep``, ``promote`` and ``factory`` (wired by harness/cli.py).

    driftgate sweep   --spec sweeps/full_144v.yaml --profile smoke|daily|weekly|deep [--trials N]
                      [--sampler tpe|cmaes|qmc|random|optuna-tpe] [--backend ref|cpu|cuda|toy]
                      [--storage URL] [--seed S] [--out RUN_DIR] --candles PATH
                      [--cluster local:N|tcp://HOST:PORT] [--in-flight K]
    driftgate promote RUN_DIR
    driftgate factory --profile P [--out RUN_DIR] --candles PATH   (= sweep + promote)

Explicit values always win over the profile's (factory-and-audits.md §2.2).
"""
from __future__ import annotations

import argparse
from pathlib import Path

from harness.factory.evaluators import default_workers
from harness.factory.profiles import PROFILES, SHORTLIST_MODES
from harness.factory.samplers import SAMPLERS

BACKENDS = ("ref", "cpu", "cuda", "toy")


def _sweep_args(p: argparse.ArgumentParser, need_spec: bool) -> None:
    p.add_argument("--profile", default="smoke", choices=sorted(PROFILES))
    p.add_argument("--spec", default=None, help="sweep spec (default: the profile's, sweeps/full_144v.yaml)"
                   if not need_spec else "sweep spec")
    p.add_argument("--candles", required=True, help="market data (.sqlite/.db, .csv or .json)")
    p.add_argument("--config", default=None, help="base strategy YAML (default config/strategy_overrides.yaml)")
    p.add_argument("--trials", type=int, help="sweep trials incl. the baseline (default: profile)")
    p.add_argument("--sampler", choices=SAMPLERS, help="default: profile (tpe)")
    p.add_argument("--batch-size", type=int, help="trials per sampler batch / evaluator launch (default: profile)")
    p.add_argument("--backend", default="ref", choices=BACKENDS,
                   help="ref = engine_ref (exact, slow); cpu|cuda = gpu_sim; toy = loop tests only")
    p.add_argument("--storage", help="optuna storage URL (default: journal file in the run dir; "
                   "sqlite:///..., postgresql://...)")
    p.add_argument("--seed", type=int)
    p.add_argument("--cluster", help="fan batches out on Dask: local:N (N worker processes here) or "
                   "tcp://SCHEDULER:PORT (see README 'Scaling out'); default: this process")
    p.add_argument("--worker-threads", type=int, help="--cluster local:N only: numba threads per worker "
                   "(default: cores // N)")
    p.add_argument("--stream", default="main", help="this sweep's stream in a shared study (several sweep "
                   "processes, e.g. on different machines, each their own stream and seed; one writer per stream)")
    p.add_argument("--study", default="driftgate-sweep", help="optuna study name in the storage")
    p.add_argument("--in-flight", type=int, help="sampler batches out at once (default: 2 x workers on a "
                   "cluster, else 1; recorded, a resume keeps it)")
    p.add_argument("--workers", type=int, default=default_workers(), help="processes for engine_ref work")
    p.add_argument("--out", help="run directory (default runs/<UTC date>/<run id>/); an existing one resumes")
    p.add_argument("--runs-root", default="runs")
    p.add_argument("--shortlist-modes", help=f"comma list of {','.join(SHORTLIST_MODES)}")
    p.add_argument("--shortlist-per-mode", type=int)
    p.add_argument("--shortlist-max-rank", type=int)
    p.add_argument("--folds", type=int, help="walk-forward folds (default: profile)")
    p.add_argument("--initial-balance", type=float, help="default: the spec's")
    p.add_argument("--lookback", type=int, help="default: the spec's")
    p.add_argument("--taker-fee-bps", type=float, default=3.5)
    p.add_argument("--from-ts", type=int)
    p.add_argument("--to-ts", type=int)
    p.add_argument("--no-progress", action="store_true")


def _job(args: argparse.Namespace):
    from harness.factory.pipeline import DEFAULT_BASE, SweepJob
    from harness.factory.profiles import resolve_profile
    from harness.factory.run_dir import new_run_dir
    from harness.replay import RunParams
    from harness.schema import REPO_ROOT
    from harness.sweep_spec import load_sweep_spec

    modes = tuple(args.shortlist_modes.split(",")) if args.shortlist_modes else None
    prof = resolve_profile(args.profile, trials=args.trials, sampler=args.sampler, batch_size=args.batch_size,
                           seed=args.seed, shortlist_modes=modes, shortlist_per_mode=args.shortlist_per_mode,
                           shortlist_max_rank=args.shortlist_max_rank, folds=args.folds)
    spec_path = Path(args.spec) if args.spec else REPO_ROOT / prof.sweep_spec
    spec = load_sweep_spec(spec_path)
    params = RunParams(initial_balance=args.initial_balance if args.initial_balance is not None else spec.initial_balance,
                       lookback=args.lookback if args.lookback is not None else spec.lookback,
                       taker_fee_bps=args.taker_fee_bps, from_ts=args.from_ts, to_ts=args.to_ts)
    run_dir = Path(args.out) if args.out else new_run_dir(Path(args.runs_root))
    return SweepJob(run_dir, prof, spec_path, Path(args.candles), Path(args.config) if args.config else DEFAULT_BASE,
                    args.backend, args.storage, max(1, args.workers), params, not args.no_progress, args.profile,
                    args.cluster, args.in_flight, args.stream, args.study, args.worker_threads)


def _print_sweep(job, res) -> None:
    t = res.timings
    best = int(res.scores.argmax()) if len(res.scores) else -1
    share = t["sampler"] / t["total"] * 100 if t.get("total") else 0.0
    print(f"sweep: {len(res.index)} trials ({res.new_trials} new, {res.resumed_trials} resumed, {len(res.errors)} "
          f"did not load) in {t['total']:.1f} s — {res.new_trials / max(t['total'], 1e-9):.1f} trials/s; "
          f"sampler {share:.1f} % of wall time")
    if best >= 0:
        print(f"best score {res.scores[best]:.6g} at trial {int(res.index[best])}")
    ex = res.executor_stats
    if ex.get("executor") == "dask":
        print(f"cluster {ex['cluster']}: {ex['workers_at_start']} workers, {ex['batches']} batches "
              f"(by worker {sorted(ex['by_worker'].values(), reverse=True)}), in flight {ex['in_flight']}, "
              f"workers busy {ex['busy_fraction']:.0%}, "
              f"{ex['workers_lost']} workers lost, {ex['resubmitted']} batches resubmitted")
    print(f"run dir: {job.run_dir}  storage: {res.storage_url}")


def cmd_sweep(args: argparse.Namespace) -> int:
    from harness.factory.pipeline import run_sweep_job

    job = _job(args)
    res = run_sweep_job(job)
    _print_sweep(job, res)
    return 0


def _print_promotion(out) -> None:
    roles = out.manifest["roles"]
    for role in ("primary", "fallback", "conservative"):
        r = roles[role]
        print(f"  {role:12s} " + (r["reason"] if r.get("skipped") else f"{r['candidate']} {r['config_id'][:12]}"))
    print(f"report: {out.report}  ({out.seconds:.1f} s)")


def cmd_promote(args: argparse.Namespace) -> int:
    from harness.factory.pipeline import promote_run

    out = promote_run(Path(args.run_dir), workers=args.workers, audit_dir=Path(args.audit_out) if args.audit_out else None)
    _print_promotion(out)
    return 0


def cmd_factory(args: argparse.Namespace) -> int:
    from harness.factory.pipeline import promote_run, run_sweep_job

    job = _job(args)
    res = run_sweep_job(job)
    _print_sweep(job, res)
    out = promote_run(job.run_dir, workers=job.workers, audit_dir=Path(args.audit_out) if args.audit_out else None)
    _print_promotion(out)
    return 0


def add_factory_parsers(subparsers) -> None:
    """Register ``sweep``, ``promote`` and ``factory`` on a ``add_subparsers()`` object."""
    sw = subparsers.add_parser("sweep", help="optuna sweep of a spec into a run directory (resumable)")
    _sweep_args(sw, need_spec=False)
    sw.set_defaults(func=cmd_sweep)
    pr = subparsers.add_parser("promote", help="shortlist -> replay -> validate -> parity gate -> promote")
    pr.add_argument("run_dir")
    pr.add_argument("--workers", type=int, default=None, help="processes for candidate replays (default: the sweep's)")
    pr.add_argument("--audit-out", default="audit_reports", help="copy promotion.md + plots here ('' = don't)")
    pr.set_defaults(func=cmd_promote)
    fa = subparsers.add_parser("factory", help="sweep + promote in one run directory")
    _sweep_args(fa, need_spec=False)
    fa.add_argument("--audit-out", default="audit_reports", help="copy promotion.md + plots here ('' = don't)")
    fa.set_defaults(func=cmd_factory)
