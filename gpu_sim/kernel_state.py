"""State-array layout and constants of the simulation kernel.

Every per-config quantity lives in flat arrays the driver preallocates (no allocation in kernels):

``sym_i[c, s, SI_*]`` int64 — per symbol: position flags and clocks, PESC record, bar and sub-bar cursors.
``pos_f[c, s, PF_*]`` float64 — per symbol: the open position's numbers.
``g_i[c, GI_*]`` int64 / ``g_f[c, GF_*]`` float64 — per config scalars: budget, counters, balance,
metric accumulators and the window context.
``cand_i[c, k, CI_*]`` / ``cand_f[c, k, CF_*]`` — the candidates of one entry evaluation point (≤ N).

Parameter columns ``P_*`` index a params row (``params[c, s]``: the symbol's effective config;
``portfolio[c]``: the portfolio config); they are read from ``config/schema.csv`` through
``gpu_sim.layout`` at import and frozen as compile-time constants. Bools are 0.0/1.0, enums their code
in ``enum_values`` order (asserted below), ints integral floats.

Clocks use ``ABSENT`` for "never set" (D50: an absent clock never blocks); every test of a clock checks
``!= ABSENT`` explicitly.
"""
from __future__ import annotations

from gpu_sim.layout import load_layout

_L = load_layout()


def _col(path: str) -> int:
    return int(_L.index[path])


def _check_enum(path: str, names: tuple[str, ...]) -> None:
    got = tuple(_L.enum_names[_L.index[path]])
    if got != names:
        raise RuntimeError(f"config/schema.csv: {path} enum_values {got} != {names}; the kernel reads the "
                           f"codes as {names} (fix the schema or kernel_state)")


for _p in ("trade.entry_min_confidence", "trade.add_min_confidence", "thresholds.entry.pullback_confidence"):
    _check_enum(_p, ("low", "medium", "high"))
_check_enum("thresholds.entry.macd_hist_entry_mode", ("accel", "sign", "none"))

N_PARAMS = _L.n_fields

# ---- sides, signals, confidence ----------------------------------------------------------------
LONG = 1
SHORT = -1
BUY = 1
SELL = -1
NEUTRAL = 0
CONF_LOW = 0
CONF_MEDIUM = 1
CONF_HIGH = 2
MACD_ACCEL = 0
MACD_SIGN = 1
MACD_NONE = 2

ABSENT = -(2 ** 62)          # clock never set
INT64_MAX = 2 ** 63 - 1
HOUR_MS = 3_600_000
DAY_MS = 86_400_000
STALE_FUNDING_MS = 7_200_000  # spec-notes N14 / D53.6: a rate older than 2 h is not applied

# ---- exit decision kinds ------------------------------------------------------------------------
EXIT_NONE = 0
EXIT_FULL = 1
EXIT_PARTIAL = 2

# ---- per-symbol int state sym_i[c, s, :] ---------------------------------------------------------
SI_HAS_POS = 0
SI_SIDE = 1                  # LONG / SHORT
SI_CONF = 2                  # confidence of the opening signal
SI_HAS_TRAIL = 3             # trailing_sl is not None
SI_BE_ARMED = 4
SI_ADDS = 5
SI_TP1 = 6
SI_OPEN_T = 7
SI_LAST_ADD_T = 8
SI_LAST_ENTRY_T = 9          # entry cooldown clock (open/add), ABSENT initially
SI_LAST_EXIT_T = 10          # exit cooldown clock (every exit), ABSENT initially
SI_LAST_CLOSE_T = 11         # PESC: last exit (τ, side, reason); ABSENT = none
SI_LAST_CLOSE_SIDE = 12
SI_LAST_CLOSE_REASON = 13
SI_BAR_COUNT = 14            # main bars processed (bar index of the latest snapshot + 1)
SI_QBC = 15                  # quiet band (PF_QLO, PF_QHI) valid for this bar count; -1 / other: none
SI_FCUR = 16                 # cursor into the funding rows (rows with time <= last boundary seen)
N_SI = 17

