"""Hypothesis drift hunting: configs × synthetic market seeds × sub-bar intervals, both engines.

An example (:class:`HuntExample`) is a whole config document drawn by
``harness.strategies.overlay_documents`` (valid values; ``global`` / ``symbols`` / ``live`` / ``modes``
overlays, nulls), plus sweep overrides drawn from the grids of ``sweeps/full_144v.yaml``, a strategy
and run mode, and a seeded synthetic market (:class:`DataSpec`: main 1h or 30m, sub-bars none / 3m /
5m / 15m wired to the config's exit and/or entry interval, funding). Each example is classified by
``harness.first_divergence.classify`` (CONFIG / STATE_MACHINE / NUMERIC / OVERFLOW or ZERO;
REJECTED when both loaders reject it).

:func:`hunt` searches with ``hypothesis.find`` (which also shrinks, within a time budget), then
:func:`reduce_example` shrinks greedily — every config leaf and sweep axis reset to its default (i.e.
removed) while the example still drifts, then fewer sub-bars and fewer days — and
:func:`write_fixture` saves the result as a regression fixture: ``<name>.yaml`` (the config) and
``<name>.json`` (data seed, days, intervals, run, sweep, provenance). ``tests/regressions`` replays
every fixture in the default suite.
"""
from __future__ import annotations

import copy
import hashlib
import json
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from functools import lru_cache
from pathlib import Path

from hypothesis import strategies as st

from harness.engine_inputs import EngineInputs, engine_inputs
from harness.first_divergence import REJECTED, Case, DriftReport, classify
from harness.replay import RunParams
from harness.yamlio import dump_yaml, read_yaml, write_text_atomic

SUB_CHOICES = ((), ("3m",), ("5m",), ("15m",))
MAIN_CHOICES = ("1h", "30m")
ENGINE_KEYS = ("interval", "exit_interval", "entry_interval")
REGRESSIONS = Path(__file__).resolve().parents[1] / "tests" / "regressions"


def fixture_folder() -> Path:
    """Where a hunt saves what it finds: ``$DRIFTGATE_FIXTURE_DIR`` or ``tests/regressions``."""
    import os

    return Path(os.environ.get("DRIFTGATE_FIXTURE_DIR") or REGRESSIONS)


@dataclass(frozen=True)
class DataSpec:
    """A seeded synthetic market (harness.data.synth_market) with funding."""

    seed: int
    days: int
    main: str = "1h"
    subs: tuple[str, ...] = ()
    n_symbols: int = 3

    def inputs(self) -> EngineInputs:
        return _inputs(self)


@lru_cache(maxsize=64)
def _inputs(spec: DataSpec) -> EngineInputs:
    from harness.data import synth_market

    md = synth_market(n_symbols=spec.n_symbols, days=spec.days, seed=spec.seed, sub_intervals=spec.subs,
                      main_interval=spec.main, funding=True)
    return engine_inputs(md, spec.subs)


@dataclass(frozen=True)
class HuntExample:
    doc: dict
    data: DataSpec
    sweep: tuple[tuple[str, float], ...] = ()
    lookback: int = 30
    strategy_mode: str | None = None
    run_mode: str = "backtest"

    def run_params(self) -> RunParams:
        return RunParams(lookback=self.lookback, strategy_mode=self.strategy_mode, run_mode=self.run_mode)

    def case(self, folder: Path, name: str = "hunt") -> Case:
        text = dump_yaml(self.doc, f"drift hunt example ({name})")
        digest = hashlib.sha256(text.encode()).hexdigest()[:12]
        path = write_text_atomic(Path(folder) / f"{name}-{digest}.yaml", text)
        return Case(name, path, self.data.inputs(), self.run_params(), tuple(p for p, _ in self.sweep),
                    tuple(c for _, c in self.sweep), market=f"synth seed {self.data.seed} {self.data.days}d "
                    f"{self.data.main} subs {','.join(self.data.subs) or '-'}")

    @property
    def n_leaves(self) -> int:
        return len(leaf_keys(self.doc)) + len(self.sweep)


