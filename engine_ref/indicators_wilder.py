"""Wilder-smoothed indicators: ADX/+DI/−DI, ATR, RSI (strategy-entries.md §2.2, §2.3, §2.4).

Each class is a per-symbol recurrence fed one main bar at a time. Initial sums and counters are
+0.0 / 0 (D50); operations follow the written order and grouping exactly (§0.5 N2, D23).
"""
from __future__ import annotations

from typing import NamedTuple


class AdxOutput(NamedTuple):
    """Output triple of §2.2 for one bar: ``(adx, +DI, −DI)``."""

    adx: float
    adx_pos: float
    adx_neg: float


class AdxWilder:
    """ADX(w), +DI, −DI — Wilder (strategy-entries.md §2.2).

    Phases: ``INIT`` (bar 0) → ``ACCUM`` (raw sums of +DM, −DM, TR over bars 1..w; first DX at
    ``k = w``) → ``DXACC`` (Wilder-smoothed sums, ADX = running mean of DX until ``k = 2w − 1``)
    → ``WARM`` (``adx = ((adx * (w − 1.0)) + dx) / w``). The ADX true range never uses bar 0.
    """

    INIT = "INIT"
    ACCUM = "ACCUM"
    DXACC = "DXACC"
    WARM = "WARM"

    def __init__(self, window_bars: int) -> None:
        self.window_bars = window_bars
        self.w = float(window_bars)
        self.phase = self.INIT
        self.prev_high = 0.0
        self.prev_low = 0.0
        self.prev_close = 0.0
        self.sum_plus_dm = 0.0  # SP
        self.sum_minus_dm = 0.0  # SM
        self.sum_tr = 0.0  # ST
        self.cnt = 0
        self.dxsum = 0.0
        self.dxcnt = 0
        self.adx = 0.0

    def _dm_tr(self, h: float, l: float) -> tuple[float, float, float]:
        """``dm_tr(h, l)`` of §2.2 against the previous bar's ``H, L, C``."""
        up = h - self.prev_high
        dn = self.prev_low - l
        pdm = up if (up > dn and up > 0.0) else 0.0
        mdm = dn if (dn > up and dn > 0.0) else 0.0
        tr = max(max(h - l, abs(h - self.prev_close)), abs(l - self.prev_close))
        return pdm, mdm, tr

    def _di_dx(self) -> tuple[float, float, float]:
        """``di_dx()`` of §2.2 from the current ``SP, SM, ST``: ``(+DI, −DI, DX)``."""
        st = self.sum_tr
        dip = (self.sum_plus_dm / st) * 100.0 if st > 0.0 else 0.0
        din = (self.sum_minus_dm / st) * 100.0 if st > 0.0 else 0.0
        s = dip + din
        dx = (abs(dip - din) / s) * 100.0 if s > 0.0 else 0.0
        return dip, din, dx

    def _wilder(self, x: float, smoothed: float) -> float:
        """``wilder(x, S) = (S − (S / w)) + x``."""
        return (smoothed - (smoothed / self.w)) + x

    def _remember(self, h: float, l: float, c: float) -> None:
        self.prev_high, self.prev_low, self.prev_close = h, l, c

    def update(self, h: float, l: float, c: float) -> AdxOutput:
        """Feed bar k's high, low, close; return ``(adx, +DI, −DI)`` of bar k."""
        if self.phase == self.INIT:
            self._remember(h, l, c)
            self.cnt = 0
            self.phase = self.ACCUM
            return AdxOutput(0.0, 0.0, 0.0)

        pdm, mdm, tr = self._dm_tr(h, l)
        if self.phase == self.ACCUM:
            self.sum_plus_dm += pdm
            self.sum_minus_dm += mdm
            self.sum_tr += tr
            self.cnt += 1
            self._remember(h, l, c)
            if self.cnt >= self.window_bars:  # k = window: first DX, on the raw sums
                dip, din, dx = self._di_dx()
                self.dxsum = dx
                self.dxcnt = 1
                self.phase = self.DXACC
                return AdxOutput(dx, dip, din)
            return AdxOutput(0.0, 0.0, 0.0)

        self.sum_plus_dm = self._wilder(pdm, self.sum_plus_dm)
        self.sum_minus_dm = self._wilder(mdm, self.sum_minus_dm)
        self.sum_tr = self._wilder(tr, self.sum_tr)
        dip, din, dx = self._di_dx()
        if self.phase == self.DXACC:
            self.dxsum = self.dxsum + dx
            self.dxcnt += 1
            self._remember(h, l, c)
            if self.dxcnt >= self.window_bars:  # k = 2·window − 1
                self.adx = self.dxsum / self.w
                self.phase = self.WARM
                return AdxOutput(self.adx, dip, din)
            return AdxOutput(self.dxsum / float(self.dxcnt), dip, din)  # running mean of DX

        self.adx = ((self.adx * (self.w - 1.0)) + dx) / self.w  # WARM
        self._remember(h, l, c)
        return AdxOutput(self.adx, dip, din)


