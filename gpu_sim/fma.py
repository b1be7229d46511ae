"""The no-FMA product helper ``mul(a, b)`` (DECISIONS.md D23; strategy-entries.md §10).

Every product whose result feeds an addition or a subtraction is written ``mul(a, b)`` in the kernel
source, so that no backend may contract ``a * b + c`` into a fused multiply-add:

* CPU (``njit``): a plain binary64 multiply. numba's CPU backend without fast-math emits ``fmul`` and
  ``fadd`` without the ``contract`` flag, so LLVM never fuses them.
* CUDA (``cuda.jit(device=True)``): libdevice ``__dmul_rn`` (``cuda.libdevice.dmul_rn``), which emits
  ``mul.rn.f64``; the ``.rn`` rounding modifier forbids ptxas from fusing it into ``fma.rn.f64``.

Both compile from this one module: :func:`mul` is the CPU version (registered in
``gpu_sim.kernel_jit`` under the name ``mul``), :func:`cuda_mul` builds the CUDA device version that
``kernel_jit.build_cuda`` substitutes for the name ``mul`` in every kernel function's globals.
"""
from __future__ import annotations

from gpu_sim.kernel_jit import device

__all__ = ["mul", "cuda_mul"]


@device(inline=True)
def mul(a, b):
    """Round-to-nearest binary64 product ``a * b`` that never fuses with a following add."""
    return a * b


def cuda_mul():
    """The CUDA device function for ``mul`` (imports numba.cuda lazily).

    Under the CUDA simulator (``NUMBA_ENABLE_CUDASIM=1``, plain Python, never fused) libdevice is a stub,
    so the simulator gets the plain product.
    """
    import numba
    from numba import cuda

    if numba.config.ENABLE_CUDASIM:
        @cuda.jit(device=True)
        def mul_sim(a, b):
            return a * b

        return mul_sim

    from numba.cuda import libdevice

    @cuda.jit(device=True, inline=True)
    def mul_rn(a, b):
        return libdevice.dmul_rn(a, b)

    return mul_rn
