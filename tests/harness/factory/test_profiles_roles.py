"""Profiles table (§2.2) and role selection / tie-breaks (§9.5, D36(d), D49)."""
from __future__ import annotations

import math

import pytest

from harness.errors import ConfigError
from harness.factory.profiles import PROFILES, resolve_profile
from harness.factory.promote import Candidate, primary_score, select_roles

SPEC_TABLE = {  # profile: (tpe_trials, num_candidates, shortlist_per_mode, shortlist_max_rank)
    "smoke": (2_000, 2, 3, 20),
    "daily": (200_000, 5, 20, 150),
    "deep": (2_000_000, 10, 30, 400),
    "weekly": (2_000_000, 10, 30, 400),
}


@pytest.mark.parametrize("name", sorted(SPEC_TABLE))
def test_profile_numbers_match_the_spec(name: str) -> None:
    p = resolve_profile(name)
    assert (p.trials, p.num_candidates, p.shortlist_per_mode, p.shortlist_max_rank) == SPEC_TABLE[name]
    assert p.shortlist_modes == ("dd", "balanced")


def test_deep_is_exactly_weekly_and_unknown_is_fatal() -> None:
    assert PROFILES["deep"] == PROFILES["weekly"]
    with pytest.raises(ConfigError, match="unknown profile"):
        resolve_profile("nightly")


def test_explicit_values_override_the_profile_only_when_given() -> None:
    p = resolve_profile("daily", trials=500, sampler="qmc", seed=None, shortlist_per_mode=None)
    assert (p.trials, p.sampler, p.seed, p.shortlist_per_mode) == (500, "qmc", 42, 20)
    assert resolve_profile("smoke", shortlist_max_rank=0, shortlist_per_mode=4).shortlist_max_rank == 20
    assert resolve_profile("smoke", shortlist_modes=("bogus",)).shortlist_modes == ("dd", "balanced")


def cand(cid: str, pnl: float, dd: float, pf: float) -> Candidate:
    c = Candidate(cid, "dd", 1, 0, cid, "", "", {}, {})
    c.metrics = {"total_pnl": pnl, "max_drawdown": dd, "profit_factor": pf}
    return c


def test_primary_score_d49() -> None:
    assert primary_score(100.0, 0.1, 2.0) == (100.0 * (1 - 0.1)) * 2.0
    assert primary_score(100.0, 0.1, math.inf) == math.inf
    assert primary_score(100.0, 1.0, math.inf) == 0.0          # never 0 x inf = NaN
    assert primary_score(100.0, 1.7, math.inf) == 0.0
    assert primary_score(100.0, 0.2, -1.0) == 0.0              # max(pf, 0)


ROLE_CASES = [
    # (candidates (id, pnl, dd, pf), expected primary, fallback, conservative)
    ([("a", 100, 0.10, 2.0), ("b", 50, 0.05, 1.5), ("c", 80, 0.02, 1.1)], "a", "c", "b"),
    # +inf PF ties on config_id: the lower id wins primary
    ([("z", 100, 0.10, math.inf), ("y", 10, 0.30, math.inf), ("x", 5, 0.01, 1.0)], "y", "x", "z"),
    # dd >= 1 with +inf PF scores 0.0, not NaN
    ([("p", 1000, 1.0, math.inf), ("q", 1, 0.5, 1.0)], "q", "p", None),
    # fallback tie on dd -> higher pnl; conservative tie on dd -> config_id
    ([("m", 500, 0.3, 3.0), ("k", 40, 0.1, 1.0), ("j", 60, 0.1, 1.0), ("i", 60, 0.1, 1.0)], "m", "i", "j"),
    # exact primary tie -> config_id ascending
    ([("d", 100, 0.0, 1.0), ("c", 100, 0.0, 1.0)], "c", "d", None),
    ([("only", 5, 0.01, 1.2)], "only", None, None),
    ([], None, None, None),
]


@pytest.mark.parametrize("rows,primary,fallback,conservative", ROLE_CASES)
def test_role_selection_table(rows, primary, fallback, conservative) -> None:
    roles = select_roles([cand(*r) for r in rows])
    got = [None if isinstance(roles[r], str) else roles[r].config_id for r in ("primary", "fallback", "conservative")]
    assert got == [primary, fallback, conservative]
    for r in ("primary", "fallback", "conservative"):
        if isinstance(roles[r], str):
            assert roles[r].startswith("skipped")
    picked = [g for g in got if g]
    assert len(picked) == len(set(picked))  # distinct roles
