"""The clock and window loop of strategy-exits.md §2 (D2-D6, D25, D26, D38, D43, D53.6, D53.18).

Event order (D4) on a tiny 2-symbol table with exit and entry sub-bars, views (D5), end of data (§2.9),
``to_ts`` truncation = full-run prefix (D3 causality), ``from_ts`` scope, funding timing, input
normalisation (§1.1), accounting identity and determinism.
"""
from __future__ import annotations

import dataclasses
import json
import random
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import engine_ref.engine as engine_mod
from engine_ref.arith import q
from engine_ref.engine import Simulation, run_backtest
from engine_ref.inputs import normalise_inputs
from harness.errors import ConfigError, DataError

from tests.conftest import SHARED_DATA
from tests.engine_ref.engine_doubles import (HOUR, MIN, T0, bars, configs, install_indicators, install_signals,
                                             quiet_exits, replay_balance)

Q15 = 15 * MIN


def spy(monkeypatch, calls: list, name: str, kind: str) -> None:
    original = getattr(Simulation, name)

    def wrapper(self, *args):
        tau = args[-1]
        calls.append((kind, tau) if kind != "EVAL" else (kind, args[0], tau, args[1].t, args[1].prev_close))
        return original(self, *args)

    monkeypatch.setattr(Simulation, name, wrapper)


def two_symbol_inputs(n_main: int = 4):
    main = {"AAA": bars(T0, HOUR, [100.0 + i for i in range(n_main)]),
            "BBB": bars(T0, HOUR, [50.0 + i for i in range(n_main)])}
    subs = {Q15: {"AAA": bars(T0, Q15, [99.0 + 0.25 * (i + 1) for i in range(4 * n_main)]),
                  "BBB": bars(T0, Q15, [49.0 + 0.25 * (i + 1) for i in range(4 * n_main)])}}
    funding = {"AAA": ([T0], [0.0001]), "BBB": ([T0], [-0.0001])}
    return main, subs, funding


def test_d4_event_order_and_views(monkeypatch):
    main, subs, funding = two_symbol_inputs()
    cs = configs(["AAA", "BBB"], {**quiet_exits(), "engine.exit_interval": "15m", "engine.entry_interval": "15m"})
    install_signals(monkeypatch, {("AAA", T0 + HOUR): ("BUY", "High", 0.0), ("BBB", T0 + HOUR): ("BUY", "High", 0.0)})
    calls: list = []
    for name, kind in (("exit_subbar_step", "X"), ("entry_tick", "N"), ("main_step", "M")):
        spy(monkeypatch, calls, name, kind)
    spy(monkeypatch, calls, "evaluate_position", "EVAL")
    orig_settle = engine_mod.settle_funding
    monkeypatch.setattr(engine_mod, "settle_funding", lambda st, b: (calls.append(("F", b)), orig_settle(st, b)))
    r = run_backtest(main, cs, sub_bars=subs, funding=funding, lookback=1)
    steps = [c for c in calls if c[0] != "EVAL"]
    taus = [c[1] for c in steps]
    assert taus == sorted(taus)
    order = {"X": 0, "N": 1, "M": 2, "F": 3}
    for a, b in zip(steps, steps[1:]):
        if a[1] == b[1]:
            assert order[a[0]] < order[b[0]]
    c1 = T0 + 2 * HOUR  # C_1
    assert [k for k, tau in steps if tau == c1] == ["X", "N", "M", "F"]
    # sub-bar evaluations in W_2 = (C_1, C_2] see bar 1 (close 101 for AAA) as the view's prev_close (D5)
    evals = [c for c in calls if c[0] == "EVAL" and c[1] == "AAA"]
    sub_evals = [c for c in evals if c1 < c[2] < c1 + HOUR]
    assert sub_evals and all(c[4] == 101.0 for c in sub_evals)
    main_eval = [c for c in evals if c[2] == c1 + HOUR]
    assert main_eval and main_eval[-1][3] == T0 + 2 * HOUR  # the main step uses the bar that just closed
    assert r.trades[0].reason == "High entry (sub-bar)"
    # funding records come in ascending symbol order after everything else at the boundary
    f = [x for x in r.trades if x.action == "FUNDING"]
    assert [x.symbol for x in f[:2]] == ["AAA", "BBB"]


