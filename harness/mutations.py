"""Deliberate divergences of gpu_sim (test-only) and the gpu_sim engine the audits run.

The audits of ``driftgate audit`` take a :class:`SimEngine`. ``SimEngine()`` is production gpu_sim
(``harness.engines.sim_runs``: loader → runner → ``simulate_cpu``). ``SimEngine(mutation)`` runs the
same host pipeline with one known defect injected at one of three levels:

* ``param`` — the packed params arrays are corrupted after loading (an axis ignored: its column
  overwritten by the default; two columns swapped). Config parity sees these.
* ``host`` — the arrays the host hands the kernel are corrupted (funding rates, indicator columns).
* ``code`` — the kernel itself is rebuilt from patched source (:mod:`gpu_sim.mutants`; all code
  mutations share one build, selected at run time).

Each :class:`Mutation` documents the defect it models and where the audit is expected to point
(``expect``): the audit part that flags it, the drift class and the first-divergence place. The
production gpu_sim never sees any of this.
"""
from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from harness.engine_inputs import EngineInputs
from harness.replay import RunParams
from harness.trade_parity import EngineRun

ParamsHook = Callable[[np.ndarray, np.ndarray], None]
InputsHook = Callable[[object], object]
IndHook = Callable[[np.ndarray], np.ndarray]
LEVELS = ("param", "host", "code")


@dataclass(frozen=True)
class Expect:
    """Where the audit must flag a mutation.

    ``part``: the audit part that flags it (``config parity``, ``trade parity`` or ``sensitivity``);
    ``classes``: acceptable drift classes (``CONFIG``, ``STATE_MACHINE``, ``NUMERIC`` or ``DRIFTING``);
    ``place``: what the first-divergence report must name — keys ``path`` (config leaf), ``axis``
    (a DRIFTING axis), ``field`` (a differing record field), ``action`` (prefix of the divergent
    record's action), ``reason`` (a reason on either side), ``event`` (M/X/N/F: main step, exit
    sub-bar, entry tick, funding), ``indicator`` (a snapshot field that differs between engines).
    """

    part: str
    classes: tuple[str, ...]
    place: Mapping[str, object] = field(default_factory=dict)
    probe: str = ""             # the quick check: "config:shipped", "trade:<case>", "axis:<path>"


@dataclass(frozen=True)
class Mutation:
    """One named, documented deliberate divergence of gpu_sim."""

    name: str
    level: str
    doc: str
    expect: Expect
    params_hook: ParamsHook | None = None
    inputs_hook: InputsHook | None = None
    ind_hook: IndHook | None = None
    patches: tuple = ()

    def __post_init__(self) -> None:
        if self.level not in LEVELS:
            raise ValueError(f"mutation {self.name}: level must be one of {LEVELS}")

    @property
    def needs_build(self) -> bool:
        return bool(self.patches)


# ---- param-level hooks ---------------------------------------------------------------------------

def _column(path: str) -> int:
    from gpu_sim.layout import load_layout

    return int(load_layout().index[path])


def ignore_axis(path: str) -> ParamsHook:
    """The loader drops ``path``: its packed column is overwritten by the schema default."""
    from harness.decode import encode_value
    from harness.schema import load_schema

    axis = load_schema().by_path[path]
    col, default = _column(path), float(encode_value(axis, axis.default))

    def hook(params: np.ndarray, portfolio: np.ndarray) -> None:
        params[..., col] = default
        portfolio[..., col] = default

    return hook


def swap_axes(a: str, b: str) -> ParamsHook:
    """The packer writes ``a`` into ``b``'s column and vice versa (config_parity.swap_columns)."""
    from harness.config_parity import swap_columns

    return swap_columns(a, b)


# ---- host-level hooks ----------------------------------------------------------------------------

def _readonly(a: np.ndarray) -> np.ndarray:
    a = np.ascontiguousarray(a)
    a.flags.writeable = False   # same numba type as the production inputs: no extra compilation
    return a


def _negate_funding(k):
    return dataclasses.replace(k, fr=_readonly(-np.asarray(k.fr)))


def _float32_atr(ind: np.ndarray) -> np.ndarray:
    from gpu_sim.ind_fields import ATR, AVG_ATR

    out = np.array(ind, copy=True)
    for col in (ATR, AVG_ATR):
        out[..., col] = out[..., col].astype(np.float32).astype(np.float64)
    return _readonly(out)


