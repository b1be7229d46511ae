"""Shortlist -> materialise -> replay -> validate -> parity gate -> roles -> promoted_configs.

Shortlist (factory-and-audits.md §2.4): modes in order (default ``dd, balanced``); rows with fewer
than ``candidate_min_trades`` trades or that did not load are dropped; each mode is a stable
descending sort (ties: lower sweep index first); ranks 1..max_rank are materialised to
``configs/candidate_<mode>_rank<N>.yaml`` and a rank is *selected* when its config_id was not seen
by any mode yet and the mode has kept fewer than ``per_mode``.

Per selected candidate: engine_ref replay on the full data (must reproduce the sweep's metrics for
that trial bit for bit, otherwise the YAML is not what was scored and the candidate is rejected),
walk-forward folds, slippage stress, score_v1, parity gate.

Roles (§9.5, D36(d), D49): eligible = not rejected, verified (zero drift), ``total_pnl > 0``, scored.
In order primary, fallback, conservative, each from the eligible candidates not yet promoted:
primary = max ``(pnl × (1 − min(dd, 1))) × max(pf, 0)`` (0.0 when ``1 − min(dd, 1) = 0``; +∞ valid);
fallback = min ``(dd, −pnl)``; conservative = min ``dd``; every tie -> ``config_id`` ascending.
Roles without a candidate are recorded as skipped with a reason. ``promoted_configs/<role>.yaml``
are byte copies of the scored candidate files, written atomically, then ``manifest.json``.
"""
from __future__ import annotations

import json
import math
import multiprocessing
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from harness.factory.evaluators import METRICS, metrics_row
from harness.factory.gate import GateVerdict, TradeParityFn, parity_gate
from harness.factory.materialise import canonical_json, config_id, file_sha256, write_candidate
from harness.factory.space import SearchSpace
from harness.factory.sweep import SweepResult
from harness.factory.validate import ReplayContext, score_v1, slippage_stress, walk_forward
from harness.replay import _json_safe, write_replay_json
from harness.yamlio import write_text_atomic

ROLES = ("primary", "fallback", "conservative")


def mode_key(mode: str, m: dict[str, float]) -> float:
    """Descending sort key of a shortlist mode (§2.5); drawdown is a fraction."""
    pnl, dd, pf = m["total_pnl"], m["max_drawdown"], m["profit_factor"]
    if mode == "pnl":
        return pnl
    if mode == "dd":
        return -dd
    if mode == "pf":
        return pf
    if mode == "wr":
        return m["win_rate"]
    if mode == "sharpe":
        return m["sharpe"]
    if mode == "trades":
        return m["total_trades"]
    if mode == "balanced":
        b = 0.3 * pnl + 20.0 * min(pf, 10.0) + 15.0 * m["sharpe"] - 100.0 * dd
        return b * (0.5 if m["total_trades"] < 20 else 1.0)
    raise ValueError(mode)


@dataclass
class Candidate:
    stem: str
    mode: str
    rank: int
    sweep_index: int
    config_id: str
    yaml_path: str
    yaml_sha256: str
    overrides: dict
    sweep_metrics: dict
    selected: bool = False
    deduped: bool = False
    metrics: dict = field(default_factory=dict)          # engine_ref full-data replay
    replay_path: str = ""
    sweep_replay_match: bool | None = None
    walk_forward: dict | None = None
    stress: dict | None = None
    score: dict | None = None
    gate: dict | None = None
    verified: bool = False
    rejected: bool = False
    reasons: list[str] = field(default_factory=list)
    eligible: bool = False
    ineligible_reason: str = ""
    primary_score: float | None = None
    role: str = ""
    seconds: float = 0.0

    @property
    def pnl(self) -> float:
        return float(self.metrics.get("total_pnl", math.nan))

    @property
    def dd(self) -> float:
        return float(self.metrics.get("max_drawdown", math.nan))

    @property
    def pf(self) -> float:
        return float(self.metrics.get("profit_factor", math.nan))


def primary_score(pnl: float, dd: float, pf: float) -> float:
    """D49: ``(pnl × (1 − min(dd, 1))) × max(pf, 0)``, 0.0 when ``1 − min(dd, 1) = 0``."""
    keep = 1.0 - min(dd, 1.0)
    if keep == 0.0:
        return 0.0
    base = pnl * keep
    factor = max(pf, 0.0)
    if factor == 0.0:
        return 0.0
    return base * factor


def select_roles(eligible: list[Candidate]) -> dict[str, Candidate | str]:
    """role -> candidate, or role -> skip reason (§9.5; distinct roles; ties on config_id)."""
    pool = sorted(eligible, key=lambda c: c.config_id)
    out: dict[str, Candidate | str] = {}
    keys = {
        "primary": lambda c: (-primary_score(c.pnl, c.dd, c.pf), c.config_id),
        "fallback": lambda c: (c.dd, -c.pnl, c.config_id),
        "conservative": lambda c: (c.dd, c.config_id),
    }
    for role in ROLES:
        if not pool:
            out[role] = (f"skipped: {len(eligible)} eligible candidate(s) for 3 distinct roles"
                         if eligible else "skipped: no eligible candidate")
            continue
        best = min(pool, key=keys[role])
        out[role] = best
        pool.remove(best)
    return out


