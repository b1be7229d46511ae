"""Per-symbol indicator state, its immutable snapshot and the sub-bar view (strategy-entries.md §2, D5).

Usage (one instance per symbol, built from that symbol's effective config, D27)::

    ind = SymbolIndicators(IndicatorParams.from_config(cfg))
    snap = ind.update(t=bar["t"], o=bar["o"], h=bar["h"], l=bar["l"], c=bar["c"], v=bar["v"])
    sub_view = view(snap, sub_bar)        # D5: a sub-bar evaluation inside the next main bar

Indicators are updated from the symbol's first main bar on (full history, D21), with every sum and
counter starting at +0.0 / 0 (D50). Pure Python binary64; no numpy, no library reductions (D45).
The recurrences live in ``indicators_primitives`` (§2.0-§2.1), ``indicators_wilder`` (§2.2-§2.4),
``indicators_momentum`` (§2.5, §2.7, §2.11) and ``indicators_bands`` (§2.6, §2.8).
"""
from __future__ import annotations

import dataclasses
import operator
from collections.abc import Mapping
from typing import Any

from engine_ref.indicators_bands import BollingerWidth, VolumeAverages
from engine_ref.indicators_momentum import EmaSlowSlope, MacdHistogram, StochRsi, StochRsiOutput
from engine_ref.indicators_primitives import Ema, RollingWindow
from engine_ref.indicators_wilder import AdxWilder, AtrWilder, RsiWilder
from harness.errors import ConfigError

#: (field of IndicatorParams, dotted config path) for every window the indicators read (§6.1, §6.3).
WINDOW_KEYS: tuple[tuple[str, str], ...] = (
    ("ema_fast_window", "indicators.ema_fast_window"),
    ("ema_slow_window", "indicators.ema_slow_window"),
    ("ema_macro_window", "indicators.ema_macro_window"),
    ("adx_window", "indicators.adx_window"),
    ("atr_window", "indicators.atr_window"),
    ("rsi_window", "indicators.rsi_window"),
    ("bb_window", "indicators.bb_window"),
    ("bb_width_avg_window", "indicators.bb_width_avg_window"),
    ("vol_sma_window", "indicators.vol_sma_window"),
    ("vol_trend_window", "indicators.vol_trend_window"),
    ("stoch_rsi_window", "indicators.stoch_rsi_window"),
    ("stoch_rsi_smooth1", "indicators.stoch_rsi_smooth1"),
    ("stoch_rsi_smooth2", "indicators.stoch_rsi_smooth2"),
    ("ave_avg_atr_window", "thresholds.entry.ave_avg_atr_window"),
    ("slow_drift_slope_window", "thresholds.entry.slow_drift_slope_window"),
)
STOCH_FLAG_KEY = "filters.use_stoch_rsi_filter"


def _lookup(cfg: Mapping[str, Any], dotted_path: str) -> Any:
    node: Any = cfg
    for part in dotted_path.split("."):
        if not isinstance(node, Mapping) or part not in node:
            raise ConfigError(
                f"{dotted_path} is missing from the effective config; the indicators need it "
                f"(strategy-entries.md §6). Fix: build the config with the strict loader (defaults included)."
            )
        node = node[part]
    return node


