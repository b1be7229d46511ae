"""Fan a sweep out to Dask workers: ``--cluster local:N | tcp://SCHEDULER:PORT``.

Why Dask (measured on this 2-core box, ``benchmarks/cluster_speed.py`` and the README's "Scaling
out"): a 2-worker ``LocalCluster`` starts in 0.9 s with ~200 MiB resident against Ray's 2.6 s and
~770 MiB (raylet, GCS and agents); the scheduler address is a plain ``tcp://HOST:PORT``; a nanny
restarts a killed worker and the scheduler re-runs the batches it held. Ray's lower per-task latency
(0.6 vs 1.9 ms) is irrelevant at sweep batches of 0.1-10 s. ``ray://`` addresses get an error that
says so.

What travels: an :class:`EvaluatorSpec` (paths, backend, run parameters and three fingerprints: the
candles file's sha256, the axis schema's sha256 and the driftgate code's hash) plus each batch's
codes. Each worker builds the evaluator once per spec and keeps it resident (compiled kernel and
market arrays in memory) for every later batch; before building, the worker checks the three
fingerprints against its own files, so a worker with other data, another schema or other code is a
clear error, never a silent drift. ``evaluate(codes)`` stays a pure function of (data, schema, codes).

Losing a worker: the scheduler re-runs the batches it was processing on another worker (a nanny
restarts the process); when a batch has killed ``distributed.scheduler.allowed-failures`` workers it
comes back as ``KilledWorker`` and is resubmitted up to :data:`MAX_RESUBMITS` times. The sweep loop
records every batch key once, so no trial is lost or counted twice.
"""
from __future__ import annotations

import dataclasses
import hashlib
import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from harness.errors import DriftgateError
from harness.factory.executors import BatchResult, host_label

MAX_RESUBMITS = 3
CODE_PACKAGES = ("harness", "engine_ref", "gpu_sim")
_ROOT = Path(__file__).resolve().parents[2]


def code_fingerprint(root: Path = _ROOT) -> str:
    """sha256 over every ``*.py`` of the three packages and ``config/schema.csv`` (path + bytes)."""
    h = hashlib.sha256()
    files = sorted(p for pkg in CODE_PACKAGES for p in (root / pkg).rglob("*.py"))
    for p in files + [root / "config" / "schema.csv"]:
        h.update(str(p.relative_to(root)).encode() + b"\0" + p.read_bytes() + b"\0")
    return h.hexdigest()


@dataclass(frozen=True)
class EvaluatorSpec:
    """Everything a worker needs to build the sweep's evaluator (picklable, hashable).

    ``backend``: ``ref`` (engine_ref), ``cpu`` / ``cuda`` / ``cudasim`` (gpu_sim) or ``toy``.
    """

    backend: str
    paths: tuple[str, ...]
    candles: str | None
    base_yaml: str | None
    run_params: tuple[tuple[str, object], ...] = ()
    workers: int = 1                       # engine_ref processes inside one evaluator
    toy_seed: int = 0
    toy_seconds_per_trial: float = 0.0
    fingerprints: tuple[tuple[str, str], ...] = ()

    @property
    def token(self) -> str:
        return hashlib.sha256(repr(self).encode()).hexdigest()[:16]

    def with_fingerprints(self) -> "EvaluatorSpec":
        """This spec with the fingerprints of the files on this machine."""
        return dataclasses.replace(self, fingerprints=tuple(sorted(self._local_fingerprints().items())))

    def _local_fingerprints(self) -> dict[str, str]:
        from harness.factory.run_dir import schema_hash, sha256_file

        fp = {"schema_sha256": schema_hash(), "code_sha256": code_fingerprint()}
        if self.candles is not None and self.backend != "toy":
            fp["candles_sha256"] = sha256_file(Path(self.candles))
        if self.base_yaml is not None:
            fp["base_yaml_sha256"] = sha256_file(Path(self.base_yaml))
        return fp

    def verify_here(self, where: str) -> None:
        """Raise when this machine's files differ from the fingerprints the sweep was started with."""
        try:
            here = self._local_fingerprints()
        except OSError as exc:
            raise DriftgateError(f"worker {where}: cannot read a sweep input: {exc}; fix: put the same files "
                                 "at the same paths on every worker (or a shared filesystem)") from None
        for key, want in self.fingerprints:
            if here.get(key) != want:
                raise DriftgateError(f"worker {where}: {key} is {here.get(key, 'missing')[:12]}…, the sweep's is "
                                     f"{want[:12]}…; fix: run every worker on the same driftgate commit with the "
                                     "same config/schema.csv, base YAML and candles file")

    def build(self):
        """The evaluator of this spec (in the calling process)."""
        from harness.factory.evaluators import RefEvaluator, SimEvaluator, ToyEvaluator
        from harness.replay import RunParams

        p = RunParams(**dict(self.run_params))
        base = None if self.base_yaml is None else Path(self.base_yaml)
        common = dict(initial_balance=p.initial_balance, lookback=p.lookback, taker_fee_bps=p.taker_fee_bps,
                      from_ts=p.from_ts, to_ts=p.to_ts, run_mode=p.run_mode, strategy_mode=p.strategy_mode)
        if self.backend == "ref":
            return RefEvaluator(self.paths, base, Path(self.candles), workers=self.workers, **common)
        if self.backend in ("cpu", "cuda", "cudasim"):
            return SimEvaluator(self.paths, base, Path(self.candles), backend=self.backend, **common)
        if self.backend == "toy":
            return ToyEvaluator(len(self.paths), seed=self.toy_seed, seconds_per_trial=self.toy_seconds_per_trial)
        raise DriftgateError(f"--backend {self.backend!r}: unknown; fix: one of ref, cpu, cuda, toy")


