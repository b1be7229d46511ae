"""Drift classification of one case and the first-divergence report (factory-and-audits.md §9.3).

Classes (one per case, first match wins):

* ``CONFIG`` — the effective configs differ (``harness.config_parity``: engine_ref's dicts against
  gpu_sim's packed rows, every scope), or one loader rejects what the other accepts;
* ``STATE_MACHINE`` / ``NUMERIC`` / ``OVERFLOW`` — the trade logs differ (``harness.trade_parity``,
  exact: :mod:`harness.tolerance` relaxes nothing);
* ``ZERO`` — identical configs, trade logs, equity curves, final balances and metrics;
* ``REJECTED`` — both loaders reject the case (not a drift; the case is invalid).

For the first divergence the report names the bar time (and which steps of the clock fall on it:
M main step, X exit sub-bar, N entry tick, F funding), the symbol, both engines' records, the
position state reconstructed from each engine's trade log (the common prefix, then each engine's
divergent record applied), the indicator snapshot both engines used — engine_ref's recomputed with
``engine_ref.indicators.SymbolIndicators`` from the symbol's effective config, gpu_sim's read from
its precomputed ``ind`` array (``gpu_sim.ind_fields``) — compared field by field, and the config keys
of that symbol that differ from the schema defaults.
"""
from __future__ import annotations

import dataclasses
import hashlib
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from harness.config_parity import Drift, ParityCase, compare_case
from harness.engine_inputs import EngineInputs
from harness.errors import DriftgateError
from harness.replay import RunParams
from harness.tolerance import floats_equal
from harness.trade_parity import NUMERIC, OVERFLOW, STATE_MACHINE, ZERO, EngineRun, Verdict, compare, describe

CONFIG = "CONFIG"
REJECTED = "REJECTED"
CLASSES = (ZERO, CONFIG, STATE_MACHINE, NUMERIC, OVERFLOW)
SEVERITY = {CONFIG: 4, STATE_MACHINE: 3, NUMERIC: 2, OVERFLOW: 1, ZERO: 0, REJECTED: -1}
HOUR_MS = 3_600_000


def utc(ms: int | None) -> str:
    if ms is None:
        return "-"
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3] + " UTC"


@dataclass(frozen=True)
class Case:
    """One comparison: a YAML (or the defaults), optional sweep overrides, data and run parameters."""

    name: str
    yaml_path: Path | None
    inputs: EngineInputs
    run: RunParams = RunParams()
    sweep_paths: tuple[str, ...] = ()
    sweep_codes: tuple[float, ...] = ()
    market: str = ""

    @property
    def symbols(self) -> tuple[str, ...]:
        return tuple(sorted(self.inputs.main, key=lambda s: s.encode()))


# ---- position state from a trade log ----------------------------------------------------------------

@dataclass(frozen=True)
class Position:
    """One symbol's position as the trade log tells it (after the last record applied)."""

    side: str | None = None          # LONG / SHORT / None (flat)
    size: float = 0.0
    entry: float = 0.0               # size-weighted fill after adds
    margin_used: float = 0.0
    leverage: float = 0.0
    entry_atr: float = 0.0
    confidence: str = ""
    adds: int = 0
    tp1_taken: bool = False
    opened_ms: int | None = None

    def text(self) -> str:
        if self.side is None:
            return "flat"
        return (f"{self.side} {self.size!r} @ {self.entry!r} (opened {utc(self.opened_ms)}, conf {self.confidence}, "
                f"adds {self.adds}, TP1 {'taken' if self.tp1_taken else 'no'}, margin {self.margin_used!r}, "
                f"lev {self.leverage!r}, entry ATR {self.entry_atr!r})")


@dataclass(frozen=True)
class Book:
    """Every symbol's position and the account balance after a prefix of a trade log."""

    positions: Mapping[str, Position] = field(default_factory=dict)
    balance: float | None = None

    def position(self, symbol: str | None) -> Position:
        return self.positions.get(symbol or "", Position())

    @property
    def open_symbols(self) -> tuple[str, ...]:
        return tuple(s for s, p in sorted(self.positions.items()) if p.side is not None)