@dataclasses.dataclass(frozen=True)
class IndicatorParams:
    """Every window (in bars) and flag the indicator layer reads from one symbol's effective config."""

    ema_fast_window: int
    ema_slow_window: int
    ema_macro_window: int
    adx_window: int
    atr_window: int
    rsi_window: int
    bb_window: int
    bb_width_avg_window: int
    vol_sma_window: int
    vol_trend_window: int
    stoch_rsi_window: int
    stoch_rsi_smooth1: int
    stoch_rsi_smooth2: int
    ave_avg_atr_window: int
    slow_drift_slope_window: int
    use_stoch_rsi_filter: bool

    @classmethod
    def from_config(cls, cfg: Mapping[str, Any]) -> "IndicatorParams":
        """Read the params from a nested effective config (``cfg["indicators"]["ema_fast_window"]`` …).

        Only a boundary check (native int ≥ 1, bool flag); full validation is the loader's (§7, D32).
        """
        values: dict[str, Any] = {}
        for field_name, path in WINDOW_KEYS:
            window = _lookup(cfg, path)
            if isinstance(window, bool) or not isinstance(window, int) or window < 1:
                raise ConfigError(
                    f"{path} = {window!r} must be an integer >= 1 (bars) (strategy-entries.md §7, D32)."
                )
            values[field_name] = window
        flag = _lookup(cfg, STOCH_FLAG_KEY)
        if not isinstance(flag, bool):
            raise ConfigError(f"{STOCH_FLAG_KEY} = {flag!r} must be a bool (true/false).")
        values["use_stoch_rsi_filter"] = flag
        return cls(**values)


@dataclasses.dataclass(frozen=True, slots=True)
class IndicatorSnapshot:
    """The immutable indicator record of one symbol after one main bar (strategy-entries.md §2.12).

    Prices, EMAs, bands, ATR and slopes are in quote currency; ``v``, ``vol_sma``, ``prev_volume``
    in base units; ``rsi``, ``adx``, ``adx_pos``, ``adx_neg`` on 0–100; ``stoch_k``, ``stoch_d`` on
    0–1; ``bb_width*`` and ``ema_slow_slope_pct`` are fractions of the close; ``t`` is the bar's open
    time in ms; ``bar_index`` is ``k``. ``open``/``high``/``low``/``close`` are read-only aliases of
    ``o``/``h``/``l``/``c`` (the names of strategy-exits.md §1.4).
    """

    t: int
    o: float
    h: float
    l: float  # noqa: E741 - the spec's name
    c: float
    v: float
    ema_fast: float
    ema_slow: float
    ema_macro: float
    adx: float
    adx_pos: float
    adx_neg: float
    adx_slope: float
    bb_upper: float
    bb_lower: float
    bb_width: float
    bb_width_avg: float
    bb_width_ratio: float
    atr: float
    atr_slope: float
    avg_atr: float
    rsi: float
    stoch_k: float
    stoch_d: float
    macd_hist: float
    prev_macd_hist: float
    prev2_macd_hist: float
    prev3_macd_hist: float
    vol_sma: float
    vol_trend: bool
    prev_close: float
    prev_ema_fast: float
    prev_ema_slow: float
    prev_volume: float
    prev_vol_sma: float
    prev_vol_trend: bool
    ema_slow_slope_pct: float
    bar_index: int

    @property
    def open(self) -> float:
        return self.o

    @property
    def high(self) -> float:
        return self.h

    @property
    def low(self) -> float:
        return self.l

    @property
    def close(self) -> float:
        return self.c


def _bar_field(bar: Any, name: str) -> Any:
    """Read ``name`` from a bar given as a mapping (the data's JSON record) or as an object."""
    if isinstance(bar, Mapping):
        return bar[name]
    return getattr(bar, name)


_VIEW_REPLACED = ("t", "o", "h", "l", "c", "prev_close", "prev_ema_fast", "prev_ema_slow")
_VIEW_KEPT = tuple(f.name for f in dataclasses.fields(IndicatorSnapshot) if f.name not in _VIEW_REPLACED)
_read_kept = operator.attrgetter(*_VIEW_KEPT)