# ---- code-level patches (gpu_sim.mutants.SourcePatch) --------------------------------------------

def _patch(function: str, old: str, new: str, carrier: str = "p"):
    from gpu_sim.mutants import SourcePatch

    return SourcePatch(function, old, new, carrier)


def _code_patches() -> dict[str, tuple]:
    return {
        "exit_priority_swapped": (_patch("evaluate_exits", """
            # 3. take profit
            kind, reason, pct = take_profit(p, side, entry, a, pf[s, PF_SIZE], si[s, SI_TP1] != 0, close, adx)
            if kind != HOLD:
                return kind, reason, pct, 0.0, 0.0
            # 4. smart exits
            low = si[s, SI_CONF] == CONF_LOW
            reason, x1, x2 = smart_exit(p, side, low, entry, a, pf[s, PF_ENTRY_THR], pa, close, row, is_paxg)
            if reason != R_NONE:
                return EXIT_FULL, reason, 0.0, x1, x2
            """, """
            low = si[s, SI_CONF] == CONF_LOW
            reason, x1, x2 = smart_exit(p, side, low, entry, a, pf[s, PF_ENTRY_THR], pa, close, row, is_paxg)
            if reason != R_NONE:
                return EXIT_FULL, reason, 0.0, x1, x2
            kind, reason, pct = take_profit(p, side, entry, a, pf[s, PF_SIZE], si[s, SI_TP1] != 0, close, adx)
            if kind != HOLD:
                return kind, reason, pct, 0.0, 0.0
            """),),
        "breadth_filter_non_strict": (_patch("transform_signal", """
            if signal == BUY and breadth < p[P_BREADTH_BLOCK_LONG_BELOW]:
                signal = NEUTRAL
            """, """
            if signal == BUY and breadth <= p[P_BREADTH_BLOCK_LONG_BELOW]:
                signal = NEUTRAL
            """),),
        "breakeven_not_latched": (_patch("update_position_state", """
            if p[P_ENABLE_BREAKEVEN_STOP] != 0.0 and be_reached(side, entry, a, close, p[P_BREAKEVEN_START_ATR]):
                si[s, SI_BE_ARMED] = 1
            """, """
            si[s, SI_BE_ARMED] = 0
            """),),
        "trailing_ratchet_loosens": (_patch("update_position_state", """
            if si[s, SI_HAS_TRAIL] == 0:
                pf[s, PF_TRAIL] = new
                si[s, SI_HAS_TRAIL] = 1
            elif side == LONG and new > pf[s, PF_TRAIL]:
                pf[s, PF_TRAIL] = new
            elif side != LONG and new < pf[s, PF_TRAIL]:
                pf[s, PF_TRAIL] = new
            """, """
            pf[s, PF_TRAIL] = new
            si[s, SI_HAS_TRAIL] = 1
            """),),
        "pesc_clock_ignored": (_patch("pesc_blocked", """
            return (tau - ct) < trunc_i(cd * 60000.0)
            """, """
            return False
            """),),
        "fee_on_unslipped_notional": (_patch("open_position", """
            n = q(size * fill)
            fee = q(n * fee_rate)
            """, """
            n = q(size * fill)
            fee = q(q(size * price) * fee_rate)
            """, carrier="g_i"),),
        "slippage_entries_only": (_patch("apply_exit", """
            fill = exit_fill(side, price, slippage_bps)
            """, """
            fill = exit_fill(side, price, 0.0)
            """, carrier="g_i"),),
        "float32_equity_sum": (_patch("equity", """
            if si[s, SI_SIDE] == LONG:
                u = u + mul(m - e, pf[s, PF_SIZE])
            else:
                u = u + mul(e - m, pf[s, PF_SIZE])
            """, """
            if si[s, SI_SIDE] == LONG:
                u = float(np.float32(u + mul(m - e, pf[s, PF_SIZE])))
            else:
                u = float(np.float32(u + mul(e - m, pf[s, PF_SIZE])))
            """, carrier="g_f"),),
        "exit_view_reads_bar_k": (_patch("exit_subbar_step", """
            row = ind[sets[s], s, bc - 1]
            """, """
            row = ind[sets[s], s, bc if bc < ind.shape[2] else bc - 1]
            """, carrier="g_i"),),
    }


