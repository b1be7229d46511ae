"""engine_ref indicators against the `ta` package (ta 0.11.0, what the desk's live engine used).

Part 1 — agreement: on the shared 1h candles (BTC/ETH/SOL, 600 bars, full history) every indicator
whose spec definition matches a `ta` indicator agrees to 1e-9 relative from the bar where both are
past their warm-up (strategy-entries.md §2.13). The `ta` options that match the spec:

* EMA: ``EMAIndicator(close, window, fillna=True)`` — with ``fillna=True`` ta's ``ewm(span=w,
  adjust=False, min_periods=0)`` is seeded with ``c_0`` like §2.1, so it agrees from k = 0.
* MACD: ``MACD(close, window_slow=26, window_fast=12, window_sign=9, fillna=True).macd_diff()`` —
  keyword arguments (the positional order is slow, fast, sign); ``fillna=True`` seeds the signal
  EMA with ``line_0 = 0`` at k = 0 like §2.7.
* ADX / +DI / −DI: ``ADXIndicator(h, l, c, window)`` (Wilder) from k = 2w − 1 / k = w + 1.
* ATR: ``AverageTrueRange(h, l, c, window)`` (Wilder, seed includes ``TR_0 = h_0 − l_0``) from k = w − 1.
* Bollinger: ``BollingerBands(close, window, window_dev=2)`` bands (population std, ``ddof=0``)
  from k = bb_w − 1; the spec's width is derived from ta's bands: ``(hband − lband) / close``.
* SMA (``SMAIndicator``) for vol_sma (``fillna=True``: partial means like §2.8), the width
  average and the AVE average ATR.
* RSI / StochRSI: ``RSIIndicator`` and ``StochRSIIndicator(window=stoch_rsi_window, smooth1, smooth2)``
  only converge to the spec (different seeding, §2.13); they agree to 1e-9 once the seed has
  decayed (k >= 300 / 320 here) and only when ``rsi_window == stoch_rsi_window``.

Part 2 — deliberate differences: one named test per place where the spec differs from `ta`, each
on a tiny hand-built series: it asserts the spec value (computed by hand from the spec's formula)
and that `ta` gives something else.
"""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

ta = pytest.importorskip("ta", reason="the `ta` package (dev extra) is needed for the comparison")
from ta.momentum import RSIIndicator, StochRSIIndicator  # noqa: E402
from ta.trend import ADXIndicator, EMAIndicator, MACD, SMAIndicator  # noqa: E402
from ta.volatility import AverageTrueRange, BollingerBands  # noqa: E402

from engine_ref.indicators import IndicatorSnapshot, SymbolIndicators  # noqa: E402
from engine_ref.indicators_momentum import StochRsi  # noqa: E402
from tests.engine_ref.test_indicators import ATR_BARS, ADX_BARS, make_indicator_config  # noqa: E402

REL_TOL = 1e-9
RSI_CONVERGED_FROM = 300    # ta's zero-seeded EWM differs by ~((w-1)/w)^k; < 1e-10 relative here
STOCH_CONVERGED_FROM = 320  # stoch amplifies the RSI difference by 1 / (max - min)

WINDOW_SETS = {
    "defaults": {},
    "alt": dict(ema_fast_window=9, ema_slow_window=21, ema_macro_window=100, adx_window=10, atr_window=7,
                rsi_window=10, stoch_rsi_window=10, stoch_rsi_smooth1=4, stoch_rsi_smooth2=2, bb_window=14,
                bb_width_avg_window=25, vol_sma_window=12, vol_trend_window=3, ave_avg_atr_window=30,
                slow_drift_slope_window=12),
}


def field(snaps: list[IndicatorSnapshot], name: str) -> np.ndarray:
    return np.array([getattr(s, name) for s in snaps], dtype=float)


