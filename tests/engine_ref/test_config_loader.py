"""engine_ref config loader: strict loading (D28, D47), merge order (D27), symbol keys (D48), validity (§10.1)."""
from __future__ import annotations

import copy
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine_ref.config_loader import ConfigSet, load_config, load_config_set
from engine_ref.config_schema import ascii_upper, closest_path, interval_ms, load_schema
from harness.errors import ConfigError, SweepError

REPO = Path(__file__).resolve().parents[2]
SHIPPED = REPO / "config" / "strategy_overrides.yaml"
SCHEMA = load_schema()
PY_TYPES = {"float": float, "int": int, "bool": bool, "enum": str, "str": str, "list[str]": list}
# <file>: <layer-qualified path> = <value!r>: <rule>; fix: <fix>   (rules carry no ": ")
MSG = re.compile(r"^(?P<file>[^:]+): (?P<path>\S+)( = (?P<value>.+))?: (?P<rule>[^:]+); fix: (?P<fix>.+)$", re.S)


def flatten(cfg: dict, prefix: str = "") -> dict[str, object]:
    out: dict[str, object] = {}
    for key, value in cfg.items():
        if isinstance(value, dict):
            out.update(flatten(value, f"{prefix}{key}."))
        else:
            out[prefix + key] = value
    return out


