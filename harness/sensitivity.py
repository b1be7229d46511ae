"""Behavioural dead-axis audit (DECISIONS.md D31, D53.12, D53.17; factory-and-audits.md §6, §8.5).

For every swept axis of the registry (``config/schema.csv``, 148) the audit looks for a value pair
that changes engine_ref's trades and checks that gpu_sim changes the same way (identical trade logs,
equity curves, final balances and metrics for both values, ``harness.trade_parity``):

1. the axis's per-axis scenarios (``harness.axis_scenarios``: value A, value B, market, shared
   overrides) — every scenario of the axis is run on both engines;
2. only if no scenario changes engine_ref's trades: a seeded search over synthetic data with grid
   value pairs of ``sweeps/full_144v.yaml`` applied as sweep overrides (on the defaults and on the
   shipped YAML), every variant the loaders accept (D53.12).

Status: **DRIFTING** when gpu_sim differs from engine_ref for any value tried; otherwise **LIVE** when
some pair changes engine_ref's trades; otherwise **DEAD**. Δtrades and ΔPnL are engine_ref's
(value B − value A: closed trades, final balance). ``trade.entry_cooldown_s`` / ``exit_cooldown_s``
are flagged as inert on data whose sub-bars are ≥ 1 minute (D53.17): their liveness needs sub-minute
sub-bars.
"""
from __future__ import annotations

import random
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from harness.errors import DriftgateError
from harness.first_divergence import Case, DriftReport, classify
from harness.replay import RunParams
from harness.trade_parity import EngineRun, compare

LIVE, DEAD, DRIFTING = "LIVE", "DEAD", "DRIFTING"
SUB_MINUTE_AXES = ("trade.entry_cooldown_s", "trade.exit_cooldown_s")
INERT_NOTE = "inert on sub-bars ≥ 1 min (D53.17): live only with sub-minute sub-bars"


@dataclass
class Trial:
    """One value pair on both engines."""

    source: str                 # scenario id or "search: <base> seed <s>"
    a: object
    b: object
    ref_a: EngineRun
    ref_b: EngineRun
    drift_a: DriftReport | None = None    # set when gpu_sim differs at value A
    drift_b: DriftReport | None = None

    @property
    def changed(self) -> bool:
        return self.ref_a.trades != self.ref_b.trades

    @property
    def drifting(self) -> bool:
        return self.drift_a is not None or self.drift_b is not None

    @property
    def d_trades(self) -> float:
        ta, tb = self.ref_a.metrics.get("total_trades"), self.ref_b.metrics.get("total_trades")
        if isinstance(ta, (int, float)) and isinstance(tb, (int, float)):
            return float(tb) - float(ta)
        return float(len(self.ref_b.trades) - len(self.ref_a.trades))

    @property
    def d_pnl(self) -> float:
        return self.ref_b.final_balance - self.ref_a.final_balance

    @property
    def first_change(self) -> int | None:
        a, b = self.ref_a.trades, self.ref_b.trades
        for i in range(max(len(a), len(b))):
            if i >= len(a) or i >= len(b) or a[i] != b[i]:
                return i
        return None


@dataclass
class AxisRow:
    axis: str
    status: str
    trials: list[Trial] = field(default_factory=list)
    chosen: Trial | None = None
    note: str = ""
    seconds: float = 0.0

    @property
    def values(self) -> str:
        return "; ".join(f"{_v(t.a)}→{_v(t.b)}" for t in self.trials)

    @property
    def d_trades(self) -> float | None:
        return self.chosen.d_trades if self.chosen else None

    @property
    def d_pnl(self) -> float | None:
        return self.chosen.d_pnl if self.chosen else None

    @property
    def drift(self) -> DriftReport | None:
        for t in self.trials:
            if t.drifting:
                return t.drift_a or t.drift_b
        return None


def _v(x: object) -> str:
    if isinstance(x, float):
        return f"{x:g}"
    if isinstance(x, bool):
        return "true" if x else "false"
    return str(x)