# ---- per-symbol float state pos_f[c, s, :] -------------------------------------------------------
PF_ENTRY = 0                 # entry price (fill; size-weighted after adds)
PF_SIZE = 1
PF_ENTRY_ATR = 2             # floored ATR at open
PF_ENTRY_THR = 3             # entry_adx_threshold
PF_TRAIL = 4                 # trailing_sl (valid when SI_HAS_TRAIL)
PF_LEV = 5
PF_MARGIN = 6                # margin_used
PF_QLO = 7                   # quiet band of the exit evaluations on the current snapshot (kernel_exits.quiet_band)
PF_QHI = 8
N_PF = 9

# ---- per-config int scalars g_i[c, :] -------------------------------------------------------------
GI_BUDGET = 0                # new opens in the current window
GI_NPOS = 1                  # open positions
GI_NREC = 2                  # records produced (written = min(GI_NREC, capacity))
GI_TRADES = 3                # REDUCE + CLOSE records
GI_WINS = 4
GI_LOSSES = 5
GI_SIGNALS = 6               # raw non-NEUTRAL signals (informational)
GI_NSAMPLES = 7              # equity samples taken
GI_RUINED = 8                # an equity sample or the final balance <= 0 (D53.13, spec-notes N14)
GI_NCAND = 9                 # candidates of the current evaluation point
GI_CTX_BDEF = 10             # breadth defined
GI_CTX_BTC_BULL = 11         # -1 unknown, 0 false, 1 true
GI_CTX_BANK = 12             # BTC bank symbol index, -1 none
GI_POSMASK = 13              # bit s set <=> symbol s < POSMASK_BITS has an open position (SI_HAS_POS)
N_GI = 14
POSMASK_BITS = 62            # symbols covered by GI_POSMASK (int64, bit 63 never used)

# ---- per-config float scalars g_f[c, :] -----------------------------------------------------------
GF_BALANCE = 0
GF_GROSS_PROFIT = 1
GF_GROSS_LOSS = 2
GF_SUM_PNL = 3               # Σ pnl over closes (avg_trade_pnl)
GF_FEES = 4                  # Σ fee_usd over all records
GF_FUNDING = 5               # Σ funding deltas (informational)
GF_PEAK = 6
GF_MAX_DD = 7
GF_MAX_DD_PCT = 8
GF_CTX_BREADTH = 9
GF_CTX_BTC_CLOSE = 10
GF_CTX_BTC_ADX = 11
GF_CTX_BTC_ATR = 12
N_GF = 13

# ---- window-context table ctx_i[g, j, :], ctx_f[g, j, :] (shared by the configs of a set group) ----
# the context fields of g_i / g_f at the start of window j, in g_i / g_f order (D7; simulate_cpu.allocate)
N_CTX_I = 3                  # GI_CTX_BDEF, GI_CTX_BTC_BULL, GI_CTX_BANK
N_CTX_F = 4                  # GF_CTX_BREADTH, GF_CTX_BTC_CLOSE, GF_CTX_BTC_ADX, GF_CTX_BTC_ATR
assert (GI_CTX_BTC_BULL, GI_CTX_BANK) == (GI_CTX_BDEF + 1, GI_CTX_BDEF + 2) and N_GI >= GI_CTX_BDEF + N_CTX_I
assert (GF_CTX_BTC_CLOSE, GF_CTX_BTC_ATR, N_GF) == (GF_CTX_BREADTH + 1, GF_CTX_BREADTH + 3, GF_CTX_BREADTH + N_CTX_F)

# ---- candidates cand_i[c, k, :], cand_f[c, k, :] ---------------------------------------------------
CI_SYM = 0
CI_SIDE = 1
CI_CONF = 2
CI_SCORE = 3
N_CI = 4
CF_ADX = 0
CF_ATR = 1                   # floored entry ATR
CF_THR = 2                   # entry_adx_threshold
CF_PRICE = 3                 # decision price (unslipped)
N_CF = 4

