"""The float64 parameter layout of the simulator, read from ``config/schema.csv``.

One *field* per numeric leaf of the schema (kinds float, int, bool, enum), in schema order: the 148
swept axes followed by the five numeric engine-only leaves. A config row is a float64 vector over these
fields: floats as is, ints as their integral float, bools 0.0/1.0, enums their code (index in the
``enum_values`` column). The string leaves (the three ``engine.*`` intervals and ``watchlist_exclude``)
are portfolio-scope and never swept; they live beside the rows, not in them.

Nothing here hard-codes a key, a default or a range: the schema is the single source (DECISIONS.md
D30, config-and-axes.md §1, §12). This module is gpu_sim's own reading of the schema; it shares no code
with engine_ref.
"""
from __future__ import annotations

import csv
import functools
import math
import re
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Iterable, Mapping

import numpy as np

from harness.errors import ConfigError

__all__ = [
    "KIND_FLOAT",
    "KIND_INT",
    "KIND_BOOL",
    "KIND_ENUM",
    "KIND_CODES",
    "Layout",
    "default_schema_path",
    "load_layout",
    "levenshtein",
    "closest_path",
    "ascii_upper",
    "ascii_lower",
]

KIND_FLOAT = 0
KIND_INT = 1
KIND_BOOL = 2
KIND_ENUM = 3
KIND_CODES: Mapping[str, int] = MappingProxyType(
    {"float": KIND_FLOAT, "int": KIND_INT, "bool": KIND_BOOL, "enum": KIND_ENUM}
)
STRING_KINDS = ("str", "list[str]")

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1

_REQUIRED_COLUMNS = ("path", "kind", "enum_values", "default", "range", "swept", "scope", "portfolio_scope")
_SEGMENT = re.compile(r"[a-z][a-z0-9_]*\Z")
_RANGE = re.compile(r"([\[(])\s*([^,\s]+)\s*,\s*([^,\s]+)\s*([\])])\Z")

_UPPER = {c: c - 32 for c in range(ord("a"), ord("z") + 1)}
_LOWER = {c: c + 32 for c in range(ord("A"), ord("Z") + 1)}


def ascii_upper(text: str) -> str:
    """ASCII upper-casing (a-z -> A-Z only, every other character unchanged; DECISIONS.md D48)."""
    return text.translate(_UPPER)


def ascii_lower(text: str) -> str:
    """ASCII lower-casing (A-Z -> a-z only)."""
    return text.translate(_LOWER)


def default_schema_path() -> Path:
    return Path(__file__).resolve().parents[1] / "config" / "schema.csv"


@dataclass(frozen=True, eq=False)
class Layout:
    """Column layout of the float64 config rows, built from the schema.

    Arrays are read-only; ``index``/``string_leaves``/``leaf_kinds`` are read-only mappings (the layout
    is cached and shared).
    """

    schema_path: Path
    fields: tuple[str, ...]                    # numeric leaves in schema order
    index: Mapping[str, int]                   # field path -> column
    kinds: np.ndarray                          # int8, KIND_* per field
    defaults: np.ndarray                       # float64 per field
    enum_names: tuple[tuple[str, ...], ...]    # per field; () unless kind enum (code order)
    lo: np.ndarray                             # float64 lower bound (-inf when none)
    hi: np.ndarray                             # float64 upper bound (+inf when none)
    lo_open: np.ndarray                        # bool: lower bound excluded
    hi_open: np.ndarray                        # bool: upper bound excluded
    range_text: tuple[str, ...]                # the schema's range cell per field ('' = any finite)
    swept_mask: np.ndarray                     # bool
    portfolio_mask: np.ndarray                 # bool
    units: tuple[str, ...]
    string_leaves: Mapping[str, object]        # path -> default (str, or tuple[str, ...] for list[str])
    string_kinds: Mapping[str, str]            # path -> 'str' | 'list[str]'
    leaf_paths: tuple[str, ...]                # every known leaf (numeric and string) in schema order
    leaf_kinds: Mapping[str, str]              # path -> schema kind text
    portfolio_paths: frozenset[str]            # portfolio-scope leaves (numeric and string)
    section_paths: tuple[str, ...]             # every section of a strategy document, sorted

    @property
    def n_fields(self) -> int:
        return len(self.fields)

    @property
    def swept_fields(self) -> tuple[str, ...]:
        return tuple(f for f, s in zip(self.fields, self.swept_mask) if s)

    @property
    def known_paths(self) -> tuple[str, ...]:
        """Candidates for "did you mean": every leaf and every section path."""
        return self.leaf_paths + self.section_paths

    def kind_name(self, path: str) -> str:
        return self.leaf_kinds[path]


