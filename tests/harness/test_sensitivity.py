"""Behavioural dead-axis audit (harness.sensitivity): LIVE / DEAD / DRIFTING per swept axis, the seeded
search fallback (D53.12), the D53.17 flag, and the sensitivity.md / PNG report (148 rows)."""
from __future__ import annotations

import dataclasses

import pytest

from harness.axis_scenarios import all_scenarios
from harness.mutations import SimEngine
from harness.reports.sensitivity_md import render_sensitivity_md, sensitivity_png
from harness.schema import load_schema
from harness.sensitivity import (DEAD, DRIFTING, INERT_NOTE, LIVE, AxisRow, counts, search_trials, sensitivity_audit,
                                 summary_line)

SWEPT = [a.path for a in load_schema().swept]


def test_registry_has_148_swept_axes_and_every_one_has_a_scenario() -> None:
    assert len(SWEPT) == 148
    covered = {s.axis for s in all_scenarios()}
    assert set(SWEPT) <= covered, sorted(set(SWEPT) - covered)


def test_axes_are_live_on_gpu_sim() -> None:
    axes = ["trade.sl_atr_mult", "market_regime.breadth_block_long_below", "trade.exit_cooldown_s"]
    rows = sensitivity_audit(axes=axes, search=False)
    assert [r.status for r in rows] == [LIVE] * 3, [(r.axis, r.status, r.values) for r in rows]
    for r in rows:
        assert r.chosen is not None and r.chosen.changed and r.values
        assert r.d_trades is not None and r.d_pnl is not None
    assert INERT_NOTE in rows[2].note          # D53.17: live only with sub-minute sub-bars
    assert INERT_NOTE not in rows[0].note


def test_no_changing_pair_without_search_is_dead() -> None:
    s = next(s for s in all_scenarios() if s.axis == "trade.sl_atr_mult")
    same = dataclasses.replace(s, b=s.a, name="same")
    (row,) = sensitivity_audit(axes=["trade.sl_atr_mult"], search=False, scenarios=[same])
    assert row.status == DEAD and "no value pair" in row.note


def test_a_dead_scenario_falls_back_to_the_seeded_search() -> None:
    s = next(s for s in all_scenarios() if s.axis == "trade.sl_atr_mult")
    same = dataclasses.replace(s, b=s.a, name="same")
    (row,) = sensitivity_audit(axes=["trade.sl_atr_mult"], scenarios=[same], search_budget=4)
    assert row.status == LIVE, row.values
    assert row.chosen.source.startswith("search") and "seeded search" in row.note


def test_search_trials_stop_at_the_first_changing_pair() -> None:
    trials = search_trials("trade.sl_atr_mult", SimEngine(), budget=6)
    assert len(trials) == 1 and trials[0].changed and not trials[0].drifting
    assert (trials[0].a, trials[0].b) == (1.0, 3.0) and trials[0].source.startswith("search: shipped")
    trials = search_trials("trade.tp_atr_mult", SimEngine(), budget=2)    # TP never reached on this data
    assert len(trials) == 2 and not any(t.changed for t in trials)


def test_an_ignored_axis_is_drifting_with_its_config_leaf_named() -> None:
    sim = SimEngine("ignore_axis:trade.tp_partial_atr_mult")
    (row,) = sensitivity_audit(sim, axes=["trade.tp_partial_atr_mult"], search=False)
    assert row.status == DRIFTING
    rep = row.drift
    assert rep is not None and rep.klass == "CONFIG"
    assert "trade.tp_partial_atr_mult" in rep.first.place()["paths"]


def test_report_has_one_row_per_swept_axis_and_a_plot() -> None:
    rows = [AxisRow(p, LIVE) for p in SWEPT]
    rows[3] = AxisRow(SWEPT[3], DEAD, note="no value pair changed engine_ref's trades")
    text = render_sensitivity_md(rows, {"gpu_sim": "test"}, "sensitivity.png")
    table = [line for line in text.splitlines() if line.startswith("| ") and "`" in line]
    assert len(table) == 148
    assert summary_line(rows) == f"sensitivity: 147/148 LIVE (1 DEAD, 0 DRIFTING); first dead: {SWEPT[3]}"
    assert counts(rows) == {LIVE: 147, DEAD: 1, DRIFTING: 0}
    assert "## 4. Dead axes" in text
    assert sensitivity_png(rows)[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.slow
@pytest.mark.audit
def test_all_148_swept_axes_are_live() -> None:
    rows = sensitivity_audit()
    assert len(rows) == 148
    bad = [(r.axis, r.status, r.values) for r in rows if r.status != LIVE]
    assert not bad, bad