def apply_record(book: Book, r: Mapping) -> Book:
    """``book`` after trade-log record ``r`` (strategy-exits.md §6.5 fields)."""
    pos = dict(book.positions)
    sym, action = r["symbol"], r["action"]
    p = pos.get(sym, Position())
    if action.startswith("OPEN_"):
        p = Position(action[5:], r["size"], r["price"], r["margin_used"], r["leverage"], r["entry_atr"],
                     r["confidence"], 0, False, r["timestamp_ms"])
    elif action.startswith("ADD_"):
        total = p.size + r["size"]
        entry = (p.entry * p.size + r["price"] * r["size"]) / total if total > 0 else p.entry
        p = dataclasses.replace(p, size=total, entry=entry, margin_used=r["margin_used"], adds=p.adds + 1)
    elif action.startswith("REDUCE_"):
        p = dataclasses.replace(p, size=p.size - r["size"], margin_used=p.margin_used - r["margin_used"],
                                tp1_taken=True)
    elif action.startswith("CLOSE_"):
        p = Position()
    pos[sym] = p
    return Book(pos, r.get("balance", book.balance))


def book_after(records: Sequence[Mapping]) -> Book:
    book = Book()
    for r in records:
        book = apply_record(book, r)
    return book


# ---- the clock at τ -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Clock:
    main_ms: int
    exit_ms: int | None
    entry_ms: int | None


def clock_of(case: Case) -> Clock:
    """Main and active sub-bar intervals of the case's portfolio config (engine_ref's loader)."""
    from engine_ref.config_loader import load_config
    from harness.data import interval_ms

    cfg = load_config(case.yaml_path, None, case.run.strategy_mode, run_mode=case.run.run_mode)
    eng = cfg["engine"]
    main = interval_ms(eng["interval"])
    subs = []
    for key in ("exit_interval", "entry_interval"):
        v = eng.get(key) or ""
        ms = interval_ms(v) if v else None
        subs.append(None if ms is None or ms == main else ms)
    return Clock(main, subs[0], subs[1])


def steps_at(case: Case, clock: Clock, tau: int) -> tuple[str, ...]:
    """Which clock steps fall on τ: X (exit sub-bar close), N (entry tick), M (main close), F (hour)."""
    out = []
    for tag, ms in (("X", clock.exit_ms), ("N", clock.entry_ms)):
        if ms and ms in case.inputs.sub_bars and any(
                np.any(np.asarray(a["t"], np.int64) + ms == tau) for a in case.inputs.sub_bars[ms].values()):
            out.append(tag)
    if any(np.any(np.asarray(a["t"], np.int64) + clock.main_ms == tau) for a in case.inputs.main.values()):
        out.append("M")
    if case.inputs.funding is not None and tau % HOUR_MS == 0:
        out.append("F")
    return tuple(out)


STEP_NAMES = {"X": "exit sub-bar", "N": "entry tick", "M": "main step", "F": "funding"}


# ---- indicator snapshots ----------------------------------------------------------------------------

def snapshot_bar(case: Case, clock: Clock, symbol: str, tau: int, strict: bool) -> int | None:
    """Index of the symbol's latest main bar closed at τ (``strict``: closed before τ)."""
    t = np.asarray(case.inputs.main[symbol]["t"], np.int64) + clock.main_ms
    k = int(np.searchsorted(t, tau, side="left" if strict else "right")) - 1
    return k if k >= 0 else None


def ref_snapshot(case: Case, symbol: str, bar: int) -> dict[str, object]:
    """engine_ref's snapshot of ``symbol`` after main bar ``bar`` (SymbolIndicators, full history, D21)."""
    from engine_ref.config_loader import load_config_set
    from engine_ref.indicators import SymbolIndicators
    from harness.decode import decode_row

    overrides = decode_row(case.sweep_paths, case.sweep_codes) if case.sweep_paths else None
    cs = load_config_set(case.yaml_path, case.symbols, case.run.strategy_mode, run_mode=case.run.run_mode,
                         sweep_overrides=overrides)
    ind = SymbolIndicators.from_config(cs.symbols[symbol])
    a = case.inputs.main[symbol]
    snap = None
    for k in range(bar + 1):
        snap = ind.update(t=int(a["t"][k]), o=a["o"][k], h=a["h"][k], l=a["l"][k], c=a["c"][k], v=a["v"][k])
    return dataclasses.asdict(snap) if snap is not None else {}


