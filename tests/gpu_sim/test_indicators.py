"""gpu_sim.indicators: the §2.14 test vectors bit-exact, warm-up rules, D45 sums, padding, causality.

Expected values come from strategy-entries.md only (never from engine_ref).
"""
from __future__ import annotations

import math
from pathlib import Path

import numba
import numpy as np
import pytest

import gpu_sim.indicators as gi
from gpu_sim.ind_fields import FIELDS, N_FIELDS, WINDOW_PATHS
from gpu_sim.indicator_sets import window_table
from gpu_sim.layout import load_layout
from gpu_sim.market_arrays import pack_inputs
from harness.data import load_market, synth_market
from harness.engine_inputs import engine_inputs

F = {name: i for i, name in enumerate(FIELDS)}

# strategy-entries.md §2.14 (default windows, full history, shared data file), shortest round-trip text.
VECTORS = {
    ("BTC", 199): dict(ema_slow="89645.1597315272", ema_fast="89596.75060671825", ema_macro="91441.06837150303",
                       adx="12.268587461546236", adx_pos="17.490275209581384", adx_neg="23.347758537581672",
                       atr="301.7014577912839", avg_atr="508.5248409950944", rsi="47.30365034597432",
                       stoch_k="0.23679184113455065", stoch_d="0.36115770709521083", macd_hist="-19.08710184667722",
                       bb_width="0.013896010726823508", bb_width_avg="0.016620651234273854", vol_sma="735.7544765",
                       vol_trend=False, ema_slow_slope_pct="-0.0002822883256970485"),
    ("BTC", 599): dict(ema_slow="70016.10333860233", ema_fast="70038.5501351421", ema_macro="72596.4541158212",
                       adx="15.815512043850617", adx_pos="14.528509183173913", adx_neg="23.081601867043634",
                       atr="742.1154052401209", avg_atr="747.0715696676787", rsi="46.10869003656096",
                       stoch_k="0.2695716786155094", stoch_d="0.4590708006264901", macd_hist="-40.416175291898405",
                       bb_width="0.03832517322434736", bb_width_avg="0.03728942039061927",
                       vol_sma="1757.5396870000004", vol_trend=False, ema_slow_slope_pct="-0.0018080484603155808"),
    ("ETH", 199): dict(ema_slow="2964.199299239136", ema_fast="2957.363024403564", ema_macro="3082.7370514593476",
                       adx="7.712903887022615", adx_pos="19.301008720630335", adx_neg="19.6236455128355",
                       atr="15.04757444528291", avg_atr="27.404989901777327", rsi="51.96041103440404",
                       stoch_k="0.8706117970670076", stoch_d="0.8812754900835724", macd_hist="0.6532896770958352",
                       bb_width="0.0147107631345903", bb_width_avg="0.02269260919868123", vol_sma="13604.678425",
                       vol_trend=False, ema_slow_slope_pct="-0.0023354874222368677"),
    ("ETH", 599): dict(ema_slow="2083.9087725288796", ema_fast="2090.780024987977", ema_macro="2184.548103419066",
                       adx="16.601491624382128", adx_pos="17.98151158299202", adx_neg="26.287856921540453",
                       atr="29.007739830395867", avg_atr="28.98536639032816", rsi="44.5949051532767",
                       stoch_k="0.2517710197933394", stoch_d="0.47235742133383196", macd_hist="-2.681465769166035",
                       bb_width="0.07525097682540494", bb_width_avg="0.053675798402929596",
                       vol_sma="31916.487825000007", vol_trend=False, ema_slow_slope_pct="0.002560514333816304"),
    ("SOL", 199): dict(ema_slow="127.9350825275626", ema_fast="127.43634704342111", ema_macro="132.63844668702833",
                       adx="12.428552739664283", adx_pos="16.61705250727707", adx_neg="22.20604177833225",
                       atr="0.6386800750621923", avg_atr="1.0254962089154145", rsi="46.22099084407593",
                       stoch_k="0.24368147462474354", stoch_d="0.18911701431121178",
                       macd_hist="-0.009481787824825116", bb_width="0.015398906697636964",
                       bb_width_avg="0.021774245573173187", vol_sma="39468.05600000001", vol_trend=False,
                       ema_slow_slope_pct="-0.004529222611298822"),
    ("SOL", 599): dict(ema_slow="86.50330284430134", ema_fast="86.43951951406999", ema_macro="92.47484174413324",
                       adx="15.397687221895534", adx_pos="18.148586428021314", adx_neg="20.96128689584082",
                       atr="1.1763767813884487", avg_atr="1.2551535247359387", rsi="49.439261451863715",
                       stoch_k="0.31284699678966077", stoch_d="0.49315906084860334", macd_hist="0.00826861356208912",
                       bb_width="0.07033396418739468", bb_width_avg="0.05723342408476104",
                       vol_sma="136280.49599999998", vol_trend=False, ema_slow_slope_pct="-0.003553816583271815"),
}