def shortlist(sweep: SweepResult, space: SearchSpace, base_yaml: Path | None, symbols: tuple[str, ...],
              out_dir: Path, modes: tuple[str, ...], per_mode: int, max_rank: int, min_trades: int,
              strategy_mode: str | None = None, run_mode: str = "backtest") -> list[Candidate]:
    """Every scanned rank of every mode (selected ones flagged), cross-mode dedup on config_id."""
    names = sweep.metric_names
    valid = (sweep.column("valid") > 0) & (sweep.column("total_trades") >= min_trades) & np.isfinite(sweep.scores)
    rows = np.flatnonzero(valid)
    seen: set[str] = set()
    out: list[Candidate] = []
    for mode in modes:
        keyed = sorted(rows, key=lambda r: (-mode_key(mode, dict(zip(names, sweep.metrics[r]))), int(sweep.index[r])))
        kept = 0
        for rank, r in enumerate(keyed[:max_rank], start=1):
            if kept >= per_mode:
                break
            decoded = space.decode(sweep.codes[r])
            m = dict(zip(names, (float(v) for v in sweep.metrics[r])))
            stem = f"candidate_{mode}_rank{rank}"
            path = Path(out_dir) / f"{stem}.yaml"
            header = (f"driftgate candidate {stem}: sweep trial {int(sweep.index[r])}, mode {mode}, rank {rank}\n"
                      f"sweep metrics: total_pnl={m['total_pnl']!r} max_drawdown={m['max_drawdown']!r} "
                      f"profit_factor={m['profit_factor']!r} total_trades={int(m['total_trades'])}\n"
                      f"base: {Path(base_yaml).name if base_yaml else '<defaults>'}; "
                      f"{len(decoded)} sweep values under global (zero mutation, D36b)")
            write_candidate(path, base_yaml, decoded, header)
            cid = config_id(path, symbols, strategy_mode, run_mode)
            cand = Candidate(stem, mode, rank, int(sweep.index[r]), cid, str(path), file_sha256(path),
                             {p: v for p, v in decoded.items()}, m)
            cand.deduped = cid in seen
            cand.selected = not cand.deduped
            if cand.selected:
                seen.add(cid)
                kept += 1
            out.append(cand)
    return out


@dataclass
class PromoteSettings:
    folds: int = 3
    stress_multipliers: tuple[float, ...] = (1.0, 2.0, 3.0)
    stress_reject_multiplier: float = 2.0
    score_min_trades: int = 30
    score_trades_penalty_weight: float = 0.05
    workers: int = 1


_JOB: dict = {}


def _evaluate_candidate(k: int) -> Candidate:
    job = _JOB
    cand: Candidate = job["cands"][k]
    ctx: ReplayContext = job["ctx"]
    st: PromoteSettings = job["settings"]
    run_dir: Path = job["run_dir"]
    t0 = time.perf_counter()
    yaml_path = Path(cand.yaml_path)
    res = ctx.run(yaml_path)
    rp = run_dir / "replays" / f"{cand.stem}.replay.json"
    write_replay_json(res, rp)
    cand.replay_path = str(rp.relative_to(run_dir))
    row = metrics_row(res.metrics)
    cand.metrics = dict(zip(METRICS, row))
    sweep_row = [cand.sweep_metrics[n] for n in METRICS]
    cand.sweep_replay_match = all((a == b) or (a != a and b != b) for a, b in zip(row, sweep_row))
    if not cand.sweep_replay_match:
        diff = [f"{n}: sweep={a!r} replay={b!r}" for n, a, b in zip(METRICS, sweep_row, row) if a != b]
        cand.reasons.append("replay of the materialised YAML differs from the swept trial (" + "; ".join(diff[:3]) + ")")
    wf = walk_forward(ctx, yaml_path, st.folds)
    stress = slippage_stress(ctx, yaml_path, st.stress_multipliers, st.stress_reject_multiplier, base_result=res)
    cand.walk_forward, cand.stress = asdict(wf), asdict(stress)
    for reason in (wf.reject_reason, stress.reject_reason):
        if reason:
            cand.reasons.append(reason)
    sc = score_v1(wf, stress, int(res.metrics["total_trades"]), st.score_min_trades, st.score_trades_penalty_weight)
    cand.score = None if sc is None else asdict(sc)
    verdict: GateVerdict = parity_gate(yaml_path, res, ctx, job.get("trade_parity"), job.get("config_check"))
    cand.gate = verdict.to_json()
    cand.verified = verdict.verified
    write_text_atomic(run_dir / "parity" / f"{cand.stem}.json",
                      json.dumps(_json_safe(cand.gate), indent=1, sort_keys=True) + "\n")
    drift = bool(verdict.config_drifts) or verdict.trade.status == "drift"
    if drift:  # any drift rejects, with its first-divergence report (not-run parity = only unverified)
        cand.reasons.append(verdict.reason or "drift")
    cand.rejected = bool(cand.reasons)
    cand.seconds = time.perf_counter() - t0
    write_text_atomic(run_dir / "validation" / f"{cand.stem}.json",
                      json.dumps(_json_safe(asdict(cand)), indent=1, sort_keys=True) + "\n")
    return cand


