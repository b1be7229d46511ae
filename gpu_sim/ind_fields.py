"""Column indices of the precomputed indicator array (strategy-entries.md §2.12 snapshot fields).

``ind[set_id, symbol, bar, field]`` float64, C-contiguous: one indicator *set* per distinct
indicator-window tuple of a batch (``WINDOW_PATHS`` order), one row per main bar of the symbol's
own history (gaps are not filled), the value of the snapshot after that bar. Booleans are 0.0/1.0.
Candle fields (t o h l c v) are not here: kernels read the candle arrays directly.
"""
from __future__ import annotations

# Config paths whose values decide an indicator set (deduplication key, in this order).
WINDOW_PATHS = (
    "indicators.ema_fast_window",
    "indicators.ema_slow_window",
    "indicators.ema_macro_window",
    "indicators.adx_window",
    "indicators.atr_window",
    "indicators.rsi_window",
    "indicators.bb_window",
    "indicators.bb_width_avg_window",
    "indicators.stoch_rsi_window",
    "indicators.stoch_rsi_smooth1",
    "indicators.stoch_rsi_smooth2",
    "indicators.vol_sma_window",
    "indicators.vol_trend_window",
    "thresholds.entry.ave_avg_atr_window",
    "thresholds.entry.slow_drift_slope_window",
    "filters.use_stoch_rsi_filter",
)

FIELDS = (
    "ema_fast", "ema_slow", "ema_macro", "adx", "adx_pos", "adx_neg", "adx_slope",
    "bb_upper", "bb_lower", "bb_width", "bb_width_avg", "bb_width_ratio", "atr", "atr_slope",
    "avg_atr", "rsi", "stoch_k", "stoch_d", "macd_hist", "prev_macd_hist", "prev2_macd_hist",
    "prev3_macd_hist", "vol_sma", "vol_trend", "prev_close", "prev_ema_fast", "prev_ema_slow",
    "prev_volume", "prev_vol_sma", "prev_vol_trend", "ema_slow_slope_pct", "bar_index",
)
N_FIELDS = len(FIELDS)

(EMA_FAST, EMA_SLOW, EMA_MACRO, ADX, ADX_POS, ADX_NEG, ADX_SLOPE, BB_UPPER, BB_LOWER, BB_WIDTH,
 BB_WIDTH_AVG, BB_WIDTH_RATIO, ATR, ATR_SLOPE, AVG_ATR, RSI, STOCH_K, STOCH_D, MACD_HIST,
 PREV_MACD_HIST, PREV2_MACD_HIST, PREV3_MACD_HIST, VOL_SMA, VOL_TREND, PREV_CLOSE, PREV_EMA_FAST,
 PREV_EMA_SLOW, PREV_VOLUME, PREV_VOL_SMA, PREV_VOL_TREND, EMA_SLOW_SLOPE_PCT, BAR_INDEX) = range(N_FIELDS)
