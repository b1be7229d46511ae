"""Every one of the 148 swept axes changes engine_ref's trade log as the spec predicts (D31).

One test id per scenario (``<axis>[<name>]``); the suite fails when an axis of the schema has no
scenario. The tables live in harness/axis_scenarios/axes_*.py so gpu_sim and the dead-axis
audit run the very same rows.
"""
from __future__ import annotations

import pytest

from harness.axis_scenarios import all_scenarios, check
from harness.schema import load_schema

SCENARIOS = all_scenarios()


def test_every_swept_axis_has_a_scenario() -> None:
    covered = {s.axis for s in SCENARIOS}
    missing = [a.path for a in load_schema().swept if a.path not in covered]
    unknown = sorted(covered - {a.path for a in load_schema().swept})
    assert not unknown, f"scenarios for unknown axes: {unknown}"
    assert not missing, f"{len(missing)} swept axes have no scenario: {missing}"


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.id for s in SCENARIOS])
def test_axis_changes_trades_as_predicted(scenario) -> None:
    check("ref", scenario)
