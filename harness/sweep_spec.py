"""Sweep specs (config-and-axes.md §6.1) validated by §7.2 before any run.

A spec is ``axes: [{path, values}]`` plus optional ``initial_balance`` and ``lookback``. Rejected,
with a message naming the path and the value: unknown path (with the closest known key), an
engine-only path, a repeated path, an empty value list, a non-number (YAML booleans and strings
are not numbers), any value that fails the one decoder (D29) or the per-axis validity range.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from harness.closest import closest_path
from harness.decode import decode_value
from harness.errors import SweepError
from harness.schema import Schema, load_schema
from harness.yamlio import read_yaml

TOP_KEYS = {"axes", "initial_balance", "lookback"}
AXIS_KEYS = {"path", "values"}


@dataclass(frozen=True)
class SweepAxis:
    """One swept axis: its path and its grid of codes (binary64)."""

    path: str
    values: tuple[float, ...]


@dataclass(frozen=True)
class SweepSpec:
    """A validated sweep spec."""

    axes: tuple[SweepAxis, ...]
    initial_balance: float = 10000.0
    lookback: int = 200
    source: str = "<memory>"

    @property
    def paths(self) -> tuple[str, ...]:
        return tuple(a.path for a in self.axes)

    def grid_size(self) -> float:
        """Number of combinations of the full Cartesian grid (as float: it overflows ints fast)."""
        size = 1.0
        for a in self.axes:
            size *= len(a.values)
        return size


def _err(src: str, where: str, value: object, rule: str, fix: str) -> SweepError:
    return SweepError(f"{src}: {where} = {value!r}: {rule}; fix: {fix}")


def _check_axis(src: str, i: int, item: object, schema: Schema, seen: set[str]) -> SweepAxis:
    where = f"axes[{i}]"
    if not isinstance(item, dict):
        raise _err(src, where, item, "each axis must be a mapping", "write {path: ..., values: [...]}")
    extra = set(item) - AXIS_KEYS
    if extra or not AXIS_KEYS <= set(item):
        raise _err(src, where, sorted(item), "an axis has exactly the keys path and values",
                   "remove other keys / add the missing one")
    path, values = item["path"], item["values"]
    by_path = schema.by_path
    if path not in by_path:
        hint = closest_path(str(path), [a.path for a in schema.swept])
        raise _err(src, f"{where}.path", path, "unknown sweep path", f"did you mean {hint}?")
    axis = by_path[path]
    if not axis.swept:
        raise _err(src, f"{where}.path", path, "engine-only keys are never swept", "remove this axis")
    if path in seen:
        raise _err(src, f"{where}.path", path, "path repeated", "keep one entry per path")
    seen.add(path)
    if not isinstance(values, list) or not values:
        raise _err(src, f"{path}.values", values, "value list must be a non-empty list", "list the grid")
    for v in values:
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise _err(src, f"{path}.values", v, "sweep values must be numbers",
                       "write bools as 0/1 and enums as codes 0/1/2")
        decode_value(axis, float(v))
    return SweepAxis(path, tuple(float(v) for v in values))


def parse_sweep_spec(doc: object, source: str = "<memory>", schema: Schema | None = None) -> SweepSpec:
    """Validate a parsed sweep-spec document (§6.1, §7.2)."""
    schema = schema or load_schema()
    if not isinstance(doc, dict):
        raise _err(source, "<root>", doc, "a sweep spec is a mapping", "start with 'axes:'")
    extra = set(doc) - TOP_KEYS
    if extra:
        key = sorted(extra)[0]
        raise _err(source, key, doc[key], "unknown top-level key", f"allowed: {sorted(TOP_KEYS)}")
    if "axes" not in doc or not isinstance(doc["axes"], list):
        raise _err(source, "axes", doc.get("axes"), "axes must be a list", "add 'axes: [...]'")
    seen: set[str] = set()
    axes = tuple(_check_axis(source, i, item, schema, seen) for i, item in enumerate(doc["axes"]))
    balance = doc.get("initial_balance", 10000.0)
    if isinstance(balance, bool) or not isinstance(balance, (int, float)) or not (
            math.isfinite(balance) and balance > 0):
        raise _err(source, "initial_balance", balance, "must be a finite number > 0", "e.g. 10000.0")
    lookback = doc.get("lookback", 200)
    if isinstance(lookback, bool) or not isinstance(lookback, int) or lookback < 0:
        raise _err(source, "lookback", lookback, "must be an integer >= 0", "e.g. 200")
    return SweepSpec(axes, float(balance), int(lookback), source)


def load_sweep_spec(path: str | Path, schema: Schema | None = None) -> SweepSpec:
    """Read and validate a sweep spec file."""
    return parse_sweep_spec(read_yaml(Path(path)), str(path), schema)