class AtrWilder:
    """ATR(w) — Wilder (strategy-entries.md §2.3).

    ``TR_0 = h_0 − l_0``; ``TR_k = max(max(h − l, |h − c_{k−1}|), |l − c_{k−1}|)``. Warm-up: running
    mean ``sum / n`` of the TRs so far; at ``n = w`` (bar ``w − 1``) ``ATR = sum / w``; afterwards
    ``ATR_k = ((ATR_{k−1} * (w − 1.0)) + TR_k) / w``.
    """

    def __init__(self, window_bars: int) -> None:
        self.window_bars = window_bars
        self.w = float(window_bars)
        self.tr_sum = 0.0
        self.n = 0
        self.warm = False
        self.atr = 0.0
        self.prev_close: float | None = None

    def true_range(self, h: float, l: float) -> float:
        """``TR_k`` of §2.3 (``h − l`` on the first bar, which has no previous close)."""
        if self.prev_close is None:
            return h - l
        pc = self.prev_close
        return max(max(h - l, abs(h - pc)), abs(l - pc))

    def update(self, h: float, l: float, c: float) -> float:
        """Feed bar k; return ``ATR_k`` (raw, unfloored)."""
        tr = self.true_range(h, l)
        self.prev_close = c
        if self.warm:
            self.atr = ((self.atr * (self.w - 1.0)) + tr) / self.w
            return self.atr
        self.tr_sum = self.tr_sum + tr
        self.n += 1
        if self.n >= self.window_bars:  # at k = window − 1
            self.atr = self.tr_sum / self.w
            self.warm = True
        else:
            self.atr = self.tr_sum / float(self.n)  # running mean
        return self.atr


class RsiWilder:
    """RSI(w) — Wilder, SMA-seeded (strategy-entries.md §2.4).

    Bars ``0 … w−1`` output exactly 50.0; at ``k = w`` the averages are seeded with the plain means
    ``gs / w``, ``ls / w``; afterwards ``AG = ((AG * (w − 1.0)) + gain) / w`` (same for AL).
    Value: ``100.0`` if ``AL == 0`` else ``100.0 − (100.0 / (1.0 + (AG / AL)))``.
    """

    PLACEHOLDER = 50.0

    def __init__(self, window_bars: int) -> None:
        self.window_bars = window_bars
        self.w = float(window_bars)
        self.gain_sum = 0.0  # gs
        self.loss_sum = 0.0  # ls
        self.n = 0
        self.warm = False
        self.avg_gain = 0.0  # AG
        self.avg_loss = 0.0  # AL
        self.prev_close: float | None = None

    def update(self, c: float) -> float:
        """Feed bar k's close; return ``rsi_k`` (0–100 scale)."""
        if self.prev_close is None:
            self.prev_close = c
            return self.PLACEHOLDER
        ch = c - self.prev_close
        self.prev_close = c
        gain = ch if ch > 0.0 else 0.0
        loss = -ch if ch < 0.0 else 0.0
        if self.warm:
            self.avg_gain = ((self.avg_gain * (self.w - 1.0)) + gain) / self.w
            self.avg_loss = ((self.avg_loss * (self.w - 1.0)) + loss) / self.w
        else:
            self.gain_sum = self.gain_sum + gain
            self.loss_sum = self.loss_sum + loss
            self.n += 1
            if self.n < self.window_bars:
                return self.PLACEHOLDER
            self.avg_gain = self.gain_sum / self.w  # k = window: SMA seed
            self.avg_loss = self.loss_sum / self.w
            self.warm = True
        if self.avg_loss == 0.0:
            return 100.0
        return 100.0 - (100.0 / (1.0 + (self.avg_gain / self.avg_loss)))