def test_sub_bar_exits_before_main_bar_at_equal_tau_and_main_exit_kept(monkeypatch):
    """The exit sub-bar closing at C_j runs first (old snapshot); the main evaluation at C_j sees the fresh bar."""
    main, subs, _ = two_symbol_inputs()
    cs = configs(["AAA"], {**quiet_exits(), "engine.exit_interval": "15m"})
    install_indicators(monkeypatch, {"AAA": {T0 + 2 * HOUR: {"ema_fast": 90.0, "ema_slow": 100.0}}})
    install_signals(monkeypatch, {("AAA", T0): ("BUY", "High", 0.0)})
    r = run_backtest({"AAA": main["AAA"]}, cs, sub_bars={Q15: {"AAA": subs[Q15]["AAA"]}}, lookback=1)
    close = [x for x in r.trades if x.action == "CLOSE_LONG"][0]
    assert close.timestamp_ms == T0 + 3 * HOUR and close.reason == "Trend Breakdown (EMA Cross)"


def test_position_opened_in_main_step_evaluated_from_next_point(monkeypatch):
    main, subs, _ = two_symbol_inputs()
    cs = configs(["AAA"], {**quiet_exits(), "engine.exit_interval": "15m"})
    install_signals(monkeypatch, {("AAA", T0): ("BUY", "High", 0.0)})
    calls: list = []
    spy(monkeypatch, calls, "evaluate_position", "EVAL")
    r = run_backtest({"AAA": main["AAA"]}, cs, sub_bars={Q15: {"AAA": subs[Q15]["AAA"]}}, lookback=1)
    assert r.trades[0].timestamp_ms == T0 + HOUR
    assert calls[0][2] == T0 + HOUR + Q15


def test_position_opened_at_entry_tick_evaluated_by_main_step_at_same_tau(monkeypatch):
    """D43: entry tick at τ = C_j precedes the main step, which exit-evaluates the new position."""
    main, subs, _ = two_symbol_inputs()
    cs = configs(["AAA"], {**quiet_exits(), "engine.entry_interval": "15m"})
    open_sub = T0 + 2 * HOUR - Q15  # sub-bar closing at C_1
    install_signals(monkeypatch, {("AAA", open_sub): ("BUY", "High", 0.0)})
    calls: list = []
    spy(monkeypatch, calls, "evaluate_position", "EVAL")
    r = run_backtest({"AAA": main["AAA"]}, cs, sub_bars={Q15: {"AAA": subs[Q15]["AAA"]}}, lookback=1)
    assert r.trades[0].timestamp_ms == T0 + 2 * HOUR
    assert calls[0][2] == T0 + 2 * HOUR and calls[0][3] == T0 + HOUR


def test_end_of_data_liquidation_and_trailing_window(monkeypatch):
    main, subs, _ = two_symbol_inputs(3)
    extra = bars(T0, Q15, [99.0 + 0.25 * (i + 1) for i in range(14)])  # 2 sub-bars beyond the last main bar
    cs = configs(["AAA"], {**quiet_exits(), "engine.exit_interval": "15m", "trade.slippage_bps": 10.0})
    install_signals(monkeypatch, {("AAA", T0): ("BUY", "High", 0.0)})
    r = run_backtest({"AAA": main["AAA"]}, cs, sub_bars={Q15: {"AAA": extra}}, lookback=1)
    d = T0 + 14 * Q15
    assert [t for t, _ in r.equity_curve] == [T0 + HOUR, T0 + 2 * HOUR, T0 + 3 * HOUR, d]
    last = r.trades[-1]
    assert (last.action, last.reason, last.timestamp_ms) == ("CLOSE_LONG", "End of Backtest", d)
    assert last.price == q(102.0 * (1.0 - 0.001))  # mark = the last main close, slipped
    assert r.final_balance == last.balance


