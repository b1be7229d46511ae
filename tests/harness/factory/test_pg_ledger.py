"""RDB study ledger: the bulk append writes exactly what ``study.add_trials`` writes, the bulk load
reads back exactly what ``study.get_trials`` gives (SQLite always, PostgreSQL in the slow tests), and
``ledger_lock`` gives one writer per study stream."""
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

from harness.errors import DriftgateError, SweepError
from harness.factory import storage
from harness.factory.space import make_space
from harness.factory.storage import (TrialLog, TrialRecord, _rdb_batch_append, _rdb_bulk_load, advisory_key,
                                     engine_kwargs_for, ledger_lock)
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


# -- bulk load (optuna's tables read directly) vs study.get_trials ----------------------------------

INF, NAN = float("inf"), float("nan")


def _mixed_ledger(url: str, space) -> None:
    """A study with all a load must tell apart: batches of grid records, FAIL records (load error,
    -inf/+inf/NaN score), the off-grid baseline (``c``), NaN/±inf metrics, another stream with the
    same sweep indices, duplicate indices (first record wins), a RUNNING trial, a foreign trial
    without ``i``, and COMPLETE trials optuna wrote itself with ±inf values (INF_POS/INF_NEG rows)."""
    import optuna

    main = TrialLog(url, META, space, ())
    other = TrialLog(url, META, space, (), stream="desk-b")
    recs = _records(space, 0, 40, seed=11)
    recs[1].metrics[2] = NAN
    recs[2].metrics[:3] = [INF, -INF, NAN]
    recs[4].score = NAN                                    # -> FAIL, no value row
    recs[6].score = INF                                    # -> FAIL
    recs[8].score = 0.0
    recs[9].score = -1e-300
    main.append(recs[:11])
    main.study.ask()                                       # RUNNING: neither path loads it
    other.append(_records(space, 1, 9, seed=12))           # same indices 1..9, stream desk-b
    main.append(recs[11:30])
    dup = TrialRecord(5, idx=recs[5].idx, codes=recs[5].codes, metrics=[1.0], score=123.0)
    main.append([dup, recs[9], recs[3]])                   # duplicates: the first records win
    main.study.add_trial(optuna.trial.create_trial(value=1.5))          # not ours: no "i"
    base = [float(c) for c in recs[12].codes]
    for i, v in ((900, INF), (901, -INF), (902, 2.5)):
        main.study.add_trial(optuna.trial.create_trial(
            value=v, user_attrs={"i": i, "m": [NAN, INF, v], "c": base}))
    other.append([dup])                                    # a duplicate in the other stream too
    main.append(recs[30:])


def _old_load(log: TrialLog) -> dict[int, TrialRecord]:
    """``TrialLog.load`` as it was before the bulk path (``get_trials``, one-by-one decoding)."""
    from optuna.trial import TrialState

    out: dict[int, TrialRecord] = {}
    log.duplicates = 0
    for t in log.study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.FAIL)):
        if "i" not in t.user_attrs or t.user_attrs.get("s", "main") != log.stream:
            continue
        i = int(t.user_attrs["i"])
        if i in out:
            log.duplicates += 1
            continue
        rec = TrialRecord(i, metrics=[float(v) for v in t.user_attrs.get("m", [])],
                          score=t.value, error=t.user_attrs.get("err"))
        if "x" in t.user_attrs:
            rec.idx = log.space.unpack(t.user_attrs["x"])
            rec.codes = log.space.codes(rec.idx[None, :])[0]
        else:
            rec.codes = np.array(t.user_attrs["c"], dtype=np.float64)
        out[i] = rec
    return out


def _assert_same_records(got: dict[int, TrialRecord], want: dict[int, TrialRecord]) -> None:
    assert list(got) == list(want)                         # same keys, same (trial-number) order
    for i, w in want.items():
        g = got[i]
        assert g.index == w.index == i
        assert g.codes.dtype == w.codes.dtype == np.float64 and g.codes.shape == w.codes.shape
        assert g.codes.tobytes() == w.codes.tobytes()      # bitwise
        if w.idx is None:
            assert g.idx is None
        else:
            assert g.idx.dtype == w.idx.dtype and g.idx.tobytes() == w.idx.tobytes()
        assert len(g.metrics) == len(w.metrics) and all(type(v) is float for v in g.metrics)
        assert np.array(g.metrics, dtype=np.float64).tobytes() == np.array(w.metrics, dtype=np.float64).tobytes()
        assert type(g.score) is type(w.score) and (g.score == w.score or g.score is w.score is None)
        assert g.error == w.error


