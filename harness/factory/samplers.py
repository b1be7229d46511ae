"""Batched samplers over the index space (one ``--sampler`` option).

Every sampler proposes whole batches of index rows ``(n, n_axes)`` and learns from whole batches:

* ``ask(batch_no, first, n)`` — the rows of batch ``batch_no`` whose first trial has sweep index
  ``first``; a pure function of the seed, ``batch_no`` and the batches told so far;
* ``tell(idx, scores)`` — one finished batch (scores are maximised; non-finite = worst);
* ``recall(batch_no, first, idx)`` — on resume, re-ask a stored batch and check the regenerated rows
  equal the stored ones (``optuna-tpe``: no re-ask, its ask is slow); ``replay`` = recall + tell.

A sweep may ask up to ``in_flight`` batches ahead of the oldest untold one (so cluster workers never
wait for the sampler); tells always come in ask order, and rows of batches in flight count as taken
for the dedup below. Batch ``b`` is asked exactly when batches ``< b − in_flight + 1`` are told, so
the stream is a function of (seed, batch size, in_flight) and a resumed sweep regenerates exactly the
batches an uninterrupted one would have produced, whichever worker evaluated what.

| name         | algorithm                                                                 | cost per trial |
|--------------|---------------------------------------------------------------------------|----------------|
| ``random``   | uniform indices, ``default_rng([seed, batch_no])``                         | ~µs            |
| ``qmc``      | scrambled Sobol (scipy, what optuna's QMCSampler wraps), floor(u × size)    | ~µs            |
| ``cmaes``    | CMA-ES (the ``cmaes`` library optuna's CmaEsSampler wraps), x reflected   | ~µs-ms         |
|              | into [0,1]^d, index = floor(u × size), population = batch size, one       |                |
|              | vectorised draw per generation, restart on stop                           |                |
| ``tpe``      | univariate TPE over the discrete indices, windowed history (elite + recent),| ~µs            |
|              | exact best-of-``n_ei`` ratio sampling with a prior floor, vectorised       |                |
| ``optuna-tpe`` | stock ``optuna.samplers.TPESampler`` asked trial by trial on an in-memory  | 10-100 ms      |
|              | model study holding the same windowed history                             |                |

**No trial is spent twice on one index row.** Every sampler keeps the 64-bit hashes of the rows it
was told (:class:`RowHashes`); a proposal equal to an evaluated row or to an earlier row of its batch
is replaced, deterministically with the batch's own RNG: first redrawn from the sampler's law
(``tpe``, ``random``, ``qmc``), then mutated (a few random axes flipped to another value, more axes
each round), then — in a space of at most ``ENUMERATE_MAX`` rows — drawn from the enumerated unseen
rows. Only when the space is exhausted (every row evaluated) does a batch repeat rows; the sampler
says so (``meta()["dedup"]["exhausted_at_batch"]``, a warning from the sweep). ``cmaes`` learns the
originally sampled points with the known score of the row they hit, so its update is unchanged.

Why (a smoke run, 2,000 trials, batch 256): TPE's best-of-24 law over ``l/g`` is nearly a point mass
on every axis once the 25 "below" trials agree, so a whole batch drew one row; the copies then filled
the below set and the sweep evaluated one configuration for the last quarter of its budget. Besides
the dedup, ``tpe`` keeps exploring: each axis mixes ``prior_floor`` of uniform mass into its law and
``explore_fraction`` of each batch is drawn from the uniform prior; the window never holds two
copies of a row.

Design choices recorded in the run metadata (they change the stream): seed, batch size, window
sizes, gamma, prior weight, n_ei, prior floor, explore fraction, startup trials, CMA sigma0 and
restarts; plus the dedup counters (duplicates proposed, resampled, mutated, enumerated, repeated).
"""
from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from typing import Protocol

import numpy as np

from harness.errors import ConfigError, SweepError

SAMPLERS = ("tpe", "cmaes", "qmc", "random", "optuna-tpe")
ENUMERATE_MAX = 1 << 20          # spaces up to this many rows are enumerated when dedup runs dry
_HASH_SEED = 0x5D6A7E          # fixed: row hashes do not depend on the run seed
_REDRAW_ROUNDS = 3
_MAX_ROUNDS = 40


