"""The REF view of ``config/schema.csv``: names, kinds, defaults, ranges and per-value checks.

``config/schema.csv`` is the single source of the 157 known leaves (D30, D31), their kinds, built-in
defaults (config-and-axes.md §1) and validity ranges (D32, D42, D52, D53 items 8-10). This module reads
it as data and implements the per-value rules of config-and-axes.md §2.4 (D28, D47) and the interval
grammar of D39. Nothing here hard-codes a default.
"""
from __future__ import annotations

import csv
import functools
import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import NamedTuple

from harness.errors import ConfigError

DEFAULT_SCHEMA_PATH = Path(__file__).resolve().parents[1] / "config" / "schema.csv"
KINDS = ("float", "int", "bool", "enum", "str", "list[str]")
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
MAIN_INTERVAL = "engine.interval"
SUB_BAR_INTERVALS = ("engine.entry_interval", "engine.exit_interval")
_INTERVAL_RE = re.compile(r"[1-9][0-9]*[smhd]")
_UNIT_MS = {"s": 1_000, "m": 60_000, "h": 3_600_000, "d": 86_400_000}
NO_VALUE = object()
DEFAULTS_SRC, SWEEP_SRC = "<defaults>", "<sweep>"


def format_error(src: str, path: str, value: object, rule: str, fix: str) -> str:
    """Message format shared by every config error: ``<file>: <path> = <value!r>: <rule>; fix: <fix>``."""
    head = f"{src}: {path}" if value is NO_VALUE else f"{src}: {path} = {value!r}"
    return f"{head}: {rule}; fix: {fix}"


class Site(NamedTuple):
    """Where a value comes from: file label (or ``<defaults>``/``<sweep>``), layer-qualified path."""

    src: str
    path: str
    cls: type[ConfigError] = ConfigError

    def error(self, value: object, rule: str, fix: str) -> ConfigError:
        """Build (not raise) the error for ``value`` at this site."""
        return self.cls(format_error(self.src, self.path, value, rule, fix))


@dataclass(frozen=True)
class Range:
    """An interval from the schema's ``range`` column, e.g. ``[0,1]`` or ``(0,inf)``."""

    lo: float
    hi: float
    lo_closed: bool
    hi_closed: bool
    text: str

    def contains(self, value: float) -> bool:
        """True when ``value`` lies in the interval (exact comparison, ints stay ints)."""
        above = value >= self.lo if self.lo_closed else value > self.lo
        below = value <= self.hi if self.hi_closed else value < self.hi
        return above and below


@dataclass(frozen=True)
class Leaf:
    """One schema row (config-and-axes.md §12)."""

    path: str
    kind: str
    enum_values: tuple[str, ...]
    default: object
    range: Range | None
    swept: bool
    scope: str
    portfolio_scope: bool


@dataclass(frozen=True)
class Schema:
    """The parsed schema: leaves by path, the section tree and all known paths (sections and leaves)."""

    leaves: Mapping[str, Leaf]
    tree: Mapping[str, object]
    known_paths: tuple[str, ...]
    portfolio_sections: frozenset[str]

    def default_values(self) -> dict[str, object]:
        """A fresh flat ``path -> default`` dict (lists copied; D27 step 0)."""
        return {p: list(lf.default) if isinstance(lf.default, tuple) else lf.default
                for p, lf in self.leaves.items()}

    def is_portfolio(self, path: str) -> bool:
        """True for a portfolio-scope leaf or a section whose every leaf is portfolio scope (D27)."""
        leaf = self.leaves.get(path)
        return leaf.portfolio_scope if leaf is not None else path in self.portfolio_sections


def _parse_bound(text: str) -> float:
    text = text.strip()
    if text in ("inf", "+inf", "-inf"):
        return -math.inf if text.startswith("-") else math.inf
    return int(text) if re.fullmatch(r"-?[0-9]+", text) else float(text)


def parse_range(text: str) -> Range | None:
    """Parse interval notation (``[lo,hi]``, ``(lo,hi)``, mixed); empty means any finite value."""
    text = text.strip()
    if not text:
        return None
    m = re.fullmatch(r"([\[(])([^,]+),([^,]+)([\])])", text)
    if m is None:
        raise ConfigError(format_error("schema.csv", "range", text, "bad interval notation",
                                       "write [lo,hi], (lo,hi) or a mix, with inf"))
    return Range(_parse_bound(m[2]), _parse_bound(m[3]), m[1] == "[", m[4] == "]", text)