# ---- run parameters (shared by every config of a launch) ------------------------------------------
RI_LOOKBACK = 0
RI_FROM_TS = 1               # in_scope(τ) = τ >= RI_FROM_TS (-2**62 when absent)
RI_RUN_END = 2               # D
RI_MAIN_MS = 3
RI_EXIT_MS = 4
RI_ENTRY_MS = 5
RI_EXIT_MODE = 6             # exit sub-bar mode on
RI_ENTRY_MODE = 7            # entry sub-bar mode on
RI_HAS_FUNDING = 8
RI_BTC_IDX = 9               # universe index of "BTC" (ASCII upper), -1 none
RI_BTCUSDT_IDX = 10          # universe index of "BTCUSDT", -1 none
N_RI = 11
RF_INITIAL_BALANCE = 0
RF_FEE_RATE = 1              # taker_fee_bps / 10000.0 (host)
N_RF = 2

# ---- per-symbol flags (bit set) -------------------------------------------------------------------
SF_IS_BTC = 1                # upper(symbol) == "BTC": exempt from BTC alignment (Q17)
SF_IS_PAXG = 2               # upper(symbol) == "PAXG": exempt from the stagnation exit (Q18)
SF_ENTRY_SUBS = 4            # entry sub-bar mode and the symbol has entry sub-bars (before to_ts truncation);
                             # without them it enters at main closes (D53.18, spec-notes N14)