def assert_rel_close(ours: np.ndarray, theirs: np.ndarray, start: int, what: str) -> None:
    """Every bar k >= start: equal, or |a − b| <= 1e-9 · max(|a|, |b|)."""
    for k in range(start, len(ours)):
        a, b = float(ours[k]), float(theirs[k])
        assert a == b or abs(a - b) <= REL_TOL * max(abs(a), abs(b)), f"{what}: k={k} ours={a!r} ta={b!r}"


# ==================================== Part 1: agreement on real data ====================================

@pytest.fixture(scope="module")
def candles(shared_candles: Path) -> dict[str, list[dict]]:
    return json.loads(shared_candles.read_text(encoding="utf-8"))


@pytest.fixture(scope="module", params=[(s, w) for w in WINDOW_SETS for s in ("BTC", "ETH", "SOL")],
                ids=lambda p: f"{p[0]}-{p[1]}")
def case(request: pytest.FixtureRequest, candles: dict) -> tuple[dict, pd.DataFrame, list[IndicatorSnapshot]]:
    symbol, window_set = request.param
    cfg = make_indicator_config(**WINDOW_SETS[window_set])
    ind = SymbolIndicators.from_config(cfg)
    snaps = [ind.update_bar(bar) for bar in candles[symbol]]
    return cfg["indicators"] | cfg["thresholds"]["entry"], pd.DataFrame(candles[symbol]), snaps


def test_ema_matches_ta_fillna_true_from_first_bar(case) -> None:
    w, df, snaps = case
    for name in ("ema_fast", "ema_slow", "ema_macro"):
        theirs = EMAIndicator(df.c, w[f"{name}_window"], fillna=True).ema_indicator().to_numpy()
        assert_rel_close(field(snaps, name), theirs, 0, name)
        if name != "ema_macro":  # the snapshot carries prev_ema_fast and prev_ema_slow (§2.10)
            prev = np.concatenate(([0.0], theirs[:-1]))
            assert_rel_close(field(snaps, f"prev_{name}"), prev, 1, f"prev_{name}")


def test_macd_hist_matches_ta_fillna_true_from_first_bar(case) -> None:
    _, df, snaps = case
    theirs = MACD(df.c, window_slow=26, window_fast=12, window_sign=9, fillna=True).macd_diff().to_numpy()
    assert_rel_close(field(snaps, "macd_hist"), theirs, 0, "macd_hist")
    for lag, name in ((1, "prev_macd_hist"), (2, "prev2_macd_hist"), (3, "prev3_macd_hist")):
        assert_rel_close(field(snaps, name), np.concatenate(([0.0] * lag, theirs[:-lag])), lag, name)


def test_adx_and_di_match_ta_after_warmup(case) -> None:
    w, df, snaps = case
    n = w["adx_window"]
    adx = ADXIndicator(df.h, df.l, df.c, window=n)
    assert_rel_close(field(snaps, "adx"), adx.adx().to_numpy(), 2 * n - 1, "adx")
    assert_rel_close(field(snaps, "adx_pos"), adx.adx_pos().to_numpy(), n + 1, "adx_pos")
    assert_rel_close(field(snaps, "adx_neg"), adx.adx_neg().to_numpy(), n + 1, "adx_neg")
    ta_adx = adx.adx().to_numpy()
    slope = np.concatenate(([np.nan], ta_adx[1:] - ta_adx[:-1]))
    ours = field(snaps, "adx_slope")
    for k in range(2 * n, len(ours)):  # a difference of two close values: compare against the ADX scale
        assert abs(ours[k] - slope[k]) <= REL_TOL * ta_adx[k], f"adx_slope k={k}"


def test_atr_matches_ta_after_warmup(case) -> None:
    w, df, snaps = case
    n = w["atr_window"]
    theirs = AverageTrueRange(df.h, df.l, df.c, window=n).average_true_range().to_numpy()
    assert_rel_close(field(snaps, "atr"), theirs, n - 1, "atr")
    ours_slope = field(snaps, "atr_slope")
    for k in range(n, len(ours_slope)):  # a difference of two close values: compare on the ATR scale
        assert abs(ours_slope[k] - (theirs[k] - theirs[k - 1])) <= REL_TOL * theirs[k], f"atr_slope k={k}"