def default_windows() -> np.ndarray:
    layout = load_layout()
    return window_table(np.asarray(layout.defaults)[None, :], layout)[0]


def run(h, l, c, v, win, n=None, pad=0):  # noqa: E741
    """One symbol's ``out`` (n + pad rows) through the compiled kernel."""
    n = len(c) if n is None else n
    out = np.full((n + pad, N_FIELDS), 7.0)
    ring = np.zeros(max(1, int(win[gi.W_STOCH_SMOOTH1])))
    gi.symbol_indicators(np.asarray(h, float), np.asarray(l, float), np.asarray(c, float), np.asarray(v, float),
                         n, np.asarray(win, np.int64), ring, out)
    return out


def windows(**changes) -> np.ndarray:
    w = default_windows().copy()
    for key, value in changes.items():
        w[getattr(gi, "W_" + key.upper())] = value
    return w


@pytest.fixture(scope="module")
def synth():
    s = synth_market(1, 20, seed=3, sub_intervals=(), funding=False).main["BTC"]
    return s.h, s.l, s.c, s.v


def test_window_columns_follow_window_paths():
    names = ["ema_fast", "ema_slow", "ema_macro", "adx", "atr", "rsi", "bb", "bb_width_avg", "stoch_rsi",
             "stoch_smooth1", "stoch_smooth2", "vol_sma", "vol_trend", "ave_avg_atr", "slope", "use_stoch"]
    paths = ["indicators.ema_fast_window", "indicators.ema_slow_window", "indicators.ema_macro_window",
             "indicators.adx_window", "indicators.atr_window", "indicators.rsi_window", "indicators.bb_window",
             "indicators.bb_width_avg_window", "indicators.stoch_rsi_window", "indicators.stoch_rsi_smooth1",
             "indicators.stoch_rsi_smooth2", "indicators.vol_sma_window", "indicators.vol_trend_window",
             "thresholds.entry.ave_avg_atr_window", "thresholds.entry.slow_drift_slope_window",
             "filters.use_stoch_rsi_filter"]
    for name, path in zip(names, paths):
        assert WINDOW_PATHS[getattr(gi, "W_" + name.upper())] == path
    assert gi.N_WINDOWS == len(WINDOW_PATHS) == 16
    assert default_windows().tolist() == [20, 50, 200, 14, 14, 14, 20, 30, 14, 3, 3, 20, 5, 50, 20, 1]


@pytest.mark.parametrize("symbol", ["BTC", "ETH", "SOL"])
def test_spec_2_14_vectors_bit_exact(shared_candles, symbol):
    m = pack_inputs(engine_inputs(load_market(shared_candles)))
    j = m.symbols.index(symbol)
    n = int(m.main.n_bars[j])
    assert n == 600 and m.main.t[j, 199] == 1769256000000 and m.main.t[j, 599] == 1770696000000
    out = run(m.main.h[j], m.main.l[j], m.main.c[j], m.main.v[j], default_windows(), n=n)
    for k in (199, 599):
        for field, text in VECTORS[(symbol, k)].items():
            want = float(text)  # vol_trend: False -> 0.0
            got = out[k, F[field]]
            assert got == want and np.signbit(got) == np.signbit(want), (symbol, k, field, repr(got), text)


