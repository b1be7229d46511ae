"""The per-axis scenarios of engine_ref run on gpu_sim (cpu backend) and give the same trade logs.

For every scenario row and both of its values, gpu_sim's trade log equals engine_ref's record by
record (floats by bit pattern, harness.trade_parity), and gpu_sim shows the predicted change too.
"""
from __future__ import annotations

import pytest

from harness.axis_scenarios import all_scenarios
from harness.axis_scenarios.framework import run_both
from harness.trade_parity import EngineRun, compare, describe

pytestmark = pytest.mark.parity
SCENARIOS = all_scenarios()


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.id for s in SCENARIOS])
def test_gpu_sim_matches_engine_ref_on_axis_scenario(scenario) -> None:
    ref_a, ref_b = run_both("ref", scenario)
    sim_a, sim_b = run_both("cpu", scenario)
    for value, ref, sim in ((scenario.a, ref_a, sim_a), (scenario.b, ref_b, sim_b)):
        v = compare(EngineRun("ref", ref, [], 0.0), EngineRun("cpu", sim, [], 0.0))
        assert not v.drift, f"{scenario.axis} = {value!r}: {describe(v)}"
    scenario.expect(sim_a, sim_b)
