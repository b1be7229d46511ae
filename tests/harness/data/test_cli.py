"""`driftgate data synth` / `data info` handlers, called directly."""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from harness.data.cli import add_data_parser, cmd_info, cmd_synth, main
from harness.data.synth import synth_market
from tests.harness.data import H, T0


def parse(*argv: str) -> argparse.Namespace:
    root = argparse.ArgumentParser(prog="driftgate")
    add_data_parser(root.add_subparsers(dest="command", required=True))
    return root.parse_args(list(argv))


def test_synth_then_info(tmp_path: Path, capsys) -> None:
    out = tmp_path / "m.sqlite"
    args = parse("data", "synth", "--symbols", "2", "--days", "1", "--seed", "3", "--out", str(out),
                 "--sub-intervals", "3m,15m")
    assert args.func is cmd_synth and cmd_synth(args) == 0
    fp = synth_market(2, 1, 3, ("3m", "15m")).fingerprint()
    assert f"fingerprint {fp}" in capsys.readouterr().out
    args = parse("data", "info", str(out))
    assert args.func is cmd_info and cmd_info(args) == 0
    text = capsys.readouterr().out
    for part in ("symbols (2): BTC ETH", "main interval: 1h; sub-bar intervals: ['3m', '15m']",
                 "bars 3m: 960 over 2 symbols", "funding: 48 rows over 2 symbols", "gaps: 0", f"fingerprint: {fp}"):
        assert part in text, part


def test_info_lists_gaps(tmp_path: Path, capsys) -> None:
    rows = [{"t": T0 + i * H, "o": 1.0, "h": 1.0, "l": 1.0, "c": 1.0, "v": 0.0} for i in (0, 1, 5, 6, 9)]
    p = tmp_path / "g.json"
    p.write_text(json.dumps({"ETH": rows}))
    assert main(["data", "info", str(p), "--max-gaps", "1"]) == 0
    text = capsys.readouterr().out
    assert "gaps: 2" in text and "ETH 1h: 3 missing between" in text and "... 1 more" in text


def test_errors_return_2(tmp_path: Path, capsys) -> None:
    assert cmd_synth(parse("data", "synth", "--days", "1", "--out", str(tmp_path / "x.json"))) == 2
    assert "JSON holds main bars only" in capsys.readouterr().err
    assert cmd_info(parse("data", "info", str(tmp_path / "absent.db"))) == 2
    assert "absent.db: market-data file not found" in capsys.readouterr().err


def test_json_output_main_only(tmp_path: Path, capsys) -> None:
    p = tmp_path / "x.json"
    assert main(["data", "synth", "--symbols", "1", "--days", "1", "--out", str(p), "--sub-intervals", "",
                 "--no-funding"]) == 0
    assert list(json.loads(p.read_text())) == ["BTC"]


def test_bad_interval_option_is_a_usage_error() -> None:
    with pytest.raises(SystemExit):
        parse("data", "synth", "--out", "x.sqlite", "--sub-intervals", "3m,1H")