def test_warm_up_outputs(synth):
    h, l, c, v = synth  # noqa: E741
    w = default_windows()
    out = run(h, l, c, v, w)
    k = np.arange(len(c))
    assert np.array_equal(out[:, F["bar_index"]], k.astype(float))
    assert (out[:14, F["rsi"]] == 50.0).all() and out[14, F["rsi"]] != 50.0          # §2.4
    assert (out[:14, [F["adx"], F["adx_pos"], F["adx_neg"]]] == 0.0).all()             # §2.2 k < w
    assert out[14, F["adx"]] > 0.0 and out[14, F["adx_pos"]] > 0.0                     # first DX at k = w
    assert (out[:13, [F["stoch_k"], F["stoch_d"]]] == 0.5).all()                       # §2.5 ring not full
    assert (out[:19, F["bb_upper"]] == out[:19, F["bb_lower"]]).all()                  # §2.6 warm-up
    assert (out[:19, F["bb_width"]] == 0.0).all() and out[19, F["bb_width"]] > 0.0
    assert out[0, F["atr"]] == h[0] - l[0] and out[0, F["atr_slope"]] == out[0, F["atr"]]
    assert out[1, F["atr"]] == (h[0] - l[0] + max(h[1] - l[1], abs(h[1] - c[0]), abs(l[1] - c[0]))) / 2
    assert out[0, F["ema_fast"]] == c[0] and out[0, F["macd_hist"]] == 0.0
    alpha = 2.0 / (20.0 + 1.0)
    assert out[1, F["ema_fast"]] == (alpha * c[1]) + ((1.0 - alpha) * c[0])
    assert (out[:19, F["ema_slow_slope_pct"]] == 0.0).all()                            # §2.11 (k+1) < Wd
    assert out[19, F["ema_slow_slope_pct"]] == (out[19, F["ema_slow"]] - out[0, F["ema_slow"]]) / c[19]


def test_lagged_fields(synth):
    h, l, c, v = synth  # noqa: E741
    out = run(h, l, c, v, default_windows())
    pairs = [("prev_close", None), ("prev_ema_fast", "ema_fast"), ("prev_ema_slow", "ema_slow"),
             ("prev_macd_hist", "macd_hist"), ("prev_volume", None), ("prev_vol_sma", "vol_sma"),
             ("prev_vol_trend", "vol_trend")]
    for lag, src in pairs:
        series = (c if lag == "prev_close" else v) if src is None else out[:, F[src]]
        assert out[0, F[lag]] == 0.0 and np.array_equal(out[1:, F[lag]], series[:-1]), lag
    assert np.array_equal(out[2:, F["prev2_macd_hist"]], out[:-2, F["macd_hist"]])
    assert np.array_equal(out[3:, F["prev3_macd_hist"]], out[:-3, F["macd_hist"]])
    assert (out[:2, F["prev2_macd_hist"]] == 0.0).all() and (out[:3, F["prev3_macd_hist"]] == 0.0).all()
    assert np.array_equal(out[1:, F["adx_slope"]], np.diff(out[:, F["adx"]]))
    assert set(np.unique(out[:, F["vol_trend"]])) <= {0.0, 1.0}


def test_sums_are_sequential_not_pairwise_D45():
    # (((0 + 1) + 1e16) + 1) + 1 = 1e16 in binary64; a compensated or exact sum does not.
    v = np.array([1.0, 1e16, 1.0, 1.0])
    c = np.array([1.0, 2.0, 3.0, 4.0])
    out = run(c, c, c, v, windows(vol_sma=4, vol_trend=4))
    assert out[3, F["vol_sma"]] == 1e16 / 4 and out[3, F["vol_sma"]] != math.fsum(v) / 4
    assert out[1, F["vol_sma"]] == (1.0 + 1e16) / 2 and out[0, F["vol_sma"]] == 1.0


def test_stoch_off_is_zero_and_flat_rsi_gives_half(synth):
    h, l, c, v = synth  # noqa: E741
    out = run(h, l, c, v, windows(use_stoch=0))
    assert (out[:, [F["stoch_k"], F["stoch_d"]]] == 0.0).all()
    flat = np.full(40, 100.0)
    out = run(flat, flat, flat, np.ones(40), default_windows())
    assert (out[:14, F["rsi"]] == 50.0).all() and (out[14:, F["rsi"]] == 100.0).all()  # AL == 0 -> 100
    assert out[13, F["stoch_k"]] == 0.5 and out[14, F["stoch_k"]] == (1.0 + 0.5) / 2 and out[-1, F["stoch_k"]] == 0.5
    up = np.arange(1.0, 41.0)
    out = run(up, up, up, np.ones(40), windows(stoch_rsi=1, stoch_smooth1=1, stoch_smooth2=1))
    assert (out[14:, F["rsi"]] == 100.0).all() and (out[:, F["stoch_k"]] == 0.5).all()  # AL = 0; rng = 0