# ---- engine_ref runs are cached (they do not depend on the gpu_sim under test) -------------------------

_REF_CACHE: dict[tuple, EngineRun] = {}


def _ref(key: tuple, fn: Callable[[], EngineRun]) -> EngineRun:
    if key not in _REF_CACHE:
        _REF_CACHE[key] = fn()
    return _REF_CACHE[key]


def scenario_trial(s, sim, folder: Path, detail: bool = True) -> Trial:
    """Both values of one axis scenario on engine_ref (cached) and on ``sim``."""
    from harness.axis_scenarios.framework import variant_yaml
    from harness.engines import ref_run

    run = RunParams(initial_balance=s.initial_balance, lookback=s.lookback)
    inputs = s.market()
    out = {}
    for tag, value in (("a", s.a), ("b", s.b)):
        path = variant_yaml(s, value, folder)
        ref = _ref(("scenario", s.id, repr(value)), lambda p=path: ref_run(p, inputs, run))
        sim_run = sim.runs(path, inputs, run)[0]
        case = Case(f"{s.id} = {_v(value)}", path, inputs, run, market=f"scenario {s.id}")
        v = compare(ref, sim_run)
        rep = classify(case, sim, ref=ref, sim=sim_run, detail=detail) if v.drift or sim.params_hook else None
        out[tag] = (ref, rep if rep is not None and rep.drift else None)
    return Trial(s.id, s.a, s.b, out["a"][0], out["b"][0], out["a"][1], out["b"][1])


# ---- seeded search (D53.12) -------------------------------------------------------------------------

#: (base config, market) pairs of the seeded search: each base trades on its market (the shipped YAML
#: needs 3m sub-bars; the defaults run on 1h bars alone).
SEARCH_SETUPS = (("shipped", "synth:1h:3m:10:11"), ("defaults", "synth:1h::60:5"), ("defaults", "synth:1h::45:12"))


def search_trials(axis: str, sim, budget: int = 12, seed: int = 0) -> list[Trial]:
    """Grid value pairs of ``axis`` as sweep overrides on the shipped YAML and the defaults, each on seeded
    synthetic markets; the extreme pair (grid min → max) on the shipped YAML first, then a seeded order;
    stops at the first pair that changes engine_ref's trades (or drifts)."""
    from harness.decode import decode_value
    from harness.engines import ref_run
    from harness.generate import sweep_grids
    from harness.parity_cases import SHIPPED, market
    from harness.schema import load_schema

    grid = sweep_grids().get(axis, [])
    ax = load_schema().by_path[axis]
    if len(grid) < 2:
        return []
    rng = random.Random(f"{seed}:{axis}")
    pairs = [(min(grid), max(grid))] + [(grid[i], grid[i + 1]) for i in range(len(grid) - 1)]
    bases = {"shipped": SHIPPED, "defaults": None}
    tries = [(p, (bases[b], b), m) for p in pairs for b, m in SEARCH_SETUPS]
    rest = tries[1:]
    rng.shuffle(rest)
    tries = tries[:1] + rest
    out: list[Trial] = []
    for (ca, cb), (base, bname), mkey in tries[:budget]:
        inputs = market(mkey)
        run = RunParams(lookback=30)
        runs = {}
        for tag, code in (("a", ca), ("b", cb)):
            key = ("search", axis, str(base), mkey, code)
            try:
                ref = _ref(key, lambda c=code: ref_run(base, inputs, run, sweep_paths=(axis,), sweep_codes=(c,)))
            except DriftgateError:
                break           # a variant this data cannot run (e.g. the base needs other sub-bars)
            case = Case(f"{axis}={_v(decode_value(ax, code))} on {bname} {mkey}", base, inputs, run,
                        (axis,), (code,), market=mkey)
            rep = classify(case, sim, ref=ref)
            runs[tag] = (ref, rep if rep.drift else None)
        if len(runs) < 2:
            continue
        t = Trial(f"search: {bname} on {mkey}", decode_value(ax, ca), decode_value(ax, cb),
                  runs["a"][0], runs["b"][0], runs["a"][1], runs["b"][1])
        out.append(t)
        if t.changed or t.drifting:
            break
    return out


