"""Reference backtest: the clock and window loop of strategy-exits.md §2 (DECISIONS.md D2-D6, D43).

``run_backtest`` normalises the inputs (§1.1), then processes windows ``W_j = (C_{j−1}, C_j]`` (first
``(T_0, C_0]``, trailing ``(C_{n−1}, D]``). Inside a window, events run by ascending decision time τ and,
at equal τ, in the order exit sub-bar step ``X`` → entry tick ``N`` → main step ``M`` → funding ``F``
(D4); the equity sample is taken at the window's right end (D26). Remaining positions are liquidated at
the run end ``D`` (§2.9). Symbols are iterated in ascending byte-wise order everywhere (§0.5).
"""
from __future__ import annotations

import math
import operator
from bisect import bisect_right
from dataclasses import dataclass, field
from typing import Any, Mapping, NamedTuple, Sequence

from engine_ref.accounting import HOUR_MS, apply_exit, fee_rate_from_bps, full_exit, settle_funding
from engine_ref.context import compute_context
from engine_ref.entry_eval import entry_evaluation, execute_candidates
from engine_ref.exits import evaluate_exits, update_position_state
from engine_ref.indicators import SymbolIndicators, view
from engine_ref.inputs import Bars, RunInputs, normalise_inputs
from engine_ref.metrics import compute_metrics
from engine_ref.records import END_OF_BACKTEST, TradeRecord
from engine_ref.sim_state import SimState
from harness.errors import ConfigError


class SubBar(NamedTuple):
    """A sub-bar's prices for the view of D5 (``t`` = open time in ms)."""

    t: int
    o: float
    h: float
    l: float  # noqa: E741 - the spec's name
    c: float


@dataclass(frozen=True)
class RunResult:
    """Outcome of one run: trade log (§6.5, event order), equity curve ``(τ, equity)``, balance, metrics."""

    trades: list[TradeRecord]
    equity_curve: list[tuple[int, float]]
    final_balance: float
    metrics: dict
    signal_log: list[tuple[int, str, str, str]] = field(default_factory=list)
    gate_stats: dict[str, int] = field(default_factory=dict)


class SubBarSeries:
    """One active sub-bar series (§2.1, §2.6, §2.7): the close times inside a window, and per symbol
    the bar closing at a given τ.

    Both are binary searches in the symbols' series: a year of 3m sub-bars is millions of rows, and
    only the few that meet an open position (exits) or a ready symbol (entries) become a :class:`SubBar`.
    """

    def __init__(self, series: Mapping[str, Bars] | None, step_ms: int | None) -> None:
        self.series, self.step_ms = series or {}, step_ms or 0

    def closes_in(self, left: int, right: int) -> set[int]:
        """Distinct close times in ``(left, right]`` over all symbols of the series.

        Open times are multiples of the interval (§1.1 step 1, D53.5), so the window holds at most
        ``possible`` close times; the scan stops once all of them are found (usually at the first symbol).
        """
        if not self.series:
            return set()
        step = self.step_ms
        lo, hi = left - step, right - step  # the same bounds on open times
        possible = hi // step - lo // step
        opens: set[int] = set()
        for bars in self.series.values():
            t = bars.t
            opens.update(t[bisect_right(t, lo):bisect_right(t, hi)])
            if len(opens) == possible:
                break
        return {t + step for t in opens}

    def bar_closing_at(self, sym: str, tau: int) -> SubBar | None:
        """``sym``'s sub-bar with close time τ, or ``None`` (no series, or no bar closing at τ)."""
        bars = self.series.get(sym)
        i = None if bars is None else bars.row_closing_at(tau, self.step_ms)
        if i is None:
            return None
        return SubBar(bars.t[i], bars.o[i], bars.h[i], bars.l[i], bars.c[i])


