"""One factory run: ``sweep`` into a run directory, ``promote`` a run directory, or both.

``run.json`` carries every input the promotion needs (spec, base YAML, candles, run parameters,
profile), so ``promote RUN_DIR`` needs nothing else and re-running it reproduces the same
candidates, verdicts and promoted files.
"""
from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field
from pathlib import Path

from harness.errors import DriftgateError
from harness.factory.cluster import EvaluatorSpec
from harness.factory.evaluators import Evaluator
from harness.factory.executors import Executor, InlineExecutor
from harness.factory.gate import TradeParityFn
from harness.factory.profiles import Profile
from harness.factory.run_dir import copy_inputs, git_revision, read_meta, schema_hash, update_meta
from harness.factory.space import SearchSpace, make_space
from harness.factory.sweep import SweepResult, SweepSettings, load_sweep, run_sweep
from harness.replay import RunParams
from harness.schema import REPO_ROOT
from harness.sweep_spec import load_sweep_spec

DEFAULT_BASE = REPO_ROOT / "config" / "strategy_overrides.yaml"
BACKENDS = ("ref", "cpu", "cuda", "toy")


@dataclass
class SweepJob:
    run_dir: Path
    profile: Profile
    spec: Path
    candles: Path
    base_yaml: Path | None = DEFAULT_BASE
    backend: str = "ref"
    storage: str | None = None
    workers: int = 1
    params: RunParams = field(default_factory=RunParams)
    progress: bool = True
    requested_profile: str = ""
    cluster: str | None = None          # local:N | tcp://HOST:PORT (Dask); None = this process
    in_flight: int | None = None        # batches out at once (None: 2 x workers on a cluster, else 1)
    stream: str = "main"                # this sweep's stream in a shared study
    study: str = "driftgate-sweep"
    worker_threads: int | None = None   # local:N: numba threads per worker


def evaluator_spec(job: SweepJob, space: SearchSpace) -> EvaluatorSpec:
    """The picklable description every evaluator of this job is built from (here or on a worker)."""
    if job.backend not in BACKENDS and job.backend != "cudasim":
        raise DriftgateError(f"--backend {job.backend!r}: unknown; fix: one of {', '.join(BACKENDS)}")
    # absolute paths: a worker's working directory is its own (on another machine: the same path)
    return EvaluatorSpec(job.backend, tuple(space.paths), str(Path(job.candles).resolve()),
                         None if job.base_yaml is None else str(Path(job.base_yaml).resolve()),
                         tuple(sorted(dataclasses.asdict(job.params).items())),
                         workers=job.workers if not job.cluster else 1, toy_seed=job.profile.seed)


def make_evaluator(job: SweepJob, space: SearchSpace) -> Evaluator:
    return evaluator_spec(job, space).build()


def make_executor(job: SweepJob, space: SearchSpace) -> Executor:
    """``--cluster``: Dask workers; otherwise the evaluator in this process."""
    if job.cluster:
        from harness.factory.cluster import DaskExecutor

        return DaskExecutor(job.cluster, evaluator_spec(job, space), numba_threads=job.worker_threads)
    return InlineExecutor(make_evaluator(job, space))