def test_avg_atr_matches_sma_of_ta_atr_once_inputs_agree(case) -> None:
    w, df, snaps = case
    n, ave = w["atr_window"], w["ave_avg_atr_window"]
    ta_atr = AverageTrueRange(df.h, df.l, df.c, window=n).average_true_range()
    theirs = SMAIndicator(ta_atr, ave).sma_indicator().to_numpy()
    assert_rel_close(field(snaps, "avg_atr"), theirs, n + ave - 2, "avg_atr")


def test_rsi_converges_to_ta(case) -> None:
    w, df, snaps = case
    theirs = RSIIndicator(df.c, window=w["rsi_window"]).rsi().to_numpy()
    assert_rel_close(field(snaps, "rsi"), theirs, RSI_CONVERGED_FROM, "rsi")


def test_stoch_rsi_converges_to_ta_when_rsi_and_stoch_windows_are_equal(case) -> None:
    w, df, snaps = case
    assert w["rsi_window"] == w["stoch_rsi_window"]  # otherwise ta reads another RSI (RP-E3)
    st = StochRSIIndicator(df.c, window=w["stoch_rsi_window"], smooth1=w["stoch_rsi_smooth1"],
                           smooth2=w["stoch_rsi_smooth2"])
    assert_rel_close(field(snaps, "stoch_k"), st.stochrsi_k().to_numpy(), STOCH_CONVERGED_FROM, "stoch_k")
    assert_rel_close(field(snaps, "stoch_d"), st.stochrsi_d().to_numpy(), STOCH_CONVERGED_FROM, "stoch_d")


def test_bollinger_bands_width_and_average_match_ta_after_warmup(case) -> None:
    w, df, snaps = case
    n, avg_n = w["bb_window"], w["bb_width_avg_window"]
    bb = BollingerBands(df.c, window=n, window_dev=2)
    upper, lower = bb.bollinger_hband(), bb.bollinger_lband()
    width = (upper - lower) / df.c
    width_avg = SMAIndicator(width, avg_n).sma_indicator()
    assert_rel_close(field(snaps, "bb_upper"), upper.to_numpy(), n - 1, "bb_upper")
    assert_rel_close(field(snaps, "bb_lower"), lower.to_numpy(), n - 1, "bb_lower")
    assert_rel_close(field(snaps, "bb_width"), width.to_numpy(), n - 1, "bb_width")
    assert_rel_close(field(snaps, "bb_width_avg"), width_avg.to_numpy(), n + avg_n - 2, "bb_width_avg")
    assert_rel_close(field(snaps, "bb_width_ratio"), (width / width_avg).to_numpy(), n + avg_n - 2, "ratio")


def test_volume_sma_and_trend_match_ta_sma_fillna_true(case) -> None:
    w, df, snaps = case
    sma = SMAIndicator(df.v, w["vol_sma_window"], fillna=True).sma_indicator().to_numpy()
    short = SMAIndicator(df.v, w["vol_trend_window"], fillna=True).sma_indicator().to_numpy()
    assert_rel_close(field(snaps, "vol_sma"), sma, 0, "vol_sma")
    assert [s.vol_trend for s in snaps] == list(short > sma)


def test_ema_slow_slope_matches_ta_ema(case) -> None:
    w, df, snaps = case
    wd = w["slow_drift_slope_window"]
    ema = EMAIndicator(df.c, w["ema_slow_window"], fillna=True).ema_indicator().to_numpy()
    close = df.c.to_numpy()
    ours = field(snaps, "ema_slow_slope_pct")
    assert np.all(ours[: wd - 1] == 0.0)
    for k in range(wd - 1, len(ours)):  # a difference of two close values: compare on the EMA scale
        theirs = (ema[k] - ema[k - wd + 1]) / close[k]
        assert abs(ours[k] - theirs) <= REL_TOL * ema[k] / close[k], f"slope k={k}"


