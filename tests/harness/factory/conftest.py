"""Tiny synthetic market + base YAML (no sub-bars) shared by the factory tests."""
from __future__ import annotations

from pathlib import Path

import pytest

from harness.data import synth_market, write_market
from harness.schema import REPO_ROOT
from harness.yamlio import dump_yaml, read_yaml, write_text_atomic

SMALL_SPEC = """\
initial_balance: 10000.0
lookback: 50
axes:
  - {path: indicators.ema_fast_window, values: [8.0, 12.0]}
  - {path: indicators.ema_slow_window, values: [30.0, 50.0]}
  - {path: trade.sl_atr_mult, values: [1.5, 2.0, 2.5]}
  - {path: trade.enable_partial_tp, values: [0.0, 1.0]}
  - {path: trade.tp_atr_mult, values: [4.0, 6.0, 8.0]}
  - {path: trade.entry_min_confidence, values: [0.0, 2.0]}
  - {path: thresholds.entry.min_adx, values: [15.0, 20.0, 25.0]}
  - {path: trade.allocation_pct, values: [0.1, 0.2]}
  - {path: trade.slippage_bps, values: [5.0]}
"""


@pytest.fixture(scope="session")
def tiny_market(tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("factory_data")
    md = synth_market(n_symbols=3, days=20, seed=7, sub_intervals=())
    candles = write_market(md, d / "candles.sqlite")
    doc = read_yaml(REPO_ROOT / "config" / "strategy_overrides.yaml")
    doc["global"]["engine"]["entry_interval"] = ""
    doc["global"]["engine"]["exit_interval"] = ""
    base = write_text_atomic(d / "base.yaml", dump_yaml(doc))
    spec = write_text_atomic(d / "small.yaml", SMALL_SPEC)
    return {"candles": Path(candles), "base": base, "spec": spec, "dir": d}


@pytest.fixture(scope="session")
def local_pg(tmp_path_factory):
    """A running throwaway PostgreSQL server (``harness.factory.pg_local.LocalPostgres``; ``.url``).

    Installed via apt when absent (``ensure_pg_installed``); fsync off (test data only); stopped and
    removed at the end of the session. Tests that need an empty database of their own call
    ``local_pg.database_url("name")``.
    """
    from harness.factory.pg_local import LocalPostgres, ensure_pg_installed

    ensure_pg_installed()
    pg = LocalPostgres(tmp_path_factory.mktemp("local_pg"), fast=True)
    pg.start()
    try:
        yield pg
    finally:
        pg.destroy()
