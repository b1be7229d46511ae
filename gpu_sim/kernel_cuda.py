"""CUDA build of the one simulation-step source (STYLE.md 3–4; DECISIONS D23, strategy-entries §10).

:func:`simulate_kernel_source` returns the ``cuda.jit`` kernel body — one thread per config,
``c = cuda.grid(1); if c >= n: return`` — calling the CUDA device version of
``kernel_loop.simulate_config`` that ``kernel_jit.build_cuda`` recompiles from the CPU source with
``mul`` bound to ``__dmul_rn``. :func:`kernel_ptx` compiles it to PTX for a compute capability without
needing a GPU (only libNVVM), which is how CI checks that no ``fma.rn.f64`` is emitted (D23).
:func:`simulate_cuda` launches it with the same host preparation as ``simulate_cpu``.

Status: the PTX build and the no-FMA check run on a machine without a GPU; the launch path has not been
run on a device yet (no GPU in the session that wrote it).
"""
from __future__ import annotations

import re
import types

import numpy as np
from numba import cuda

from gpu_sim.kernel_jit import build_cuda
from gpu_sim.simulate_cpu import KERNEL_ARGS, RunParams, allocate, prepare_run, result_from

__all__ = ["simulate_kernel_source", "kernel_ptx", "fma_count", "contractible_products", "simulate_cuda",
           "KERNEL_ARGS"]

_KERNEL = []  # the compiled cuda.jit kernel, built on first launch


def _simulate_kernel(params, portfolio, set_ids, ind, mt, mc, mv, mnb, xcd, ncd, ft, fr, fnb,
                     timeline, xticks, nticks, sample_day, sym_flags, run_i, run_f, grp, ctx_i, ctx_f, sig, sig_thr,
                     sym_i, pos_f, g_i, g_f, cand_i, cand_f, day_vals, rec_i, rec_f, eq_out, metrics):
    """One thread per config (``simulate_config_device`` is bound by :func:`simulate_kernel_source`)."""
    c = cuda.grid(1)
    if c >= params.shape[0]:
        return
    simulate_config_device(params, portfolio, set_ids, ind, mt, mc, mv, mnb, xcd, ncd, ft, fr, fnb,  # noqa: F821
                           timeline, xticks, nticks, sample_day, sym_flags, run_i, run_f, grp, ctx_i, ctx_f,
                           sig, sig_thr, sym_i, pos_f, g_i, g_f, cand_i, cand_f, day_vals, rec_i, rec_f, eq_out,
                           metrics, c, c + 1)


def simulate_kernel_source(device_funcs: dict | None = None):
    """The Python kernel function (to be passed to ``cuda.jit`` or ``cuda.compile_ptx``), with its call
    bound to the CUDA device build of ``simulate_config``."""
    built = device_funcs if device_funcs is not None else build_cuda()
    glb = dict(_simulate_kernel.__globals__)
    glb["simulate_config_device"] = built["simulate_config"]
    f = _simulate_kernel
    return types.FunctionType(f.__code__, glb, "simulate_kernel", f.__defaults__, f.__closure__)


def _signature(args: dict):
    from numba import typeof

    sig = []
    for name in KERNEL_ARGS:
        a = args[name]
        t = typeof(np.ascontiguousarray(a))
        sig.append(t.copy(readonly=False) if getattr(t, "mutable", True) is False else t)
    return tuple(sig)


def kernel_ptx(args: dict, cc: tuple[int, int] = (9, 0)) -> str:
    """PTX of the simulation kernel for the argument arrays ``args`` (name -> array, ``KERNEL_ARGS``).

    Works without a GPU: device functions are compiled for ``cc`` instead of the current device's.
    """
    import numba.cuda.dispatcher as cuda_dispatcher

    class _Target:
        compute_capability = cc

    saved = cuda_dispatcher.get_current_device
    cuda_dispatcher.get_current_device = lambda: _Target()
    try:
        ptx, _ = cuda.compile_ptx(simulate_kernel_source(), _signature(args), cc=cc)
    finally:
        cuda_dispatcher.get_current_device = saved
    return ptx


