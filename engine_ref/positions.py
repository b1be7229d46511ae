"""Position record, sizing, exposure guard, opening and pyramiding (strategy-exits.md §1.2, §3, §4).

Sizes are computed from the **unslipped** decision price; the fill price and the fee carry the
slippage (§3.6, D24). Every expression keeps the spec's order and grouping (D23); sums over positions
are the explicit loops of :mod:`engine_ref.sim_state` (D45).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from engine_ref.accounting import entry_fill_price, fee_usd, fill_notional_usd, slippage_fraction
from engine_ref.arith import clamp
from engine_ref.entry_modes import confidence_from_config, confidence_rank
from engine_ref.ranking import EntryCandidate
from engine_ref.records import TradeRecord, pyramid_reason

if TYPE_CHECKING:  # pragma: no cover
    from engine_ref.sim_state import SimState

LONG = "LONG"
SHORT = "SHORT"


def conf_rank(value: str) -> int:
    """Rank of a confidence (Low 0, Medium 1, High 2); accepts a record label or a config enum name."""
    return confidence_rank(confidence_from_config(value) if value in ("low", "medium", "high") else value)


@dataclass
class Position:
    """The position record of §1.2 (mutable: trailing level, latch, size, margin and counters change)."""

    symbol: str
    side: str
    entry_price: float
    size: float
    confidence: str
    entry_atr: float
    entry_adx_threshold: float
    leverage: float
    margin_used: float
    open_time_ms: int
    last_add_time_ms: int
    trailing_sl: float | None = None
    be_armed: bool = False
    adds_count: int = 0
    tp1_taken: bool = False
    mae_usd: float = 0.0
    mfe_usd: float = 0.0


def profit_usd(pos: Position, price: float) -> float:
    """``profit_usd(pos, p)`` of §1.2: ``(p − entry) × size`` LONG, ``(entry − p) × size`` SHORT."""
    if pos.side == LONG:
        return (price - pos.entry_price) * pos.size
    return (pos.entry_price - price) * pos.size


def profit_atr(pos: Position, price: float) -> float:
    """``profit_atr(pos, p)`` of §1.2: favourable move in entry ATRs; 0.0 when ``entry_atr ≤ 0``."""
    if pos.entry_atr <= 0:
        return 0.0
    if pos.side == LONG:
        return (price - pos.entry_price) / pos.entry_atr
    return (pos.entry_price - price) / pos.entry_atr


def atr_eff(pos: Position) -> float:
    """``atr_eff(pos)`` of §1.2: ``entry_atr`` if > 0, else 0.5 % of the entry price."""
    return pos.entry_atr if pos.entry_atr > 0 else pos.entry_price * 0.005


def _by_confidence(trade: dict, stem: str, conf: str) -> float:
    return trade[f"{stem}_{conf.lower()}"]


def entry_sizing(trade: dict, equity_usd: float, price: float, conf: str, atr: float,
                 adx: float) -> tuple[float, float, float]:
    """``entry_sizing(equity, price, conf, atr, adx) → (size, margin, lev)`` of §3.3 (``trade`` = cfg["trade"])."""
    margin = equity_usd * trade["allocation_pct"]
    if trade["enable_dynamic_sizing"]:
        cm = _by_confidence(trade, "confidence_mult", conf)
        am = clamp(adx / trade["adx_sizing_full_adx"], trade["adx_sizing_min_mult"], 1.0)
        if trade["vol_baseline_pct"] > 0 and price > 0:
            vr = (atr / price) / trade["vol_baseline_pct"]
        else:
            vr = 1.0
        vraw = 1.0 / vr if vr > 0 else 1.0
        vs = clamp(vraw, trade["vol_scalar_min"], trade["vol_scalar_max"])
        margin = margin * ((cm * am) * vs)
    if trade["enable_dynamic_leverage"]:
        lev = _by_confidence(trade, "leverage", conf)
        if trade["leverage_max_cap"] > 0:
            lev = min(lev, trade["leverage_max_cap"])
    else:
        lev = trade["leverage"]  # the cap is NOT applied in this branch
    notional = margin * lev
    size = notional / price if price > 0 else 0.0
    return size, margin, lev


def size_entry(state: "SimState", c: EntryCandidate, equity_usd: float,
               headroom_usd: float) -> tuple[float, float, float] | None:
    """§2.4 execution sizing: §3.3 sizing, headroom clamp (§3.4), min-notional rule; None = skip."""
    trade = state.cfg(c.symbol)["trade"]
    size, margin, lev = entry_sizing(trade, equity_usd, c.price, c.confidence, c.atr_entry, c.adx)
    if margin > headroom_usd:
        size = size * (headroom_usd / margin)
        margin = headroom_usd
    notional = size * c.price
    if notional < trade["min_notional_usd"]:
        if trade["bump_to_min_notional"] and c.price > 0:
            size = trade["min_notional_usd"] / c.price
            margin = (size * c.price) / lev  # may exceed the headroom (allowed)
        else:
            return None
    return size, margin, lev


def open_position(state: "SimState", c: EntryCandidate, size: float, margin_usd: float, lev: float,
                  reason: str, time_ms: int) -> bool:
    """``open_position(c, size, margin, lev, reason, τ)`` of §3.6: debit only the fee (C1), log OPEN."""
    if size <= 0 or margin_usd <= 0 or lev <= 0:
        return False
    side = LONG if c.signal == "BUY" else SHORT
    s = slippage_fraction(state.cfg(c.symbol))
    fill = entry_fill_price(side, c.price, s)
    n = fill_notional_usd(size, fill)
    fee = fee_usd(n, state.fee_rate)
    state.balance = state.balance - fee
    state.positions[c.symbol] = Position(
        symbol=c.symbol, side=side, entry_price=fill, size=size, confidence=c.confidence,
        entry_atr=c.atr_entry, entry_adx_threshold=c.entry_adx_threshold, leverage=lev, margin_used=margin_usd,
        open_time_ms=time_ms, last_add_time_ms=time_ms)
    state.last_entry_ms[c.symbol] = time_ms
    state.log(TradeRecord(time_ms, c.symbol, f"OPEN_{side}", fill, size, n, reason, c.confidence, 0.0,
                          fee, state.balance, c.atr_entry, lev, margin_usd))
    return True


def _add_size(state: "SimState", pos: Position, close: float, equity_usd: float) -> tuple[float, float] | None:
    """§4 step 6: ``(add_size, add_margin)`` from equity at the moment of the add, or None (fail)."""
    trade = state.cfg(pos.symbol)["trade"]
    if close <= 0:
        return None
    add_margin = (equity_usd * trade["allocation_pct"]) * trade["add_fraction_of_base_margin"]
    add_notional = add_margin * pos.leverage
    add_size = add_notional / close
    if add_notional < trade["min_notional_usd"]:
        if not trade["bump_to_min_notional"]:
            return None
        add_notional = trade["min_notional_usd"]  # add_margin is NOT bumped
        add_size = add_notional / close
    return add_size, add_margin


def pyramid_allowed(state: "SimState", pos: Position, close: float, conf: str, time_ms: int) -> bool:
    """§4 checks 1-5 (adds count, confidence, add cooldown, profit in ATR, entry cooldown)."""
    trade = state.cfg(pos.symbol)["trade"]
    if not pos.adds_count < trade["max_adds_per_symbol"]:
        return False
    if conf_rank(conf) < conf_rank(trade["add_min_confidence"]):
        return False
    if not (time_ms - pos.last_add_time_ms) / 60000.0 >= trade["add_cooldown_minutes"]:
        return False
    if not profit_atr(pos, close) >= trade["add_min_profit_atr"]:
        return False
    return not state.entry_cooldown_active(pos.symbol, time_ms)


def try_pyramid(state: "SimState", symbol: str, close: float, conf: str, atr_entry: float,
                time_ms: int) -> bool:
    """``try_pyramid(sym, S, conf, atr_e, τ)`` of §4; ``close`` = ``S.close``. Returns True when added."""
    pos = state.positions[symbol]
    if not pyramid_allowed(state, pos, close, conf, time_ms):
        return False
    equity_usd = state.equity()  # E = equity() now [Q12 changed]
    sized = _add_size(state, pos, close, equity_usd)
    if sized is None:
        return False
    add_size, add_margin = sized
    cap_pct = state.portfolio["trade"]["max_total_margin_pct"]
    if equity_usd * cap_pct - (state.total_margin_usd() + add_margin) < 0:
        return False
    if add_size <= 0 or add_margin <= 0:
        return False
    _apply_add(state, pos, close, conf, atr_entry, add_size, add_margin, time_ms)
    return True


def _apply_add(state: "SimState", pos: Position, close: float, conf: str, atr_entry: float,
               add_size: float, add_margin: float, time_ms: int) -> None:
    """§4 "apply": fee only (C1, D24), size-weighted entry price, margin, counters, ADD record."""
    fill = entry_fill_price(pos.side, close, slippage_fraction(state.cfg(pos.symbol)))
    n = fill_notional_usd(add_size, fill)
    fee = fee_usd(n, state.fee_rate)
    state.balance = state.balance - fee
    total = pos.size + add_size
    if total > 0:
        pos.entry_price = (pos.entry_price * pos.size + fill * add_size) / total
    pos.size = total
    pos.margin_used = pos.margin_used + add_margin
    pos.adds_count += 1
    pos.last_add_time_ms = time_ms
    state.last_entry_ms[pos.symbol] = time_ms
    state.log(TradeRecord(time_ms, pos.symbol, f"ADD_{pos.side}", fill, add_size, n,
                          pyramid_reason(pos.adds_count), conf, 0.0, fee, state.balance, atr_entry,
                          pos.leverage, pos.margin_used))
