"""Evaluators: sweep codes in, one metrics row per combination out.

``Evaluator.evaluate(codes)`` takes ``(n_trials, n_axes)`` binary64 sweep codes (columns in the
spec's axis order) and returns ``(n_trials, len(METRICS))`` float64 with the columns of
:data:`METRICS`. A combination that fails to load (a cross-key validity rule) is not dropped: its row
is NaN with ``valid = 0`` and :meth:`errors` names the reason.

* :class:`RefEvaluator` — engine_ref over the data: each row is decoded with the one decoder
  (:func:`harness.decode.decode_row`) and applied as sweep overrides
  (``load_config_set(base_yaml, symbols, sweep_overrides=...)``), then ``run_backtest``; exact, slow;
  rows are spread over ``workers`` processes.
* :class:`SimEvaluator` — gpu_sim (``cpu`` / ``cuda``), one launch per batch; the packed market is
  built once and kept (on ``cuda`` also in device memory); a clear error when gpu_sim cannot be
  imported.
* :class:`ToyEvaluator` — an analytic stand-in for tests and benchmarks of the sweep loop only
  (its numbers are not a backtest; a promotion replays every candidate on engine_ref anyway).
"""
from __future__ import annotations

import math
import multiprocessing
import os
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from harness.errors import ConfigError, DriftgateError

METRICS = ("total_pnl", "max_drawdown", "profit_factor", "total_trades", "sharpe", "win_rate",
           "final_balance", "total_fees", "valid")
COL = {name: i for i, name in enumerate(METRICS)}


class Evaluator(Protocol):
    metric_names: tuple[str, ...]

    def evaluate(self, codes: np.ndarray) -> np.ndarray: ...

    def errors(self) -> dict[int, str]: ...

    def describe(self) -> dict: ...


def metrics_row(m: dict) -> list[float]:
    """engine_ref's metrics dict -> one row of :data:`METRICS` (drawdown as a fraction)."""
    return [float(m["total_pnl"]), float(m["max_drawdown_pct"]), float(m["profit_factor"]),
            float(m["total_trades"]), float(m["sharpe_ratio"]), float(m["win_rate"]),
            float(m["final_balance"]), float(m["total_fees"]), 1.0]


INVALID_ROW = [math.nan] * (len(METRICS) - 1) + [0.0]


@dataclass(frozen=True)
class RefTask:
    """What a worker needs to evaluate rows (picklable; data is loaded once per worker)."""

    paths: tuple[str, ...]
    base_yaml: str | None
    candles: str
    initial_balance: float
    lookback: int
    taker_fee_bps: float
    from_ts: int | None
    to_ts: int | None
    run_mode: str
    strategy_mode: str | None


_WORKER: dict = {}


def _worker_init(task: RefTask) -> None:
    from engine_ref.config_loader import load_config
    from harness.replay import load_inputs
    from harness.schema import load_schema

    portfolio = load_config(task.base_yaml, None, task.strategy_mode, run_mode=task.run_mode)
    md, inputs = load_inputs(Path(task.candles), portfolio, None)
    _WORKER.update(task=task, symbols=md.symbols(), inputs=inputs, schema=load_schema())


def _eval_rows(rows: list[tuple[int, list[float]]]) -> list[tuple[int, list[float], str | None]]:
    from engine_ref.config_loader import load_config_set
    from engine_ref.engine import run_backtest
    from harness.decode import decode_row

    task: RefTask = _WORKER["task"]
    inp = _WORKER["inputs"]
    out = []
    for k, codes in rows:
        try:
            overrides = decode_row(task.paths, codes, _WORKER["schema"])
            cs = load_config_set(task.base_yaml, _WORKER["symbols"], task.strategy_mode,
                                 run_mode=task.run_mode, sweep_overrides=overrides)
        except ConfigError as exc:
            out.append((k, INVALID_ROW, str(exc)))
            continue
        res = run_backtest(inp.main, cs, sub_bars=inp.sub_bars or None, funding=inp.funding,
                           initial_balance=task.initial_balance, lookback=task.lookback,
                           taker_fee_bps=task.taker_fee_bps, from_ts=task.from_ts, to_ts=task.to_ts)
        out.append((k, metrics_row(res.metrics), None))
    return out


