"""Batched samplers: no index row is evaluated twice (until the space is exhausted), TPE keeps
exploring on a plateau, the window cannot be flooded by copies of one row, and a seeded batch
sequence is deterministic (also through ``replay``, the resume path)."""
from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from harness.errors import SweepError
from harness.factory.evaluators import ToyEvaluator
from harness.factory.samplers import (SAMPLERS, CmaBatchSampler, RandomBatchSampler, RowHashes, TpeBatchSampler,
                                      WindowedHistory, make_sampler)
from harness.factory.space import make_space
from harness.factory.sweep import SweepSettings, run_sweep, sweep_score
from harness.schema import REPO_ROOT
from harness.sweep_spec import load_sweep_spec

FULL = REPO_ROOT / "sweeps" / "full_144v.yaml"
BASE = REPO_ROOT / "config" / "strategy_overrides.yaml"
SMALL = np.array([3, 3, 3, 3, 2, 2, 1])          # 324 rows; the last axis is fixed


@pytest.fixture(scope="module")
def full():
    return make_space(load_sweep_spec(FULL))


def plateau(idx: np.ndarray) -> np.ndarray:
    """One big flat top: only axis 0 matters (the old TPE proposed one row for whole batches here)."""
    return np.where(idx[:, 0] == 0, 1.0, 0.0)


def drive(sampler, objective, trials: int, batch: int) -> tuple[np.ndarray, list[np.ndarray]]:
    rows, batches = [], []
    for b, first in enumerate(range(0, trials, batch)):
        idx = sampler.ask(b, first, min(batch, trials - first))
        sampler.tell(idx, objective(idx))
        rows.append(idx)
        batches.append(idx)
    return np.concatenate(rows), batches


def n_unique(rows: np.ndarray) -> int:
    return len({r.tobytes() for r in np.asarray(rows, dtype=np.int64)})


def reference_law(s: TpeBatchSampler) -> list[np.ndarray]:
    """The per-axis loop the vectorised law replaced (optuna's categorical estimator, best of n_ei)."""
    idx, scores, order = s.hist.arrays()
    ranked = np.lexsort((order, -scores))
    below = np.zeros(len(scores), dtype=bool)
    below[ranked[:s._n_below(len(scores))]] = True
    out = []
    for j in s.free:
        k = int(s.sizes[j])
        prior = s.prior_weight / k
        cb = np.bincount(idx[below, j], minlength=k).astype(float)
        ca = np.bincount(idx[~below, j], minlength=k).astype(float)
        lv, gv = (cb + prior) / (cb.sum() + s.prior_weight), (ca + prior) / (ca.sum() + s.prior_weight)
        o = np.lexsort((np.arange(k), lv / gv))
        cdf = np.cumsum(lv[o])
        cdf[-1] = 1.0
        prev = np.concatenate(([0.0], cdf[:-1]))
        p = np.empty(k)
        p[o] = cdf ** s.n_ei - prev ** s.n_ei
        out.append(p / p.sum())
    return out


def test_tpe_law_on_a_plateau_is_a_point_mass_without_the_floor() -> None:
    """The mechanism of the bug: once the 'below' trials agree, best-of-24 picks one value per axis."""
    s = TpeBatchSampler(SMALL, seed=3, n_startup=32, prior_floor=0.0, explore_fraction=0.0)
    drive(s, plateau, 96, 32)
    for p, ref in zip(s.probabilities(), reference_law(s)):
        np.testing.assert_allclose(p, ref, rtol=1e-12, atol=1e-15)
    assert max(p.max() for p in s.probabilities()) > 0.99
    floored = TpeBatchSampler(SMALL, seed=3, n_startup=32)
    drive(floored, plateau, 96, 32)
    for p, k in zip(floored.probabilities(), SMALL[SMALL > 1]):
        assert p.min() >= floored.prior_floor / k - 1e-12 and abs(p.sum() - 1.0) < 1e-12


