"""The parity gate of a candidate (factory-and-audits.md §9.3; D36(c)).

``verified`` requires both:

* **config parity** — engine_ref's and gpu_sim's loaders give the same effective configs for the
  candidate YAML on the run's universe (harness.config_parity, bit-exact);
* **trade parity** — engine_ref and gpu_sim replay the exact candidate on the full data with
  identical trade logs (record by record, every field, floats bit-equal, reasons equal), equal final
  balances and equal equity curves. Any difference in record count, order, action, symbol, side or
  timestamp is STATE_MACHINE, any other value difference NUMERIC; both counts must be 0. The verdict
  names the first divergent record and the fields that differ.

Trade parity is a pluggable hook ``trade_parity(yaml_path, ref_result, ctx) -> TradeParity``. The
default asks harness.replay for a gpu_sim replay; while gpu_sim has no trade simulator it reports
``NOT RUN: gpu_sim backend missing`` and the candidate is *not verified* (never promoted). Tests
inject a hook that builds the SIM side from the REF run with a known mutation.
"""
from __future__ import annotations

import struct
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from harness.errors import DriftgateError
from harness.replay import ReplayResult

STATE_FIELDS = ("timestamp_ms", "symbol", "action")   # side is part of the action string (OPEN_LONG, ...)
NOT_RUN_SIM_MISSING = "NOT RUN: gpu_sim backend missing"


@dataclass
class TradeParity:
    status: str                       # pass | drift | not_run | invalid
    state_machine: int = 0
    numeric: int = 0
    first_divergence: str | None = None
    detail: str = ""
    fields: list[str] = field(default_factory=list)


@dataclass
class GateVerdict:
    config_drifts: list[dict]
    trade: TradeParity
    verified: bool
    reason: str | None

    def to_json(self) -> dict:
        return {"config_drifts": self.config_drifts, "trade": asdict(self.trade), "verified": self.verified,
                "reason": self.reason}


TradeParityFn = Callable[[Path, ReplayResult, object], TradeParity]


def _same(a: object, b: object) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return struct.pack("<d", a) == struct.pack("<d", b)
    return type(a) is type(b) and a == b


def compare_trade_logs(ref: Sequence[dict], sim: Sequence[dict]) -> TradeParity:
    """Record-by-record comparison (STATE_MACHINE vs NUMERIC counts, first divergence)."""
    state = numeric = 0
    first: str | None = None
    fields: list[str] = []
    for i in range(max(len(ref), len(sim))):
        if i >= len(ref) or i >= len(sim):
            state += 1
            if first is None:
                side = "engine_ref" if i >= len(sim) else "gpu_sim"
                first = f"record {i}: only {side} has it ({(ref if i < len(ref) else sim)[i]})"
                fields = ["<record>"]
            continue
        r, s = ref[i], sim[i]
        bad = [k for k in sorted(set(r) | set(s)) if k not in r or k not in s or not _same(r[k], s[k])]
        if not bad:
            continue
        if any(k in STATE_FIELDS for k in bad) or any(k not in r or k not in s for k in bad):
            state += 1
        else:
            numeric += 1
        if first is None:
            first = f"record {i}: " + ", ".join(f"{k}: engine_ref={r.get(k, '<absent>')!r} gpu_sim="
                                                f"{s.get(k, '<absent>')!r}" for k in bad)
            fields = bad
    status = "pass" if state == numeric == 0 else "drift"
    return TradeParity(status, state, numeric, first, "", fields)


def compare_runs(ref: ReplayResult, sim: ReplayResult) -> TradeParity:
    """Trade logs, final balance and equity curve (all bit-exact)."""
    out = compare_trade_logs(ref.trades, sim.trades)
    extra = []
    if not _same(float(ref.final_balance), float(sim.final_balance)):
        extra.append(f"final balance engine_ref={ref.final_balance!r} gpu_sim={sim.final_balance!r}")
    if len(ref.equity_curve) != len(sim.equity_curve):
        out.state_machine += 1
        extra.append(f"equity curve length {len(ref.equity_curve)} vs {len(sim.equity_curve)}")
    else:
        for k, ((ta, va), (tb, vb)) in enumerate(zip(ref.equity_curve, sim.equity_curve)):
            if ta != tb or not _same(float(va), float(vb)):
                if ta != tb:
                    out.state_machine += 1
                else:
                    out.numeric += 1
                extra.append(f"equity sample {k}: ({ta}, {va!r}) vs ({tb}, {vb!r})")
                break
    if extra:
        if out.numeric == 0 and out.state_machine == 0:
            out.numeric = 1
        out.status = "drift"
        out.first_divergence = out.first_divergence or extra[0]
        out.detail = "; ".join(extra)
    return out


def not_run_trade_parity(yaml_path: Path, ref: ReplayResult, ctx: object) -> TradeParity:  # noqa: ARG001
    return TradeParity("not_run", detail=NOT_RUN_SIM_MISSING)


def sim_trade_parity(yaml_path: Path, ref: ReplayResult, ctx) -> TradeParity:
    """Default hook: gpu_sim's replay of the same file, data and run parameters vs engine_ref's."""
    from harness.replay import replay

    try:
        sim = replay("sim", yaml_path, ctx.candles, ctx.params)
    except DriftgateError as exc:
        if "not built" in str(exc):
            return TradeParity("not_run", detail=NOT_RUN_SIM_MISSING)
        return TradeParity("invalid", detail=f"gpu_sim replay failed: {exc}")
    if sim.meta.get("data_fingerprint") not in (None, ref.meta.get("data_fingerprint")):
        return TradeParity("invalid", detail="INVALID_COMPARISON: data fingerprints differ")
    return compare_runs(ref, sim)


def config_parity(yaml_path: Path, symbols: Sequence[str], mode: str | None = None,
                  run_mode: str = "backtest") -> list[dict]:
    from harness.config_parity import ParityCase, compare_case

    _, drifts = compare_case(ParityCase(Path(yaml_path).name, Path(yaml_path), tuple(symbols), mode, run_mode))
    return [asdict(d) for d in drifts]


def parity_gate(yaml_path: Path, ref: ReplayResult, ctx, trade_parity: TradeParityFn | None = None,
                config_check: Callable[[Path, Sequence[str]], list[dict]] | None = None) -> GateVerdict:
    """Config parity + trade parity of one candidate; ``verified`` only when both are clean."""
    check = config_check or (lambda p, syms: config_parity(p, syms, ctx.params.strategy_mode, ctx.params.run_mode))
    try:
        drifts = check(yaml_path, ctx.symbols)
    except DriftgateError as exc:
        drifts = [{"case": Path(yaml_path).name, "scope": "<load>", "path": "<file>", "ref_value": "",
                   "sim_value": str(exc), "change": "load_error"}]
    trade = (trade_parity or sim_trade_parity)(yaml_path, ref, ctx)
    if drifts:
        d = drifts[0]
        reason = (f"config drift: {len(drifts)} leaves differ (first {d['scope']} {d['path']}: "
                  f"engine_ref={d['ref_value']} gpu_sim={d['sim_value']})")
    elif trade.status == "drift":
        reason = (f"trade drift: STATE_MACHINE={trade.state_machine} NUMERIC={trade.numeric}; first divergence "
                  f"{trade.first_divergence}")
    elif trade.status == "not_run":
        reason = f"not verified: trade parity {trade.detail}"
    elif trade.status != "pass":
        reason = f"not verified: trade parity {trade.status}: {trade.detail}"
    else:
        reason = None
    return GateVerdict(drifts, trade, reason is None, reason)