class RefEvaluator:
    """engine_ref over the whole data set, one backtest per row (exact; seconds per row)."""

    metric_names = METRICS

    def __init__(self, paths: tuple[str, ...], base_yaml: Path | None, candles: Path, *,
                 initial_balance: float = 10000.0, lookback: int = 200, taker_fee_bps: float = 3.5,
                 from_ts: int | None = None, to_ts: int | None = None, run_mode: str = "backtest",
                 strategy_mode: str | None = None, workers: int = 1) -> None:
        self.task = RefTask(tuple(paths), None if base_yaml is None else str(base_yaml), str(candles),
                            float(initial_balance), int(lookback), float(taker_fee_bps), from_ts, to_ts,
                            run_mode, strategy_mode)
        self.workers = max(1, int(workers))
        self._pool: ProcessPoolExecutor | None = None
        self._errors: dict[int, str] = {}
        self.seconds = 0.0
        if self.workers == 1:
            _worker_init(self.task)

    def _get_pool(self) -> ProcessPoolExecutor:
        if self._pool is None:
            method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
            self._pool = ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context(method),
                                             initializer=_worker_init, initargs=(self.task,))
        return self._pool

    def evaluate(self, codes: np.ndarray) -> np.ndarray:
        t0 = time.perf_counter()
        codes = np.asarray(codes, dtype=np.float64)
        rows = [(k, [float(c) for c in row]) for k, row in enumerate(codes)]
        out = np.empty((len(rows), len(METRICS)))
        self._errors = {}
        if self.workers == 1 or len(rows) < 2:
            if not _WORKER or _WORKER.get("task") != self.task:
                _worker_init(self.task)
            results = _eval_rows(rows)
        else:
            chunks = [rows[i::self.workers * 4] for i in range(min(len(rows), self.workers * 4))]
            results = [r for part in self._get_pool().map(_eval_rows, chunks) for r in part]
        for k, row, err in results:
            out[k] = row
            if err:
                self._errors[k] = err
        self.seconds += time.perf_counter() - t0
        return out

    def errors(self) -> dict[int, str]:
        return dict(self._errors)

    def describe(self) -> dict:
        return {"backend": "ref", "workers": self.workers, "candles": self.task.candles,
                "base_yaml": self.task.base_yaml}

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
            self._pool = None