def test_empty_timeline():
    r = run_backtest({"AAA": bars(T0, HOUR, [])}, configs(["AAA"]))
    assert r.trades == [] and r.equity_curve == [] and r.final_balance == 10000.0


def random_market(seed: int, n_main: int = 30):
    rng = random.Random(seed)
    main, subs = {}, {}
    for sym, p0 in (("AAA", 100.0), ("BBB", 20.0)):
        closes, sub_closes, p = [], [], p0
        for _ in range(n_main):
            for _ in range(4):
                p = round(p * (1.0 + rng.uniform(-0.01, 0.0105)), 4)
                sub_closes.append(p)
            closes.append(p)
        main[sym], subs[sym] = bars(T0, HOUR, closes), bars(T0, Q15, sub_closes)
    signals = {}
    for i in range(1, 4 * n_main):
        for sym in ("AAA", "BBB"):
            if rng.random() < 0.2:
                side = rng.choice(["BUY", "BUY", "SELL"]) if sym == "AAA" else rng.choice(["SELL", "SELL", "BUY"])
                signals[(sym, T0 + i * Q15)] = (side, rng.choice(["Medium", "High"]), 0.0)
    funding = {"AAA": ([T0 + h * HOUR for h in range(n_main)], [0.0001] * n_main)}
    return main, {Q15: subs}, signals, funding


SCENARIO = {"engine.exit_interval": "15m", "engine.entry_interval": "15m", "trade.enable_ssf_filter": False,
            "trade.enable_reef_filter": False, "trade.entry_cooldown_s": 0, "trade.add_cooldown_minutes": 30,
            "trade.add_min_profit_atr": 0.0, "trade.reentry_cooldown_min_mins": 0,
            "trade.reentry_cooldown_max_mins": 60, "trade.reentry_cooldown_minutes": 30,
            "trade.entry_min_confidence": "medium", "trade.smart_exit_adx_exhaustion_lt": 0.0,
            "trade.tp_atr_mult": 1.5, "thresholds.tp_and_momentum.tp_mult_strong": 2.0,
            "thresholds.tp_and_momentum.tp_mult_weak": 1.2, "trade.enable_rsi_overextension_exit": False}


def scenario_run(monkeypatch, seed: int, **kwargs):
    main, subs, signals, funding = random_market(seed)
    install_signals(monkeypatch, signals)
    return run_backtest(main, configs(["AAA", "BBB"], SCENARIO), sub_bars=subs, funding=funding, lookback=5,
                        **kwargs)


def record_bits(rec) -> tuple:
    """A record with every float as its bit pattern (parity compares floats by bits, D43)."""
    return tuple(struct.pack("<d", v) if isinstance(v, float) else v for v in dataclasses.astuple(rec))


def test_scenario_has_activity(monkeypatch):
    r = scenario_run(monkeypatch, 3)
    kinds = {x.action.split("_")[0] for x in r.trades}
    assert {"OPEN", "CLOSE", "FUNDING"} <= kinds
    replay_balance(10000.0, r.trades)


@pytest.mark.parametrize("cut", [T0 + 5 * HOUR + Q15, T0 + 9 * HOUR, T0 + 14 * HOUR + 2 * Q15 + 1,
                                 T0 + 22 * HOUR, T0 + 100 * HOUR])
def test_to_ts_truncation_is_a_prefix_of_the_full_run(monkeypatch, cut):
    """D3 causality: the run with to_ts = τ* = the full run's records ≤ τ*, then only its own liquidation."""
    full = scenario_run(monkeypatch, 3)
    part = scenario_run(monkeypatch, 3, to_ts=cut)
    prefix = [x for x in full.trades if x.timestamp_ms <= cut]
    assert [record_bits(x) for x in part.trades[:len(prefix)]] == [record_bits(x) for x in prefix]
    tail = part.trades[len(prefix):]
    assert all(x.reason == "End of Backtest" and x.timestamp_ms <= cut for x in tail)
    main_closes = {T0 + (j + 1) * HOUR for j in range(30)}
    full_curve = [(t, v) for t, v in full.equity_curve if t <= cut and t in main_closes]
    part_curve = [(t, v) for t, v in part.equity_curve if t in main_closes]
    assert part_curve == full_curve
    if cut >= T0 + 100 * HOUR:
        assert [record_bits(x) for x in part.trades] == [record_bits(x) for x in full.trades]