# ---- the catalogue -------------------------------------------------------------------------------

def _catalogue() -> dict[str, Mutation]:
    code = _code_patches()
    m = [
        Mutation("ignore_axis:trade.tp_partial_atr_mult", "param",
                 "gpu_sim's loader ignores trade.tp_partial_atr_mult: the packed column always holds the "
                 "default 0.0 (partial TP at the full TP level, no TP of the remainder).",
                 Expect("config parity", ("CONFIG",), {"path": "trade.tp_partial_atr_mult"}, "config:shipped"),
                 params_hook=ignore_axis("trade.tp_partial_atr_mult")),
        Mutation("swap_columns:rsi_exit_ub_lo/hi_profit", "param",
                 "gpu_sim's packer swaps the columns of trade.rsi_exit_ub_lo_profit and "
                 "trade.rsi_exit_ub_hi_profit (the RSI-overextension upper bounds of the two profit bands).",
                 Expect("config parity", ("CONFIG",), {"path": "trade.rsi_exit_ub_lo_profit"}, "config:shipped"),
                 params_hook=swap_axes("trade.rsi_exit_ub_lo_profit", "trade.rsi_exit_ub_hi_profit")),
        Mutation("funding_sign_flipped", "host",
                 "gpu_sim's host packs funding rates with the wrong sign (positive = shorts pay longs).",
                 Expect("trade parity", ("STATE_MACHINE", "NUMERIC"), {"action": "FUNDING", "event": "F"},
                        "trade:shipped/-"),
                 inputs_hook=_negate_funding),
        Mutation("atr_float32", "host",
                 "gpu_sim's indicator precompute stores Wilder's ATR (and its average) in float32: every value "
                 "rounded through np.float32 (float32 precision in the indicator arrays).",
                 Expect("trade parity", ("NUMERIC", "STATE_MACHINE"), {"indicator": "atr"}, "trade:shipped/-"),
                 ind_hook=_float32_atr),
        Mutation("exit_priority_swapped", "code",
                 "evaluate_exits checks the smart exits (trend breakdown … RSI overextension) before the "
                 "take profit: the spec's priority glitch → SL → trailing → TP → smart is broken.",
                 Expect("trade parity", ("STATE_MACHINE",), {"field": "reason", "reason": "Take Profit (Partial)"},
                        "trade:shipped/conservative"),
                 patches=code["exit_priority_swapped"]),
        Mutation("breadth_filter_non_strict", "code",
                 "transform_signal neutralises a BUY while breadth <= breadth_block_long_below (the spec "
                 "says strictly below): a strict comparison made non-strict.",
                 Expect("sensitivity", ("DRIFTING",),
                        {"axis": "market_regime.breadth_block_long_below", "action": "OPEN"},
                        "axis:market_regime.breadth_block_long_below"),
                 patches=code["breadth_filter_non_strict"]),
        Mutation("breakeven_not_latched", "code",
                 "update_position_state never latches the breakeven stop: the breakeven floor holds only "
                 "while profit is above breakeven_start_atr (D14 broken).",
                 Expect("sensitivity", ("DRIFTING",), {"axis": "trade.breakeven_start_atr", "reason": "Stop Loss"},
                        "axis:trade.breakeven_start_atr"),
                 patches=code["breakeven_not_latched"]),
        Mutation("trailing_ratchet_loosens", "code",
                 "update_position_state moves the stored trailing level to every new level, also when it is "
                 "looser than the stored one (the ratchet of §5.2 loosens).",
                 Expect("trade parity", ("STATE_MACHINE",), {"reason": "Trailing Stop"}, "trade:shipped/-"),
                 patches=code["trailing_ratchet_loosens"]),
        Mutation("pesc_clock_ignored", "code",
                 "pesc_blocked ignores the post-exit same-direction cooldown clock: a same-side re-entry "
                 "right after an exit is never blocked (D16 broken).",
                 Expect("sensitivity", ("DRIFTING",), {"axis": "trade.reentry_cooldown_minutes", "action": "OPEN"},
                        "axis:trade.reentry_cooldown_minutes"),
                 patches=code["pesc_clock_ignored"]),
        Mutation("fee_on_unslipped_notional", "code",
                 "open_position charges the taker fee on the unslipped notional (size × decision price) "
                 "instead of size × fill (D24).",
                 Expect("trade parity", ("NUMERIC",), {"action": "OPEN", "field": "fee_usd"}, "trade:shipped/-"),
                 patches=code["fee_on_unslipped_notional"]),
        Mutation("slippage_entries_only", "code",
                 "apply_exit fills exits at the unslipped close: slippage applied to entries only (D24).",
                 Expect("trade parity", ("NUMERIC",), {"action": ("REDUCE", "CLOSE"), "field": "price"},
                        "trade:shipped/-"),
                 patches=code["slippage_entries_only"]),
        Mutation("float32_equity_sum", "code",
                 "equity() accumulates the unrealised PnL in float32 (each partial sum rounded through "
                 "np.float32): a float32 accumulation in a sum.",
                 Expect("trade parity", ("NUMERIC",), {"action": "OPEN", "field": "size"}, "trade:shipped/-"),
                 patches=code["float32_equity_sum"]),
        Mutation("exit_view_reads_bar_k", "code",
                 "exit_subbar_step builds the sub-bar view on the snapshot of the main bar in progress "
                 "(bar k) instead of the latest closed one (k − 1): an off-by-one sub-bar window that "
                 "looks ahead.",
                 Expect("trade parity", ("STATE_MACHINE", "NUMERIC"), {"event": "X", "action": "CLOSE"},
                        "trade:shipped/-"),
                 patches=code["exit_view_reads_bar_k"]),
    ]
    return {x.name: x for x in m}


