"""``driftgate config-audit``: config parity over every case the foundation issue names.

Cases: built-in defaults; the shipped ``config/strategy_overrides.yaml`` in every mode and both
run-mode families (``live`` overlay off/on); ≥ 200 generated all-non-default YAMLs (three
profiles, with symbols/live/modes overlays); seeded sweep-code rows of ``sweeps/full_144v.yaml``
applied through both decoders. Each case compares the portfolio config and every symbol.
"""
from __future__ import annotations

import random
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from harness.config_parity import ParityCase, ParityResult, SimMutation, run_parity
from harness.paths import flatten
from harness.generate import DATA_SYMBOLS, iter_generated
from harness.schema import REPO_ROOT, Schema, load_schema
from harness.sweep_spec import SweepSpec, load_sweep_spec
from harness.yamlio import dump_yaml, read_yaml, write_text_atomic

SHIPPED_YAML = REPO_ROOT / "config" / "strategy_overrides.yaml"
FULL_SWEEP = REPO_ROOT / "sweeps" / "full_144v.yaml"
SHIPPED_SYMBOLS = ("BTC", "ETH", "SOL")


@dataclass
class AuditInputs:
    n_generated: int = 200
    n_sweep_rows: int = 50
    seed: int = 0


@dataclass
class AuditOutcome:
    result: ParityResult
    case_rows: list[dict] = field(default_factory=list)
    coverage: list[dict] = field(default_factory=list)


def shipped_cases(yaml_path: Path = SHIPPED_YAML) -> list[ParityCase]:
    """Defaults, then the shipped YAML × (no mode + every mode) × (backtest, live)."""
    modes = [None] + sorted((read_yaml(yaml_path) or {}).get("modes") or {})
    cases = [ParityCase("defaults", None, SHIPPED_SYMBOLS)]
    for run_mode in ("backtest", "live"):
        for mode in modes:
            cases.append(ParityCase(f"shipped/{run_mode}/{mode or '-'}", yaml_path, SHIPPED_SYMBOLS,
                                    mode, run_mode))
    return cases


def generated_cases(n: int, seed: int, folder: Path) -> list[ParityCase]:
    """``n`` all-non-default YAMLs, each under (backtest, no mode) and one seeded other run."""
    rng = random.Random(seed)
    cases = []
    for name, doc in iter_generated(n, seed):
        path = write_text_atomic(folder / f"{name}.yaml", dump_yaml(doc, f"{name}: all-non-default"))
        cases.append(ParityCase(f"{name}/backtest/-", path, DATA_SYMBOLS))
        run_mode = rng.choice(["backtest", "paper", "dry_live", "live"])
        mode = rng.choice(["primary", "fallback", "flat"])
        cases.append(ParityCase(f"{name}/{run_mode}/{mode}", path, DATA_SYMBOLS, mode, run_mode))
    return cases


def sweep_cases(spec: SweepSpec, n: int, seed: int, yaml_path: Path = SHIPPED_YAML) -> list[ParityCase]:
    """``n`` seeded grid rows of ``spec`` applied as sweep overrides to the shipped YAML."""
    rng = random.Random(seed)
    cases = []
    for i in range(n):
        codes = tuple(rng.choice(a.values) for a in spec.axes)
        cases.append(ParityCase(f"sweep/{Path(spec.source).stem}/{i:03d}", yaml_path, SHIPPED_SYMBOLS,
                                sweep_paths=spec.paths, sweep_codes=codes))
    return cases


def coverage_matrix(schema: Schema, spec: SweepSpec) -> list[dict]:
    """schema ↔ shipped YAML ↔ engine_ref ↔ gpu_sim fields ↔ sweep spec, one row per leaf."""
    from engine_ref.config_loader import load_config
    from gpu_sim.layout import load_layout

    yaml_paths = set(flatten((read_yaml(SHIPPED_YAML) or {}).get("global") or {}))
    ref_paths = set(flatten(load_config(None)))
    layout = load_layout()
    sim_paths = set(layout.fields) | set(layout.string_leaves)
    sweep_paths = set(spec.paths)
    rows = []
    for a in schema.axes:
        rows.append({"path": a.path, "kind": a.kind, "swept": a.swept, "schema": True,
                     "yaml": a.path in yaml_paths, "engine_ref": a.path in ref_paths,
                     "gpu_sim": a.path in sim_paths, "sweep_spec": a.path in sweep_paths})
    known = {a.path for a in schema.axes}
    for extra in sorted((ref_paths | sim_paths | yaml_paths | sweep_paths) - known):
        rows.append({"path": extra, "kind": "?", "swept": False, "schema": False,
                     "yaml": extra in yaml_paths, "engine_ref": extra in ref_paths,
                     "gpu_sim": extra in sim_paths, "sweep_spec": extra in sweep_paths})
    return rows


def coverage_gaps(rows: list[dict]) -> list[str]:
    """Leaves that are not covered where they must be (swept axes: everywhere)."""
    gaps = []
    for r in rows:
        need = ["schema", "yaml", "engine_ref", "gpu_sim"] + (["sweep_spec"] if r["swept"] else [])
        missing = [k for k in need if not r[k]]
        if r["sweep_spec"] and not r["swept"]:
            missing.append("not-sweepable-but-in-spec")
        if missing:
            gaps.append(f"{r['path']}: missing in {', '.join(missing)}")
    return gaps


def run_config_audit(inputs: AuditInputs, mutate: SimMutation | None = None) -> AuditOutcome:
    """Build every case, compare both loaders, build the coverage matrix."""
    schema = load_schema()
    spec = load_sweep_spec(FULL_SWEEP, schema)
    with tempfile.TemporaryDirectory(prefix="driftgate-gen-") as tmp:
        cases = (shipped_cases() + generated_cases(inputs.n_generated, inputs.seed, Path(tmp))
                 + sweep_cases(spec, inputs.n_sweep_rows, inputs.seed))
        result = ParityResult()
        rows = []
        for case in cases:
            sub = run_parity([case], schema, mutate)
            result.cases += 1
            result.scopes += sub.scopes
            result.drifts += sub.drifts
            rows.append({"case": case.name, "mode": case.mode or "-", "run_mode": case.run_mode,
                         "sweep_axes": len(case.sweep_paths), "scopes": sub.scopes,
                         "drifts": len(sub.drifts)})
    return AuditOutcome(result, rows, coverage_matrix(schema, spec))
