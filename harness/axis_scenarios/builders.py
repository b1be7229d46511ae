"""Market builders for axis scenarios: hand-built candle tables and cached synthetic slices.

Times are ms; a hand-built bar list is ``(o, h, l, c, v)`` tuples at consecutive open times
``start_ms + k * interval_ms``. Synthetic slices come from the project's seeded generator and are
cached per arguments (scenarios share them; arrays are read-only).
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import lru_cache

import numpy as np

from harness.data import interval_ms, synth_market
from harness.engine_inputs import EngineInputs, engine_inputs

START_MS = 1_704_067_200_000  # 2024-01-01T00:00Z, a multiple of every interval used here
Bar = tuple[float, float, float, float, float]


def series(bars: Sequence[Bar], start_ms: int = START_MS, interval: str = "1h") -> dict[str, np.ndarray]:
    """Arrays ``t o h l c v`` of one hand-built series."""
    step = interval_ms(interval)
    arr = np.asarray(bars, dtype=np.float64).reshape(-1, 5)
    return {"t": start_ms + step * np.arange(len(arr), dtype=np.int64), "o": arr[:, 0], "h": arr[:, 1],
            "l": arr[:, 2], "c": arr[:, 3], "v": arr[:, 4]}


def from_closes(closes: Sequence[float], volume: float = 1000.0, wick_pct: float = 0.001) -> list[Bar]:
    """Bars whose open is the previous close and whose wicks are ``wick_pct`` beyond the body."""
    bars, prev = [], closes[0]
    for c in closes:
        o = prev
        bars.append((o, max(o, c) * (1 + wick_pct), min(o, c) * (1 - wick_pct), c, volume))
        prev = c
    return bars


def hand_market(main: Mapping[str, Sequence[Bar]], sub: Mapping[str, Mapping[str, Sequence[Bar]]] | None = None,
                start_ms: int = START_MS, main_interval: str = "1h") -> EngineInputs:
    """EngineInputs from hand-built tables: ``main[sym]`` bars, ``sub[interval][sym]`` sub-bars."""
    subs = {interval_ms(i): {s: series(b, start_ms, i) for s, b in per.items()}
            for i, per in (sub or {}).items()}
    return EngineInputs({s: series(b, start_ms, main_interval) for s, b in main.items()}, subs, None)


@lru_cache(maxsize=32)
def synthetic(n_symbols: int = 4, days: int = 60, seed: int = 7, sub_intervals: tuple[str, ...] = (),
              funding: bool = False) -> EngineInputs:
    """A seeded synthetic slice (cached)."""
    md = synth_market(n_symbols=n_symbols, days=days, seed=seed, sub_intervals=sub_intervals, funding=funding)
    return engine_inputs(md, sub_intervals, funding=funding)
