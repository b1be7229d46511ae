"""Signal modes A → B → C of strategy-entries.md §4.3, and the signal / confidence vocabulary.

The gate block (§4.2, ``engine_ref.entries``) hands its flags over as a ``GateFlags``; this module turns
them into ``EntrySignal(signal, confidence, entry_adx_threshold)``. The first mode that yields a signal
wins; the ``elif`` structure of every mode is kept as written (§4.3: "implement it as written").

Everything reads the evaluated snapshot or sub-bar view ``S`` (§2.12 names: ``S.c`` is the close of
the bar or sub-bar being evaluated, ``S.v`` its main bar's volume) and the symbol's effective config.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

from harness.errors import ConfigError

BUY = "BUY"
SELL = "SELL"
NEUTRAL = "NEUTRAL"

#: Confidence labels as written in the trade log (DECISIONS.md D43).
LOW = "Low"
MEDIUM = "Medium"
HIGH = "High"

#: ``rank(confidence)`` of §4.3 / strategy-exits.md §2.4: Low = 0, Medium = 1, High = 2.
CONFIDENCE_RANK = {LOW: 0, MEDIUM: 1, HIGH: 2}

#: Config enum names (lower case, config-and-axes.md §7) -> trade-log labels.
_CONFIG_CONFIDENCE = {"low": LOW, "medium": MEDIUM, "high": HIGH}


def confidence_rank(confidence: str) -> int:
    """``rank(confidence)``: 0 for ``Low``, 1 for ``Medium``, 2 for ``High`` (§4.3)."""
    return CONFIDENCE_RANK[confidence]


def confidence_from_config(name: str) -> str:
    """The trade-log label of a config enum value (``"medium"`` -> ``"Medium"``)."""
    return _CONFIG_CONFIDENCE[name]


class EntrySignal(NamedTuple):
    """Output of the entry layer (strategy-exits.md §1.4); unpacks as a 3-tuple.

    ``entry_adx_threshold`` is the ADX threshold of the mode that fired (standard: the effective min
    ADX of G6; pullback: ``pullback_min_adx``; slow drift: ``slow_drift_min_adx``), 0.0 when NEUTRAL.
    """

    signal: str
    confidence: str | None
    entry_adx_threshold: float


NO_SIGNAL = EntrySignal(NEUTRAL, None, 0.0)


@dataclass(frozen=True)
class GateFlags:
    """Results of the gate block G1–G10 (§4.2) for one evaluation point. ``ranging`` is after G9."""

    ranging: bool
    anomaly: bool
    extended: bool
    vol_ok: bool
    rising: bool
    adx_ok: bool
    effective_min_adx: float
    bull: bool
    bear: bool
    btc_ok_long: bool
    btc_ok_short: bool
    rsi_long_limit: float
    rsi_short_limit: float

    @property
    def all_pass(self) -> bool:
        """§4.2 "Combined": every Mode-A precondition that is not direction-specific."""
        return (self.adx_ok and (not self.ranging) and (not self.anomaly) and (not self.extended)
                and self.vol_ok and self.rising)

    def side_modes_allowed(self, adx: float, min_adx: float) -> bool:
        """Common precondition of Modes B and C: no anomaly, extension or ranging, volume ok, ADX ≥ min."""
        return (not self.anomaly) and (not self.extended) and (not self.ranging) and self.vol_ok \
            and adx >= min_adx


def macd_direction_ok(S: Any, mode: str) -> tuple[bool, bool]:
    """``(macd_long, macd_short)`` of Mode A for ``thresholds.entry.macd_hist_entry_mode`` (§4.3)."""
    if mode == "accel":
        return S.macd_hist > S.prev_macd_hist, S.macd_hist < S.prev_macd_hist
    if mode == "sign":
        return S.macd_hist > 0.0, S.macd_hist < 0.0
    if mode == "none":
        return True, True
    raise ConfigError(f"thresholds.entry.macd_hist_entry_mode = {mode!r} must be one of accel/sign/none "
                      "(strategy-entries.md §6.3); build the config with the strict loader.")


def stoch_rsi_ok(S: Any, cfg: dict) -> tuple[bool, bool]:
    """``(stoch_long, stoch_short)`` of Mode A [D12]: block only when %K **and** %D are in the zone."""
    if not cfg["filters"]["use_stoch_rsi_filter"]:
        return True, True
    sr = cfg["thresholds"]["stoch_rsi"]
    long_gt = sr["block_long_if_k_gt"]
    short_lt = sr["block_short_if_k_lt"]
    stoch_long = not (S.stoch_k >= long_gt and S.stoch_d >= long_gt)
    stoch_short = not (S.stoch_k <= short_lt and S.stoch_d <= short_lt)
    return stoch_long, stoch_short


def mode_a_standard(S: Any, cfg: dict, g: GateFlags) -> EntrySignal | None:
    """Mode A — standard trend entry (§4.3), only called when ``g.all_pass``.

    Confidence ``High`` iff ``S.v > S.vol_sma × high_conf_volume_mult``, else ``Medium``; the entry ADX
    threshold is the effective min ADX of G6.
    """
    e = cfg["thresholds"]["entry"]
    macd_long, macd_short = macd_direction_ok(S, e["macd_hist_entry_mode"])
    stoch_long, stoch_short = stoch_rsi_ok(S, cfg)
    conf_ab = HIGH if S.v > (S.vol_sma * e["high_conf_volume_mult"]) else MEDIUM
    signal = NEUTRAL
    if g.bull and S.c > S.ema_fast:
        if S.rsi > g.rsi_long_limit and macd_long and stoch_long and g.btc_ok_long:
            signal = BUY
    elif g.bear and S.c < S.ema_fast:
        if S.rsi < g.rsi_short_limit and macd_short and stoch_short and g.btc_ok_short:
            signal = SELL
    if signal == NEUTRAL:
        return None
    return EntrySignal(signal, conf_ab, g.effective_min_adx)


def mode_b_pullback(S: Any, cfg: dict, g: GateFlags) -> EntrySignal | None:
    """Mode B — pullback continuation (§4.3): a close crossing EMA-fast in the trend direction.

    Ignores ``adx_ok``, ``rising``, DRE, the MACD mode and the StochRSI filter. On a sub-bar view the
    cross compares the last main close / EMA-fast with the sub-bar close (§5.2).
    """
    e = cfg["thresholds"]["entry"]
    if not (e["enable_pullback_entries"] and g.side_modes_allowed(S.adx, e["pullback_min_adx"])):
        return None
    need_sign = e["pullback_require_macd_sign"]
    cross_up = (S.prev_close <= S.prev_ema_fast) and (S.c > S.ema_fast)
    cross_dn = (S.prev_close >= S.prev_ema_fast) and (S.c < S.ema_fast)
    signal = NEUTRAL
    if cross_up and g.bull and g.btc_ok_long:
        if (S.macd_hist > 0.0 or not need_sign) and S.rsi >= e["pullback_rsi_long_min"]:
            signal = BUY
    elif cross_dn and g.bear and g.btc_ok_short:
        if (S.macd_hist < 0.0 or not need_sign) and S.rsi <= e["pullback_rsi_short_max"]:
            signal = SELL
    if signal == NEUTRAL:
        return None
    return EntrySignal(signal, confidence_from_config(e["pullback_confidence"]), e["pullback_min_adx"])


def mode_c_slow_drift(S: Any, cfg: dict, g: GateFlags) -> EntrySignal | None:
    """Mode C — slow drift (§4.3): price beyond EMA-slow with an EMA-slow slope (§2.11) of at least
    ``slow_drift_min_slope_pct`` in the trend direction. Confidence ``Low``."""
    e = cfg["thresholds"]["entry"]
    if not (e["enable_slow_drift_entries"] and g.side_modes_allowed(S.adx, e["slow_drift_min_adx"])):
        return None
    slope = S.ema_slow_slope_pct
    min_slope = e["slow_drift_min_slope_pct"]
    need_sign = e["slow_drift_require_macd_sign"]
    signal = NEUTRAL
    if g.bull and S.c > S.ema_slow and g.btc_ok_long and slope >= min_slope:
        if (S.macd_hist > 0.0 or not need_sign) and S.rsi >= e["slow_drift_rsi_long_min"]:
            signal = BUY
    elif g.bear and S.c < S.ema_slow and g.btc_ok_short and slope <= -min_slope:
        if (S.macd_hist < 0.0 or not need_sign) and S.rsi <= e["slow_drift_rsi_short_max"]:
            signal = SELL
    if signal == NEUTRAL:
        return None
    return EntrySignal(signal, LOW, e["slow_drift_min_adx"])


def run_signal_modes(S: Any, cfg: dict, g: GateFlags) -> EntrySignal:
    """§4.3: Mode A (only if ``all_pass``), else Mode B, else Mode C, else ``NO_SIGNAL``."""
    if g.all_pass:
        found = mode_a_standard(S, cfg, g)
        if found is not None:
            return found
    found = mode_b_pullback(S, cfg, g)
    if found is not None:
        return found
    found = mode_c_slow_drift(S, cfg, g)
    if found is not None:
        return found
    return NO_SIGNAL
