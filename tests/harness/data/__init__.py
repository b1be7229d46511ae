"""Tests of the market-data layer (harness/data). Shared tiny-input builders live here."""
from __future__ import annotations

import numpy as np

from harness.data.market import MarketData, Series

H = 3_600_000
T0 = 1_704_067_200_000  # 2024-01-01T00:00:00Z, a multiple of every interval used in the tests


def bars(count: int = 5, symbol: str = "BTC", interval: str = "1h", *, t0: int = T0, step: int | None = None,
         price: float = 100.0, t_close: object = True, **override) -> Series:
    """A valid tiny series; ``override`` replaces whole fields (lists or arrays).

    ``t_close``: True → ``t + interval_ms - 1`` from the final ``t``; False → absent; else the array.
    """
    from harness.data.intervals import interval_ms
    ms = interval_ms(interval)
    t = t0 + np.arange(count, dtype=np.int64) * (step or ms)
    c = price + np.arange(count, dtype=np.float64)
    f = {"t": t, "o": c - 0.5, "h": c + 1.0, "l": c - 1.0, "c": c, "v": np.full(count, 10.0),
         "n": np.arange(count, dtype=np.int64)}
    f.update(override)
    if isinstance(t_close, bool):
        f["t_close"] = np.asarray(f["t"], dtype=np.int64) + ms - 1 if t_close else None
    else:
        f["t_close"] = t_close
    return Series.build(symbol, interval, f["t"], f["o"], f["h"], f["l"], f["c"], f["v"],
                        t_close=f["t_close"], n=f["n"])


def market(*series: Series, sub: dict | None = None, funding: dict | None = None,
           main_interval: str = "1h", source: str = "test.json") -> MarketData:
    """MarketData over the given main series."""
    return MarketData(main_interval, {s.symbol: s for s in series}, sub or {}, funding or {}, [], source)