class BatchSampler(Protocol):
    name: str

    def ask(self, batch_no: int, first: int, n: int) -> np.ndarray: ...

    def tell(self, idx: np.ndarray, scores: np.ndarray) -> None: ...

    def replay(self, batch_no: int, first: int, idx: np.ndarray, scores: np.ndarray) -> None: ...

    def recall(self, batch_no: int, first: int, idx: np.ndarray) -> None: ...

    def meta(self) -> dict: ...


def _clean(scores: np.ndarray) -> np.ndarray:
    s = np.asarray(scores, dtype=np.float64).copy()
    s[~np.isfinite(s)] = -np.inf
    return s


def row_hash_coefficients(n_axes: int) -> np.ndarray:
    """Odd 64-bit multipliers of the row hash ``h = Σ idx_j · c_j  (mod 2^64)``.

    Two different rows (entries 0..35) collide with probability <= 2^-58 over the coefficients, so
    2M evaluated rows hold a spurious collision with probability ~1e-5 (it would only skip a row).
    """
    return np.random.SeedSequence(_HASH_SEED).generate_state(max(int(n_axes), 1), dtype=np.uint64) | np.uint64(1)


class RowHashes:
    """The set of evaluated index rows: sorted 64-bit hashes with the score of each row."""

    def __init__(self, n_axes: int) -> None:
        self.coef = row_hash_coefficients(n_axes)
        self.keys = np.zeros(0, dtype=np.uint64)
        self.scores = np.zeros(0, dtype=np.float64)

    def __len__(self) -> int:
        return len(self.keys)

    def hash(self, rows: np.ndarray) -> np.ndarray:
        rows = np.asarray(rows)
        if rows.ndim != 2 or rows.shape[1] != len(self.coef):
            raise SweepError(f"<sweep>: index rows of shape {rows.shape}; expected (n, {len(self.coef)})")
        return (rows.astype(np.uint64) * self.coef).sum(axis=1, dtype=np.uint64)

    def _find(self, h: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        pos = np.searchsorted(self.keys, h)
        if not len(self.keys):
            return pos, np.zeros(len(h), dtype=bool)
        return pos, self.keys[np.minimum(pos, len(self.keys) - 1)] == h

    def contains(self, h: np.ndarray) -> np.ndarray:
        return self._find(np.asarray(h, dtype=np.uint64))[1]

    def score_of(self, h: np.ndarray) -> np.ndarray:
        pos, found = self._find(np.asarray(h, dtype=np.uint64))
        out = np.full(len(pos), -np.inf)
        out[found] = self.scores[pos[found]]
        return out

    def add(self, h: np.ndarray, scores: np.ndarray) -> None:
        """Add rows (a row already present keeps its first score)."""
        h = np.asarray(h, dtype=np.uint64)
        uh, first = np.unique(h, return_index=True)
        new = ~self.contains(uh)
        uh, us = uh[new], _clean(scores)[first[new]]
        if len(uh):
            at = np.searchsorted(self.keys, uh)
            self.keys = np.insert(self.keys, at, uh)
            self.scores = np.insert(self.scores, at, us)


class _Base:
    name = "base"

    def __init__(self, sizes: np.ndarray, seed: int) -> None:
        self.sizes = np.asarray(sizes, dtype=np.int64)
        self.free = np.flatnonzero(self.sizes > 1)
        self.seed = int(seed)
        self.seen = RowHashes(len(self.sizes))
        self.space_size = math.prod(int(s) for s in self.sizes[self.free])
        self.dedup = {"duplicates": 0, "resampled": 0, "mutated": 0, "enumerated": 0, "repeated": 0,
                      "exhausted_at_batch": None}
        self._asked: list[np.ndarray] = []   # row hashes of batches asked and not yet told, in ask order

    def _full(self, n: int, free_cols: np.ndarray) -> np.ndarray:
        out = np.zeros((n, len(self.sizes)), dtype=np.int64)
        out[:, self.free] = free_cols
        return out

    def _uniform(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return self._full(n, rng.integers(0, self.sizes[self.free], size=(n, len(self.free))))

    # -- dedup ---------------------------------------------------------------------------------
    def _bad(self, h: np.ndarray, todo: np.ndarray, fixed: np.ndarray) -> np.ndarray:
        """Which of the rows ``todo`` (hashes ``h[todo]``) are seen, in ``fixed`` or repeat an earlier one."""
        ht = h[todo]
        bad = self.seen.contains(ht) | np.isin(ht, fixed)
        _, first = np.unique(ht, return_index=True)
        again = np.ones(len(ht), dtype=bool)
        again[first] = False
        return bad | again

    def _mutate(self, rows: np.ndarray, n_flip: int, rng: np.random.Generator) -> np.ndarray:
        """``rows`` with ``n_flip`` random free axes each moved to another value."""
        out = rows.copy()
        nf = len(self.free)
        k = min(max(n_flip, 1), nf)
        axes = self.free[np.argsort(rng.random((len(rows), nf)), axis=1)[:, :k]]
        r = np.arange(len(rows))[:, None]
        size = self.sizes[axes]
        out[r, axes] = (out[r, axes] + rng.integers(1, size)) % size
        return out

    def _enumerate_unseen(self, exclude: np.ndarray) -> np.ndarray:
        """Mixed-radix numbers of the rows of the space whose hash is neither seen nor in ``exclude``."""
        codes = np.arange(self.space_size, dtype=np.int64)
        h = np.zeros(self.space_size, dtype=np.uint64)
        rest = codes.copy()
        for j in self.free:
            h += (rest % self.sizes[j]).astype(np.uint64) * self.seen.coef[j]
            rest //= self.sizes[j]
        return codes[~(self.seen.contains(h) | np.isin(h, exclude))]

    def _decode(self, numbers: np.ndarray) -> np.ndarray:
        cols = np.empty((len(numbers), len(self.free)), dtype=np.int64)
        rest = numbers.copy()
        for c, j in enumerate(self.free):
            cols[:, c] = rest % self.sizes[j]
            rest //= self.sizes[j]
        return self._full(len(numbers), cols)

    def _in_flight_hashes(self) -> np.ndarray:
        return np.concatenate(self._asked) if self._asked else np.zeros(0, dtype=np.uint64)

    def _hold(self, rows: np.ndarray) -> np.ndarray:
        """Register an asked batch as in flight (its rows count as taken until it is told)."""
        self._asked.append(self.seen.hash(rows))
        return rows

    def _unique(self, rows: np.ndarray, batch_no: int, rng: np.random.Generator,
                redraw: Callable[[int], np.ndarray] | None) -> np.ndarray:
        """The batch's final rows (:meth:`_unique_rows`), registered as in flight."""
        return self._hold(self._unique_rows(rows, batch_no, rng, redraw))

    def _unique_rows(self, rows: np.ndarray, batch_no: int, rng: np.random.Generator,
                     redraw: Callable[[int], np.ndarray] | None) -> np.ndarray:
        """``rows`` with every row that repeats an evaluated row, a row of a batch still in flight (asked,
        not told: the sweep may ask ahead, see ``SweepSettings.in_flight``) or an earlier row of the
        batch replaced.

        Deterministic: only ``rng`` (the batch's own generator), the told rows and the rows in flight
        decide (with ``in_flight = 1`` nothing is in flight when a batch is asked). Order of
        remedies: ``redraw(k)`` from the sampler's law, mutations of the proposal with 1, 2, ... flipped
        axes, the enumerated unseen rows (spaces <= ``ENUMERATE_MAX``); what is left repeats, at the end
        of the batch (the space is exhausted).
        """
        rows = np.array(rows, dtype=np.int64, copy=True)
        h = self.seen.hash(rows)
        todo = np.arange(len(rows))
        held = self._in_flight_hashes()
        bad = self._bad(h, todo, held)
        if not bad.any():
            return rows
        self.dedup["duplicates"] += int(bad.sum())
        proposal = rows.copy()
        rounds = 0
        while bad.any():
            fixed = np.concatenate([held, h[todo[~bad]]]) if rounds == 0 else np.concatenate([fixed, h[todo[~bad]]])
            todo = todo[bad]
            k = len(todo)
            if self.space_size - len(self.seen) - len(fixed) < k or rounds >= _MAX_ROUNDS:
                break
            if redraw is not None and rounds < _REDRAW_ROUNDS:
                rows[todo], how = redraw(k), "resampled"
            else:
                n_flip = 1 + (rounds - (_REDRAW_ROUNDS if redraw is not None else 0)) // 2
                rows[todo], how = self._mutate(proposal[todo], n_flip, rng), "mutated"
            h[todo] = self.seen.hash(rows[todo])
            bad = self._bad(h, todo, fixed)
            self.dedup[how] += int((~bad).sum())
            rounds += 1
        else:
            return rows
        # dedup ran dry (a small or an exhausted space): the unseen rows, then repeats
        exhausted = self.space_size - len(self.seen) - len(fixed) < len(todo)
        if self.space_size <= ENUMERATE_MAX:
            left = self._enumerate_unseen(fixed)
            take = rng.choice(left, size=min(len(left), len(todo)), replace=False)
            rows[todo[:len(take)]] = self._decode(take)
            self.dedup["enumerated"] += len(take)
            todo = todo[len(take):]
        if len(todo):
            rows[todo] = proposal[todo]
            self.dedup["repeated"] += len(todo)
            repeat = np.zeros(len(rows), dtype=bool)
            repeat[todo] = True
            rows = np.concatenate([rows[~repeat], rows[repeat]])     # the unseen rows first
            if exhausted and self.dedup["exhausted_at_batch"] is None:
                self.dedup["exhausted_at_batch"] = int(batch_no)
                warnings.warn(f"<sweep>: the search space is exhausted: all {self.space_size} index rows are "
                              f"evaluated; from batch {batch_no} on proposals repeat evaluated rows", stacklevel=3)
            elif not exhausted:
                warnings.warn(f"<sweep>: {len(todo)} proposals of batch {batch_no} repeat evaluated rows: no unseen "
                              f"row found in {_MAX_ROUNDS} rounds", stacklevel=3)
        return rows

    def _remember(self, idx: np.ndarray, scores: np.ndarray) -> np.ndarray:
        h = self.seen.hash(idx)
        if self._asked and np.array_equal(self._asked[0], h):
            self._asked.pop(0)           # the oldest batch in flight is told (tells come in ask order)
        self.seen.add(h, scores)
        return h

    # -- protocol ------------------------------------------------------------------------------
    def tell(self, idx: np.ndarray, scores: np.ndarray) -> None:
        self._remember(idx, scores)

    def recall(self, batch_no: int, first: int, idx: np.ndarray) -> None:
        """Re-ask a stored batch on resume and check it equals the stored rows (it is then in flight)."""
        again = self.ask(batch_no, first, len(idx))
        if not np.array_equal(again, idx):
            raise SweepError(f"<resume>: {self.name} regenerated a different batch {batch_no} than the stored "
                             "one; the sampler or its library changed since the sweep started; fix: start a "
                             "new run")

    def replay(self, batch_no: int, first: int, idx: np.ndarray, scores: np.ndarray) -> None:
        self.recall(batch_no, first, idx)
        self.tell(idx, scores)

    @property
    def exhausted(self) -> bool:
        return self.dedup["exhausted_at_batch"] is not None

    def meta(self) -> dict:
        rows = self.space_size if self.space_size < 2 ** 63 else f"~1e{len(str(self.space_size)) - 1}"
        return {"sampler": self.name, "seed": self.seed,
                "dedup": {**self.dedup, "distinct_rows_told": len(self.seen), "space_rows": rows,
                          "hash": "sum(idx_j * c_j) mod 2^64, c = SeedSequence(0x5D6A7E) odd"}}


class RandomBatchSampler(_Base):
    name = "random"

    def ask(self, batch_no: int, first: int, n: int) -> np.ndarray:
        rng = np.random.default_rng([self.seed, batch_no])
        return self._unique(self._uniform(rng, n), batch_no, rng, lambda k: self._uniform(rng, k))


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
        rng = np.random.default_rng([self.seed, batch_no])
        return self._unique(self._full(n, cols), batch_no, rng, lambda k: self._uniform(rng, k))


def _one_blas_thread():
    """BLAS/LAPACK on one thread: CMA's eigendecomposition and products round differently with other
    thread counts (measured: ``OMP_NUM_THREADS=1`` gave another cmaes stream on 2 cores), and the
    stream must not depend on the machine a sweep is resumed on."""
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1, user_api="blas")


class CmaBatchSampler(_Base):
    """CMA-ES on [0,1]^d (one generation per batch); index = floor(x × size).

    A sampled point whose row was evaluated before (or earlier in the batch) is replaced in the batch
    by a mutation of that row, and CMA learns the point with the known score of its row.
    """

    name = "cmaes"

    def __init__(self, sizes: np.ndarray, seed: int, popsize: int, sigma0: float = 0.3) -> None:
        super().__init__(sizes, seed)
        self.popsize, self.sigma0 = int(popsize), float(sigma0)
        self.restarts = 0
        self._cma = self._new()
        self._pending: tuple[np.ndarray, np.ndarray] | None = None

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
        with _one_blas_thread():
            return self._ask(batch_no, first, n)

    def _ask(self, batch_no: int, first: int, n: int) -> np.ndarray:
        if self._pending is not None:
            raise SweepError("--sampler cmaes learns one generation per batch, so it cannot ask a batch ahead "
                             "of the last one's scores; fix: --in-flight 1 (or another sampler for a cluster)")
        xs = self._sample(n)
        u = 1.0 - np.abs(np.mod(xs[:, :len(self.free)], 2.0) - 1.0)   # reflect into [0, 1]
        cols = np.minimum((u * self.sizes[self.free]).astype(np.int64), self.sizes[self.free] - 1)
        rows = self._full(n, cols)
        self._pending = (xs, self.seen.hash(rows))
        return self._unique(rows, batch_no, np.random.default_rng([self.seed, batch_no]), None)

    def tell(self, idx: np.ndarray, scores: np.ndarray) -> None:
        with _one_blas_thread():
            self._tell(idx, scores)

    def _tell(self, idx: np.ndarray, scores: np.ndarray) -> None:
        if self._pending is None or len(self._pending[0]) != len(scores):
            raise SweepError("<sweep>: cmaes told a batch it did not ask")
        (xs, h_sampled), self._pending = self._pending, None
        self._remember(idx, scores)
        if len(xs) != self._cma.population_size:
            return  # a short last batch: nothing to learn for a next generation
        s = self.seen.score_of(h_sampled)        # the score of the row each sampled point hit
        worst = np.min(s[np.isfinite(s)]) if np.isfinite(s).any() else 0.0
        s[~np.isfinite(s)] = worst - 1.0 - abs(worst)
        self._cma.tell([(x, float(-v)) for x, v in zip(xs, s)])  # CMA minimises
        if self._cma.should_stop():
            self.restarts += 1
            self._cma = self._new()

    def meta(self) -> dict:
        return {**super().meta(), "popsize": self.popsize, "sigma0": self.sigma0, "space": "R^d reflected into [0,1]^d, index = floor(u x size)",
                "restart": "same popsize, seed + 7919 * restarts", "restarts": self.restarts}


class WindowedHistory:
    """The history a model sees: the ``n_elite`` best trials plus the ``n_recent`` latest ones.

    A row appears once (its first evaluation): copies of one row cannot flood the window.
    """

    def __init__(self, n_elite: int, n_recent: int) -> None:
        self.n_elite, self.n_recent = int(n_elite), int(n_recent)
        self._idx: list[np.ndarray] = []
        self._scores: list[np.ndarray] = []
        self._order: list[np.ndarray] = []
        self._hash: list[np.ndarray] = []
        self._count = 0
        self._coef: np.ndarray | None = None

    def add(self, idx: np.ndarray, scores: np.ndarray, hashes: np.ndarray | None = None) -> None:
        idx = np.asarray(idx, dtype=np.int64)
        if hashes is None:
            if self._coef is None:
                self._coef = row_hash_coefficients(idx.shape[1])
            hashes = (idx.astype(np.uint64) * self._coef).sum(axis=1, dtype=np.uint64)
        self._idx.append(idx)
        self._scores.append(_clean(scores))
        self._order.append(np.arange(self._count, self._count + len(scores)))
        self._hash.append(np.asarray(hashes, dtype=np.uint64))
        self._count += len(scores)
        idx_all, s_all, o_all, h_all = (np.concatenate(x) for x in (self._idx, self._scores, self._order, self._hash))
        _, first = np.unique(h_all, return_index=True)
        if len(first) < len(h_all):                                     # keep each row's first copy
            keep = np.sort(first)
            idx_all, s_all, o_all, h_all = idx_all[keep], s_all[keep], o_all[keep], h_all[keep]
        if len(s_all) > self.n_elite + self.n_recent:
            elite = np.lexsort((o_all, -s_all))[:self.n_elite]          # best, ties by age
            recent = np.arange(len(s_all) - self.n_recent, len(s_all))
            keep = np.union1d(elite, recent)
            idx_all, s_all, o_all, h_all = idx_all[keep], s_all[keep], o_all[keep], h_all[keep]
        self._idx, self._scores, self._order, self._hash = [idx_all], [s_all], [o_all], [h_all]

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
    sampled in one vectorised draw. Axes are independent (optuna's default ``multivariate=False``).
    The first ``n_startup`` trials are uniform.

    Exploration floor (a batch draws from one model, unlike sequential TPE, so the law must not be
    a point mass): each axis samples from ``(1 - prior_floor) P + prior_floor · uniform`` and
    ``explore_fraction`` of every batch (its last rows) is drawn from the uniform prior.
    """

    name = "tpe"

    def __init__(self, sizes: np.ndarray, seed: int, n_elite: int = 512, n_recent: int = 2048,
                 n_startup: int = 256, n_ei: int = 24, prior_weight: float = 1.0,
                 gamma_fraction: float | None = None, prior_floor: float = 0.05,
                 explore_fraction: float = 0.05) -> None:
        super().__init__(sizes, seed)
        self.hist = WindowedHistory(n_elite, n_recent)
        self.n_startup, self.n_ei, self.prior_weight = int(n_startup), int(n_ei), float(prior_weight)
        self.gamma_fraction = gamma_fraction
        self.prior_floor, self.explore_fraction = float(prior_floor), float(explore_fraction)
        if not (0.0 <= self.prior_floor <= 1.0 and 0.0 <= self.explore_fraction <= 1.0):
            raise ConfigError("tpe: prior_floor and explore_fraction must lie in [0, 1]")
        self.told = 0
        ks = self.sizes[self.free]
        self._kmax = int(ks.max()) if len(ks) else 1
        self._valid = np.arange(self._kmax)[None, :] < ks[:, None]          # (n_free, kmax)

    def _n_below(self, n: int) -> int:
        if self.gamma_fraction is not None:
            return max(1, int(math.ceil(self.gamma_fraction * n)))
        return max(1, _gamma(n))

    def _tpe_law(self) -> np.ndarray:
        """``(n_free, kmax)``: per free axis the law of TPE's best-of-``n_ei`` choice (0 past the axis)."""
        idx, scores, order = self.hist.arrays()
        n = len(scores)
        ranked = np.lexsort((order, -scores))
        below = np.zeros(n, dtype=bool)
        below[ranked[:self._n_below(n)]] = True
        nf, kmax, valid = len(self.free), self._kmax, self._valid
        ks = self.sizes[self.free].astype(np.float64)[:, None]
        flat = idx[:, self.free] + np.arange(nf)[None, :] * kmax
        cb = np.bincount(flat[below].ravel(), minlength=nf * kmax).reshape(nf, kmax).astype(np.float64)
        ca = np.bincount(flat[~below].ravel(), minlength=nf * kmax).reshape(nf, kmax).astype(np.float64)
        prior = self.prior_weight / ks
        lv = np.where(valid, (cb + prior) / (int(below.sum()) + self.prior_weight), 0.0)
        gv = np.where(valid, (ca + prior) / (int((~below).sum()) + self.prior_weight), 1.0)
        ratio = np.where(valid, lv / gv, -np.inf)
        rank = np.argsort(ratio, axis=1, kind="stable")                 # ascending ratio, ties by index
        cdf = np.cumsum(np.take_along_axis(lv, rank, axis=1), axis=1)
        cdf[:, -1] = 1.0
        prev = np.concatenate([np.zeros((nf, 1)), cdf[:, :-1]], axis=1)
        p = np.empty_like(cdf)
        np.put_along_axis(p, rank, np.maximum(cdf ** self.n_ei - prev ** self.n_ei, 0.0), axis=1)
        p = np.where(valid, p, 0.0)
        return p / p.sum(axis=1, keepdims=True)

    def probabilities(self) -> list[np.ndarray]:
        """Per free axis: the law the sampler draws from (TPE's choice mixed with the prior floor)."""
        p = self._law()
        return [p[c, :int(self.sizes[j])] for c, j in enumerate(self.free)]

    def _law(self) -> np.ndarray:
        p = self._tpe_law()
        if self.prior_floor > 0:
            p = (1.0 - self.prior_floor) * p + self.prior_floor * self._valid / self.sizes[self.free][:, None]
        return p

    def _draw(self, rng: np.random.Generator, cum: np.ndarray, n: int) -> np.ndarray:
        u = rng.random((n, len(self.free)))
        cols = (cum[None, :, :] <= u[:, :, None]).sum(axis=2)
        return self._full(n, np.minimum(cols, self.sizes[self.free] - 1))

    def ask(self, batch_no: int, first: int, n: int) -> np.ndarray:
        rng = np.random.default_rng([self.seed, batch_no])
        if self.told < self.n_startup or self.hist.size < 2:
            rows = self._uniform(rng, n)
            return self._unique(rows, batch_no, rng, lambda k: self._uniform(rng, k))
        cum = np.cumsum(self._law(), axis=1)
        cum[np.arange(len(self.free)), self.sizes[self.free] - 1] = 1.0
        cum[~self._valid] = 2.0
        n_explore = min(n, int(round(self.explore_fraction * n)))
        rows = self._draw(rng, cum, n - n_explore)
        if n_explore:
            rows = np.concatenate([rows, self._uniform(rng, n_explore)])
        return self._unique(rows, batch_no, rng, lambda k: self._draw(rng, cum, k))

    def tell(self, idx: np.ndarray, scores: np.ndarray) -> None:
        h = self._remember(idx, scores)
        self.hist.add(idx, scores, h)
        self.told += len(scores)

    def meta(self) -> dict:
        return {**super().meta(), "kind": "univariate discrete TPE (batched, exact best-of-n_ei law, prior floor)",
                "n_elite": self.hist.n_elite, "n_recent": self.hist.n_recent, "n_startup": self.n_startup,
                "n_ei": self.n_ei, "prior_weight": self.prior_weight, "prior_floor": self.prior_floor,
                "explore_fraction": self.explore_fraction,
                "gamma": "min(ceil(0.1 n), 25)" if self.gamma_fraction is None else self.gamma_fraction}


class OptunaTpeSampler(_Base):
    """Stock optuna TPESampler on an in-memory model study holding the windowed history.

    A fresh ``TPESampler(seed=f(seed, batch_no))`` per batch keeps the stream a function of the told
    history (resume-safe); trials are asked one by one with fixed distributions (optuna's cost).
    Duplicates are mutated (no redraw: optuna's ask is the slow part). ``replay`` only tells (a
    re-ask would cost what the sweep cost), so its dedup counters cover the batches asked by this
    process.
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
        rng = np.random.default_rng([self.seed, batch_no])
        if self.told < self.n_startup:
            return self._unique(self._uniform(rng, n), batch_no, rng, lambda k: self._uniform(rng, k))
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
        rows = self._full(n, np.array(rows, dtype=np.int64).reshape(n, len(self.free)))
        return self._unique(rows, batch_no, rng, None)

    def tell(self, idx: np.ndarray, scores: np.ndarray) -> None:
        h = self._remember(idx, scores)
        self.hist.add(idx, scores, h)
        self.told += len(scores)

    def recall(self, batch_no: int, first: int, idx: np.ndarray) -> None:
        self._hold(np.asarray(idx, dtype=np.int64))     # no re-ask: it costs what the sweep cost

    def replay(self, batch_no: int, first: int, idx: np.ndarray, scores: np.ndarray) -> None:
        self.recall(batch_no, first, idx)
        self.tell(idx, scores)

    def meta(self) -> dict:
        return {**super().meta(), "kind": "optuna.samplers.TPESampler (stock, univariate) on a windowed model study",
                "n_elite": self.hist.n_elite, "n_recent": self.hist.n_recent, "n_startup": self.n_startup,
                "dedup_scope": "batches asked by this process (replay does not re-ask)"}


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