def test_spec_2_13_bit_identity_claim_with_default_windows(candles: dict) -> None:
    """§2.13: with the full history EMA, ADX, +DI, ATR and MACD hist equal `ta` bit for bit for k >= 300."""
    for symbol, bars in candles.items():
        ind = SymbolIndicators.from_config(make_indicator_config())
        snaps = [ind.update_bar(bar) for bar in bars]
        df = pd.DataFrame(bars)
        adx = ADXIndicator(df.h, df.l, df.c, window=14)
        pairs = {
            "ema_slow": EMAIndicator(df.c, 50).ema_indicator(),
            "adx": adx.adx(), "adx_pos": adx.adx_pos(),
            "atr": AverageTrueRange(df.h, df.l, df.c, window=14).average_true_range(),
            "macd_hist": MACD(df.c, window_slow=26, window_fast=12, window_sign=9).macd_diff(),
        }
        for name, theirs in pairs.items():
            assert list(field(snaps, name)[300:]) == list(theirs.to_numpy()[300:]), f"{symbol} {name}"


# ============================ Part 2: deliberate differences (tiny series) ============================

def frame(bars: list[tuple[float, float, float]]) -> pd.DataFrame:
    return pd.DataFrame(bars, columns=["h", "l", "c"])


def run(cfg: dict, bars: list[tuple[float, float, float]], volumes: list[float] | None = None):
    ind = SymbolIndicators.from_config(cfg)
    vols = volumes or [1.0] * len(bars)
    return [ind.update(t=k, o=c, h=h, l=l, c=c, v=v) for k, ((h, l, c), v) in enumerate(zip(bars, vols))]


def flat(closes: list[float]) -> list[tuple[float, float, float]]:
    return [(c, c, c) for c in closes]


def test_ema_is_defined_from_first_bar_where_ta_default_masks_warmup() -> None:
    closes = [10.0, 12.0, 8.0, 8.0]
    snaps = run(make_indicator_config(ema_fast_window=3), flat(closes))
    assert [s.ema_fast for s in snaps] == [10.0, 11.0, 9.5, 8.75]  # alpha 0.5, seed c_0
    ta_default = EMAIndicator(pd.Series(closes), 3).ema_indicator().to_numpy()
    assert np.isnan(ta_default[:2]).all() and list(ta_default[2:]) == [9.5, 8.75]
    assert list(EMAIndicator(pd.Series(closes), 3, fillna=True).ema_indicator()) == [10.0, 11.0, 9.5, 8.75]


def test_adx_equals_first_dx_at_bar_w_where_ta_reports_zero() -> None:
    snaps = run(make_indicator_config(adx_window=2), ADX_BARS)
    # k2: raw sums SP 3, SM 1, ST 8 -> DI 37.5 / 12.5, DX 50 = ADX; k3 ADX (50 + 0) / 2 = 25
    assert [s.adx for s in snaps] == [0.0, 0.0, 50.0, 25.0, 32.5]
    theirs = ADXIndicator(frame(ADX_BARS).h, frame(ADX_BARS).l, frame(ADX_BARS).c, window=2).adx().to_numpy()
    assert theirs[2] == 0.0 != snaps[2].adx
    assert list(theirs[3:]) == [25.0, 32.5]  # identical once both are warm (k >= 2w − 1)


