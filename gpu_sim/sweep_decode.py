"""The one sweep decoder of DECISIONS.md D29 (config-and-axes.md §7.1, §7.2), vectorised.

Sweep values are binary64 codes, one column per axis path and one row per config:

* float: as is; NaN and +-inf are errors;
* int: must be integral (``x == trunc(x)``) and within int64 (``-2**63 <= x < 2**63``); stored as the
  integral float (``-0.0`` becomes ``0.0``);
* bool: exactly 0.0 (``-0.0`` compares equal) -> 0.0 (false), exactly 1.0 -> 1.0 (true);
* enum: exactly 0.0, 1.0, 2.0 ... up to ``len(enum_values) - 1`` -> that code;

then every decoded value must lie in the axis's ``range`` (the per-axis validity rules of §10.1 / D52 /
D53). Paths must be known swept leaves, not engine-only, and not repeated. Every failure is a
``SweepError`` naming the path, the config index and the value.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from harness.errors import SweepError

from .layout import KIND_BOOL, KIND_ENUM, KIND_FLOAT, KIND_INT, Layout, closest_path

__all__ = ["decode_codes", "sweep_columns", "SWEEP_FILE"]

SWEEP_FILE = "<sweep>"
_TWO63 = 2.0**63


def _err(path: str, value: object, rule: str, fix: str, config: int | None = None) -> SweepError:
    where = f"{path}" if config is None else f"{path} (config {config})"
    return SweepError(f"{SWEEP_FILE}: {where} = {value!r}: {rule}; fix: {fix}")


def sweep_columns(layout: Layout, sweep_paths: Sequence[str]) -> np.ndarray:
    """Column index of each sweep path; rejects unknown, non-axis, engine-only and repeated paths."""
    cols = []
    seen: dict[str, int] = {}
    for k, path in enumerate(sweep_paths):
        if not isinstance(path, str):
            raise _err(repr(path), path, "a sweep path must be a dotted string", "write the axis path, e.g. trade.sl_atr_mult")
        if path in seen:
            raise _err(path, path, f"duplicate sweep path (axes {seen[path]} and {k})", "list each axis once")
        seen[path] = k
        if path not in layout.leaf_kinds:
            if path in layout.section_paths:
                raise _err(path, path, "a section is not a sweep axis", "name one leaf of the section")
            guess = closest_path(path, layout.known_paths)
            raise _err(path, path, "unknown sweep path", f"did you mean {guess}?")
        col = layout.index.get(path)
        if col is None or not layout.swept_mask[col]:
            raise _err(path, path, "engine-only key; it can never be swept (D30)", "remove it from the sweep")
        cols.append(col)
    return np.asarray(cols, dtype=np.intp)


def _range_rule(layout: Layout, col: int) -> str:
    return f"outside the axis range {layout.range_text[col]}"


def decode_codes(layout: Layout, sweep_paths: Sequence[str], sweep_codes) -> np.ndarray:
    """Decode a (n_configs, len(sweep_paths)) matrix of binary64 codes into column values (float64).

    Returns a new C-contiguous float64 array of the same shape: floats as is, ints as their integral
    float, bools 0.0/1.0, enums their code.
    """
    sweep_paths = tuple(sweep_paths)
    cols = sweep_columns(layout, sweep_paths)
    raw = np.asarray(sweep_codes)
    if raw.dtype == np.bool_ or raw.dtype.kind not in "iuf":
        raise _err("<codes>", raw.dtype.name, "sweep values must be binary64 numbers (not booleans, strings or objects)",
                   "pass a float64 array of codes (bool 0/1, enum 0/1/2)")
    if raw.ndim != 2 or raw.shape[1] != len(sweep_paths):
        raise _err("<codes>", raw.shape, f"expected shape (n_configs, {len(sweep_paths)})",
                   "one row per config, one column per sweep path")
    if raw.shape[0] == 0:
        raise _err("<codes>", raw.shape, "empty sweep (no configs)", "give at least one row of values")
    x = np.array(raw, dtype=np.float64, order="C", copy=True)
    if x.shape[1] == 0:
        return x

    kinds = layout.kinds[cols]
    decode_ok = np.ones(x.shape, dtype=bool)
    with np.errstate(invalid="ignore"):
        for kind in (KIND_FLOAT, KIND_INT, KIND_BOOL, KIND_ENUM):
            ks = np.flatnonzero(kinds == kind)
            if ks.size == 0:
                continue
            v = x[:, ks]
            if kind == KIND_FLOAT:
                ok = np.isfinite(v)
            elif kind == KIND_INT:
                ok = np.isfinite(v) & (v == np.trunc(v)) & (v >= -_TWO63) & (v < _TWO63)
            elif kind == KIND_BOOL:
                ok = (v == 0.0) | (v == 1.0)
            else:
                n_enum = np.array([len(layout.enum_names[c]) for c in cols[ks]], dtype=np.float64)
                ok = (v == np.trunc(v)) & (v >= 0.0) & (v < n_enum)
            decode_ok[:, ks] = ok
            if kind != KIND_FLOAT:
                x[:, ks] = v + 0.0  # integers: -0.0 -> 0.0; floats keep their sign

        # Per-axis ranges (float and int axes that have one).
        ranged = np.flatnonzero(((kinds == KIND_FLOAT) | (kinds == KIND_INT))
                                & ((layout.lo[cols] > -np.inf) | (layout.hi[cols] < np.inf)))
        out = np.zeros(x.shape, dtype=bool)
        if ranged.size:
            v = x[:, ranged]
            rc = cols[ranged]
            lo, hi = layout.lo[rc], layout.hi[rc]
            out[:, ranged] = ((v < lo) | (v > hi) | (layout.lo_open[rc] & (v == lo))
                              | (layout.hi_open[rc] & (v == hi)))
    out &= decode_ok
    bad = ~decode_ok | out

    if bad.any():
        r, k = np.argwhere(bad)[0]
        col = int(cols[k])
        path = sweep_paths[k]
        value = float(raw[r, k]) if raw.dtype.kind == "f" else raw[r, k].item()
        kind = int(kinds[k])
        if out[r, k]:
            raise _err(path, value, _range_rule(layout, col), f"use values within {layout.range_text[col]}", int(r))
        if kind == KIND_FLOAT:
            raise _err(path, value, "a float axis needs a finite value", "drop NaN/inf from the grid", int(r))
        if kind == KIND_INT:
            if not np.isfinite(value) or value != np.trunc(value):
                raise _err(path, value, "an int axis needs an integral value (x == trunc(x))",
                           "use whole numbers such as 20.0", int(r))
            raise _err(path, value, "an int axis value must fit in int64", "use a smaller integer", int(r))
        if kind == KIND_BOOL:
            raise _err(path, value, "a bool axis needs exactly 0.0 (false) or 1.0 (true)", "use 0 or 1", int(r))
        names = layout.enum_names[col]
        codes = ", ".join(f"{i}.0={n}" for i, n in enumerate(names))
        raise _err(path, value, f"an enum axis needs an exact code ({codes})", f"use one of {codes}", int(r))
    return np.ascontiguousarray(x)
