"""Bollinger width (with its average and ratio) and the volume averages (strategy-entries.md §2.6, §2.8).

Pure Python binary64 in the written operation order (§0.5 N2, D23); window statistics through
``RollingWindow`` (two-pass, sequential sums, §2.0).
"""
from __future__ import annotations

from typing import NamedTuple

from engine_ref.indicators_primitives import RollingWindow


class BollingerOutput(NamedTuple):
    """Per-bar Bollinger fields of §2.6 (price units except the width fields, which are fractions)."""

    bb_upper: float
    bb_lower: float
    bb_width: float
    bb_width_avg: float
    bb_width_ratio: float


class BollingerWidth:
    """Bollinger bands, band width, width average, width ratio (strategy-entries.md §2.6).

    ``B = RW(bb_window)``. Until ``B`` is full: ``upper = lower = mid`` (width 0). Then
    ``upper = mid + (2.0 * sd)``, ``lower = mid − (2.0 * sd)`` with the population std.
    ``bb_width = (upper − lower) / c`` (the close, not the middle band; 0.0 if ``c`` is not > 0);
    ``bb_width_avg = BW.mean()`` over ``RW(bb_width_avg_window)`` (partial mean, warm-up zeros
    included); ``bb_width_ratio = bb_width / bb_width_avg`` if the average is > 0 else 1.0.
    """

    BAND_MULT = 2.0  # fixed, not configurable

    def __init__(self, bb_window_bars: int, width_avg_window_bars: int) -> None:
        self.closes = RollingWindow(bb_window_bars)  # B
        self.widths = RollingWindow(width_avg_window_bars)  # BW

    def update(self, c: float) -> BollingerOutput:
        """Feed bar k's close; return the Bollinger fields of bar k."""
        self.closes.push(c)
        mid = self.closes.mean()
        if not self.closes.full():
            upper = mid
            lower = mid
        else:
            sd = self.closes.std_pop()
            upper = mid + (self.BAND_MULT * sd)
            lower = mid - (self.BAND_MULT * sd)
        bb_width = (upper - lower) / c if c > 0.0 else 0.0
        self.widths.push(bb_width)
        bb_width_avg = self.widths.mean()
        bb_width_ratio = bb_width / bb_width_avg if bb_width_avg > 0.0 else 1.0
        return BollingerOutput(upper, lower, bb_width, bb_width_avg, bb_width_ratio)


class VolumeOutput(NamedTuple):
    """Per-bar volume fields of §2.8 (``vol_sma`` in base units)."""

    vol_sma: float
    vol_trend: bool


class VolumeAverages:
    """Volume SMA and volume trend (strategy-entries.md §2.8).

    ``vol_sma = RW(vol_sma_window).mean()``, ``vol_short = RW(vol_trend_window).mean()`` (partial
    means in warm-up); ``vol_trend = vol_short > vol_sma`` (strict).
    """

    def __init__(self, sma_window_bars: int, trend_window_bars: int) -> None:
        self.sma_ring = RollingWindow(sma_window_bars)  # V
        self.trend_ring = RollingWindow(trend_window_bars)  # VT

    def update(self, v: float) -> VolumeOutput:
        """Feed bar k's volume; return ``(vol_sma, vol_trend)``."""
        self.sma_ring.push(v)
        self.trend_ring.push(v)
        vol_sma = self.sma_ring.mean()
        vol_short = self.trend_ring.mean()
        return VolumeOutput(vol_sma, vol_short > vol_sma)
