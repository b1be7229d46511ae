"""Zero mutation (D36b): base YAML + decoded values under global.<path>, reloaded by both engines'
loaders, gives exactly the effective configs the sweep evaluated; config_id per D53.15."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np

from harness.config_parity import PORTFOLIO, ParityCase, canonical_flat, diff_flat, ref_configs, sim_configs
from harness.factory.materialise import canonical_json, config_id, effective_configs, materialise_text, write_candidate
from harness.factory.samplers import RandomBatchSampler
from harness.factory.space import make_space
from harness.schema import REPO_ROOT, load_schema
from harness.sweep_spec import load_sweep_spec
from harness.yamlio import read_yaml

BASE = REPO_ROOT / "config" / "strategy_overrides.yaml"
SYMBOLS = ("BTC", "ETH", "SOL")


def test_full_spec_rows_round_trip_through_both_loaders(tmp_path: Path) -> None:
    schema = load_schema()
    space = make_space(load_sweep_spec(REPO_ROOT / "sweeps" / "full_144v.yaml"), schema)
    idx = RandomBatchSampler(space.sizes, 11).ask(0, 1, 4)
    for k, row in enumerate(space.codes(idx)):
        decoded = space.decode(row)
        path = write_candidate(tmp_path / f"c{k}.yaml", BASE, decoded, "test candidate")
        swept = ParityCase("swept", BASE, SYMBOLS, sweep_paths=space.paths, sweep_codes=tuple(float(c) for c in row))
        mat = ParityCase("materialised", path, SYMBOLS)
        for loader in (lambda c: ref_configs(c, schema), sim_configs):
            a, b = loader(swept), loader(mat)
            assert set(a) == set(b) == {PORTFOLIO, *SYMBOLS}
            for scope in a:
                assert diff_flat("rt", scope, canonical_flat(a[scope]), canonical_flat(b[scope])) == []
        # the swept effective configs == the materialised file's, so the ids agree
        assert config_id(path, SYMBOLS) == config_id(BASE, SYMBOLS, sweep_overrides=decoded)


def test_native_types_under_global(tmp_path: Path) -> None:
    decoded = {"trade.enable_pyramiding": False, "trade.entry_min_confidence": "high",
               "indicators.ema_fast_window": 9, "trade.sl_atr_mult": 2.0}
    text = materialise_text(BASE, decoded, "h")
    assert text.startswith("# h\n")
    assert "    enable_pyramiding: false" in text and '    entry_min_confidence: "high"' in text
    assert "    ema_fast_window: 9\n" in text and "    sl_atr_mult: 2.0\n" in text
    doc = read_yaml(write_candidate(tmp_path / "c.yaml", BASE, decoded))
    base = read_yaml(BASE)
    assert doc["global"]["trade"]["sl_atr_mult"] == 2.0 and doc["symbols"] == base["symbols"]
    assert doc["modes"] == base["modes"]


def test_config_id_is_d53_15_canonical_json(tmp_path: Path) -> None:
    eff = effective_configs(BASE, SYMBOLS)
    text = json.dumps(eff, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    assert canonical_json(eff) == text and list(eff) == sorted(eff)
    assert config_id(BASE, SYMBOLS) == hashlib.sha256(text.encode()).hexdigest()
    # 20 vs 20.0 is a different config (int leaf written as float is a load error or a type change)
    a = write_candidate(tmp_path / "a.yaml", BASE, {"trade.sl_atr_mult": 2.0})
    b = write_candidate(tmp_path / "b.yaml", BASE, {"trade.sl_atr_mult": 2.5})
    assert config_id(a, SYMBOLS) != config_id(b, SYMBOLS)
    assert np.isfinite(float(int(config_id(a, SYMBOLS)[:8], 16)))