def test_determinism_and_accounting_identity(monkeypatch):
    a = scenario_run(monkeypatch, 11)
    b = scenario_run(monkeypatch, 11)
    assert [record_bits(x) for x in a.trades] == [record_bits(x) for x in b.trades]
    assert a.equity_curve == b.equity_curve and a.final_balance == b.final_balance
    assert replay_balance(10000.0, a.trades) == a.final_balance
    pnl = fees = funding = 0.0
    for rec in a.trades:
        fees = fees + rec.fee_usd
        if rec.action == "FUNDING":
            funding = funding + rec.pnl
        elif rec.action.startswith(("CLOSE", "REDUCE")):
            pnl = pnl + rec.pnl
    assert a.final_balance == pytest.approx(10000.0 + pnl - fees + funding, abs=1e-8)
    assert a.metrics["total_fees"] == fees


def test_from_ts_blocks_trading_before_it(monkeypatch):
    start = T0 + 10 * HOUR
    r = scenario_run(monkeypatch, 3, from_ts=start)
    assert r.trades and all(x.timestamp_ms >= start for x in r.trades)
    assert len(r.equity_curve) == len(scenario_run(monkeypatch, 3).equity_curve)


def test_funding_timing_open_pays_closed_does_not(monkeypatch):
    cs = configs(["AAA"], quiet_exits())
    install_signals(monkeypatch, {("AAA", T0): ("BUY", "High", 0.0), ("AAA", T0 + 2 * HOUR): ("SELL", "High", 0.0)})
    funding = {"AAA": ([T0 + HOUR, T0 + 2 * HOUR], [0.0001, 0.0002])}
    r = run_backtest({"AAA": bars(T0, HOUR, [100.0, 100.0, 100.0, 100.0, 100.0, 100.0])}, cs,
                     funding=funding, lookback=1)
    got = [(x.action, x.timestamp_ms - T0) for x in r.trades]
    # open at C_0 = 1 h pays at 1 h; flip at 3 h: the LONG closes and the SHORT opens, which pays at 3 h;
    # the row of 2 h is older than 2 h at 5 h → stale, not applied (D53.6)
    assert got == [("OPEN_LONG", HOUR), ("FUNDING", HOUR), ("FUNDING", 2 * HOUR), ("CLOSE_LONG", 3 * HOUR),
                   ("OPEN_SHORT", 3 * HOUR), ("FUNDING", 3 * HOUR), ("FUNDING", 4 * HOUR),
                   ("CLOSE_SHORT", 6 * HOUR)]
    assert r.trades[1].reason == "Funding rate=0.000100" and r.trades[1].pnl < 0
    assert r.trades[5].pnl > 0  # shorts receive at a positive rate


def test_stale_symbol_not_entry_evaluated_at_ticks(monkeypatch):
    """D53.6: a symbol without a main bar in the last window is not entry-evaluated until a new bar."""
    main = {"AAA": bars(T0, HOUR, [100.0, 100.0, 100.0, 100.0]),
            "BBB": {k: [v for i, v in enumerate(col) if i != 1] for k, col in bars(T0, HOUR, [50.0] * 4).items()}}
    subs = {Q15: {s: bars(T0, Q15, [m["c"][0]] * 16) for s, m in main.items()}}
    cs = configs(["AAA", "BBB"], {**quiet_exits(), "engine.entry_interval": "15m"})
    calls = install_signals(monkeypatch, {})
    run_backtest(main, cs, sub_bars=subs, lookback=1)
    bbb_ticks = sorted({t for s, t, _ in calls if s == "BBB"})
    assert not any(T0 + 2 * HOUR <= t < T0 + 3 * HOUR for t in bbb_ticks)  # W_2 follows BBB's gap
    assert any(T0 + 3 * HOUR <= t for t in bbb_ticks)