class SnapshotView:
    """The sub-bar view ``V(S, b)`` of DECISIONS.md D5 / strategy-entries.md §5.2: the fields of an
    :class:`IndicatorSnapshot`, eight of them replaced.

    The other fields are copied from ``S`` into the view's own slots when it is built: views are built
    for every position at every exit sub-bar and each is read a dozen times or more, and a slot read is
    far cheaper than forwarding every read to ``S``.
    """

    __slots__ = _VIEW_REPLACED + _VIEW_KEPT

    def __init__(self, snapshot: IndicatorSnapshot, t: int, o: float, h: float, l: float,  # noqa: E741
                 c: float) -> None:
        for name, value in zip(_VIEW_KEPT, _read_kept(snapshot)):
            setattr(self, name, value)
        self.t, self.o, self.h, self.l, self.c = t, o, h, l, c
        self.prev_close = snapshot.c
        self.prev_ema_fast = snapshot.ema_fast
        self.prev_ema_slow = snapshot.ema_slow

    open = property(lambda self: self.o)
    high = property(lambda self: self.h)
    low = property(lambda self: self.l)
    close = property(lambda self: self.c)

    def __eq__(self, other: object) -> bool:
        names = [f.name for f in dataclasses.fields(IndicatorSnapshot)]
        return all(getattr(self, n) == getattr(other, n) for n in names)

    __hash__ = None  # type: ignore[assignment]


def view(snapshot: IndicatorSnapshot, sub_bar: Any) -> SnapshotView:
    """The sub-bar view ``V(S, b)`` of DECISIONS.md D5 / strategy-entries.md §5.2.

    ``S`` is the symbol's latest main snapshot (bar k−1), ``b`` a sub-bar (mapping or object with
    ``t, o, h, l, c``). The view equals ``S`` except ``o, h, l, c, t`` := those of ``b``,
    ``prev_close := S.c``, ``prev_ema_fast := S.ema_fast``, ``prev_ema_slow := S.ema_slow``; every
    other field (all indicators, ``v``, ``ema_slow_slope_pct``, ``bar_index``) keeps ``S``'s value.
    """
    if isinstance(sub_bar, Mapping):
        t, o, h, l, c = (sub_bar[k] for k in ("t", "o", "h", "l", "c"))  # noqa: E741
    else:
        t, o, h, l, c = sub_bar.t, sub_bar.o, sub_bar.h, sub_bar.l, sub_bar.c  # noqa: E741
    return SnapshotView(snapshot, int(t), float(o), float(h), float(l), float(c))


def _lagged_fields(prev: IndicatorSnapshot | None) -> dict[str, Any]:
    """The bar-(k−1) inputs of §2.10: previous ``adx``/``atr`` (for the slopes) and the ``prev_*`` fields.

    At ``k = 0`` (no previous bar) every one is 0.0 / false, so ``adx_slope = adx_0 − 0.0``.
    """
    if prev is None:
        return {
            "adx": 0.0, "atr": 0.0,
            "prev_macd_hist": 0.0, "prev2_macd_hist": 0.0, "prev3_macd_hist": 0.0,
            "prev_close": 0.0, "prev_ema_fast": 0.0, "prev_ema_slow": 0.0,
            "prev_volume": 0.0, "prev_vol_sma": 0.0, "prev_vol_trend": False,
        }
    return {
        "adx": prev.adx, "atr": prev.atr,
        "prev_macd_hist": prev.macd_hist,
        "prev2_macd_hist": prev.prev_macd_hist,
        "prev3_macd_hist": prev.prev2_macd_hist,
        "prev_close": prev.c, "prev_ema_fast": prev.ema_fast, "prev_ema_slow": prev.ema_slow,
        "prev_volume": prev.v, "prev_vol_sma": prev.vol_sma, "prev_vol_trend": prev.vol_trend,
    }


