"""Engine conformance: every gpu_sim backend's trade log equals engine_ref's, record by record.

Parametrized by engine: ``cpu`` (in process), ``cudasim`` (numba's CUDA simulator, in a subprocess
because it must be enabled before numba.cuda is imported; a small subset — it interprets the
kernel thread by thread), ``cuda`` (a real device; skipped with a reason when none is present).
Also proves the comparator: known-different pairs are classified, never passed.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from harness.engines import ref_run, sim_runs
from harness.parity_cases import default_cases, generated_cases, market
from harness.schema import REPO_ROOT
from harness.trade_parity import NUMERIC, OVERFLOW, STATE_MACHINE, ZERO, EngineRun, compare, describe

pytestmark = pytest.mark.parity
CASES = default_cases()


def _cuda_device() -> bool:
    try:
        from numba import cuda
        return bool(cuda.is_available())
    except Exception:
        return False


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_cpu_backend_zero_drift(case) -> None:
    inputs = market(case.market)
    ref, sim = ref_run(case.yaml_path, inputs, case.run), sim_runs(case.yaml_path, inputs, case.run)[0]
    v = compare(ref, sim)
    assert v.klass == ZERO, describe(v)
    assert v.n_ref > 0, "the case must trade"


def test_cpu_backend_generated_all_non_default(tmp_path) -> None:
    for case in generated_cases(9, seed=2, folder=tmp_path, days=12):
        inputs = market(case.market)
        v = compare(ref_run(case.yaml_path, inputs, case.run), sim_runs(case.yaml_path, inputs, case.run)[0])
        assert v.klass == ZERO, f"{case.name}: {describe(v)}"


def test_cudasim_backend_subset() -> None:
    env = dict(os.environ, NUMBA_ENABLE_CUDASIM="1", PYTHONPATH=str(REPO_ROOT))
    out = subprocess.run([sys.executable, "-m", "harness.parity_worker", "--backend", "cudasim",
                          "--cases", "shared/defaults"], cwd=REPO_ROOT, env=env, capture_output=True,
                         text=True, timeout=1200)
    assert out.returncode == 0, out.stderr[-3000:]
    verdicts = json.loads(out.stdout)
    assert verdicts and all(v["class"] == ZERO for v in verdicts), verdicts


@pytest.mark.cuda
@pytest.mark.skipif(not _cuda_device(), reason="no CUDA device on this machine (CI has none; run on the device tool)")
def test_cuda_backend_zero_drift() -> None:
    for case in CASES:
        inputs = market(case.market)
        v = compare(ref_run(case.yaml_path, inputs, case.run),
                    sim_runs(case.yaml_path, inputs, case.run, backend="cuda")[0])
        assert v.klass == ZERO, f"{case.name}: {describe(v)}"


REC = {"timestamp_ms": 1, "symbol": "BTC", "action": "OPEN_LONG", "reason": "High entry", "confidence": "High",
       "price": 100.0, "size": 1.0, "notional": 100.0, "pnl": 0.0, "fee_usd": 0.035, "balance": 9999.965,
       "entry_atr": 1.0, "leverage": 3.0, "margin_used": 33.3, "mae_usd": 0.0, "mfe_usd": 0.0}


@pytest.mark.parametrize("change,klass,field", [
    ({"price": 100.00000000000001}, NUMERIC, "price"),
    ({"pnl": -0.0}, NUMERIC, "pnl"),
    ({"reason": "Medium entry"}, STATE_MACHINE, "reason"),
    ({"timestamp_ms": 2}, STATE_MACHINE, "timestamp_ms"),
    ({"action": "OPEN_SHORT"}, STATE_MACHINE, "action"),
])
def test_comparator_classifies_known_different_pairs(change, klass, field) -> None:
    ref = EngineRun("ref", [REC], [(1, 1.0)], 1.0)
    sim = EngineRun("cpu", [{**REC, **change}], [(1, 1.0)], 1.0)
    v = compare(ref, sim)
    assert v.klass == klass and field in v.first.fields
    assert compare(ref, EngineRun("cpu", [dict(REC)], [(1, 1.0)], 1.0)).klass == ZERO


def test_comparator_counts_equity_and_overflow() -> None:
    ref = EngineRun("ref", [REC], [(1, 1.0)], 1.0)
    assert compare(ref, EngineRun("cpu", [REC, REC], [(1, 1.0)], 1.0)).klass == STATE_MACHINE
    assert compare(ref, EngineRun("cpu", [REC], [(1, 1.0000000000000002)], 1.0)).klass == NUMERIC
    assert compare(ref, EngineRun("cpu", [REC], [(2, 1.0)], 1.0)).klass == STATE_MACHINE
    assert compare(ref, EngineRun("cpu", [REC], [(1, 1.0)], 1.0, overflow=True)).klass == OVERFLOW


def test_overflowed_buffer_is_regrown_or_reported() -> None:
    """D44d: an overflow never passes silently — it is re-run with a buffer that fits, or reported."""
    case = next(c for c in CASES if c.name == "shipped/-")
    inputs = market(case.market)
    ref = ref_run(case.yaml_path, inputs, case.run)
    grown = sim_runs(case.yaml_path, inputs, case.run, record_capacity=8)[0]
    kept = sim_runs(case.yaml_path, inputs, case.run, record_capacity=8, grow=False)[0]
    assert compare(ref, grown).klass == ZERO
    assert compare(ref, kept).klass == OVERFLOW and len(kept.trades) == 8