def evaluate_candidates(cands: list[Candidate], ctx: ReplayContext, run_dir: Path, settings: PromoteSettings,
                        trade_parity: TradeParityFn | None = None, config_check=None) -> list[Candidate]:
    _JOB.clear()
    _JOB.update(cands=cands, ctx=ctx, settings=settings, run_dir=Path(run_dir), trade_parity=trade_parity,
                config_check=config_check)
    try:
        import sys
        # forking after numba's threading layer started (a gpu_sim sweep or gate in this process)
        # kills the children: run serially then
        if settings.workers <= 1 or len(cands) < 2 or "numba" in sys.modules:
            return [_evaluate_candidate(k) for k in range(len(cands))]
        method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
        with ProcessPoolExecutor(min(settings.workers, len(cands)),
                                 mp_context=multiprocessing.get_context(method)) as pool:
            return list(pool.map(_evaluate_candidate, range(len(cands))))
    finally:
        _JOB.clear()


def decide(cands: list[Candidate]) -> dict[str, Candidate | str]:
    """Eligibility (with the reason when not) and role selection."""
    eligible = []
    for c in cands:
        why = []
        if c.rejected:
            why.append("rejected: " + "; ".join(r for r in c.reasons if r))
        if not c.verified:
            reason = (c.gate or {}).get("reason") or "not verified"
            if reason not in " ".join(why):
                why.append(reason)
        if not (c.pnl > 0):
            why.append(f"total_pnl {c.pnl:.2f} <= 0")
        if c.score is None:
            why.append("unscored (score_v1 missing)")
        c.eligible = not why
        c.ineligible_reason = "; ".join(why)
        c.primary_score = primary_score(c.pnl, c.dd, c.pf) if c.metrics else None
        if c.eligible:
            eligible.append(c)
    roles = select_roles(eligible)
    for role, c in roles.items():
        if isinstance(c, Candidate):
            c.role = role
    return roles


def write_promoted(run_dir: Path, roles: dict[str, Candidate | str], cands: list[Candidate], meta: dict) -> dict:
    """promoted_configs/<role>.yaml (byte copies, atomic) + manifest.json (atomic, written last)."""
    out = Path(run_dir) / "promoted_configs"
    out.mkdir(parents=True, exist_ok=True)
    manifest_roles: dict = {}
    for role in ROLES:
        c = roles[role]
        target = out / f"{role}.yaml"
        if isinstance(c, str):
            target.unlink(missing_ok=True)
            manifest_roles[role] = {"skipped": True, "reason": c}
            continue
        data = Path(c.yaml_path).read_bytes()
        write_text_atomic(target, data.decode("utf-8"))
        sha = file_sha256(target)
        if sha != c.yaml_sha256:
            raise RuntimeError(f"{target}: promoted bytes differ from the scored candidate")
        manifest_roles[role] = {
            "skipped": False, "candidate": c.stem, "config_id": c.config_id, "yaml": f"{role}.yaml",
            "yaml_sha256": sha, "source": {"mode": c.mode, "rank": c.rank, "sweep_index": c.sweep_index,
                                           "candidate_yaml": str(Path(c.yaml_path).relative_to(run_dir))},
            "metrics": c.metrics, "primary_score": c.primary_score, "score_v1": c.score,
            "walk_forward": c.walk_forward, "stress": c.stress, "reason": _role_reason(role, c)}
    manifest = {"format": "driftgate-promotion-v1", **meta, "roles": manifest_roles,
                "candidates": [{"stem": c.stem, "config_id": c.config_id, "selected": c.selected, "role": c.role,
                                "eligible": c.eligible, "why_not": c.ineligible_reason, "metrics": c.metrics,
                                "yaml_sha256": c.yaml_sha256} for c in cands if c.selected]}
    write_text_atomic(out / "manifest.json", json.dumps(_json_safe(manifest), indent=1, sort_keys=True) + "\n")
    return manifest


def _role_reason(role: str, c: Candidate) -> str:
    if role == "primary":
        return f"max (pnl x (1 - min(dd,1))) x max(pf,0) = {c.primary_score!r}; ties by config_id"
    if role == "fallback":
        return f"min (dd, -pnl) = ({c.dd!r}, {-c.pnl!r}) among the rest; ties by config_id"
    return f"min dd = {c.dd!r} among the rest; ties by config_id"


def canonical(obj: object) -> str:
    return canonical_json(_json_safe(obj))
