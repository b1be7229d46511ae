"""The scale-out acceptance test (slow; nightly and `make test-all`): a real PostgreSQL ledger on
loopback, a 2-worker Dask cluster, a sweep of 3,000 trials through the CLI, one worker SIGKILLed while
it holds batches. Every trial must be finished exactly once and equal, bit for bit, the trials of a
single-process run with the same seed, batches and in-flight depth."""
from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from harness.factory.space import make_space
from harness.factory.storage import STUDY_NAME, TrialLog
from harness.factory.sweep import load_sweep
from harness.schema import REPO_ROOT
from harness.sweep_spec import load_sweep_spec

pytestmark = pytest.mark.slow

TRIALS, BATCH, IN_FLIGHT = 3000, 100, 4
SPEC = REPO_ROOT / "sweeps" / "full_144v.yaml"


def _sweep_cmd(tiny_market: dict, run_dir: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "harness.cli", "sweep", "--profile", "smoke", "--spec", str(SPEC),
            "--candles", str(tiny_market["candles"]), "--config", str(tiny_market["base"]), "--backend", "cpu",
            "--trials", str(TRIALS), "--batch-size", str(BATCH), "--in-flight", str(IN_FLIGHT), "--seed", "21",
            "--out", str(run_dir), "--no-progress", *extra]


def _count(url: str) -> int:
    import sqlalchemy as sa

    eng = sa.create_engine(url)
    try:
        with eng.connect() as c:
            return int(c.execute(sa.text("SELECT count(*) FROM trials WHERE state IN ('COMPLETE', 'FAIL')"))
                       .scalar() or 0)
    except sa.exc.ProgrammingError:        # the sweep has not created optuna's tables yet
        return 0
    finally:
        eng.dispose()