class Simulation:
    """One run of the §2.2 loop over normalised inputs."""

    def __init__(self, inputs: RunInputs, state: SimState, lookback: int, from_ts: int | None) -> None:
        self.inp, self.state, self.lookback, self.from_ts = inputs, state, lookback, from_ts
        self.indicators = {sym: SymbolIndicators.from_config(state.cfg(sym)) for sym in inputs.universe}
        self.exit_series = SubBarSeries(inputs.exit_bars, inputs.exit_ms)
        self.entry_series = SubBarSeries(inputs.entry_bars, inputs.entry_ms)
        self.next_bar = {sym: 0 for sym in inputs.universe}
        self.context: Any = None
        self.window_left = 0

    def in_scope(self, time_ms: int) -> bool:
        """``in_scope(τ)`` of §1.1 (C5): ``from_ts`` absent or ``τ ≥ from_ts``."""
        return self.from_ts is None or time_ms >= self.from_ts

    def entry_sub_bar_symbol(self, sym: str) -> bool:
        """Entries of ``sym`` happen at entry ticks (D6); without its sub-bars (D53.18 flag) at main steps."""
        return self.inp.entry_bars is not None and sym in self.inp.entry_bars

    def run(self) -> None:
        """§2.2 top level: every window, then the end-of-data liquidation (§2.9)."""
        timeline, step = self.inp.timeline, self.inp.interval_ms
        n = len(timeline)
        for j in range(n + 1):
            left = timeline[0] if j == 0 else timeline[j - 1] + step
            right = timeline[j] + step if j < n else self.inp.run_end_ms
            if j == n and right <= left:
                break  # the trailing window is empty: no events, no sample
            self.run_window(left, right, j if j < n else None)
            self.state.equity_curve.append((right, self.state.equity()))
        self.end_of_data()

    def run_window(self, left: int, right: int, j: int | None) -> None:
        """Events of one window by ascending τ (§2.1); at equal τ: X, N, M, F (D4)."""
        self.context = compute_context(self.indicators, self.state.symbol_cfgs, self.inp.universe)
        self.state.budget = 0
        self.window_left = left
        exit_taus = self.exit_series.closes_in(left, right)
        entry_taus = self.entry_series.closes_in(left, right)
        funding = self.inp.funding is not None
        fund_taus = range((left // HOUR_MS + 1) * HOUR_MS, right + 1, HOUR_MS) if funding else range(0)
        main_taus = (right,) if j is not None else ()
        for tau in sorted(exit_taus.union(entry_taus, main_taus, fund_taus)):
            if tau in exit_taus and self.in_scope(tau):
                self.exit_subbar_step(tau)
            if tau in entry_taus and self.in_scope(tau):
                self.entry_tick(tau)
            if j is not None and tau == right:
                self.main_step(j, tau)
            if funding and tau % HOUR_MS == 0 and self.in_scope(tau):
                settle_funding(self.state, tau)

    def evaluate_position(self, sym: str, s: Any, time_ms: int) -> None:
        """One exit evaluation (§5.0): apply the exit (§6.3), or update the position state (§5.2)."""
        pos = self.state.positions[sym]
        cfg = self.state.cfg(sym)
        order = evaluate_exits(pos, s, cfg)
        if order is not None:
            apply_exit(self.state, sym, order, time_ms)
        else:
            update_position_state(pos, s, cfg)

    def exit_subbar_step(self, tau: int) -> None:
        """``X(τ)`` of §2.6: every open position with an exit sub-bar closing at τ, on the view (D5)."""
        for sym in sorted(self.state.positions):  # key list frozen at the start of the step
            bar = self.exit_series.bar_closing_at(sym, tau)
            if bar is None or sym not in self.state.positions:
                continue
            snap = self.indicators[sym].snapshot
            if snap is None or self.state.exit_cooldown_active(sym, tau):
                continue
            self.evaluate_position(sym, view(snap, bar), tau)

    def entry_ready(self, sym: str) -> bool:
        """Readiness for an entry tick (§2.7) and the D53.6 staleness rule (latest bar closes at the window start)."""
        ind = self.indicators[sym]
        if ind.snapshot is None or ind.bar_count < self.lookback:
            return False
        return ind.snapshot.t + self.inp.interval_ms == self.window_left

    def entry_tick(self, tau: int) -> None:
        """``N(τ)`` of §2.7: entry evaluation on views of the entry sub-bars closing at τ, then execution."""
        cands: list = []
        for sym in self.inp.universe:
            bar = self.entry_series.bar_closing_at(sym, tau)
            if bar is not None and self.entry_ready(sym):
                view_s = view(self.indicators[sym].snapshot, bar)
                entry_evaluation(self.state, sym, view_s, tau, self.context, cands)
        execute_candidates(self.state, cands, tau, sub_bar=True)

    def feed_main_bars(self, j: int) -> list[str]:
        """Main step pass 1 (D4): feed the bar at ``T_j`` to every symbol that has one; update marks."""
        t_j, fed = self.inp.timeline[j], []
        for sym in self.inp.universe:
            bars, i = self.inp.main[sym], self.next_bar[sym]
            if i < len(bars) and bars.t[i] == t_j:
                self.indicators[sym].update(t=bars.t[i], o=bars.o[i], h=bars.h[i], l=bars.l[i],
                                            c=bars.c[i], v=bars.v[i])
                self.state.marks[sym] = bars.c[i]
                self.next_bar[sym] = i + 1
                fed.append(sym)
        return fed

    def main_step(self, j: int, tau: int) -> None:
        """``M`` of §2.3: pass 1 always; pass 2 (exits, then main-bar entries) and execution if in scope."""
        fed = self.feed_main_bars(j)
        if not self.in_scope(tau):
            return
        cands: list = []
        for sym in fed:
            snap = self.indicators[sym].snapshot
            if sym in self.state.positions and not self.state.exit_cooldown_active(sym, tau):
                self.evaluate_position(sym, snap, tau)
            if self.entry_sub_bar_symbol(sym) or self.indicators[sym].bar_count < self.lookback:
                continue
            entry_evaluation(self.state, sym, snap, tau, self.context, cands)
        if cands:
            execute_candidates(self.state, cands, tau, sub_bar=False)

    def end_of_data(self) -> None:
        """§2.9: close every remaining position at its mark, stamped ``D``, through ``apply_exit``."""
        run_end = self.inp.run_end_ms
        for sym in sorted(self.state.positions):
            apply_exit(self.state, sym, full_exit(END_OF_BACKTEST, self.state.mark(sym)), run_end)


def _int_param(name: str, value: Any, allow_none: bool) -> int | None:
    if value is None and allow_none:
        return None
    try:
        if isinstance(value, bool):
            raise TypeError
        number = operator.index(value)
    except TypeError:
        raise ConfigError(f"run parameter {name} = {value!r} must be an integer >= 0 (D42).") from None
    if number < 0:
        raise ConfigError(f"run parameter {name} = {value!r} must be an integer >= 0 (D42).")
    return int(number)


def _float_param(name: str, value: Any, positive: bool) -> float:
    number = float(value)
    if not math.isfinite(number) or (number <= 0 if positive else number < 0):
        rule = "finite and > 0" if positive else "finite and >= 0"
        raise ConfigError(f"run parameter {name} = {value!r} must be {rule} (D42).")
    return number


def _config_parts(configs: Any) -> tuple[dict, dict[str, dict]]:
    """Portfolio config and per-symbol configs of a ConfigSet (or a mapping with the same two keys)."""
    if isinstance(configs, Mapping):
        return configs["portfolio"], configs["symbols"]
    return configs.portfolio, configs.symbols


def run_backtest(main: Mapping[str, Mapping[str, Sequence]], configs: Any, *,
                 sub_bars: Mapping[int, Mapping[str, Mapping[str, Sequence]]] | None = None,
                 funding: Mapping[str, tuple[Sequence[int], Sequence[float]]] | None = None,
                 initial_balance: float = 10000.0, lookback: int = 200, taker_fee_bps: float = 3.5,
                 from_ts: int | None = None, to_ts: int | None = None,
                 allow_missing_sub_bars: bool = False) -> RunResult:
    """Run the reference backtest (strategy-exits.md §1-§6) and return trades, equity curve and metrics.

    ``main``: symbol → {"t", "o", "h", "l", "c", "v"} (open times in ms); ``sub_bars``: interval length
    in ms → symbol → arrays of the same keys; ``funding``: symbol → (times ms, hourly rates).
    """
    balance0 = _float_param("initial_balance", initial_balance, True)
    lookback_bars = _int_param("lookback", lookback, False)
    fee_rate = fee_rate_from_bps(_float_param("taker_fee_bps", taker_fee_bps, False))
    from_ms, to_ms = _int_param("from_ts", from_ts, True), _int_param("to_ts", to_ts, True)
    portfolio, symbol_cfgs = _config_parts(configs)
    inputs = normalise_inputs(main, portfolio, sub_bars=sub_bars, funding=funding, to_ts=to_ms,
                              allow_missing_sub_bars=allow_missing_sub_bars)
    missing = [sym for sym in inputs.universe if sym not in symbol_cfgs]
    if missing:
        raise ConfigError(f"no effective config for universe symbols {missing}; load the ConfigSet with "
                          "these symbols (load_config_set(path, symbols=...)) (D27).")
    state = SimState(portfolio, {sym: symbol_cfgs[sym] for sym in inputs.universe}, balance0, fee_rate,
                     inputs.funding)
    if inputs.timeline:
        Simulation(inputs, state, lookback_bars, from_ms).run()
    metrics = compute_metrics(state.trades, state.equity_curve, balance0, state.balance,
                              len(state.signal_log), state.gate_stats)
    return RunResult(list(state.trades), list(state.equity_curve), state.balance, metrics,
                     list(state.signal_log), dict(state.gate_stats))
