"""Markdown for ``causality.md``: truncation invariance (D3), indicator lookahead and recursive warm-up.

Pure functions: audit rows (``harness.audits``) in, text out. One column spec per table drives the
tabulate headers and the cell formats (STYLE.md 12).
"""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timezone

from tabulate import tabulate

from harness.audits.causality import CutResult, IndicatorCut, Violation
from harness.audits.warmup import REL_TOL, SpotCheck, WarmupRow

Column = tuple[str, Callable[[object], object]]
TOL = f"{REL_TOL:.0e}".replace("e-0", "e-")   # "1e-9"


def utc(ms: int) -> str:
    """``2024-01-01 00:00:00.000`` (UTC) of an epoch-ms time."""
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


def violation_text(v: Violation | None) -> str:
    """``OK`` or ``✗ record #12 `price`: full 1.0 ≠ cut 1.0000000000000002 (τ 2024-…)``."""
    if v is None:
        return "OK"
    return (f"✗ {v.what} #{v.index} `{v.field}`: full {v.full_value!r} ≠ cut {v.cut_value!r} "
            f"(τ {utc(v.at_ms)})")


def bars_text(bars: int | None, horizon: int) -> str:
    return f"never within {horizon} bars" if bars is None else str(bars)


CUT_COLUMNS: list[Column] = [
    ("case", lambda r: r.case),
    ("cut τ [UTC]", lambda r: utc(r.tau_ms)),
    ("cut τ [ms]", lambda r: r.tau_ms),
    ("kind", lambda r: r.kind),
    ("records compared", lambda r: r.records),
    ("own liquidations", lambda r: r.liquidations),
    ("equity samples", lambda r: r.equity_samples),
    ("first violation", lambda r: violation_text(r.violation)),
]

WARMUP_COLUMNS: list[Column] = [
    ("indicator", lambda r: r.indicator),
    ("window(s) [bars]", lambda r: r.windows),
    (f"bars to {TOL} rel", lambda r: bars_text(r.bars_rel, r.horizon_bars)),
    ("bars to exact", lambda r: bars_text(r.bars_exact, r.horizon_bars)),
    ("worst (exact) at", lambda r: r.worst_at),
]

SPOT_COLUMNS: list[Column] = [
    ("set", lambda r: r.set_name),
    ("indicator", lambda r: r.indicator),
    ("symbol, start", lambda r: f"{r.symbol} S={r.start_bars}"),
    (f"gpu_sim (to {TOL} / exact)", lambda r: " / ".join(bars_text(b, 0) for b in r.sim)),
    (f"engine_ref (to {TOL} / exact)", lambda r: " / ".join(bars_text(b, 0) for b in r.ref)),
    ("agree", lambda r: "✓" if r.agree else "✗"),
]


def table(rows: Sequence[object], columns: Sequence[Column]) -> str:
    return tabulate([[get(r) for _, get in columns] for r in rows], [h for h, _ in columns],
                    tablefmt="github", disable_numparse=True)


def indicator_rows(cuts: Sequence[IndicatorCut]) -> list[list[object]]:
    """One row per (set, symbol): cut bars, rows compared, first violation."""
    groups: dict[tuple[str, str], list[IndicatorCut]] = {}
    for c in cuts:
        groups.setdefault((c.set_name, c.symbol), []).append(c)
    rows = []
    for (set_name, sym), cs in groups.items():
        bad = [c for c in cs if not c.ok]
        rows.append([set_name, sym, ", ".join(str(c.cut_bar) for c in cs), sum(c.rows for c in cs),
                     violation_text(bad[0].violation) if bad else "OK"])
    return rows


def worst_warmup(rows: Sequence[WarmupRow]) -> WarmupRow | None:
    """The row needing the most bars to 1e-9 (never = worst)."""
    worst = None
    for r in rows:
        if worst is None or (worst.bars_rel is not None and (r.bars_rel is None or r.bars_rel > worst.bars_rel)):
            worst = r
    return worst


def summary_line(cuts: Sequence[CutResult], indicator_cuts: Sequence[IndicatorCut],
                 warmup: Sequence[WarmupRow]) -> str:
    """``causality: <N> cuts, <V> violations; warm-up: <max bars> bars to 1e-9 (worst: <indicator>)``;
    cuts and violations count the run-level and the indicator-level cuts together."""
    n = len(cuts) + len(indicator_cuts)
    v = sum(not c.ok for c in cuts) + sum(not c.ok for c in indicator_cuts)
    w = worst_warmup(warmup)
    if w is None:
        return f"causality: {n} cuts, {v} violations; warm-up: not run"
    bars = f"never within {w.horizon_bars}" if w.bars_rel is None else str(w.bars_rel)
    return (f"causality: {n} cuts, {v} violations; warm-up: {bars} bars to {TOL} "
            f"(worst: {w.indicator}, {w.windows})")


def render_causality_md(cuts: Sequence[CutResult], indicator_cuts: Sequence[IndicatorCut],
                        warmup: Sequence[WarmupRow], spot: Sequence[SpotCheck] = (),
                        meta: Mapping[str, object] | None = None) -> str:
    """The whole ``causality.md``."""
    meta = meta or {}
    n_bad = sum(not c.ok for c in cuts)
    parts = ["# Causality and recursive warm-up audit", "", f"**{summary_line(cuts, indicator_cuts, warmup)}**", ""]
    parts += [f"- {k}: {v}" for k, v in meta.items()] + ([""] if meta else [])
    parts += [
        "## 1. Truncation invariance (DECISIONS.md D3, D38)", "",
        "For each cut τ the run with `to_ts = τ` must reproduce the full run's records stamped ≤ τ "
        "(same order, floats bit-identical), followed only by its own `End of Backtest` liquidations "
        f"stamped ≤ τ; equity samples at main closes ≤ τ identical. {len(cuts)} cuts, {n_bad} violations.", "",
        table(cuts, CUT_COLUMNS), "",
        "## 2. Indicator lookahead (gpu_sim precompute, D21)", "",
        "Rows `0..k` of `ind` computed from the data truncated at bar k must be bit-identical to the "
        f"full-data rows. {len(indicator_cuts)} cuts, {sum(not c.ok for c in indicator_cuts)} violations.", "",
        tabulate(indicator_rows(indicator_cuts), ["window set", "symbol", "cut bars k", "rows compared",
                                                  "first violation"], tablefmt="github", disable_numparse=True), "",
        "## 3. Recursive warm-up: bars after a later history start until values match", "",
        "Bars after the later start S until every field of the indicator equals the full-history value "
        f"from then on: exactly (binary64) and within {TOL} relative (`|a − b| ≤ {TOL}·max(|a|, |b|)`"
        ", the number a live engine starting from a shorter history needs). Worst over symbols and starts.", "",
    ]
    for set_name in dict.fromkeys(r.set_name for r in warmup):
        rows = [r for r in warmup if r.set_name == set_name]
        parts += [f"### {set_name} (starts S = {', '.join(map(str, rows[0].starts))})", "",
                  table(rows, WARMUP_COLUMNS), ""]
    if spot:
        parts += ["## 4. Spot check: engine_ref `SymbolIndicators` recount", "", table(spot, SPOT_COLUMNS), ""]
    return "\n".join(parts)
