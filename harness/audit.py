"""``driftgate audit``: config parity + trade parity + sensitivity + causality, with reports.

Parts (each prints one summary line; the run fails on any drift, dead or drifting axis, violation):

* **config parity** — ``harness.config_audit``: defaults, the shipped YAML in every mode and run-mode
  family, generated all-non-default YAMLs, seeded ``full_144v`` sweep rows; both loaders, exact.
* **trade parity** — the case catalogue of ``harness.parity_cases`` (real candles with the defaults,
  the shipped YAML in every mode on matching synthetic data), generated all-non-default YAMLs and
  seeded sweep rows on the shipped YAML; every config classified by ``harness.first_divergence``.
* **sensitivity** — ``harness.sensitivity``: every swept axis LIVE / DEAD / DRIFTING.
* **causality** — ``harness.audits.causality``: truncation invariance (D3) of both engines on the
  suite's synthetic market, and gpu_sim's indicator precompute (D21); the recursive warm-up table
  with ``--nightly``.

Data are synthetic (``harness.data.synth_market``), generated in process and seeded; the real candles
under ``../shared/data`` join when present. Reports (``audit_reports/`` by default, written atomically):
``audit.md`` (the summary), ``config_parity.md``, ``parity.md`` + ``parity_equity.png``,
``sensitivity.md`` + ``sensitivity.png``, ``causality.md``.

``mutation`` (test-only) runs every part against gpu_sim with one deliberate divergence
(``harness.mutations``) — the proof that the audit catches real bugs.
"""
from __future__ import annotations

import dataclasses
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

PARTS = ("config", "trade", "sensitivity", "causality")


@dataclass(frozen=True)
class AuditConfig:
    """Sizes of one audit run (``nightly`` selects the large set)."""

    nightly: bool = False
    out: Path = Path("audit_reports")
    seed: int = 0
    mutation: str | None = None
    parts: tuple[str, ...] = PARTS
    config_generated: int = 20
    config_sweep_rows: int = 10
    trade_generated: int = 6
    trade_sweep_rows: int = 8
    trade_days: int = 20
    sensitivity_search_budget: int = 12
    sensitivity_search_all: int = 0
    causality_cuts: int = 6
    causality_sim_cuts: int = 12
    warmup: bool = False
    candles: Path | None = None     # optional data file: the defaults and the shipped YAML also run on it

    @classmethod
    def make(cls, nightly: bool = False, **kw) -> "AuditConfig":
        if nightly:
            sizes = dict(config_generated=200, config_sweep_rows=50, trade_generated=30, trade_sweep_rows=64,
                         trade_days=30, sensitivity_search_budget=24, sensitivity_search_all=2, causality_cuts=12,
                         causality_sim_cuts=24, warmup=True)
            sizes.update(kw)
            kw = sizes
        return cls(nightly=nightly, **kw)


@dataclass
class AuditResult:
    lines: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)
    reports: list[Path] = field(default_factory=list)
    config: object | None = None
    trade: list = field(default_factory=list)
    sensitivity: list = field(default_factory=list)
    causality: tuple = ()

    @property
    def ok(self) -> bool:
        return not self.failures


