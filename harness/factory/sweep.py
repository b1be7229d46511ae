"""The resumable sweep loop: ask a batch, evaluate it in one evaluator call, record, tell.

Trial numbering: sweep index 0 is the baseline (the base YAML's own values, enqueued first); batch
``b`` holds indices ``1 + b·B .. 1 + (b+1)·B − 1``. The sampler's batch ``b`` is a pure function of
the seed and the batches before it, so after a kill the sweep re-learns the stored complete batches,
regenerates the first incomplete one, evaluates only its missing indices and goes on: no finished
trial is lost or repeated, and the result equals an uninterrupted run.

Objective (maximised, recorded as the optuna trial value) — ``sweep_score``:
``r = pnl × (1 − min(dd, 1))`` when ``pnl > 0`` else ``r = pnl``; with fewer than ``min_trades``
trades ``r − 0.5·|r|`` (a penalty always lowers the score, for losses too); an invalid row is −inf
(recorded as a FAIL trial).
"""
from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from harness.errors import SweepError
from harness.factory.evaluators import COL, METRICS, Evaluator
from harness.factory.executors import BatchResult, Executor, InlineExecutor
from harness.factory.samplers import make_sampler
from harness.factory.space import SearchSpace
from harness.factory.storage import (DEFAULT_STREAM, STUDY_NAME, RunLock, TrialLog, TrialRecord, ledger_lock,
                                     safe_url, storage_url_for)

SWEEP_MIN_TRADES = 20
LOCK_CHECK_S = 30.0      # how often a sweep on a shared ledger re-checks that it holds its stream's lock
RESUME_KEYS = ("space_hash", "sampler", "seed", "batch_size", "metric_names", "baseline", "objective")


def sweep_score(metrics: np.ndarray, min_trades: int = SWEEP_MIN_TRADES) -> np.ndarray:
    """The sweep objective of each metrics row (see the module docstring)."""
    m = np.atleast_2d(np.asarray(metrics, dtype=np.float64))
    pnl, dd, trades, valid = m[:, COL["total_pnl"]], m[:, COL["max_drawdown"]], m[:, COL["total_trades"]], \
        m[:, COL["valid"]]
    r = np.where(pnl > 0, pnl * (1.0 - np.minimum(dd, 1.0)), pnl)
    r = np.where(trades < min_trades, r - 0.5 * np.abs(r), r)
    return np.where((valid > 0) & np.isfinite(r), r, -np.inf)


@dataclass
class SweepSettings:
    """Everything that determines a sweep's stream and record."""

    run_dir: Path
    trials: int
    sampler: str = "tpe"
    seed: int = 42
    batch_size: int = 256
    storage: str | None = None
    record_params: bool = False
    baseline: bool = True
    base_yaml: Path | None = None
    progress: bool = True
    in_flight: int | None = None     # batches out at once; None: 2 x workers on a cluster, else 1
    stream: str = DEFAULT_STREAM     # this sweep's stream in a shared study (one writer per stream)
    study: str = STUDY_NAME


@dataclass
class SweepResult:
    """All finished trials in sweep-index order plus timings (seconds)."""

    index: np.ndarray
    codes: np.ndarray
    idx: list[np.ndarray | None]
    metrics: np.ndarray
    scores: np.ndarray
    errors: dict[int, str]
    metric_names: tuple[str, ...] = METRICS
    new_trials: int = 0
    resumed_trials: int = 0
    timings: dict[str, float] = field(default_factory=dict)
    sampler_meta: dict = field(default_factory=dict)
    storage_url: str = ""
    executor_stats: dict = field(default_factory=dict)

    def best_curve(self) -> np.ndarray:
        """Best score after each trial (sweep-index order; −inf until a valid one)."""
        return np.maximum.accumulate(np.where(np.isfinite(self.scores), self.scores, -np.inf))

    def column(self, name: str) -> np.ndarray:
        return self.metrics[:, self.metric_names.index(name)]


def batch_bounds(trials: int, batch: int, baseline: bool) -> list[tuple[int, int]]:
    """``[(first, n), ...]`` of the sampler batches (index 0 is the baseline when enabled)."""
    start = 1 if baseline else 0
    return [(f, min(batch, trials - f)) for f in range(start, trials, batch)]