_LOCK = threading.Lock()


@lru_cache(maxsize=1)
def catalogue() -> dict[str, Mutation]:
    """Every mutation by name (catalogue order)."""
    return _catalogue()


def mutation(name: str) -> Mutation:
    """The mutation called ``name`` (KeyError listing the known names otherwise)."""
    return _by_name(name)


def _by_name(name: str) -> Mutation:
    cat = catalogue()
    if name not in cat:
        raise KeyError(f"unknown mutation {name!r}; known: {', '.join(cat)}")
    return cat[name]


@lru_cache(maxsize=1)
def mutant_kernel():
    """The one shared mutant build of every code-level mutation (compiled on first use, no disk cache)."""
    from gpu_sim.mutants import build_mutant_kernel

    return build_mutant_kernel({m.name: m.patches for m in catalogue().values() if m.patches})


# ---- the gpu_sim engine the audits run ------------------------------------------------------------

@dataclass(frozen=True)
class SimPrepared:
    """gpu_sim's host state of one (YAML, sweep rows, data, run): batch, market, kernel inputs, indicators."""

    batch: object
    market: object
    kernel_inputs: object
    sets: object
    ind: np.ndarray


class SimEngine:
    """gpu_sim (cpu backend) as the audits see it, optionally with one mutation."""

    def __init__(self, mutation: Mutation | str | None = None, record_capacity: int = 4096) -> None:
        if isinstance(mutation, str):
            mutation = _by_name(mutation)
        self.mutation = mutation
        self.record_capacity = record_capacity

    @property
    def name(self) -> str:
        return "gpu_sim" if self.mutation is None else f"gpu_sim+{self.mutation.name}"

    @property
    def params_hook(self) -> ParamsHook | None:
        return None if self.mutation is None else self.mutation.params_hook

    def prepare(self, yaml_path: Path | None, inputs: EngineInputs, run: RunParams = RunParams(), *,
                sweep_paths: Sequence[str] = (), sweep_codes: np.ndarray | None = None) -> SimPrepared:
        """The host pipeline of ``gpu_sim.runner.run_yaml`` up to the launch, with the mutation's hooks."""
        from gpu_sim.indicator_sets import compute_indicators, dedup_sets
        from gpu_sim.market_arrays import pack_market
        from gpu_sim.runner import load_batch
        from gpu_sim.simulate_cpu import RunParams as SimRunParams
        from gpu_sim.simulate_cpu import prepare_run

        batch = load_batch(yaml_path, tuple(inputs.main), mode=run.strategy_mode, run_mode=run.run_mode,
                           sweep_paths=sweep_paths, sweep_codes=sweep_codes)
        m = self.mutation
        if m is not None and m.params_hook is not None:
            params, portfolio = np.array(batch.params, copy=True), np.array(batch.portfolio, copy=True)
            m.params_hook(params, portfolio)
            batch = dataclasses.replace(batch, params=params, portfolio=portfolio)
        keep = set(batch.symbols)
        market = pack_market({s: a for s, a in inputs.main.items() if s in keep},
                             {ms: {s: a for s, a in per.items() if s in keep}
                              for ms, per in (inputs.sub_bars or {}).items()},
                             None if inputs.funding is None else
                             {s: r for s, r in inputs.funding.items() if s in keep})
        sim_run = SimRunParams(initial_balance=run.initial_balance, lookback=run.lookback,
                               taker_fee_bps=run.taker_fee_bps, from_ts=run.from_ts, to_ts=run.to_ts,
                               allow_missing_sub_bars=run.allow_missing_sub_bars)
        k = prepare_run(market, dict(batch.engine), sim_run)
        if m is not None and m.inputs_hook is not None:
            k = m.inputs_hook(k)
        sets = dedup_sets(batch)
        ind = compute_indicators(sets.windows, market.main, sets.needed)
        if m is not None and m.ind_hook is not None:
            ind = m.ind_hook(ind)
        return SimPrepared(batch, market, k, sets, ind)

    def runs(self, yaml_path: Path | None, inputs: EngineInputs, run: RunParams = RunParams(), *,
             sweep_paths: Sequence[str] = (), sweep_codes: np.ndarray | None = None) -> list[EngineRun]:
        """One EngineRun per config (the YAML alone, or every sweep row)."""
        if self.mutation is None:
            from harness.engines import sim_runs

            return sim_runs(yaml_path, inputs, run, sweep_paths=sweep_paths, sweep_codes=sweep_codes,
                            record_capacity=self.record_capacity)
        from gpu_sim.simulate_cpu import allocate, result_from, run_kernel
        from harness.engines import _sim_metrics

        prep = self.prepare(yaml_path, inputs, run, sweep_paths=sweep_paths, sweep_codes=sweep_codes)
        batch, k = prep.batch, prep.kernel_inputs
        if self.mutation.needs_build:
            args = allocate(batch.params, batch.portfolio, prep.sets.set_ids, prep.ind, k,
                            record_capacity=self.record_capacity, equity_curve=True)
            with _LOCK:
                mutant_kernel().run(args, self.mutation.name, k)
            res = result_from(args, k, True)
        else:                       # the production launch on the corrupted params / inputs
            res = run_kernel(batch.params, batch.portfolio, prep.sets.set_ids, prep.ind, k,
                             record_capacity=self.record_capacity, equity_curve=True)
        return [EngineRun(self.name, res.records(c), res.equity_curve(c), float(res.metrics_of(c)["final_balance"]),
                          bool(res.overflow[c]), metrics=_sim_metrics(res.metrics_of(c)))
                for c in range(res.metrics.shape[0])]

    def run(self, yaml_path: Path | None, inputs: EngineInputs, run: RunParams = RunParams(), **kw) -> EngineRun:
        return self.runs(yaml_path, inputs, run, **kw)[0]

    def indicator_row(self, prep: SimPrepared, config: int, symbol: str, bar: int) -> dict[str, float]:
        """gpu_sim's snapshot fields of ``symbol`` after main bar ``bar`` (its precomputed ``ind`` row)."""
        from gpu_sim.ind_fields import FIELDS

        s = prep.batch.symbols.index(symbol)
        row = prep.ind[int(prep.sets.set_ids[config, s]), s, bar]
        return {f: float(v) for f, v in zip(FIELDS, row)}