def _write_png(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


# ---- parts ------------------------------------------------------------------------------------------------

def config_part(cfg: AuditConfig, sim, res: AuditResult) -> str:
    from harness.config_audit import AuditInputs, run_config_audit
    from harness.reports.config_md import render_config_parity
    from harness.yamlio import write_text_atomic

    outcome = run_config_audit(AuditInputs(cfg.config_generated, cfg.config_sweep_rows, cfg.seed), sim.params_hook)
    r = outcome.result
    line = f"config parity: {r.cases} configs, {len(r.drifts)} drifts"
    if r.drifts:
        d = r.drifts[0]
        line += f"; first: {d.case} [{d.scope}] {d.path}: engine_ref={d.ref_value} {sim.name}={d.sim_value}"
        res.failures.append("config parity")
    res.config = outcome
    res.reports.append(write_text_atomic(cfg.out / "config_parity.md",
                                         render_config_parity(line, outcome.case_rows, r.drifts)))
    return line


def trade_cases(cfg: AuditConfig, folder: Path) -> list:
    """The trade-parity cases (``first_divergence.Case``), without the sweep rows."""
    from harness.first_divergence import Case
    from harness.parity_cases import default_cases, generated_cases, market

    cases = []
    for tc in default_cases() + generated_cases(cfg.trade_generated, cfg.seed + 1, folder, cfg.trade_days):
        cases.append(Case(tc.name, tc.yaml_path, market(tc.market), tc.run, market=tc.market))
    if cfg.candles is not None:
        cases += candle_cases(Path(cfg.candles))
    return cases


def candle_cases(candles: Path) -> list:
    """The defaults and the shipped YAML on a candles file (``--candles``, e.g. ``data/demo.sqlite``); each
    loads the sub-bar series its config asks for."""
    from engine_ref.config_loader import load_config
    from harness.first_divergence import Case
    from harness.parity_cases import SHIPPED
    from harness.replay import RunParams, load_inputs

    out = []
    for name, path in (("defaults", None), ("shipped", SHIPPED)):
        _, inputs = load_inputs(candles, load_config(path, None), None)
        out.append(Case(f"candles/{name}", path, inputs, RunParams(), market=f"file {candles}"))
    return out


def sweep_reports(cfg: AuditConfig, sim) -> list:
    """Seeded ``full_144v`` rows applied to the shipped YAML on its matching synthetic market (one gpu_sim
    launch for all rows; engine_ref row by row)."""
    from harness.first_divergence import Case, classify
    from harness.parity_cases import SHIPPED, market
    from harness.parity_run import sweep_rows
    from harness.replay import RunParams
    from harness.sweep_spec import load_sweep_spec
    from harness.config_audit import FULL_SWEEP

    if cfg.trade_sweep_rows <= 0:
        return []
    spec = load_sweep_spec(FULL_SWEEP)
    key = f"synth:1h:3m:{cfg.trade_days}:{cfg.seed + 5}"
    inputs, run = market(key), RunParams(lookback=50)
    codes = sweep_rows(spec, cfg.trade_sweep_rows, cfg.seed)
    sims = sim.runs(SHIPPED, inputs, run, sweep_paths=spec.paths, sweep_codes=codes)
    out = []
    for i, (row, s) in enumerate(zip(codes, sims, strict=True)):
        case = Case(f"sweep/full_144v/{i:03d}", SHIPPED, inputs, run, tuple(spec.paths), tuple(float(x) for x in row),
                    market=key)
        out.append(classify(case, sim, sim=s))
    return out


def trade_part(cfg: AuditConfig, sim, res: AuditResult) -> str:
    from harness.first_divergence import classify
    from harness.reports.parity_md import equity_png, render_parity_md, summary_line, worst
    from harness.yamlio import write_text_atomic

    with tempfile.TemporaryDirectory(prefix="driftgate-audit-") as tmp:
        reports = [classify(c, sim) for c in trade_cases(cfg, Path(tmp))]
        reports += sweep_reports(cfg, sim)
        line = summary_line(reports)
        w = worst(reports)
        plot = None
        if w is not None:
            res.reports.append(_write_png(cfg.out / "parity_equity.png", equity_png(w)))
            plot = "parity_equity.png"
        meta = {"gpu_sim": sim.name, "backend": "cpu", "seed": cfg.seed,
                "data": f"synthetic (seeded, in process), {cfg.trade_days} days for generated configs and sweep rows"
                        + "; real candles ../shared/data with the defaults when present"
                        + (f"; {cfg.candles} with the defaults and the shipped YAML" if cfg.candles else ""),
                "configs": len(reports)}
        res.reports.append(write_text_atomic(cfg.out / "parity.md", render_parity_md(reports, meta, plot)))
    res.trade = reports
    if any(r.drift for r in reports):
        res.failures.append("trade parity")
    return line


def sensitivity_part(cfg: AuditConfig, sim, res: AuditResult) -> str:
    from harness.reports.sensitivity_md import render_sensitivity_md, sensitivity_png
    from harness.sensitivity import LIVE, sensitivity_audit, summary_line
    from harness.yamlio import write_text_atomic

    rows = sensitivity_audit(sim, search_budget=cfg.sensitivity_search_budget,
                             search_all=cfg.sensitivity_search_all)
    line = summary_line(rows)
    res.reports.append(_write_png(cfg.out / "sensitivity.png", sensitivity_png(rows)))
    meta = {"gpu_sim": sim.name, "axes": f"{len(rows)} swept axes of config/schema.csv",
            "evidence": "harness/axis_scenarios (per-axis scenarios), then the seeded search"
                        + (f"; plus up to {cfg.sensitivity_search_all} seeded-search pairs for every axis"
                           if cfg.sensitivity_search_all else "")}
    res.reports.append(write_text_atomic(cfg.out / "sensitivity.md",
                                         render_sensitivity_md(rows, meta, "sensitivity.png")))
    res.sensitivity = rows
    if any(r.status != LIVE for r in rows):
        res.failures.append("sensitivity")
    return line


def sim_causality_runner(sim, lookback: int = 100) -> Callable:
    """A causality runner (``harness.audits.causality.Runner``) for gpu_sim."""
    from harness.replay import RunParams

    def run(inputs, yaml_path, to_ts):
        er = sim.run(yaml_path, inputs, RunParams(lookback=lookback, to_ts=to_ts))
        return er.trades, er.equity_curve

    return run


def causality_part(cfg: AuditConfig, sim, res: AuditResult) -> str:
    from harness.audits.causality import SHIPPED, SUITE_DATA, causality_audit, causality_suite, indicator_lookahead
    from harness.axis_scenarios.builders import synthetic
    from harness.reports.causality_md import render_causality_md
    from harness.yamlio import write_text_atomic

    inputs = synthetic(**SUITE_DATA)
    ref_cuts = [dataclasses.replace(c, case=f"engine_ref · {c.case}")
                for c in causality_suite(inputs, "ref", n_cuts=cfg.causality_cuts, seed=cfg.seed)]
    runner = sim_causality_runner(sim)
    sim_cuts = []
    for name, path in (("production (3m sub-bars)", SHIPPED), ("defaults", None)):
        sim_cuts += causality_audit(runner, inputs, path, case=f"{sim.name} · {name}", n_cuts=cfg.causality_sim_cuts,
                                    seed=cfg.seed)
    ind_cuts = indicator_lookahead(inputs, seed=cfg.seed)
    warm, spot = [], []
    if cfg.warmup:
        from harness.audits.warmup import warmup_audit
        warm = warmup_audit(inputs)
    cuts = ref_cuts + sim_cuts
    bad_ref, bad_sim = sum(not c.ok for c in ref_cuts), sum(not c.ok for c in sim_cuts)
    bad_ind = sum(not c.ok for c in ind_cuts)
    line = (f"causality: {len(cuts) + len(ind_cuts)} cuts, {bad_ref + bad_sim + bad_ind} violations "
            f"(engine_ref {len(ref_cuts)} cuts/{bad_ref}, {sim.name} {len(sim_cuts)}/{bad_sim}, "
            f"indicator precompute {len(ind_cuts)}/{bad_ind})" + ("; holds" if not bad_ref + bad_sim + bad_ind else ""))
    meta = {"data": f"synth {SUITE_DATA}", "configs": "shipped YAML (3m sub-bars), defaults", "seed": cfg.seed,
            "engines": f"engine_ref, {sim.name}"}
    res.reports.append(write_text_atomic(cfg.out / "causality.md",
                                         render_causality_md(cuts, ind_cuts, warm, spot, meta)))
    res.causality = (ref_cuts, sim_cuts, ind_cuts)
    if bad_ref + bad_sim + bad_ind:
        res.failures.append("causality")
    return line


RUNNERS = {"config": config_part, "trade": trade_part, "sensitivity": sensitivity_part, "causality": causality_part}


def run_audit(cfg: AuditConfig, sim=None, echo: Callable[[str], None] | None = print) -> AuditResult:
    """Run the selected parts; print one summary line per part; write the reports."""
    from harness.mutations import SimEngine
    from harness.yamlio import write_text_atomic

    sim = sim or SimEngine(cfg.mutation)
    res = AuditResult()
    say = echo or (lambda s: None)
    if sim.mutation is not None:
        m = sim.mutation
        say(f"mutation: {m.name} ({m.level}-level, test-only): {m.doc}")
    for part in cfg.parts:
        if part not in RUNNERS:
            raise ValueError(f"unknown audit part {part!r}; known: {', '.join(PARTS)}")
        t0 = time.perf_counter()
        line = RUNNERS[part](cfg, sim, res)
        res.seconds[part] = time.perf_counter() - t0
        res.lines.append(line)
        say(line)
    total = sum(res.seconds.values())
    verdict = "audit: PASS" if res.ok else f"audit: FAIL ({', '.join(res.failures)})"
    body = ["# driftgate audit", "", f"**{verdict}**", "",
            f"- mode: {'nightly' if cfg.nightly else 'default'}; seed {cfg.seed}; gpu_sim: {sim.name}",
            f"- wall time: {total:.0f} s (" + ", ".join(f"{k} {v:.0f} s" for k, v in res.seconds.items()) + ")", ""]
    body += [f"- {line}" for line in res.lines] + ["", "Reports: " + ", ".join(
        f"[{p.name}]({p.name})" for p in res.reports), ""]
    res.reports.append(write_text_atomic(cfg.out / "audit.md", "\n".join(body)))
    say(f"reports: {', '.join(str(p) for p in res.reports)}")
    say(f"{verdict} in {total:.0f} s")
    return res


__all__ = ["AuditConfig", "AuditResult", "PARTS", "run_audit", "trade_cases", "sweep_reports"]
