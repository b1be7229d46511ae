"""Factory profiles (factory-and-audits.md §2.2): trial counts, shortlist sizes, candidate counts.

``weekly`` is the canonical name of the largest profile and ``deep`` an exact alias of it. A profile
fills only what the caller left unset: :func:`resolve_profile` takes explicit overrides (``None`` =
unset) and returns the effective settings. Sampler, batch size and storage record format are chosen
per profile by measurement (benchmarks/sweep_speed.py) so that the sampler is never the bottleneck:
stock full-history optuna TPE costs ~0.1-1.6 s per trial at 1k-20k trials, the batched samplers
of ``harness.factory.samplers`` cost microseconds per trial at any history length.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from harness.errors import ConfigError


@dataclass(frozen=True)
class Profile:
    """Effective factory settings (a profile plus explicit overrides)."""

    name: str
    trials: int                    # sweep trials, the baseline trial included
    num_candidates: int            # legacy single-mode path only (shortlist_per_mode == 0)
    shortlist_per_mode: int        # kept per mode after cross-mode dedup
    shortlist_max_rank: int        # ranks scanned per mode
    sweep_spec: str = "sweeps/full_144v.yaml"
    shortlist_modes: tuple[str, ...] = ("dd", "balanced")
    candidate_min_trades: int = 1
    sampler: str = "tpe"
    batch_size: int = 256
    folds: int = 3                 # walk-forward folds
    stress_multipliers: tuple[float, ...] = (1.0, 2.0, 3.0)  # x the candidate's trade.slippage_bps
    stress_reject_multiplier: float = 2.0
    score_min_trades: int = 30
    score_trades_penalty_weight: float = 0.05
    record_params: bool = True     # also write native optuna params (IntDistribution) per trial
    seed: int = 42

    def replace(self, **changes: object) -> "Profile":
        return dataclasses.replace(self, **changes)


_WEEKLY = Profile("weekly", trials=2_000_000, num_candidates=10, shortlist_per_mode=30,
                  shortlist_max_rank=400, sampler="tpe", batch_size=4096, folds=5, record_params=False)

PROFILES: dict[str, Profile] = {
    "smoke": Profile("smoke", trials=2_000, num_candidates=2, shortlist_per_mode=3, shortlist_max_rank=20,
                     sampler="tpe", batch_size=256, folds=3, record_params=True),
    "daily": Profile("daily", trials=200_000, num_candidates=5, shortlist_per_mode=20, shortlist_max_rank=150,
                     sampler="tpe", batch_size=1024, folds=4, record_params=False),
    "weekly": _WEEKLY,
    "deep": _WEEKLY,   # alias: must equal weekly exactly (§2.2)
}
CANONICAL = {"deep": "weekly"}
SHORTLIST_MODES = ("pnl", "dd", "pf", "wr", "sharpe", "trades", "balanced")


def resolve_profile(name: str, **overrides: object) -> Profile:
    """The named profile with every non-``None`` override applied (explicit values always win)."""
    if name not in PROFILES:
        raise ConfigError(f"--profile {name!r}: unknown profile; fix: use one of {sorted(PROFILES)}")
    prof = PROFILES[name]
    fields = {f.name for f in dataclasses.fields(Profile)}
    unknown = sorted(set(overrides) - fields)
    if unknown:
        raise ConfigError(f"profile override {unknown[0]!r}: unknown setting; fix: one of {sorted(fields)}")
    changes = {k: v for k, v in overrides.items() if v is not None}
    if "shortlist_modes" in changes:
        modes = tuple(m for m in changes["shortlist_modes"] if m in SHORTLIST_MODES)  # type: ignore[union-attr]
        changes["shortlist_modes"] = modes or ("dd", "balanced")
    prof = prof.replace(**changes)
    if prof.trials < 1:
        raise ConfigError(f"--trials {prof.trials}: must be >= 1 (the baseline trial counts)")
    if prof.batch_size < 1:
        raise ConfigError(f"--batch-size {prof.batch_size}: must be >= 1")
    if prof.shortlist_max_rank <= 0:
        prof = prof.replace(shortlist_max_rank=max(10, 5 * prof.shortlist_per_mode))
    return prof


def profile_table() -> list[dict[str, object]]:
    """Rows for the README / report: one per profile name (deep shown as alias)."""
    return [{"profile": n, "alias_of": CANONICAL.get(n, ""), "trials": p.trials,
             "num_candidates": p.num_candidates, "shortlist_per_mode": p.shortlist_per_mode,
             "shortlist_max_rank": p.shortlist_max_rank, "sampler": p.sampler, "batch": p.batch_size,
             "folds": p.folds} for n, p in PROFILES.items()]