class SymbolIndicators:
    """Incremental indicator state of one symbol (strategy-entries.md §2), fed one main bar at a time.

    ``update`` runs every recurrence of §2 on bar k and returns its ``IndicatorSnapshot``.
    ``bar_count`` is the number of main bars fed so far (the readiness counter of §1.4 counts the
    same bars); ``snapshot`` is the latest snapshot (``None`` before the first bar).
    """

    def __init__(self, params: IndicatorParams) -> None:
        self.params = params
        self.bar_count = 0
        self.snapshot: IndicatorSnapshot | None = None
        self._ema_fast = Ema(params.ema_fast_window)
        self._ema_slow = Ema(params.ema_slow_window)
        self._ema_macro = Ema(params.ema_macro_window)
        self._adx = AdxWilder(params.adx_window)
        self._atr = AtrWilder(params.atr_window)
        self._rsi = RsiWilder(params.rsi_window)
        self._stoch = StochRsi(params.stoch_rsi_window, params.stoch_rsi_smooth1, params.stoch_rsi_smooth2)
        self._bollinger = BollingerWidth(params.bb_window, params.bb_width_avg_window)
        self._macd = MacdHistogram()
        self._volume = VolumeAverages(params.vol_sma_window, params.vol_trend_window)
        self._atr_ring = RollingWindow(params.ave_avg_atr_window)  # §2.9 A
        self._slope = EmaSlowSlope(params.slow_drift_slope_window)

    @classmethod
    def from_config(cls, cfg: Mapping[str, Any]) -> "SymbolIndicators":
        return cls(IndicatorParams.from_config(cfg))

    def update_bar(self, bar: Any) -> IndicatorSnapshot:
        """``update`` with a bar given as a mapping or object carrying ``t, o, h, l, c, v``."""
        return self.update(
            t=_bar_field(bar, "t"), o=_bar_field(bar, "o"), h=_bar_field(bar, "h"),
            l=_bar_field(bar, "l"), c=_bar_field(bar, "c"), v=_bar_field(bar, "v"),
        )

    def update(self, *, t: int, o: float, h: float, l: float, c: float, v: float) -> IndicatorSnapshot:  # noqa: E741
        """Feed main bar k (open time ``t`` ms, prices, volume) and return its snapshot."""
        o, h, l, c, v = float(o), float(h), float(l), float(c), float(v)  # noqa: E741 - binary64 (N1)
        ema_fast = self._ema_fast.update(c)
        ema_slow = self._ema_slow.update(c)
        ema_macro = self._ema_macro.update(c)
        adx = self._adx.update(h, l, c)
        atr = self._atr.update(h, l, c)
        rsi = self._rsi.update(c)
        stoch = self._stoch.update(rsi)  # rings kept current either way: the output alone follows the flag
        if not self.params.use_stoch_rsi_filter:
            stoch = StochRsiOutput(0.0, 0.0)  # §2.5: 0.0 / 0.0 when the filter is off (never read then)
        bands = self._bollinger.update(c)
        macd_hist = self._macd.update(c)
        volume = self._volume.update(v)
        self._atr_ring.push(atr)
        avg_atr = self._atr_ring.mean()
        slope = self._slope.update(ema_slow, c)

        lag = _lagged_fields(self.snapshot)  # bar k−1 (§2.10)
        snap = IndicatorSnapshot(
            t=int(t), o=o, h=h, l=l, c=c, v=v,
            ema_fast=ema_fast, ema_slow=ema_slow, ema_macro=ema_macro,
            adx=adx.adx, adx_pos=adx.adx_pos, adx_neg=adx.adx_neg,
            adx_slope=adx.adx - lag.pop("adx"),
            bb_upper=bands.bb_upper, bb_lower=bands.bb_lower, bb_width=bands.bb_width,
            bb_width_avg=bands.bb_width_avg, bb_width_ratio=bands.bb_width_ratio,
            atr=atr, atr_slope=atr - lag.pop("atr"), avg_atr=avg_atr,
            rsi=rsi, stoch_k=stoch.stoch_k, stoch_d=stoch.stoch_d,
            macd_hist=macd_hist, vol_sma=volume.vol_sma, vol_trend=volume.vol_trend,
            ema_slow_slope_pct=slope, bar_index=self.bar_count,
            **lag,
        )
        self.snapshot = snap
        self.bar_count += 1
        return snap
