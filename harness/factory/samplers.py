"""Batched samplers over the index space (one ``--sampler`` option).

Every sampler proposes whole batches of index rows ``(n, n_axes)`` and learns from whole batches:

* ``ask(batch_no, first, n)`` — the rows of batch ``batch_no`` whose first trial has sweep index
  ``first``; a pure function of the seed, ``batch_no`` and the batches told so far;
* ``tell(idx, scores)`` — one finished batch (scores are maximised; non-finite = worst);
* ``replay(batch_no, first, idx, scores)`` — re-learn a stored batch on resume (default: ``tell``;
  stateful samplers re-ask first and check the stream is unchanged).

So a resumed sweep regenerates exactly the batches an uninterrupted one would have produced.

| name         | algorithm                                                                 | cost per trial |
|--------------|---------------------------------------------------------------------------|----------------|
| ``random``   | uniform indices, ``default_rng([seed, batch_no])``                         | ~µs            |
| ``qmc``      | scrambled Sobol (scipy, what optuna's QMCSampler wraps), floor(u × size)    | ~µs            |
| ``cmaes``    | CMA-ES (the ``cmaes`` library optuna's CmaEsSampler wraps), x reflected   | ~µs            |
|              | into [0,1]^d, index = floor(u × size), population = batch size, one       |                |
|              | vectorised draw per generation, restart on stop                           |                |
| ``tpe``      | univariate TPE over the discrete indices, windowed history (elite + recent),| ~µs            |
|              | exact best-of-``n_ei`` ratio sampling, vectorised per batch                |                |
| ``optuna-tpe`` | stock ``optuna.samplers.TPESampler`` asked trial by trial on an in-memory  | 10-100 ms      |
|              | model study holding the same windowed history                             |                |

Design choices recorded in the run metadata (they change the stream): seed, batch size, window
sizes, gamma, prior weight, n_ei, startup trials, CMA sigma0 and restarts.
"""
from __future__ import annotations

import math
import warnings
from typing import Protocol

import numpy as np

from harness.errors import ConfigError, SweepError

SAMPLERS = ("tpe", "cmaes", "qmc", "random", "optuna-tpe")


class BatchSampler(Protocol):
    name: str

    def ask(self, batch_no: int, first: int, n: int) -> np.ndarray: ...

    def tell(self, idx: np.ndarray, scores: np.ndarray) -> None: ...

    def replay(self, batch_no: int, first: int, idx: np.ndarray, scores: np.ndarray) -> None: ...

    def meta(self) -> dict: ...


def _clean(scores: np.ndarray) -> np.ndarray:
    s = np.asarray(scores, dtype=np.float64).copy()
    s[~np.isfinite(s)] = -np.inf
    return s


class _Base:
    name = "base"

    def __init__(self, sizes: np.ndarray, seed: int) -> None:
        self.sizes = np.asarray(sizes, dtype=np.int64)
        self.free = np.flatnonzero(self.sizes > 1)
        self.seed = int(seed)

    def _full(self, n: int, free_cols: np.ndarray) -> np.ndarray:
        out = np.zeros((n, len(self.sizes)), dtype=np.int64)
        out[:, self.free] = free_cols
        return out

    def tell(self, idx: np.ndarray, scores: np.ndarray) -> None:  # noqa: ARG002 - stateless
        return None

    def replay(self, batch_no: int, first: int, idx: np.ndarray, scores: np.ndarray) -> None:
        self.tell(idx, scores)

    def meta(self) -> dict:
        return {"sampler": self.name, "seed": self.seed}


class RandomBatchSampler(_Base):
    name = "random"

    def ask(self, batch_no: int, first: int, n: int) -> np.ndarray:
        rng = np.random.default_rng([self.seed, batch_no])
        return self._full(n, rng.integers(0, self.sizes[self.free], size=(n, len(self.free))))