def test_window_one_and_windows_longer_than_history(synth):
    h, l, c, v = synth  # noqa: E741
    out = run(h, l, c, v, windows(slope=1, bb=1, atr=1, vol_sma=1))
    assert (out[:, F["ema_slow_slope_pct"]] == 0.0).all()
    assert (out[:, F["bb_width"]] == 0.0).all() and np.array_equal(out[:, F["bb_upper"]], c)
    assert np.array_equal(out[:, F["vol_sma"]], v) and out[0, F["atr"]] == h[0] - l[0]
    n = len(c)
    long = run(h, l, c, v, windows(ema_fast=n + 5, adx=n, atr=n + 1, rsi=n, bb=n + 2, bb_width_avg=n + 9,
                                   stoch_rsi=n + 3, vol_sma=n + 4, ave_avg_atr=n + 7, slope=n + 1))
    assert (long[:, F["rsi"]] == 50.0).all() and (long[:, F["adx"]] == 0.0).all()
    assert (long[:, F["bb_width"]] == 0.0).all() and (long[:, F["stoch_k"]] == 0.5).all()
    assert np.isfinite(long).all()


def test_padding_is_nan_and_never_read(synth):
    h, l, c, v = synth  # noqa: E741
    n = len(c)
    junk = [np.concatenate([x, [np.nan, -1e300, 0.0]]) for x in (h, l, c, v)]
    a = run(h, l, c, v, default_windows())
    b = run(*junk, default_windows(), n=n, pad=5)
    assert np.array_equal(a.view(np.int64), b[:n].view(np.int64)) and np.isnan(b[n:]).all()
    assert np.isnan(run(h, l, c, v, default_windows(), n=0, pad=3)).all()


@pytest.mark.parametrize("m", [1, 2, 15, 29, 200])
def test_prefix_rows_do_not_depend_on_later_bars(synth, m):
    h, l, c, v = synth  # noqa: E741
    full = run(h, l, c, v, default_windows())
    part = run(h[:m], l[:m], c[:m], v[:m], default_windows())
    assert np.array_equal(full[:m].view(np.int64), part.view(np.int64))


def test_no_fused_multiply_add_in_cpu_code(synth):
    """§10: the CPU build keeps every product separate. Cached code cannot be inspected, so each
    column writer is recompiled uncached from its source (the inline helpers come with it)."""
    h, l, c, v = (np.ascontiguousarray(x) for x in synth)  # noqa: E741
    n, out, ring = len(c), np.zeros((len(c), N_FIELDS)), np.zeros(3)
    calls = {"ema_column": (c, n, 20, out, 0), "macd_column": (c, n, out), "adx_columns": (h, l, c, n, 14, out),
             "atr_columns": (h, l, c, n, 14, 50, out), "rsi_column": (c, n, 14, out),
             "stoch_columns": (n, 14, 3, 3, 1, ring, out), "bb_columns": (c, n, 20, 30, out),
             "vol_columns": (v, n, 20, 5, out), "lag_columns": (c, v, n, 20, out)}
    control = numba.njit(fastmath=True)(gi.ema_column.py_func)  # the check must see a contraction
    control(*calls["ema_column"])
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file() and "fma" in cpuinfo.read_text().split():
        assert any("fmadd" in asm for asm in control.inspect_asm().values())
    for name, args in calls.items():
        fresh = numba.njit(getattr(gi, name).py_func)
        fresh(*args)
        for asm in fresh.inspect_asm().values():
            assert "mulsd" in asm or "mulpd" in asm or name in ("stoch_columns", "lag_columns", "vol_columns"), name
            assert "fmadd" not in asm and "fmsub" not in asm and "fnmadd" not in asm, name
