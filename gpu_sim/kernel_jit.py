"""One simulation-step source, two targets (STYLE.md 4).

Kernel functions are plain Python over flat arrays, decorated with :func:`device`:

* at import they become CPU ``njit`` functions (``inline="always"`` for the tiny helpers, ordinary
  calls otherwise; LLVM inlines what pays) — this is what ``simulate_cpu`` runs;
* :func:`build_cuda` recompiles the *same* Python functions as CUDA device functions: each function is
  re-created with a copy of its module globals in which every registered kernel name points at the
  CUDA version built before it (registration order is dependency order, because a module registers its
  helpers before the functions that call them), and the name ``mul`` points at the ``__dmul_rn``
  product of :mod:`gpu_sim.fma`.

Rules for kernel source (they keep the rebuild valid): call other kernel functions by their bare
imported name (``from gpu_sim.kernel_state import q``, never ``module.q``); kernel function names are
unique across modules; no allocation, objects, exceptions, strings or Python containers inside.
"""
from __future__ import annotations

import types

from numba import njit

__all__ = ["device", "registry", "build_cuda"]

_REGISTRY: dict[str, object] = {}  # name -> CPU dispatcher, in registration order


def device(fn=None, *, inline: bool = False):
    """Register a kernel function and return its CPU ``njit`` version."""

    def wrap(f):
        name = f.__name__
        if name in _REGISTRY:
            raise RuntimeError(f"kernel function name {name!r} is registered twice; names must be unique "
                               f"across gpu_sim kernel modules (rename one)")
        disp = njit(inline="always" if inline else "never", error_model="numpy")(f)
        _REGISTRY[name] = disp
        return disp

    return wrap(fn) if fn is not None else wrap


def registry() -> dict[str, object]:
    """Registered kernel functions (name -> CPU dispatcher), in registration order."""
    return dict(_REGISTRY)


def build_cuda() -> dict[str, object]:
    """CUDA device versions of every registered kernel function, keyed by name.

    Needs ``numba.cuda`` (a device, or ``NUMBA_ENABLE_CUDASIM=1`` for the simulator).
    """
    from numba import cuda

    from gpu_sim.fma import cuda_mul

    built: dict[str, object] = {"mul": cuda_mul()}
    for name, disp in _REGISTRY.items():
        if name in built:
            continue
        py = disp.py_func
        glb = dict(py.__globals__)
        glb.update(built)
        fn = types.FunctionType(py.__code__, glb, py.__name__, py.__defaults__, py.__closure__)
        built[name] = cuda.jit(device=True, inline=True)(fn)
    return built