# ---- input normalisation (§1.1, D38, D39, D53.18) -----------------------------------------------

def test_normalisation_universe_intervals_and_run_end():
    main, subs, _ = two_symbol_inputs(3)
    cs = configs(["AAA", "BBB"], {"engine.exit_interval": "60m", "engine.entry_interval": "15m",
                                  "watchlist_exclude": ["bbb"]})
    extra = {Q15: {"AAA": bars(T0, Q15, [1.0] * 20), "BBB": bars(T0, Q15, [1.0] * 40)}}
    inp = normalise_inputs(main, cs.portfolio, sub_bars=extra)
    assert inp.universe == ("AAA",) and inp.exit_bars is None and inp.entry_ms == Q15  # 60m == 1h: absent (C6)
    assert inp.run_end_ms == T0 + 20 * Q15  # BBB's longer sub-bars do not move D (D38)
    cut = normalise_inputs(main, cs.portfolio, sub_bars=extra, to_ts=T0 + 2 * HOUR + 1)
    assert cut.run_end_ms == T0 + 2 * HOUR + 1 and cut.timeline == (T0, T0 + HOUR)
    assert len(cut.entry_bars["AAA"]) == 8  # closes in (T_0, to_ts]
    early = {Q15: {"AAA": bars(T0 - HOUR, Q15, [1.0] * 8)}}
    first = normalise_inputs({"AAA": main["AAA"]}, cs.portfolio, sub_bars=early)
    assert first.entry_bars["AAA"].t[0] == T0  # sub-bars closing at or before T_0 are dropped (step 6)
    beyond = normalise_inputs(main, cs.portfolio, sub_bars=extra, to_ts=T0 + 1000 * HOUR)
    assert beyond.run_end_ms == T0 + 20 * Q15


def test_missing_sub_bars_is_a_data_error_unless_allowed(monkeypatch):
    main, subs, _ = two_symbol_inputs(3)
    cs = configs(["AAA", "BBB"], {**quiet_exits(), "engine.exit_interval": "15m"})
    only_a = {Q15: {"AAA": subs[Q15]["AAA"]}}
    with pytest.raises(DataError):
        run_backtest(main, cs, sub_bars=only_a)
    install_signals(monkeypatch, {})
    assert run_backtest(main, cs, sub_bars=only_a, allow_missing_sub_bars=True).final_balance == 10000.0


def test_input_and_run_parameter_errors():
    cs = configs(["AAA"])
    bad = bars(T0, HOUR, [100.0, 100.0])
    bad["t"][1] = T0
    with pytest.raises(DataError):
        run_backtest({"AAA": bad}, cs)
    tc = dict(bars(T0, HOUR, [100.0]), t_close=[T0 + HOUR])
    with pytest.raises(DataError):
        run_backtest({"AAA": tc}, cs)
    for bad_bars in (bars(T0 + 1, HOUR, [100.0]), bars(T0, HOUR, [100.0], spread=-0.1),
                     bars(T0, HOUR, [float("nan")])):
        with pytest.raises(DataError):
            run_backtest({"AAA": bad_bars}, cs)
    with pytest.raises(DataError):
        run_backtest({"AAA": bars(T0, HOUR, [1.0]), "aaa": bars(T0, HOUR, [1.0])}, configs(["AAA", "aaa"]))
    with pytest.raises(DataError):
        run_backtest({"AAA": bars(T0, HOUR, [1.0])}, cs, funding={"AAA": ([T0, T0], [0.1, 0.2])})
    for kwargs in ({"initial_balance": 0.0}, {"lookback": -1}, {"lookback": 2.5}, {"taker_fee_bps": float("nan")},
                   {"to_ts": -5}):
        with pytest.raises(ConfigError):
            run_backtest({"AAA": bars(T0, HOUR, [100.0])}, cs, **kwargs)
    with pytest.raises(ConfigError):
        run_backtest({"ZZZ": bars(T0, HOUR, [100.0])}, cs)


