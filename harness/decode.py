"""The one sweep decoder of DECISIONS.md D29 (config-and-axes.md §7.1) and its inverse.

``decode_value`` turns a binary64 sweep code into the native value of an axis; the sweep, the
candidate-YAML materialiser, the reports and the native overrides handed to engine_ref all go
through it. gpu_sim packs codes with its own implementation; ``tests/parity`` proves the two
accept and reject exactly the same numbers and give the same values.

| kind  | accepted code                    | native value          |
|-------|----------------------------------|-----------------------|
| float | finite                           | the float             |
| int   | integral, within int64           | int                   |
| bool  | exactly 0.0 / 1.0 (-0.0 == 0.0)  | False / True          |
| enum  | exactly 0.0 / 1.0 / 2.0          | enum_values[code]     |

After decoding, the per-axis validity range (schema ``range`` column) is checked.
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from harness.errors import SweepError
from harness.schema import Axis, Schema, load_schema

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


def _fail(axis: Axis, code: object, rule: str, fix: str) -> SweepError:
    return SweepError(f"<sweep>: {axis.path} = {code!r}: {rule}; fix: {fix}")


def decode_value(axis: Axis, code: float) -> object:
    """Decode one sweep code of ``axis`` (D29); raises SweepError naming path and value."""
    if isinstance(code, bool) or not isinstance(code, (int, float)):
        raise _fail(axis, code, "sweep values must be numbers", "write bools as 0/1, enums as codes")
    x = float(code)
    if not math.isfinite(x):
        raise _fail(axis, code, "value is not finite", "use a finite number")
    if axis.kind == "bool":
        if x not in (0.0, 1.0):
            raise _fail(axis, code, "bool code must be exactly 0 or 1", "use 0.0 (false) or 1.0 (true)")
        return x == 1.0
    if axis.kind == "enum":
        codes = [float(i) for i in range(len(axis.enum_values))]
        if x not in codes:
            names = ", ".join(f"{i}={n}" for i, n in enumerate(axis.enum_values))
            raise _fail(axis, code, "enum code must be exactly one of the codes", names)
        return axis.enum_values[int(x)]
    if axis.kind == "int":
        if x != math.trunc(x) or not INT64_MIN <= x <= INT64_MAX:
            raise _fail(axis, code, "int code must be integral", f"use {math.trunc(x)}.0 or {math.trunc(x) + 1}.0")
        value: object = int(x)
    elif axis.kind == "float":
        value = x
    else:
        raise _fail(axis, code, f"{axis.kind} leaves are engine-only", "remove the path from the sweep")
    if not axis.range.contains(float(value)):
        raise _fail(axis, code, f"outside the valid range {axis.range.text()}", "use a value inside the range")
    return value


def encode_value(axis: Axis, value: object) -> float:
    """Inverse of :func:`decode_value`: native value -> sweep code."""
    if axis.kind == "bool":
        return 1.0 if value else 0.0
    if axis.kind == "enum":
        return float(axis.enum_values.index(str(value).lower()))
    return float(value)  # type: ignore[arg-type]


def decode_row(paths: Sequence[str], codes: Sequence[float],
               schema: Schema | None = None) -> dict[str, object]:
    """Decode one combination (ordered paths, codes) into ``path -> native value``."""
    schema = schema or load_schema()
    by_path = schema.by_path
    return {p: decode_value(by_path[p], c) for p, c in zip(paths, codes, strict=True)}


def encode_row(values: Mapping[str, object], schema: Schema | None = None) -> list[float]:
    """Encode ``path -> native`` into codes in the mapping's order."""
    by_path = (schema or load_schema()).by_path
    return [encode_value(by_path[p], v) for p, v in values.items()]
