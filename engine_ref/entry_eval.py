"""Entry evaluation and candidate execution, shared by main steps and entry ticks (strategy-exits.md §2.4, D6).

At every entry evaluation point, per ready symbol: entry layer (gates + modes, ``engine_ref.entries``)
→ transforms T1-T4 (``engine_ref.transforms``) → position interaction (signal flip close / pyramiding /
flat) → filters F1-F4 (``engine_ref.entry_filters``) → candidate. After all symbols of the point, the
candidates are ranked (``engine_ref.ranking``) and executed against one entry equity (§3.2, D26).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from engine_ref.accounting import apply_exit, full_exit
from engine_ref.entries import generate
from engine_ref.entry_filters import first_blocking_filter
from engine_ref.entry_modes import BUY, NEUTRAL
from engine_ref.positions import LONG, SHORT, open_position, size_entry, try_pyramid
from engine_ref.ranking import EntryCandidate, rank_candidates
from engine_ref.records import SIGNAL_FLIP, entry_reason
from engine_ref.transforms import apply_transforms

if TYPE_CHECKING:  # pragma: no cover
    from engine_ref.sim_state import SimState


def entry_evaluation(state: "SimState", symbol: str, s: Any, time_ms: int, context: Any,
                     cands: list[EntryCandidate]) -> None:
    """``entry_evaluation(sym, S, τ, cands)`` of §2.4; ``s`` is the snapshot (main step) or view (tick)."""
    cfg = state.cfg(symbol)
    signal, conf, entry_thr = generate(s, cfg, context, symbol)
    if signal == NEUTRAL:
        return
    state.signal_log.append((time_ms, symbol, signal, conf))  # raw signal, before transforms (§6.8)
    final = apply_transforms(signal, s, cfg, context)          # T1 (entry ATR) then T2-T4
    if final.signal == NEUTRAL:
        return
    want = LONG if final.signal == BUY else SHORT
    pos = state.positions.get(symbol)
    if pos is not None and pos.side != want:  # signal flip: no cooldown, no confidence check (§5.5)
        apply_exit(state, symbol, full_exit(SIGNAL_FLIP, s.close), time_ms)
    if symbol in state.positions:  # same direction: pyramiding only
        if cfg["trade"]["enable_pyramiding"]:
            try_pyramid(state, symbol, s.close, conf, final.atr_entry, time_ms)
        return
    blocked = first_blocking_filter(final.signal, conf, s, cfg, state.last_close.get(symbol), time_ms)
    if blocked is not None:  # F1-F4
        state.count_gate(blocked)
        return
    cands.append(EntryCandidate(symbol, final.signal, conf, s.adx, final.atr_entry, entry_thr, s.close,
                                time_ms))


def execute_candidates(state: "SimState", cands: list[EntryCandidate], time_ms: int, sub_bar: bool) -> None:
    """``execute_candidates(cands, τ)`` of §2.4: ranked order, one entry equity, shared window budget."""
    ranked = rank_candidates(cands)
    equity_e = state.equity()  # once, after this point's exits, flips and adds (D26)
    guard = state.portfolio["trade"]
    for c in ranked:
        if state.budget >= guard["max_entry_orders_per_loop"]:
            break
        if len(state.positions) >= guard["max_open_positions"]:
            state.count_gate("max_positions")
            break
        if c.symbol in state.positions or state.entry_cooldown_active(c.symbol, time_ms):
            continue
        headroom = equity_e * guard["max_total_margin_pct"] - state.total_margin_usd()
        if headroom <= 0:
            state.count_gate("margin")
            continue
        sized = size_entry(state, c, equity_e, headroom)
        if sized is None:
            continue
        size, margin, lev = sized
        if open_position(state, c, size, margin, lev, entry_reason(c.confidence, sub_bar), time_ms):
            state.budget += 1
