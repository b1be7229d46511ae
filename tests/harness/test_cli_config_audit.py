"""`driftgate config-audit`: summary line, reports, exit code — and a broken packing fails it."""
from __future__ import annotations

import re

import pytest

from harness import cli
from harness.config_parity import swap_columns

pytestmark = pytest.mark.parity


def test_config_audit_zero_drift(tmp_path, capsys) -> None:
    rc = cli.main(["config-audit", "--out", str(tmp_path), "--configs", "6", "--sweep-rows", "3"])
    out = capsys.readouterr().out
    assert rc == 0, out
    m = re.search(r"config parity: (\d+) configs, (\d+) drifts, (\d+) swept axes", out)
    assert m and m.group(2) == "0" and m.group(3) == "148"
    assert int(m.group(1)) == 11 + 12 + 3  # defaults + shipped (2 run modes x 5) + 2 per YAML + sweep rows
    ssot = (tmp_path / "axis_ssot.md").read_text()
    assert "**148 swept axes**" in ssot and "Coverage gaps: **0**" in ssot
    assert "## Drifts (0)" in (tmp_path / "config_parity.md").read_text()


def test_config_audit_reports_a_broken_packing(tmp_path, monkeypatch, capsys) -> None:
    import harness.config_audit as ca
    real = ca.run_config_audit
    monkeypatch.setattr(ca, "run_config_audit", lambda inputs: real(
        inputs, mutate=swap_columns("trade.leverage_low", "trade.leverage_high")))
    rc = cli.main(["config-audit", "--out", str(tmp_path), "--configs", "3", "--sweep-rows", "0"])
    out = capsys.readouterr().out
    assert rc == 1
    assert "trade.leverage_high" in out and "drift" in out
    report = (tmp_path / "config_parity.md").read_text()
    assert "`trade.leverage_low`" in report and "values_changed" in report


@pytest.mark.audit
@pytest.mark.slow
def test_full_config_audit_200_generated(tmp_path, capsys) -> None:
    assert cli.main(["config-audit", "--out", str(tmp_path)]) == 0
    assert "0 drifts, 148 swept axes" in capsys.readouterr().out
