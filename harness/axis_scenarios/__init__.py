"""Per-axis liveness scenarios: one table per family in ``axes_*.py`` modules (each exports
``SCENARIOS: list[AxisScenario]``), collected here. See :mod:`harness.axis_scenarios.framework`.
"""
from __future__ import annotations

import importlib
import pkgutil

from harness.axis_scenarios.framework import AxisScenario, check, run_both


def all_scenarios() -> list[AxisScenario]:
    """Every scenario of every ``axes_*`` module, in module then table order."""
    out: list[AxisScenario] = []
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name.startswith("axes_"):
            out.extend(importlib.import_module(f"{__name__}.{info.name}").SCENARIOS)
    return out


__all__ = ["AxisScenario", "all_scenarios", "check", "run_both"]
