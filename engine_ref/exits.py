"""Exit evaluation and the persistent position state (strategy-exits.md §5; D13-D17, D19, D20).

``evaluate_exits`` returns an :class:`~engine_ref.accounting.ExitOrder` or None (the §5.0 priority:
glitch guard → stop loss → stored trailing stop → take profit → smart exits). Only close prices are used
(§0.4). ``s`` is the main-bar snapshot (main step) or the sub-bar view (exit sub-bar step); ``cfg`` the
position symbol's effective config (D27).
"""
from __future__ import annotations

from typing import Any

from engine_ref.accounting import ExitOrder, full_exit
from engine_ref.arith import clamp
from engine_ref.exits_smart import smart_exit
from engine_ref.positions import LONG, Position, atr_eff, profit_atr
from engine_ref.records import STOP_LOSS, TAKE_PROFIT, TAKE_PROFIT_PARTIAL, TRAILING_STOP


def stop_crossed(pos: Position, close: float, level: float) -> bool:
    """§0.4: LONG ``close ≤ level``; SHORT ``close ≥ level``."""
    return close <= level if pos.side == LONG else close >= level


def target_crossed(pos: Position, close: float, level: float) -> bool:
    """§0.4: LONG ``close ≥ level``; SHORT ``close ≤ level``."""
    return close >= level if pos.side == LONG else close <= level


def underwater(pos: Position, close: float) -> bool:
    """§0.4: LONG ``close < entry``; SHORT ``close > entry``."""
    return close < pos.entry_price if pos.side == LONG else close > pos.entry_price


def glitch_blocks(s: Any, trade: dict) -> bool:
    """§5.0 step 0 / §5.8: move versus ``prev_close`` beyond the % or ATR limit blocks every exit."""
    if not (trade["block_exits_on_extreme_dev"] and s.prev_close > 0):
        return False
    d = abs(s.close - s.prev_close)
    return d / s.prev_close > trade["glitch_price_dev_pct"] or (
        s.atr > 0 and d > s.atr * trade["glitch_atr_mult"])


def be_reached(pos: Position, s: Any, trade: dict) -> bool:
    """§5.1 ``be_reached``: favourable move ≥ ``atr_eff × breakeven_start_atr`` at the evaluated close."""
    bs = atr_eff(pos) * trade["breakeven_start_atr"]
    if pos.side == LONG:
        return (s.close - pos.entry_price) >= bs
    return (pos.entry_price - s.close) >= bs


def sl_level(pos: Position, s: Any, trade: dict) -> float:
    """§5.1 stop level: ATR stop with ASE / DASE / SLB multipliers and the latched breakeven floor (D14)."""
    e, a = pos.entry_price, atr_eff(pos)
    m = trade["sl_atr_mult"]
    if s.adx_slope < 0 and underwater(pos, s.close):
        m = m * 0.8  # ASE
    if s.adx > 40.0:
        p = (s.close - e) / a if pos.side == LONG else (e - s.close) / a
        if p > 0.5:
            m = m * 1.15  # DASE (profit only)
    if s.adx > 45.0:
        m = m * 1.10  # SLB
    sl = e - a * m if pos.side == LONG else e + a * m
    if trade["enable_breakeven_stop"] and (pos.be_armed or be_reached(pos, s, trade)):
        bb = a * trade["breakeven_buffer_atr"]
        if pos.side == LONG:
            sl = max(sl, e + bb)
        else:
            sl = min(sl, e - bb)
    return sl


def tp_multiplier(s: Any, cfg: dict) -> float:
    """§5.3 ``tpm`` (D15): strong / weak band by the evaluated ADX, else ``trade.tp_atr_mult``."""
    tm = cfg["thresholds"]["tp_and_momentum"]
    if s.adx > tm["adx_strong_gt"]:
        return tm["tp_mult_strong"]
    if s.adx < tm["adx_weak_lt"]:
        return tm["tp_mult_weak"]
    return cfg["trade"]["tp_atr_mult"]


def _level(pos: Position, a: float, mult: float) -> float:
    return pos.entry_price + a * mult if pos.side == LONG else pos.entry_price - a * mult


def _partial_tp(pos: Position, s: Any, trade: dict, a: float, tpm: float) -> ExitOrder | str | None:
    """§5.3 before TP1: a PARTIAL order, ``"HOLD"``, or None (fall through to the full-TP check)."""
    pm = trade["tp_partial_atr_mult"] if trade["tp_partial_atr_mult"] > 0 else tpm
    if target_crossed(pos, s.close, _level(pos, a, pm)):
        pct = clamp(trade["tp_partial_pct"], 0.0, 1.0)  # a no-op: validity rule [D52]
        if 0 < pct < 1:
            if ((pos.size * (1.0 - pct)) * s.close) < trade["tp_partial_min_notional_usd"]:
                return "HOLD"
            return ExitOrder("PARTIAL", TAKE_PROFIT_PARTIAL, s.close, pct)
        return None  # pct == 0 or pct == 1: the full-TP check below
    if trade["tp_partial_atr_mult"] <= 0:
        return "HOLD"
    return None  # separate partial level not reached: the full level may be closer