def sim_snapshot(case: Case, sim, symbol: str, bar: int) -> dict[str, float]:
    """gpu_sim's ``ind`` row of ``symbol`` at ``bar`` (the engine's own host pipeline, mutations included)."""
    codes = np.asarray([case.sweep_codes], np.float64) if case.sweep_paths else None
    prep = sim.prepare(case.yaml_path, case.inputs, case.run, sweep_paths=case.sweep_paths, sweep_codes=codes)
    if symbol not in prep.batch.symbols:
        return {}
    return sim.indicator_row(prep, 0, symbol, bar)


def snapshot_diff(ref: Mapping[str, object], sim: Mapping[str, float]) -> list[tuple[str, object, float]]:
    """Fields of gpu_sim's row whose value differs from engine_ref's (bools as 0/1, bit-exact)."""
    out = []
    for name, b in sim.items():
        if name not in ref:
            continue
        a = ref[name]
        a_f = float(a) if isinstance(a, (bool, int, float)) else a
        if not (isinstance(a_f, float) and (floats_equal(a_f, b) or (a_f != a_f and b != b))):
            out.append((name, a, b))
    return out


# ---- config keys that differ from the defaults ---------------------------------------------------------

def non_default_keys(case: Case, symbol: str | None) -> list[tuple[str, object]]:
    """``(path, value)`` of the symbol's (or the portfolio's) effective config that differ from the schema."""
    from engine_ref.config_loader import load_config_set
    from harness.decode import decode_row
    from harness.paths import flatten
    from harness.schema import load_schema

    overrides = decode_row(case.sweep_paths, case.sweep_codes) if case.sweep_paths else None
    cs = load_config_set(case.yaml_path, case.symbols, case.run.strategy_mode, run_mode=case.run.run_mode,
                         sweep_overrides=overrides)
    cfg = cs.symbols[symbol] if symbol in cs.symbols else cs.portfolio
    defaults = load_schema().defaults()
    out = []
    for path, value in flatten(cfg).items():
        d = defaults.get(path, "<not in schema>")
        same = (type(value) is type(d) and (floats_equal(value, d) if isinstance(value, float) else value == d))
        if not same:
            out.append((path, value))
    return out


# ---- the report ---------------------------------------------------------------------------------------