class SimEvaluator:
    """gpu_sim: one simulator launch per batch of rows (``backend`` cpu, cuda or cudasim).

    The base YAML is loaded by gpu_sim's own loader and the raw codes are handed over as sweep rows
    (gpu_sim decodes them itself, docs/spec-notes.md N2). No trade records or equity curves are kept
    (``record_capacity=1``, ``equity_curve=False``): the metrics are running sums in the kernel. A
    batch that fails to load is re-run row by row so only the rows that break a rule are invalid.
    """

    metric_names = METRICS

    def __init__(self, paths: tuple[str, ...], base_yaml: Path | None, candles: Path, *, backend: str = "cpu",
                 initial_balance: float = 10000.0, lookback: int = 200, taker_fee_bps: float = 3.5,
                 from_ts: int | None = None, to_ts: int | None = None, run_mode: str = "backtest",
                 strategy_mode: str | None = None) -> None:
        try:
            from gpu_sim.runner import run_yaml  # noqa: F401
            from gpu_sim.simulate_cpu import RunParams as SimRunParams
        except ImportError as exc:
            raise DriftgateError(f"--backend {backend}: gpu_sim backend not built yet ({exc}); fix: use "
                                 "--backend ref (engine_ref, exact but slow)") from None
        from engine_ref.config_loader import load_config
        from harness.replay import load_inputs

        self.paths, self.base_yaml, self.backend = tuple(paths), base_yaml, backend
        self.run_mode, self.strategy_mode = run_mode, strategy_mode
        portfolio = load_config(base_yaml, None, strategy_mode, run_mode=run_mode)
        self.md, self.inputs = load_inputs(Path(candles), portfolio, None)
        self.sim_run = SimRunParams(initial_balance=float(initial_balance), lookback=int(lookback),
                                    taker_fee_bps=float(taker_fee_bps), from_ts=from_ts, to_ts=to_ts)
        self._errors: dict[int, str] = {}
        self.candles = str(candles)
        self.seconds = 0.0
        self._markets: dict[tuple[str, ...], object] = {}
        self._device: dict = {}

    def _market(self, symbols: tuple[str, ...]):
        """gpu_sim's packed market for this universe, packed once and kept (resident) for every batch."""
        from gpu_sim.market_arrays import pack_market

        if symbols not in self._markets:
            inp, keep = self.inputs, set(symbols)
            self._markets[symbols] = pack_market(
                {s: a for s, a in inp.main.items() if s in keep},
                {ms: {s: a for s, a in per.items() if s in keep} for ms, per in (inp.sub_bars or {}).items()},
                None if inp.funding is None else {s: r for s, r in inp.funding.items() if s in keep})
        return self._markets[symbols]

    def _launch(self, codes: np.ndarray) -> np.ndarray:
        from gpu_sim.kernel_records import METRIC_NAMES
        from gpu_sim.runner import load_batch
        from gpu_sim.simulate_cpu import simulate_cpu

        batch = load_batch(self.base_yaml, tuple(self.inputs.main), mode=self.strategy_mode, run_mode=self.run_mode,
                           sweep_paths=self.paths, sweep_codes=codes)
        market = self._market(tuple(batch.symbols))
        if self.backend == "cpu":
            res = simulate_cpu(batch, market, self.sim_run, record_capacity=1, equity_curve=False)
        else:   # cuda / cudasim: the market stays in device memory between batches
            from gpu_sim.kernel_cuda import simulate_cuda

            res = simulate_cuda(batch, market, self.sim_run, record_capacity=1, equity_curve=False,
                                resident=self._device)
        m = res.metrics
        col = {n: m[:, METRIC_NAMES.index(n)] for n in METRIC_NAMES}
        return np.column_stack([col["total_pnl"], col["max_drawdown_pct"], col["profit_factor"], col["total_trades"],
                                col["sharpe_ratio"], col["win_rate"], col["final_balance"], col["total_fees"],
                                np.ones(len(m))])

    def evaluate(self, codes: np.ndarray) -> np.ndarray:
        t0 = time.perf_counter()
        codes = np.ascontiguousarray(codes, dtype=np.float64)
        self._errors = {}
        try:
            out = self._launch(codes)
        except ConfigError:
            out = np.empty((len(codes), len(METRICS)))
            for k in range(len(codes)):
                try:
                    out[k] = self._launch(codes[k:k + 1])[0]
                except ConfigError as exc:
                    out[k] = INVALID_ROW
                    self._errors[k] = str(exc)
        self.seconds += time.perf_counter() - t0
        return out

    def errors(self) -> dict[int, str]:
        return dict(self._errors)

    def describe(self) -> dict:
        return {"backend": f"sim[{self.backend}]", "candles": self.candles,
                "base_yaml": None if self.base_yaml is None else str(self.base_yaml)}


class ToyEvaluator:
    """Analytic metrics of the codes (deterministic, vectorised); tests and loop benchmarks only.

    ``seconds_per_trial`` adds a sleep per batch to imitate an evaluator's cost.
    """

    metric_names = METRICS

    def __init__(self, n_axes: int, seed: int = 0, seconds_per_trial: float = 0.0,
                 seconds_per_batch: float = 0.0) -> None:
        rng = np.random.default_rng(seed)
        self.w = rng.normal(size=n_axes)
        self.center = rng.normal(size=n_axes)
        self.seconds_per_trial, self.seconds_per_batch = seconds_per_trial, seconds_per_batch

    def evaluate(self, codes: np.ndarray) -> np.ndarray:
        codes = np.asarray(codes, dtype=np.float64)
        z = codes / (1.0 + np.abs(codes))
        # row-wise sums only (no BLAS): a row's value never depends on the other rows of its batch
        quality = (-((z - np.tanh(self.center)) ** 2) * np.abs(self.w)).sum(axis=1) / len(self.w) * 20.0 \
            + 0.5 * np.tanh((z * self.w).sum(axis=1))
        pnl = 1000.0 * quality + 500.0
        dd = 1.0 / (1.0 + np.exp(quality + 1.0))
        trades = np.floor(20.0 + 10.0 * np.abs(z).sum(axis=1))
        out = np.column_stack([pnl, dd, np.exp(quality / 4.0), trades, quality, 1.0 / (1.0 + np.exp(-quality)),
                               10000.0 + pnl, trades * 0.5, np.ones(len(codes))])
        delay = self.seconds_per_batch + self.seconds_per_trial * len(codes)
        if delay > 0:
            time.sleep(delay)
        return out

    def errors(self) -> dict[int, str]:
        return {}

    def describe(self) -> dict:
        return {"backend": "toy", "note": "analytic stand-in, not a backtest",
                "seconds_per_trial": self.seconds_per_trial}


def default_workers() -> int:
    return max(1, min(os.cpu_count() or 1, 8))
