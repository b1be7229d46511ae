"""All-non-default config generator (config-and-axes.md §10.2 item 4).

``all_non_default_doc(seed)`` returns a YAML document (nested dict) whose ``global`` sets every
leaf of the schema to a valid value different from its default — floats off-grid at full binary64
precision half of the time, so the parsers' float round-trip is exercised — plus ``symbols``,
``live`` and ``modes`` overlays (shorthand and nested forms, a case-fallback symbol key, ``null``
leaves that must keep the lower layer). Profiles (§10.2: "all non-default" switches several parent
toggles off, so generate complementary profiles to exercise every child axis):

* ``flip`` — every leaf differs from its default (bools flipped, enums rotated);
* ``parents_on`` / ``parents_off`` — as ``flip`` but every bool forced true / false.

The one leaf that cannot differ: ``engine.signal_on_candle_close`` (false is a load error, D30).
"""
from __future__ import annotations

import random
from collections.abc import Iterator

from harness.paths import set_path
from harness.schema import Axis, Schema, load_schema

PROFILES = ("flip", "parents_on", "parents_off")
DATA_SYMBOLS = ("BTC", "ETH", "SOL", "kPEPE")  # kPEPE is reached through the upper-case key KPEPE
OVERLAY_SYMBOL_KEYS = ("BTC", "ETH", "KPEPE", "DOGE")  # DOGE: a key without data (still validated, D48)
ENGINE_NON_DEFAULT = {
    "engine.interval": "30m",
    "engine.entry_interval": "5m",
    "engine.exit_interval": "3m",
    "engine.loop_target_s": 45.0,
    "engine.heartbeat_every_s": 20.0,
    "engine.candle_close_grace_ms": 1500,
    "engine.signal_on_candle_close": True,
    "trade.use_bbo_for_fills": False,
    "watchlist_exclude": ["DOGE", "pepe"],
}


def _grid(axis_codes: str) -> list[float]:
    return [float(v) for v in axis_codes.split("|") if v]


def non_default_value(axis: Axis, grid: list[float], rng: random.Random, profile: str = "flip") -> object:
    """A valid native value of ``axis`` different from its default (bools per profile)."""
    if axis.path in ENGINE_NON_DEFAULT:
        return ENGINE_NON_DEFAULT[axis.path]
    if axis.kind == "bool":
        return {"flip": not axis.default, "parents_on": True, "parents_off": False}[profile]
    if axis.kind == "enum":
        names = [n for n in axis.enum_values if n != axis.default]
        return rng.choice(names)
    choices = [g for g in grid if g != float(axis.default)]  # type: ignore[arg-type]
    if axis.kind == "int":
        return int(rng.choice(choices))
    if rng.random() < 0.5:
        return rng.choice(choices)
    lo, hi = min(grid), max(grid)
    while True:
        x = rng.uniform(lo, hi)
        if x != axis.default and axis.range.contains(x):
            return x


def _overlay(schema: Schema, grids: dict[str, list[float]], rng: random.Random, k: int,
             profile: str, allow_portfolio: bool) -> dict:
    """A partial strategy document of ``k`` random swept leaves, some of them ``null``."""
    pool = [a for a in schema.swept
            if (allow_portfolio or not a.portfolio_scope)
            and a.path not in ("trade.vol_scalar_min", "trade.vol_scalar_max",
                               "trade.reentry_cooldown_min_mins", "trade.reentry_cooldown_max_mins")]
    doc: dict = {}
    for axis in rng.sample(pool, k):
        value = None if rng.random() < 0.15 else non_default_value(axis, grids[axis.path], rng, profile)
        set_path(doc, axis.path, value)
    return doc


def sweep_grids(schema: Schema | None = None) -> dict[str, list[float]]:
    """Grid of every swept axis, read from ``sweeps/full_144v.yaml``."""
    from harness.sweep_spec import load_sweep_spec  # local: avoids a cycle at import time

    schema = schema or load_schema()
    spec = load_sweep_spec(schema.path.parents[1] / "sweeps" / "full_144v.yaml", schema)
    return {a.path: list(a.values) for a in spec.axes}


def all_non_default_doc(seed: int, profile: str = "flip", schema: Schema | None = None,
                        grids: dict[str, list[float]] | None = None, overlays: bool = True) -> dict:
    """One seeded all-non-default YAML document (see module docstring)."""
    if profile not in PROFILES:
        raise ValueError(f"profile must be one of {PROFILES}, got {profile!r}")
    schema = schema or load_schema()
    grids = grids if grids is not None else sweep_grids(schema)
    rng = random.Random(seed)
    glob: dict = {}
    for axis in schema.axes:
        set_path(glob, axis.path, non_default_value(axis, grids.get(axis.path, []), rng, profile))
    doc: dict = {"global": glob}
    if not overlays:
        return doc
    doc["symbols"] = {key: _overlay(schema, grids, rng, rng.randint(1, 12), profile, False)
                      for key in OVERLAY_SYMBOL_KEYS}
    live_global = _overlay(schema, grids, rng, rng.randint(1, 6), profile, True)
    if rng.random() < 0.5:
        doc["live"] = live_global
    else:
        doc["live"] = {"global": live_global,
                       "symbols": {"ETH": _overlay(schema, grids, rng, 3, profile, False)}}
    primary = _overlay(schema, grids, rng, rng.randint(1, 6), profile, True)
    set_path(primary, "engine.interval", "1h")
    doc["modes"] = {
        "primary": primary,
        "fallback": {"global": _overlay(schema, grids, rng, 4, profile, True),
                     "symbols": {"SOL": _overlay(schema, grids, rng, 4, profile, False)}},
        "flat": None,
    }
    return doc


def iter_generated(n: int, seed: int = 0, schema: Schema | None = None) -> Iterator[tuple[str, dict]]:
    """``n`` documents cycling through the profiles: ``(name, doc)``."""
    schema = schema or load_schema()
    grids = sweep_grids(schema)
    for i in range(n):
        profile = PROFILES[i % len(PROFILES)]
        yield f"gen-{seed}-{i:04d}-{profile}", all_non_default_doc(seed * 100003 + i, profile, schema, grids)