@dataclass
class FirstDivergence:
    """Everything known about the first place two runs (or two loaders) disagree."""

    klass: str
    case: str
    what: str
    index: int = -1
    time_ms: int | None = None
    steps: tuple[str, ...] = ()
    symbol: str | None = None
    fields: tuple[str, ...] = ()
    ref_record: dict | None = None
    sim_record: dict | None = None
    before: Book = field(default_factory=Book)
    after_ref: Position | None = None
    after_sim: Position | None = None
    bar: int | None = None
    bar_time_ms: int | None = None
    ref_snapshot: dict = field(default_factory=dict)
    sim_snapshot: dict = field(default_factory=dict)
    snapshot_diff: list = field(default_factory=list)
    view_close: float | None = None
    non_default: list = field(default_factory=list)
    config_drifts: list[Drift] = field(default_factory=list)
    sim_engine: str = "gpu_sim"

    @property
    def reasons(self) -> tuple[str, ...]:
        return tuple(r["reason"] for r in (self.ref_record, self.sim_record) if r)

    @property
    def actions(self) -> tuple[str, ...]:
        return tuple(r["action"] for r in (self.ref_record, self.sim_record) if r)

    def place(self) -> dict[str, object]:
        """The facts a test asserts on (see harness.mutations.Expect)."""
        return {"class": self.klass, "time_ms": self.time_ms, "steps": self.steps, "symbol": self.symbol,
                "fields": self.fields, "actions": self.actions, "reasons": self.reasons,
                "indicators": tuple(n for n, _, _ in self.snapshot_diff),
                "paths": tuple(sorted({d.path for d in self.config_drifts}))}

    def lines(self) -> list[str]:
        """The report as text lines (markdown-friendly, one fact per line)."""
        out = [f"first divergence — {self.klass} — case {self.case}: {self.what}"]
        if self.config_drifts:
            out.append(f"  config drifts   {len(self.config_drifts)} leaves (engine_ref vs {self.sim_engine}):")
            for d in self.config_drifts[:12]:
                out.append(f"    [{d.scope}] {d.path}: engine_ref={d.ref_value} {self.sim_engine}={d.sim_value} "
                           f"({d.change})")
            if len(self.config_drifts) > 12:
                out.append(f"    … {len(self.config_drifts) - 12} more")
        if self.time_ms is not None:
            steps = ", ".join(f"{s} {STEP_NAMES[s]}" for s in self.steps) or "no clock step"
            out.append(f"  bar time        {utc(self.time_ms)} (τ = {self.time_ms} ms); steps at τ: {steps}")
        if self.symbol:
            out.append(f"  symbol          {self.symbol}")
        if self.index >= 0:
            out.append(f"  record          #{self.index}; differing fields: {', '.join(self.fields)}")
        for who, rec in (("engine_ref", self.ref_record), (self.sim_engine, self.sim_record)):
            if rec is not None or self.index >= 0:
                out.append(f"  {who:<15} {_record_text(rec)}")
        if self.fields and self.ref_record and self.sim_record:
            for f in self.fields:
                out.append(f"    {f}: engine_ref={self.ref_record.get(f)!r} "
                           f"{self.sim_engine}={self.sim_record.get(f)!r}")
        if self.symbol or self.index >= 0:
            bal = "-" if self.before.balance is None else repr(self.before.balance)
            out.append(f"  position before {self.before.position(self.symbol).text()}; balance {bal}; "
                       f"open: {', '.join(self.before.open_symbols) or 'none'}")
            if self.after_ref is not None:
                out.append(f"  after engine_ref {self.after_ref.text()}")
            if self.after_sim is not None:
                out.append(f"  after {self.sim_engine} {self.after_sim.text()}")
        if self.bar is not None:
            view = f"; view close {self.view_close!r} (sub-bar at τ)" if self.view_close is not None else ""
            out.append(f"  snapshot        {self.symbol} main bar k={self.bar} (open {utc(self.bar_time_ms)}){view}")
            n = len(self.sim_snapshot)
            if self.snapshot_diff:
                out.append(f"    {len(self.snapshot_diff)} of {n} fields differ:")
                for name, a, b in self.snapshot_diff:
                    out.append(f"    {name}: engine_ref={a!r} {self.sim_engine}={b!r}")
            else:
                out.append(f"    all {n} fields bit-equal in both engines")
            keys = ("c", "ema_fast", "ema_slow", "adx", "adx_slope", "atr", "rsi", "macd_hist", "vol_sma",
                    "bb_width_ratio")
            out.append("    " + ", ".join(f"{k}={self.ref_snapshot[k]!r}" for k in keys if k in self.ref_snapshot))
        if self.non_default:
            shown = ", ".join(f"{p}={v!r}" for p, v in self.non_default[:20])
            more = f", … {len(self.non_default) - 20} more" if len(self.non_default) > 20 else ""
            out.append(f"  config ≠ defaults ({self.symbol or 'portfolio'}, {len(self.non_default)} keys): "
                       f"{shown}{more}")
        else:
            out.append(f"  config ≠ defaults ({self.symbol or 'portfolio'}): none")
        return out

    def text(self) -> str:
        return "\n".join(self.lines())


def _record_text(r: Mapping | None) -> str:
    if r is None:
        return "(no record)"
    return (f"{utc(r['timestamp_ms'])} {r['symbol']} {r['action']} \"{r['reason']}\" conf {r['confidence']} "
            f"price={r['price']!r} size={r['size']!r} pnl={r['pnl']!r} fee={r['fee_usd']!r} balance={r['balance']!r}")


@dataclass
class DriftReport:
    """The verdict of one case."""

    case: str
    klass: str
    verdict: Verdict | None = None
    config_drifts: list[Drift] = field(default_factory=list)
    first: FirstDivergence | None = None
    ref: EngineRun | None = None
    sim: EngineRun | None = None
    note: str = ""

    @property
    def drift(self) -> bool:
        return self.klass not in (ZERO, REJECTED)

    def short(self) -> str:
        if self.klass == REJECTED:
            return f"REJECTED ({self.note})"
        if self.klass == CONFIG:
            paths = sorted({d.path for d in self.config_drifts})
            if not self.config_drifts:
                return f"CONFIG: {self.note}"
            more = " …" if len(paths) > 4 else ""
            return f"CONFIG: {len(self.config_drifts)} leaves differ ({', '.join(paths[:4])}{more})"
        return describe(self.verdict) if self.verdict is not None else self.klass