def _schema_error(path: Path, line: int, what: str) -> ConfigError:
    return ConfigError(f"{path}: line {line}: {what}; fix: correct config/schema.csv (tools/build_schema.py)")


def _parse_range(text: str, where: Path, line: int) -> tuple[float, float, bool, bool]:
    if text.strip() == "":
        return -math.inf, math.inf, True, True
    m = _RANGE.match(text.strip())
    if not m:
        raise _schema_error(where, line, f"range {text!r} is not interval notation like [0,1] or (0,inf)")
    try:
        lo = float(m.group(2))
        hi = float(m.group(3))
    except ValueError:
        raise _schema_error(where, line, f"range {text!r} has a non-numeric bound") from None
    if math.isnan(lo) or math.isnan(hi) or lo > hi:
        raise _schema_error(where, line, f"range {text!r} is empty or malformed")
    return lo, hi, m.group(1) == "(", m.group(4) == ")"


def _in_range(x: float, lo: float, hi: float, lo_open: bool, hi_open: bool) -> bool:
    if not math.isfinite(x):
        return False
    if x < lo or (lo_open and x == lo):
        return False
    if x > hi or (hi_open and x == hi):
        return False
    return True


def _parse_default(kind: str, text: str, enum_values: tuple[str, ...], where: Path, line: int):
    try:
        if kind == "float":
            v = float(text)
            if not math.isfinite(v):
                raise ValueError
            return v
        if kind == "int":
            v = int(text)
            if not INT64_MIN <= v <= INT64_MAX:
                raise ValueError
            return v
        if kind == "bool":
            if text == "true":
                return True
            if text == "false":
                return False
            raise ValueError
        if kind == "enum":
            if text not in enum_values:
                raise ValueError
            return enum_values.index(text)
        if kind == "str":
            return "" if text == "<empty>" else text
        if kind == "list[str]":
            if text == "[]":
                return ()
            raise ValueError
    except ValueError:
        pass
    raise _schema_error(where, line, f"default {text!r} is not a valid {kind}")