class QMCBatchSampler(_Base):
    """Scrambled Sobol; sample number ``first - 1`` .. (index 0 is the baseline trial)."""

    name = "qmc"

    def __init__(self, sizes: np.ndarray, seed: int) -> None:
        super().__init__(sizes, seed)
        self._engine = None
        self._pos = -1

    def ask(self, batch_no: int, first: int, n: int) -> np.ndarray:
        from scipy.stats import qmc

        pos = max(first - 1, 0)
        if self._engine is None or self._pos != pos:
            self._engine = qmc.Sobol(d=max(len(self.free), 1), scramble=True, seed=self.seed)
            if pos:
                self._engine.fast_forward(pos)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # balance properties need powers of two; fine here
            u = self._engine.random(n)
        self._pos = pos + n
        cols = np.minimum((u[:, :len(self.free)] * self.sizes[self.free]).astype(np.int64),
                          self.sizes[self.free] - 1)
        return self._full(n, cols)


class CmaBatchSampler(_Base):
    """CMA-ES on [0,1]^d (one generation per batch); index = floor(x × size)."""

    name = "cmaes"

    def __init__(self, sizes: np.ndarray, seed: int, popsize: int, sigma0: float = 0.3) -> None:
        super().__init__(sizes, seed)
        self.popsize, self.sigma0 = int(popsize), float(sigma0)
        self.restarts = 0
        self._cma = self._new()
        self._pending: np.ndarray | None = None

    def _new(self):
        from cmaes import CMA

        d = max(len(self.free), 2)
        return CMA(mean=np.full(d, 0.5), sigma=self.sigma0, seed=self.seed + 7919 * self.restarts,
                   population_size=max(self.popsize, 2))

    def _sample(self, n: int) -> np.ndarray:
        """``n`` solutions in one matrix product (the same N(m, σ²C) draw as ``CMA.ask``)."""
        cma = self._cma
        try:
            B, D = cma._eigen_decomposition()
            z = cma._rng.randn(n, cma.dim)
            return cma._mean + cma._sigma * (z @ (B * D).T)
        except AttributeError:  # another cmaes layout: its own (slower) ask
            return np.array([cma.ask() for _ in range(n)])

    def ask(self, batch_no: int, first: int, n: int) -> np.ndarray:
        xs = self._sample(n)
        self._pending = xs
        u = 1.0 - np.abs(np.mod(xs[:, :len(self.free)], 2.0) - 1.0)   # reflect into [0, 1]
        cols = np.minimum((u * self.sizes[self.free]).astype(np.int64), self.sizes[self.free] - 1)
        return self._full(n, cols)

    def tell(self, idx: np.ndarray, scores: np.ndarray) -> None:
        if self._pending is None or len(self._pending) != len(scores):
            raise SweepError("<sweep>: cmaes told a batch it did not ask")
        xs, self._pending = self._pending, None
        if len(xs) != self._cma.population_size:
            return  # a short last batch: nothing to learn for a next generation
        s = _clean(scores)
        worst = np.min(s[np.isfinite(s)]) if np.isfinite(s).any() else 0.0
        s[~np.isfinite(s)] = worst - 1.0 - abs(worst)
        self._cma.tell([(x, float(-v)) for x, v in zip(xs, s)])  # CMA minimises
        if self._cma.should_stop():
            self.restarts += 1
            self._cma = self._new()

    def replay(self, batch_no: int, first: int, idx: np.ndarray, scores: np.ndarray) -> None:
        again = self.ask(batch_no, first, len(idx))
        if not np.array_equal(again, idx):
            raise SweepError("<resume>: cmaes regenerated a different batch than the stored one; the "
                             "sampler or its library changed since the sweep started; fix: start a new run")
        self.tell(idx, scores)

    def meta(self) -> dict:
        return {**super().meta(), "popsize": self.popsize, "sigma0": self.sigma0, "space": "R^d reflected into [0,1]^d, index = floor(u x size)",
                "restart": "same popsize, seed + 7919 * restarts"}


