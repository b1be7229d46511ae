"""One simulation-step source, two targets (STYLE.md 4).

Kernel functions are plain Python over flat arrays, decorated with :func:`device`:

* at import they become CPU ``njit`` functions (``inline="always"`` for the tiny helpers, ordinary
  calls otherwise; LLVM inlines what pays) — this is what ``simulate_cpu`` runs;
* :func:`build_cuda` recompiles the *same* Python functions as CUDA device functions: each function is
  re-created with a copy of its module globals in which every registered kernel name points at the
  CUDA version built before it (registration order is dependency order, because a module registers its
  helpers before the functions that call them), and the name ``mul`` points at the ``__dmul_rn``
  product of :mod:`gpu_sim.fma`.

No reference counting: the CPU builds use ``_nrt=False``. Kernels never allocate, every array they see
is owned by the host for the whole launch, so numba's atomic reference counts on array views (taken
and dropped on every slice and call) would only cost time, and with several threads contend on one
shared counter per input array.

Caching: CPU compilation of the whole step takes tens of seconds, so every kernel function (and the
driver, through :func:`cpu_jit`) is cached on disk. numba invalidates a cache entry only when the
function's *own* file changes, not when a callee or a constant from another module does; the cache
therefore lives in a directory named after a hash of every source it depends on (the kernel modules,
the driver, the schema that defines the parameter columns, numba's version):
``gpu_sim/__pycache__/kernels-<hash>/``. Any edit selects a fresh directory. When it cannot be created
the functions are compiled without a cache.

Rules for kernel source (they keep the rebuild valid): call other kernel functions by their bare
imported name (``from gpu_sim.kernel_arith import q``, never ``module.q``); kernel function names are
unique across modules; no allocation, objects, exceptions, strings or Python containers inside.
"""
from __future__ import annotations

import hashlib
import types
from pathlib import Path

import numba
from numba import njit

__all__ = ["device", "cpu_jit", "registry", "build_cuda", "cache_dir"]

_REGISTRY: dict[str, object] = {}  # name -> CPU dispatcher, in registration order
_HERE = Path(__file__).resolve().parent
_DEPENDS = ("fma.py", "reasons.py", "ind_fields.py", "layout.py", "simulate_cpu.py", "kernel_*.py",
            "../config/schema.csv")


def _cache_dir() -> str | None:
    h = hashlib.sha256(numba.__version__.encode())
    files: list[Path] = []
    for pattern in _DEPENDS:
        files.extend(sorted(_HERE.glob(pattern)))
    try:
        for f in files:
            h.update(f.name.encode() + b"\0" + f.read_bytes() + b"\0")
        d = _HERE / "__pycache__" / f"kernels-{h.hexdigest()[:16]}"
        d.mkdir(parents=True, exist_ok=True)
        probe = d / ".probe"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError:
        return None
    return str(d)


_CACHE_DIR = _cache_dir()


def cache_dir() -> str | None:
    """The on-disk cache directory of the kernel functions (None: compiled without a cache)."""
    return _CACHE_DIR


def cpu_jit(**options):
    """``njit(**options)`` with the kernel cache (see the module docstring)."""

    def wrap(f):
        if _CACHE_DIR is None:
            return njit(**options)(f)
        saved = numba.config.CACHE_DIR
        numba.config.CACHE_DIR = _CACHE_DIR
        try:
            return njit(cache=True, **options)(f)
        finally:
            numba.config.CACHE_DIR = saved

    return wrap


def device(fn=None, *, inline: bool = False):
    """Register a kernel function and return its CPU ``njit`` version."""

    def wrap(f):
        name = f.__name__
        if name in _REGISTRY:
            raise RuntimeError(f"kernel function name {name!r} is registered twice; names must be unique "
                               f"across gpu_sim kernel modules (rename one)")
        disp = cpu_jit(inline="always" if inline else "never", error_model="numpy", _nrt=False)(f)
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
