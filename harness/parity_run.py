"""``driftgate parity``: one YAML plus seeded sweep rows, both engines, every config compared.

Config 0 is the YAML as it is; configs 1..N−1 apply seeded rows of a sweep spec (default
``sweeps/full_144v.yaml``) as sweep overrides. gpu_sim runs all of them in one launch (codes it
decodes itself); engine_ref runs each with the rows decoded by the one decoder.
"""
from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from harness.engine_inputs import EngineInputs
from harness.engines import ref_run, sim_runs
from harness.replay import RunParams
from harness.sweep_spec import SweepSpec
from harness.trade_parity import Verdict, compare


@dataclass
class ParityRun:
    verdicts: list[Verdict] = field(default_factory=list)
    rows: list[tuple[float, ...]] = field(default_factory=list)
    seconds_ref: float = 0.0
    seconds_sim: float = 0.0

    @property
    def drifting(self) -> list[int]:
        return [i for i, v in enumerate(self.verdicts) if v.drift]


def sweep_rows(spec: SweepSpec, n: int, seed: int) -> np.ndarray:
    """``n`` seeded grid rows of ``spec`` (codes)."""
    rng = random.Random(seed)
    return np.array([[rng.choice(a.values) for a in spec.axes] for _ in range(n)], dtype=np.float64)


def run_trade_parity(yaml_path: Path | None, inputs: EngineInputs, run: RunParams, spec: SweepSpec,
                     n_configs: int, seed: int = 0, backend: str = "cpu") -> ParityRun:
    """Compare engine_ref and gpu_sim on the YAML and ``n_configs − 1`` sweep rows."""
    out = ParityRun()
    t0 = time.perf_counter()
    sims = sim_runs(yaml_path, inputs, run, backend=backend)
    codes = sweep_rows(spec, max(n_configs - 1, 0), seed)
    if len(codes):
        sims += sim_runs(yaml_path, inputs, run, sweep_paths=spec.paths, sweep_codes=codes, backend=backend)
    out.seconds_sim = time.perf_counter() - t0
    t0 = time.perf_counter()
    refs = [ref_run(yaml_path, inputs, run)]
    refs += [ref_run(yaml_path, inputs, run, sweep_paths=spec.paths, sweep_codes=tuple(row)) for row in codes]
    out.seconds_ref = time.perf_counter() - t0
    out.rows = [()] + [tuple(r) for r in codes]
    out.verdicts = [compare(r, s) for r, s in zip(refs, sims, strict=True)]
    return out
