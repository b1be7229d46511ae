"""Sweep-spec validation (config-and-axes.md §6.1, §7.2): every rejection names path and value."""
from __future__ import annotations

import pytest

from harness.errors import SweepError
from harness.schema import REPO_ROOT
from harness.sweep_spec import load_sweep_spec, parse_sweep_spec


def test_shipped_specs_load() -> None:
    full = load_sweep_spec(REPO_ROOT / "sweeps" / "full_144v.yaml")
    smoke = load_sweep_spec(REPO_ROOT / "sweeps" / "smoke.yaml")
    assert len(full.axes) == 148 and len(smoke.axes) == 8
    assert smoke.grid_size() == 1944


BAD = [
    ("unknown path", {"axes": [{"path": "trade.sl_atr_mul", "values": [1.0]}]},
     ["trade.sl_atr_mul", "did you mean trade.sl_atr_mult?"]),
    ("removed alias", {"axes": [{"path": "indicators.ave_avg_atr_window", "values": [30.0]}]},
     ["did you mean thresholds.entry.ave_avg_atr_window?"]),
    ("engine-only path", {"axes": [{"path": "engine.interval", "values": [1.0]}]},
     ["engine.interval", "never swept"]),
    ("duplicate path", {"axes": [{"path": "trade.leverage", "values": [1.0]},
                                 {"path": "trade.leverage", "values": [2.0]}]}, ["repeated"]),
    ("empty list", {"axes": [{"path": "trade.leverage", "values": []}]}, ["non-empty"]),
    ("bool value", {"axes": [{"path": "trade.enable_pyramiding", "values": [True]}]},
     ["must be numbers"]),
    ("string value", {"axes": [{"path": "trade.entry_min_confidence", "values": ["high"]}]},
     ["must be numbers"]),
    ("bad bool code", {"axes": [{"path": "trade.enable_pyramiding", "values": [0.37]}]},
     ["exactly 0 or 1", "0.37"]),
    ("bad enum code", {"axes": [{"path": "trade.entry_min_confidence", "values": [3.0]}]},
     ["enum code"]),
    ("fractional int", {"axes": [{"path": "indicators.rsi_window", "values": [14.5]}]},
     ["integral", "14.5"]),
    ("out of range", {"axes": [{"path": "trade.slippage_bps", "values": [10000.0]}]},
     ["range"]),
    ("extra axis key", {"axes": [{"path": "trade.leverage", "values": [1.0], "step": 1}]},
     ["exactly the keys"]),
    ("unknown top key", {"axes": [], "trials": 5}, ["unknown top-level key"]),
]


@pytest.mark.parametrize("doc,pieces", [(d, p) for _, d, p in BAD], ids=[n for n, _, _ in BAD])
def test_bad_specs_are_rejected(doc: dict, pieces: list[str]) -> None:
    with pytest.raises(SweepError) as err:
        parse_sweep_spec(doc, "spec.yaml")
    msg = str(err.value)
    assert msg.startswith("spec.yaml: ") or msg.startswith("<sweep>: ")
    for piece in pieces:
        assert piece in msg


def test_duplicate_yaml_key_in_spec_file(tmp_path) -> None:
    from harness.errors import ConfigError
    p = tmp_path / "dup.yaml"
    p.write_text("axes: []\naxes: []\n")
    with pytest.raises(ConfigError, match="duplicate key"):
        load_sweep_spec(p)


def test_missing_spec_file(tmp_path) -> None:
    from harness.errors import ConfigError
    with pytest.raises(ConfigError, match="file not found"):
        load_sweep_spec(tmp_path / "nope.yaml")