def write(tmp_path: Path, text: str, name: str = "cfg.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def nested_text(path: str, yaml_value: str, prefix: str = "global") -> str:
    """Block-style YAML setting ``<prefix>.<path>`` to the literal ``yaml_value``."""
    parts = prefix.split(".") + path.split(".")
    lines = [" " * (2 * i) + part + ":" for i, part in enumerate(parts)]
    lines[-1] += " " + yaml_value
    return "\n".join(lines) + "\n"


def load_text(tmp_path: Path, text: str, symbol: str | None = None, mode: str | None = None, **kw) -> dict:
    return load_config(write(tmp_path, text), symbol, mode, **kw)


def error_of(tmp_path: Path, text: str, *args, **kw) -> re.Match:
    """Load ``text`` expecting a ConfigError; return the parsed message (format checked)."""
    with pytest.raises(ConfigError) as err:
        load_text(tmp_path, text, *args, **kw)
    msg = str(err.value)
    match = MSG.match(msg)
    assert match is not None, f"message format: {msg!r}"
    assert match["file"] == str(tmp_path / "cfg.yaml"), msg
    return match


# --- defaults and the shipped file --------------------------------------------------------------

def test_defaults_have_every_leaf_with_native_types() -> None:
    cfg = flatten(load_config(None))
    assert len(cfg) == 157 == len(SCHEMA.leaves)
    for path, leaf in SCHEMA.leaves.items():
        assert type(cfg[path]) is PY_TYPES[leaf.kind], path
        expected = list(leaf.default) if isinstance(leaf.default, tuple) else leaf.default
        assert cfg[path] == expected, path
    assert load_config(None)["thresholds"]["entry"]["min_adx"] == 22.0
    assert load_config(None)["watchlist_exclude"] == []


MODE_INTERVALS = {None: ("1h", "3m", "3m"), "primary": ("30m", "5m", "5m"), "fallback": ("1h", "5m", "5m"),
                  "conservative": ("1h", "15m", "15m"), "flat": ("1h", "15m", "15m")}


@pytest.mark.parametrize("mode", list(MODE_INTERVALS))
@pytest.mark.parametrize("run_mode", ["backtest", "live"])
def test_shipped_yaml_every_mode_and_symbol(mode: str | None, run_mode: str) -> None:
    cs = load_config_set(SHIPPED, ("BTC", "ETH", "SOL"), mode, run_mode=run_mode)
    assert isinstance(cs, ConfigSet) and sorted(cs.symbols) == ["BTC", "ETH", "SOL"]
    for cfg in [cs.portfolio, *cs.symbols.values()]:
        flat = flatten(cfg)
        assert len(flat) == 157
        eng = cfg["engine"]
        assert (eng["interval"], eng["entry_interval"], eng["exit_interval"]) == MODE_INTERVALS[mode]
        assert cfg["trade"]["max_open_positions"] == 20 and cfg["trade"]["allocation_pct"] == 0.2
    assert cs.symbols["BTC"]["trade"]["leverage"] == 2.0 and cs.symbols["BTC"]["trade"]["leverage_high"] == 4.0
    assert cs.symbols["ETH"]["trade"]["leverage"] == 3.0 == cs.symbols["SOL"]["trade"]["leverage"]
    assert cs.portfolio["trade"]["leverage"] == 3.0
    assert load_config(SHIPPED, "SOL", mode, run_mode=run_mode) == cs.symbols["SOL"]


def test_configs_share_no_mutable_objects() -> None:
    cs = load_config_set(SHIPPED, ("ETH", "SOL"))
    before = copy.deepcopy(cs)
    cs.symbols["ETH"]["watchlist_exclude"].append("X")
    cs.symbols["ETH"]["trade"]["leverage"] = 99.0
    assert cs.symbols["SOL"] == before.symbols["SOL"] and cs.portfolio == before.portfolio
    assert load_config(SHIPPED, "ETH") == before.symbols["ETH"]


def test_no_file_means_defaults_plus_sweep() -> None:
    cfg = load_config(None, "BTC", sweep_overrides={"trade.sl_atr_mult": 3, "indicators.rsi_window": 20.0,
                                                    "trade.add_min_confidence": "HIGH"})
    assert cfg["trade"]["sl_atr_mult"] == 3.0 and type(cfg["trade"]["sl_atr_mult"]) is float
    assert cfg["indicators"]["rsi_window"] == 20 and type(cfg["indicators"]["rsi_window"]) is int
    assert cfg["trade"]["add_min_confidence"] == "high"


# --- file and YAML level --------------------------------------------------------------------------

def test_missing_file_names_file_and_fix(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as err:
        load_config(tmp_path / "nope.yaml")
    assert str(tmp_path / "nope.yaml") in str(err.value) and "fix:" in str(err.value)
    assert "yaml_path=None" in str(err.value)


@pytest.mark.parametrize("text", ["", "# only a comment\n", "null\n", "~\n", "---\n...\n"])
def test_empty_file_or_null_root_is_an_error(tmp_path: Path, text: str) -> None:
    m = error_of(tmp_path, text)
    assert "empty" in m["rule"] and "D47" in m["rule"]


@pytest.mark.parametrize("text,path", [
    ("global:\n  trade:\n    leverage: 2.0\n    leverage: 3.0\n", "global.trade.leverage"),
    ("global: {}\nglobal: {}\n", "global"),
    ("symbols:\n  BTC: {}\n  BTC: {}\n", "symbols.BTC"),
])
def test_duplicate_keys_are_errors(tmp_path: Path, text: str, path: str) -> None:
    m = error_of(tmp_path, text)
    assert m["path"] == path and "duplicate key" in m["rule"]


def test_duplicate_bool_spellings_and_merge_keys(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="duplicate"):
        load_text(tmp_path, "global:\n  watchlist_exclude: []\n  watchlist_exclude: [A]\n")
    with pytest.raises(ConfigError, match="merge key"):
        load_text(tmp_path, "global:\n  trade: &t {leverage: 2.0}\nsymbols:\n  BTC:\n    trade: {<<: *t}\n")


@pytest.mark.parametrize("text", ["global:\n  trade: {leverage: 2.0\n", "global:\n\tx: 1\n", "a: 1\n---\nb: 2\n",
                                  "global: !foo 1\n"])
def test_malformed_yaml(tmp_path: Path, text: str) -> None:
    with pytest.raises(ConfigError) as err:
        load_text(tmp_path, text)
    assert str(tmp_path / "cfg.yaml") in str(err.value) and "invalid YAML" in str(err.value)


def test_pathological_yaml_is_a_config_error(tmp_path: Path) -> None:
    for text in ("global: {trade: {leverage: " + "1" * 5000 + "}}\n", "global: " + "[" * 600 + "\n"):
        with pytest.raises(ConfigError, match="invalid YAML"):
            load_text(tmp_path, text)
    m = error_of(tmp_path, "global: {engine: {interval: " + "1" * 5000 + "m}}\n")
    assert m["path"] == "global.engine.interval"


def test_yaml_12_core_scalars(tmp_path: Path) -> None:
    cfg = load_text(tmp_path, "global:\n  trade:\n    vol_baseline_pct: 1e-3\n    enable_pyramiding: false\n"
                              "  indicators:\n    rsi_window: 010\n")
    assert cfg["trade"]["vol_baseline_pct"] == 0.001 and cfg["indicators"]["rsi_window"] == 10
    for word in ("yes", "no", "on", "off", "y"):
        m = error_of(tmp_path, f"global:\n  trade:\n    enable_pyramiding: {word}\n")
        assert m["value"] == repr(word)
    ints = "global:\n  indicators: {rsi_window: 0x1F, atr_window: 0o17, bb_window: +12, vol_sma_window: 1.2e1}\n"
    assert [load_text(tmp_path, ints)["indicators"][k] for k in ("rsi_window", "atr_window", "bb_window",
                                                                "vol_sma_window")] == [31, 15, 12, 12]
    for word in ("1_000", "0b11", "-0x1F", "1_0.5", "12:30"):  # not YAML 1.2 core numbers: strings
        m = error_of(tmp_path, f"global:\n  indicators:\n    rsi_window: {word}\n")
        assert m["value"] == repr(word)
    for word in (".inf", "-.inf", ".nan", ".NaN", "1e400"):
        m = error_of(tmp_path, f"global:\n  trade:\n    sl_atr_mult: {word}\n")
        assert m["path"] == "global.trade.sl_atr_mult" and "finite" in m["rule"]


# --- structure, unknown keys, nulls ---------------------------------------------------------------

@pytest.mark.parametrize("text,path,suggestion", [
    ("global:\n  indicators:\n    ave_avg_atr_window: 30\n", "global.indicators.ave_avg_atr_window",
     "thresholds.entry.ave_avg_atr_window"),
    ("global:\n  trade:\n    sl_atr_mul: 2.0\n", "global.trade.sl_atr_mul", "trade.sl_atr_mult"),
    ("global:\n  trade:\n    size_multiplier: null\n", "global.trade.size_multiplier", None),
    ("global:\n  tread: null\n", "global.tread", "trade"),
    ("symbols:\n  ETH:\n    thresholds:\n      entri: {}\n", "symbols.ETH.thresholds.entri", "thresholds.entry"),
    ("globals:\n  trade: {}\n", "globals", "global"),
    ("trade:\n  leverage: 2.0\n", "trade", "global.trade"),
    ("modes:\n  x:\n    filters:\n      bogus: 1\n", "modes.x.filters.bogus", None),
    ("live:\n  global:\n    engine:\n      intervall: 1h\n", "live.global.engine.intervall", "engine.interval"),
])
def test_unknown_keys_name_path_and_closest(tmp_path: Path, text: str, path: str, suggestion: str | None) -> None:
    m = error_of(tmp_path, text)
    assert m["path"] == path and "unknown" in m["rule"] and m["fix"].startswith("did you mean ")
    if suggestion is not None:
        assert m["fix"] == f"did you mean {suggestion}?"


def test_closest_path_tie_breaks() -> None:
    assert closest_path("trade.sl_atr_mul", SCHEMA.known_paths) == "trade.sl_atr_mult"
    # equal last-segment distance -> full-path distance -> lexicographic
    assert closest_path("x.ab", ["q.ac", "x.ad"]) == "x.ad"
    assert closest_path("z.ab", ["b.ac", "a.ac"]) == "a.ac"
    assert closest_path("trade.leverage_lo", SCHEMA.known_paths) == "trade.leverage_low"


def test_nested_form_allows_only_global_and_symbols(tmp_path: Path) -> None:
    m = error_of(tmp_path, "live:\n  global: {}\n  trade: {}\n")
    assert m["path"] == "live.trade" and "nested form" in m["rule"] and "live.global" in m["fix"]


@pytest.mark.parametrize("text,path", [
    ("- 1\n", "<document>"), ("global: [1]\n", "global"), ("global:\n  trade: 5\n", "global.trade"),
    ("global:\n  thresholds:\n    entry: x\n", "global.thresholds.entry"), ("symbols: [BTC]\n", "symbols"),
    ("symbols:\n  BTC: 5\n", "symbols.BTC"), ("modes:\n  primary: 5\n", "modes.primary"), ("live: 5\n", "live"),
    ("modes: [a]\n", "modes"), ("live:\n  symbols:\n    BTC: [1]\n", "live.symbols.BTC"),
])
def test_non_mapping_is_a_type_error(tmp_path: Path, text: str, path: str) -> None:
    m = error_of(tmp_path, text)
    assert m["path"] == path and "mapping" in m["rule"]


def test_non_string_keys_rejected(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="keys must be strings"):
        load_text(tmp_path, "symbols:\n  1000: {}\n")


@pytest.mark.parametrize("text", [
    "global: null\n", "global:\n  trade: null\n", "global:\n  trade:\n    leverage: null\n",
    "global:\n  thresholds:\n    entry: null\n", "symbols: null\nlive: null\nmodes: null\n",
    "symbols:\n  BTC: null\n", "symbols:\n  BTC:\n    trade:\n      sl_atr_mult: null\n",
])
def test_nulls_keep_the_lower_layer(tmp_path: Path, text: str) -> None:
    assert load_text(tmp_path, text, "BTC") == load_config(None, "BTC")


# --- types per kind ------------------------------------------------------------------------------

@pytest.mark.parametrize("path,yaml_value,expected", [
    ("trade.sl_atr_mult", "2", 2.0), ("trade.sl_atr_mult", "2.5", 2.5), ("trade.sl_atr_mult", "0", 0.0),
    ("indicators.rsi_window", "20.0", 20), ("indicators.rsi_window", "21", 21),
    ("trade.enable_pyramiding", "false", False), ("trade.enable_pyramiding", "True", True),
    ("trade.entry_min_confidence", "High", "high"), ("thresholds.entry.macd_hist_entry_mode", "SIGN", "sign"),
    ("engine.interval", "60m", "60m"), ("engine.interval", "2d", "2d"), ("engine.entry_interval", '""', ""),
    ("engine.exit_interval", "10s", "10s"), ("watchlist_exclude", "[PAXG, xaut]", ["PAXG", "xaut"]),
    ("watchlist_exclude", "[]", []), ("engine.candle_close_grace_ms", "0", 0),
])
def test_accepted_values(tmp_path: Path, path: str, yaml_value: str, expected: object) -> None:
    got = flatten(load_text(tmp_path, nested_text(path, yaml_value)))[path]
    assert got == expected and type(got) is type(expected)


@pytest.mark.parametrize("path,yaml_value", [
    ("trade.sl_atr_mult", "true"), ("trade.sl_atr_mult", '"2.0"'), ("trade.sl_atr_mult", "[1]"),
    ("trade.sl_atr_mult", "1" + "0" * 400), ("indicators.rsi_window", "14.5"), ("indicators.rsi_window", "true"),
    ("indicators.rsi_window", '"14"'), ("trade.add_cooldown_minutes", str(2**63)),
    ("trade.add_cooldown_minutes", str(-(2**63) - 1)), ("trade.add_cooldown_minutes", ".inf"),
    ("trade.enable_pyramiding", "1"), ("trade.enable_pyramiding", '"true"'), ("trade.enable_pyramiding", "off"),
    ("trade.entry_min_confidence", "ultra"), ("trade.entry_min_confidence", "2"),
    ("trade.entry_min_confidence", "{a: 1}"), ("engine.interval", "05m"), ("engine.interval", "1H"),
    ("engine.interval", '" 3m"'), ("engine.interval", '""'), ("engine.interval", "0m"), ("engine.interval", "3"),
    ("engine.interval", "-1h"), ("engine.interval", "99999999999999999999d"), ("engine.interval", '"1h "'),
    ("engine.exit_interval", '"3m\\n"'), ("watchlist_exclude", "PAXG"), ("watchlist_exclude", "[1]"),
    ("watchlist_exclude", "[null]"), ("engine.loop_target_s", "2020-01-01"),
])
def test_rejected_values_name_layer_path_and_value(tmp_path: Path, path: str, yaml_value: str) -> None:
    m = error_of(tmp_path, "symbols:\n  ETH:\n    trade: {}\n" + nested_text(path, yaml_value, "modes.m"))
    assert m["path"] == f"modes.m.{path}"


def test_int64_rule_is_named(tmp_path: Path) -> None:
    m = error_of(tmp_path, f"global:\n  trade:\n    add_cooldown_minutes: {2**63}\n")
    assert "64-bit" in m["rule"]


def test_interval_length() -> None:
    assert interval_ms("60m") == interval_ms("1h") == 3_600_000
    assert interval_ms("10s") == 10_000 and interval_ms("2d") == 172_800_000
    assert interval_ms("106751991167d") is not None and interval_ms("106751991168d") is None
    for bad in ("", "0s", "01m", "1M", "1w", "+1m", "1.5h", "1h\n", "١h"):
        assert interval_ms(bad) is None, bad


# --- portfolio scope ------------------------------------------------------------------------------

@pytest.mark.parametrize("block", ["symbols:\n  BTC:\n", "live:\n  symbols:\n    BTC:\n",
                                   "modes:\n  m:\n    symbols:\n      BTC:\n"])
@pytest.mark.parametrize("body,path", [
    ("trade:\n  max_open_positions: 5\n", "trade.max_open_positions"),
    ("trade:\n  max_total_margin_pct: null\n", "trade.max_total_margin_pct"),
    ("trade:\n  max_entry_orders_per_loop: 1\n", "trade.max_entry_orders_per_loop"),
    ("engine:\n  interval: 1h\n", "engine"), ("engine: null\n", "engine"),
    ("watchlist_exclude: null\n", "watchlist_exclude"),
])
def test_portfolio_keys_forbidden_in_symbols_blocks(tmp_path: Path, block: str, body: str, path: str) -> None:
    indent = " " * (len(block.splitlines()[-1]) - len(block.splitlines()[-1].lstrip()) + 2)
    text = block + "".join(indent + line + "\n" for line in body.splitlines())
    m = error_of(tmp_path, text)
    assert m["path"].endswith("BTC." + path) and "portfolio-scope" in m["rule"]


def test_portfolio_keys_allowed_in_global_live_and_modes(tmp_path: Path) -> None:
    text = ("live:\n  trade:\n    max_open_positions: 3\nmodes:\n  m:\n    global:\n      engine: {interval: 30m}\n"
            "    symbols:\n      BTC:\n        trade: {leverage: 7.0}\n")
    cs = load_config_set(write(tmp_path, text), ("BTC", "ETH"), "m", run_mode="live")
    assert cs.portfolio["trade"]["max_open_positions"] == 3 and cs.portfolio["engine"]["interval"] == "30m"
    assert cs.symbols["BTC"]["trade"]["leverage"] == 7.0 and cs.portfolio["trade"]["leverage"] == 3.0
    assert cs.symbols["ETH"]["engine"]["interval"] == "30m"


# --- merge order (D27) ----------------------------------------------------------------------------

STACK = """
global: {trade: {sl_atr_mult: 1.0}}
symbols: {ETH: {trade: {sl_atr_mult: 3.0}}}
live: {global: {trade: {sl_atr_mult: 4.0}}, symbols: {ETH: {trade: {sl_atr_mult: 5.0}}}}
modes:
  m: {global: {trade: {sl_atr_mult: 6.0}}, symbols: {eth: {trade: {sl_atr_mult: 7.0}}}}
  s: {trade: {sl_atr_mult: 8.0}}
"""


@pytest.mark.parametrize("symbol,mode,run_mode,expected", [
    (None, None, "backtest", 2.0), ("ETH", None, "backtest", 3.0), ("ETH", None, "paper", 3.0),
    ("BTC", None, "backtest", 2.0), ("ETH", None, "live", 5.0), ("ETH", None, "dry_live", 5.0),
    (None, None, "live", 4.0), ("BTC", None, "dry_live", 4.0), ("ETH", "m", "backtest", 6.0),
    ("eth", "m", "backtest", 7.0), ("eth", None, "backtest", 3.0), (None, "m", "live", 6.0),
    ("BTC", "m", "backtest", 6.0), ("ETH", "s", "live", 8.0), (None, "s", "paper", 8.0),
])
def test_merge_order(tmp_path: Path, symbol: str | None, mode: str | None, run_mode: str, expected: float) -> None:
    cfg = load_text(tmp_path, STACK, symbol, mode, run_mode=run_mode, sweep_overrides={"trade.sl_atr_mult": 2.0})
    assert cfg["trade"]["sl_atr_mult"] == expected


def test_without_sweep_global_wins(tmp_path: Path) -> None:
    assert load_text(tmp_path, STACK)["trade"]["sl_atr_mult"] == 1.0


def test_unknown_modes_and_run_modes(tmp_path: Path) -> None:
    m = error_of(tmp_path, STACK, None, "primry")
    assert m["path"] == "modes.primry" and "unknown strategy mode" in m["rule"] and "'m'" in m["fix"]
    with pytest.raises(ConfigError, match="unknown strategy mode"):
        load_config(None, mode="primary")
    with pytest.raises(ConfigError, match="run_mode"):
        load_config(None, run_mode="Live")


def test_every_named_symbol_is_built_and_validated(tmp_path: Path) -> None:
    text = ("symbols: {doge: {trade: {leverage: 2.0}}}\nlive: {symbols: {XRP: null}}\n"
            "modes: {m: {symbols: {ADA: {trade: {leverage: 4.0}}}}}\n")
    cs = load_config_set(write(tmp_path, text), ("BTC",))
    assert sorted(cs.symbols) == ["ADA", "BTC", "XRP", "doge"]
    assert cs.symbols["doge"]["trade"]["leverage"] == 2.0 and cs.symbols["ADA"]["trade"]["leverage"] == 3.0
    assert load_config_set(write(tmp_path, text), ("BTC",), "m").symbols["ADA"]["trade"]["leverage"] == 4.0
    m = error_of(tmp_path, "symbols: {DOGE: {trade: {leverage: 0}}}\n", "BTC")
    assert m["path"] == "symbols.DOGE.trade.leverage" and m["value"] == "0.0"


# --- validity rules on effective configs (§10.1) -------------------------------------------------

@pytest.mark.parametrize("leaf,value,ok", [
    ("trade.leverage", "0", False), ("trade.leverage_low", "-1.0", False), ("trade.leverage_high", "0.5", True),
    ("trade.slippage_bps", "10000", False), ("trade.slippage_bps", "9999.5", True), ("trade.slippage_bps", "-1", False),
    ("trade.tp_partial_pct", "1.5", False), ("trade.tp_partial_pct", "1.0", True), ("trade.tp_partial_pct", "0", True),
    ("trade.rsi_exit_profit_atr_switch", "-0.1", False), ("trade.adx_sizing_min_mult", "1.01", False),
    ("trade.adx_sizing_min_mult", "1.0", True), ("trade.adx_sizing_full_adx", "0", False),
    ("indicators.adx_window", "1", False), ("indicators.adx_window", "2", True),
    ("indicators.rsi_window", "0", False), ("indicators.rsi_window", "10001", False),
    ("trade.entry_cooldown_s", "1000000001", False), ("trade.entry_cooldown_s", "1000000000", True),
    ("thresholds.entry.ave_adx_mult", "-0.1", False), ("trade.allocation_pct", "1.1", False),
    ("trade.leverage_max_cap", "-5", True), ("thresholds.ranging.rsi_low", "200", True),
    ("market_regime.regime_gate_breadth_low", "95", True), ("trade.max_adds_per_symbol", "10001", False),
    ("trade.reentry_cooldown_min_mins", "-1", False),
])
def test_ranges(tmp_path: Path, leaf: str, value: str, ok: bool) -> None:
    text = nested_text(leaf, value, "symbols.ETH")
    if ok:
        assert flatten(load_text(tmp_path, text, "ETH"))[leaf] == float(value)
        return
    m = error_of(tmp_path, text, "BTC")
    assert m["path"] == f"symbols.ETH.{leaf}" and "range" in m["rule"] and SCHEMA.leaves[leaf].range.text in m["rule"]
    assert float(m["value"]) == float(value)


@pytest.mark.parametrize("text,mode,path", [
    ("symbols: {ETH: {trade: {vol_scalar_min: 0.9, vol_scalar_max: 0.8}}}\n", None,
     "symbols.ETH.trade.vol_scalar_min"),
    ("global: {trade: {vol_scalar_max: 0.4}}\n", None, "global.trade.vol_scalar_max"),
    ("global: {trade: {reentry_cooldown_min_mins: 200}}\n", None, "global.trade.reentry_cooldown_min_mins"),
    ("global: {engine: {signal_on_candle_close: false}}\n", None, "global.engine.signal_on_candle_close"),
    ("global: {engine: {interval: 30m, exit_interval: 1h}}\n", None, "global.engine.exit_interval"),
    ("global: {engine: {exit_interval: 15m}}\nmodes: {m: {engine: {interval: 5m}}}\n", "m",
     "global.engine.exit_interval"),
    ("global: {engine: {interval: 5m}}\nmodes: {m: {engine: {entry_interval: 10m}}}\n", "m",
     "modes.m.engine.entry_interval"),
])
def test_cross_key_rules(tmp_path: Path, text: str, mode: str | None, path: str) -> None:
    m = error_of(tmp_path, text, "ETH", mode)
    assert m["path"] == path, m.group(0)
    assert "D32" in m["rule"] or "D39" in m["rule"] or "D30" in m["rule"]


def test_sub_bar_compared_by_length(tmp_path: Path) -> None:
    cfg = load_text(tmp_path, "global: {engine: {interval: 60m, entry_interval: 1h, exit_interval: 3600s}}\n")
    assert cfg["engine"]["entry_interval"] == "1h"


def test_rules_apply_to_effective_configs_only(tmp_path: Path) -> None:
    text = "live: {trade: {leverage: 0}}\nmodes: {m: {engine: {signal_on_candle_close: false}}}\n"
    assert load_text(tmp_path, text, "BTC")["trade"]["leverage"] == 3.0
    assert error_of(tmp_path, text, "BTC", run_mode="live")["path"] == "live.trade.leverage"
    assert error_of(tmp_path, text, None, "m")["path"] == "modes.m.engine.signal_on_candle_close"


# --- sweep overrides ------------------------------------------------------------------------------

def sweep_error(overrides: dict) -> re.Match:
    with pytest.raises(SweepError) as err:
        load_config(None, "BTC", sweep_overrides=overrides)
    match = MSG.match(str(err.value))
    assert match is not None and match["file"] == "<sweep>", str(err.value)
    return match


@pytest.mark.parametrize("path,value,piece", [
    ("trade.sl_atr_mul", 2.0, "did you mean trade.sl_atr_mult?"),
    ("indicators.ave_avg_atr_window", 30, "did you mean thresholds.entry.ave_avg_atr_window?"),
    ("trade", 1.0, "unknown sweep path"), ("engine.interval", "1h", "engine-only"),
    ("trade.use_bbo_for_fills", False, "engine-only"), ("watchlist_exclude", [], "engine-only"),
    ("trade.sl_atr_mult", True, "number"), ("trade.sl_atr_mult", float("nan"), "finite"),
    ("trade.enable_pyramiding", 1.0, "true/false"), ("trade.enable_pyramiding", 1, "true/false"),
    ("indicators.rsi_window", 14.5, "integral"), ("trade.entry_min_confidence", 2.0, "low/medium/high"),
    ("trade.sl_atr_mult", None, "decoded"), ("trade.leverage", 0.0, "range"), ("indicators.adx_window", 1, "range"),
])
def test_sweep_overrides_rejected(path: str, value: object, piece: str) -> None:
    m = sweep_error({path: value})
    assert m["path"] == path and piece in m.group(0)


def test_sweep_accepts_float_subclasses_as_native() -> None:
    np = pytest.importorskip("numpy")
    cfg = load_config(None, sweep_overrides={"trade.sl_atr_mult": np.float64(2.5), "indicators.rsi_window": 9.0})
    assert type(cfg["trade"]["sl_atr_mult"]) is float and type(cfg["indicators"]["rsi_window"]) is int


def test_sweep_cross_key_failure_is_a_sweep_error() -> None:
    m = sweep_error({"trade.vol_scalar_min": 2.0})
    assert m["path"] == "trade.vol_scalar_min" and "vol_scalar_max" in m["rule"]


def test_sweep_applies_as_global_below_symbols(tmp_path: Path) -> None:
    text = "global: {trade: {max_open_positions: 3}}\nsymbols: {ETH: {trade: {tp_atr_mult: 9.0}}}\n"
    sweep = {"trade.tp_atr_mult": 5.0, "trade.max_open_positions": 7, "trade.enable_pyramiding": False}
    cs = load_config_set(write(tmp_path, text), ("ETH", "BTC"), sweep_overrides=sweep)
    assert cs.symbols["ETH"]["trade"]["tp_atr_mult"] == 9.0 and cs.symbols["BTC"]["trade"]["tp_atr_mult"] == 5.0
    assert cs.portfolio["trade"]["max_open_positions"] == 7 and cs.portfolio["trade"]["enable_pyramiding"] is False


# --- properties: merge model, symbol case rule -----------------------------------------------------

POOL = {
    "trade.sl_atr_mult": st.floats(0, 1e6, allow_nan=False) | st.integers(0, 10**6),
    "trade.enable_pyramiding": st.booleans(),
    "indicators.rsi_window": st.integers(1, 10000) | st.integers(1, 10000).map(float),
    "thresholds.entry.macd_hist_entry_mode": st.sampled_from(["accel", "sign", "none", "ACCEL", "Sign"]),
    "thresholds.entry.min_adx": st.floats(0, 100, allow_nan=False),
    "market_regime.auto_reverse_breadth_low": st.floats(-1e9, 1e9, allow_nan=False),
    "watchlist_exclude": st.lists(st.sampled_from(["DOGE", "pepe"]), max_size=2),
}
SECTIONS = ["trade", "indicators", "thresholds", "thresholds.entry", "market_regime"]


def _insert(doc: dict, path: str, value: object) -> None:
    *secs, leaf = path.split(".")
    node = doc
    for sec in secs:
        if not isinstance(node.get(sec), dict):
            node[sec] = {}
        node = node[sec]
    node[leaf] = value


@st.composite
def partial_docs(draw: st.DrawFn, in_symbol: bool = False) -> dict | None:
    """A partial strategy document over POOL, with nulls at random leaves, sections or the root."""
    if draw(st.integers(0, 7)) == 0:
        return None
    doc: dict = {}
    pool = sorted(p for p in POOL if not (in_symbol and SCHEMA.leaves[p].portfolio_scope))
    for path in draw(st.lists(st.sampled_from(pool), unique=True)):
        _insert(doc, path, draw(st.none() | POOL[path]))
    for section in draw(st.lists(st.sampled_from(SECTIONS), unique=True, max_size=2)):
        _insert(doc, section, None)
    return doc


@st.composite
def overlays(draw: st.DrawFn) -> dict | None:
    if draw(st.booleans()):
        return draw(partial_docs())
    return {"global": draw(partial_docs()), "symbols": {k: draw(partial_docs(True)) for k in ("BTC", "btc")}}


def _leaves(doc: dict | None, prefix: str = "") -> dict[str, object]:
    """Non-null leaves of a partial document (reference model of §3.3)."""
    out: dict[str, object] = {}
    for key, value in (doc or {}).items():
        if isinstance(value, dict):
            out.update(_leaves(value, f"{prefix}{key}."))
        elif value is not None:
            out[prefix + key] = value
    return out


def _pick(block: dict | None, symbol: str) -> dict | None:
    block = block or {}
    return block.get(symbol) if symbol in block else block.get(symbol.upper())


def _model(doc: dict, symbol: str | None, mode: str | None, run_mode: str, sweep: dict) -> dict[str, object]:
    """Last non-null value wins per leaf, over the D27 stack (written independently of the loader)."""
    stack = [doc["global"], sweep] + ([_pick(doc["symbols"], symbol)] if symbol else [])
    overlays_ = ([doc["live"]] if run_mode in ("live", "dry_live") else []) + ([doc["modes"][mode]] if mode else [])
    for ov in overlays_:
        nested = isinstance(ov, dict) and ("global" in ov or "symbols" in ov)
        stack += ([ov["global"]] + ([_pick(ov["symbols"], symbol)] if symbol else [])) if nested else [ov]
    values = {p: (list(lf.default) if lf.kind == "list[str]" else lf.default) for p, lf in SCHEMA.leaves.items()}
    for layer in stack:
        for path, value in _leaves(layer).items():
            kind = SCHEMA.leaves[path].kind
            values[path] = float(value) if kind == "float" else int(value) if kind == "int" else \
                value.lower() if kind == "enum" else value
    return values


@settings(deadline=None)
@given(g=partial_docs(), syms=st.dictionaries(st.sampled_from(["BTC", "btc", "ETH"]), partial_docs(True)),
       live=overlays(), m=overlays(), symbol=st.sampled_from([None, "BTC", "btc", "ETH", "SOL"]),
       mode=st.sampled_from([None, "m"]), run_mode=st.sampled_from(["backtest", "paper", "dry_live", "live"]),
       sweep=st.dictionaries(st.sampled_from(["trade.sl_atr_mult", "indicators.rsi_window"]), st.integers(1, 99)))
def test_merge_matches_last_non_null_wins_model(tmp_path_factory, g, syms, live, m, symbol, mode, run_mode,
                                                sweep) -> None:
    import json
    doc = {"global": g, "symbols": syms, "live": live, "modes": {"m": m}}
    path = tmp_path_factory.mktemp("merge") / "cfg.yaml"
    path.write_text(json.dumps(doc))
    got = flatten(load_config(path, symbol, mode, run_mode=run_mode, sweep_overrides=sweep))
    assert got == _model(doc, symbol, mode, run_mode, sweep)
    for key, value in got.items():
        assert type(value) is PY_TYPES[SCHEMA.leaves[key].kind]


NAMES = st.text(alphabet="abcABCßıİéÉ1", min_size=1, max_size=3)


def _ascii_upper(text: str) -> str:
    return "".join(chr(ord(c) - 32) if "a" <= c <= "z" else c for c in text)


@settings(deadline=None)
@given(keys=st.lists(NAMES, unique=True, min_size=1, max_size=4), symbol=NAMES)
def test_symbol_key_rule_exact_then_ascii_upper(tmp_path_factory, keys: list[str], symbol: str) -> None:
    import json
    doc = {"symbols": {k: {"trade": {"sl_atr_mult": float(i + 10)}} for i, k in enumerate(keys)}}
    path = tmp_path_factory.mktemp("sym") / "cfg.yaml"
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    cs = load_config_set(path, (symbol,))
    key = symbol if symbol in keys else _ascii_upper(symbol) if _ascii_upper(symbol) in keys else None
    expected = 2.0 if key is None else float(keys.index(key) + 10)
    assert cs.symbols[symbol]["trade"]["sl_atr_mult"] == expected
    assert set(keys) <= set(cs.symbols)
    assert ascii_upper(symbol) == _ascii_upper(symbol)


def test_symbol_case_examples(tmp_path: Path) -> None:
    text = "symbols:\n  BTC: {trade: {sl_atr_mult: 5.0}}\n  btc: {trade: {sl_atr_mult: 6.0}}\n  STRAßE: {}\n"
    cs = load_config_set(write(tmp_path, text), ("BTC", "btc", "Btc"))
    assert [cs.symbols[s]["trade"]["sl_atr_mult"] for s in ("BTC", "btc", "Btc")] == [5.0, 6.0, 5.0]
    lower_only = load_config_set(write(tmp_path, "symbols: {eth: {trade: {sl_atr_mult: 6.0}}}\n"), ("ETH",))
    assert lower_only.symbols["ETH"]["trade"]["sl_atr_mult"] == 2.0 and lower_only.symbols["eth"]["trade"][
        "sl_atr_mult"] == 6.0
    assert ascii_upper("straße ıx") == "STRAßE ıX"
