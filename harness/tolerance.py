"""The one tolerance module (STYLE.md 7).

Parity between engine_ref and gpu_sim is exact: floats compare by bit pattern (so ``-0.0`` differs
from ``0.0`` and NaN equals only the same NaN bits). If a documented operation ever forces a
residual, its relaxation goes here with the operation named — nowhere else. Today: none.
"""
from __future__ import annotations

import struct

#: Documented operations whose results may differ in the last bits between engines. Empty: every
#: operation of the spec is reproduced exactly by both engines (measured: see tests/parity).
RELAXED_OPERATIONS: dict[str, float] = {}


def float_bits(x: float) -> int:
    return struct.unpack("<q", struct.pack("<d", x))[0]


def floats_equal(a: float, b: float) -> bool:
    """Exact equality of two binary64 values by bit pattern."""
    return float_bits(float(a)) == float_bits(float(b))
