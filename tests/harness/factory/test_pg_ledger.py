"""RDB study ledger: the bulk append writes exactly what ``study.add_trials`` writes (SQLite always,
PostgreSQL in the slow tests), and ``ledger_lock`` gives one writer per study stream."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import numpy as np
import pytest

from harness.errors import DriftgateError
from harness.factory.space import make_space
from harness.factory.storage import (TrialLog, TrialRecord, _rdb_batch_append, advisory_key, engine_kwargs_for,
                                     ledger_lock)
from harness.schema import REPO_ROOT
from harness.sweep_spec import load_sweep_spec

FULL = REPO_ROOT / "sweeps" / "full_144v.yaml"
META = {"space": "test", "seed": 1}


@pytest.fixture(scope="module")
def space():
    return make_space(load_sweep_spec(FULL))


def _records(space, start: int, n: int, seed: int) -> list[TrialRecord]:
    """Realistic records: grid rows, an off-grid baseline (codes), load errors and non-finite scores."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(start, start + n):
        idx = rng.integers(0, space.sizes)
        rec = TrialRecord(i, idx=idx, codes=space.codes(idx[None, :])[0],
                          metrics=[float(v) for v in rng.normal(size=9)], score=float(rng.normal()))
        if i == 0:                                    # the baseline: off-grid codes, no index row
            rec.idx = None
        elif i % 7 == 3:
            rec.error, rec.score = f"load failed: axis {i}", None
        elif i % 7 == 5:
            rec.score = float("-inf")
        out.append(rec)
    return out


def _fields(t) -> tuple:
    return (t.number, t.state, t.values, t.datetime_start, t.datetime_complete, t.params, t.distributions,
            t.user_attrs, t.system_attrs, t.intermediate_values)


def _assert_same_as_add_trials(url: str, space, record_params: bool) -> None:
    """Two studies in one database, batches interleaved: bulk in one, ``add_trials`` in the other."""
    import optuna

    log = TrialLog(url, META, space, ())
    ref = optuna.create_study(storage=url, study_name=f"ref-{uuid.uuid4().hex}", direction="maximize")
    start = 0
    for b, n in enumerate((9, 1, 14)):
        trials = [log._frozen(r, record_params) for r in _records(space, start, n, seed=b)]
        start += n
        assert _rdb_batch_append(log.storage, log.study._study_id, trials) is True
        ref.add_trials(trials)
    got, want = log.study.get_trials(), ref.get_trials()
    assert [t.number for t in got] == list(range(start))
    assert [_fields(t) for t in got] == [_fields(t) for t in want]
    states = {t.state.name for t in got}
    assert states == {"COMPLETE", "FAIL"}
    assert all(bool(t.params) == (record_params and "x" in t.user_attrs) for t in got)
    # optuna's own writer after ours continues the numbering
    ref_more = [log._frozen(r, record_params) for r in _records(space, start, 2, seed=9)]
    log.study.add_trials(ref_more)
    assert [t.number for t in log.study.get_trials()] == list(range(start + 2))


def _assert_batches_reload(url: str, space) -> None:
    recs = _records(space, 0, 40, seed=3)
    log = TrialLog(url, META, space, ("seed",))
    for lo, hi in ((0, 13), (13, 14), (14, 40)):
        log.append(recs[lo:hi])
    back = TrialLog(url, META, space, ("seed",)).load()
    assert sorted(back) == list(range(40))
    for r in recs:
        b = back[r.index]
        np.testing.assert_array_equal(b.codes, r.codes)
        assert b.metrics == r.metrics and b.error == r.error
        ok = r.error is None and np.isfinite(r.score)
        assert b.score == (r.score if ok else None)


@pytest.mark.parametrize("record_params", [False, True])
def test_sqlite_bulk_append_equals_add_trials(space, tmp_path: Path, record_params: bool) -> None:
    _assert_same_as_add_trials(f"sqlite:///{tmp_path / 'x.db'}", space, record_params)


def test_sqlite_trial_log_three_batches_reload(space, tmp_path: Path) -> None:
    _assert_batches_reload(f"sqlite:///{tmp_path / 'x.db'}", space)