def test_adx_running_mean_of_dx_before_bar_2w_minus_1_where_ta_reports_zero() -> None:
    bars = ADX_BARS + [(12.5, 10.0, 12.0)]  # ta needs at least 2w bars
    snaps = run(make_indicator_config(adx_window=3), bars)
    # k3: raw sums over bars 1..3: SP 3, SM 2, ST 12; k4: Wilder step with pdm 1, mdm 0, TR 4
    dip3, din3 = (3.0 / 12.0) * 100.0, (2.0 / 12.0) * 100.0
    dx3 = (abs(dip3 - din3) / (dip3 + din3)) * 100.0
    sp, sm, st = (3.0 - (3.0 / 3.0)) + 1.0, (2.0 - (2.0 / 3.0)) + 0.0, (12.0 - (12.0 / 3.0)) + 4.0
    dip4, din4 = (sp / st) * 100.0, (sm / st) * 100.0
    dx4 = (abs(dip4 - din4) / (dip4 + din4)) * 100.0
    assert (snaps[3].adx, snaps[4].adx) == (dx3, (dx3 + dx4) / 2.0)
    df = frame(bars)
    theirs = ADXIndicator(df.h, df.l, df.c, window=3).adx().to_numpy()
    assert theirs[3] == 0.0 and theirs[4] == 0.0
    assert theirs[5] == pytest.approx(snaps[5].adx, rel=1e-12)  # both warm at k = 2w − 1


def test_di_defined_at_bar_w_where_ta_reports_zero() -> None:
    snaps = run(make_indicator_config(adx_window=2), ADX_BARS)
    assert (snaps[2].adx_pos, snaps[2].adx_neg) == (37.5, 12.5)  # from the raw sums at k = w
    df = frame(ADX_BARS)
    adx = ADXIndicator(df.h, df.l, df.c, window=2)
    assert adx.adx_pos()[2] == 0.0 and adx.adx_neg()[2] == 0.0
    assert (adx.adx_pos()[3], adx.adx_neg()[3]) == (snaps[3].adx_pos, snaps[3].adx_neg) == (18.75, 18.75)


def test_atr_warmup_running_mean_where_ta_reports_zero() -> None:
    snaps = run(make_indicator_config(atr_window=4), ATR_BARS)
    assert [s.atr for s in snaps] == [2.0, 2.5, 2.0, 2.5, 2.375]  # TR 2, 3, 1, 4, 2
    df = frame(ATR_BARS)
    theirs = AverageTrueRange(df.h, df.l, df.c, window=4).average_true_range().to_numpy()
    assert list(theirs) == [0.0, 0.0, 0.0, 2.5, 2.375]


def test_atr_seed_is_a_sequential_sum_where_ta_mean_is_pairwise() -> None:
    tiny = 3 * 2.0**-55  # TR of bars 1..7; below half an ulp of the running total 1.0
    bars = [(1.125, 0.125, 0.125)] + [(0.125 + tiny, 0.125, 0.125)] * 7  # TR_0 = 1.0
    snaps = run(make_indicator_config(atr_window=8), bars)
    assert snaps[7].atr == 1.0 / 8.0  # ((((1 + e) + e) + …) + e) = 1.0 exactly
    df = frame(bars)
    theirs = AverageTrueRange(df.h, df.l, df.c, window=8).average_true_range()[7]
    assert theirs != snaps[7].atr and abs(theirs - 0.125) < 1e-15  # pandas .mean(): pairwise sum


RSI_CLOSES = [10.0, 11.0, 10.0, 12.0, 11.0, 13.0]


def test_rsi_is_sma_seeded_wilder_where_ta_is_zero_seeded_ewm() -> None:
    snaps = run(make_indicator_config(rsi_window=2), flat(RSI_CLOSES))
    # seed at k = w = 2: AG = (1 + 0) / 2, AL = (0 + 1) / 2 -> 50; k3 AG 1.25, AL 0.25 -> 100 - 100/6
    r3 = 100.0 - (100.0 / (1.0 + (1.25 / 0.25)))
    r5 = 100.0 - (100.0 / (1.0 + (1.3125 / 0.3125)))  # k4 AG .625, AL .625; k5 AG 1.3125, AL .3125
    assert [s.rsi for s in snaps] == [50.0, 50.0, 50.0, r3, 50.0, r5]
    theirs = RSIIndicator(pd.Series(RSI_CLOSES), window=2).rsi().to_numpy()
    # ta: EWM(alpha 1/2) of gains 0, 1, 0, 2 / losses 0, 0, 1, 0 from a zero seed at k0: RS(k2) = .25 / .5
    assert theirs[2] == 100.0 - (100.0 / (1.0 + 0.5)) != snaps[2].rsi
    assert all(theirs[k] != snaps[k].rsi for k in range(2, 6))


