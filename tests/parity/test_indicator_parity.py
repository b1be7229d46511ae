"""Indicator parity: gpu_sim's precomputed ``ind`` against engine_ref's snapshots, bit for bit.

The only module that imports both engines. Every field of every bar of every symbol is compared as
raw binary64 bits (so 0.0 vs -0.0 and last-bit differences count), for the default windows, random
window tuples from the full_144v grids and edge tuples (minimum windows; windows longer than the
history), on the shared Hyperliquid candles (skipped when absent) and on seeded synthetic data
with symbols of different lengths and first bars.
"""
from __future__ import annotations

import copy
import random

import numpy as np
import pytest

from engine_ref.config_loader import load_config
from engine_ref.indicators import SymbolIndicators
from gpu_sim.config_loader import load_params
from gpu_sim.ind_fields import FIELDS, N_FIELDS, WINDOW_PATHS
from gpu_sim.indicator_sets import compute_indicators, dedup_sets
from gpu_sim.market_arrays import pack_market
from harness.data import load_market, synth_market
from harness.engine_inputs import engine_inputs
from harness.sweep_spec import load_sweep_spec
from tests.conftest import REPO_ROOT, SHARED_DATA

pytestmark = pytest.mark.parity

DEFAULTS = [20, 50, 200, 14, 14, 14, 20, 30, 14, 3, 3, 20, 5, 50, 20, 1]
N_GRID = 24


def grid_tuples(n: int, seed: int) -> list[list[float]]:
    grids = {a.path: a.values for a in load_sweep_spec(REPO_ROOT / "sweeps" / "full_144v.yaml").axes}
    rng = random.Random(seed)
    return [[rng.choice(grids[p]) for p in WINDOW_PATHS] for _ in range(n)]


CASES: dict[str, list[float]] = {"defaults": [float(x) for x in DEFAULTS]}
CASES.update({f"grid{i:02d}": row for i, row in enumerate(grid_tuples(N_GRID, seed=20260214))})
CASES["edge_min"] = [1, 1, 1, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]        # adx_window >= 2 (schema)
CASES["edge_min_nostoch"] = [1, 2, 3, 2, 2, 2, 2, 2, 1, 1, 1, 2, 2, 2, 2, 0]
CASES["edge_long"] = [5000, 5000, 9999, 5000, 5000, 5000, 5000, 5000, 5000, 5000, 5000, 5000, 5000, 5000, 5000, 1]
CASES["edge_mixed"] = [3, 700, 2, 650, 2, 620, 2, 3, 2, 2, 610, 3, 601, 600, 601, 1]
CASE_NAMES = list(CASES)


def bits_diff(ref: np.ndarray, sim: np.ndarray) -> tuple[int, int] | None:
    """First (bar, field) whose binary64 bits differ, or None."""
    bad = np.argwhere(ref.view(np.int64) != sim.view(np.int64))
    return None if bad.size == 0 else (int(bad[0, 0]), int(bad[0, 1]))


def ref_config(base: dict, row: list[float]) -> dict:
    cfg = copy.deepcopy(base)
    for path, x in zip(WINDOW_PATHS, row):
        *parents, leaf = path.split(".")
        node = cfg
        for p in parents:
            node = node[p]
        node[leaf] = (x == 1.0) if path == "filters.use_stoch_rsi_filter" else int(x)
    return cfg


def ref_rows(cfg: dict, bars: dict[str, np.ndarray]) -> np.ndarray:
    """engine_ref's snapshot fields for every bar of one symbol, as float64 (bools 0/1, ints exact)."""
    ind = SymbolIndicators.from_config(cfg)
    t, o, h, l, c, v = (bars[f] for f in ("t", "o", "h", "l", "c", "v"))  # noqa: E741
    out = np.empty((len(t), N_FIELDS))
    for k in range(len(t)):
        snap = ind.update(t=int(t[k]), o=float(o[k]), h=float(h[k]), l=float(l[k]), c=float(c[k]), v=float(v[k]))
        out[k] = [float(getattr(snap, f)) for f in FIELDS]
    return out


class Dataset:
    """One market: its per-symbol arrays and SIM's ``ind`` for every case in one batch."""

    def __init__(self, main: dict[str, dict[str, np.ndarray]]):
        self.main = main
        self.market = pack_market(main)
        codes = np.array([CASES[name] for name in CASE_NAMES], dtype=np.float64)
        batch = load_params(None, self.market.symbols, sweep_paths=WINDOW_PATHS, sweep_codes=codes)
        self.sets = dedup_sets(batch)
        self.ind = compute_indicators(self.sets.windows, self.market.main, self.sets.needed)
        self.base = load_config(None)

    def check(self, name: str) -> None:
        c = CASE_NAMES.index(name)
        cfg = ref_config(self.base, CASES[name])
        for j, sym in enumerate(self.market.symbols):
            n = int(self.market.main.n_bars[j])
            sim = self.ind[self.sets.set_ids[c, j], j]
            ref = ref_rows(cfg, self.main[sym])
            where = bits_diff(ref, sim[:n])
            assert where is None, (f"{name} {sym} bar {where[0]} field {FIELDS[where[1]]}: "
                                   f"ref={ref[where]!r} sim={sim[where]!r} windows={CASES[name]}")
            assert np.isnan(sim[n:]).all()


@pytest.fixture(scope="module")
def shared() -> Dataset:
    if not SHARED_DATA.is_file():
        pytest.skip(f"{SHARED_DATA} absent")
    return Dataset(engine_inputs(load_market(SHARED_DATA)).main)


@pytest.fixture(scope="module")
def synthetic() -> Dataset:
    main = engine_inputs(synth_market(4, 60, seed=2024, sub_intervals=(), funding=False)).main
    syms = sorted(main)
    # Different lengths and first bars: one symbol starts 150 bars late, one stops after 900 bars.
    main[syms[1]] = {f: a[150:] for f, a in main[syms[1]].items()}
    main[syms[2]] = {f: a[:900] for f, a in main[syms[2]].items()}
    return Dataset(main)


@pytest.mark.parametrize("name", CASE_NAMES)
def test_shared_candles_bit_exact(shared: Dataset, name: str) -> None:
    shared.check(name)


@pytest.mark.parametrize("name", CASE_NAMES)
def test_synthetic_bit_exact(synthetic: Dataset, name: str) -> None:
    synthetic.check(name)


def test_cases_cover_dedup(synthetic: Dataset) -> None:
    assert len(CASE_NAMES) >= 21 and synthetic.sets.n_sets >= 20


def test_comparator_sees_known_differences() -> None:
    a = np.zeros((3, N_FIELDS))
    assert bits_diff(a, a.copy()) is None
    b = a.copy()
    b[1, 4] = -0.0
    assert bits_diff(a, b) == (1, 4)
    c = np.ones((3, N_FIELDS))
    d = c.copy()
    d[2, 7] = np.nextafter(1.0, 2.0)
    assert bits_diff(c, d) == (2, 7)