@pytest.mark.parametrize("name", ["tpe", "random", "qmc", "cmaes"])
def test_plateau_rows_are_unique_until_the_space_is_exhausted(name: str) -> None:
    space_rows = int(np.prod(SMALL))
    s = make_sampler(name, SMALL, seed=11, batch_size=32)
    with pytest.warns(UserWarning, match="exhausted"):
        rows, _ = drive(s, plateau, 352, 32)
    assert n_unique(rows[:space_rows]) == space_rows                 # the whole space, no repeat
    d = s.meta()["dedup"]
    assert d["exhausted_at_batch"] == space_rows // 32               # batch 10 holds trials 320..351
    assert d["repeated"] == 352 - space_rows
    assert d["distinct_rows_told"] == space_rows
    assert d["duplicates"] == d["resampled"] + d["mutated"] + d["enumerated"] + d["repeated"]
    if name == "tpe":
        assert d["duplicates"] > 0 and d["resampled"] + d["mutated"] + d["enumerated"] > 0


def test_tpe_plateau_on_the_full_space_is_all_unique(full) -> None:
    ev = ToyEvaluator(full.n_axes, seed=2)

    def coarse(idx):
        return np.floor(sweep_score(ev.evaluate(full.codes(idx))) / 2000.0)   # wide plateaus

    s = make_sampler("tpe", full.sizes, seed=42, batch_size=256)
    rows, _ = drive(s, coarse, 2048, 256)
    assert n_unique(rows) == len(rows)
    assert s.meta()["dedup"]["repeated"] == 0 and s.meta()["dedup"]["exhausted_at_batch"] is None


def test_dedup_mutates_when_the_law_is_a_point_mass() -> None:
    """A sampler with no redraw (cmaes, optuna-tpe) falls back to mutations of the proposal."""
    s = RandomBatchSampler(SMALL, seed=1)
    rng = np.random.default_rng(0)
    same = np.zeros((20, len(SMALL)), dtype=np.int64)
    rows = s._unique(same, 0, rng, None)
    assert n_unique(rows) == 20 and (rows[0] == 0).all()
    assert s.dedup["duplicates"] == 19 and s.dedup["mutated"] == 19
    assert ((rows != 0).sum(axis=1)[1:] <= 3).all()                   # near the proposal


def test_seeded_batch_sequence_is_deterministic_and_replay_matches(full) -> None:
    ev = ToyEvaluator(full.n_axes, seed=4)

    def obj(idx):
        return np.round(sweep_score(ev.evaluate(full.codes(idx))), -3)

    a = make_sampler("tpe", full.sizes, seed=9, batch_size=64)
    b = make_sampler("tpe", full.sizes, seed=9, batch_size=64)
    _, ba = drive(a, obj, 640, 64)
    _, bb = drive(b, obj, 640, 64)
    for x, y in zip(ba, bb):
        np.testing.assert_array_equal(x, y)
    assert a.meta() == b.meta()
    other = make_sampler("tpe", full.sizes, seed=10, batch_size=64)
    assert not np.array_equal(drive(other, obj, 64, 64)[0], ba[0])
    # resume: replay the first 6 stored batches, then ask the 7th: the same rows and counters
    r = make_sampler("tpe", full.sizes, seed=9, batch_size=64)
    for k in range(6):
        r.replay(k, 64 * k, ba[k], obj(ba[k]))
    np.testing.assert_array_equal(r.ask(6, 384, 64), ba[6])
    ref = make_sampler("tpe", full.sizes, seed=9, batch_size=64)
    drive(ref, obj, 384, 64)
    ref.ask(6, 384, 64)
    assert r.meta() == ref.meta()
    bad = make_sampler("tpe", full.sizes, seed=9, batch_size=64)
    with pytest.raises(SweepError, match="regenerated a different batch"):
        bad.replay(0, 0, ba[1], obj(ba[1]))


def test_small_space_sequence_with_dedup_is_deterministic() -> None:
    runs = []
    for _ in range(2):
        s = make_sampler("tpe", SMALL, seed=5, batch_size=32)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            runs.append((drive(s, plateau, 352, 32)[0], s.meta()))
    np.testing.assert_array_equal(runs[0][0], runs[1][0])
    assert runs[0][1] == runs[1][1]