def leaf_keys(doc: object, prefix: tuple = ()) -> list[tuple]:
    """Key paths of every leaf of a nested document (engine interval keys excluded)."""
    out: list[tuple] = []
    if isinstance(doc, dict):
        for k, v in doc.items():
            here = prefix + (k,)
            if isinstance(v, dict) and v:
                out += leaf_keys(v, here)
            elif not (len(here) >= 2 and here[-2] == "engine" and here[-1] in ENGINE_KEYS and here[0] == "global"):
                out.append(here)
    return out


def without(doc: dict, key: tuple) -> dict:
    """``doc`` without the leaf at ``key`` (empty parents removed)."""
    out = copy.deepcopy(doc)
    node, stack = out, []
    for k in key[:-1]:
        stack.append((node, k))
        node = node[k]
    del node[key[-1]]
    for parent, k in reversed(stack):
        if parent[k] == {}:
            del parent[k]
        else:
            break
    return out


def wire_engine(doc: dict, main: str, subs: tuple[str, ...], use: str) -> dict:
    """The document with its engine intervals set to the data's: the drawn ``engine`` leaves of every
    layer are dropped, ``global.engine`` gets the main interval and the sub-bar interval on the exit
    and/or entry side (``use``: exit / entry / both)."""
    out = copy.deepcopy(doc)
    layers = [out]
    for k in ("live",):
        if isinstance(out.get(k), dict):
            layers.append(out[k])
    if isinstance(out.get("modes"), dict):
        layers += [v for v in out["modes"].values() if isinstance(v, dict)]
    for layer in layers:
        for section in (layer, layer.get("global") if isinstance(layer.get("global"), dict) else None):
            if isinstance(section, dict) and "engine" in section:
                del section["engine"]
    glob = out.get("global") if isinstance(out.get("global"), dict) else {}
    sub = subs[0] if subs else ""
    glob["engine"] = {"interval": main,
                      "exit_interval": sub if use in ("exit", "both") else "",
                      "entry_interval": sub if use in ("entry", "both") else ""}
    out["global"] = glob
    return out


@lru_cache(maxsize=1)
def _sweep_axes():
    from harness.generate import sweep_grids

    return tuple(sorted(sweep_grids().items()))


@st.composite
def hunt_examples(draw) -> HuntExample:
    """Configs (schema overlays + sweep rows) × market seeds × sub-bar intervals."""
    from harness.strategies import overlay_documents

    doc = draw(overlay_documents())
    main = draw(st.sampled_from(MAIN_CHOICES))
    subs = draw(st.sampled_from(SUB_CHOICES))
    use = draw(st.sampled_from(("exit", "entry", "both"))) if subs else "exit"
    doc = wire_engine(doc, main, subs, use)
    axes = draw(st.lists(st.sampled_from(_sweep_axes()), max_size=6, unique_by=lambda a: a[0]))
    sweep = tuple((path, float(draw(st.sampled_from(grid)))) for path, grid in sorted(axes))
    modes = sorted(k for k, v in (doc.get("modes") or {}).items()) if isinstance(doc.get("modes"), dict) else []
    data = DataSpec(draw(st.integers(0, 40)), draw(st.integers(4, 16)), main, subs)
    return HuntExample(doc, data, sweep, draw(st.sampled_from((0, 20, 50))),
                       draw(st.sampled_from([None] + modes)), draw(st.sampled_from(("backtest", "live"))))


def check(example: HuntExample, sim, folder: Path, detail: bool = False) -> DriftReport:
    return classify(example.case(folder), sim, detail=detail)


def drifts(example: HuntExample, sim, folder: Path) -> bool:
    rep = check(example, sim, folder)
    return rep.drift and rep.klass != REJECTED


# ---- greedy reducer ------------------------------------------------------------------------------------