def test_rsi_warmup_placeholder_50_where_ta_is_nan_or_100() -> None:
    snaps = run(make_indicator_config(rsi_window=4), flat(RSI_CLOSES))
    assert [s.rsi for s in snaps[:4]] == [50.0] * 4
    ta_default = RSIIndicator(pd.Series(RSI_CLOSES), window=4).rsi().to_numpy()
    assert np.isnan(ta_default[:3]).all()
    assert RSIIndicator(pd.Series(RSI_CLOSES), window=4, fillna=True).rsi()[0] == 100.0


def test_stoch_rsi_reads_the_rsi_window_rsi_where_ta_uses_a_stoch_window_rsi() -> None:
    cfg = make_indicator_config(rsi_window=2, stoch_rsi_window=3, stoch_rsi_smooth1=1, stoch_rsi_smooth2=1)
    snaps = run(cfg, flat(RSI_CLOSES))
    r3 = 100.0 - (100.0 / (1.0 + (1.25 / 0.25)))
    r5 = 100.0 - (100.0 / (1.0 + (1.3125 / 0.3125)))
    # RSI(2) = 50, 50, 50, r3, 50, r5; R = RW(3): k2 flat -> .5, k3 1, k4 0, k5 (r5 - 50) / (r3 - 50)
    expected_k = [0.5, 0.5, 0.5, 1.0, 0.0, (r5 - 50.0) / (r3 - 50.0)]
    assert [s.stoch_k for s in snaps] == expected_k
    assert [s.stoch_d for s in snaps] == expected_k  # smooth2 = 1
    own_rsi3 = run(make_indicator_config(rsi_window=3, stoch_rsi_window=3, stoch_rsi_smooth1=1,
                                         stoch_rsi_smooth2=1), flat(RSI_CLOSES))
    assert own_rsi3[5].stoch_k != snaps[5].stoch_k  # the RSI period matters
    theirs = StochRSIIndicator(pd.Series(RSI_CLOSES), window=3, smooth1=1, smooth2=1).stochrsi_k()
    assert theirs[5] != snaps[5].stoch_k


def test_stoch_rsi_flat_range_is_half_where_ta_is_nan() -> None:
    closes = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0]
    cfg = make_indicator_config(rsi_window=2, stoch_rsi_window=2, stoch_rsi_smooth1=1, stoch_rsi_smooth2=1)
    snaps = run(cfg, flat(closes))
    # RSI(2) = 50, 50, 100, 100, …; R = [100, 100] from k3 on: range 0 -> raw 0.5
    assert [s.stoch_k for s in snaps] == [0.5, 0.5, 1.0, 0.5, 0.5, 0.5, 0.5]
    theirs = StochRSIIndicator(pd.Series(closes), window=2, smooth1=1, smooth2=1).stochrsi_k().to_numpy()
    assert np.isnan(theirs[3:]).all()  # 0 / 0


def test_stoch_rsi_warmup_half_and_partial_means_where_ta_is_nan() -> None:
    cfg = make_indicator_config(rsi_window=2, stoch_rsi_window=2, stoch_rsi_smooth1=2, stoch_rsi_smooth2=2)
    snaps = run(cfg, flat(RSI_CLOSES))
    # RSI 50, 50, 50, r3: k0 R not full; k1, k2 flat -> raw .5; k3 raw 1 -> K [.5, 1] .75, D [.5, .75] .625
    assert [(s.stoch_k, s.stoch_d) for s in snaps[:4]] == [(0.5, 0.5), (0.5, 0.5), (0.5, 0.5), (0.75, 0.625)]
    st = StochRSIIndicator(pd.Series(RSI_CLOSES), window=2, smooth1=2, smooth2=2)
    assert np.isnan(st.stochrsi_k().to_numpy()[:3]).all() and np.isnan(st.stochrsi_d().to_numpy()[:4]).all()
    direct = StochRsi(2, 2, 2)  # first push: ring not full, K and D untouched
    assert tuple(direct.update(50.0)) == (0.5, 0.5) and direct.k_ring.count() == 0


