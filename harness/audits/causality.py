"""Causality audit: truncation invariance of a whole engine run (DECISIONS.md D3, D38) and of the
indicator precompute (D21), in the manner of freqtrade's lookahead analysis.

D3's property, checked exactly: for a cut τ, the run with ``to_ts = τ`` produces the full run's
trade-log records stamped ≤ τ, in the same order and bit-identical (floats by binary64 pattern),
followed only by its own "End of Backtest" liquidation records (stamped ≤ τ); the equity-curve
samples at main-bar closes ≤ τ are identical.

The audit is engine-agnostic: an engine is a *runner* ``run(inputs, yaml_path, to_ts) ->
(trades, equity_curve)`` (records as dicts of the strategy-exits.md §6.5 fields, curve as
``(τ ms, equity USD)`` pairs). ``RUNNERS`` holds them by engine name; bind run parameters with
``make_runner("ref", lookback=30)``. A gpu_sim runner plugs in under ``"sim"``.
"""
from __future__ import annotations

import dataclasses
import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np

from gpu_sim.ind_fields import FIELDS
from gpu_sim.indicator_sets import compute_indicators
from harness.audits.warmup import WindowSet, default_windows, indicator_table, largest_grid_windows, pack_variants
from harness.axis_scenarios.builders import synthetic
from harness.engine_inputs import EngineInputs
from harness.errors import DataError
from harness.schema import REPO_ROOT

END_OF_BACKTEST = "End of Backtest"
SHIPPED = REPO_ROOT / "config" / "strategy_overrides.yaml"
Curve = list[tuple[int, float]]
Runner = Callable[[EngineInputs, Path | None, int | None], tuple[list[dict], Curve]]
CUT_KINDS = ("main close", "sub-bar close", "main close + 1 ms", "sub-bar close + 1 ms", "record τ",
             "record τ − 1 ms")


def run_ref(inputs: EngineInputs, yaml_path: Path | None, to_ts: int | None, *, lookback: int = 200,
            initial_balance: float = 10000.0, taker_fee_bps: float = 3.5) -> tuple[list[dict], Curve]:
    """engine_ref: the YAML through its own loader, then ``run_backtest`` truncated at ``to_ts``."""
    from engine_ref.config_loader import load_config_set
    from engine_ref.engine import run_backtest

    configs = load_config_set(yaml_path, tuple(inputs.main))
    res = run_backtest(inputs.main, configs, sub_bars=inputs.sub_bars or None, funding=inputs.funding,
                       initial_balance=initial_balance, lookback=lookback, taker_fee_bps=taker_fee_bps,
                       to_ts=to_ts)
    return [dataclasses.asdict(r) for r in res.trades], [(int(t), float(e)) for t, e in res.equity_curve]


RUNNERS: dict[str, Callable[..., tuple[list[dict], Curve]]] = {"ref": run_ref}


def make_runner(engine: str = "ref", **run_params: object) -> Runner:
    """The runner of ``engine`` with run parameters (lookback, initial_balance, ...) bound."""
    if engine not in RUNNERS:
        raise KeyError(f"engine {engine!r} has no causality runner; known: {sorted(RUNNERS)}")
    return partial(RUNNERS[engine], **run_params)


def bit_equal(a: object, b: object) -> bool:
    """Floats by binary64 pattern (-0.0 ≠ 0.0, NaN == same NaN); everything else by type and value."""
    if isinstance(a, float) or isinstance(b, float):
        return isinstance(a, float) and isinstance(b, float) and struct.pack("<d", a) == struct.pack("<d", b)
    return type(a) is type(b) and a == b


@dataclass(frozen=True)
class Violation:
    """The first divergence: ``what`` is record, liquidation, equity or indicator; ``index`` the record
    (truncated run's log), equity sample or bar index; ``at_ms`` the decision time it carries."""

    what: str
    index: int
    field: str
    full_value: object
    cut_value: object
    at_ms: int


@dataclass(frozen=True)
class Cut:
    tau_ms: int
    kind: str


@dataclass(frozen=True)
class CutResult:
    """One cut: records compared (full-run records ≤ τ), the truncated run's own liquidations,
    equity samples compared (main closes ≤ τ), and the first violation or None."""

    case: str
    tau_ms: int
    kind: str
    records: int
    liquidations: int
    equity_samples: int
    violation: Violation | None

    @property
    def ok(self) -> bool:
        return self.violation is None


def _first_field(want: dict, got: dict) -> str | None:
    for key in list(want) + [k for k in got if k not in want]:
        if key not in want or key not in got or not bit_equal(want[key], got[key]):
            return key
    return None


