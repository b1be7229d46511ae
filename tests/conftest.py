"""Test-wide settings: hypothesis profiles (dev, ci derandomized, nightly) and shared paths.

Select a profile with HYPOTHESIS_PROFILE (``make test`` uses ``ci``; the nightly workflow
``nightly``). Profiles change how many examples run, never what a test asserts.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile("dev", max_examples=50, deadline=None)
settings.register_profile("ci", max_examples=100, deadline=None, derandomize=True,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("nightly", max_examples=2000, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO_ROOT.parent / "shared" / "data" / "hl_candles_1h_btc_eth_sol.json"
SHARED_AXES = REPO_ROOT.parent / "shared" / "spec" / "axes.csv"


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO_ROOT


@pytest.fixture(scope="session")
def shared_candles() -> Path:
    if not SHARED_DATA.is_file():
        pytest.skip(f"{SHARED_DATA} absent: the shared Hyperliquid candles are read from ../shared/data")
    return SHARED_DATA