PRODUCTION = SimEngine()


# ---- does a report name the expected place? ----------------------------------------------------------------

def _prefixes(want: object) -> tuple[str, ...]:
    return tuple(str(w) for w in want) if isinstance(want, (tuple, list)) else (str(want),)


def place_mismatches(expect: Expect, place: Mapping[str, object], axis: str | None = None) -> list[str]:
    """What of ``expect.place`` a first-divergence ``place()`` (plus the DRIFTING axis) does not name;
    empty when every expected fact is named."""
    bad = []
    for key, want in expect.place.items():
        if key == "path" and want not in place.get("paths", ()):
            bad.append(f"path {want!r} not among {place.get('paths')}")
        elif key == "axis" and want != axis:
            bad.append(f"axis {want!r} is not the drifting axis {axis!r}")
        elif key == "field" and want not in place.get("fields", ()):
            bad.append(f"field {want!r} not among {place.get('fields')}")
        elif key == "action" and not any(str(a).startswith(_prefixes(want)) for a in place.get("actions", ())):
            bad.append(f"no action starting {want!r} in {place.get('actions')}")
        elif key == "reason" and not any(str(r).startswith(_prefixes(want)) for r in place.get("reasons", ())):
            bad.append(f"no reason starting {want!r} in {place.get('reasons')}")
        elif key == "event" and want not in place.get("steps", ()):
            bad.append(f"event {want!r} not among the steps at τ {place.get('steps')}")
        elif key == "indicator" and want not in place.get("indicators", ()):
            bad.append(f"indicator {want!r} not among the differing snapshot fields {place.get('indicators')}")
    return bad


