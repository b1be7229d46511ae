"""Recursive-warm-up audit: how many bars after a later history start until indicators agree.

Indicators are computed over each symbol's full history from its first bar (DECISIONS.md D21); a
live engine starts from a shorter history. For each indicator of strategy-entries.md §2 and a
window set (the defaults, the largest grid windows of a sweep spec), this module computes the
snapshot fields from the full history and from the same series starting ``S`` bars later, and
counts the bars after the later start until every field of the indicator matches the full-history
value from then on (a suffix, to the end of the data):

* **exact**: bit-identical (binary64 pattern);
* **1e-9**: ``|late − full| ≤ 1e-9 × max(|late|, |full|)`` (exact equality included) — the number
  a live engine needs before its values are as good as the backtest's.

``None`` means "never within the bars available after the start" (the last bar still differs).
The precompute is gpu_sim's (``gpu_sim.indicator_sets.compute_indicators``, bit-identical to
engine_ref's); every variant of every symbol is one row of one call. ``ref_spot_check`` recounts
one (symbol, start) with engine_ref's ``SymbolIndicators`` (an independent implementation).
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from gpu_sim.ind_fields import FIELDS, WINDOW_PATHS
from gpu_sim.indicator_sets import compute_indicators
from gpu_sim.market_arrays import BarArrays, pack_bars
from harness.engine_inputs import EngineInputs
from harness.errors import DataError
from harness.schema import REPO_ROOT, load_schema
from harness.sweep_spec import load_sweep_spec

STOCH_FLAG = "filters.use_stoch_rsi_filter"
FULL_SWEEP = REPO_ROOT / "sweeps" / "full_144v.yaml"
REL_TOL = 1e-9
DEFAULT_STARTS = (0, 50, 100, 200, 500, 1000)

# indicator, snapshot fields (ind_fields.FIELDS names), window paths it depends on (§2.1-§2.11).
INDICATORS: tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...] = (
    ("EMA fast", ("ema_fast", "prev_ema_fast"), ("indicators.ema_fast_window",)),
    ("EMA slow", ("ema_slow", "prev_ema_slow"), ("indicators.ema_slow_window",)),
    ("EMA macro", ("ema_macro",), ("indicators.ema_macro_window",)),
    ("EMA-slow slope", ("ema_slow_slope_pct",),
     ("indicators.ema_slow_window", "thresholds.entry.slow_drift_slope_window")),
    ("ADX / +DI / -DI", ("adx", "adx_pos", "adx_neg", "adx_slope"), ("indicators.adx_window",)),
    ("ATR", ("atr", "atr_slope"), ("indicators.atr_window",)),
    ("avg ATR (AVE)", ("avg_atr",), ("indicators.atr_window", "thresholds.entry.ave_avg_atr_window")),
    ("RSI", ("rsi",), ("indicators.rsi_window",)),
    ("StochRSI %K / %D", ("stoch_k", "stoch_d"),
     ("indicators.rsi_window", "indicators.stoch_rsi_window", "indicators.stoch_rsi_smooth1",
      "indicators.stoch_rsi_smooth2")),
    ("MACD histogram (12/26/9)", ("macd_hist", "prev_macd_hist", "prev2_macd_hist", "prev3_macd_hist"), ()),
    ("Bollinger bands / width", ("bb_upper", "bb_lower", "bb_width"), ("indicators.bb_window",)),
    ("BB width avg / ratio", ("bb_width_avg", "bb_width_ratio"),
     ("indicators.bb_window", "indicators.bb_width_avg_window")),
    ("volume SMA / trend", ("vol_sma", "vol_trend", "prev_vol_sma", "prev_vol_trend"),
     ("indicators.vol_sma_window", "indicators.vol_trend_window")),
)
_COL = {f: i for i, f in enumerate(FIELDS)}


@dataclass(frozen=True)
class WindowSet:
    """A named indicator-window tuple: ``windows[path]`` for every ``ind_fields.WINDOW_PATHS`` entry."""

    name: str
    windows: Mapping[str, int]

    def row(self) -> np.ndarray:
        """int64 ``(N_WINDOWS,)`` in WINDOW_PATHS order (gpu_sim's ``win`` row)."""
        return np.array([int(self.windows[p]) for p in WINDOW_PATHS], dtype=np.int64)

    def text(self, paths: Iterable[str]) -> str:
        """``ema_slow=50, slow_drift_slope=20`` for the given paths (short names, in bars)."""
        return ", ".join(f"{p.rsplit('.', 1)[1].removesuffix('_window')}={int(self.windows[p])}" for p in paths)


def default_windows() -> WindowSet:
    """The schema defaults (config/schema.csv), StochRSI on (its default)."""
    d = load_schema().defaults()
    return WindowSet("default", {p: (1 if p == STOCH_FLAG else int(d[p])) for p in WINDOW_PATHS})


def largest_grid_windows(spec_path: str | Path = FULL_SWEEP) -> WindowSet:
    """The defaults with every swept window at its largest grid value in ``spec_path``; StochRSI on."""
    base = dict(default_windows().windows)
    for axis in load_sweep_spec(spec_path).axes:
        if axis.path in base and axis.path != STOCH_FLAG:
            base[axis.path] = int(max(axis.values))
    return WindowSet(f"largest grid ({Path(spec_path).stem})", base)


def pack_variants(series: Mapping[str, Mapping[str, np.ndarray]]) -> tuple[BarArrays, dict[str, int]]:
    """Pack named bar series (``{name: {t, o, h, l, c, v}}``) as rows of one BarArrays; name → row."""
    bars = pack_bars(series)
    return bars, {name: i for i, name in enumerate(bars.symbols)}


def indicator_table(sets: Sequence[WindowSet], bars: BarArrays, compute=compute_indicators) -> np.ndarray:
    """``ind[set, row, bar, field]`` of every window set over every row of ``bars``."""
    return compute(np.stack([s.row() for s in sets]), bars)


def _suffix_start(bad: np.ndarray) -> int | None:
    """Bars until ``bad`` (bool per bar) is false for good: last bad index + 1; None if the last is bad."""
    idx = np.flatnonzero(bad)
    if idx.size == 0:
        return 0
    return None if idx[-1] == bad.size - 1 else int(idx[-1]) + 1


def convergence(late: np.ndarray, full: np.ndarray, fields: Sequence[str]) -> tuple[int | None, int | None]:
    """(bars to 1e-9, bars to exact) of ``fields`` for aligned ``late``/``full`` ``(n_bars, N_FIELDS)``."""
    cols = [_COL[f] for f in fields]
    a, b = late[:, cols], full[:, cols]
    exact_bad = (a.view(np.int64) != b.view(np.int64)).any(axis=1)
    with np.errstate(invalid="ignore"):
        rel_bad = (np.abs(a - b) > REL_TOL * np.maximum(np.abs(a), np.abs(b))).any(axis=1)
    return _suffix_start(rel_bad), _suffix_start(exact_bad)


@dataclass(frozen=True)
class WarmupDetail:
    """One (window set, indicator, symbol, later start ``start_bars``) measurement; ``horizon_bars`` =
    bars available after the later start; ``None`` = never within the horizon."""

    set_name: str
    indicator: str
    symbol: str
    start_bars: int
    horizon_bars: int
    bars_rel: int | None
    bars_exact: int | None


@dataclass(frozen=True)
class WarmupRow:
    """Worst case of an indicator over symbols and starts, for one window set."""

    set_name: str
    indicator: str
    windows: str
    bars_rel: int | None
    bars_exact: int | None
    worst_at: str
    starts: tuple[int, ...]
    horizon_bars: int


def _variants(inputs: EngineInputs, starts: Sequence[int]) -> dict[str, Mapping[str, np.ndarray]]:
    out = {}
    for sym, arrs in inputs.main.items():
        n = len(arrs["t"])
        for s in starts:
            if not 0 <= s < n:
                raise DataError(f"warm-up audit: start {s} bars is outside {sym}'s {n} bars; "
                                f"fix: use starts in [0, {n - 1}] or a longer synthetic history")
            out[f"{sym}@{s:08d}"] = {f: a[s:] for f, a in arrs.items()}
    return out


def warmup_details(inputs: EngineInputs, sets: Sequence[WindowSet],
                   starts: Sequence[int] = DEFAULT_STARTS) -> list[WarmupDetail]:
    """Every (set, indicator, symbol, start) measurement (start 0 is the full history itself)."""
    starts = sorted(set(int(s) for s in starts) | {0})
    bars, row = pack_variants(_variants(inputs, starts))
    ind = indicator_table(sets, bars)
    out: list[WarmupDetail] = []
    for si, ws in enumerate(sets):
        for sym in sorted(inputs.main):
            full = ind[si, row[f"{sym}@{0:08d}"]]
            n = len(inputs.main[sym]["t"])
            for s in starts:
                late = ind[si, row[f"{sym}@{s:08d}"], :n - s]
                for name, fields, _ in INDICATORS:
                    rel, exact = convergence(late, full[s:n], fields)
                    out.append(WarmupDetail(ws.name, name, sym, s, n - s, rel, exact))
    return out


def _worse(a: int | None, b: int | None) -> bool:
    """``a`` needs more bars than ``b`` (None = never = worst)."""
    return b is not None and (a is None or a > b)


def summarise(details: Sequence[WarmupDetail], sets: Sequence[WindowSet]) -> list[WarmupRow]:
    """Worst case per (set, indicator) over symbols and starts > 0 (start 0 is the sanity row)."""
    rows = []
    for ws in sets:
        for name, _, paths in INDICATORS:
            mine = [d for d in details if d.set_name == ws.name and d.indicator == name and d.start_bars > 0]
            if not mine:
                continue
            worst_rel = worst_exact = mine[0]
            for d in mine[1:]:
                worst_rel = d if _worse(d.bars_rel, worst_rel.bars_rel) else worst_rel
                worst_exact = d if _worse(d.bars_exact, worst_exact.bars_exact) else worst_exact
            rows.append(WarmupRow(ws.name, name, ws.text(paths) or "12/26/9 (fixed)", worst_rel.bars_rel,
                                  worst_exact.bars_exact, f"{worst_exact.symbol} S={worst_exact.start_bars}",
                                  tuple(sorted({d.start_bars for d in mine})), min(d.horizon_bars for d in mine)))
    return rows


def warmup_audit(inputs: EngineInputs, sets: Sequence[WindowSet] | None = None,
                 starts: Sequence[int] = DEFAULT_STARTS) -> list[WarmupRow]:
    """Worst-case warm-up rows for ``sets`` (default: defaults and the largest full_144v windows)."""
    sets = list(sets) if sets is not None else [default_windows(), largest_grid_windows()]
    return summarise(warmup_details(inputs, sets, starts), sets)


@dataclass(frozen=True)
class SpotCheck:
    """gpu_sim's and engine_ref's bar counts for one (set, indicator, symbol, start)."""

    set_name: str
    indicator: str
    symbol: str
    start_bars: int
    sim: tuple[int | None, int | None]
    ref: tuple[int | None, int | None]

    @property
    def agree(self) -> bool:
        return self.sim == self.ref


def ref_indicator_rows(arrs: Mapping[str, np.ndarray], ws: WindowSet) -> np.ndarray:
    """engine_ref's snapshots of one series as ``(n_bars, N_FIELDS)`` float64 in FIELDS order."""
    from engine_ref.indicators import IndicatorParams, SymbolIndicators

    params = IndicatorParams(**{p.rsplit(".", 1)[1]: (bool(v) if p == STOCH_FLAG else int(v))
                                for p, v in ws.windows.items()})
    ind = SymbolIndicators(params)
    n = len(arrs["t"])
    out = np.empty((n, len(FIELDS)), dtype=np.float64)
    for k in range(n):
        snap = ind.update(t=int(arrs["t"][k]), o=arrs["o"][k], h=arrs["h"][k], l=arrs["l"][k],
                          c=arrs["c"][k], v=arrs["v"][k])
        out[k] = [float(getattr(snap, f)) for f in FIELDS]
    return out


def ref_spot_check(inputs: EngineInputs, ws: WindowSet, symbol: str, start: int) -> list[SpotCheck]:
    """Recount every indicator of ``symbol`` at ``start`` with engine_ref and pair it with gpu_sim's."""
    sim = {d.indicator: (d.bars_rel, d.bars_exact)
           for d in warmup_details(inputs, [ws], (start,)) if d.symbol == symbol and d.start_bars == start}
    arrs = inputs.main[symbol]
    full = ref_indicator_rows(arrs, ws)
    late = ref_indicator_rows({f: a[start:] for f, a in arrs.items()}, ws)
    return [SpotCheck(ws.name, name, symbol, start, sim[name], convergence(late, full[start:], fields))
            for name, fields, _ in INDICATORS]
