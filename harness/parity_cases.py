"""The trade-parity case catalogue: which configs run on which data (issue: zero drift).

* the real Hyperliquid candles (``../shared/data``) with the defaults;
* ``config/strategy_overrides.yaml`` with no mode and in every mode, each on a seeded synthetic
  market whose intervals match the mode (main 1h or 30m; 3m / 5m / 15m sub-bars) with funding;
* seeded all-non-default YAMLs (harness.generate: three profiles, symbols/live/modes overlays) on a
  30m market with 3m and 5m sub-bars and funding.
"""
from __future__ import annotations

import tempfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from harness.data import load_market, synth_market
from harness.engine_inputs import EngineInputs, engine_inputs
from harness.generate import iter_generated
from harness.replay import RunParams
from harness.schema import REPO_ROOT
from harness.yamlio import dump_yaml, read_yaml, write_text_atomic

SHIPPED = REPO_ROOT / "config" / "strategy_overrides.yaml"
SHARED_CANDLES = REPO_ROOT.parent / "shared" / "data" / "hl_candles_1h_btc_eth_sol.json"
MODE_INTERVALS = {None: ("1h", ("3m",)), "primary": ("30m", ("5m",)), "fallback": ("1h", ("5m",)),
                  "conservative": ("1h", ("15m",)), "flat": ("1h", ("15m",))}


@dataclass(frozen=True)
class TradeCase:
    name: str
    yaml_path: Path | None
    market: str                  # key of :func:`market`
    run: RunParams


@lru_cache(maxsize=8)
def market(key: str) -> EngineInputs:
    """``shared`` or ``synth:<main>:<sub,sub>:<days>:<seed>`` (4 symbols incl. BTC, with funding)."""
    if key == "shared":
        return engine_inputs(load_market(SHARED_CANDLES))
    _, main, subs, days, seed = key.split(":")
    sub = tuple(s for s in subs.split(",") if s)
    md = synth_market(n_symbols=4, days=int(days), seed=int(seed), main_interval=main, sub_intervals=sub,
                      funding=True)
    return engine_inputs(md, sub)


def shipped_cases(days: int = 20, seed: int = 5, lookback: int = 50) -> list[TradeCase]:
    """The shipped YAML without a mode and in every mode, each on matching synthetic data."""
    modes = [None] + sorted((read_yaml(SHIPPED) or {}).get("modes") or {})
    cases = []
    for mode in modes:
        main, subs = MODE_INTERVALS[mode]
        cases.append(TradeCase(f"shipped/{mode or '-'}", SHIPPED, f"synth:{main}:{','.join(subs)}:{days}:{seed}",
                               RunParams(lookback=lookback, strategy_mode=mode)))
    return cases


def generated_cases(n: int, seed: int = 1, folder: Path | None = None, days: int = 20,
                    lookback: int = 30) -> list[TradeCase]:
    """``n`` all-non-default YAMLs on a 30m market with 3m and 5m sub-bars."""
    folder = folder or Path(tempfile.mkdtemp(prefix="driftgate-trade-"))
    cases = []
    for name, doc in iter_generated(n, seed):
        path = write_text_atomic(folder / f"{name}.yaml", dump_yaml(doc, name))
        cases.append(TradeCase(name, path, f"synth:30m:3m,5m:{days}:{seed + 4}", RunParams(lookback=lookback)))
    return cases


def default_cases() -> list[TradeCase]:
    base = [TradeCase("shared/defaults", None, "shared", RunParams())] if SHARED_CANDLES.is_file() else []
    return base + shipped_cases()