@dataclass
class MutationCheck:
    """Outcome of a mutation's quick probe (one audit part on one case or axis)."""

    mutation: str
    part: str
    flagged: bool
    klass: str
    place: dict
    axis: str | None
    mismatches: list[str]
    text: str
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.flagged and not self.mismatches


def probe_case(name: str):
    """The audit's trade case ``name`` (``harness.parity_cases`` catalogue: defaults, shipped, generated)."""
    import tempfile as _tf

    from harness.first_divergence import Case
    from harness.parity_cases import default_cases, generated_cases, market

    pool = default_cases()
    if name.startswith("gen-"):
        _, seed, index, _ = name.split("-", 3)
        pool = generated_cases(int(index) + 1, int(seed), Path(_tf.mkdtemp(prefix="driftgate-probe-")))
    for tc in pool:
        if tc.name == name:
            return Case(tc.name, tc.yaml_path, market(tc.market), tc.run, market=tc.market)
    raise KeyError(f"no trade case {name!r}")


def check_mutation(m: Mutation | str, sim: "SimEngine | None" = None) -> MutationCheck:
    """Run the mutation's probe and compare the flag with its :class:`Expect`."""
    import time as _time

    from harness.first_divergence import CONFIG

    m = mutation(m) if isinstance(m, str) else m
    sim = sim or SimEngine(m)
    e = m.expect
    kind, _, arg = e.probe.partition(":")
    t0 = _time.perf_counter()
    axis = None
    if kind == "config":
        from harness.config_audit import shipped_cases
        from harness.config_parity import run_parity

        res = run_parity(shipped_cases(), None, sim.params_hook)
        flagged, klass = bool(res.drifts), CONFIG if res.drifts else "ZERO"
        place = {"paths": tuple(sorted({d.path for d in res.drifts}))}
        text = "\n".join(f"[{d.case}] [{d.scope}] {d.path}: engine_ref={d.ref_value} {sim.name}={d.sim_value}"
                         for d in res.drifts[:8])
    elif kind == "trade":
        from harness.first_divergence import classify

        rep = classify(probe_case(arg), sim)
        flagged, klass = rep.drift, rep.klass
        place = rep.first.place() if rep.first else {"paths": tuple(sorted({d.path for d in rep.config_drifts}))}
        text = rep.first.text() if rep.first else rep.short()
    elif kind == "axis":
        from harness.sensitivity import DRIFTING, sensitivity_audit

        (row,) = sensitivity_audit(sim, axes=[arg], search=False)
        axis = row.axis if row.status == DRIFTING else None
        rep = row.drift
        flagged, klass = row.status == DRIFTING, row.status
        place = rep.first.place() if rep and rep.first else {}
        text = f"{row.axis}: {row.status} ({row.values})\n" + (rep.first.text() if rep and rep.first else "")
    else:
        raise ValueError(f"mutation {m.name}: unknown probe {e.probe!r}")
    mism = [] if klass in e.classes else [f"class {klass} not in {e.classes}"]
    mism += place_mismatches(e, place, axis) if flagged else []
    return MutationCheck(m.name, e.part, flagged, klass, dict(place), axis, mism, text, _time.perf_counter() - t0)
