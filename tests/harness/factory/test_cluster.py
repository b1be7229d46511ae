"""Scale-out without a database: the in-flight schedule is order-independent and resumable, the Dask
executor gives the same trials as this process, and bad cluster input is a clear error."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from harness.errors import DriftgateError, SweepError
from harness.factory.cluster import EvaluatorSpec, code_fingerprint, parse_cluster, resident_evaluator
from harness.factory.evaluators import ToyEvaluator
from harness.factory.executors import BatchResult, InlineExecutor
from harness.factory.space import make_space
from harness.factory.storage import TrialLog
from harness.factory.sweep import SweepSettings, run_sweep
from harness.schema import REPO_ROOT
from harness.sweep_spec import load_sweep_spec

FULL = REPO_ROOT / "sweeps" / "full_144v.yaml"
BASE = REPO_ROOT / "config" / "strategy_overrides.yaml"


@pytest.fixture(scope="module")
def space():
    return make_space(load_sweep_spec(FULL))


def _settings(run_dir: Path, trials: int, sampler: str = "tpe", in_flight: int | None = None) -> SweepSettings:
    return SweepSettings(run_dir, trials, sampler=sampler, seed=5, batch_size=16, progress=False, base_yaml=BASE,
                         in_flight=in_flight)


class ShuffledExecutor:
    """A fake cluster: holds every submitted batch and hands them back in a seeded random order,
    optionally delivering some twice (a re-run batch whose first worker came back)."""

    def __init__(self, evaluator, seed: int, workers: int = 3, duplicate_every: int = 0) -> None:
        self.ev, self.rng, self.workers = evaluator, np.random.default_rng(seed), workers
        self.held: list[BatchResult] = []
        self.duplicate_every, self.n = duplicate_every, 0

    def submit(self, key: int, codes: np.ndarray) -> None:
        self.held.append(BatchResult(key, self.ev.evaluate(codes), {}, "fake"))

    def wait(self) -> BatchResult:
        res = self.held.pop(int(self.rng.integers(len(self.held))))
        self.n += 1
        if self.duplicate_every and self.n % self.duplicate_every == 0:
            self.held.append(res)
        return res

    def describe(self) -> dict:
        return {"backend": "toy", "executor": "shuffled"}

    def stats(self) -> dict:
        return {"executor": "shuffled"}

    def close(self) -> None:
        pass


@pytest.mark.parametrize("value, kind, n", [("local:2", "local", 2), ("local:16", "local", 16),
                                            ("tcp://10.0.0.5:8786", "tcp", 0), (" tcp://host:1 ", "tcp", 0)])
def test_parse_cluster_accepts(value: str, kind: str, n: int) -> None:
    addr = parse_cluster(value)
    assert addr.kind == kind and addr.workers == n


@pytest.mark.parametrize("value, says", [("local:0", "N >= 1"), ("local:x", "N >= 1"), ("tcp://host", "tcp://"),
                                         ("ray://head:10001", "Dask, not Ray"), ("dask://x:1", "unknown form")])
def test_parse_cluster_rejects_with_the_fix(value: str, says: str) -> None:
    with pytest.raises(DriftgateError, match="fix:") as err:
        parse_cluster(value)
    assert says in str(err.value) and repr(value) in str(err.value)


@pytest.mark.parametrize("sampler", ["tpe", "random", "qmc", "optuna-tpe"])
def test_out_of_order_results_give_the_inline_trials(space, tmp_path: Path, sampler: str) -> None:
    trials = 97 if sampler != "optuna-tpe" else 49
    ref = run_sweep(space, ToyEvaluator(space.n_axes, seed=1), _settings(tmp_path / "inline", trials, sampler, 4))
    ex = ShuffledExecutor(ToyEvaluator(space.n_axes, seed=1), seed=3, duplicate_every=3)
    res = run_sweep(space, ex, _settings(tmp_path / "shuffled", trials, sampler, 4))
    assert res.index.tolist() == list(range(trials)) and res.new_trials == trials
    np.testing.assert_array_equal(res.codes, ref.codes)
    np.testing.assert_array_equal(res.metrics, ref.metrics)
    log = TrialLog(f"journal:{tmp_path / 'shuffled' / 'study.journal'}", {}, space, ())
    assert len(log.load()) == trials and log.duplicates == 0     # duplicate deliveries recorded once
    # batches in flight never share a row: every index row of the sweep is distinct
    assert len({tuple(r) for r in res.idx[1:]}) == trials - 1


def test_in_flight_one_is_the_sequential_sweep(space, tmp_path: Path) -> None:
    a = run_sweep(space, ToyEvaluator(space.n_axes, seed=1), _settings(tmp_path / "a", 65))
    b = run_sweep(space, ToyEvaluator(space.n_axes, seed=1), _settings(tmp_path / "b", 65, in_flight=1))
    c = run_sweep(space, ToyEvaluator(space.n_axes, seed=1), _settings(tmp_path / "c", 65, in_flight=3))
    np.testing.assert_array_equal(a.codes, b.codes)
    assert not np.array_equal(a.codes[17:], c.codes[17:])   # asking ahead learns later: another stream
    assert a.executor_stats["in_flight"] == 1 and c.executor_stats["in_flight"] == 3


def test_resume_keeps_the_stored_in_flight(space, tmp_path: Path) -> None:
    ref = run_sweep(space, ToyEvaluator(space.n_axes, seed=1), _settings(tmp_path / "ref", 81, in_flight=3))
    run_sweep(space, ToyEvaluator(space.n_axes, seed=1), _settings(tmp_path / "run", 40, in_flight=3))
    with pytest.raises(SweepError, match=r"in_flight was 3, now 2 .*fix: --in-flight 3"):
        run_sweep(space, ToyEvaluator(space.n_axes, seed=1), _settings(tmp_path / "run", 81, in_flight=2))
    res = run_sweep(space, ToyEvaluator(space.n_axes, seed=1), _settings(tmp_path / "run", 81))  # adopts 3
    assert res.resumed_trials == 40 and res.new_trials == 41 and res.executor_stats["in_flight"] == 3
    np.testing.assert_array_equal(res.codes, ref.codes)


@pytest.mark.parametrize("bad", [0, -2])
def test_in_flight_must_be_positive(space, tmp_path: Path, bad: int) -> None:
    with pytest.raises(SweepError, match=rf"--in-flight {bad}: .*>= 1; fix:"):
        run_sweep(space, ToyEvaluator(space.n_axes), _settings(tmp_path, 40, in_flight=bad))


def test_cmaes_cannot_ask_ahead(space, tmp_path: Path) -> None:
    with pytest.raises(SweepError, match="cmaes.*fix: --in-flight 1"):
        run_sweep(space, ToyEvaluator(space.n_axes), _settings(tmp_path, 40, "cmaes", 2))


def test_worker_refuses_other_files(tmp_path: Path) -> None:
    spec = EvaluatorSpec("toy", ("a", "b"), None, str(BASE)).with_fingerprints()
    fp = dict(spec.fingerprints)
    assert fp["code_sha256"] == code_fingerprint() and "schema_sha256" in fp and "base_yaml_sha256" in fp
    spec.verify_here("w1")
    other = tmp_path / "base.yaml"
    other.write_text(BASE.read_text() + "\n# edited on one worker\n")
    moved = EvaluatorSpec("toy", ("a", "b"), None, str(other), fingerprints=spec.fingerprints)
    with pytest.raises(DriftgateError, match=r"worker w1: base_yaml_sha256 .*fix: run every worker on the same"):
        moved.verify_here("w1")
    missing = EvaluatorSpec("toy", ("a",), None, str(tmp_path / "gone.yaml"), fingerprints=spec.fingerprints)
    with pytest.raises(DriftgateError, match="cannot read a sweep input.*fix:"):
        resident_evaluator(missing, "w2")


def test_resident_evaluator_is_built_once_per_spec() -> None:
    spec = EvaluatorSpec("toy", ("a", "b", "c"), None, None).with_fingerprints()
    first = resident_evaluator(spec, "w")
    assert resident_evaluator(spec, "w") is first
    other = EvaluatorSpec("toy", ("a", "b", "c"), None, None, toy_seed=9).with_fingerprints()
    assert resident_evaluator(other, "w") is not first


def test_dask_local_cluster_gives_the_inline_trials(space, tmp_path: Path) -> None:
    pytest.importorskip("distributed")
    from harness.factory.cluster import DaskExecutor

    paths = tuple(space.paths)
    spec = EvaluatorSpec("toy", paths, None, None, toy_seed=1)
    ref = run_sweep(space, InlineExecutor(spec.build()), _settings(tmp_path / "inline", 161, in_flight=4))
    before = {k: os.environ.get(k) for k in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")}
    ex = DaskExecutor("local:2", spec)
    try:
        res = run_sweep(space, ex, _settings(tmp_path / "dask", 161))
    finally:
        ex.close()
    # Dask's nanny must not leave its worker settings in this process (they leak into subprocesses)
    assert {k: os.environ.get(k) for k in before} == before
    stats = res.executor_stats
    assert stats["executor"] == "dask" and stats["in_flight"] == 4 and stats["workers_at_start"] == 2
    assert stats["batches"] == 11 and len(stats["by_worker"]) == 2       # both workers worked
    assert 0.0 < stats["busy_fraction"] <= 1.0 + 1e-6
    assert res.index.tolist() == list(range(161))
    np.testing.assert_array_equal(res.codes, ref.codes)
    np.testing.assert_array_equal(res.metrics, ref.metrics)


def test_streams_share_one_study_without_mixing(space, tmp_path: Path) -> None:
    """Two sweeps (own seed, own run directory) in one RDB study: each loads exactly its own trials,
    which equal the same sweep run alone."""
    from harness.factory.sweep import load_sweep

    url = f"sqlite:///{tmp_path / 'shared.db'}"
    runs = {}
    for stream, seed in (("main", 5), ("desk-b", 6)):
        s = _settings(tmp_path / stream, 49)
        s.seed, s.storage, s.stream = seed, url, stream
        runs[stream] = run_sweep(space, ToyEvaluator(space.n_axes, seed=1), s)
        alone = _settings(tmp_path / f"{stream}-alone", 49)
        alone.seed = seed
        ref = run_sweep(space, ToyEvaluator(space.n_axes, seed=1), alone)
        np.testing.assert_array_equal(runs[stream].codes, ref.codes)
    for stream in runs:
        back = load_sweep(space, tmp_path / stream, url, stream)
        assert back.index.tolist() == list(range(49))
        np.testing.assert_array_equal(back.codes, runs[stream].codes)
    assert not np.array_equal(runs["main"].codes[1:], runs["desk-b"].codes[1:])
    with pytest.raises(SweepError, match="has no stream 'desk-c'.*fix: pass the run's --stream"):
        load_sweep(space, tmp_path / "x", url, "desk-c")
    with pytest.raises(SweepError, match=r"--stream 'a b'.*fix:"):
        s = _settings(tmp_path / "bad", 17)
        s.storage, s.stream = url, "a b"
        run_sweep(space, ToyEvaluator(space.n_axes), s)


CMA_STREAM = """
import hashlib, sys, tempfile
from pathlib import Path
sys.path.insert(0, {root!r})
from harness.factory.evaluators import ToyEvaluator
from harness.factory.space import make_space
from harness.factory.sweep import SweepSettings, run_sweep
from harness.sweep_spec import load_sweep_spec
space = make_space(load_sweep_spec(Path({spec!r})))
with tempfile.TemporaryDirectory() as d:
    r = run_sweep(space, ToyEvaluator(space.n_axes, seed=1), SweepSettings(Path(d), 97, "cmaes", 5, 16,
                  progress=False, base_yaml=Path({base!r})))
print(hashlib.sha256(r.codes.tobytes()).hexdigest())
"""


def test_cmaes_stream_does_not_depend_on_blas_threads() -> None:
    """A sweep resumed on another machine (or after a Dask nanny set OMP_NUM_THREADS=1) regenerates the
    same cmaes batches: the sampler's linear algebra runs on one BLAS thread."""
    code = CMA_STREAM.format(root=str(REPO_ROOT), spec=str(FULL), base=str(BASE))
    digests = set()
    for threads in ("1", "2"):
        env = {**os.environ, "OMP_NUM_THREADS": threads, "OPENBLAS_NUM_THREADS": threads}
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
        assert out.returncode == 0, out.stderr[-2000:]
        digests.add(out.stdout.strip())
    assert len(digests) == 1