# ---- the audit ----------------------------------------------------------------------------------------

def axis_row(axis: str, scenarios: Sequence, sim, folder: Path, search: bool = True,
             search_budget: int = 12, detail: bool = True, search_all: int = 0) -> AxisRow:
    """``search_all`` > 0 also runs that many seeded-search tries for axes the scenarios already prove
    LIVE (a second, independent value pair on other data: the nightly audit)."""
    t0 = time.perf_counter()
    row = AxisRow(axis, DEAD)
    for s in scenarios:
        row.trials.append(scenario_trial(s, sim, folder, detail))
    if not any(t.changed or t.drifting for t in row.trials):
        if search:
            row.trials += search_trials(axis, sim, search_budget)
    elif search_all > 0:
        row.trials += search_trials(axis, sim, search_all)
    drifting = [t for t in row.trials if t.drifting]
    live = [t for t in row.trials if t.changed]
    if drifting:
        row.status, row.chosen = DRIFTING, drifting[0]
    elif live:
        row.status, row.chosen = LIVE, live[0]
    else:
        row.status = DEAD
        row.note = "no value pair changed engine_ref's trades"
    if axis in SUB_MINUTE_AXES:
        row.note = (row.note + "; " if row.note else "") + INERT_NOTE
    if row.chosen is not None and row.chosen.source.startswith("search"):
        row.note = (row.note + "; " if row.note else "") + "found by the seeded search"
    row.seconds = time.perf_counter() - t0
    return row


def sensitivity_audit(sim=None, axes: Sequence[str] | None = None, *, search: bool = True,
                      search_budget: int = 12, scenarios: Sequence | None = None,
                      progress: Callable[[AxisRow], None] | None = None, detail: bool = True,
                      search_all: int = 0) -> list[AxisRow]:
    """One row per swept axis (registry order), or per ``axes`` (``search_all``: see :func:`axis_row`)."""
    from harness.axis_scenarios import all_scenarios
    from harness.mutations import PRODUCTION
    from harness.schema import load_schema

    sim = sim or PRODUCTION
    names = list(axes) if axes is not None else [a.path for a in load_schema().swept]
    pool = list(scenarios) if scenarios is not None else all_scenarios()
    by_axis: dict[str, list] = {}
    for s in pool:
        by_axis.setdefault(s.axis, []).append(s)
    rows = []
    with tempfile.TemporaryDirectory(prefix="driftgate-sens-") as tmp:
        for axis in names:
            row = axis_row(axis, by_axis.get(axis, []), sim, Path(tmp), search, search_budget, detail, search_all)
            rows.append(row)
            if progress:
                progress(row)
    return rows


def counts(rows: Sequence[AxisRow]) -> dict[str, int]:
    return {k: sum(r.status == k for r in rows) for k in (LIVE, DEAD, DRIFTING)}


def summary_line(rows: Sequence[AxisRow]) -> str:
    c = counts(rows)
    return (f"sensitivity: {c[LIVE]}/{len(rows)} LIVE ({c[DEAD]} DEAD, {c[DRIFTING]} DRIFTING)"
            + (f"; first drifting: {next(r.axis for r in rows if r.status == DRIFTING)}" if c[DRIFTING] else "")
            + (f"; first dead: {next(r.axis for r in rows if r.status == DEAD)}" if c[DEAD] else ""))


__all__ = ["AxisRow", "DEAD", "DRIFTING", "INERT_NOTE", "LIVE", "Trial", "axis_row", "counts", "search_trials",
           "sensitivity_audit", "summary_line"]