def test_two_workers_one_killed_postgres_ledger_equals_single_process(local_pg, tiny_market, tmp_path: Path) -> None:
    distributed = pytest.importorskip("distributed")
    url = local_pg.database_url("scale_out")
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "NUMBA_NUM_THREADS": "1"}

    # the single-process reference (journal file, evaluator in the sweep process)
    ref_dir = tmp_path / "single"
    out = subprocess.run(_sweep_cmd(tiny_market, ref_dir), env=env, capture_output=True, text=True, timeout=900)
    assert out.returncode == 0, out.stderr[-3000:]

    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                       silence_logs=logging.ERROR, env={"NUMBA_NUM_THREADS": "1"})
    client = distributed.Client(cluster)
    run_dir = tmp_path / "cluster"
    proc = subprocess.Popen(_sweep_cmd(tiny_market, run_dir, "--cluster", cluster.scheduler_address,
                                       "--storage", url), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    killed = None
    try:
        deadline = time.time() + 600
        while time.time() < deadline and proc.poll() is None:
            if _count(url) >= TRIALS // 5:
                busy = {w: keys for w, keys in client.processing().items() if keys}
                if busy:
                    victim = sorted(busy)[0]
                    pid = client.run(os.getpid, workers=[victim])[victim]
                    os.kill(pid, signal.SIGKILL)
                    killed = (victim, pid, list(busy[victim]), _count(url))
                    break
            time.sleep(0.05)
        stdout, stderr = proc.communicate(timeout=900)
    finally:
        if proc.poll() is None:
            proc.kill()
        client.close()
        cluster.close()
    assert killed is not None, "the sweep finished before a worker could be killed"
    victim, pid, held, at = killed
    print(f"killed {victim} (pid {pid}) holding {held} after {at} trials were recorded\n{stdout}")
    assert held and at < TRIALS, "the killed worker held no batch, or the sweep was over"
    assert proc.returncode == 0, stderr[-3000:]
    assert "workers lost" in stdout, stdout

    space = make_space(load_sweep_spec(SPEC))
    # the ledger: every sweep index exactly once, nothing else
    log = TrialLog(url, {}, space, ())
    done = log.load()
    assert sorted(done) == list(range(TRIALS)) and log.duplicates == 0
    assert _count(url) == TRIALS
    # identical to the single-process run
    got, ref = load_sweep(space, run_dir, url), load_sweep(space, ref_dir)
    assert got.index.tolist() == ref.index.tolist() == list(range(TRIALS))
    np.testing.assert_array_equal(got.codes, ref.codes)
    np.testing.assert_array_equal(got.metrics, ref.metrics)
    np.testing.assert_array_equal(got.scores, ref.scores)
    assert got.errors == ref.errors
    stats = json.loads((run_dir / "run.json").read_text())["sweep_result"]["executor"]
    assert stats["executor"] == "dask" and stats["in_flight"] == IN_FLIGHT and stats["workers_lost"] >= 1
    assert sum(stats["by_worker"].values()) == stats["batches"] == (TRIALS - 1 + BATCH - 1) // BATCH + 1
    assert STUDY_NAME == "driftgate-sweep"


def test_sweep_processes_share_one_postgres_study(local_pg, tiny_market, tmp_path: Path) -> None:
    """Two sweep processes write their own streams of one PostgreSQL study at the same time; a third
    process asking for a stream that is being written gets a clear error, not a double count."""
    from harness.factory.storage import ledger_lock

    url = local_pg.database_url("shared_study")
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}

    def cmd(stream: str, seed: int) -> list[str]:
        return [sys.executable, "-m", "harness.cli", "sweep", "--profile", "smoke", "--spec", str(SPEC),
                "--candles", str(tiny_market["candles"]), "--backend", "toy", "--trials", "1500", "--batch-size",
                "100", "--seed", str(seed), "--storage", url, "--stream", stream, "--out",
                str(tmp_path / stream), "--no-progress"]

    with ledger_lock(url, "driftgate-sweep/desk-a"):      # another machine is writing stream desk-a
        busy = subprocess.run(cmd("desk-a", 1), env=env, capture_output=True, text=True, timeout=300)
    assert busy.returncode == 2
    assert "another sweep process holds study stream 'driftgate-sweep/desk-a'" in busy.stderr
    assert "fix:" in busy.stderr

    procs = {s: subprocess.Popen(cmd(s, seed), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for s, seed in (("desk-a", 1), ("desk-b", 2))}
    for s, p in procs.items():
        out, err = p.communicate(timeout=600)
        assert p.returncode == 0, err[-3000:]
    space = make_space(load_sweep_spec(SPEC))
    streams = {}
    for s in procs:
        log = TrialLog(url, {}, space, (), stream=s)
        streams[s] = log.load()
        assert sorted(streams[s]) == list(range(1500)) and log.duplicates == 0
    assert _count(url) == 3000
    a = np.array([streams["desk-a"][i].codes for i in range(1, 1500)])
    b = np.array([streams["desk-b"][i].codes for i in range(1, 1500)])
    assert not np.array_equal(a, b)


def test_killed_cluster_sweep_resumes_exactly(local_pg, tiny_market, tmp_path: Path) -> None:
    """SIGKILL the sweep process itself (sampler, ledger writer and its local:2 cluster) mid-run, then run
    the same command again: it resumes from the PostgreSQL ledger and ends with every trial exactly
    once, bit-identical to a single-process run."""
    url = local_pg.database_url("resume_after_kill")
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "NUMBA_NUM_THREADS": "1"}
    ref_dir = tmp_path / "single"
    out = subprocess.run(_sweep_cmd(tiny_market, ref_dir), env=env, capture_output=True, text=True, timeout=900)
    assert out.returncode == 0, out.stderr[-3000:]

    run_dir = tmp_path / "cluster"
    cmd = _sweep_cmd(tiny_market, run_dir, "--cluster", "local:2", "--worker-threads", "1", "--storage", url)
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    try:
        deadline = time.time() + 600
        while time.time() < deadline and proc.poll() is None and _count(url) < TRIALS // 3:
            time.sleep(0.05)
        assert proc.poll() is None, "the sweep finished before it could be killed"
        os.killpg(proc.pid, signal.SIGKILL)          # the sweep process and its workers
    finally:
        proc.wait(timeout=60)
    stored = _count(url)
    assert 0 < stored < TRIALS
    again = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=900)
    assert again.returncode == 0, again.stderr[-3000:]
    assert f"{stored} resumed" in again.stdout and f"{TRIALS - stored} new" in again.stdout, again.stdout

    space = make_space(load_sweep_spec(SPEC))
    log = TrialLog(url, {}, space, ())
    assert sorted(log.load()) == list(range(TRIALS)) and log.duplicates == 0 and _count(url) == TRIALS
    got, ref = load_sweep(space, run_dir, url), load_sweep(space, ref_dir)
    np.testing.assert_array_equal(got.codes, ref.codes)
    np.testing.assert_array_equal(got.metrics, ref.metrics)
