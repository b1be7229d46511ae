"""Candidate replay and validators on engine_ref: full-data replay, walk-forward folds, slippage
stress, score_v1 (factory-and-audits.md §2.6, §4.2, §4.3, §9.4; D24, D53.11).

* Walk-forward: nothing is trained; the fixed candidate is replayed on ``k`` contiguous, equal
  out-of-sample windows of the data's main-bar range (``from_ts``/``to_ts``; indicators still see the
  full history before each window, D21). Per fold: PnL, drawdown (fraction), trades, profit factor
  and daily return = pnl / initial balance / fold days. Aggregate: median OOS daily return and the
  max OOS drawdown. A validator failure (median OOS daily return < 0) rejects with a reason.
* Slippage stress: the candidate replayed with ``trade.slippage_bps`` set to each level as the
  topmost layer for every symbol (D53.11) — levels are multiples of the candidate's own portfolio
  slippage (default 1×, 2×, 3×; 10/20/30 bps when it is 0); baseline = the first level;
  fragility = (PnL at baseline − PnL at the reject level) / initial balance; a flip (baseline PnL > 0
  and reject-level PnL < 0) rejects.
* score_v1 = median OOS daily return − 2·max OOS drawdown − 0.5·fragility − trades_penalty with
  trades_penalty = weight × max(0, min_trades − trades) / min_trades.
"""
from __future__ import annotations

import math
import statistics
from dataclasses import asdict, dataclass, field
from pathlib import Path

from harness.accounting_check import check_balance_identity
from harness.replay import ReplayResult, RunParams, _record_dict, load_inputs

DAY_MS = 86_400_000


@dataclass
class ReplayContext:
    """Market data loaded once; replays any candidate of the run on engine_ref."""

    candles: Path
    params: RunParams
    base_yaml: Path | None

    def __post_init__(self) -> None:
        from engine_ref.config_loader import load_config

        portfolio = load_config(self.base_yaml, None, self.params.strategy_mode, run_mode=self.params.run_mode)
        self.md, self.inputs = load_inputs(Path(self.candles), portfolio, None)
        self.symbols = tuple(self.md.symbols())
        starts = [int(s.t[0]) for s in self.md.main.values() if len(s.t)]
        ends = [int(s.t[-1]) for s in self.md.main.values() if len(s.t)]
        self.first_ms, self.last_ms = min(starts), max(ends)
        self.bar_ms = next(iter(self.md.main.values())).interval_ms if self.md.main else 3_600_000

    def configs(self, yaml_path: Path | None, slippage_bps: float | None = None):
        from engine_ref.config_loader import load_config_set

        cs = load_config_set(yaml_path, self.symbols, self.params.strategy_mode, run_mode=self.params.run_mode)
        if slippage_bps is not None:  # the topmost layer for every symbol (D53.11)
            cs.portfolio["trade"]["slippage_bps"] = float(slippage_bps)
            for cfg in cs.symbols.values():
                cfg["trade"]["slippage_bps"] = float(slippage_bps)
        return cs

    def run(self, yaml_path: Path | None, *, from_ts: int | None = None, to_ts: int | None = None,
            slippage_bps: float | None = None) -> ReplayResult:
        import time

        from engine_ref.engine import run_backtest

        p = self.params
        cs = self.configs(yaml_path, slippage_bps)
        t0 = time.perf_counter()
        res = run_backtest(self.inputs.main, cs, sub_bars=self.inputs.sub_bars or None, funding=self.inputs.funding,
                           initial_balance=p.initial_balance, lookback=p.lookback, taker_fee_bps=p.taker_fee_bps,
                           from_ts=from_ts if from_ts is not None else p.from_ts,
                           to_ts=to_ts if to_ts is not None else p.to_ts,
                           allow_missing_sub_bars=p.allow_missing_sub_bars)
        trades = [_record_dict(r) for r in res.trades]
        check_balance_identity(trades, p.initial_balance, float(res.final_balance))
        meta = {"data_fingerprint": self.md.fingerprint(), "symbols": list(self.symbols),
                "run_params": asdict(p), "from_ts": from_ts, "to_ts": to_ts, "slippage_bps": slippage_bps}
        return ReplayResult("ref", trades, [(int(t), float(e)) for t, e in res.equity_curve], dict(res.metrics),
                            float(res.final_balance), time.perf_counter() - t0, meta)

    def fold_windows(self, k: int) -> list[tuple[int, int]]:
        """``k`` contiguous equal windows ``[from_ts, to_ts]`` (ms) over the main-bar decision range."""
        lo = self.params.from_ts if self.params.from_ts is not None else self.first_ms
        hi = self.params.to_ts if self.params.to_ts is not None else self.last_ms + self.bar_ms
        span = (hi - lo) // k
        return [(lo + i * span, (lo + (i + 1) * span) if i < k - 1 else hi) for i in range(k)]