class WindowedHistory:
    """The history a model sees: the ``n_elite`` best trials plus the ``n_recent`` latest ones."""

    def __init__(self, n_elite: int, n_recent: int) -> None:
        self.n_elite, self.n_recent = int(n_elite), int(n_recent)
        self._idx: list[np.ndarray] = []
        self._scores: list[np.ndarray] = []
        self._order: list[np.ndarray] = []
        self._count = 0

    def add(self, idx: np.ndarray, scores: np.ndarray) -> None:
        self._idx.append(np.asarray(idx, dtype=np.int64))
        self._scores.append(_clean(scores))
        self._order.append(np.arange(self._count, self._count + len(scores)))
        self._count += len(scores)
        idx_all, s_all, o_all = (np.concatenate(x) for x in (self._idx, self._scores, self._order))
        if len(s_all) > self.n_elite + self.n_recent:
            elite = np.lexsort((o_all, -s_all))[:self.n_elite]          # best, ties by age
            recent = np.arange(len(s_all) - self.n_recent, len(s_all))
            keep = np.union1d(elite, recent)
            idx_all, s_all, o_all = idx_all[keep], s_all[keep], o_all[keep]
        self._idx, self._scores, self._order = [idx_all], [s_all], [o_all]

    @property
    def size(self) -> int:
        return int(sum(len(s) for s in self._scores))

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if not self._scores:
            return np.zeros((0, 0), dtype=np.int64), np.zeros(0), np.zeros(0, dtype=np.int64)
        return self._idx[0], self._scores[0], self._order[0]


def _gamma(n: int) -> int:
    """optuna's default split: ``min(ceil(0.1 n), 25)``."""
    return min(int(math.ceil(0.1 * n)), 25)


class TpeBatchSampler(_Base):
    """Univariate TPE over discrete indices (optuna's categorical Parzen estimator, batched).

    Per axis, ``l(v)`` and ``g(v)`` are the prior-smoothed frequencies of value ``v`` among the
    better ``gamma(n)`` trials of the window and among the rest; TPE draws ``n_ei`` candidates from
    ``l`` and keeps the one with the largest ``l/g``. On a finite value set the law of that choice
    is exact: with values ordered by ``l/g``, ``P(v) = L(<= v)^n_ei - L(< v)^n_ei``, so a batch is
    sampled in one vectorised draw per axis. Axes are independent (optuna's default
    ``multivariate=False``). The first ``n_startup`` trials are uniform.
    """

    name = "tpe"

    def __init__(self, sizes: np.ndarray, seed: int, n_elite: int = 512, n_recent: int = 2048,
                 n_startup: int = 256, n_ei: int = 24, prior_weight: float = 1.0,
                 gamma_fraction: float | None = None) -> None:
        super().__init__(sizes, seed)
        self.hist = WindowedHistory(n_elite, n_recent)
        self.n_startup, self.n_ei, self.prior_weight = int(n_startup), int(n_ei), float(prior_weight)
        self.gamma_fraction = gamma_fraction
        self.told = 0

    def _n_below(self, n: int) -> int:
        if self.gamma_fraction is not None:
            return max(1, int(math.ceil(self.gamma_fraction * n)))
        return max(1, _gamma(n))

    def probabilities(self) -> list[np.ndarray]:
        """Per free axis: the law of TPE's choice given the current window."""
        idx, scores, order = self.hist.arrays()
        n = len(scores)
        ranked = np.lexsort((order, -scores))
        below = np.zeros(n, dtype=bool)
        below[ranked[:self._n_below(n)]] = True
        out = []
        for j in self.free:
            k = int(self.sizes[j])
            prior = self.prior_weight / k
            cb = np.bincount(idx[below, j], minlength=k).astype(np.float64)
            ca = np.bincount(idx[~below, j], minlength=k).astype(np.float64)
            lv = (cb + prior) / (cb.sum() + self.prior_weight)
            gv = (ca + prior) / (ca.sum() + self.prior_weight)
            ratio_order = np.lexsort((np.arange(k), lv / gv))        # ascending ratio, ties by index
            cdf = np.cumsum(lv[ratio_order])
            cdf[-1] = 1.0
            prev = np.concatenate(([0.0], cdf[:-1]))
            p = np.empty(k)
            p[ratio_order] = cdf ** self.n_ei - prev ** self.n_ei
            out.append(p / p.sum())
        return out

    def ask(self, batch_no: int, first: int, n: int) -> np.ndarray:
        rng = np.random.default_rng([self.seed, batch_no])
        if self.told < self.n_startup or self.hist.size < 2:
            return self._full(n, rng.integers(0, self.sizes[self.free], size=(n, len(self.free))))
        u = rng.random((n, len(self.free)))
        cols = np.empty((n, len(self.free)), dtype=np.int64)
        for c, p in enumerate(self.probabilities()):
            cols[:, c] = np.minimum(np.searchsorted(np.cumsum(p), u[:, c], side="right"), len(p) - 1)
        return self._full(n, cols)

    def tell(self, idx: np.ndarray, scores: np.ndarray) -> None:
        self.hist.add(idx, scores)
        self.told += len(scores)

    def meta(self) -> dict:
        return {**super().meta(), "kind": "univariate discrete TPE (batched, exact best-of-n_ei law)",
                "n_elite": self.hist.n_elite, "n_recent": self.hist.n_recent, "n_startup": self.n_startup,
                "n_ei": self.n_ei, "prior_weight": self.prior_weight,
                "gamma": "min(ceil(0.1 n), 25)" if self.gamma_fraction is None else self.gamma_fraction}