def _assert_bulk_load_equals_get_trials(url: str, space, monkeypatch) -> None:
    _mixed_ledger(url, space)
    real = storage._rdb_bulk_load
    for stream in ("main", "desk-b"):
        log = TrialLog(url, META, space, (), stream=stream)
        used: list[bool] = []
        with monkeypatch.context() as m:
            m.setattr(storage, "_rdb_bulk_load", lambda *a: used.append(True) or real(*a))
            bulk, bulk_dups = log.load(), log.duplicates
        assert used == [True]
        assert real(log.storage, log.study._study_id) is not None
        with monkeypatch.context() as m:
            m.setattr(storage, "_rdb_bulk_load", lambda *a: None)      # forced through get_trials
            via_optuna, optuna_dups = log.load(), log.duplicates
        old, old_dups = _old_load(log), log.duplicates
        _assert_same_records(bulk, via_optuna)
        _assert_same_records(bulk, old)
        assert bulk_dups == optuna_dups == old_dups
        if stream == "main":
            assert sorted(bulk) == list(range(40)) + [900, 901, 902] and bulk_dups == 3
            assert bulk[5].score != 123.0 and bulk[0].idx is None and bulk[900].idx is None
            assert bulk[900].score == INF and bulk[901].score == -INF and bulk[902].score == 2.5
            assert bulk[4].score is None and bulk[6].score is None and bulk[9].score == -1e-300
            assert np.isnan(bulk[1].metrics[2]) and bulk[2].metrics[:2] == [INF, -INF]
            assert bulk[3].error == "load failed: axis 3" and bulk[3].score is None
        else:
            assert sorted(bulk) == list(range(1, 10)) and bulk_dups == 1


def test_sqlite_bulk_load_equals_get_trials(space, tmp_path: Path, monkeypatch) -> None:
    _assert_bulk_load_equals_get_trials(f"sqlite:///{tmp_path / 'x.db'}", space, monkeypatch)


def test_bulk_load_declines_journals_and_keeps_their_path(space, tmp_path: Path, monkeypatch) -> None:
    log = TrialLog(f"journal:{tmp_path / 's.journal'}", META, space, ())
    assert _rdb_bulk_load(log.storage, log.study._study_id) is None
    recs = _records(space, 0, 12, seed=4)
    log.append(recs)
    monkeypatch.setattr(storage, "_rdb_bulk_load", lambda *a: pytest.fail("bulk load on a journal"))
    back = log.load()
    _assert_same_records(back, _old_load(log))
    assert sorted(back) == list(range(12))


@pytest.mark.parametrize("x, error", [("0" * 5, SweepError), ("#" * 148, ValueError), ("é" * 148, ValueError)])
def test_sqlite_bad_index_string_fails_the_same_either_way(space, tmp_path: Path, monkeypatch, x, error) -> None:
    """A malformed ``x`` (one decoded in the batch would be wrong) raises the space's own error."""
    import optuna

    url = f"sqlite:///{tmp_path / 'x.db'}"
    log = TrialLog(url, META, space, ())
    log.append(_records(space, 1, 5, seed=2))
    log.study.add_trial(optuna.trial.create_trial(value=1.0, user_attrs={"i": 7, "m": [], "x": x}))
    log.append(_records(space, 8, 5, seed=3))
    with pytest.raises(error) as bulk_err:
        log.load()
    with pytest.raises(error) as old_err:
        _old_load(log)
    assert str(bulk_err.value) == str(old_err.value)
    with monkeypatch.context() as m:
        m.setattr(storage, "_rdb_bulk_load", lambda *a: None)
        with pytest.raises(error) as optuna_err:
            log.load()
    assert str(optuna_err.value) == str(old_err.value)


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


@pytest.mark.slow
def test_postgres_bulk_load_equals_get_trials(space, local_pg, monkeypatch) -> None:
    _assert_bulk_load_equals_get_trials(local_pg.database_url("bulk_load"), space, monkeypatch)
