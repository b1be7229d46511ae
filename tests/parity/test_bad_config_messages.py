"""Bad config input: both loaders reject it, and each message names file, path, value and fix.

One table, run against engine_ref's loader and gpu_sim's loader (conformance style).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from harness.errors import ConfigError, SweepError

pytestmark = pytest.mark.parity


def load_ref(path: Path | None, **kw) -> object:
    from engine_ref.config_loader import load_config_set
    return load_config_set(path, ("BTC", "ETH"), kw.get("mode"), sweep_overrides=kw.get("ref_sweep"))


def load_sim(path: Path | None, **kw) -> object:
    from gpu_sim.config_loader import load_params
    paths = tuple(kw.get("sim_sweep", {}))
    codes = np.array([list(kw["sim_sweep"].values())]) if paths else None
    return load_params(path, ("BTC", "ETH"), mode=kw.get("mode"), sweep_paths=paths, sweep_codes=codes)


LOADERS = {"engine_ref": load_ref, "gpu_sim": load_sim}

# name, YAML text (None = no file written), expected message pieces (besides the file name)
CASES = [
    ("unknown key", "global:\n  trade:\n    sl_atr_mul: 2.0\n",
     ["global.trade.sl_atr_mul", "did you mean trade.sl_atr_mult"]),
    ("removed alias", "global:\n  indicators:\n    ave_avg_atr_window: 30\n",
     ["indicators.ave_avg_atr_window", "thresholds.entry.ave_avg_atr_window"]),
    ("unknown key with null value", "global:\n  trade:\n    size_multiplier: null\n",
     ["trade.size_multiplier"]),
    ("wrong type", "global:\n  trade:\n    leverage: \"3x\"\n", ["global.trade.leverage", "3x"]),
    ("bool as 0/1", "global:\n  trade:\n    enable_pyramiding: 1\n", ["global.trade.enable_pyramiding"]),
    ("yes is a string in YAML 1.2", "global:\n  trade:\n    enable_pyramiding: yes\n",
     ["global.trade.enable_pyramiding", "yes"]),
    ("fractional int", "global:\n  indicators:\n    rsi_window: 14.5\n",
     ["global.indicators.rsi_window", "14.5"]),
    ("bad enum name", "global:\n  trade:\n    entry_min_confidence: ultra\n",
     ["global.trade.entry_min_confidence", "ultra"]),
    ("non-finite float", "global:\n  trade:\n    sl_atr_mult: .inf\n", ["global.trade.sl_atr_mult"]),
    ("out of range", "global:\n  trade:\n    slippage_bps: 10000.0\n", ["trade.slippage_bps", "10000"]),
    ("section not a mapping", "global:\n  trade: 5\n", ["global.trade", "5"]),
    ("portfolio key in symbols", "symbols:\n  BTC:\n    trade:\n      max_open_positions: null\n",
     ["symbols.BTC.trade.max_open_positions"]),
    ("unknown top-level key", "globals:\n  trade: {}\n", ["globals", "did you mean"]),
    ("duplicate key", "global:\n  trade:\n    leverage: 2.0\n    leverage: 3.0\n", ["leverage"]),
    ("malformed YAML", "global:\n  trade: {leverage: 2.0\n", []),
    ("half-written file", "global:\n  trade:\n    leverage: 2.0\n  indicators:\n    rsi_wi", []),
    ("empty file", "# nothing here\n", []),
    ("cross-key rule", "global:\n  trade:\n    vol_scalar_min: 0.9\n    vol_scalar_max: 0.7\n",
     ["vol_scalar"]),
    ("bad interval", "global:\n  engine:\n    exit_interval: 05m\n", ["engine.exit_interval", "05m"]),
    ("sub-bar longer than main", "global:\n  engine:\n    exit_interval: 2h\n", ["engine.exit_interval"]),
    ("signal_on_candle_close false", "global:\n  engine:\n    signal_on_candle_close: false\n",
     ["engine.signal_on_candle_close"]),
    ("type error in an unused mode", "modes:\n  primary:\n    trade:\n      leverage: abc\n",
     ["modes.primary.trade.leverage", "abc"]),
]


@pytest.mark.parametrize("loader", sorted(LOADERS))
@pytest.mark.parametrize("name,text,pieces", CASES, ids=[c[0] for c in CASES])
def test_bad_yaml_rejected_with_clear_message(tmp_path, loader, name, text, pieces) -> None:
    path = tmp_path / "overrides.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as err:
        LOADERS[loader](path)
    msg = str(err.value)
    assert str(path) in msg or path.name in msg, msg
    for piece in pieces:
        assert piece in msg, f"{piece!r} not in {msg!r}"


@pytest.mark.parametrize("loader", sorted(LOADERS))
def test_missing_file(tmp_path, loader) -> None:
    with pytest.raises(ConfigError) as err:
        LOADERS[loader](tmp_path / "nope.yaml")
    assert "nope.yaml" in str(err.value)


@pytest.mark.parametrize("loader", sorted(LOADERS))
def test_unknown_mode(tmp_path, loader) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("modes:\n  primary: {}\n")
    with pytest.raises(ConfigError) as err:
        LOADERS[loader](path, mode="primry")
    assert "primry" in str(err.value)


def test_unknown_sweep_path_both_engines() -> None:
    with pytest.raises(SweepError, match="trade.sl_atr_mult"):
        load_ref(None, ref_sweep={"trade.sl_atr_mul": 2.0})
    with pytest.raises(SweepError, match="trade.sl_atr_mult"):
        load_sim(None, sim_sweep={"trade.sl_atr_mul": 2.0})


def test_bad_sweep_code_gpu_sim() -> None:
    with pytest.raises(SweepError) as err:
        load_sim(None, sim_sweep={"trade.enable_pyramiding": 0.37})
    assert "trade.enable_pyramiding" in str(err.value) and "0.37" in str(err.value)
