"""The CUDA build of the one step source: PTX without fused multiply-adds (D23, strategy-entries §10)
and the CUDA-simulator run equal to the CPU run. Neither needs a GPU (PTX needs libNVVM)."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from gpu_sim.config_loader import load_params
from gpu_sim.indicator_sets import compute_indicators, dedup_sets
from gpu_sim.kernel_jit import build_cuda, registry
from gpu_sim.market_arrays import pack_inputs
from gpu_sim.simulate_cpu import RunParams, allocate, prepare_run
from harness.data import synth_market
from harness.engine_inputs import engine_inputs

REPO = Path(__file__).resolve().parents[2]


def _nvvm_available() -> bool:
    try:
        from numba.cuda.cudadrv import nvvm
        return bool(nvvm.is_available())
    except Exception:  # pragma: no cover - depends on the toolchain
        return False


def _args():
    md = synth_market(n_symbols=2, days=2, seed=3, sub_intervals=("15m",))
    mk = pack_inputs(engine_inputs(md, sub_intervals=("15m",)))
    b = load_params(None, list(mk.symbols))
    sets = dedup_sets(b)
    ind = compute_indicators(sets.windows, mk.main, sets.needed)
    k = prepare_run(mk, {"engine.interval": "1h", "engine.exit_interval": "15m", "engine.entry_interval": "15m"},
                    RunParams())
    return allocate(b.params, b.portfolio, sets.set_ids, ind, k)


@pytest.mark.cuda
@pytest.mark.skipif(not _nvvm_available(), reason="libNVVM (CUDA toolchain) not available")
def test_ptx_has_no_fused_multiply_add():
    from gpu_sim.kernel_cuda import contractible_products, fma_count, kernel_ptx

    ptx = kernel_ptx(_args())
    assert fma_count(ptx) == 0
    assert contractible_products(ptx) == []
    assert ptx.count("mul.rn.f64") > 50           # the ``mul`` products really are __dmul_rn


def test_every_kernel_function_has_a_cuda_build():
    if os.environ.get("NUMBA_ENABLE_CUDASIM") == "1":
        pytest.skip("checked in the subprocess below")
    if not _nvvm_available():
        pytest.skip("libNVVM not available")
    built = build_cuda()
    assert set(registry()) <= set(built)


SCRIPT = textwrap.dedent("""
    import numpy as np
    from harness.data import synth_market
    from harness.engine_inputs import engine_inputs
    from gpu_sim.market_arrays import pack_inputs
    from gpu_sim.config_loader import load_params
    from gpu_sim.simulate_cpu import simulate_cpu, RunParams
    from gpu_sim.kernel_cuda import simulate_cuda
    md = synth_market(n_symbols=3, days=12, seed=5, sub_intervals=("15m",))
    mk = pack_inputs(engine_inputs(md, sub_intervals=("15m",)))
    paths = ["trade.entry_min_confidence", "thresholds.entry.enable_slow_drift_entries"]
    b = load_params(None, list(mk.symbols), sweep_paths=paths, sweep_codes=np.array([[0.0, 1.0], [1.0, 0.0]]))
    object.__setattr__(b, "engine", {**b.engine, "engine.exit_interval": "15m", "engine.entry_interval": "15m"})
    run = RunParams(lookback=50)
    cpu = simulate_cpu(b, mk, run)
    gpu = simulate_cuda(b, mk, run, threads_per_block=2)
    assert cpu.metrics_of(0)["total_trades"] > 0, cpu.metrics_of(0)
    for c in range(2):
        assert cpu.records(c) == gpu.records(c), c
    assert np.array_equal(cpu.metrics, gpu.metrics) and np.array_equal(cpu.equity, gpu.equity)
    # a sweep worker's resident market: uploaded once, reused by the next batch (other configs)
    resident = {}
    b2 = load_params(None, list(mk.symbols), sweep_paths=paths, sweep_codes=np.array([[1.0, 1.0], [0.0, 0.0]]))
    object.__setattr__(b2, "engine", dict(b.engine))
    for batch in (b, b2):
        res = simulate_cuda(batch, mk, run, threads_per_block=2, resident=resident)
        ref = simulate_cpu(batch, mk, run)
        assert np.array_equal(ref.metrics, res.metrics) and np.array_equal(ref.rec_f, res.rec_f)
    assert resident["uploads"] == 1, resident["uploads"]
    print("OK", cpu.metrics_of(0)["total_trades"], cpu.metrics_of(1)["total_trades"])
""")


def test_cuda_simulator_matches_cpu():
    """The CUDA device build (globals rebound, ``mul`` swapped) run by numba's CUDA simulator gives the
    CPU run's records, metrics and equity curves."""
    env = dict(os.environ, NUMBA_ENABLE_CUDASIM="1", PYTHONPATH=str(REPO))
    out = subprocess.run([sys.executable, "-c", SCRIPT], cwd=REPO, env=env, capture_output=True, text=True,
                         timeout=900)
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.startswith("OK")