def test_bulk_append_declines_other_storages(space, tmp_path: Path) -> None:
    log = TrialLog(f"journal:{tmp_path / 's.journal'}", META, space, ())
    trials = [log._frozen(_records(space, 1, 1, 0)[0], False)]
    assert _rdb_batch_append(log.storage, log.study._study_id, trials) is False


def test_lock_and_engine_options_off_postgres(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    with ledger_lock(url, "a"), ledger_lock(url, "a"):      # files: RunLock's job, not this lock's
        pass
    assert engine_kwargs_for(url) == {}
    kw = engine_kwargs_for("postgresql://u@h/db?connect_timeout=3")
    assert kw["pool_pre_ping"] is True and "connect_timeout" not in kw["connect_args"]
    assert advisory_key("stream-1") == advisory_key("stream-1") != advisory_key("stream-2")
    assert 0 <= advisory_key("stream-1") < 2 ** 63


# -- PostgreSQL (a local throwaway server) ---------------------------------------------------------

@pytest.mark.slow
@pytest.mark.parametrize("record_params", [False, True])
def test_postgres_bulk_append_equals_add_trials(space, local_pg, record_params: bool) -> None:
    _assert_same_as_add_trials(local_pg.database_url(f"rt_{int(record_params)}"), space, record_params)


@pytest.mark.slow
def test_postgres_trial_log_three_batches_reload(space, local_pg) -> None:
    _assert_batches_reload(local_pg.database_url("reload"), space)


@pytest.mark.slow
def test_postgres_ledger_lock(local_pg) -> None:
    url = local_pg.url
    with ledger_lock(url, "stream-a") as held:
        with pytest.raises(DriftgateError, match="another sweep process holds study stream 'stream-a'.*"
                                                 "fix: wait for it to finish, or use another --stream"):
            with ledger_lock(url, "stream-a"):
                pass
        with ledger_lock(url, "stream-b"):
            held.verify()
    with ledger_lock(url, "stream-a"):
        pass


@pytest.mark.slow
def test_postgres_ledger_lock_freed_when_holder_is_killed(local_pg) -> None:
    code = ("import sys, time\nfrom harness.factory.storage import ledger_lock\n"
            "with ledger_lock(sys.argv[1], 'stream-k'):\n    print('locked', flush=True)\n    time.sleep(300)\n")
    proc = subprocess.Popen([sys.executable, "-c", code, local_pg.url], stdout=subprocess.PIPE, text=True,
                            cwd=REPO_ROOT, env={**os.environ, "PYTHONPATH": str(REPO_ROOT)})
    try:
        assert proc.stdout.readline().strip() == "locked"
        with pytest.raises(DriftgateError, match="another sweep process holds study stream 'stream-k'"):
            with ledger_lock(local_pg.url, "stream-k"):
                pass
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
    deadline = time.monotonic() + 15
    while True:
        try:
            with ledger_lock(local_pg.url, "stream-k"):
                break
        except DriftgateError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


@pytest.mark.slow
def test_postgres_concurrent_writers_get_distinct_numbers(space, local_pg) -> None:
    """Two bulk writers and one ``add_trials`` writer on one study: numbers stay 0..n-1, each once."""
    url = local_pg.database_url("concurrent")
    TrialLog(url, META, space, ())
    code = ("import sys\nfrom harness.factory.space import make_space\nfrom harness.sweep_spec import load_sweep_spec\n"
            "from harness.factory.storage import TrialLog\nfrom tests.harness.factory.test_pg_ledger import META, "
            "FULL, _records\nspace = make_space(load_sweep_spec(FULL))\nlog = TrialLog(sys.argv[1], META, space, ())\n"
            "w = int(sys.argv[2])\nfor b in range(6):\n    recs = _records(space, 1000 * w + 20 * b + 1, 20, b)\n"
            "    log.study.add_trials([log._frozen(r, False) for r in recs]) if w == 2 else log.append(recs)\n")
    procs = [subprocess.Popen([sys.executable, "-c", code, url, str(w)], cwd=REPO_ROOT,
                              env={**os.environ, "PYTHONPATH": str(REPO_ROOT)}) for w in range(3)]
    assert [p.wait(120) for p in procs] == [0, 0, 0]
    log = TrialLog(url, META, space, ())
    assert sorted(t.number for t in log.study.get_trials()) == list(range(360))
    assert len(log.load()) == 360 and log.duplicates == 0