def test_bb_width_is_band_span_over_close_where_ta_wband_is_percent_of_middle_band() -> None:
    snaps = run(make_indicator_config(bb_window=2), flat([1.0, 3.0]))
    assert (snaps[1].bb_upper, snaps[1].bb_lower, snaps[1].bb_width) == (4.0, 0.0, 4.0 / 3.0)  # mid 2, sd 1
    bb = BollingerBands(pd.Series([1.0, 3.0]), window=2, window_dev=2)
    assert (bb.bollinger_hband()[1], bb.bollinger_lband()[1]) == (4.0, 0.0)  # same bands
    assert bb.bollinger_wband()[1] == ((4.0 - 0.0) / 2.0) * 100.0 == 200.0  # different width


def test_bb_warmup_has_zero_width_where_ta_is_nan_or_partial_std() -> None:
    closes = [1.0, 3.0, 2.0]
    snaps = run(make_indicator_config(bb_window=3), flat(closes))
    assert [(s.bb_upper, s.bb_lower, s.bb_width) for s in snaps[:2]] == [(1.0, 1.0, 0.0), (2.0, 2.0, 0.0)]
    sd = math.sqrt((((0.0 + (1.0 - 2.0) * (1.0 - 2.0)) + (3.0 - 2.0) * (3.0 - 2.0)) + 0.0) / 3.0)
    assert (snaps[2].bb_upper, snaps[2].bb_lower) == (2.0 + (2.0 * sd), 2.0 - (2.0 * sd))
    assert np.isnan(BollingerBands(pd.Series(closes), window=3).bollinger_hband().to_numpy()[:2]).all()
    partial = BollingerBands(pd.Series(closes), window=3, fillna=True).bollinger_hband()
    assert partial[1] == 2.0 + 2 * 1.0 != snaps[1].bb_upper  # ta fillna=True: std of the partial window


def test_bb_std_is_two_pass_where_pandas_rolling_std_is_online() -> None:
    closes = [4.0, 3.0, 0.3, 0.5]
    snaps = run(make_indicator_config(bb_window=2), flat(closes))
    m = (0.0 + 0.3 + 0.5) / 2.0  # window [0.3, 0.5] at k3
    d1, d2 = 0.3 - m, 0.5 - m
    sd = math.sqrt(((0.0 + (d1 * d1)) + (d2 * d2)) / 2.0)
    assert (snaps[3].bb_upper, snaps[3].bb_lower) == (m + (2.0 * sd), m - (2.0 * sd))
    bb = BollingerBands(pd.Series(closes), window=2, window_dev=2)  # add/remove (online) rolling moments
    theirs = (bb.bollinger_hband()[3], bb.bollinger_lband()[3])
    assert theirs[0] != snaps[3].bb_upper and theirs[1] != snaps[3].bb_lower
    assert abs(theirs[0] - snaps[3].bb_upper) < 1e-15 and abs(theirs[1] - snaps[3].bb_lower) < 1e-15


