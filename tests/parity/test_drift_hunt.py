"""Hypothesis drift hunting (harness.drift_hunt): configs (schema overlays + sweep rows) × synthetic
market seeds × sub-bar intervals on both engines; on a drift, shrink and save a regression fixture.

Example counts follow the hypothesis profile (``ci`` 10, ``dev`` 5, ``nightly`` 200): one example runs
both loaders and both engines (0.3–2 s). A drift found on the real gpu_sim is shrunk and saved as a
fixture in ``tests/regressions`` (or ``$DRIFTGATE_FIXTURE_DIR``) before the test fails.
"""
from __future__ import annotations

import json

import pytest
from hypothesis import settings

from harness.drift_hunt import (DataSpec, HuntExample, fixture_folder, hunt, leaf_keys, load_fixture, reduce_example,
                                replay_fixture, wire_engine, without)
from harness.first_divergence import ZERO
from harness.mutations import SimEngine

pytestmark = pytest.mark.parity
N_EXAMPLES = max(5, settings.default.max_examples // 10)


def _found(res) -> str:
    text = res.report.first.text() if res.report and res.report.first else res.line()
    return f"{text}\nsaved as a regression fixture: {res.fixture}"


def test_hunt_finds_no_drift_on_gpu_sim() -> None:
    res = hunt(max_examples=N_EXAMPLES, seed=0, fixture_folder=fixture_folder())
    assert res.examples >= min(N_EXAMPLES, 5), res.line()
    assert not res.found, _found(res)


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_hunt_finds_no_drift_on_gpu_sim_other_seeds(seed: int) -> None:
    res = hunt(max_examples=N_EXAMPLES, seed=seed, fixture_folder=fixture_folder())
    assert not res.found, _found(res)


def test_hunt_finds_shrinks_and_saves_a_mutation(tmp_path) -> None:
    mut = "funding_sign_flipped"
    res = hunt(SimEngine(mut), max_examples=10, seed=0, fixture_folder=tmp_path, mutation=mut,
               shrink_budget_s=20, reduce_budget_s=60)
    assert res.found and res.report.drift, res.line()
    assert res.reduced.n_leaves <= res.example.n_leaves and res.reduced.data.days <= res.example.data.days
    meta = json.loads(res.fixture.read_text())
    assert meta["found"]["mutation"] == mut and meta["found"]["class"] == res.report.klass
    assert (tmp_path / meta["config"]).is_file()
    ex, _ = load_fixture(res.fixture)
    assert ex == res.reduced
    assert replay_fixture(res.fixture).klass == ZERO                      # the real gpu_sim
    assert replay_fixture(res.fixture, SimEngine(mut)).drift               # the bug it documents


def test_wire_engine_sets_the_data_intervals_in_global_only() -> None:
    doc = {"global": {"engine": {"interval": "30m"}, "trade": {"leverage": 2.0}},
           "live": {"global": {"engine": {"exit_interval": "5m"}}},
           "modes": {"primary": {"engine": {"interval": "1h"}}, "flat": None}}
    out = wire_engine(doc, "1h", ("15m",), "entry")
    assert out["global"]["engine"] == {"interval": "1h", "exit_interval": "", "entry_interval": "15m"}
    assert out["global"]["trade"] == {"leverage": 2.0}
    assert "engine" not in out["live"]["global"] and "engine" not in out["modes"]["primary"]
    assert doc["global"]["engine"] == {"interval": "30m"}                  # input untouched


def test_greedy_reducer_keeps_only_what_still_drifts() -> None:
    doc = {"global": {"trade": {"leverage": 2.0, "sl_atr_mult": 1.5}, "filters": {"enable_ranging_filter": False},
                      "engine": {"interval": "1h", "exit_interval": "", "entry_interval": ""}},
           "symbols": {"ETH": {"trade": {"tp_atr_mult": 3.0}}}}
    ex = HuntExample(doc, DataSpec(1, 16), (("trade.leverage_high", 4.0), ("trade.slippage_bps", 5.0)))

    def still(e: HuntExample) -> bool:   # "drifts" while sl_atr_mult is set and there are >= 3 days
        return ("global", "trade", "sl_atr_mult") in leaf_keys(e.doc) and e.data.days >= 3

    out = reduce_example(ex, still)
    assert leaf_keys(out.doc) == [("global", "trade", "sl_atr_mult")]
    assert out.sweep == () and out.data.days == 3
    assert without(doc, ("symbols", "ETH", "trade", "tp_atr_mult")).get("symbols") is None
