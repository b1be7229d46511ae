"""gpu_sim.indicator_sets: dedup of window tuples and the parallel precompute."""
from __future__ import annotations

import numpy as np
import pytest

import gpu_sim.indicators as gi
from gpu_sim.config_loader import load_params
from gpu_sim.ind_fields import N_FIELDS, WINDOW_PATHS
from gpu_sim.indicator_sets import compute_indicators, dedup_sets, k_ring_capacity, window_table
from gpu_sim.layout import load_layout
from gpu_sim.market_arrays import pack_inputs
from harness.data import synth_market
from harness.engine_inputs import engine_inputs
from harness.errors import ConfigError

DEFAULT = [20, 50, 200, 14, 14, 14, 20, 30, 14, 3, 3, 20, 5, 50, 20, 1]


def codes(*rows: dict) -> np.ndarray:
    """Sweep codes over WINDOW_PATHS: the defaults with each row's changes (keys: W_* suffixes)."""
    out = np.array([DEFAULT] * len(rows), dtype=np.float64)
    for i, changes in enumerate(rows):
        for key, value in changes.items():
            out[i, getattr(gi, "W_" + key.upper())] = value
    return out


def batch(rows, symbols=("BTC", "ETH"), yaml_path=None):
    return load_params(yaml_path, symbols, sweep_paths=WINDOW_PATHS, sweep_codes=codes(*rows))


@pytest.fixture(scope="module")
def market():
    return pack_inputs(engine_inputs(synth_market(3, 15, seed=9, sub_intervals=(), funding=False)))


def test_dedup_first_use_order_and_ids():
    b = batch([{"ema_fast": 9}, {}, {"ema_fast": 9}, {"rsi": 10}, {}])
    sets = dedup_sets(b)
    assert sets.windows.dtype == np.int64 and sets.windows.shape == (3, 16)
    assert sets.set_ids.dtype == np.int32 and sets.set_ids.shape == (5, 2)
    assert sets.set_ids[:, 0].tolist() == [0, 1, 0, 2, 1] and (sets.set_ids[:, 1] == sets.set_ids[:, 0]).all()
    assert sets.windows[1].tolist() == DEFAULT and sets.windows[0, gi.W_EMA_FAST] == 9
    assert sets.needed.all() and sets.symbols == ("BTC", "ETH")
    one = dedup_sets(load_params(None, ["BTC"]))
    assert one.windows.tolist() == [DEFAULT] and one.set_ids.tolist() == [[0]]


def test_stoch_windows_are_canonical_when_the_filter_is_off():
    b = batch([{"use_stoch": 0, "stoch_rsi": 10}, {"use_stoch": 0, "stoch_smooth2": 5}, {"stoch_rsi": 10}])
    sets = dedup_sets(b)
    assert sets.set_ids[:, 0].tolist() == [0, 0, 1]
    assert sets.windows[0, [gi.W_STOCH_RSI, gi.W_STOCH_SMOOTH1, gi.W_STOCH_SMOOTH2, gi.W_USE_STOCH]].tolist() == [0] * 4
    assert sets.windows[1, gi.W_STOCH_RSI] == 10


def test_per_symbol_overrides_make_per_symbol_sets(tmp_path):
    p = tmp_path / "cfg.yaml"
    p.write_text("symbols:\n  ETH:\n    indicators:\n      atr_window: 12\n")
    sets = dedup_sets(batch([{}, {}, {"atr": 12}], symbols=("ETH", "BTC", "SOL"), yaml_path=p))
    # rows: (BTC, ETH, SOL); ETH always has atr 12; config 2 sets atr 12 for every symbol
    assert sets.set_ids.tolist() == [[0, 1, 0], [0, 1, 0], [1, 1, 1]]
    assert sets.needed.tolist() == [[True, False, True], [True, True, True]]


def test_window_table_rejects_bad_values():
    layout = load_layout()
    row = np.array(layout.defaults, dtype=np.float64)[None, :]
    for path, value, piece in [("indicators.rsi_window", 2.5, "integer >= 1"), ("indicators.bb_window", 0.0, ">= 1"),
                               ("filters.use_stoch_rsi_filter", 0.5, "0.0 or 1.0")]:
        bad = row.copy()
        bad[0, layout.index[path]] = value
        with pytest.raises(ConfigError, match=path.replace(".", r"\.") + ".*" + piece):
            window_table(bad, layout)


def test_compute_matches_single_symbol_kernel(market):
    sets = dedup_sets(batch([{}, {"use_stoch": 0}, {"adx": 8, "bb": 10, "ave_avg_atr": 80, "stoch_smooth1": 5}],
                            symbols=market.symbols))
    ind = compute_indicators(sets.windows, market.main, sets.needed)
    assert ind.shape == (3, 3, market.main.max_bars, N_FIELDS) and ind.dtype == np.float64 and ind.flags.c_contiguous
    for s in range(3):
        for j in range(3):
            n = int(market.main.n_bars[j])
            out = np.empty((market.main.max_bars, N_FIELDS))
            ring = np.zeros(int(sets.windows[s, gi.W_STOCH_SMOOTH1]) or 1)
            gi.symbol_indicators(market.main.h[j], market.main.l[j], market.main.c[j], market.main.v[j], n,
                                 sets.windows[s], ring, out)
            assert np.array_equal(ind[s, j].view(np.int64), out.view(np.int64)), (s, j)


def test_unneeded_pairs_are_nan_and_out_is_reused(market):
    w = np.array([DEFAULT, DEFAULT], dtype=np.int64)
    w[1, gi.W_RSI] = 10
    need = np.array([[True, False, True], [False, True, False]])
    out = np.zeros((2, 3, market.main.max_bars, N_FIELDS))
    got = compute_indicators(w, market.main, need, out=out)
    assert got is out and np.isnan(out[0, 1]).all() and np.isnan(out[1, 0]).all()
    assert np.isfinite(out[0, 0, :market.main.n_bars[0]]).all()
    again = compute_indicators(w, market.main, need)
    assert np.array_equal(again.view(np.int64), out.view(np.int64))      # deterministic


def test_compute_validates_inputs(market):
    w = np.array([DEFAULT], dtype=np.int64)
    with pytest.raises(ConfigError, match="not integer"):
        compute_indicators(w.astype(float), market.main)
    bad = w.copy()
    bad[0, gi.W_BB] = 0
    with pytest.raises(ConfigError, match="bb_window = 0"):
        compute_indicators(bad, market.main)
    with pytest.raises(ConfigError, match="needed shape"):
        compute_indicators(w, market.main, np.ones((2, 3), bool))
    with pytest.raises(ConfigError, match="C-contiguous float64"):
        compute_indicators(w, market.main, out=np.zeros((1, 3, 5, N_FIELDS)))


def test_k_ring_capacity_is_the_largest_smooth1_in_use():
    w = np.array([DEFAULT] * 3, dtype=np.int64)
    w[0, gi.W_STOCH_SMOOTH1] = 7
    w[1, gi.W_STOCH_SMOOTH1], w[1, gi.W_USE_STOCH] = 0, 0
    w[2, gi.W_STOCH_SMOOTH1] = 5
    assert k_ring_capacity(w, 1000) == 7 and k_ring_capacity(w, 4) == 4 and k_ring_capacity(w[1:2], 9) == 1
