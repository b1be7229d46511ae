"""Regression fixtures of the drift hunt (harness.drift_hunt): every ``*.json`` + ``*.yaml`` pair in this
folder is replayed on both engines and must show ZERO drift on the real gpu_sim.

A fixture records where it came from (``found.mutation``): one found under a deliberate divergence
(harness.mutations) must still drift under it — checked here for the mutations that need no kernel
build, in the nightly tier for the others — so the fixture keeps proving that the harness sees that
bug. A fixture found on the real gpu_sim (no mutation) documents a fixed drift.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from harness.drift_hunt import fixtures, load_fixture, replay_fixture
from harness.first_divergence import REJECTED, ZERO
from harness.mutations import SimEngine, catalogue

pytestmark = pytest.mark.parity
HERE = Path(__file__).resolve().parent
FIXTURES = fixtures(HERE)


def _mutation(path: Path) -> str | None:
    return load_fixture(path)[1]["found"].get("mutation")


def test_folder_holds_a_fixture_found_under_a_mutation() -> None:
    assert any(_mutation(p) for p in FIXTURES), "expected at least one fixture found under a mutation"


@pytest.mark.parametrize("path", FIXTURES, ids=[p.stem for p in FIXTURES])
def test_fixture_is_zero_drift_on_gpu_sim(path: Path) -> None:
    rep = replay_fixture(path)
    assert rep.klass == ZERO, rep.first.text() if rep.first else rep.short()
    if load_fixture(path)[1]["found"]["class"] != "CONFIG":     # a config drift needs no trade to show
        assert rep.ref is not None and rep.ref.trades, "a trade-log fixture must trade"


CHEAP = [p for p in FIXTURES if _mutation(p) and not catalogue()[_mutation(p)].needs_build]
BUILD = [p for p in FIXTURES if _mutation(p) and catalogue()[_mutation(p)].needs_build]


@pytest.mark.parametrize("path", CHEAP, ids=[p.stem for p in CHEAP])
def test_fixture_still_drifts_under_its_mutation(path: Path) -> None:
    _check_still_drifts(path)


@pytest.mark.slow
@pytest.mark.parametrize("path", BUILD, ids=[p.stem for p in BUILD])
def test_fixture_still_drifts_under_its_code_mutation(path: Path) -> None:
    _check_still_drifts(path)


def _check_still_drifts(path: Path) -> None:
    meta = load_fixture(path)[1]
    rep = replay_fixture(path, SimEngine(meta["found"]["mutation"]))
    assert rep.drift and rep.klass != REJECTED
    assert rep.klass == meta["found"]["class"], (rep.klass, meta["found"]["class"])