# ---- parameter columns ----------------------------------------------------------------------------
# filters
P_ADX_RISING_SATURATION = _col("filters.adx_rising_saturation")
P_ENABLE_ANOMALY_FILTER = _col("filters.enable_anomaly_filter")
P_ENABLE_EXTENSION_FILTER = _col("filters.enable_extension_filter")
P_ENABLE_RANGING_FILTER = _col("filters.enable_ranging_filter")
P_REQUIRE_ADX_RISING = _col("filters.require_adx_rising")
P_REQUIRE_BTC_ALIGNMENT = _col("filters.require_btc_alignment")
P_REQUIRE_MACRO_ALIGNMENT = _col("filters.require_macro_alignment")
P_REQUIRE_VOLUME_CONFIRMATION = _col("filters.require_volume_confirmation")
P_USE_STOCH_RSI_FILTER = _col("filters.use_stoch_rsi_filter")
P_VOL_CONFIRM_INCLUDE_PREV = _col("filters.vol_confirm_include_prev")
# market_regime
P_AUTO_REVERSE_BREADTH_HIGH = _col("market_regime.auto_reverse_breadth_high")
P_AUTO_REVERSE_BREADTH_LOW = _col("market_regime.auto_reverse_breadth_low")
P_BREADTH_BLOCK_LONG_BELOW = _col("market_regime.breadth_block_long_below")
P_BREADTH_BLOCK_SHORT_ABOVE = _col("market_regime.breadth_block_short_above")
P_ENABLE_AUTO_REVERSE = _col("market_regime.enable_auto_reverse")
P_ENABLE_REGIME_FILTER = _col("market_regime.enable_regime_filter")
P_ENABLE_REGIME_GATE = _col("market_regime.enable_regime_gate")
P_REGIME_GATE_BREADTH_HIGH = _col("market_regime.regime_gate_breadth_high")
P_REGIME_GATE_BREADTH_LOW = _col("market_regime.regime_gate_breadth_low")
P_REGIME_GATE_BTC_ADX_MIN = _col("market_regime.regime_gate_btc_adx_min")
P_REGIME_GATE_BTC_ATR_PCT_MIN = _col("market_regime.regime_gate_btc_atr_pct_min")
P_REGIME_GATE_FAIL_OPEN = _col("market_regime.regime_gate_fail_open")
# thresholds.anomaly
P_EMA_FAST_DEV_PCT_GT = _col("thresholds.anomaly.ema_fast_dev_pct_gt")
P_PRICE_CHANGE_PCT_GT = _col("thresholds.anomaly.price_change_pct_gt")
# thresholds.entry
P_AVE_ADX_MULT = _col("thresholds.entry.ave_adx_mult")
P_AVE_ATR_RATIO_GT = _col("thresholds.entry.ave_atr_ratio_gt")
P_AVE_ENABLED = _col("thresholds.entry.ave_enabled")
P_BTC_ADX_OVERRIDE = _col("thresholds.entry.btc_adx_override")
P_ENABLE_PULLBACK_ENTRIES = _col("thresholds.entry.enable_pullback_entries")
P_ENABLE_SLOW_DRIFT_ENTRIES = _col("thresholds.entry.enable_slow_drift_entries")
P_HIGH_CONF_VOLUME_MULT = _col("thresholds.entry.high_conf_volume_mult")
P_MACD_HIST_ENTRY_MODE = _col("thresholds.entry.macd_hist_entry_mode")
P_MAX_DIST_EMA_FAST = _col("thresholds.entry.max_dist_ema_fast")
P_MIN_ADX = _col("thresholds.entry.min_adx")
P_PULLBACK_CONFIDENCE = _col("thresholds.entry.pullback_confidence")
P_PULLBACK_MIN_ADX = _col("thresholds.entry.pullback_min_adx")
P_PULLBACK_REQUIRE_MACD_SIGN = _col("thresholds.entry.pullback_require_macd_sign")
P_PULLBACK_RSI_LONG_MIN = _col("thresholds.entry.pullback_rsi_long_min")
P_PULLBACK_RSI_SHORT_MAX = _col("thresholds.entry.pullback_rsi_short_max")
P_SLOW_DRIFT_MIN_ADX = _col("thresholds.entry.slow_drift_min_adx")
P_SLOW_DRIFT_MIN_SLOPE_PCT = _col("thresholds.entry.slow_drift_min_slope_pct")
P_SLOW_DRIFT_REQUIRE_MACD_SIGN = _col("thresholds.entry.slow_drift_require_macd_sign")
P_SLOW_DRIFT_RSI_LONG_MIN = _col("thresholds.entry.slow_drift_rsi_long_min")
P_SLOW_DRIFT_RSI_SHORT_MAX = _col("thresholds.entry.slow_drift_rsi_short_max")
# thresholds.ranging
P_RANGING_ADX_BELOW = _col("thresholds.ranging.adx_below")
P_RANGING_BB_WIDTH_RATIO_BELOW = _col("thresholds.ranging.bb_width_ratio_below")
P_RANGING_MIN_SIGNALS = _col("thresholds.ranging.min_signals")
P_RANGING_RSI_HIGH = _col("thresholds.ranging.rsi_high")
P_RANGING_RSI_LOW = _col("thresholds.ranging.rsi_low")
# thresholds.stoch_rsi
P_BLOCK_LONG_IF_K_GT = _col("thresholds.stoch_rsi.block_long_if_k_gt")
P_BLOCK_SHORT_IF_K_LT = _col("thresholds.stoch_rsi.block_short_if_k_lt")
# thresholds.tp_and_momentum
P_ADX_STRONG_GT = _col("thresholds.tp_and_momentum.adx_strong_gt")
P_ADX_WEAK_LT = _col("thresholds.tp_and_momentum.adx_weak_lt")
P_RSI_LONG_STRONG = _col("thresholds.tp_and_momentum.rsi_long_strong")
P_RSI_LONG_WEAK = _col("thresholds.tp_and_momentum.rsi_long_weak")
P_RSI_SHORT_STRONG = _col("thresholds.tp_and_momentum.rsi_short_strong")
P_RSI_SHORT_WEAK = _col("thresholds.tp_and_momentum.rsi_short_weak")
P_TP_MULT_STRONG = _col("thresholds.tp_and_momentum.tp_mult_strong")
P_TP_MULT_WEAK = _col("thresholds.tp_and_momentum.tp_mult_weak")
# trade: sizing, leverage, exposure
P_ALLOCATION_PCT = _col("trade.allocation_pct")
P_ENABLE_DYNAMIC_SIZING = _col("trade.enable_dynamic_sizing")
P_CONFIDENCE_MULT_HIGH = _col("trade.confidence_mult_high")
P_CONFIDENCE_MULT_MEDIUM = _col("trade.confidence_mult_medium")
P_CONFIDENCE_MULT_LOW = _col("trade.confidence_mult_low")
P_ADX_SIZING_MIN_MULT = _col("trade.adx_sizing_min_mult")
P_ADX_SIZING_FULL_ADX = _col("trade.adx_sizing_full_adx")
P_VOL_BASELINE_PCT = _col("trade.vol_baseline_pct")
P_VOL_SCALAR_MIN = _col("trade.vol_scalar_min")
P_VOL_SCALAR_MAX = _col("trade.vol_scalar_max")
P_LEVERAGE = _col("trade.leverage")
P_ENABLE_DYNAMIC_LEVERAGE = _col("trade.enable_dynamic_leverage")
P_LEVERAGE_LOW = _col("trade.leverage_low")
P_LEVERAGE_MEDIUM = _col("trade.leverage_medium")
P_LEVERAGE_HIGH = _col("trade.leverage_high")
P_LEVERAGE_MAX_CAP = _col("trade.leverage_max_cap")
P_MIN_NOTIONAL_USD = _col("trade.min_notional_usd")
P_BUMP_TO_MIN_NOTIONAL = _col("trade.bump_to_min_notional")
P_MAX_TOTAL_MARGIN_PCT = _col("trade.max_total_margin_pct")          # portfolio scope
P_MAX_OPEN_POSITIONS = _col("trade.max_open_positions")              # portfolio scope
P_MAX_ENTRY_ORDERS_PER_LOOP = _col("trade.max_entry_orders_per_loop")  # portfolio scope
P_MIN_ATR_PCT = _col("trade.min_atr_pct")
P_SLIPPAGE_BPS = _col("trade.slippage_bps")
P_ENTRY_MIN_CONFIDENCE = _col("trade.entry_min_confidence")
# trade: pyramiding
P_ENABLE_PYRAMIDING = _col("trade.enable_pyramiding")
P_MAX_ADDS_PER_SYMBOL = _col("trade.max_adds_per_symbol")
P_ADD_FRACTION_OF_BASE_MARGIN = _col("trade.add_fraction_of_base_margin")
P_ADD_COOLDOWN_MINUTES = _col("trade.add_cooldown_minutes")
P_ADD_MIN_PROFIT_ATR = _col("trade.add_min_profit_atr")
P_ADD_MIN_CONFIDENCE = _col("trade.add_min_confidence")
# trade: stops, trailing, take profit
P_SL_ATR_MULT = _col("trade.sl_atr_mult")
P_ENABLE_BREAKEVEN_STOP = _col("trade.enable_breakeven_stop")
P_BREAKEVEN_START_ATR = _col("trade.breakeven_start_atr")
P_BREAKEVEN_BUFFER_ATR = _col("trade.breakeven_buffer_atr")
P_TRAILING_START_ATR = _col("trade.trailing_start_atr")
P_TRAILING_DISTANCE_ATR = _col("trade.trailing_distance_atr")
P_TRAILING_START_ATR_LOW_CONF = _col("trade.trailing_start_atr_low_conf")
P_TRAILING_DISTANCE_ATR_LOW_CONF = _col("trade.trailing_distance_atr_low_conf")
P_ENABLE_VOL_BUFFERED_TRAILING = _col("trade.enable_vol_buffered_trailing")
P_TP_ATR_MULT = _col("trade.tp_atr_mult")
P_ENABLE_PARTIAL_TP = _col("trade.enable_partial_tp")
P_TP_PARTIAL_PCT = _col("trade.tp_partial_pct")
P_TP_PARTIAL_ATR_MULT = _col("trade.tp_partial_atr_mult")
P_TP_PARTIAL_MIN_NOTIONAL_USD = _col("trade.tp_partial_min_notional_usd")
# trade: smart exits, glitch guard
P_SMART_EXIT_ADX_EXHAUSTION_LT = _col("trade.smart_exit_adx_exhaustion_lt")
P_SMART_EXIT_ADX_EXHAUSTION_LT_LOW_CONF = _col("trade.smart_exit_adx_exhaustion_lt_low_conf")
P_TSME_MIN_PROFIT_ATR = _col("trade.tsme_min_profit_atr")
P_TSME_REQUIRE_ADX_SLOPE_NEGATIVE = _col("trade.tsme_require_adx_slope_negative")
P_ENABLE_RSI_OVEREXTENSION_EXIT = _col("trade.enable_rsi_overextension_exit")
P_RSI_EXIT_PROFIT_ATR_SWITCH = _col("trade.rsi_exit_profit_atr_switch")
P_RSI_EXIT_UB_LO_PROFIT = _col("trade.rsi_exit_ub_lo_profit")
P_RSI_EXIT_UB_HI_PROFIT = _col("trade.rsi_exit_ub_hi_profit")
P_RSI_EXIT_LB_LO_PROFIT = _col("trade.rsi_exit_lb_lo_profit")
P_RSI_EXIT_LB_HI_PROFIT = _col("trade.rsi_exit_lb_hi_profit")
P_RSI_EXIT_UB_LO_PROFIT_LOW_CONF = _col("trade.rsi_exit_ub_lo_profit_low_conf")
P_RSI_EXIT_UB_HI_PROFIT_LOW_CONF = _col("trade.rsi_exit_ub_hi_profit_low_conf")
P_RSI_EXIT_LB_LO_PROFIT_LOW_CONF = _col("trade.rsi_exit_lb_lo_profit_low_conf")
P_RSI_EXIT_LB_HI_PROFIT_LOW_CONF = _col("trade.rsi_exit_lb_hi_profit_low_conf")
P_BLOCK_EXITS_ON_EXTREME_DEV = _col("trade.block_exits_on_extreme_dev")
P_GLITCH_PRICE_DEV_PCT = _col("trade.glitch_price_dev_pct")
P_GLITCH_ATR_MULT = _col("trade.glitch_atr_mult")
# trade: cooldowns and entry filters
P_REENTRY_COOLDOWN_MINUTES = _col("trade.reentry_cooldown_minutes")
P_REENTRY_COOLDOWN_MIN_MINS = _col("trade.reentry_cooldown_min_mins")
P_REENTRY_COOLDOWN_MAX_MINS = _col("trade.reentry_cooldown_max_mins")
P_ENTRY_COOLDOWN_S = _col("trade.entry_cooldown_s")
P_EXIT_COOLDOWN_S = _col("trade.exit_cooldown_s")
P_ENABLE_SSF_FILTER = _col("trade.enable_ssf_filter")
P_ENABLE_REEF_FILTER = _col("trade.enable_reef_filter")
P_REEF_ADX_THRESHOLD = _col("trade.reef_adx_threshold")
P_REEF_LONG_RSI_BLOCK_GT = _col("trade.reef_long_rsi_block_gt")
P_REEF_LONG_RSI_EXTREME_GT = _col("trade.reef_long_rsi_extreme_gt")
P_REEF_SHORT_RSI_BLOCK_LT = _col("trade.reef_short_rsi_block_lt")
P_REEF_SHORT_RSI_EXTREME_LT = _col("trade.reef_short_rsi_extreme_lt")
P_REVERSE_ENTRY_SIGNAL = _col("trade.reverse_entry_signal")

del _p
