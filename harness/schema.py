"""The axis registry: ``config/schema.csv`` read once, as typed records.

Conventions: a *path* is a dotted leaf path inside a strategy document (``trade.sl_atr_mult``); a
*native* value is the typed Python value of a leaf (float, int, bool, enum name, str, list[str]);
a *code* is the binary64 number a sweep carries (DECISIONS.md D29). The harness, the YAML
generator, the reports and the optuna space read names, kinds and defaults from here; the two
engines read the same CSV with their own code.
"""
from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
SCHEMA_PATH = REPO_ROOT / "config" / "schema.csv"
NUMERIC_KINDS = ("float", "int", "bool", "enum")


@dataclass(frozen=True)
class ValueRange:
    """Validity interval of a numeric leaf; ``lo``/``hi`` may be ±inf."""

    lo: float = -math.inf
    hi: float = math.inf
    lo_open: bool = True
    hi_open: bool = True

    def contains(self, x: float) -> bool:
        above = x > self.lo if self.lo_open else x >= self.lo
        below = x < self.hi if self.hi_open else x <= self.hi
        return above and below

    def text(self) -> str:
        if self.lo == -math.inf and self.hi == math.inf:
            return "any finite value"
        lo = "-inf" if self.lo == -math.inf else f"{self.lo:g}"
        hi = "inf" if self.hi == math.inf else f"{self.hi:g}"
        return f"{'(' if self.lo_open else '['}{lo}, {hi}{')' if self.hi_open else ']'}"


@dataclass(frozen=True)
class Axis:
    """One config leaf of the schema (swept axis or engine-only leaf)."""

    path: str
    kind: str
    enum_values: tuple[str, ...]
    default: object
    unit: str
    range: ValueRange
    swept: bool
    scope: str
    portfolio_scope: bool
    used_by: tuple[str, ...]
    effect: str

    @property
    def section(self) -> str:
        return self.path.rsplit(".", 1)[0] if "." in self.path else ""


def parse_range(text: str) -> ValueRange:
    """Parse interval notation ``[lo,hi]`` / ``(lo,hi)`` (``inf`` allowed); empty = unbounded."""
    text = text.strip()
    if not text:
        return ValueRange()
    lo_s, hi_s = text[1:-1].split(",")
    return ValueRange(float(lo_s), float(hi_s), text[0] == "(", text[-1] == ")")


def parse_default(kind: str, text: str) -> object:
    """Native default value of a schema row."""
    if kind == "float":
        return float(text)
    if kind == "int":
        return int(text)
    if kind == "bool":
        return {"true": True, "false": False}[text]
    if kind == "list[str]":
        return [] if text == "[]" else [s for s in text.strip("[]").split("|") if s]
    if kind == "str":
        return "" if text == "<empty>" else text
    return text  # enum name


def _axis(row: dict[str, str]) -> Axis:
    kind = row["kind"]
    return Axis(
        path=row["path"],
        kind=kind,
        enum_values=tuple(v for v in row["enum_values"].split("|") if v),
        default=parse_default(kind, row["default"]),
        unit=row["unit"],
        range=parse_range(row["range"]),
        swept=row["swept"] == "yes",
        scope=row["scope"],
        portfolio_scope=row["portfolio_scope"] == "yes",
        used_by=tuple(row["used_by"].split("|")),
        effect=row["effect"],
    )


@dataclass(frozen=True)
class Schema:
    """All leaves in schema order, with lookups."""

    axes: tuple[Axis, ...]
    path: Path

    @property
    def by_path(self) -> dict[str, Axis]:
        return {a.path: a for a in self.axes}

    @property
    def swept(self) -> tuple[Axis, ...]:
        return tuple(a for a in self.axes if a.swept)

    @property
    def engine_only(self) -> tuple[Axis, ...]:
        return tuple(a for a in self.axes if not a.swept)

    def known_paths(self) -> tuple[str, ...]:
        """Every leaf path and every section path (``trade``, ``thresholds.entry``...)."""
        sections: set[str] = set()
        for a in self.axes:
            parts = a.path.split(".")
            for i in range(1, len(parts)):
                sections.add(".".join(parts[:i]))
        return tuple(sorted(sections | {a.path for a in self.axes}))

    def defaults(self) -> dict[str, object]:
        """Flat ``path -> native default``."""
        return {a.path: (list(a.default) if isinstance(a.default, list) else a.default)
                for a in self.axes}


@lru_cache(maxsize=8)
def load_schema(path: Path = SCHEMA_PATH) -> Schema:
    """Read ``config/schema.csv`` (cached per path)."""
    with Path(path).open(newline="") as fh:
        return Schema(tuple(_axis(r) for r in csv.DictReader(fh)), Path(path))