def reduce_example(example: HuntExample, still: Callable[[HuntExample], bool], budget_s: float = 300.0) -> HuntExample:
    """Reset config leaves and sweep axes to their defaults one by one while ``still`` holds, then try
    fewer sub-bars and fewer days (halving, then one at a time)."""
    t0 = time.perf_counter()
    ex = example
    changed = True
    while changed and time.perf_counter() - t0 < budget_s:
        changed = False
        for key in leaf_keys(ex.doc):
            if time.perf_counter() - t0 > budget_s:
                break
            cand = replace(ex, doc=without(ex.doc, key))
            if key[0] == "modes" and ex.strategy_mode and ex.strategy_mode not in (cand.doc.get("modes") or {}):
                continue
            if still(cand):
                ex, changed = cand, True
        for item in list(ex.sweep):
            cand = replace(ex, sweep=tuple(x for x in ex.sweep if x != item))
            if still(cand):
                ex, changed = cand, True
    if ex.strategy_mode is not None:
        cand = replace(ex, strategy_mode=None)
        if still(cand):
            ex = cand
    if ex.run_mode != "backtest":
        cand = replace(ex, run_mode="backtest")
        if still(cand):
            ex = cand
    days = ex.data.days
    while days > 1 and time.perf_counter() - t0 < budget_s:
        nxt = days // 2 if days > 4 else days - 1
        cand = replace(ex, data=replace(ex.data, days=nxt))
        if still(cand):
            ex, days = cand, nxt
            continue
        if nxt != days - 1:
            cand = replace(ex, data=replace(ex.data, days=days - 1))
            if still(cand):
                ex, days = cand, days - 1
                continue
        break
    return ex


# ---- fixtures ------------------------------------------------------------------------------------------

def fixture_name(example: HuntExample, origin: str) -> str:
    blob = json.dumps({"doc": example.doc, "data": asdict(example.data), "sweep": example.sweep,
                       "run": [example.lookback, example.strategy_mode, example.run_mode]}, sort_keys=True)
    safe = "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in origin)
    return f"drift-{safe}-{hashlib.sha256(blob.encode()).hexdigest()[:10]}"


def write_fixture(example: HuntExample, report: DriftReport, folder: Path = REGRESSIONS,
                  mutation: str | None = None, note: str = "") -> Path:
    """``<name>.yaml`` (the config) + ``<name>.json`` (data, run, sweep, provenance); returns the JSON path."""
    origin = mutation or "gpu_sim"
    name = fixture_name(example, origin)
    first = report.first.text() if report.first else report.short()
    header = (f"Regression fixture {name} (driftgate drift hunt).\n"
              f"Found: {report.klass} on gpu_sim{'+' + mutation if mutation else ''}; replayed by "
              f"tests/regressions/test_regressions.py.\n" + (note + "\n" if note else ""))
    write_text_atomic(Path(folder) / f"{name}.yaml", dump_yaml(example.doc, header))
    meta = {
        "name": name,
        "config": f"{name}.yaml",
        "data": {"seed": example.data.seed, "days": example.data.days, "main_interval": example.data.main,
                 "sub_intervals": list(example.data.subs), "n_symbols": example.data.n_symbols, "funding": True},
        "run": {"lookback": example.lookback, "strategy_mode": example.strategy_mode, "run_mode": example.run_mode},
        "sweep": [[p, c] for p, c in example.sweep],
        "found": {"mutation": mutation, "class": report.klass, "first_divergence": first.splitlines()},
        "expect_on_gpu_sim": "ZERO" if mutation else "ZERO (after the fix)",
        "note": note,
    }
    return write_text_atomic(Path(folder) / f"{name}.json", json.dumps(meta, indent=2, ensure_ascii=False) + "\n")


def load_fixture(json_path: Path) -> tuple[HuntExample, dict]:
    meta = json.loads(Path(json_path).read_text())
    doc = read_yaml(Path(json_path).parent / meta["config"]) or {}
    d, r = meta["data"], meta["run"]
    data = DataSpec(int(d["seed"]), int(d["days"]), d["main_interval"], tuple(d["sub_intervals"]),
                    int(d.get("n_symbols", 3)))
    ex = HuntExample(doc, data, tuple((p, float(c)) for p, c in meta.get("sweep", [])), int(r["lookback"]),
                     r.get("strategy_mode"), r.get("run_mode", "backtest"))
    return ex, meta


