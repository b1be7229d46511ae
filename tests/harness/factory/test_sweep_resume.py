"""Sweep storage and resume: a killed sweep resumes with no finished trial lost or repeated, and the
resumed result equals an uninterrupted run (the batch stream is a function of the seed and the told
history)."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from harness.factory.evaluators import ToyEvaluator
from harness.factory.samplers import SAMPLERS
from harness.factory.space import make_space
from harness.factory.storage import TrialLog, repair_journal
from harness.factory.sweep import RESUME_KEYS, SweepSettings, batch_bounds, load_sweep, run_sweep, sweep_score
from harness.schema import REPO_ROOT
from harness.sweep_spec import load_sweep_spec

FULL = REPO_ROOT / "sweeps" / "full_144v.yaml"
BASE = REPO_ROOT / "config" / "strategy_overrides.yaml"


@pytest.fixture(scope="module")
def space():
    return make_space(load_sweep_spec(FULL))


def _run(space, run_dir: Path, trials: int, sampler: str, **kw):
    return run_sweep(space, ToyEvaluator(space.n_axes, seed=1), SweepSettings(
        run_dir, trials, sampler=sampler, seed=5, batch_size=kw.pop("batch", 16), progress=False, base_yaml=BASE, **kw))


def test_batch_bounds() -> None:
    assert batch_bounds(1, 16, True) == []
    assert batch_bounds(35, 16, True) == [(1, 16), (17, 16), (33, 2)]
    assert batch_bounds(32, 16, False) == [(0, 16), (16, 16)]


def test_objective_is_sign_correct() -> None:
    m = np.zeros((4, 9))
    m[:, 8] = 1.0
    m[:, 0] = [100.0, 100.0, -100.0, -100.0]
    m[:, 1] = 0.5
    m[:, 3] = [50, 5, 50, 5]
    s = sweep_score(m)
    assert s.tolist() == [50.0, 25.0, -100.0, -150.0]   # few trades always lowers the score
    m[0, 8] = 0.0
    assert sweep_score(m)[0] == -np.inf


@pytest.mark.parametrize("sampler", [pytest.param(s, marks=pytest.mark.slow) if s in ("cmaes", "optuna-tpe") else s
                                     for s in SAMPLERS])
def test_partial_batch_and_torn_line_resume_equals_uninterrupted(space, tmp_path: Path, sampler: str) -> None:
    ref = _run(space, tmp_path / "ref", 81, sampler)
    assert ref.index.tolist() == list(range(81))
    # a "killed" copy: the journal cut in the middle of the 3rd batch, plus half a line
    lines = (tmp_path / "ref" / "study.journal").read_bytes().splitlines(keepends=True)
    cut = next(k for k, ln in enumerate(lines) if b'"i":40,' in ln or b'"i":40}' in ln)
    killed = tmp_path / "killed"
    killed.mkdir()
    (killed / "study.journal").write_bytes(b"".join(lines[:cut]) + lines[cut][: len(lines[cut]) // 2])
    assert repair_journal(killed / "study.journal") > 0
    (killed / "study.journal").write_bytes(b"".join(lines[:cut]) + lines[cut][: len(lines[cut]) // 2])
    res = _run(space, killed, 81, sampler)
    assert res.resumed_trials == 40 and res.new_trials == 41
    assert res.index.tolist() == list(range(81))
    np.testing.assert_array_equal(res.codes, ref.codes)
    np.testing.assert_array_equal(res.scores, ref.scores)


def test_resume_refuses_another_sweep(space, tmp_path: Path) -> None:
    _run(space, tmp_path, 17, "tpe")
    with pytest.raises(Exception, match="cannot resume.*: seed was"):
        run_sweep(space, ToyEvaluator(space.n_axes), SweepSettings(tmp_path, 33, sampler="tpe", seed=6,
                                                                   batch_size=16, progress=False, base_yaml=BASE))
    assert "seed" in RESUME_KEYS


def test_extending_a_finished_sweep_adds_only_new_trials(space, tmp_path: Path) -> None:
    first = _run(space, tmp_path, 33, "qmc")
    more = _run(space, tmp_path, 65, "qmc")
    assert first.new_trials == 33 and more.resumed_trials == 33 and more.new_trials == 32
    np.testing.assert_array_equal(more.codes[:33], first.codes)


def test_record_params_writes_native_optuna_params(space, tmp_path: Path) -> None:
    import optuna

    _run(space, tmp_path, 17, "random", record_params=True)
    study = optuna.load_study(study_name="driftgate-sweep",
                              storage=optuna.storages.JournalStorage(
                                  optuna.storages.journal.JournalFileBackend(str(tmp_path / "study.journal"))))
    trials = [t for t in study.trials if t.user_attrs["i"] > 0]
    assert len(trials) == 16 and len(trials[0].params) == len(space.free)
    assert all(isinstance(d, optuna.distributions.IntDistribution) for d in trials[0].distributions.values())
    back = load_sweep(space, tmp_path)
    assert back.index.tolist() == list(range(17))


KILL_SCRIPT = """
import sys
from pathlib import Path
sys.path.insert(0, {root!r})
from harness.factory.evaluators import ToyEvaluator
from harness.factory.space import make_space
from harness.factory.sweep import SweepSettings, run_sweep
from harness.sweep_spec import load_sweep_spec
space = make_space(load_sweep_spec({spec!r}))
run_sweep(space, ToyEvaluator(space.n_axes, seed=1, seconds_per_batch=0.1),
          SweepSettings(Path({run!r}), {trials}, sampler={sampler!r}, seed=5, batch_size=16, progress=False,
                        base_yaml=Path({base!r})))
"""


@pytest.mark.parametrize("sampler", ["tpe", pytest.param("cmaes", marks=pytest.mark.slow)])
def test_kill_mid_sweep_then_resume(space, tmp_path: Path, sampler: str) -> None:
    run = tmp_path / "run"
    trials = 161
    script = KILL_SCRIPT.format(root=str(REPO_ROOT), spec=str(FULL), run=str(run), trials=trials, base=str(BASE),
                                sampler=sampler)
    proc = subprocess.Popen([sys.executable, "-c", script], start_new_session=True)
    journal = run / "study.journal"
    deadline = time.time() + 60
    try:
        while time.time() < deadline:
            if journal.is_file() and journal.read_bytes().count(b'"op_code":4') >= 40:
                break
            if proc.poll() is not None:
                break
            time.sleep(0.05)
        assert proc.poll() is None, "the sweep finished before it could be killed"
        os.killpg(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    stored = journal.read_bytes().count(b'"op_code":4')
    assert 0 < stored < trials
    res = _run(space, run, trials, sampler)
    assert res.resumed_trials + res.new_trials == trials
    assert res.index.tolist() == list(range(trials))
    log = TrialLog(f"journal:{journal}", {}, space, ())
    assert len(log.load()) == trials and log.duplicates == 0
    ref = _run(space, tmp_path / "ref", trials, sampler)
    np.testing.assert_array_equal(res.codes, ref.codes)
