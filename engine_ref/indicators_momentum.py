"""Stochastic RSI, MACD histogram and the EMA-slow slope (strategy-entries.md §2.5, §2.7, §2.11).

Pure Python binary64 in the written operation order (§0.5 N2, D23); window means through
``RollingWindow`` (sequential sums, §2.0).
"""
from __future__ import annotations

from typing import NamedTuple

from engine_ref.indicators_primitives import Ema, RollingWindow


class StochRsiOutput(NamedTuple):
    """``(stoch_k, stoch_d)`` of §2.5, scale [0, 1]."""

    stoch_k: float
    stoch_d: float


class StochRsi:
    """Stochastic RSI %K / %D of strategy-entries.md §2.5.

    Input: the §2.4 RSI (period ``indicators.rsi_window``) including its 50.0 placeholders — not a
    separate RSI of period ``stoch_rsi_window`` (RP-E3). Rings ``R = RW(q)``, ``K = RW(a)``,
    ``D = RW(b)``. Until ``R`` is full the output is ``(0.5, 0.5)`` and K, D are untouched; then
    ``raw = (rsi − lo) / rng`` (0.5 when ``rng`` is not > 0), ``stoch_k = K.mean()`` after pushing raw,
    ``stoch_d = D.mean()`` after pushing ``stoch_k`` (partial means until full).
    """

    WARMUP_VALUE = 0.5

    def __init__(self, stoch_rsi_window_bars: int, smooth1_bars: int, smooth2_bars: int) -> None:
        self.rsi_ring = RollingWindow(stoch_rsi_window_bars)  # R
        self.k_ring = RollingWindow(smooth1_bars)  # K
        self.d_ring = RollingWindow(smooth2_bars)  # D

    def update(self, rsi: float) -> StochRsiOutput:
        """Feed bar k's RSI; return ``(stoch_k, stoch_d)``."""
        self.rsi_ring.push(rsi)
        if not self.rsi_ring.full():
            return StochRsiOutput(self.WARMUP_VALUE, self.WARMUP_VALUE)
        lo = self.rsi_ring.min()
        hi = self.rsi_ring.max()
        rng = hi - lo
        raw = (rsi - lo) / rng if rng > 0.0 else 0.5
        self.k_ring.push(raw)
        stoch_k = self.k_ring.mean()
        self.d_ring.push(stoch_k)
        stoch_d = self.d_ring.mean()
        return StochRsiOutput(stoch_k, stoch_d)


class MacdHistogram:
    """MACD histogram, fixed 12 / 26 / 9 (strategy-entries.md §2.7; not configurable).

    ``line_k = EMA12_k − EMA26_k`` (both seeded with ``c_0``, so ``line_0 = 0`` exactly);
    ``G = EMA(9)`` of the line, seeded with ``line_0 = 0`` at ``k = 0``; ``hist_k = line_k − G_k``.
    """

    FAST_BARS = 12
    SLOW_BARS = 26
    SIGNAL_BARS = 9

    def __init__(self) -> None:
        self.ema_fast = Ema(self.FAST_BARS)  # F
        self.ema_slow = Ema(self.SLOW_BARS)  # S
        self.ema_signal = Ema(self.SIGNAL_BARS)  # G

    def update(self, c: float) -> float:
        """Feed bar k's close; return ``macd_hist_k``."""
        line = self.ema_fast.update(c) - self.ema_slow.update(c)
        signal = self.ema_signal.update(line)
        return line - signal


class EmaSlowSlope:
    """EMA-slow slope ``ema_slow_slope_pct`` (strategy-entries.md §2.11, D5, D44b).

    ``slope_k = (H[k] − H[k − Wd + 1]) / c_k`` if ``(k + 1) >= Wd`` and ``c_k > 0``, else ``0.0``;
    ``H`` is the EMA-slow history, kept as a ring ``RW(Wd)`` (only its last ``Wd`` values are read,
    D44b). The denominator is the main-bar close. ``Wd = 1`` gives 0.
    """

    def __init__(self, slope_window_bars: int) -> None:
        self.history = RollingWindow(slope_window_bars)  # last Wd values of H

    def update(self, ema_slow: float, c: float) -> float:
        """Feed bar k's EMA-slow and close; return ``slope_k``."""
        self.history.push(ema_slow)
        if self.history.full() and c > 0.0:  # full <=> (k + 1) >= Wd
            return (self.history.newest() - self.history.oldest()) / c
        return 0.0
