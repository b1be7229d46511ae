"""The worked vectors of strategy-exits.md §6.4 (D26), reproduced bit for bit through engine_ref.

One symbol, LONG, consecutive steps V1-V5 (open, add, partial reduce, funding, close) and the short
round trip V6. Code defaults (slippage 10 bps, dynamic sizing and leverage on), taker fee 3.5 bps.
"""
from __future__ import annotations

import struct

import pytest

from engine_ref.accounting import ExitOrder, apply_exit, fee_rate_from_bps, full_exit, settle_funding
from engine_ref.config_loader import load_config_set
from engine_ref.positions import entry_sizing, open_position, try_pyramid
from engine_ref.ranking import EntryCandidate
from engine_ref.sim_state import SimState

HOUR = 3_600_000
T0 = 1_700_000_000_000 - (1_700_000_000_000 % HOUR)


def bits(x: float) -> bytes:
    return struct.pack("<d", x)


def assert_exact(actual: float, expected: float) -> None:
    assert bits(actual) == bits(expected), f"{actual!r} != {expected!r}"


@pytest.fixture(scope="module")
def configs():
    return load_config_set(None, ["XYZ"])


def new_state(configs, funding=None) -> SimState:
    return SimState(configs.portfolio, {"XYZ": configs.symbols["XYZ"]}, 10000.0, fee_rate_from_bps(3.5), funding)


def open_v1(state: SimState) -> None:
    trade = state.cfg("XYZ")["trade"]
    size, margin, lev = entry_sizing(trade, state.equity(), 100.0, "High", 1.0, 30.0)
    cand = EntryCandidate("XYZ", "BUY", "High", 30.0, 1.0, 22.0, 100.0, T0)
    assert open_position(state, cand, size, margin, lev, "High entry", T0)
    state.marks["XYZ"] = 100.0


def test_v1_open(configs):
    state = new_state(configs)
    trade = state.cfg("XYZ")["trade"]
    assert trade["slippage_bps"] == 10.0 and state.fee_rate == 0.00035
    size, margin, lev = entry_sizing(trade, 10000.0, 100.0, "High", 1.0, 30.0)
    assert_exact(margin, 225.0)
    assert_exact(lev, 5.0)
    assert_exact(size, 11.25)
    open_v1(state)
    rec = state.trades[-1]
    assert rec.action == "OPEN_LONG" and rec.reason == "High entry" and rec.confidence == "High"
    assert_exact(rec.price, 100.1)
    assert_exact(rec.notional, 1126.125)
    assert_exact(rec.fee_usd, 0.39414375)
    assert_exact(rec.balance, 9999.60585625)
    assert_exact(state.positions["XYZ"].margin_used, 225.0)
    assert_exact(state.unrealized_usd(), -1.124999999999936)
    assert_exact(state.equity(), 9998.48085625)


def steps_v1_v2(configs, funding=None) -> SimState:
    state = new_state(configs, funding)
    open_v1(state)
    state.marks["XYZ"] = 102.0
    assert try_pyramid(state, "XYZ", 102.0, "High", 1.0, T0 + HOUR)
    return state


def test_v2_add(configs):
    state = new_state(configs)
    open_v1(state)
    state.marks["XYZ"] = 102.0
    assert_exact(state.unrealized_usd(), 21.375000000000064)
    assert_exact(state.equity(), 10020.98085625)
    assert try_pyramid(state, "XYZ", 102.0, "High", 1.0, T0 + HOUR)
    rec, pos = state.trades[-1], state.positions["XYZ"]
    assert rec.action == "ADD_LONG" and rec.reason == "Pyramid #1"
    assert_exact(rec.size, 7.368368276654411)
    assert_exact(rec.price, 102.102)
    assert_exact(rec.notional, 752.325137782969)
    assert_exact(rec.fee_usd, 0.263313798224)
    assert_exact(rec.balance, 9999.342542451775)
    assert_exact(pos.entry_price, 100.89230752505627)
    assert_exact(pos.size, 18.61836827665441)
    assert_exact(pos.margin_used, 375.31471284375)
    assert_exact(rec.margin_used, 375.31471284375)
    assert_exact(375.31471284375 - 225.0, 150.31471284375)  # add_margin


def steps_v1_v3(configs, funding=None) -> SimState:
    state = steps_v1_v2(configs, funding)
    apply_exit(state, "XYZ", ExitOrder("PARTIAL", "Take Profit (Partial)", 104.0, 0.5), T0 + 2 * HOUR)
    return state