def _parse_default(kind: str, text: str) -> object:
    if kind == "float":
        return float(text)
    if kind == "int":
        return int(text)
    if kind == "bool":
        return {"true": True, "false": False}[text]
    if kind == "enum":
        return ascii_lower(text)
    if kind == "str":
        return "" if text == "<empty>" else text
    return () if text in ("[]", "") else tuple(text.strip("[]").split("|"))


def _leaf_from_row(row: Mapping[str, str]) -> Leaf:
    kind = row["kind"]
    if kind not in KINDS:
        raise ConfigError(format_error("schema.csv", row["path"], kind, "unknown kind", f"one of {KINDS}"))
    enums = tuple(v for v in row["enum_values"].split("|") if v)
    return Leaf(row["path"], kind, enums, _parse_default(kind, row["default"]),
                parse_range(row.get("range", "")), row["swept"] == "yes", row["scope"],
                row.get("portfolio_scope", "no") == "yes")


def _build_tree(leaves: Mapping[str, Leaf]) -> tuple[dict, list[str]]:
    tree: dict = {}
    sections: list[str] = []
    for path, leaf in leaves.items():
        node, parts = tree, path.split(".")
        for i, part in enumerate(parts[:-1]):
            if part not in node:
                node[part] = {}
                sections.append(".".join(parts[: i + 1]))
            node = node[part]
        node[parts[-1]] = leaf
    return tree, sections


@functools.lru_cache(maxsize=8)
def _load_schema_cached(path_str: str) -> Schema:
    with open(path_str, newline="", encoding="utf-8") as fh:
        leaves = {row["path"]: _leaf_from_row(row) for row in csv.DictReader(fh)}
    tree, sections = _build_tree(leaves)
    portfolio = frozenset(s for s in sections if all(
        lf.portfolio_scope for p, lf in leaves.items() if p.startswith(s + ".")))
    return Schema(MappingProxyType(leaves), MappingProxyType(tree),
                  tuple(sorted(sections + list(leaves))), portfolio)


def load_schema(schema_path: Path | str | None = None) -> Schema:
    """Read (once per path) and return the schema; default location ``config/schema.csv``."""
    return _load_schema_cached(str(Path(schema_path or DEFAULT_SCHEMA_PATH).resolve()))


def ascii_upper(text: str) -> str:
    """ASCII-only upper-casing a-z -> A-Z (D48); every other character unchanged."""
    return text.translate(_UPPER)


def ascii_lower(text: str) -> str:
    """ASCII-only lower-casing A-Z -> a-z (enum names, D28)."""
    return text.translate(_LOWER)


_UPPER = {c: c - 32 for c in range(ord("a"), ord("z") + 1)}
_LOWER = {c: c + 32 for c in range(ord("A"), ord("Z") + 1)}


def levenshtein(a: str, b: str) -> int:
    """Edit distance with unit costs over code points."""
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def closest_path(path: str, candidates: Iterable[str]) -> str:
    """Closest known key (D28): last-segment distance, then full-path distance, then lexicographic."""
    last = path.rsplit(".", 1)[-1]
    return min(candidates, key=lambda c: (levenshtein(last, c.rsplit(".", 1)[-1]),
                                          levenshtein(path, c), c))


def interval_ms(text: str) -> int | None:
    """Length in ms of an interval string (D39 grammar ``[1-9][0-9]*[smhd]``), None if invalid."""
    if not isinstance(text, str) or len(text) > 20 or _INTERVAL_RE.fullmatch(text) is None:
        return None  # more than 19 digits never fits in int64
    length = int(text[:-1]) * _UNIT_MS[text[-1]]
    return length if length <= INT64_MAX else None


def coerce_value(leaf: Leaf, value: object, site: Site) -> object:
    """Check ``value`` against the leaf's kind (config-and-axes.md §2.4, D28, D47); return the native value.

    ``value`` must not be None (a null overlay is skipped before, §3.3).
    """
    checker = _CHECKERS[leaf.kind]
    return checker(leaf, value, site)


def _as_float(leaf: Leaf, value: object, site: Site) -> float:
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        raise site.error(value, "expected a number (float leaf)", "write a finite number, e.g. 1.5")
    try:
        out = float(value)
    except OverflowError:
        out = math.inf
    if not math.isfinite(out):
        raise site.error(value, "float leaves must be finite", "write a finite number")
    return out


def _as_int(leaf: Leaf, value: object, site: Site) -> int:
    if isinstance(value, float):
        if not math.isfinite(value) or value != math.trunc(value):
            raise site.error(value, "int leaves need an integral value", "write a whole number, e.g. 20")
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool):
        raise site.error(value, "expected an integer (int leaf)", "write a whole number, e.g. 20")
    value = int(value)
    if not INT64_MIN <= value <= INT64_MAX:
        raise site.error(value, "int leaves must fit in a signed 64-bit integer (D47)",
                         "write a smaller whole number")
    return value


