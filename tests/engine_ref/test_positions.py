"""Sizing, exposure guard, opening, ranking/execution and pyramiding (strategy-exits.md §2.4, §3, §4)."""
from __future__ import annotations

import pytest

from engine_ref.accounting import fee_rate_from_bps
from engine_ref.entry_eval import execute_candidates
from engine_ref.positions import entry_sizing, open_position, size_entry, try_pyramid
from engine_ref.ranking import EntryCandidate
from engine_ref.sim_state import SimState

from tests.engine_ref.engine_doubles import HOUR, T0, configs


def state_for(symbols=("AAA",), **dotted) -> SimState:
    cs = configs(symbols, {k.replace("__", "."): v for k, v in dotted.items()})
    return SimState(cs.portfolio, dict(cs.symbols), 10000.0, fee_rate_from_bps(3.5))


def cand(sym="AAA", signal="BUY", conf="High", adx=30.0, atr=1.0, price=100.0, tau=T0) -> EntryCandidate:
    return EntryCandidate(sym, signal, conf, adx, atr, 22.0, price, tau)


# ---- §3.3 entry sizing ---------------------------------------------------------------------------

def test_sizing_static_branches():
    trade = state_for(trade__enable_dynamic_sizing=False, trade__enable_dynamic_leverage=False,
                      trade__leverage=2.0, trade__leverage_max_cap=1.0).cfg("AAA")["trade"]
    size, margin, lev = entry_sizing(trade, 10000.0, 50.0, "Low", 1.0, 10.0)
    assert (margin, lev) == (300.0, 2.0)  # the cap is not applied without dynamic leverage
    assert size == (300.0 * 2.0) / 50.0


def test_sizing_dynamic_cap_and_vol_scalar():
    trade = state_for(trade__leverage_max_cap=0.5).cfg("AAA")["trade"]
    size, margin, lev = entry_sizing(trade, 10000.0, 100.0, "Medium", 2.0, 50.0)
    # cm 0.7, am clamp(50/40) = 1.0, vr = (2/100)/0.01 = 2 → vraw 0.5 → vs 0.5; lev min(3, 0.5)
    assert margin == 300.0 * ((0.7 * 1.0) * 0.5) and lev == 0.5
    assert size == (margin * lev) / 100.0
    trade0 = state_for(trade__vol_baseline_pct=0.0, trade__vol_scalar_max=0.8).cfg("AAA")["trade"]
    _, margin0, _ = entry_sizing(trade0, 10000.0, 100.0, "High", 2.0, 20.0)
    assert margin0 == 300.0 * ((1.0 * 0.6) * 0.8)  # raw scalar 1.0 clamped to vol_scalar_max
    assert entry_sizing(trade, 10000.0, 0.0, "High", 1.0, 30.0)[0] == 0.0


def test_headroom_clamp_and_min_notional():
    st = state_for(trade__min_notional_usd=10.0)
    size, margin, _ = size_entry(st, cand(), 10000.0, 100.0)
    assert margin == 100.0 and size == 11.25 * (100.0 / 225.0)
    assert size_entry(st, cand(), 10000.0, 0.5) is None  # notional 2.5 < 10: skipped
    bump = state_for(trade__bump_to_min_notional=True)
    size, margin, lev = size_entry(bump, cand(), 10000.0, 0.5)
    assert size == 10.0 / 100.0 and margin == (size * 100.0) / lev and margin > 0.5  # may exceed headroom


def test_open_position_rejects_non_positive_inputs():
    st = state_for()
    assert not open_position(st, cand(), 0.0, 1.0, 1.0, "High entry", T0)
    assert not open_position(st, cand(), 1.0, 0.0, 1.0, "High entry", T0)
    assert st.trades == [] and st.balance == 10000.0


def test_open_position_record_fields():
    st = state_for()
    assert open_position(st, cand(signal="SELL", atr=1.5), 2.0, 40.0, 5.0, "High entry", T0)
    pos, rec = st.positions["AAA"], st.trades[0]
    assert (pos.side, pos.entry_price, pos.trailing_sl, pos.be_armed, pos.adds_count) == ("SHORT", 99.9, None, False, 0)
    assert (pos.open_time_ms, pos.last_add_time_ms, st.last_entry_ms["AAA"]) == (T0, T0, T0)
    assert (rec.action, rec.entry_atr, rec.leverage, rec.margin_used, rec.pnl) == ("OPEN_SHORT", 1.5, 5.0, 40.0, 0.0)


# ---- §2.4 execution: ranking, budget, guards ----------------------------------------------------