def take_profit(pos: Position, s: Any, cfg: dict) -> ExitOrder | None:
    """``take_profit(pos, s)`` of §5.3: FULL / PARTIAL order, or None for HOLD."""
    trade = cfg["trade"]
    a = atr_eff(pos)
    tp = _level(pos, a, tp_multiplier(s, cfg))
    if trade["enable_partial_tp"]:
        if not pos.tp1_taken:
            partial = _partial_tp(pos, s, trade, a, tp_multiplier(s, cfg))
            if partial == "HOLD":
                return None
            if partial is not None:
                return partial  # type: ignore[return-value]
        else:
            if trade["tp_partial_atr_mult"] > 0 and target_crossed(pos, s.close, tp):
                return full_exit(TAKE_PROFIT, s.close)
            return None  # remainder managed by stops / smart exits
    if target_crossed(pos, s.close, tp):
        return full_exit(TAKE_PROFIT, s.close)
    return None


def evaluate_exits(pos: Position, s: Any, cfg: dict) -> ExitOrder | None:
    """``evaluate_exits(pos, s, τ)`` of §5.0, in priority order; None means NONE (no exit)."""
    trade = cfg["trade"]
    pa = profit_atr(pos, s.close)
    if glitch_blocks(s, trade):
        return None  # the caller still runs update_position_state (§5.2)
    if stop_crossed(pos, s.close, sl_level(pos, s, trade)):
        return full_exit(STOP_LOSS, s.close)
    if pos.trailing_sl is not None and stop_crossed(pos, s.close, pos.trailing_sl):
        return full_exit(TRAILING_STOP, s.close)
    tp = take_profit(pos, s, cfg)
    if tp is not None:
        return tp
    reason = smart_exit(pos, s, pa, cfg)
    if reason is not None:
        return full_exit(reason, s.close)
    return None


def trail_params(pos: Position, trade: dict) -> tuple[float, float]:
    """§5.2 ``trail_params``: main start/distance; Low confidence uses ``*_low_conf`` when > 0 (D19)."""
    start, dist = trade["trailing_start_atr"], trade["trailing_distance_atr"]
    if pos.confidence == "Low":
        if trade["trailing_start_atr_low_conf"] > 0:
            start = trade["trailing_start_atr_low_conf"]
        if trade["trailing_distance_atr_low_conf"] > 0:
            dist = trade["trailing_distance_atr_low_conf"]
    return start, dist


def trail_distance(pos: Position, s: Any, pa: float, dist: float, trade: dict) -> float:
    """§5.2 ``trail_distance`` (D13): VBTS ×1.25, profit tightening or low-ADX ×0.7, RSI-dependent floor."""
    rsi_high = (pos.side == LONG and s.rsi > 60.0) or (pos.side != LONG and s.rsi < 40.0)
    floor = 0.7 if rsi_high else 0.5
    eff = dist
    if trade["enable_vol_buffered_trailing"] and s.bb_width_ratio > 1.2:
        eff = dist * 1.25  # VBTS
    if pa > 2.0:
        k = 1.0 if (s.adx > 35.0 and s.adx_slope > 0) else (0.75 if s.atr_slope > 0 else 0.5)
        eff = dist * k  # replaces the VBTS value
    elif s.adx < 25.0:
        eff = dist * 0.7  # replaces the VBTS value
    return max(eff, floor)


def update_position_state(pos: Position, s: Any, cfg: dict) -> None:
    """§5.2 after a NONE evaluation: ratchet the stored trailing level, latch breakeven (D13, D14)."""
    trade = cfg["trade"]
    pa = profit_atr(pos, s.close)
    a = atr_eff(pos)
    start, dist = trail_params(pos, trade)
    if pa >= start:
        eff = trail_distance(pos, s, pa, dist, trade)
        new = s.close - a * eff if pos.side == LONG else s.close + a * eff
        if pos.trailing_sl is None:
            pos.trailing_sl = new
        elif pos.side == LONG and new > pos.trailing_sl:
            pos.trailing_sl = new
        elif pos.side != LONG and new < pos.trailing_sl:
            pos.trailing_sl = new
    if trade["enable_breakeven_stop"] and be_reached(pos, s, trade):
        pos.be_armed = True