# -- worker side -------------------------------------------------------------------------------
_RESIDENT: dict[str, object] = {}


def resident_evaluator(spec: EvaluatorSpec, where: str):
    """The worker's evaluator for ``spec``: built (and fingerprint-checked) once, then kept."""
    ev = _RESIDENT.get(spec.token)
    if ev is None:
        for old in list(_RESIDENT.values()):     # one sweep's evaluator at a time per worker
            close = getattr(old, "close", None)
            if close:
                close()
        _RESIDENT.clear()
        spec.verify_here(where)
        ev = spec.build()
        _RESIDENT[spec.token] = ev
    return ev


def evaluate_batch(spec: EvaluatorSpec, key: int, codes: np.ndarray) -> BatchResult:
    """Runs on a worker: one batch through the resident evaluator."""
    where = _worker_name()
    ev = resident_evaluator(spec, where)
    t0 = time.perf_counter()
    metrics = np.asarray(ev.evaluate(codes), dtype=np.float64)
    return BatchResult(key, metrics, dict(ev.errors()), where, time.perf_counter() - t0)


def _worker_name() -> str:
    try:
        from distributed import get_worker

        return f"{get_worker().address} (pid {os.getpid()})"
    except (ImportError, ValueError):
        return host_label()


# -- client side -------------------------------------------------------------------------------
@dataclass(frozen=True)
class ClusterAddress:
    kind: str            # "local" | "tcp"
    workers: int = 0     # local:N
    address: str = ""    # tcp://HOST:PORT


def parse_cluster(value: str) -> ClusterAddress:
    """``local:N`` or ``tcp://HOST:PORT``; anything else is an error that names the fix."""
    v = value.strip()
    if v.startswith("local:"):
        try:
            n = int(v[len("local:"):])
        except ValueError:
            n = 0
        if n < 1:
            raise DriftgateError(f"--cluster {value!r}: local:N needs a worker count N >= 1; fix: e.g. local:2")
        return ClusterAddress("local", workers=n)
    if v.startswith("tcp://"):
        host, _, port = v[len("tcp://"):].rpartition(":")
        if not host or not port.isdigit():
            raise DriftgateError(f"--cluster {value!r}: expected tcp://SCHEDULER_HOST:PORT; fix: the address "
                                 "`dask scheduler` printed, e.g. tcp://10.0.0.5:8786")
        return ClusterAddress("tcp", address=v)
    if v.startswith("ray://"):
        raise DriftgateError(f"--cluster {value!r}: driftgate fans out on Dask, not Ray (measured choice, see README "
                             "'Scaling out'); fix: start `dask scheduler` and `dask worker tcp://HOST:8786` and pass "
                             "--cluster tcp://HOST:8786, or --cluster local:N")
    raise DriftgateError(f"--cluster {value!r}: unknown form; fix: local:N or tcp://SCHEDULER_HOST:PORT")


@dataclass
class _Out:
    key: int
    codes: np.ndarray
    attempt: int = 0


