"""Config parity: engine_ref's loader against gpu_sim's packed params, exact, every case.

Also proves the comparator itself: a known-different pair (two swapped params columns, a 20 vs
20.0, a 0.0 vs -0.0) must be reported as drift.
"""
from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.config_audit import FULL_SWEEP, generated_cases, shipped_cases, sweep_cases
from harness.config_parity import ParityCase, compare_case, diff_flat, run_parity, swap_columns
from harness.decode import decode_value
from harness.errors import ConfigError, SweepError
from harness.schema import load_schema
from harness.strategies import DATA_SYMBOLS, overlay_documents
from harness.sweep_spec import load_sweep_spec
from harness.yamlio import dump_yaml, write_text_atomic

pytestmark = pytest.mark.parity


def _assert_no_drift(cases: list[ParityCase]) -> int:
    result = run_parity(cases)
    assert not result.drifts, "\n".join(f"{d.case} [{d.scope}] {d.path}: ref={d.ref_value} "
                                        f"sim={d.sim_value} ({d.change})" for d in result.drifts[:20])
    return result.scopes


@pytest.mark.parametrize("case", shipped_cases(), ids=lambda c: c.name)
def test_defaults_and_shipped_yaml_every_mode(case: ParityCase) -> None:
    assert _assert_no_drift([case]) == 4  # portfolio + BTC, ETH, SOL


def test_generated_all_non_default_yamls(tmp_path: Path) -> None:
    _assert_no_drift(generated_cases(30, seed=11, folder=tmp_path))


def test_sweep_rows_through_both_decoders() -> None:
    spec = load_sweep_spec(FULL_SWEEP)
    _assert_no_drift(sweep_cases(spec, 20, seed=5))


def test_swapped_columns_are_reported_as_drift() -> None:
    case = shipped_cases()[1]
    _, drifts = compare_case(case, mutate=swap_columns("trade.sl_atr_mult", "trade.tp_atr_mult"))
    paths = {(d.scope, d.path) for d in drifts}
    for scope in ("<portfolio>", "BTC", "ETH", "SOL"):
        assert (scope, "trade.sl_atr_mult") in paths and (scope, "trade.tp_atr_mult") in paths


def test_comparator_catches_type_sign_and_missing_leaves() -> None:
    ref = {"a": 20, "b": "f:" + (0.0).hex(), "c": True, "d": 1}
    sim = {"a": 20.0, "b": "f:" + (-0.0).hex(), "c": True}
    drifts = {d.path: d.change for d in diff_flat("x", "<portfolio>", ref, sim)}
    assert drifts == {"a": "type_changes", "b": "values_changed", "d": "missing_in_sim"}
    assert diff_flat("x", "<portfolio>", ref, dict(ref)) == []


def _outcome(fn):
    try:
        return "ok", fn()
    except (ConfigError, SweepError) as exc:
        return type(exc).__name__, None


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(doc=overlay_documents(invalid=True), mode=st.sampled_from([None, "primary", "flat"]),
       run_mode=st.sampled_from(["backtest", "live"]))
def test_arbitrary_overlays_same_verdict_and_values(tmp_path_factory, doc, mode, run_mode) -> None:
    """Both loaders accept/reject the same documents, and agree exactly when they accept."""
    path = write_text_atomic(tmp_path_factory.mktemp("ov") / "c.yaml", dump_yaml(doc))
    if mode and mode not in (doc.get("modes") or {}):
        mode = None
    case = ParityCase("hyp", path, DATA_SYMBOLS, mode, run_mode)
    from harness.config_parity import ref_configs, sim_configs
    ref = _outcome(lambda: ref_configs(case, load_schema()))
    sim = _outcome(lambda: sim_configs(case))
    assert ref[0] == sim[0], f"engine_ref: {ref[0]}, gpu_sim: {sim[0]}\n{dump_yaml(doc)}"
    if ref[0] == "ok":
        _assert_no_drift([case])


def test_decoders_agree_on_any_code() -> None:
    """harness.decode (the one decoder) and gpu_sim's packer accept/reject the same codes."""
    from gpu_sim.layout import load_layout
    from gpu_sim.sweep_decode import decode_codes

    layout = load_layout()
    rng = random.Random(3)
    specials = [0.0, -0.0, 1.0, 2.0, 3.0, 0.37, 0.5, 1e-300, -1.0, 1.0000001, 20.0, 20.5,
                float("nan"), float("inf"), 10000.0, 9999.999, 1e19, 2.0**63]
    for axis in load_schema().swept:
        for code in specials + [rng.uniform(-5, 300) for _ in range(5)]:
            want = _outcome(lambda: decode_value(axis, code))
            got = _outcome(lambda: decode_codes(layout, [axis.path], np.array([[code]])))
            assert want[0] == got[0], (axis.path, code, want, got)
            if want[0] == "ok":
                native = want[1]
                packed = float(got[1][0, 0])
                expect = (float(axis.enum_values.index(native)) if axis.kind == "enum"
                          else float(native))
                assert packed == expect, (axis.path, code, packed, expect)