def fixtures(folder: Path = REGRESSIONS) -> list[Path]:
    return sorted(p for p in Path(folder).glob("*.json") if (p.parent / json.loads(p.read_text())["config"]).is_file())


# ---- the hunt --------------------------------------------------------------------------------------------

@dataclass
class HuntResult:
    examples: int = 0
    rejected: int = 0
    traded: int = 0             # examples on which engine_ref produced at least one record
    drifting: int = 0
    seconds: float = 0.0
    example: HuntExample | None = None
    reduced: HuntExample | None = None
    report: DriftReport | None = None
    fixture: Path | None = None
    classes: dict[str, int] = field(default_factory=dict)

    @property
    def found(self) -> bool:
        return self.example is not None

    def line(self) -> str:
        base = (f"drift hunt: {self.examples} examples ({self.traded} trading, {self.rejected} rejected by both "
                f"loaders), {self.drifting} drifting, {self.seconds:.0f} s")
        if self.report is not None:
            base += f"; shrunk to {self.reduced.n_leaves if self.reduced else '?'} leaves, " \
                    f"{self.reduced.data.days if self.reduced else '?'} days: {self.report.short()}"
        return base


def hunt(sim=None, max_examples: int = 20, seed: int = 0, *, fixture_folder: Path | None = None,
         mutation: str | None = None, shrink_budget_s: float = 60.0, reduce_budget_s: float = 300.0,
         strategy=None) -> HuntResult:
    """Search for a drifting example; on a find, shrink (hypothesis, then greedy) and save a fixture."""
    import random

    from hypothesis import HealthCheck, Phase, find, settings
    from hypothesis.errors import NoSuchExample

    from harness.mutations import PRODUCTION

    sim = sim or PRODUCTION
    res = HuntResult()
    t_start = time.perf_counter()
    found_at: list[float] = []
    with tempfile.TemporaryDirectory(prefix="driftgate-hunt-") as tmp:
        folder = Path(tmp)

        seen_bad: set[str] = set()

        def condition(ex: HuntExample) -> bool:
            key = repr(ex)
            if key in seen_bad:
                return True             # hypothesis replays the examples it kept: stay consistent
            if found_at and time.perf_counter() - found_at[0] > shrink_budget_s:
                return False            # shrink budget spent: accept no further (smaller) examples
            rep = check(ex, sim, folder)
            if not found_at:
                res.examples += 1
                res.classes[rep.klass] = res.classes.get(rep.klass, 0) + 1
                res.rejected += rep.klass == REJECTED
                res.traded += bool(rep.ref is not None and rep.ref.trades)
            bad = rep.drift and rep.klass != REJECTED
            if bad:
                seen_bad.add(key)
                if not found_at:
                    found_at.append(time.perf_counter())
                    res.drifting += 1
            return bad

        cfg = settings(max_examples=max_examples, deadline=None, database=None, derandomize=False,
                       phases=[Phase.generate, Phase.shrink],
                       suppress_health_check=list(HealthCheck))
        try:
            ex = find(strategy if strategy is not None else hunt_examples(), condition, settings=cfg,
                      random=random.Random(seed))
        except NoSuchExample:
            res.seconds = time.perf_counter() - t_start
            return res
        res.example = ex
        still = lambda e: drifts(e, sim, folder)  # noqa: E731
        res.reduced = reduce_example(ex, still, reduce_budget_s)
        res.report = check(res.reduced, sim, folder, detail=True)
        if fixture_folder is not None:
            res.fixture = write_fixture(res.reduced, res.report, fixture_folder, mutation)
    res.seconds = time.perf_counter() - t_start
    return res


def replay_fixture(json_path: Path, sim=None, detail: bool = True) -> DriftReport:
    """Classify a saved fixture on ``sim`` (production gpu_sim by default)."""
    from harness.mutations import PRODUCTION

    ex, _ = load_fixture(json_path)
    with tempfile.TemporaryDirectory(prefix="driftgate-fixture-") as tmp:
        return check(ex, sim or PRODUCTION, Path(tmp), detail=detail)