@dataclass
class DaskExecutor:
    """Batches as Dask tasks on workers that keep the evaluator resident (see the module docstring)."""

    cluster: str
    spec: EvaluatorSpec
    connect_timeout_s: float = 60.0
    numba_threads: int | None = None     # local:N only: numba threads per worker (default cores // N)
    workers: int = 0
    _stats: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        try:
            from distributed import Client, LocalCluster, as_completed
        except ImportError:
            raise DriftgateError("--cluster needs Dask; fix: pip install -e '.[cluster]' "
                                 "(dask[distributed])") from None
        addr = parse_cluster(self.cluster)
        self.spec = self.spec.with_fingerprints()
        self._local = None
        logging.getLogger("distributed").setLevel(logging.ERROR)
        if addr.kind == "local":
            import dask

            threads = self.numba_threads or max(1, (os.cpu_count() or 1) // addr.workers)
            # Dask's nanny writes its pre-spawn environment (OMP_NUM_THREADS=1, ...) into *this*
            # process's os.environ, which then leaks into every later subprocess; keep only the malloc
            # setting there and give the workers their thread settings through ``env``
            dask.config.set({"distributed.nanny.pre-spawn-environ": {"MALLOC_TRIM_THRESHOLD_": 65536}})
            self._local = LocalCluster(n_workers=addr.workers, threads_per_worker=1, processes=True,
                                       dashboard_address=None, silence_logs=logging.ERROR,
                                       env={"NUMBA_NUM_THREADS": str(threads), "OMP_NUM_THREADS": "1",
                                            "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"})
            self.client = Client(self._local)
        else:
            try:
                self.client = Client(addr.address, timeout=self.connect_timeout_s)
                self.client.wait_for_workers(1, timeout=self.connect_timeout_s)
            except (OSError, TimeoutError) as exc:
                raise DriftgateError(f"--cluster {self.cluster}: cannot reach the scheduler or no worker joined in "
                                     f"{self.connect_timeout_s:.0f} s ({exc}); fix: start `dask scheduler` and at "
                                     f"least one `dask worker {addr.address}`") from None
        self.started = set(self.client.scheduler_info()["workers"])
        self.workers = max(1, len(self.started))
        self._ac = as_completed(with_results=False)
        self._out: dict[str, _Out] = {}
        self._resources = {"GPU": 1} if self.spec.backend == "cuda" and addr.kind == "tcp" else None
        self._stats = {"executor": "dask", "cluster": self.cluster, "workers_at_start": self.workers,
                       "batches": 0, "resubmitted": 0, "by_worker": {}, "worker_seconds": 0.0}
        self._t_first: float | None = None

    def _submit(self, item: _Out) -> None:
        name = f"driftgate-{self.spec.token}-b{item.key}-a{item.attempt}-{os.getpid()}"
        fut = self.client.submit(evaluate_batch, self.spec, item.key, item.codes, key=name, pure=False,
                                 resources=self._resources)
        self._out[fut.key] = item
        self._ac.add(fut)

    def submit(self, key: int, codes: np.ndarray) -> None:
        if self._t_first is None:
            self._t_first = time.perf_counter()
        self._submit(_Out(key, np.ascontiguousarray(codes, dtype=np.float64)))

    def wait(self) -> BatchResult:
        from distributed.scheduler import KilledWorker

        while True:
            fut = next(self._ac)
            item = self._out.pop(fut.key)
            try:
                res: BatchResult = fut.result()
            except KilledWorker as exc:
                if item.attempt >= MAX_RESUBMITS:
                    raise DriftgateError(f"--cluster {self.cluster}: batch {item.key} killed {item.attempt + 1} "
                                         f"rounds of workers ({exc}); fix: check the workers' memory and "
                                         "logs") from None
                item.attempt += 1
                self._stats["resubmitted"] += 1
                self._submit(item)
                continue
            finally:
                fut.release()
            self._stats["batches"] += 1
            self._stats["worker_seconds"] += res.seconds
            self._t_last = time.perf_counter()
            w = res.worker.split(" ")[0]
            self._stats["by_worker"][w] = self._stats["by_worker"].get(w, 0) + 1
            return res

    def describe(self) -> dict:
        return {"backend": self.spec.backend, "cluster": self.cluster, "workers": self.workers,
                "candles": self.spec.candles, "base_yaml": self.spec.base_yaml,
                "fingerprints": dict(self.spec.fingerprints)}

    def stats(self) -> dict:
        now = set(self.client.scheduler_info()["workers"]) if getattr(self, "client", None) else set()
        span = getattr(self, "_t_last", 0.0) - (self._t_first or 0.0)
        busy = self._stats["worker_seconds"] / (span * self.workers) if span > 0 else 0.0
        # busy: evaluator seconds / (first submit -> last result) / workers; includes each worker's
        # first build of the resident evaluator as idle time
        return {**self._stats, "workers_lost": len(self.started - now), "workers_joined": len(now - self.started),
                "busy_fraction": round(busy, 4)}

    def close(self) -> None:
        for fut_key in list(self._out):
            self._out.pop(fut_key)
        try:
            self.client.close()
        finally:
            if self._local is not None:
                self._local.close()