def test_bb_width_average_is_partial_mean_with_warmup_zeros_where_ta_sma_is_nan() -> None:
    closes = [1.0, 3.0, 3.0]
    snaps = run(make_indicator_config(bb_window=2, bb_width_avg_window=3), flat(closes))
    # widths 0, 4/3, 0 -> averages 0, (0 + 4/3) / 2, (0 + 4/3 + 0) / 3; ratio 1.0 while the average is 0
    assert [s.bb_width_avg for s in snaps] == [0.0, (0.0 + (4.0 / 3.0)) / 2.0, ((0.0 + 0.0) + (4.0 / 3.0) + 0.0) / 3.0]
    assert [s.bb_width_ratio for s in snaps] == [1.0, 2.0, 0.0]
    bb = BollingerBands(pd.Series(closes), window=2)
    ta_width = (bb.bollinger_hband() - bb.bollinger_lband()) / pd.Series(closes)
    assert np.isnan(SMAIndicator(ta_width, 3).sma_indicator().to_numpy()).all()
    skip_nan = SMAIndicator(ta_width, 3, fillna=True).sma_indicator()  # warm-up NaN skipped, not 0
    assert skip_nan[1] == 4.0 / 3.0 != snaps[1].bb_width_avg


def test_macd_signal_seeded_at_first_bar_where_ta_default_seeds_at_bar_25() -> None:
    closes = [100.0 + ((7 * k) % 11) for k in range(45)]
    snaps = run(make_indicator_config(), flat(closes))
    a12, a26 = 2.0 / 13.0, 2.0 / 27.0
    f1 = (a12 * closes[1]) + ((1.0 - a12) * closes[0])
    s1 = (a26 * closes[1]) + ((1.0 - a26) * closes[0])
    line1 = f1 - s1
    assert snaps[0].macd_hist == 0.0  # line_0 = 0, signal seeded with 0
    assert snaps[1].macd_hist == line1 - ((0.2 * line1) + ((1.0 - 0.2) * 0.0))
    ta_default = MACD(pd.Series(closes), window_slow=26, window_fast=12, window_sign=9).macd_diff().to_numpy()
    assert np.isnan(ta_default[:33]).all()
    # ta seeds its signal EMA with line_25 at k = 25, so the two differ (0.8^k decay) from k = 33 on
    assert all(ta_default[k] != snaps[k].macd_hist for k in range(33, 45))
    ta_fill = MACD(pd.Series(closes), window_slow=26, window_fast=12, window_sign=9, fillna=True).macd_diff()
    assert list(ta_fill) == [s.macd_hist for s in snaps]


def test_volume_sma_is_partial_mean_in_warmup_where_ta_is_nan() -> None:
    volumes = [1.0, 2.0, 6.0, 3.0]
    cfg = make_indicator_config(vol_sma_window=3, vol_trend_window=1)
    snaps = run(cfg, flat([5.0] * 4), volumes)
    assert [s.vol_sma for s in snaps] == [1.0, 1.5, 3.0, ((0.0 + 2.0) + 6.0 + 3.0) / 3.0]
    assert [s.vol_trend for s in snaps] == [False, True, True, False]  # v > partial mean at k1
    theirs = SMAIndicator(pd.Series(volumes), 3).sma_indicator().to_numpy()
    assert np.isnan(theirs[:2]).all() and not (volumes[1] > theirs[1])  # NaN comparison is false


def test_avg_atr_includes_atr_warmup_means_where_ta_atr_warmup_is_zero() -> None:
    cfg = make_indicator_config(atr_window=2, ave_avg_atr_window=3)
    snaps = run(cfg, ATR_BARS)
    assert snaps[2].avg_atr == ((0.0 + 2.0) + 2.5 + 1.75) / 3.0  # ATR 2 (running mean), 2.5, 1.75
    df = frame(ATR_BARS)
    ta_atr = AverageTrueRange(df.h, df.l, df.c, window=2).average_true_range()
    theirs = SMAIndicator(ta_atr, 3).sma_indicator()[2]
    assert theirs == (0.0 + 2.5 + 1.75) / 3.0 != snaps[2].avg_atr
    # from k = atr_w + ave_w − 2 = 3 both average the same ATR values
    assert SMAIndicator(ta_atr, 3).sma_indicator()[4] == pytest.approx(snaps[4].avg_atr, rel=1e-12)