class _Progress:
    def __init__(self, total: int, done: int, enabled: bool) -> None:
        self.bar = None
        if enabled:
            from tqdm import tqdm

            self.bar = tqdm(total=total, initial=done, unit="trial", file=sys.stderr, dynamic_ncols=True,
                            desc="sweep", mininterval=0.5)

    def update(self, n: int, best: float) -> None:
        if self.bar is not None:
            self.bar.set_postfix_str(f"best={best:.4g}", refresh=False)
            self.bar.update(n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def run_sweep(space: SearchSpace, evaluator: Evaluator | Executor, settings: SweepSettings,
              extra_meta: dict | None = None) -> SweepResult:
    """Run (or resume) the sweep into its optuna storage; returns every finished trial.

    ``evaluator`` is an :class:`Evaluator` (run in this process) or an :class:`Executor` (a cluster).
    Up to ``in_flight`` batches are out at once; results are recorded as they arrive and told to the
    sampler in batch order (see the samplers module), so the trials do not depend on the executor.
    """
    t_start = time.perf_counter()
    ex: Executor = evaluator if hasattr(evaluator, "submit") else InlineExecutor(evaluator)  # type: ignore[assignment]
    url = storage_url_for(settings.run_dir, settings.storage)
    sampler = make_sampler(settings.sampler, space.sizes, settings.seed, settings.batch_size,
                           space.distributions() if settings.sampler == "optuna-tpe" else None, space.paths)
    if settings.in_flight is not None and (isinstance(settings.in_flight, bool) or int(settings.in_flight) < 1):
        raise SweepError(f"--in-flight {settings.in_flight!r}: batches out at once must be >= 1; fix: e.g. "
                         f"--in-flight {2 * max(ex.workers, 1)} (2 per worker)")
    default_depth = settings.in_flight or (2 * ex.workers if ex.workers > 1 else 1)
    meta = {"space_hash": space.space_hash(), "paths": list(space.paths), "sampler": settings.sampler,
            "seed": settings.seed, "batch_size": settings.batch_size, "metric_names": list(METRICS),
            "baseline": settings.baseline, "objective": "sweep_score v1 (pnl x (1-min(dd,1)), -0.5|r| if "
            f"trades < {SWEEP_MIN_TRADES})", "in_flight": default_depth, "sampler_meta": sampler.meta(),
            **(extra_meta or {})}
    t = {"sampler": 0.0, "evaluate": 0.0, "storage": 0.0, "resume": 0.0}
    with RunLock(settings.run_dir), ledger_lock(url, f"{settings.study}/{settings.stream}") as lock:
        t0 = time.perf_counter()
        log = TrialLog(url, meta, space, RESUME_KEYS, settings.stream, settings.study)
        depth = _resolve_depth(url, log.meta, meta, settings.in_flight)
        if depth > 1 and settings.sampler == "cmaes":
            raise SweepError(f"--sampler cmaes with --in-flight {depth}: CMA-ES learns one generation per batch; "
                             "fix: --in-flight 1 (a cluster then runs one batch at a time) or another sampler")
        done = log.load()
        t["resume"] += time.perf_counter() - t0
        resumed = sum(1 for i in done if i < settings.trials)
        errors = {i: r.error for i, r in done.items() if r.error}
        best = max((r.score for r in done.values() if r.score is not None and np.isfinite(r.score)),
                   default=-np.inf)
        loop = _Loop(space, sampler, ex, log, settings, done, errors, t, _Progress(settings.trials, resumed,
                                                                                  settings.progress), best, lock)
        try:
            loop.run(depth)
        finally:
            loop.bar.close()
    result = _collect(done, settings.trials, space, errors)
    result.new_trials, result.resumed_trials = loop.new, resumed
    t["total"] = time.perf_counter() - t_start
    result.timings, result.sampler_meta, result.storage_url = t, sampler.meta(), url
    result.executor_stats = {**ex.stats(), "in_flight": depth}
    return result


def _resolve_depth(url: str, stored: dict, fresh: dict, requested: int | None) -> int:
    """The run's ``in_flight``: a new run's setting, or the stored one on resume (1 for older runs)."""
    if stored is fresh:
        return int(fresh["in_flight"])
    have = int(stored.get("in_flight", 1))
    if requested is not None and int(requested) != have:
        raise SweepError(f"{safe_url(url)}: cannot resume: in_flight was {have}, now {requested} (it shapes the "
                         f"sampler's stream); fix: --in-flight {have}, or a new run directory")
    return have


class _Loop:
    """The sweep's ask / submit / record / tell schedule (one object per ``run_sweep`` call)."""

    def __init__(self, space: SearchSpace, sampler, ex: Executor, log: TrialLog, settings: SweepSettings,
                 done: dict[int, TrialRecord], errors: dict[int, str], t: dict[str, float], bar: _Progress,
                 best: float, lock=None) -> None:
        self.space, self.sampler, self.ex, self.log, self.settings = space, sampler, ex, log, settings
        self.lock, self.lock_checked = lock, time.monotonic()
        self.done, self.errors, self.t, self.bar, self.best = done, errors, t, bar, best
        self.bounds = batch_bounds(settings.trials, settings.batch_size, settings.baseline)
        self.asked: dict[int, np.ndarray] = {}          # batch -> its index rows, until told
        self.out: dict[int, tuple[list[int], list]] = {}  # submitted key -> (sweep indices, idx rows)
        self.new = 0

    def run(self, depth: int) -> None:
        s = self.settings
        if s.baseline and 0 not in self.done and s.trials >= 1:
            self._submit(-1, self.space.baseline_codes(s.base_yaml)[None, :], [0], [None])
        n_ask = n_tell = 0
        nb = len(self.bounds)
        while True:
            while n_ask < nb and n_ask - n_tell < depth:
                self._ask(n_ask)
                n_ask += 1
            if n_tell < nb and n_tell not in self.out and self._complete(n_tell):
                self._tell(n_tell)
                n_tell += 1
                continue
            if not self.out:
                break
            t0 = time.perf_counter()
            res = self.ex.wait()
            self.t["evaluate"] += time.perf_counter() - t0
            self._record(res)

    def _complete(self, b: int) -> bool:
        first, n = self.bounds[b]
        return all(i in self.done for i in range(first, first + n))

    def _ask(self, b: int) -> None:
        first, n = self.bounds[b]
        have = [i for i in range(first, first + n) if i in self.done]
        t0 = time.perf_counter()
        if len(have) == n:
            idx = np.array([self.done[i].idx for i in range(first, first + n)])
            self.sampler.recall(b, first, idx)
            self.t["resume"] += time.perf_counter() - t0
            self.asked[b] = idx
            return
        idx = self.sampler.ask(b, first, n)
        self.t["sampler"] += time.perf_counter() - t0
        for i in have:
            if not np.array_equal(self.done[i].idx, idx[i - first]):
                raise SweepError(f"{safe_url(self.log.url)}: cannot resume: stored trial {i} differs from the "
                                 "regenerated batch (sampler, seed or code changed); fix: start a new run directory")
        self.asked[b] = idx
        missing = [i for i in range(first, first + n) if i not in self.done]
        rows = idx[[i - first for i in missing]]
        self._submit(b, self.space.codes(rows), missing, list(rows))

    def _submit(self, key: int, codes: np.ndarray, indices: list[int], idx_rows: list) -> None:
        self.out[key] = (indices, idx_rows, codes)
        t0 = time.perf_counter()
        self.ex.submit(key, codes)
        self.t["evaluate"] += time.perf_counter() - t0

    def _record(self, res: BatchResult) -> None:
        if res.key not in self.out:      # a duplicate delivery (a re-run batch): recorded once already
            return
        indices, idx_rows, codes = self.out.pop(res.key)
        recs = _records(res, codes, indices, idx_rows)
        t0 = time.perf_counter()
        if self.lock is not None and time.monotonic() - self.lock_checked > LOCK_CHECK_S:
            self.lock.verify()          # a shared ledger: still the stream's only writer
            self.lock_checked = time.monotonic()
        self.log.append(recs, record_params=self.settings.record_params and res.key >= 0)
        self.t["storage"] += time.perf_counter() - t0
        for r in recs:
            self.done[r.index] = r
            if r.error:
                self.errors[r.index] = r.error
            if r.score is not None:
                self.best = max(self.best, r.score)
        self.new += len(recs)
        self.bar.update(len(recs), self.best)

    def _tell(self, b: int) -> None:
        first, n = self.bounds[b]
        idx = self.asked.pop(b)
        scores = np.array([_score(self.done[i]) for i in range(first, first + n)])
        t0 = time.perf_counter()
        self.sampler.tell(idx, scores)
        self.t["sampler"] += time.perf_counter() - t0


def _score(rec: TrialRecord) -> float:
    return float(rec.score) if rec.score is not None and rec.error is None else -np.inf


def _records(res: BatchResult, codes: np.ndarray, indices: list[int], idx_rows: list) -> list[TrialRecord]:
    metrics = np.asarray(res.metrics, dtype=np.float64)
    if metrics.shape != (len(indices), len(METRICS)):
        raise SweepError(f"evaluator returned shape {metrics.shape} for batch {res.key}; expected "
                         f"{(len(indices), len(METRICS))}")
    scores = sweep_score(metrics)
    recs = []
    for k, i in enumerate(indices):
        err = res.errors.get(k)
        s = float(scores[k]) if np.isfinite(scores[k]) else None
        recs.append(TrialRecord(i, codes=codes[k], idx=idx_rows[k], metrics=list(metrics[k]), score=s,
                                error=err if err else (None if s is not None else "non-finite score")))
    return recs


def _collect(done: dict[int, TrialRecord], trials: int, space: SearchSpace, errors: dict[int, str]) -> SweepResult:
    keys = sorted(i for i in done if i < trials)
    if not keys:
        empty = np.zeros((0, space.n_axes))
        return SweepResult(np.zeros(0, dtype=np.int64), empty, [], np.zeros((0, len(METRICS))), np.zeros(0), {})
    codes = np.array([done[i].codes for i in keys])
    metrics = np.array([done[i].metrics if len(done[i].metrics) == len(METRICS) else [np.nan] * len(METRICS)
                        for i in keys])
    scores = np.array([_score(done[i]) for i in keys])
    return SweepResult(np.array(keys, dtype=np.int64), codes, [done[i].idx for i in keys], metrics, scores,
                       {i: e for i, e in errors.items() if i < trials})


def load_sweep(space: SearchSpace, run_dir: Path, storage: str | None = None, stream: str = DEFAULT_STREAM,
               study_name: str = STUDY_NAME) -> SweepResult:
    """Read a finished (or partial) sweep stream back from its storage without running anything."""
    import optuna

    from harness.factory.storage import meta_key, open_storage, safe_url

    url = storage_url_for(run_dir, storage)
    st = open_storage(url)
    try:
        study = optuna.load_study(study_name=study_name, storage=st)
    except KeyError:
        raise SweepError(f"{safe_url(url)}: no sweep study {study_name!r} in this storage; fix: run `driftgate "
                         "sweep` first, or pass the run's --study") from None
    meta = study.user_attrs.get(meta_key(stream))
    if meta is None:
        raise SweepError(f"{safe_url(url)}: study {study_name!r} has no stream {stream!r}; fix: pass the run's "
                         "--stream")
    if meta.get("space_hash") != space.space_hash():
        raise SweepError(f"{safe_url(url)}: the stored sweep used another sweep spec; fix: pass the run's --spec")
    log = TrialLog.__new__(TrialLog)
    log.study, log.space, log.stream = study, space, stream
    log.url, log.storage, log._journal = url, st, url.startswith("journal:")
    done = log.load()
    errors = {i: r.error for i, r in done.items() if r.error}
    res = _collect(done, max(done) + 1 if done else 0, space, errors)
    res.sampler_meta, res.storage_url = meta.get("sampler_meta", {}), url
    return res