# ---- the shared data file with the real entry layer ----------------------------------------------

@pytest.fixture(scope="module")
def shared_main():
    if not SHARED_DATA.is_file():
        pytest.skip("shared candles absent")
    rows = json.loads(SHARED_DATA.read_text())
    return {s: {k: [b[k] for b in r] for k in ("t", "o", "h", "l", "c", "v", "t_close")} for s, r in rows.items()}


def test_shared_data_real_entry_layer(shared_main):
    cs = configs(list(shared_main), {"trade.entry_min_confidence": "medium"})
    a = run_backtest(shared_main, cs)
    b = run_backtest(shared_main, cs)
    assert a.metrics["total_trades"] > 10 and a.metrics["total_signals"] > 0
    assert [record_bits(x) for x in a.trades] == [record_bits(x) for x in b.trades]
    assert replay_balance(10000.0, a.trades) == a.final_balance
    assert len(a.equity_curve) == 600
    cut = a.trades[len(a.trades) // 2].timestamp_ms
    part = run_backtest(shared_main, cs, to_ts=cut)
    prefix = [x for x in a.trades if x.timestamp_ms <= cut]
    assert [record_bits(x) for x in part.trades[:len(prefix)]] == [record_bits(x) for x in prefix]
    assert all(x.reason == "End of Backtest" for x in part.trades[len(prefix):])


@settings(deadline=None)
@given(seed=st.integers(0, 10_000), cut_q=st.integers(1, 130), offset_ms=st.sampled_from([0, 1, -1]))
def test_causality_property(seed, cut_q, offset_ms):
    """D3 as a property: any τ* gives the full run's records ≤ τ*, then only end-of-data records."""
    cut = T0 + cut_q * Q15 + offset_ms
    with pytest.MonkeyPatch.context() as mp:
        full = scenario_run(mp, seed)
        part = scenario_run(mp, seed, to_ts=cut)
    prefix = [record_bits(x) for x in full.trades if x.timestamp_ms <= cut]
    assert [record_bits(x) for x in part.trades[:len(prefix)]] == prefix
    assert all(x.reason == "End of Backtest" for x in part.trades[len(prefix):])
    closes = {t for t, _ in full.equity_curve if (t - T0) % HOUR == 0 and t <= cut}
    assert [p for p in part.equity_curve if p[0] in closes] == [p for p in full.equity_curve if p[0] in closes]


def test_numpy_inputs_equal_plain_lists(monkeypatch):
    np = pytest.importorskip("numpy")
    main, subs, signals, funding = random_market(5)
    install_signals(monkeypatch, signals)
    cs = configs(["AAA", "BBB"], SCENARIO)
    plain = run_backtest(main, cs, sub_bars=subs, funding=funding, lookback=5, to_ts=T0 + 20 * HOUR)
    as_np = {s: {k: np.asarray(v, dtype=np.int64 if k == "t" else np.float64) for k, v in m.items()}
             for s, m in main.items()}
    sub_np = {Q15: {s: {k: np.asarray(v, dtype=np.int64 if k == "t" else np.float64) for k, v in m.items()}
                    for s, m in subs[Q15].items()}}
    fund_np = {s: (np.asarray(t, dtype=np.int64), np.asarray(r)) for s, (t, r) in funding.items()}
    got = run_backtest(as_np, cs, sub_bars=sub_np, funding=fund_np, lookback=np.int64(5),
                       to_ts=np.int64(T0 + 20 * HOUR))
    assert [record_bits(x) for x in got.trades] == [record_bits(x) for x in plain.trades]
    assert all(type(x.price) is float and type(x.timestamp_ms) is int for x in got.trades)
