"""Hand market data to an engine as plain arrays (the only market input the engines share).

Shape convention (both engines): ``main[symbol] = {"t", "o", "h", "l", "c", "v"}`` with ``t`` the
int64 open times in ms and float64 prices/volumes; ``sub_bars[interval_ms][symbol]`` the same for
a sub-bar series; ``funding[symbol] = (times_ms int64, hourly_rate float64)``. Arrays are the
validated, read-only numpy arrays of :class:`harness.data.MarketData`; nothing is copied.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from harness.data import MarketData, Series, interval_ms

BAR_FIELDS = ("t", "o", "h", "l", "c", "v")


@dataclass(frozen=True)
class EngineInputs:
    """What an engine run receives besides configs and run parameters."""

    main: dict[str, dict[str, np.ndarray]]
    sub_bars: dict[int, dict[str, dict[str, np.ndarray]]]
    funding: dict[str, tuple[np.ndarray, np.ndarray]] | None


def series_arrays(s: Series) -> dict[str, np.ndarray]:
    return {f: getattr(s, f) for f in BAR_FIELDS}


def engine_inputs(md: MarketData, sub_intervals: Iterable[str] = (), funding: bool = True,
                  symbols: Iterable[str] | None = None) -> EngineInputs:
    """Select main bars, the requested sub-bar series (by interval length) and funding."""
    keep = set(symbols) if symbols is not None else set(md.main)
    main = {sym: series_arrays(s) for sym, s in md.main.items() if sym in keep}
    wanted = {interval_ms(i) for i in sub_intervals}
    sub: dict[int, dict[str, dict[str, np.ndarray]]] = {}
    for name, per_symbol in md.sub.items():
        ms = interval_ms(name)
        if ms in wanted:
            sub[ms] = {sym: series_arrays(s) for sym, s in per_symbol.items() if sym in keep}
    fund = ({sym: rows for sym, rows in md.funding.items() if sym in keep}
            if funding and md.funding else None)
    return EngineInputs(main, sub, fund)


def slice_inputs(inputs: EngineInputs, n_main_bars: int) -> EngineInputs:
    """The first ``n_main_bars`` of every symbol (sub-bars and funding up to that time)."""
    main = {s: {f: a[:n_main_bars] for f, a in arrs.items()} for s, arrs in inputs.main.items()}
    end = max(int(a["t"][-1]) for a in main.values() if len(a["t"])) if main else 0
    sub = {ms: {s: {f: a[np.asarray(arrs["t"]) <= end] for f, a in arrs.items()}
                for s, arrs in per.items()} for ms, per in inputs.sub_bars.items()}
    fund = None if inputs.funding is None else {
        s: (t[t <= end], r[t <= end]) for s, (t, r) in inputs.funding.items()}
    return EngineInputs(main, sub, fund)
