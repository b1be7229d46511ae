"""Build ``config/schema.csv`` (the one source of names, kinds and defaults) from the shared spec.

Run once when ``../shared/spec/axes.csv`` changes::

    python3 tools/build_schema.py ../shared/spec/axes.csv config/schema.csv

The committed ``config/schema.csv`` is the single source of truth afterwards; ``tests/harness/
test_schema.py`` checks that it still matches the spec's axes.csv (path, kind, enum names, default,
swept, scope) whenever ``../shared`` is present.

Columns added here (not in axes.csv):

* ``unit`` — what a number means (``ATR``, ``bps``, ``fraction`` ...), for reports and docs.
* ``range`` — the validity interval of the value (DECISIONS.md D32, D42, D52, D53 items 8-10), in
  interval notation ``[lo,hi]`` / ``(lo,hi)`` with ``inf``; empty = any finite value. Both loaders
  read it as data and check it with their own code. docs/spec-notes.md N1 records the classification.
* ``portfolio_scope`` — ``yes`` for the keys read only from the portfolio config (D27).
"""
from __future__ import annotations

import csv
import re
import sys
from pathlib import Path

PORTFOLIO_KEYS = {
    "trade.max_open_positions",
    "trade.max_entry_orders_per_loop",
    "trade.max_total_margin_pct",
    "watchlist_exclude",
}

# Floats that are fractions (D53.8: "*_pct used as a fraction", tp_partial_pct, allocation_pct,
# max_total_margin_pct) -> [0, 1].
FRACTION_KEYS = {
    "trade.allocation_pct",
    "trade.max_total_margin_pct",
    "trade.tp_partial_pct",
    "trade.min_atr_pct",
    "trade.vol_baseline_pct",
    "trade.glitch_price_dev_pct",
    "thresholds.anomaly.price_change_pct_gt",
    "thresholds.anomaly.ema_fast_dev_pct_gt",
    "thresholds.entry.max_dist_ema_fast",
    "thresholds.entry.slow_drift_min_slope_pct",
    "market_regime.regime_gate_btc_atr_pct_min",
}
# Floats > 0 (divisors: D32 adx_sizing_full_adx, D42 leverage keys).
POSITIVE_KEYS = {
    "trade.adx_sizing_full_adx",
    "trade.leverage",
    "trade.leverage_low",
    "trade.leverage_medium",
    "trade.leverage_high",
}
# Floats with no sign rule: RSI / StochRSI / breadth levels (not sizes, distances or ATR/ADX
# thresholds), leverage_max_cap (<= 0 means "no cap", D42), live-loop pacing.
FREE_FLOAT_KEYS = {
    "market_regime.auto_reverse_breadth_high",
    "market_regime.auto_reverse_breadth_low",
    "market_regime.breadth_block_long_below",
    "market_regime.breadth_block_short_above",
    "market_regime.regime_gate_breadth_high",
    "market_regime.regime_gate_breadth_low",
    "thresholds.entry.pullback_rsi_long_min",
    "thresholds.entry.pullback_rsi_short_max",
    "thresholds.entry.slow_drift_rsi_long_min",
    "thresholds.entry.slow_drift_rsi_short_max",
    "thresholds.ranging.rsi_high",
    "thresholds.ranging.rsi_low",
    "thresholds.stoch_rsi.block_long_if_k_gt",
    "thresholds.stoch_rsi.block_short_if_k_lt",
    "thresholds.tp_and_momentum.rsi_long_strong",
    "thresholds.tp_and_momentum.rsi_long_weak",
    "thresholds.tp_and_momentum.rsi_short_strong",
    "thresholds.tp_and_momentum.rsi_short_weak",
    "trade.reef_long_rsi_block_gt",
    "trade.reef_long_rsi_extreme_gt",
    "trade.reef_short_rsi_block_lt",
    "trade.reef_short_rsi_extreme_lt",
    "trade.rsi_exit_lb_hi_profit",
    "trade.rsi_exit_lb_lo_profit",
    "trade.rsi_exit_ub_hi_profit",
    "trade.rsi_exit_ub_lo_profit",
    "trade.leverage_max_cap",
}
WINDOW_KEYS_EXTRA = {"thresholds.entry.ave_avg_atr_window", "thresholds.entry.slow_drift_slope_window"}
COUNT_KEYS = {
    "trade.max_open_positions",
    "trade.max_entry_orders_per_loop",
    "trade.max_adds_per_symbol",
    "thresholds.ranging.min_signals",
}
COOLDOWN_KEYS = {
    "trade.entry_cooldown_s",
    "trade.exit_cooldown_s",
    "trade.add_cooldown_minutes",
    "trade.reentry_cooldown_minutes",
    "trade.reentry_cooldown_min_mins",
    "trade.reentry_cooldown_max_mins",
}