def build_first(case: Case, klass: str, verdict: Verdict | None, ref: EngineRun | None, sim: EngineRun | None,
                sim_engine, config_drifts: Sequence[Drift] = (), note: str = "") -> FirstDivergence:
    """The first-divergence report of a drifting case."""
    fd = FirstDivergence(klass, case.name, note or (verdict.first.what if verdict and verdict.first else klass),
                         config_drifts=list(config_drifts), sim_engine=getattr(sim_engine, "name", "gpu_sim"))
    if verdict is None or verdict.first is None or ref is None or sim is None:
        fd.non_default = _safe(lambda: non_default_keys(case, None), [])
        return fd
    d = verdict.first
    fd.index, fd.fields = d.index, d.fields
    if d.index >= 0:
        r = ref.trades[d.index] if d.index < len(ref.trades) else None
        s = sim.trades[d.index] if d.index < len(sim.trades) else None
        fd.ref_record, fd.sim_record = r, s
        first = min((x for x in (r, s) if x is not None), key=lambda x: x["timestamp_ms"])
        fd.time_ms, fd.symbol = int(first["timestamp_ms"]), first["symbol"]
        fd.before = book_after(ref.trades[:d.index])
        fd.after_ref = apply_record(fd.before, r).position(fd.symbol) if r is not None else None
        fd.after_sim = apply_record(fd.before, s).position(fd.symbol) if s is not None else None
    else:
        t = (d.ref or {}).get("t")
        fd.time_ms = int(t) if t is not None else (ref.equity_curve[-1][0] if ref.equity_curve else None)
        fd.before = book_after([x for x in ref.trades if fd.time_ms is None or x["timestamp_ms"] <= fd.time_ms])
        opened = fd.before.open_symbols
        fd.symbol = opened[0] if opened else None
    clock = _safe(lambda: clock_of(case), None)
    if clock is not None and fd.time_ms is not None:
        fd.steps = steps_at(case, clock, fd.time_ms)
        if fd.symbol and fd.symbol in case.inputs.main:
            rec = fd.ref_record or fd.sim_record or {}
            at_sub = view_evaluation(rec, fd.steps)
            fd.bar = snapshot_bar(case, clock, fd.symbol, fd.time_ms, strict=at_sub)
            if fd.bar is not None:
                fd.bar_time_ms = int(case.inputs.main[fd.symbol]["t"][fd.bar])
                fd.ref_snapshot = _safe(lambda: ref_snapshot(case, fd.symbol, fd.bar), {})
                fd.sim_snapshot = _safe(lambda: sim_snapshot(case, sim_engine, fd.symbol, fd.bar), {})
                fd.snapshot_diff = snapshot_diff(fd.ref_snapshot, fd.sim_snapshot)
            if at_sub:
                fd.view_close = sub_close(case, clock, fd.symbol, fd.time_ms)
    fd.non_default = _safe(lambda: non_default_keys(case, fd.symbol), [])
    return fd


def view_evaluation(rec: Mapping, steps: Sequence[str]) -> bool:
    """True when the record was decided on a sub-bar view (snapshot = the bar closed *before* τ):
    an entry tick (reason ``… (sub-bar)``), or an exit at a sub-bar close that is not a main close.
    At a τ that is both, the main step's snapshot (closed at τ) is shown."""
    if str(rec.get("reason", "")).endswith("(sub-bar)"):
        return True
    if rec.get("action") == "FUNDING":
        return False
    return ("X" in steps or "N" in steps) and "M" not in steps


def sub_close(case: Case, clock: Clock, symbol: str, tau: int) -> float | None:
    """Close of the symbol's exit (else entry) sub-bar closing at τ."""
    for ms in (clock.exit_ms, clock.entry_ms):
        bars = case.inputs.sub_bars.get(ms or -1, {}).get(symbol)
        if bars is not None:
            hit = np.flatnonzero(np.asarray(bars["t"], np.int64) + ms == tau)
            if hit.size:
                return float(bars["c"][hit[0]])
    return None