def fma_count(ptx: str) -> int:
    """Number of fused multiply-add instructions on doubles in ``ptx`` (must be 0, D23)."""
    return len(re.findall(r"\bfma\.r[nzmp]\.f64\b", ptx))


_MUL = re.compile(r"^\s*mul\.f64\s+(%fd\d+)\s*,")
_ADD = re.compile(r"^\s*(?:add|sub)\.f64\s+%fd\d+\s*,\s*([^,;]+)\s*,\s*([^,;]+);")


def contractible_products(ptx: str) -> list[tuple[str, str]]:
    """Pairs (``mul.f64`` line, ``add/sub.f64`` line) where a product without a rounding modifier feeds an
    addition without one: ptxas may fuse such a pair into an FMA (PTX ISA: instructions without rounding
    modifiers may be contracted). The kernel writes every such product as ``mul`` (``mul.rn.f64``), so
    this must be empty. Registers are scoped per ``.func`` / ``.entry`` body."""
    found = []
    for body in re.split(r"\n(?=\.(?:visible\s+)?(?:func|entry)\b)", ptx):
        lines = body.splitlines()
        products = {}
        for line in lines:
            m = _MUL.match(line)
            if m:
                products[m.group(1)] = line.strip()
        for line in lines:
            m = _ADD.match(line)
            if m:
                for op in (m.group(1).strip(), m.group(2).strip()):
                    if op in products:
                        found.append((products[op], line.strip()))
    return found


#: Kernel arguments that depend only on (market, engine settings, run parameters): with a ``resident``
#: dict they are uploaded once and stay in device memory for every later batch on the same market.
MARKET_ARGS = ("mt", "mc", "mv", "mnb", "xcd", "ncd", "ft", "fr", "fnb", "timeline", "xticks", "nticks",
               "sample_day", "sym_flags", "run_i", "run_f")


def simulate_cuda(batch, market, run=None, *, record_capacity: int = 4096, equity_curve: bool = True,
                  threads_per_block: int = 64, resident: dict | None = None):
    """``simulate_cpu`` on a CUDA device (same preparation and result type).

    ``resident``: a dict the caller keeps between calls (a sweep worker); the market arguments
    (:data:`MARKET_ARGS`) are uploaded when the (market object, engine settings, run parameters) key
    changes and reused from device memory otherwise (``resident["uploads"]`` counts the uploads).
    """
    from gpu_sim.indicator_sets import compute_indicators, dedup_sets
    from harness.errors import DataError

    if tuple(batch.symbols) != tuple(market.symbols):
        raise DataError(f"<market>: config symbols {tuple(batch.symbols)} != market universe {market.symbols}. "
                        f"Fix: load the params for the market's symbols (ascending byte-wise).")
    run = run or RunParams()
    k = prepare_run(market, dict(batch.engine), run)
    sets = dedup_sets(batch)
    ind = compute_indicators(sets.windows, market.main, sets.needed)
    args = allocate(batch.params, batch.portfolio, sets.set_ids, ind, k, record_capacity=record_capacity,
                    equity_curve=equity_curve)
    if not _KERNEL:
        _KERNEL.append(cuda.jit(simulate_kernel_source()))
    kernel = _KERNEL[0]
    key = (id(market), repr(sorted(dict(batch.engine).items())), repr(run))
    if resident is not None and resident.get("key") == key:
        dev_market = resident["dev"]
    else:
        dev_market = {name: cuda.to_device(np.ascontiguousarray(args[name])) for name in MARKET_ARGS}
        if resident is not None:     # ``market`` is kept so its id cannot be reused by another object
            resident.update(key=key, dev=dev_market, market=market, uploads=resident.get("uploads", 0) + 1)
    dev = {name: dev_market[name] if name in dev_market else cuda.to_device(np.ascontiguousarray(args[name]))
           for name in KERNEL_ARGS}
    n_cfg = args["params"].shape[0]
    blocks = (n_cfg + threads_per_block - 1) // threads_per_block
    if n_cfg:
        kernel[blocks, threads_per_block](*(dev[name] for name in KERNEL_ARGS))
    for name in ("rec_i", "rec_f", "eq_out", "metrics"):
        args[name] = dev[name].copy_to_host()
    return result_from(args, k, equity_curve)
