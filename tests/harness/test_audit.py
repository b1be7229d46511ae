"""``driftgate audit`` (harness.audit, harness.audit_cli): parts, summary lines, reports, exit codes."""
from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from harness.audit import PARTS, AuditConfig, run_audit
from harness.audit_cli import add_audit_parser, main


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="driftgate")
    add_audit_parser(p.add_subparsers(dest="command", required=True))
    return p


def test_parser_defaults_and_flags() -> None:
    args = _parser().parse_args(["audit"])
    assert (args.nightly, args.out, args.seed, args.parts, args.mutation) == (False, "audit_reports", 0, None, None)
    args = _parser().parse_args(["audit", "--nightly", "--out", "x", "--parts", "trade,causality"])
    assert args.nightly and args.out == "x" and args.parts == "trade,causality" and callable(args.func)


def test_nightly_sizes_are_larger() -> None:
    d, n = AuditConfig.make(False), AuditConfig.make(True)
    assert n.config_generated >= 200 and n.trade_generated > d.trade_generated
    assert n.trade_sweep_rows > d.trade_sweep_rows and n.causality_cuts > d.causality_cuts and n.warmup
    assert d.parts == PARTS == ("config", "trade", "sensitivity", "causality")


def test_small_audit_passes_and_writes_reports(tmp_path: Path) -> None:
    cfg = AuditConfig(out=tmp_path, parts=("config", "trade"), config_generated=2, config_sweep_rows=2,
                      trade_generated=1, trade_sweep_rows=2, trade_days=10)
    lines: list[str] = []
    res = run_audit(cfg, echo=lines.append)
    assert res.ok, res.lines
    assert lines[0].startswith("config parity: ") and lines[0].endswith(" 0 drifts")
    assert lines[1].startswith("trade parity: ") and " 0 drifting " in lines[1]
    assert lines[-1].startswith("audit: PASS")
    for name in ("config_parity.md", "parity.md", "parity_equity.png", "audit.md"):
        assert (tmp_path / name).is_file(), name
    text = (tmp_path / "parity.md").read_text()
    assert "## 1. Configs × drift class" in text and "None: every config is ZERO." in text
    assert (tmp_path / "parity_equity.png").read_bytes()[:4] == b"\x89PNG"


def test_cli_exits_1_on_a_mutation_and_names_it(tmp_path: Path, capsys) -> None:
    code = main(["--parts", "config", "--out", str(tmp_path), "--mutation", "swap_columns:rsi_exit_ub_lo/hi_profit"])
    out = capsys.readouterr().out
    assert code == 1
    assert out.splitlines()[0].startswith("mutation: swap_columns:rsi_exit_ub_lo/hi_profit (param-level")
    assert "config parity: " in out and "trade.rsi_exit_ub_" in out and "audit: FAIL (config parity)" in out


def test_cli_lists_the_mutations(capsys) -> None:
    assert main(["--list-mutations"]) == 0
    assert len(capsys.readouterr().out.splitlines()) >= 10


def test_trade_drift_is_reported_with_its_first_divergence(tmp_path: Path) -> None:
    cfg = AuditConfig(out=tmp_path, parts=("trade",), trade_generated=0, trade_sweep_rows=0, mutation="atr_float32")
    res = run_audit(cfg, echo=None)
    assert not res.ok and res.failures == ["trade parity"]
    text = (tmp_path / "parity.md").read_text()
    assert "## 3. First divergences" in text and "snapshot" in text and "atr: engine_ref=" in text


@pytest.mark.slow
@pytest.mark.audit
def test_default_audit_on_the_demo_data_passes(tmp_path: Path) -> None:
    lines: list[str] = []
    res = run_audit(AuditConfig.make(False, out=tmp_path), echo=lines.append)
    assert res.ok, lines
    assert any(line.startswith("sensitivity: 148/148 LIVE") for line in lines)
    assert any(line.startswith("causality: ") and line.endswith("holds") for line in lines)
    for name in ("parity.md", "sensitivity.md", "causality.md", "config_parity.md", "sensitivity.png"):
        assert (tmp_path / name).is_file()


def test_candles_option_adds_the_defaults_and_the_shipped_yaml(tmp_path: Path) -> None:
    from harness.audit import candle_cases
    from harness.data import synth_market, write_market

    path = write_market(synth_market(n_symbols=3, days=6, seed=2, sub_intervals=("3m",)), tmp_path / "demo.sqlite")
    cases = candle_cases(Path(path))
    assert [c.name for c in cases] == ["candles/defaults", "candles/shipped"]
    assert cases[0].inputs.sub_bars == {} and 180_000 in cases[1].inputs.sub_bars
    args = _parser().parse_args(["audit", "--candles", str(path)])
    assert args.candles == str(path)