def _record_violation(prefix: Sequence[dict], cut: Sequence[dict], tau: int) -> Violation | None:
    for i, want in enumerate(prefix):
        if i >= len(cut):
            return Violation("record", i, "<missing>", f"{want['action']} {want['symbol']}", None,
                             want["timestamp_ms"])
        key = _first_field(want, cut[i])
        if key is not None:
            return Violation("record", i, key, want.get(key), cut[i].get(key), want["timestamp_ms"])
    for i in range(len(prefix), len(cut)):
        rec = cut[i]
        if rec["reason"] != END_OF_BACKTEST:
            return Violation("liquidation", i, "reason", END_OF_BACKTEST, rec["reason"], rec["timestamp_ms"])
        if rec["timestamp_ms"] > tau:
            return Violation("liquidation", i, "timestamp_ms", tau, rec["timestamp_ms"], rec["timestamp_ms"])
    return None


def _equity_violation(want: Curve, got: Curve) -> Violation | None:
    for i in range(max(len(want), len(got))):
        if i >= len(got):
            return Violation("equity", i, "<missing>", want[i][1], None, want[i][0])
        if i >= len(want):
            return Violation("equity", i, "<extra>", None, got[i][1], got[i][0])
        if want[i][0] != got[i][0]:
            return Violation("equity", i, "τ", want[i][0], got[i][0], min(want[i][0], got[i][0]))
        if not bit_equal(want[i][1], got[i][1]):
            return Violation("equity", i, "equity", want[i][1], got[i][1], want[i][0])
    return None


def compare_truncated(full: tuple[list[dict], Curve], cut: tuple[list[dict], Curve], tau: int,
                      main_closes: set[int]) -> tuple[int, int, int, Violation | None]:
    """D3 for one cut: (records compared, liquidations, equity samples compared, earliest violation)."""
    prefix = [r for r in full[0] if r["timestamp_ms"] <= tau]
    want = [(t, e) for t, e in full[1] if t <= tau and t in main_closes]
    got = [(t, e) for t, e in cut[1] if t <= tau and t in main_closes]
    found = [v for v in (_record_violation(prefix, cut[0], tau), _equity_violation(want, got)) if v]
    first = min(found, key=lambda v: (v.at_ms, v.what == "equity")) if found else None
    return len(prefix), max(0, len(cut[0]) - len(prefix)), len(want), first


def main_interval_ms(inputs: EngineInputs) -> int:
    """The main-bar interval: the smallest step between consecutive open times of any symbol."""
    steps = [int(np.diff(a["t"]).min()) for a in inputs.main.values() if len(a["t"]) > 1]
    if not steps:
        raise DataError("causality audit: no symbol has two main bars; fix: pass a longer history")
    return min(steps)


def main_closes(inputs: EngineInputs, step_ms: int) -> np.ndarray:
    return np.unique(np.concatenate([np.asarray(a["t"], np.int64) + step_ms for a in inputs.main.values()]))


def _pools(inputs: EngineInputs, trades: Sequence[dict], closes: np.ndarray) -> dict[str, np.ndarray]:
    subs = [np.asarray(a["t"], np.int64) + ms for ms, per in inputs.sub_bars.items() for a in per.values()]
    sub = np.setdiff1d(np.unique(np.concatenate(subs)) if subs else np.zeros(0, np.int64), closes)
    rec = np.unique(np.array([r["timestamp_ms"] for r in trades if r["reason"] != END_OF_BACKTEST], np.int64))
    return dict(zip(CUT_KINDS, (closes, sub, closes + 1, sub + 1, rec, rec - 1)))


def choose_cuts(inputs: EngineInputs, trades: Sequence[dict], n_cuts: int = 12, seed: int = 0,
                step_ms: int | None = None) -> list[Cut]:
    """Seeded cuts: three edges (1 ms before the first close, the last main close, a day past the
    data) and ``n_cuts − 3`` interior cuts, one per equal slice of the data, cycling ``CUT_KINDS``
    (an empty pool — no sub-bars, no records — falls back to main closes)."""
    step = step_ms or main_interval_ms(inputs)
    closes = main_closes(inputs, step)
    first, last = int(closes[0]), int(closes[-1])
    cuts = [Cut(first - 1, "before first close"), Cut(last, "last main close"),
            Cut(last + 86_400_000, "past data end")]
    pools, rng = _pools(inputs, trades, closes), np.random.default_rng(seed)
    n_inner = max(0, n_cuts - len(cuts))
    edges = np.linspace(first, last, n_inner + 1)
    for i in range(n_inner):
        kind = CUT_KINDS[i % len(CUT_KINDS)]
        kind = kind if pools[kind].size else "main close"
        pool = pools[kind]
        interior = pool[(pool > first) & (pool < last)]
        pool = interior if interior.size else pool
        inside = pool[(pool >= edges[i]) & (pool <= edges[i + 1])]
        cuts.append(Cut(int(rng.choice(inside if inside.size else pool)), kind))
    return sorted(cuts[:n_cuts] if n_cuts < len(cuts) else cuts, key=lambda c: c.tau_ms)


