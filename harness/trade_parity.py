"""Trade parity: engine_ref's and gpu_sim's trade logs compared record by record, exactly.

Verdict classes (factory-and-audits.md §9.3, D36c):

* ``ZERO`` — identical logs (every field; floats by bit pattern), equal final balance, equal
  equity curve;
* ``STATE_MACHINE`` — the sequence of events differs: record count, or a record's time, symbol,
  action, reason or confidence, or the equity-curve sample times;
* ``NUMERIC`` — same events, some amount differs (price, size, PnL, fee, balance, ...);
* ``OVERFLOW`` — gpu_sim's record buffer overflowed: the config cannot pass until re-run (D44d).

Tolerance: none. :mod:`harness.tolerance` is the one place a documented operation could relax
this; today it relaxes nothing.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from harness.tolerance import floats_equal

EVENT_FIELDS = ("timestamp_ms", "symbol", "action", "reason", "confidence")
AMOUNT_FIELDS = ("price", "size", "notional", "pnl", "fee_usd", "balance", "entry_atr", "leverage",
                 "margin_used", "mae_usd", "mfe_usd")
ZERO, STATE_MACHINE, NUMERIC, OVERFLOW = "ZERO", "STATE_MACHINE", "NUMERIC", "OVERFLOW"


@dataclass(frozen=True)
class EngineRun:
    """One engine's outcome of one config: the §6.5 trade log, the equity curve, the final balance."""

    engine: str
    trades: list[dict]
    equity_curve: list[tuple[int, float]]
    final_balance: float
    overflow: bool = False
    metrics: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Divergence:
    """The first place two runs differ."""

    index: int                 # record index (or -1 for balance / equity curve)
    fields: tuple[str, ...]    # the fields that differ at that record
    ref: dict | None
    sim: dict | None
    what: str                  # human summary


@dataclass
class Verdict:
    klass: str
    n_ref: int
    n_sim: int
    first: Divergence | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def drift(self) -> bool:
        return self.klass != ZERO


def _differing(a: dict, b: dict, names: tuple[str, ...]) -> tuple[str, ...]:
    out = []
    for n in names:
        x, y = a.get(n), b.get(n)
        same = floats_equal(x, y) if isinstance(x, float) and isinstance(y, float) else x == y
        if not same:
            out.append(n)
    return tuple(out)


def first_record_divergence(ref: list[dict], sim: list[dict]) -> tuple[str, Divergence] | None:
    """The first record index at which the logs differ, classified (state machine wins over numeric)."""
    for i in range(max(len(ref), len(sim))):
        if i >= len(ref) or i >= len(sim):
            a, b = (ref[i] if i < len(ref) else None), (sim[i] if i < len(sim) else None)
            side = "engine_ref" if b is None else "gpu_sim"
            return STATE_MACHINE, Divergence(i, ("count",), a, b, f"record {i} exists only in {side} "
                                             f"(ref {len(ref)} records, sim {len(sim)})")
        events = _differing(ref[i], sim[i], EVENT_FIELDS)
        if events:
            return STATE_MACHINE, Divergence(i, events, ref[i], sim[i], f"record {i}: event differs in {events}")
        amounts = _differing(ref[i], sim[i], AMOUNT_FIELDS)
        if amounts:
            # keep scanning for a later state-machine divergence? No: the first divergence is what a
            # person fixes first; a later event difference is usually its consequence.
            return NUMERIC, Divergence(i, amounts, ref[i], sim[i], f"record {i}: amounts differ in {amounts}")
    return None


def compare(ref: EngineRun, sim: EngineRun) -> Verdict:
    """Classify the drift between two runs of the same config, data and run parameters."""
    v = Verdict(ZERO, len(ref.trades), len(sim.trades))
    if sim.overflow:
        v.klass, v.notes = OVERFLOW, ["gpu_sim record buffer overflowed; re-run with a larger capacity"]
        return v
    found = first_record_divergence(ref.trades, sim.trades)
    if found:
        v.klass, v.first = found
        return v
    if [t for t, _ in ref.equity_curve] != [t for t, _ in sim.equity_curve]:
        v.klass = STATE_MACHINE
        v.first = Divergence(-1, ("equity_curve.t",), None, None, "equity-curve sample times differ")
        return v
    for (t, a), (_, b) in zip(ref.equity_curve, sim.equity_curve):
        if not floats_equal(a, b):
            v.klass = NUMERIC
            v.first = Divergence(-1, ("equity",), {"t": t, "equity": a}, {"t": t, "equity": b},
                                 f"equity at {t} differs: {a!r} vs {b!r}")
            return v
    if not floats_equal(ref.final_balance, sim.final_balance):
        v.klass = NUMERIC
        v.first = Divergence(-1, ("final_balance",), None, None,
                             f"final balance {ref.final_balance!r} vs {sim.final_balance!r}")
        return v
    for key in sorted(set(ref.metrics) & set(sim.metrics)):
        a, b = ref.metrics[key], sim.metrics[key]
        if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not floats_equal(a, b):
            v.klass = NUMERIC
            v.first = Divergence(-1, (key,), None, None, f"metric {key}: {a!r} vs {b!r}")
            return v
    return v


def describe(v: Verdict) -> str:
    """One line: class, counts, first divergence with both records' differing fields."""
    if not v.first:
        return f"{v.klass} ({v.n_ref} records)" + (f"; {'; '.join(v.notes)}" if v.notes else "")
    d = v.first
    parts = [f"{v.klass}: {d.what}"]
    if d.ref is not None and d.sim is not None:
        for f in d.fields:
            parts.append(f"{f}: ref={d.ref.get(f)!r} sim={d.sim.get(f)!r}")
        parts.append(f"at t={d.ref.get('timestamp_ms')} {d.ref.get('symbol')} {d.ref.get('action')}")
    return "; ".join(parts)