def value_range(path: str, kind: str) -> str:
    """Validity interval of one leaf (empty = any finite value; bool/enum/str have none)."""
    if kind == "int":
        if path == "indicators.adx_window":
            return "[2,10000]"  # D53.10
        if path.startswith("indicators.") or path in WINDOW_KEYS_EXTRA:
            return "[1,10000]"  # D32 windows >= 1, D53.9 windows <= 10000
        if path in COUNT_KEYS:
            return "[0,10000]"  # D53.9 counts
        if path in COOLDOWN_KEYS:
            return "[0,1000000000]"  # D53.9 cooldowns
        return "[0,inf)"  # D32: every other int >= 0
    if kind != "float":
        return ""
    if path == "trade.slippage_bps":
        return "[0,10000)"  # D42
    if path == "trade.adx_sizing_min_mult":
        return "[0,1]"  # D32 <= 1, D53.8 multipliers >= 0
    if path in FRACTION_KEYS:
        return "[0,1]"
    if path in POSITIVE_KEYS:
        return "(0,inf)"
    if path in FREE_FLOAT_KEYS or path.startswith("engine."):
        return ""
    return "[0,inf)"  # D53.8 sizes, multipliers, distances, notionals, ATR/ADX thresholds


def unit(path: str, kind: str) -> str:
    """Unit of a leaf, from its name (reports put it in brackets)."""
    leaf = path.rsplit(".", 1)[-1]
    if kind in ("bool", "enum"):
        return ""
    rules = [
        (r"_window$|_smooth[12]$", "bars"),
        (r"_bps$", "bps"),
        (r"_usd$", "USD"),
        (r"_ms$", "ms"),
        (r"(_s|_every_s|_target_s)$", "s"),
        (r"_minutes$|_mins$", "min"),
        (r"^leverage", "x"),
        (r"_pct|^max_dist_ema_fast$", "fraction"),
        (r"breadth", "% of universe"),
        (r"^block_(long|short)_if_k", "StochRSI [0-1]"),
        (r"profit_atr", "ATR"),
        (r"rsi", "RSI"),
        (r"_ratio", "x"),
        (r"_atr_mult$|_atr$|_atr_low_conf$", "ATR"),
        (r"_mult$|_mult_|scalar|_fraction", "x"),
        (r"adx", "ADX"),
        (r"^max_|^min_signals$", "count"),
        (r"interval$", "interval"),
    ]
    for pattern, name in rules:
        if re.search(pattern, leaf):
            return name
    return ""


def build(src: Path, dst: Path) -> int:
    rows = list(csv.DictReader(src.open(newline="")))
    fields = ["path", "kind", "enum_values", "default", "unit", "range", "swept", "scope",
              "portfolio_scope", "used_by", "effect"]
    tmp = dst.with_suffix(".tmp")
    with tmp.open("w", newline="") as fh:
        out = csv.DictWriter(fh, fieldnames=fields, lineterminator="\n")
        out.writeheader()
        for r in rows:
            path, kind = r["path"], r["kind"]
            portfolio = path in PORTFOLIO_KEYS or path.startswith("engine.")
            out.writerow({
                "path": path, "kind": kind, "enum_values": r["enum_values"], "default": r["default"],
                "unit": unit(path, kind), "range": value_range(path, kind), "swept": r["swept"],
                "scope": r["scope"], "portfolio_scope": "yes" if portfolio else "no",
                "used_by": r["used_by"], "effect": r["effect"],
            })
    tmp.replace(dst)
    return len(rows)


def build_full_sweep(src: Path, dst: Path) -> int:
    """Write sweeps/full_144v.yaml: every swept axis with its axes.csv grid."""
    rows = [r for r in csv.DictReader(src.open(newline="")) if r["swept"] == "yes"]
    lines = [
        "# full_144v — every swept axis of Mei Alpha v1 (148 = the 142 axes of the original full_144v",
        "# sweep + the six market_regime regime-gate keys, DECISIONS.md D9/D31), with the grids of",
        "# ../shared/spec/axes.csv (`sweep_values`), unchanged. Values are binary64 numbers decoded by the",
        "# one decoder of D29: bool 0/1, enum codes 0/1/2 in enum_values order, ints integral.",
        "# Generated by tools/build_schema.py; do not edit by hand.",
        "initial_balance: 10000.0",
        "lookback: 200",
        "axes:",
    ]
    for r in rows:
        vals = ", ".join(v for v in r["sweep_values"].split("|"))
        lines.append(f"  - {{path: {r['path']}, values: [{vals}]}}")
    tmp = dst.with_suffix(".tmp")
    tmp.write_text("\n".join(lines) + "\n")
    tmp.replace(dst)
    return len(rows)


if __name__ == "__main__":
    src = Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/spec/axes.csv")
    dst = Path(sys.argv[2] if len(sys.argv) > 2 else "config/schema.csv")
    n = build(src, dst)
    m = build_full_sweep(src, dst.parent.parent / "sweeps" / "full_144v.yaml")
    print(f"wrote {dst} ({n} leaves) and sweeps/full_144v.yaml ({m} axes)")
