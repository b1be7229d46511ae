"""Config parity: engine_ref's effective dicts against gpu_sim's unpacked params rows.

Both sides are flattened to the schema's dotted paths and canonicalised (config-and-axes.md
§10.2 item 3): ints stay ints, bools bools, enums lower-case names, floats become their exact
bit pattern (``float.hex``, so ``-0.0`` differs from ``0.0`` and 20 differs from 20.0 by type).
deepdiff then reports every changed value, type change and missing or extra leaf as a drift.
There is no tolerance: two loaders of one file must agree bit for bit.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from deepdiff import DeepDiff

from harness.paths import flatten
from harness.schema import Schema, load_schema

PORTFOLIO = "<portfolio>"


@dataclass(frozen=True)
class Drift:
    """One leaf on which the two loaders disagree."""

    case: str
    scope: str          # symbol or <portfolio>
    path: str
    ref_value: str
    sim_value: str
    change: str         # values_changed | type_changes | missing_in_sim | missing_in_ref


@dataclass(frozen=True)
class ParityCase:
    """One config-parity comparison: a YAML (or none), a run and mode, optional sweep codes."""

    name: str
    yaml_path: Path | None
    symbols: tuple[str, ...]
    mode: str | None = None
    run_mode: str = "backtest"
    sweep_paths: tuple[str, ...] = ()
    sweep_codes: tuple[float, ...] = ()


@dataclass
class ParityResult:
    cases: int = 0
    scopes: int = 0
    drifts: list[Drift] = field(default_factory=list)


def canonical(value: object) -> object:
    """Bit-exact, type-preserving canonical form of one leaf value."""
    if isinstance(value, float):
        return "f:" + value.hex()
    if isinstance(value, np.floating):
        return "f:" + float(value).hex()
    if isinstance(value, list):
        return [canonical(v) for v in value]
    return value


def display(value: object) -> str:
    """Human form of a canonical value."""
    if isinstance(value, str) and value.startswith("f:"):
        return repr(float.fromhex(value[2:]))
    return repr(value)


def canonical_flat(cfg: Mapping) -> dict[str, object]:
    return {p: canonical(v) for p, v in flatten(cfg).items()}


def diff_flat(case: str, scope: str, ref: Mapping[str, object], sim: Mapping[str, object]) -> list[Drift]:
    """All drifts between two canonical flat configs (deepdiff, exact)."""
    dd = DeepDiff(dict(ref), dict(sim), verbose_level=2)
    drifts: list[Drift] = []
    for change in ("values_changed", "type_changes"):
        for key, item in dd.get(change, {}).items():
            path = key[len("root['"):].split("']")[0]
            drifts.append(Drift(case, scope, path, display(item.get("old_value")),
                                display(item.get("new_value")), change))
    for change, label in (("dictionary_item_removed", "missing_in_sim"),
                          ("dictionary_item_added", "missing_in_ref")):
        for key in dd.get(change, {}):
            path = key[len("root['"):].split("']")[0]
            drifts.append(Drift(case, scope, path, display(ref.get(path, "<absent>")),
                                display(sim.get(path, "<absent>")), label))
    return sorted(drifts, key=lambda d: (d.scope, d.path))


def ref_configs(case: ParityCase, schema: Schema) -> dict[str, dict]:
    """engine_ref's effective configs of a case: portfolio + each symbol (nested dicts)."""
    from engine_ref.config_loader import load_config_set
    from harness.decode import decode_row

    overrides = decode_row(case.sweep_paths, case.sweep_codes, schema) if case.sweep_paths else None
    cs = load_config_set(case.yaml_path, case.symbols, case.mode, run_mode=case.run_mode,
                         sweep_overrides=overrides)
    out = {PORTFOLIO: cs.portfolio}
    out.update({s: cs.symbols[s] for s in case.symbols})
    return out


SimMutation = Callable[[np.ndarray, np.ndarray], None]


def sim_configs(case: ParityCase, mutate: SimMutation | None = None) -> dict[str, dict]:
    """gpu_sim's packed rows of a case, unpacked back to nested dicts.

    ``mutate(params, portfolio)`` is a test-only hook that corrupts the packed arrays in place
    (e.g. swaps two columns) to prove the comparator catches a broken packing.
    """
    from gpu_sim.config_loader import load_params

    codes = np.asarray([case.sweep_codes], dtype=np.float64) if case.sweep_paths else None
    batch = load_params(case.yaml_path, case.symbols, mode=case.mode, run_mode=case.run_mode,
                        sweep_paths=case.sweep_paths, sweep_codes=codes)
    if mutate is not None:
        mutate(batch.params, batch.portfolio)
    out = {PORTFOLIO: batch.unpack(0, None)}
    out.update({s: batch.unpack(0, s) for s in case.symbols})
    return out


def compare_case(case: ParityCase, schema: Schema | None = None,
                 mutate: SimMutation | None = None) -> tuple[int, list[Drift]]:
    """Run both loaders on one case; returns (scopes compared, drifts)."""
    schema = schema or load_schema()
    ref, sim = ref_configs(case, schema), sim_configs(case, mutate)
    drifts: list[Drift] = []
    for scope in ref:
        drifts += diff_flat(case.name, scope, canonical_flat(ref[scope]), canonical_flat(sim[scope]))
    return len(ref), drifts


def run_parity(cases: Iterable[ParityCase], schema: Schema | None = None,
               mutate: SimMutation | None = None) -> ParityResult:
    """Compare every case; collects all drifts (never stops at the first)."""
    result = ParityResult()
    for case in cases:
        scopes, drifts = compare_case(case, schema, mutate)
        result.cases += 1
        result.scopes += scopes
        result.drifts += drifts
    return result


def swap_columns(a: str, b: str, schema: Schema | None = None) -> SimMutation:
    """Test-only mutation: swap the packed columns of two fields (a broken packing)."""
    from gpu_sim.layout import load_layout

    layout = load_layout()
    ia, ib = layout.index[a], layout.index[b]

    def mutate(params: np.ndarray, portfolio: np.ndarray) -> None:
        for arr in (params, portfolio):
            col_a = arr[..., ia].copy()
            arr[..., ia] = arr[..., ib]
            arr[..., ib] = col_a

    return mutate


def symbols_of(cases: Sequence[ParityCase]) -> tuple[str, ...]:
    return tuple(sorted({s for c in cases for s in c.symbols}))