def _safe(fn, default):
    try:
        return fn()
    except (DriftgateError, KeyError, ValueError, IndexError):
        return default


def config_check(case: Case, sim_engine) -> list[Drift]:
    """Config parity of the case (every symbol and the portfolio; the engine's params hook applied)."""
    pc = ParityCase(case.name, case.yaml_path, case.symbols, case.run.strategy_mode, case.run.run_mode,
                    tuple(case.sweep_paths), tuple(case.sweep_codes))
    return compare_case(pc, None, getattr(sim_engine, "params_hook", None))[1]


_REF_RUNS: "OrderedDict[tuple, EngineRun]" = OrderedDict()
REF_CACHE_SIZE = 160


def _ref_key(case: Case) -> tuple | None:
    """Cache key of engine_ref's run of ``case`` (None: not cacheable — no market key)."""
    if not case.market:
        return None
    text = Path(case.yaml_path).read_bytes() if case.yaml_path is not None else b""
    return (hashlib.sha256(text).hexdigest(), case.market, case.run, tuple(case.sweep_paths),
            tuple(case.sweep_codes))


def ref_run_cached(case: Case) -> EngineRun:
    """engine_ref's run of ``case`` (memoised by YAML bytes, market key, run and sweep: engine_ref does not
    depend on the gpu_sim under test, so audits of several mutations share its runs)."""
    from harness.engines import ref_run

    key = _ref_key(case)
    if key is not None and key in _REF_RUNS:
        _REF_RUNS.move_to_end(key)
        return _REF_RUNS[key]
    out = ref_run(case.yaml_path, case.inputs, case.run, sweep_paths=case.sweep_paths, sweep_codes=case.sweep_codes)
    if key is not None:
        _REF_RUNS[key] = out
        while len(_REF_RUNS) > REF_CACHE_SIZE:
            _REF_RUNS.popitem(last=False)
    return out


def classify(case: Case, sim_engine, ref: EngineRun | None = None, sim: EngineRun | None = None,
             detail: bool = True) -> DriftReport:
    """Compare both loaders and both engines on ``case``; build the first-divergence report on drift.

    ``ref``/``sim`` may be given when already run (sweep batches). Loader errors: both reject →
    REJECTED; exactly one rejects → CONFIG.
    """
    codes = np.asarray([case.sweep_codes], np.float64) if case.sweep_paths else None
    errors: dict[str, str] = {}
    drifts: list[Drift] = []
    try:
        drifts = config_check(case, sim_engine)
    except DriftgateError as exc:
        errors["config"] = f"{type(exc).__name__}: {exc}"
    if ref is None:
        try:
            ref = ref_run_cached(case)
        except DriftgateError as exc:
            errors["ref"] = f"{type(exc).__name__}: {exc}"
    if sim is None:
        try:
            sim = sim_engine.runs(case.yaml_path, case.inputs, case.run, sweep_paths=case.sweep_paths,
                                  sweep_codes=codes)[0]
        except DriftgateError as exc:
            errors["sim"] = f"{type(exc).__name__}: {exc}"
    if "ref" in errors and "sim" in errors:
        return DriftReport(case.name, REJECTED, note=errors["ref"].splitlines()[0][:200])
    if "ref" in errors or "sim" in errors:
        who = "engine_ref" if "ref" in errors else "gpu_sim"
        note = f"only {who} rejects: {(errors.get('ref') or errors.get('sim')).splitlines()[0][:300]}"
        rep = DriftReport(case.name, CONFIG, config_drifts=drifts, ref=ref, sim=sim, note=note)
        rep.first = build_first(case, CONFIG, None, ref, sim, sim_engine, drifts, note) if detail else None
        return rep
    verdict = compare(ref, sim)
    klass = CONFIG if drifts else verdict.klass
    rep = DriftReport(case.name, klass, verdict, drifts, ref=ref, sim=sim)
    if rep.drift and detail:
        rep.first = build_first(case, klass, verdict if verdict.drift else None, ref, sim, sim_engine, drifts,
                                "effective configs differ" if drifts and not verdict.drift else "")
    return rep