@dataclass
class Fold:
    fold: int
    from_ts: int
    to_ts: int
    days: float
    total_pnl: float
    max_drawdown: float
    total_trades: int
    profit_factor: float
    daily_return: float


@dataclass
class WalkForward:
    folds: list[Fold]
    median_daily_return: float
    max_drawdown: float
    reject_reason: str | None = None


@dataclass
class StressLevel:
    slippage_bps: float
    total_pnl: float
    max_drawdown: float
    total_trades: int


@dataclass
class Stress:
    levels: list[StressLevel]
    baseline_bps: float
    reject_bps: float
    pnl_drop: float
    fragility: float
    flip: bool
    reject_reason: str | None = None
    note: str = ""


@dataclass
class Score:
    score_v1: float
    components: dict = field(default_factory=dict)


def walk_forward(ctx: ReplayContext, yaml_path: Path, k: int) -> WalkForward:
    folds = []
    for i, (a, b) in enumerate(ctx.fold_windows(k)):
        res = ctx.run(yaml_path, from_ts=a, to_ts=b)
        m = res.metrics
        days = (b - a) / DAY_MS
        pnl = float(m["total_pnl"])
        folds.append(Fold(i + 1, a, b, days, pnl, float(m["max_drawdown_pct"]), int(m["total_trades"]),
                          float(m["profit_factor"]), pnl / ctx.params.initial_balance / days if days > 0 else 0.0))
    med = statistics.median(f.daily_return for f in folds)
    worst = max(f.max_drawdown for f in folds)
    reason = f"walk-forward: median OOS daily return {med:.6g} < 0" if med < 0 else None
    return WalkForward(folds, med, worst, reason)


def slippage_stress(ctx: ReplayContext, yaml_path: Path, multipliers: tuple[float, ...] = (1.0, 2.0, 3.0),
                    reject_multiplier: float = 2.0, base_result: ReplayResult | None = None) -> Stress:
    own = float(ctx.configs(yaml_path).portfolio["trade"]["slippage_bps"])
    note = ""
    if own > 0:
        levels_bps = [own * m for m in multipliers]
        reject = own * reject_multiplier
    else:
        levels_bps, reject = [10.0, 20.0, 30.0], 20.0
        note = "candidate slippage_bps is 0: absolute levels 10/20/30 bps, reject at 20"
    levels = []
    for bps in dict.fromkeys(levels_bps):
        if base_result is not None and bps == own:
            m = base_result.metrics
        else:
            m = ctx.run(yaml_path, slippage_bps=bps).metrics
        levels.append(StressLevel(bps, float(m["total_pnl"]), float(m["max_drawdown_pct"]), int(m["total_trades"])))
    base = levels[0]
    at_reject = next(lv for lv in levels if lv.slippage_bps == reject)
    drop = base.total_pnl - at_reject.total_pnl
    flip = base.total_pnl > 0 and at_reject.total_pnl < 0
    reason = f"slippage flip at {reject:g} bps" if flip else None
    return Stress(levels, base.slippage_bps, reject, drop, drop / ctx.params.initial_balance, flip, reason, note)


def score_v1(wf: WalkForward | None, stress: Stress | None, trades: int, min_trades: int = 30,
             weight: float = 0.05) -> Score | None:
    """§2.6 score_v1; ``None`` (unscored) unless both walk-forward and stress ran."""
    if wf is None or stress is None:
        return None
    penalty = weight * max(0, min_trades - trades) / min_trades if min_trades > 0 else 0.0
    s = wf.median_daily_return - 2.0 * wf.max_drawdown - 0.5 * stress.fragility - penalty
    if not math.isfinite(s):
        return None
    return Score(s, {"median_oos_daily_return": wf.median_daily_return, "max_oos_drawdown": wf.max_drawdown,
                     "slippage_fragility": stress.fragility, "trades_penalty": penalty,
                     "weights": {"oos_dd": 2.0, "fragility": 0.5, "min_trades": min_trades, "penalty": weight}})