def test_window_cannot_be_flooded_by_copies_of_one_row() -> None:
    h = WindowedHistory(n_elite=4, n_recent=8)
    best = np.array([[1, 2, 0]])
    h.add(np.repeat(best, 50, axis=0), np.full(50, 9.0))
    h.add(np.array([[0, 0, 0], [0, 1, 0]]), np.array([1.0, 2.0]))
    h.add(np.repeat(best, 30, axis=0), np.full(30, 9.0))
    idx, scores, order = h.arrays()
    assert n_unique(idx) == len(idx) == 3
    assert order[np.flatnonzero((idx == best).all(axis=1))[0]] == 0          # its first copy kept


def test_row_hashes_membership_and_scores(full) -> None:
    rh = RowHashes(len(SMALL))
    grid = np.stack(np.meshgrid(*[np.arange(k) for k in SMALL], indexing="ij"), -1).reshape(-1, len(SMALL))
    h = rh.hash(grid)
    assert len(np.unique(h)) == len(grid)                              # no collision on the whole space
    rh.add(h[:100], np.arange(100.0))
    rh.add(h[50:150], np.full(100, -1.0))                              # a row already there keeps its score
    assert len(rh) == 150 and rh.contains(h).sum() == 150
    np.testing.assert_array_equal(rh.score_of(h[[0, 99, 120, 200]]), [0.0, 99.0, -1.0, -np.inf])
    rows = np.random.default_rng(0).integers(0, full.sizes, size=(50_000, full.n_axes))
    assert len(np.unique(RowHashes(full.n_axes).hash(rows))) == n_unique(rows)


def test_cmaes_learns_duplicates_with_their_known_score() -> None:
    s = CmaBatchSampler(SMALL, seed=2, popsize=16)
    rows, _ = drive(s, plateau, 160, 16)
    assert n_unique(rows) == len(rows)


def test_random_stream_is_unchanged_where_no_row_repeats(full) -> None:
    s = RandomBatchSampler(full.sizes, seed=3)
    rng = np.random.default_rng([3, 0])
    np.testing.assert_array_equal(s.ask(0, 1, 64)[:, full.free],
                                  rng.integers(0, full.sizes[full.free], size=(64, len(full.free))))


def test_sweep_records_dedup_and_says_when_the_space_is_exhausted(tiny_market, tmp_path) -> None:
    space = make_space(load_sweep_spec(tiny_market["spec"]))
    n_rows = math.prod(int(k) for k in space.sizes)
    trials = n_rows + 1 + 40                                           # baseline + the whole space + 40
    with pytest.warns(UserWarning, match="search space is exhausted"):
        res = run_sweep(space, ToyEvaluator(space.n_axes, seed=1), SweepSettings(
            tmp_path, trials, sampler="tpe", seed=3, batch_size=64, progress=False, base_yaml=BASE))
    assert n_unique(np.array(res.idx[1:n_rows + 1])) == n_rows
    d = res.sampler_meta["dedup"]
    assert d["repeated"] == 40 and d["distinct_rows_told"] == n_rows and d["space_rows"] == n_rows
    assert d["exhausted_at_batch"] == n_rows // 64


@pytest.mark.parametrize("name", [s for s in SAMPLERS if s not in ("optuna-tpe", "cmaes")])  # library-bound
def test_sampler_time_per_trial_stays_small(full, name: str) -> None:
    import time

    ev = ToyEvaluator(full.n_axes, seed=0)
    s = make_sampler(name, full.sizes, seed=1, batch_size=1024)
    spent = 0.0
    for b in range(6):
        t0 = time.perf_counter()
        idx = s.ask(b, 1 + 1024 * b, 1024)
        t1 = time.perf_counter()
        sc = sweep_score(ev.evaluate(full.codes(idx)))
        t2 = time.perf_counter()
        s.tell(idx, sc)
        spent += (t1 - t0) + (time.perf_counter() - t2)
    assert spent / 6144 < 200e-6                                      # generous for CI; measured ~15 µs