class OptunaTpeSampler(_Base):
    """Stock optuna TPESampler on an in-memory model study holding the windowed history.

    A fresh ``TPESampler(seed=f(seed, batch_no))`` per batch keeps the stream a function of the told
    history (resume-safe); trials are asked one by one with fixed distributions (optuna's cost).
    """

    name = "optuna-tpe"

    def __init__(self, sizes: np.ndarray, seed: int, distributions: dict, paths: tuple[str, ...],
                 n_elite: int = 256, n_recent: int = 768, n_startup: int = 256) -> None:
        super().__init__(sizes, seed)
        self.hist = WindowedHistory(n_elite, n_recent)
        self.dists, self.paths = distributions, paths
        self.n_startup = int(n_startup)
        self.told = 0

    def ask(self, batch_no: int, first: int, n: int) -> np.ndarray:
        import optuna
        from optuna.trial import create_trial

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        if self.told < self.n_startup:
            rng = np.random.default_rng([self.seed, batch_no])
            return self._full(n, rng.integers(0, self.sizes[self.free], size=(n, len(self.free))))
        sampler = optuna.samplers.TPESampler(seed=int(np.random.SeedSequence([self.seed, batch_no])
                                                      .generate_state(1)[0]), n_startup_trials=0)
        study = optuna.create_study(direction="maximize", sampler=sampler)
        idx, scores, _ = self.hist.arrays()
        study.add_trials([create_trial(value=float(s) if np.isfinite(s) else -1e300,
                                       params={self.paths[j]: int(row[j]) for j in self.free},
                                       distributions=self.dists) for row, s in zip(idx, scores)])
        rows = []
        for _ in range(n):
            trial = study.ask(self.dists)
            rows.append([trial.params[self.paths[j]] for j in self.free])
            study.tell(trial, state=optuna.trial.TrialState.FAIL)  # not part of the model's history
        return self._full(n, np.array(rows, dtype=np.int64).reshape(n, len(self.free)))

    def tell(self, idx: np.ndarray, scores: np.ndarray) -> None:
        self.hist.add(idx, scores)
        self.told += len(scores)

    def meta(self) -> dict:
        return {**super().meta(), "kind": "optuna.samplers.TPESampler (stock, univariate) on a windowed model study",
                "n_elite": self.hist.n_elite, "n_recent": self.hist.n_recent, "n_startup": self.n_startup}


def make_sampler(name: str, sizes: np.ndarray, seed: int, batch_size: int,
                 distributions: dict | None = None, paths: tuple[str, ...] = ()) -> BatchSampler:
    """The sampler behind ``--sampler NAME``."""
    if name == "random":
        return RandomBatchSampler(sizes, seed)
    if name == "qmc":
        return QMCBatchSampler(sizes, seed)
    if name == "cmaes":
        return CmaBatchSampler(sizes, seed, popsize=batch_size)
    if name == "tpe":
        return TpeBatchSampler(sizes, seed, n_startup=min(256, batch_size) if batch_size > 1 else 10)
    if name == "optuna-tpe":
        return OptunaTpeSampler(sizes, seed, distributions or {}, paths,
                                n_startup=min(256, batch_size) if batch_size > 1 else 10)
    raise ConfigError(f"--sampler {name!r}: unknown sampler; fix: one of {', '.join(SAMPLERS)}")
