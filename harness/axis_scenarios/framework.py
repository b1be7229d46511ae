"""Per-axis liveness scenarios (DECISIONS.md D31, config-and-axes.md §10.2 item 5).

A scenario is a row of a spreadsheet: *axis*, *value A*, *value B*, the market it runs on (a small
hand-built candle table or a seeded synthetic slice), the other overrides both runs share, and
the change the spec predicts (``expect(trades_a, trades_b)``). The runner writes each variant as
a YAML file (``global:`` = base ∪ {axis: value}) and hands it to the engine, which loads it with its
own loader — so a scenario exercises loader and engine together. The same table runs on every
engine (engine_ref today; gpu_sim and the dead-axis audit later).

Trade records are compared as dicts of the spec's trade-log fields (strategy-exits.md §6.5).
"""
from __future__ import annotations

import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from harness.accounting_check import check_balance_identity
from harness.engine_inputs import EngineInputs
from harness.paths import nest
from harness.yamlio import dump_yaml, write_text_atomic

Trades = list[dict]
Expect = Callable[[Trades, Trades], None]


@dataclass(frozen=True)
class AxisScenario:
    """One liveness scenario: changing only ``axis`` from ``a`` to ``b`` changes trades as predicted."""

    axis: str
    a: object
    b: object
    market: Callable[[], EngineInputs]
    expect: Expect
    base: Mapping[str, object] = field(default_factory=dict)
    note: str = ""
    lookback: int = 0
    initial_balance: float = 10000.0
    name: str = ""

    @property
    def id(self) -> str:
        return f"{self.axis}[{self.name or f'{self.a}->{self.b}'}]"


def variant_yaml(s: AxisScenario, value: object, folder: Path) -> Path:
    """The YAML of one variant: ``global`` = the scenario's base overrides plus the axis value."""
    flat = dict(s.base)
    flat[s.axis] = value
    safe = s.axis.replace(".", "_")
    return write_text_atomic(folder / f"{safe}-{abs(hash((s.id, repr(value))))}.yaml",
                             dump_yaml({"global": nest(flat)}, f"scenario {s.id}: {s.axis} = {value!r}"))


def run_ref(s: AxisScenario, yaml_path: Path) -> Trades:
    """engine_ref on one variant."""
    import dataclasses

    from engine_ref.config_loader import load_config_set
    from engine_ref.engine import run_backtest

    inputs = s.market()
    configs = load_config_set(yaml_path, tuple(inputs.main))
    res = run_backtest(inputs.main, configs, sub_bars=inputs.sub_bars or None, funding=inputs.funding,
                       initial_balance=s.initial_balance, lookback=s.lookback)
    trades = [dataclasses.asdict(r) for r in res.trades]
    check_balance_identity(trades, s.initial_balance, res.final_balance)  # every run (§6.1)
    return trades


def run_sim(s: AxisScenario, yaml_path: Path, backend: str = "cpu") -> Trades:
    """gpu_sim on one variant (its own loader and universe; same arrays)."""
    from harness.engines import sim_runs
    from harness.replay import RunParams

    inputs = s.market()
    run = sim_runs(yaml_path, inputs, RunParams(initial_balance=s.initial_balance, lookback=s.lookback),
                   backend=backend)[0]
    assert not run.overflow, f"{s.id}: gpu_sim record buffer overflowed"
    check_balance_identity(run.trades, s.initial_balance, run.final_balance)
    return run.trades


RUNNERS: dict[str, Callable[[AxisScenario, Path], Trades]] = {"ref": run_ref, "cpu": run_sim}


def run_both(engine: str, s: AxisScenario) -> tuple[Trades, Trades]:
    """Trades of value A and value B on ``engine``."""
    with tempfile.TemporaryDirectory(prefix="driftgate-axis-") as tmp:
        folder = Path(tmp)
        return (RUNNERS[engine](s, variant_yaml(s, s.a, folder)),
                RUNNERS[engine](s, variant_yaml(s, s.b, folder)))


def check(engine: str, s: AxisScenario) -> tuple[Trades, Trades]:
    """Run a scenario and assert the trade logs differ and the predicted change holds."""
    ta, tb = run_both(engine, s)
    assert ta != tb, f"{s.id}: changing {s.axis} from {s.a!r} to {s.b!r} changed no trade ({s.note})"
    s.expect(ta, tb)
    return ta, tb


# ---- expectation helpers (read like the spec's sentences) ---------------------------------------

def actions(trades: Trades) -> list[str]:
    return [t["action"] for t in trades]


def reasons(trades: Trades) -> list[str]:
    return [t["reason"] for t in trades]


def opens(trades: Trades) -> Trades:
    return [t for t in trades if t["action"].startswith("OPEN")]


def exits(trades: Trades) -> Trades:
    return [t for t in trades if t["action"].startswith(("CLOSE", "REDUCE"))]


def has_reason(trades: Trades, prefix: str) -> bool:
    return any(t["reason"].startswith(prefix) for t in trades)