def _build(schema_path: Path) -> Layout:
    try:
        fh = schema_path.open(newline="", encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{schema_path}: cannot read the schema ({exc.strerror}); fix: restore config/schema.csv") from None
    with fh:
        reader = csv.DictReader(fh)
        missing = [c for c in _REQUIRED_COLUMNS if c not in (reader.fieldnames or ())]
        if missing:
            raise _schema_error(schema_path, 1, f"missing columns {missing}")
        rows = list(reader)

    fields: list[str] = []
    kinds: list[int] = []
    defaults: list[float] = []
    enum_names: list[tuple[str, ...]] = []
    bounds: list[tuple[float, float, bool, bool]] = []
    range_text: list[str] = []
    swept: list[bool] = []
    portfolio: list[bool] = []
    units: list[str] = []
    string_leaves: dict[str, object] = {}
    string_kinds: dict[str, str] = {}
    leaf_paths: list[str] = []
    leaf_kinds: dict[str, str] = {}
    portfolio_paths: set[str] = set()
    sections: set[str] = set()

    for n, row in enumerate(rows, start=2):
        path = (row.get("path") or "").strip()
        kind = (row.get("kind") or "").strip()
        segments = path.split(".")
        if not path or not all(_SEGMENT.match(s) for s in segments):
            raise _schema_error(schema_path, n, f"bad path {path!r}")
        if path in leaf_kinds:
            raise _schema_error(schema_path, n, f"duplicate path {path!r}")
        if kind not in KIND_CODES and kind not in STRING_KINDS:
            raise _schema_error(schema_path, n, f"unknown kind {kind!r}")
        for i in range(1, len(segments)):
            sections.add(".".join(segments[:i]))
        enum_values = tuple(v for v in (row.get("enum_values") or "").split("|") if v != "")
        if kind == "enum" and (len(enum_values) < 1 or len(set(enum_values)) != len(enum_values)):
            raise _schema_error(schema_path, n, f"enum {path} needs distinct enum_values")
        if kind != "enum" and enum_values:
            raise _schema_error(schema_path, n, f"{path} is {kind} but has enum_values")
        default = _parse_default(kind, (row.get("default") or "").strip(), enum_values, schema_path, n)
        rng = (row.get("range") or "").strip()
        if rng and kind not in ("float", "int"):
            raise _schema_error(schema_path, n, f"{path} is {kind} and cannot have a range")
        is_swept = (row.get("swept") or "").strip() == "yes"
        is_portfolio = (row.get("portfolio_scope") or "").strip() == "yes"
        leaf_paths.append(path)
        leaf_kinds[path] = kind
        if is_portfolio:
            portfolio_paths.add(path)
        if kind in STRING_KINDS:
            if is_swept:
                raise _schema_error(schema_path, n, f"{path} is a {kind} leaf and cannot be swept")
            if not is_portfolio:
                raise _schema_error(schema_path, n, f"{path} is a {kind} leaf and must be portfolio-scope")
            string_leaves[path] = default
            string_kinds[path] = kind
            continue
        lo, hi, lo_open, hi_open = _parse_range(rng, schema_path, n)
        dflt = float(default)
        if not _in_range(dflt, lo, hi, lo_open, hi_open):
            raise _schema_error(schema_path, n, f"default of {path} = {default!r} is outside its range {rng}")
        fields.append(path)
        kinds.append(KIND_CODES[kind])
        defaults.append(dflt)
        enum_names.append(enum_values)
        bounds.append((lo, hi, lo_open, hi_open))
        range_text.append(rng)
        swept.append(is_swept)
        portfolio.append(is_portfolio)
        units.append((row.get("unit") or "").strip())

    for s in sections:
        if s in leaf_kinds:
            raise _schema_error(schema_path, 1, f"{s} is both a leaf and a section")

    def ro(a: np.ndarray) -> np.ndarray:
        a.setflags(write=False)
        return a

    lo_a = np.array([b[0] for b in bounds], dtype=np.float64)
    hi_a = np.array([b[1] for b in bounds], dtype=np.float64)
    return Layout(
        schema_path=schema_path,
        fields=tuple(fields),
        index=MappingProxyType({f: i for i, f in enumerate(fields)}),
        kinds=ro(np.array(kinds, dtype=np.int8)),
        defaults=ro(np.array(defaults, dtype=np.float64)),
        enum_names=tuple(enum_names),
        lo=ro(lo_a),
        hi=ro(hi_a),
        lo_open=ro(np.array([b[2] for b in bounds], dtype=bool)),
        hi_open=ro(np.array([b[3] for b in bounds], dtype=bool)),
        range_text=tuple(range_text),
        swept_mask=ro(np.array(swept, dtype=bool)),
        portfolio_mask=ro(np.array(portfolio, dtype=bool)),
        units=tuple(units),
        string_leaves=MappingProxyType(string_leaves),
        string_kinds=MappingProxyType(string_kinds),
        leaf_paths=tuple(leaf_paths),
        leaf_kinds=MappingProxyType(leaf_kinds),
        portfolio_paths=frozenset(portfolio_paths),
        section_paths=tuple(sorted(sections)),
    )


@functools.lru_cache(maxsize=8)
def _cached(resolved: str) -> Layout:
    return _build(Path(resolved))


def load_layout(schema_path: str | Path | None = None) -> Layout:
    """The layout of ``schema_path`` (default: the repo's ``config/schema.csv``), cached per path."""
    path = default_schema_path() if schema_path is None else Path(schema_path)
    return _cached(str(path.resolve()))


# --------------------------------------------------------------------------------------------------
# "did you mean": config-and-axes.md §2.4


def levenshtein(a: str, b: str) -> int:
    """Edit distance with unit costs over code points."""
    if a == b:
        return 0
    if len(a) < len(b):
        a, b = b, a
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        cur = [i]
        for j, cb in enumerate(b, start=1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def closest_path(path: str, candidates: Iterable[str]) -> str | None:
    """The closest known path: smallest distance between last segments, then between full paths,
    then the lexicographically smallest."""
    last = path.rsplit(".", 1)[-1]
    cands = list(candidates)
    if not cands:
        return None
    by_last = [levenshtein(last, c.rsplit(".", 1)[-1]) for c in cands]
    low = min(by_last)
    tied = [c for c, d in zip(cands, by_last) if d == low]
    return min(tied, key=lambda c: (levenshtein(path, c), c))