def test_execution_order_budget_and_single_equity():
    st = state_for(("AAA", "BBB", "CCC"))
    cands = [cand("BBB", adx=30.5), cand("AAA", adx=30.5), cand("CCC", adx=41.0, conf="Medium")]
    execute_candidates(st, cands, T0, sub_bar=False)
    # scores: AAA 230, BBB 230 (tie → symbol), CCC 141
    assert [r.symbol for r in st.trades] == ["AAA", "BBB", "CCC"]
    assert st.trades[0].margin_used == st.trades[1].margin_used  # equity_e not recomputed between candidates
    assert st.budget == 3
    st2 = state_for(("AAA", "BBB"), trade__max_entry_orders_per_loop=1)
    execute_candidates(st2, [cand("AAA"), cand("BBB", adx=35.0)], T0, sub_bar=True)
    assert [(r.symbol, r.reason) for r in st2.trades] == [("BBB", "High entry (sub-bar)")]


def test_execution_guards():
    st = state_for(("AAA", "BBB"), trade__max_open_positions=0)
    execute_candidates(st, [cand()], T0, sub_bar=False)
    assert st.trades == [] and st.gate_stats == {"max_positions": 1}
    st = state_for(("AAA", "BBB"), trade__max_total_margin_pct=0.0)
    execute_candidates(st, [cand()], T0, sub_bar=False)
    assert st.trades == [] and st.gate_stats == {"margin": 1}
    st = state_for(("AAA",), trade__entry_cooldown_s=20)
    st.last_entry_ms["AAA"] = T0 - 19_999
    execute_candidates(st, [cand()], T0, sub_bar=False)
    assert st.trades == []
    st.last_entry_ms["AAA"] = T0 - 20_000
    execute_candidates(st, [cand()], T0, sub_bar=False)
    assert len(st.trades) == 1


# ---- §4 pyramiding -------------------------------------------------------------------------------

def opened(**dotted) -> SimState:
    st = state_for(trade__slippage_bps=0.0, **dotted)
    assert open_position(st, cand(), 10.0, 200.0, 5.0, "High entry", T0)
    st.marks["AAA"] = 101.0
    return st


@pytest.mark.parametrize("dotted, conf, close, dt", [
    ({"trade__max_adds_per_symbol": 0}, "High", 101.0, HOUR),
    ({"trade__add_min_confidence": "high"}, "Medium", 101.0, HOUR),
    ({}, "High", 101.0, HOUR - 1),                           # add cooldown 60 min, measured from the open
    ({"trade__add_min_profit_atr": 1.5}, "High", 101.0, HOUR),
    ({"trade__entry_cooldown_s": 4000}, "High", 101.0, HOUR),
    ({"trade__min_notional_usd": 1e6}, "High", 101.0, HOUR),  # no bump: fail
    ({"trade__max_total_margin_pct": 0.02}, "High", 101.0, HOUR),
])
def test_pyramid_checks_fail(dotted, conf, close, dt):
    st = opened(**dotted)
    assert not try_pyramid(st, "AAA", close, conf, 1.0, T0 + dt)
    assert len(st.trades) == 1


def test_pyramid_margin_cap_exactly_zero_allowed():
    """§3.4: an add is blocked iff ``E × max_total_margin_pct − (total_margin + add_margin) < 0``."""
    for bump, allowed in ((0.0, True), (1e-9, False)):
        st = opened(trade__max_total_margin_pct=1.0)
        e = st.equity()
        add_margin = (e * 0.03) * 0.5
        st.positions["AAA"].margin_used = (e - add_margin) + bump
        headroom = e * 1.0 - (st.positions["AAA"].margin_used + add_margin)
        assert (headroom == 0.0) if bump == 0.0 else (headroom < 0.0)
        assert try_pyramid(st, "AAA", 101.0, "High", 1.0, T0 + HOUR) == allowed


def test_pyramid_add_record_and_state():
    st = opened()
    add_margin = (st.equity() * 0.03) * 0.5
    assert try_pyramid(st, "AAA", 101.0, "Medium", 1.2, T0 + HOUR)
    rec, pos = st.trades[-1], st.positions["AAA"]
    assert (rec.action, rec.reason, rec.confidence, rec.entry_atr) == ("ADD_LONG", "Pyramid #1", "Medium", 1.2)
    assert pos.entry_atr == 1.0 and pos.confidence == "High" and pos.adds_count == 1
    assert pos.margin_used == 200.0 + add_margin and rec.margin_used == pos.margin_used
    assert pos.last_add_time_ms == T0 + HOUR and st.last_entry_ms["AAA"] == T0 + HOUR
    assert pos.entry_price == (100.0 * 10.0 + 101.0 * rec.size) / (10.0 + rec.size)
    assert not try_pyramid(st, "AAA", 101.0, "High", 1.0, T0 + HOUR + 30 * 60_000)  # cooldown from the add


def test_pyramid_bump_does_not_bump_margin():
    st = opened(trade__min_notional_usd=1e4, trade__bump_to_min_notional=True)
    add_margin = (st.equity() * 0.03) * 0.5
    assert try_pyramid(st, "AAA", 101.0, "High", 1.0, T0 + HOUR)
    assert st.trades[-1].size == 1e4 / 101.0
    assert st.positions["AAA"].margin_used == 200.0 + add_margin