def _as_bool(leaf: Leaf, value: object, site: Site) -> bool:
    if type(value) is not bool:
        raise site.error(value, "bool leaves accept only YAML true/false (D28)", "write true or false")
    return value


def _as_enum(leaf: Leaf, value: object, site: Site) -> str:
    name = ascii_lower(value) if isinstance(value, str) else None
    if name not in leaf.enum_values:
        names = "/".join(leaf.enum_values)
        raise site.error(value, f"expected one of {names} (case-insensitive)", f"write one of {names}")
    return name


def _as_str(leaf: Leaf, value: object, site: Site) -> str:
    if not isinstance(value, str):
        raise site.error(value, "expected a string", "write a quoted string, e.g. \"1h\"")
    if value == "" and leaf.path in SUB_BAR_INTERVALS:
        return value
    if leaf.path in SUB_BAR_INTERVALS + (MAIN_INTERVAL,) and interval_ms(value) is None:
        off = "" if leaf.path == MAIN_INTERVAL else " (or \"\" = off)"
        raise site.error(value, "interval must match [1-9][0-9]*[smhd], length in ms within int64 (D39)",
                         f"write e.g. \"5m\" or \"1h\"{off}")
    return value


def _as_str_list(leaf: Leaf, value: object, site: Site) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise site.error(value, "expected a list of strings", "write e.g. [PAXG, XAUT] or []")
    return list(value)


_CHECKERS = {"float": _as_float, "int": _as_int, "bool": _as_bool, "enum": _as_enum,
             "str": _as_str, "list[str]": _as_str_list}


def check_range(leaf: Leaf, value: object, site: Site) -> None:
    """Raise when an int/float value lies outside the schema's range column (D32, D42, D52, D53 8-10)."""
    if leaf.range is not None and leaf.kind in ("int", "float") and not leaf.range.contains(value):
        raise site.error(value, f"out of range, must lie in {leaf.range.text}",
                         f"set a value in {leaf.range.text}")


def _culprit(site_of: Callable[[str], Site], first: str, other: str) -> tuple[str, Site, str]:
    """Key to report for a two-key rule (``first`` unless only it is a default) and where the other is."""
    key, alt = first, other
    if site_of(first).src == DEFAULTS_SRC and site_of(other).src != DEFAULTS_SRC:
        key, alt = other, first
    return key, site_of(key), f"{site_of(alt).path} in {site_of(alt).src}"


def _check_le(values: Mapping[str, object], site_of: Callable[[str], Site], low: str, high: str) -> None:
    if low in values and high in values and values[low] > values[high]:
        key, site, where = _culprit(site_of, low, high)
        raise site.error(values[key], f"{low} = {values[low]!r} must be <= {high} = {values[high]!r} "
                                      f"(D32; other key at {where})", f"lower {low} or raise {high}")


def validate_effective(values: Mapping[str, object], site_of: Callable[[str], Site], schema: Schema) -> None:
    """Range and cross-key rules on one effective config (§10.1; D32, D39, D42, D52, D53 items 8-10).

    ``site_of(path)`` names the layer the value came from (file and layer-qualified path).
    """
    for path, leaf in schema.leaves.items():
        check_range(leaf, values[path], site_of(path))
    _check_le(values, site_of, "trade.vol_scalar_min", "trade.vol_scalar_max")
    _check_le(values, site_of, "trade.reentry_cooldown_min_mins", "trade.reentry_cooldown_max_mins")
    key = "engine.signal_on_candle_close"
    if key in values and values[key] is not True:
        raise site_of(key).error(values[key], "must be true, decisions only on closed bars (D30, P3)",
                                 "set it to true")
    main = interval_ms(values[MAIN_INTERVAL]) if MAIN_INTERVAL in values else None
    for sub in SUB_BAR_INTERVALS:
        sub_ms = interval_ms(values[sub]) if values.get(sub) else None
        if main is not None and sub_ms is not None and sub_ms > main:
            key, site, where = _culprit(site_of, sub, MAIN_INTERVAL)
            raise site.error(values[key],
                             f"sub-bar interval {sub} = {values[sub]!r} is longer than {MAIN_INTERVAL} = "
                             f"{values[MAIN_INTERVAL]!r} (D39; other key at {where})",
                             "use a sub-bar interval no longer than the main interval, or \"\" (off)")
