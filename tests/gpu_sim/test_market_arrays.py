"""gpu_sim.market_arrays: flat padded packing of the harness's per-symbol arrays."""
from __future__ import annotations

import numpy as np
import pytest

from gpu_sim.market_arrays import T_PAD, pack_bars, pack_funding, pack_inputs, pack_market, sort_symbols
from harness.data import synth_market
from harness.engine_inputs import engine_inputs
from harness.errors import DataError


def bars(t, c=None):
    t = np.asarray(t, dtype=np.int64)
    c = np.arange(1.0, t.size + 1.0) if c is None else np.asarray(c, dtype=float)
    return {"t": t, "o": c, "h": c + 1.0, "l": c - 0.5, "c": c, "v": c * 10.0}


def test_pack_bars_shapes_order_and_padding():
    main = {"SOL": bars([0, 10, 20]), "BTC": bars([5]), "a": bars([]), "ETH": bars([1, 2])}
    b = pack_bars(main)
    assert b.symbols == ("BTC", "ETH", "SOL", "a")                  # byte-wise: upper case first
    assert b.t.dtype == np.int64 and b.c.dtype == np.float64 and b.n_bars.dtype == np.int32
    assert b.t.shape == b.v.shape == (4, 3) and b.max_bars == 3 and b.n_bars.tolist() == [1, 2, 3, 0]
    assert b.t[2].tolist() == [0, 10, 20] and b.t[0].tolist() == [5, T_PAD, T_PAD]
    assert np.array_equal(b.h[2], main["SOL"]["h"]) and np.isnan(b.c[1, 2]) and np.isnan(b.o[3]).all()
    for a in (b.t, b.o, b.h, b.l, b.c, b.v, b.n_bars):
        assert a.flags.c_contiguous and not a.flags.writeable
    assert pack_bars(main, ["SOL", "BTC"]).symbols == ("BTC", "SOL")
    assert pack_bars({}).t.shape == (0, 0)


def test_sort_symbols_bytewise():
    assert sort_symbols(["b", "B", "a", "ÄX", "Z"]) == ("B", "Z", "a", "b", "ÄX")
    with pytest.raises(DataError, match="duplicate"):
        sort_symbols(["BTC", "BTC"])


@pytest.mark.parametrize("change,piece", [
    (lambda d: d.update(t=np.array([0, 0, 1])), "strictly ascending"),
    (lambda d: d.update(t=np.array([0.0, 1.0, 2.0])), "integer array"),
    (lambda d: d.update(c=np.array([1.0, np.nan, 2.0])), "not finite"),
    (lambda d: d.update(v=np.array([1.0, 2.0])), "2 rows but t has 3"),
    (lambda d: d.pop("h"), "missing fields"),
    (lambda d: d.update(t=np.array([0, 1, T_PAD])), "reserved for padding"),
])
def test_pack_bars_rejects_bad_input(change, piece):
    d = bars([0, 1, 2])
    change(d)
    with pytest.raises(DataError, match=piece):
        pack_bars({"BTC": d})


def test_missing_main_symbol_is_an_error_missing_sub_symbol_is_empty():
    with pytest.raises(DataError, match="has no bars"):
        pack_bars({"BTC": bars([0])}, ["BTC", "ETH"])
    m = pack_market({"BTC": bars([0, 60]), "ETH": bars([0])}, {3000: {"ETH": bars([0, 3, 6]), "XRP": bars([1])}},
                    {"BTC": (np.array([0, 3600]), np.array([1e-5, -2e-5])), "DOGE": (np.array([0]), np.array([0.0]))})
    assert m.symbols == ("BTC", "ETH") and list(m.sub) == [3000]
    s = m.sub[3000]
    assert s.symbols == m.symbols and s.n_bars.tolist() == [0, 3] and s.t[1].tolist() == [0, 3, 6]
    f = m.funding
    assert f.n_rows.tolist() == [2, 0] and f.times.shape == (2, 2) and f.rates[0].tolist() == [1e-5, -2e-5]
    assert f.times[1].tolist() == [T_PAD, T_PAD] and np.isnan(f.rates[1]).all()
    assert pack_market({"BTC": bars([0])}).funding is None


def test_funding_validation():
    with pytest.raises(DataError, match="funding 'BTC' rates"):
        pack_funding({"BTC": (np.array([0, 1]), np.array([0.1]))}, ["BTC"])
    with pytest.raises(DataError, match="strictly ascending"):
        pack_funding({"BTC": (np.array([1, 1]), np.array([0.1, 0.2]))}, ["BTC"])


def test_pack_inputs_from_synth_market():
    md = synth_market(3, 2, seed=5, sub_intervals=("5m", "15m"))
    inputs = engine_inputs(md, sub_intervals=("15m", "5m"))
    m = pack_inputs(inputs)
    assert m.symbols == tuple(sorted(md.main, key=lambda s: s.encode())) and list(m.sub) == [300_000, 900_000]
    for j, sym in enumerate(m.symbols):
        s = md.main[sym]
        n = int(m.main.n_bars[j])
        assert n == len(s)
        for f in ("t", "o", "h", "l", "c", "v"):
            assert np.array_equal(getattr(m.main, f)[j, :n], getattr(s, f))
        sub = md.sub["5m"][sym]
        assert np.array_equal(m.sub[300_000].c[j, :len(sub)], sub.c)
        assert np.array_equal(m.funding.rates[j, :m.funding.n_rows[j]], md.funding[sym][1])