def test_v3_partial_reduce(configs):
    state = steps_v1_v3(configs)
    rec, pos = state.trades[-1], state.positions["XYZ"]
    assert rec.action == "REDUCE_LONG" and rec.reason == "Take Profit (Partial)"
    assert_exact(rec.price, 103.896)
    assert_exact(rec.size, 9.309184138327)
    assert_exact(rec.notional, 967.186995235622)
    assert_exact(rec.pnl, 27.961926344158)
    assert_exact(rec.fee_usd, 0.338515448332)
    assert_exact(rec.balance, 10026.9659533476)
    assert_exact(9999.342542451775 + 27.623410895826, 10026.9659533476)  # balance + cash
    assert_exact(rec.margin_used, 187.65735642187084)
    assert_exact(pos.size, 9.309184138327412)
    assert_exact(pos.margin_used, 187.65735642187917)
    assert pos.tp1_taken
    assert state.last_close["XYZ"] == (T0 + 2 * HOUR, "LONG", "Take Profit (Partial)")
    assert state.last_exit_ms["XYZ"] == T0 + 2 * HOUR


def steps_v1_v4(configs) -> SimState:
    state = steps_v1_v3(configs, funding={"XYZ": ([T0 + 3 * HOUR], [0.0001])})
    state.marks["XYZ"] = 103.5
    settle_funding(state, T0 + 3 * HOUR)
    return state


def test_v4_funding(configs):
    state = steps_v1_v4(configs)
    rec = state.trades[-1]
    assert rec.action == "FUNDING" and rec.reason == "Funding rate=0.000100" and rec.timestamp_ms == T0 + 3 * HOUR
    assert_exact(rec.pnl, -0.096350055832)
    assert_exact(rec.balance, 10026.869603291769)
    assert_exact(rec.notional, 963.5005583168871)
    assert_exact(rec.price, 103.5)
    assert_exact(rec.fee_usd, 0.0)


def test_v5_close(configs):
    state = steps_v1_v4(configs)
    apply_exit(state, "XYZ", full_exit("Stop Loss", 103.0), T0 + 4 * HOUR)
    rec = state.trades[-1]
    assert rec.action == "CLOSE_LONG" and "XYZ" not in state.positions
    assert_exact(rec.price, 102.897)
    assert_exact(rec.notional, 957.887120281476)
    assert_exact(rec.pnl, 18.662051389971)
    assert_exact(rec.fee_usd, 0.335260492099)
    assert_exact(rec.balance, 10045.196394189641)
    assert_exact(state.balance, 10045.196394189641)
    assert_exact((102.897 - 100.89230752505627) * 9.309184138327412, 18.662051389970568)  # raw
    assert_exact(10026.869603291769 + 18.326790897872, 10045.196394189641)  # balance + cash


def test_v6_short_round_trip(configs):
    state = new_state(configs)
    cand = EntryCandidate("XYZ", "SELL", "High", 30.0, 1.0, 22.0, 50.0, T0)
    assert open_position(state, cand, 2.0, 20.0, 5.0, "High entry", T0)
    rec = state.trades[-1]
    assert rec.action == "OPEN_SHORT"
    assert_exact(rec.price, 49.95)
    assert_exact(rec.notional, 99.9)
    assert_exact(rec.fee_usd, 0.034965)
    apply_exit(state, "XYZ", full_exit("Take Profit", 48.0), T0 + HOUR)
    rec = state.trades[-1]
    assert rec.action == "CLOSE_SHORT"
    assert_exact(rec.price, 48.048)
    assert_exact(rec.notional, 96.096)
    assert_exact((48.048 - 49.95) * 2.0, -3.804000000000002)
    assert_exact(rec.pnl, 3.804)
    assert_exact(rec.fee_usd, 0.0336336)
    assert_exact(state.balance, 10003.7354014)


def test_short_closed_at_entry_has_positive_zero_pnl(configs):
    """D37: q(−(+0.0)) is +0.0 — a SHORT closed exactly at its entry fill."""
    state = new_state(configs)
    state.symbol_cfgs["XYZ"] = {**state.cfg("XYZ"), "trade": {**state.cfg("XYZ")["trade"], "slippage_bps": 0.0}}
    cand = EntryCandidate("XYZ", "SELL", "High", 30.0, 1.0, 22.0, 50.0, T0)
    assert open_position(state, cand, 2.0, 20.0, 5.0, "High entry", T0)
    apply_exit(state, "XYZ", full_exit("Stop Loss", 50.0), T0 + HOUR)
    assert bits(state.trades[-1].pnl) == bits(0.0)


def test_long_funding_at_zero_rate_is_positive_zero(configs):
    """D37: the funding delta of a LONG at rate 0.0 is q(−0.0) = +0.0."""
    state = new_state(configs, funding={"XYZ": ([T0], [0.0])})
    open_v1(state)
    settle_funding(state, T0)
    assert bits(state.trades[-1].pnl) == bits(0.0)