def causality_audit(runner: Runner, inputs: EngineInputs, yaml_path: Path | None, *, case: str = "",
                    n_cuts: int = 12, seed: int = 0, cuts: Sequence[Cut] | None = None) -> list[CutResult]:
    """Run once in full and once per cut; one CutResult per cut."""
    full = runner(inputs, yaml_path, None)
    step = main_interval_ms(inputs)
    closes = set(int(x) for x in main_closes(inputs, step))
    out = []
    for cut in (cuts if cuts is not None else choose_cuts(inputs, full[0], n_cuts, seed, step)):
        counts = compare_truncated(full, runner(inputs, yaml_path, cut.tau_ms), cut.tau_ms, closes)
        out.append(CutResult(case, cut.tau_ms, cut.kind, *counts))
    return out


SUITE_DATA = {"n_symbols": 3, "days": 60, "seed": 3, "sub_intervals": ("3m",), "funding": True}


def causality_suite(inputs: EngineInputs | None = None, engine: str = "ref", *, n_cuts: int = 12, seed: int = 0,
                    lookback: int = 100, configs: Sequence[tuple[str, Path | None]] | None = None) -> list[CutResult]:
    """The audit on synthetic data with 3m sub-bars and funding (``SUITE_DATA``: a slice on which the
    defaults trade too), production config (3m entry/exit sub-bars) and the defaults."""
    inputs = inputs if inputs is not None else synthetic(**SUITE_DATA)
    configs = configs if configs is not None else (("production (3m sub-bars)", SHIPPED), ("defaults", None))
    runner = make_runner(engine, lookback=lookback)
    return [r for name, path in configs for r in causality_audit(runner, inputs, path, case=name,
                                                                 n_cuts=n_cuts, seed=seed)]


@dataclass(frozen=True)
class IndicatorCut:
    """Indicator lookahead: rows ``0..cut_bar`` from data truncated at ``cut_bar`` vs the full data."""

    set_name: str
    symbol: str
    cut_bar: int
    rows: int
    violation: Violation | None

    @property
    def ok(self) -> bool:
        return self.violation is None


def _indicator_cut_bars(n: int, n_cuts: int, rng: np.random.Generator) -> list[int]:
    edges = np.linspace(1, n - 1, max(1, n_cuts - 1) + 1).astype(int)
    inner = {int(rng.integers(lo, max(lo + 1, hi))) for lo, hi in zip(edges[:-1], edges[1:])}
    return sorted({0} | inner)


def indicator_lookahead(inputs: EngineInputs, sets: Sequence[WindowSet] | None = None, n_cuts: int = 6,
                        seed: int = 0, compute=compute_indicators) -> list[IndicatorCut]:
    """For seeded cut bars k per symbol: gpu_sim's ``ind`` rows ≤ k from data truncated at k must be
    bit-identical to the full-data rows (every variant is one row of one precompute call)."""
    sets = list(sets) if sets is not None else [default_windows(), largest_grid_windows()]
    rng = np.random.default_rng(seed)
    series, plan = {}, []
    for sym in sorted(inputs.main):
        arrs = inputs.main[sym]
        series[f"{sym}@full"] = arrs
        for k in _indicator_cut_bars(len(arrs["t"]), n_cuts, rng):
            series[f"{sym}@{k:08d}"] = {f: a[:k + 1] for f, a in arrs.items()}
            plan.append((sym, k))
    bars, row = pack_variants(series)
    ind = indicator_table(sets, bars, compute)
    out = []
    for si, ws in enumerate(sets):
        for sym, k in plan:
            a, b = ind[si, row[f"{sym}@full"], :k + 1], ind[si, row[f"{sym}@{k:08d}"], :k + 1]
            bad = np.argwhere(a.view(np.int64) != b.view(np.int64))
            v = None
            if bad.size:
                bar, col = (int(x) for x in bad[0])
                t = int(inputs.main[sym]["t"][bar])
                v = Violation("indicator", bar, FIELDS[col], float(a[bar, col]), float(b[bar, col]), t)
            out.append(IndicatorCut(ws.name, sym, k, k + 1, v))
    return out