def run_sweep_job(job: SweepJob, evaluator: Evaluator | None = None) -> SweepResult:
    """Create/resume the run directory's sweep; records run.json first."""
    spec = load_sweep_spec(job.spec)
    space = make_space(spec)
    # run parameters come from the spec unless given explicitly (the CLI passes the spec's values)
    run_dir = Path(job.run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    prof = job.profile
    meta = read_meta(run_dir)
    if not meta:
        update_meta(run_dir, run_id=run_dir.name, run_path=str(run_dir), created_utc=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                    git_revision=git_revision(), schema_sha256=schema_hash(),
                    inputs=copy_inputs(run_dir, job.base_yaml, job.spec, job.candles))
    update_meta(run_dir, profile={"requested": job.requested_profile or prof.name, **dataclasses.asdict(prof)},
                sweep={"spec": str(job.spec), "base_yaml": None if job.base_yaml is None else str(job.base_yaml),
                       "candles": str(job.candles), "backend": job.backend, "storage": job.storage,
                       "workers": job.workers, "cluster": job.cluster, "stream": job.stream,
                       "study": job.study, "sampler": prof.sampler, "seed": prof.seed,
                       "batch_size": prof.batch_size, "trials": prof.trials, "n_axes": space.n_axes,
                       "record_params": prof.record_params},
                run_params=dataclasses.asdict(job.params))
    ex = InlineExecutor(evaluator) if evaluator is not None else make_executor(job, space)
    try:
        res = run_sweep(space, ex, SweepSettings(run_dir, prof.trials, prof.sampler, prof.seed, prof.batch_size,
                                                 job.storage, prof.record_params, True, job.base_yaml, job.progress,
                                                 job.in_flight, job.stream, job.study),
                        extra_meta={"evaluator": ex.describe()})
    finally:
        ex.close()
    best = int(res.scores.argmax()) if len(res.scores) else -1
    update_meta(run_dir, sweep_result={
        "trials": int(len(res.index)), "new_trials": res.new_trials, "resumed_trials": res.resumed_trials,
        "invalid_trials": len(res.errors), "timings_s": res.timings, "sampler_meta": res.sampler_meta,
        "storage": res.storage_url, "executor": res.executor_stats, "best": None if best < 0 else {"sweep_index": int(res.index[best]),
                                                                   "score": float(res.scores[best])}})
    return res


@dataclass
class PromoteOutcome:
    manifest: dict
    candidates: list
    report: Path
    seconds: float


def promote_run(run_dir: Path, trade_parity: TradeParityFn | None = None, config_check=None,
                workers: int | None = None, audit_dir: Path | None = None) -> PromoteOutcome:
    """Shortlist -> candidates -> validation -> gate -> roles -> promoted_configs + reports."""
    from harness.factory.promote import PromoteSettings, decide, evaluate_candidates, shortlist, write_promoted
    from harness.factory.validate import ReplayContext
    from harness.reports.promotion_md import write_promotion_report

    t0 = time.perf_counter()
    run_dir = Path(run_dir)
    meta = read_meta(run_dir)
    if not meta.get("sweep"):
        raise DriftgateError(f"{run_dir}: no run.json with a sweep section; fix: run `driftgate sweep --out {run_dir}` first")
    sw, prof = meta["sweep"], meta["profile"]
    space = make_space(load_sweep_spec(sw["spec"]))
    base = None if sw["base_yaml"] is None else Path(sw["base_yaml"])
    params = RunParams(**meta["run_params"])
    res = load_sweep(space, run_dir, sw.get("storage"), sw.get("stream", "main"), sw.get("study", "driftgate-sweep"))
    ctx = ReplayContext(Path(sw["candles"]), params, base)
    cands = shortlist(res, space, base, ctx.symbols, run_dir / "configs", tuple(prof["shortlist_modes"]),
                      prof["shortlist_per_mode"], prof["shortlist_max_rank"], prof["candidate_min_trades"],
                      params.strategy_mode, params.run_mode)
    selected = [c for c in cands if c.selected]
    settings = PromoteSettings(prof["folds"], tuple(prof["stress_multipliers"]), prof["stress_reject_multiplier"],
                               prof["score_min_trades"], prof["score_trades_penalty_weight"],
                               workers if workers is not None else sw.get("workers", 1))
    done = evaluate_candidates(selected, ctx, run_dir, settings, trade_parity, config_check)
    by_stem = {c.stem: c for c in done}
    cands = [by_stem.get(c.stem, c) for c in cands]
    roles = decide(done)
    manifest_meta = {"run_id": meta.get("run_id"), "git_revision": meta.get("git_revision"),
                     "schema_sha256": meta.get("schema_sha256"), "inputs": meta.get("inputs"),
                     "data_fingerprint": ctx.md.fingerprint(), "symbols": list(ctx.symbols),
                     "run_params": meta["run_params"], "sweep": {k: sw.get(k) for k in (
                         "spec", "sampler", "seed", "batch_size", "trials", "backend", "storage")},
                     "sampler_meta": res.sampler_meta, "profile": prof.get("requested", prof.get("name")),
                     "validation": dataclasses.asdict(settings)}
    manifest = write_promoted(run_dir, roles, done, manifest_meta)
    report = write_promotion_report(run_dir, res, cands, roles, manifest, audit_dir)
    secs = time.perf_counter() - t0
    update_meta(run_dir, promotion={"seconds": secs, "shortlisted": len(selected), "scanned": len(cands),
                                    "roles": {r: (v if isinstance(v, str) else v.stem) for r, v in roles.items()},
                                    "report": str(report)})
    return PromoteOutcome(manifest, cands, report, secs)
