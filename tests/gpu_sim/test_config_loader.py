"""gpu_sim.config_loader (and its YAML 1.2 reader gpu_sim.yaml12): merge order, strictness, validity."""
from __future__ import annotations

import csv
import itertools
import json
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from gpu_sim.config_loader import ParamsBatch, interval_ms, load_params
from gpu_sim.layout import load_layout
from gpu_sim.yaml12 import load_yaml12, load_yaml12_file
from harness.errors import ConfigError, SweepError

REPO = Path(__file__).resolve().parents[2]
SCHEMA = REPO / "config" / "schema.csv"
OVERRIDES = REPO / "config" / "strategy_overrides.yaml"


# -- helpers -----------------------------------------------------------------------------------------

def schema_defaults() -> dict[str, object]:
    """Flat {path: native default}, read straight from the CSV (independent of gpu_sim.layout)."""
    out: dict[str, object] = {}
    with SCHEMA.open(newline="") as fh:
        for r in csv.DictReader(fh):
            k, d = r["kind"], r["default"]
            out[r["path"]] = {"float": float, "int": int, "bool": lambda s: s == "true", "enum": str,
                              "str": lambda s: "" if s == "<empty>" else s,
                              "list[str]": lambda s: []}[k](d)
    return out


DEFAULTS = schema_defaults()


def flatten(d: dict, prefix: str = "") -> dict:
    out = {}
    for k, v in d.items():
        p = f"{prefix}.{k}" if prefix else k
        if isinstance(v, dict):
            out.update(flatten(v, p))
        else:
            out[p] = v
    return out


def nest(flat: dict) -> dict:
    out: dict = {}
    for p, v in flat.items():
        node = out
        parts = p.split(".")
        for s in parts[:-1]:
            node = node.setdefault(s, {})
        node[parts[-1]] = v
    return out


def same(a: object, b: object) -> bool:
    """Equality that also tells 20 from 20.0, True from 1 and 0.0 from -0.0."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return a == b and math.copysign(1.0, a) == math.copysign(1.0, b)
    return a == b


def assert_flat_equal(got: dict, want: dict) -> None:
    assert set(got) == set(want)
    bad = {p: (got[p], want[p]) for p in want if not same(got[p], want[p])}
    assert not bad, bad


@pytest.fixture
def write(tmp_path):
    counter = itertools.count()

    def _write(text: str) -> Path:
        p = tmp_path / f"cfg{next(counter)}.yaml"
        p.write_text(text)
        return p

    return _write


@pytest.fixture
def load(write):
    def _load(text: str, symbols=("BTC", "ETH"), **kw) -> ParamsBatch:
        return load_params(write(text), symbols, **kw)

    return _load


# -- YAML 1.2 core schema -------------------------------------------------------------------------

@pytest.mark.parametrize("text,value", [
    ("010", 10), ("0o17", 15), ("0x1F", 31), ("-12", -12), ("+7", 7), ("0", 0),
    ("1e-3", 0.001), ("1E3", 1000.0), ("1.", 1.0), (".5", 0.5), ("-.5e1", -5.0), ("+1.5", 1.5),
    (".inf", math.inf), ("-.Inf", -math.inf), ("+.INF", math.inf),
    ("true", True), ("True", True), ("TRUE", True), ("false", False), ("False", False), ("FALSE", False),
    ("~", None), ("null", None), ("Null", None), ("NULL", None), ("", None),
    ("yes", "yes"), ("no", "no"), ("on", "on"), ("off", "off"), ("y", "y"), ("tRUE", "tRUE"), ("nULL", "nULL"),
    ("12:30", "12:30"), ("1_000", "1_000"), ("0b101", "0b101"), ("-0x1", "-0x1"), ("0X1F", "0X1F"),
    ("0O17", "0O17"), ("-.nan", "-.nan"), ("2001-01-01", "2001-01-01"), ("'1'", "1"), ('"true"', "true"),
    ("!!float 5", 5.0), ("!!str 5", "5"), ("5m", "5m"), ("1h", "1h"), ("<<", "<<"),
])
def test_yaml12_scalars(text, value):
    got = load_yaml12(f"k: {text}\n")["k"]
    assert same(got, value), (text, got)


def test_yaml12_nan():
    for text in (".nan", ".NaN", ".NAN"):
        assert math.isnan(load_yaml12(f"k: {text}\n")["k"])


@pytest.mark.parametrize("text,piece", [
    ("a: 1\na: 2\n", "duplicate key 'a'"),
    ("a:\n  b: 1\n  c: 2\n  b: 3\n", "duplicate key 'b'"),
    ("a: {x: 1, x: 1}\n", "duplicate key 'x'"),
    ("k: !!int 1.0\n", "not a YAML 1.2 integer"),
    ("k: !!bool yes\n", "not a YAML 1.2 boolean"),
    ("k: !!timestamp 2001-01-01\n", "not part of the YAML 1.2 core schema"),
    ("k: !!set {a}\n", "not part of the YAML 1.2 core schema"),
    ("k: !!binary aGk=\n", "not part of the YAML 1.2 core schema"),
    ("k: !custom 1\n", "not part of the YAML 1.2 core schema"),
    ("? [1]\n: 2\n", "unhashable"),
    ("a: [1\n", "YAML error"),
    ("a: 1\n---\nb: 2\n", "YAML error"),
])
def test_yaml12_errors(text, piece):
    with pytest.raises(ConfigError, match=piece.replace("[", r"\[")) as err:
        load_yaml12(text, source="f.yaml")
    assert str(err.value).startswith("f.yaml:")


def test_yaml12_merge_key_is_a_plain_key_and_empty_stream_is_none():
    assert load_yaml12("<<: {a: 1}\n") == {"<<": {"a": 1}}
    assert load_yaml12("") is None and load_yaml12("# c\n") is None and load_yaml12("---\n") is None


def test_yaml12_leaves_pyyaml_safeloader_alone():
    import yaml

    assert yaml.safe_load("a: yes\nb: 010\n") == {"a": True, "b": 8}  # PyYAML's own YAML 1.1 tables
    assert load_yaml12("a: yes\nb: 010\n") == {"a": "yes", "b": 10}


def test_yaml12_file(tmp_path):
    p = tmp_path / "x.yaml"
    p.write_bytes("\ufeffa: ü\n".encode("utf-8"))
    assert load_yaml12_file(p) == {"a": "ü"}
    with pytest.raises(ConfigError, match="not found"):
        load_yaml12_file(tmp_path / "missing.yaml")


# -- defaults and the shipped file ------------------------------------------------------------------

def test_defaults_round_trip():
    b = load_params(None, ["SOL", "BTC"])
    assert b.symbols == ("BTC", "SOL")
    assert b.params.shape == (1, 2, 153) and b.portfolio.shape == (1, 153)
    assert b.params.dtype == np.float64 and b.params.flags["C_CONTIGUOUS"] and b.portfolio.flags["C_CONTIGUOUS"]
    for sym in (None, "BTC", "SOL"):
        got = b.unpack(0, sym)
        assert_flat_equal(flatten(got), DEFAULTS)
        assert got == nest(DEFAULTS)
    assert b.engine == {"engine.interval": "1h", "engine.entry_interval": "", "engine.exit_interval": "",
                        "watchlist_exclude": []}
    assert np.array_equal(b.portfolio[0], load_layout().defaults)


def test_symbols_sorted_bytewise_and_checked():
    b = load_params(None, ["b", "B", "a", "ÄX", "Z"])
    assert b.symbols == ("B", "Z", "a", "b", "ÄX")
    b0 = load_params(None, [])
    assert b0.params.shape == (1, 0, 153)
    with pytest.raises(ValueError, match="duplicate"):
        load_params(None, ["BTC", "BTC"])
    with pytest.raises(TypeError):
        load_params(None, "BTC")


def test_unpack_bad_arguments():
    b = load_params(None, ["BTC"])
    with pytest.raises(KeyError):
        b.unpack(0, "ETH")
    with pytest.raises(IndexError):
        b.unpack(1)


EXPECTED_MODES = {None: ("1h", "3m", "3m"), "primary": ("30m", "5m", "5m"), "fallback": ("1h", "5m", "5m"),
                  "conservative": ("1h", "15m", "15m"), "flat": ("1h", "15m", "15m")}


@pytest.mark.parametrize("mode", list(EXPECTED_MODES))
@pytest.mark.parametrize("run_mode", ["backtest", "live"])
def test_shipped_overrides_every_mode(mode, run_mode):
    b = load_params(OVERRIDES, ["SOL", "ETH", "BTC"], mode=mode, run_mode=run_mode)
    assert b.symbols == ("BTC", "ETH", "SOL")
    interval, entry, exit_ = EXPECTED_MODES[mode]
    glob = flatten(load_yaml12_file(OVERRIDES)["global"])
    for sym in (None, "BTC", "ETH", "SOL"):
        got = flatten(b.unpack(0, sym))
        assert (got["engine.interval"], got["engine.entry_interval"], got["engine.exit_interval"]) == (interval, entry, exit_)
        for p, v in glob.items():
            if p.startswith("engine.") and p.endswith("interval"):
                continue
            want = float(v) if isinstance(DEFAULTS[p], float) else v
            if sym == "BTC" and p in ("trade.leverage", "trade.leverage_medium", "trade.leverage_high"):
                want = {"trade.leverage": 2.0, "trade.leverage_medium": 3.0, "trade.leverage_high": 4.0}[p]
            assert same(got[p], want), (sym, p, got[p], want)
        for p, v in DEFAULTS.items():
            if p not in glob:
                assert same(got[p], v)


# -- merge order ------------------------------------------------------------------------------------

LAYERED = """
global:
  trade: {sl_atr_mult: 1.0, tp_atr_mult: 1.0, leverage: 1.0, leverage_low: 1.0, leverage_high: 1.0, allocation_pct: 0.1}
symbols:
  BTC:
    trade: {tp_atr_mult: 2.0, leverage: 2.0, leverage_low: 2.0, leverage_high: 2.0}
  eth:
    trade: {tp_atr_mult: 7.0}
  ETH:
    trade: {tp_atr_mult: 3.0}
live:
  global:
    trade: {leverage_low: 4.0, leverage_high: 4.0}
  symbols:
    btc: {trade: {leverage_high: 5.0}}
modes:
  m:
    global: {trade: {allocation_pct: 0.3}}
    symbols:
      BTC: {trade: {leverage: 6.0}}
"""


def test_merge_order_per_symbol_and_portfolio(load):
    sweep = dict(sweep_paths=["trade.sl_atr_mult", "trade.tp_atr_mult"], sweep_codes=np.array([[9.0, 9.0]]))
    b = load(LAYERED, ["BTC", "ETH", "eth", "SOL"], mode="m", run_mode="live", **sweep)
    t = {s: b.unpack(0, s)["trade"] for s in b.symbols}
    p = b.unpack(0)["trade"]
    # sweep over global; symbols over sweep
    assert p["sl_atr_mult"] == 9.0 and t["BTC"]["sl_atr_mult"] == 9.0
    assert (p["tp_atr_mult"], t["BTC"]["tp_atr_mult"], t["ETH"]["tp_atr_mult"], t["eth"]["tp_atr_mult"],
            t["SOL"]["tp_atr_mult"]) == (9.0, 2.0, 3.0, 7.0, 9.0)
    # live.global over symbols; live.symbols (upper-case fallback "btc" only matches exact "btc") not applied
    assert (p["leverage_low"], t["BTC"]["leverage_low"]) == (4.0, 4.0)
    assert (p["leverage_high"], t["BTC"]["leverage_high"], t["ETH"]["leverage_high"]) == (4.0, 4.0, 4.0)
    # modes over live, modes.symbols over modes.global
    assert (p["allocation_pct"], t["BTC"]["allocation_pct"]) == (0.3, 0.3)
    assert (p["leverage"], t["BTC"]["leverage"], t["ETH"]["leverage"]) == (1.0, 6.0, 1.0)
    # live not applied in a backtest, mode not applied without strategy_mode
    b2 = load(LAYERED, ["BTC"], run_mode="backtest", **sweep)
    assert (b2.unpack(0)["trade"]["leverage_low"], b2.unpack(0, "BTC")["trade"]["leverage_low"]) == (1.0, 2.0)
    assert b2.unpack(0, "BTC")["trade"]["allocation_pct"] == 0.1


def test_symbols_rows_differ_portfolio_ignores_them(load):
    b = load("global: {trade: {leverage: 3.0}}\nsymbols:\n  ETH: {trade: {leverage: 1.5}, indicators: {rsi_window: 9}}\n",
             ["BTC", "ETH"])
    col = b.layout.index["trade.leverage"]
    assert b.params[0, 0, col] == 3.0 and b.params[0, 1, col] == 1.5 and b.portfolio[0, col] == 3.0
    assert b.unpack(0, "ETH")["indicators"]["rsi_window"] == 9
    assert b.unpack(0)["indicators"]["rsi_window"] == 14
    diff = np.flatnonzero(b.params[0, 0] != b.params[0, 1])
    assert sorted(b.layout.fields[i] for i in diff) == ["indicators.rsi_window", "trade.leverage"]
    assert np.array_equal(b.params[0, 0], b.portfolio[0])


def test_ascii_upper_fallback(load):
    text = "symbols:\n  BTC: {trade: {leverage: 2.0}}\n  ÉTH: {trade: {leverage: 4.0}}\n  sol: {trade: {leverage: 5.0}}\n"
    b = load(text, ["btc", "Btc", "éth", "ÉTH", "sol", "SOL"])
    lev = {s: b.unpack(0, s)["trade"]["leverage"] for s in b.symbols}
    assert lev == {"btc": 2.0, "Btc": 2.0, "éth": 3.0, "ÉTH": 4.0, "sol": 5.0, "SOL": 3.0}


def test_null_keeps_lower_layer(load):
    text = ("global:\n  trade: {leverage: 2.0, sl_atr_mult: 1.5}\n  indicators: ~\n"
            "symbols:\n  BTC:\n    trade: {leverage: ~, sl_atr_mult: 2.5}\n  ETH: ~\n"
            "live: ~\nmodes:\n  m: ~\n  n: {global: ~, symbols: ~}\n")
    for mode in ("m", "n", None):
        b = load(text, ["BTC", "ETH"], mode=mode, run_mode="live")
        assert b.unpack(0, "BTC")["trade"]["leverage"] == 2.0
        assert b.unpack(0, "BTC")["trade"]["sl_atr_mult"] == 2.5
        assert b.unpack(0, "ETH")["trade"]["sl_atr_mult"] == 1.5


def test_native_types(load):
    text = ("global:\n  trade: {leverage: 3, max_adds_per_symbol: 4.0, entry_min_confidence: MeDiUm, sl_atr_mult: -0.0,"
            " enable_pyramiding: false}\n  thresholds: {entry: {macd_hist_entry_mode: SIGN}}\n"
            "  watchlist_exclude: [PAXG, xaut]\n  engine: {interval: 60m, entry_interval: 1h, exit_interval: ''}\n")
    b = load(text)  # -0.0 lies in [0,inf) and keeps its sign
    t = b.unpack(0, "BTC")
    assert same(t["trade"]["leverage"], 3.0) and same(t["trade"]["max_adds_per_symbol"], 4)
    assert t["trade"]["entry_min_confidence"] == "medium" and t["thresholds"]["entry"]["macd_hist_entry_mode"] == "sign"
    assert same(t["trade"]["sl_atr_mult"], -0.0) and t["trade"]["enable_pyramiding"] is False
    assert t["watchlist_exclude"] == ["PAXG", "xaut"]
    assert t["engine"]["interval"] == "60m" and t["engine"]["entry_interval"] == "1h"  # equal length is fine
    t["watchlist_exclude"].append("X")  # unpack returns independent values
    assert b.unpack(0)["watchlist_exclude"] == ["PAXG", "xaut"] and b.engine["watchlist_exclude"] == ["PAXG", "xaut"]


def test_exact_large_int_engine_leaf(load):
    b = load("global: {engine: {candle_close_grace_ms: 9007199254740993}}\n")
    assert b.unpack(0)["engine"]["candle_close_grace_ms"] == 9007199254740993
    assert b.unpack(0, "ETH")["engine"]["candle_close_grace_ms"] == 9007199254740993


# -- strictness: keys, types, forms ---------------------------------------------------------------

STRICT = [
    # unknown keys (presence, even null) with "did you mean"
    ("global: {trade: {sl_atr_mul: 2.0}}", "global.trade.sl_atr_mul = 2.0: unknown key; fix: did you mean trade.sl_atr_mult?"),
    ("global: {trade: {sl_atr_mul: ~}}", "global.trade.sl_atr_mul = None: unknown key"),
    ("global: {indicators: {ave_avg_atr_window: 30}}", "did you mean thresholds.entry.ave_avg_atr_window?"),
    ("global: {trade: {size_multiplier: 1.0}}", "global.trade.size_multiplier"),
    ("global: {filters: {block_exits_on_anomaly: true}}", "global.filters.block_exits_on_anomaly"),
    ("global: {tradee: {}}", "global.tradee = {}: unknown key; fix: did you mean trade?"),
    ("global: {thresholds: {entryy: {}}}", "did you mean thresholds.entry?"),
    ("globl: {}", "globl = {}: unknown top-level key"),
    ("globl: {}", "did you mean global?"),
    ("trade: {leverage: 2.0}", "trade = {'leverage': 2.0}: unknown top-level key"),
    ("symbols: {BTC: {trade: {levrage: 2.0}}}", "symbols.BTC.trade.levrage = 2.0: unknown key; fix: did you mean trade.leverage?"),
    ("live: {trade: {levrage: 2.0}}", "live.trade.levrage"),
    ("modes: {p: {global: {trade: {levrage: 2.0}}}}", "modes.p.global.trade.levrage"),
    ("modes: {p: {symbols: {BTC: {trade: {levrage: 2.0}}}}}", "modes.p.symbols.BTC.trade.levrage"),
    ("global: {1: 2}", "keys must be strings"),
    # non-mappings
    ("global: [1]", "global = [1]: a strategy document must be a mapping"),
    ("global: {trade: 5}", "global.trade = 5: section trade must be a mapping"),
    ("global: {thresholds: {entry: []}}", "global.thresholds.entry = []: section thresholds.entry must be a mapping"),
    ("symbols: 5", "symbols = 5: symbols must be a mapping"),
    ("symbols: {BTC: 5}", "symbols.BTC = 5: a strategy document must be a mapping"),
    ("symbols: {1000: {}}", "a symbol key must be a string"),
    ("live: 5", "live = 5: an overlay must be a mapping"),
    ("modes: [primary]", "modes = ['primary']: modes must be a mapping"),
    ("modes: {p: 5}", "modes.p = 5: an overlay must be a mapping"),
    ("live: {global: {}, trade: {}}", "live.trade = {}: only global and symbols are allowed in the nested form"),
    ("modes: {p: {symbols: {}, engine: {}}}", "modes.p.engine"),
    ("global: {trade: {leverage: {x: 1}}}", "global.trade.leverage = {'x': 1}: a float key needs a number"),
    # float
    ("global: {trade: {leverage: true}}", "global.trade.leverage = True: a float key needs a number"),
    ("global: {trade: {leverage: '2.0'}}", "global.trade.leverage = '2.0'"),
    ("global: {trade: {leverage: .inf}}", "global.trade.leverage = inf: a float key needs a finite value"),
    ("global: {trade: {leverage: .nan}}", "global.trade.leverage = nan"),
    ("global: {trade: {leverage: 1e400}}", "global.trade.leverage = inf"),
    ("global: {trade: {leverage: " + "9" * 400 + "}}", "a float key needs a finite value"),
    # int
    ("global: {indicators: {rsi_window: 14.5}}", "global.indicators.rsi_window = 14.5: an int key needs an integral value"),
    ("global: {indicators: {rsi_window: true}}", "global.indicators.rsi_window = True"),
    ("global: {indicators: {rsi_window: '14'}}", "global.indicators.rsi_window = '14'"),
    ("global: {indicators: {rsi_window: .inf}}", "global.indicators.rsi_window = inf"),
    ("global: {engine: {candle_close_grace_ms: 9223372036854775808}}", "must fit in a signed 64-bit integer"),
    ("global: {engine: {candle_close_grace_ms: 1e19}}", "must fit in a signed 64-bit integer"),
    # bool
    ("global: {trade: {enable_pyramiding: 1}}", "global.trade.enable_pyramiding = 1: a bool key needs a YAML boolean"),
    ("global: {trade: {enable_pyramiding: yes}}", "global.trade.enable_pyramiding = 'yes'"),
    ("global: {trade: {enable_pyramiding: 'true'}}", "global.trade.enable_pyramiding = 'true'"),
    # enum
    ("global: {trade: {entry_min_confidence: ultra}}", "global.trade.entry_min_confidence = 'ultra': an enum key needs one of low|medium|high"),
    ("global: {trade: {entry_min_confidence: 2}}", "global.trade.entry_min_confidence = 2"),
    ("global: {thresholds: {entry: {macd_hist_entry_mode: acel}}}", "accel|sign|none"),
    ("global: {trade: {entry_min_confidence: 'hıgh'}}", "entry_min_confidence"),
    # intervals and lists
    ("global: {engine: {exit_interval: 05m}}", "global.engine.exit_interval = '05m': an interval must match"),
    ("global: {engine: {interval: 1H}}", "global.engine.interval = '1H'"),
    ("global: {engine: {interval: ' 1h'}}", "global.engine.interval = ' 1h'"),
    ("global: {engine: {interval: 0m}}", "global.engine.interval = '0m'"),
    ("global: {engine: {interval: +1h}}", "global.engine.interval = '+1h'"),
    ("global: {engine: {interval: ''}}", "global.engine.interval = ''"),
    ("global: {engine: {interval: 60}}", "global.engine.interval = 60"),
    ("global: {engine: {interval: 1h30m}}", "global.engine.interval = '1h30m'"),
    ("global: {engine: {interval: 106751991167301d}}", "global.engine.interval = '106751991167301d'"),
    ("global: {watchlist_exclude: PAXG}", "global.watchlist_exclude = 'PAXG': a list of strings is required"),
    ("global: {watchlist_exclude: [1]}", "global.watchlist_exclude = [1]"),
    ("global: {watchlist_exclude: [~]}", "global.watchlist_exclude = [None]"),
    # portfolio-scope keys inside symbols blocks (presence, even null)
    ("symbols: {BTC: {trade: {max_open_positions: 3}}}", "symbols.BTC.trade.max_open_positions = 3: portfolio-scope key"),
    ("symbols: {BTC: {trade: {max_open_positions: ~}}}", "symbols.BTC.trade.max_open_positions = None: portfolio-scope key"),
    ("symbols: {BTC: {trade: {max_entry_orders_per_loop: 3}}}", "symbols.BTC.trade.max_entry_orders_per_loop"),
    ("symbols: {BTC: {trade: {max_total_margin_pct: 0.5}}}", "symbols.BTC.trade.max_total_margin_pct"),
    ("symbols: {BTC: {engine: {interval: 1h}}}", "symbols.BTC.engine = {'interval': '1h'}: portfolio-scope key"),
    ("symbols: {BTC: {engine: ~}}", "symbols.BTC.engine = None: portfolio-scope key"),
    ("symbols: {BTC: {watchlist_exclude: []}}", "symbols.BTC.watchlist_exclude = []: portfolio-scope key"),
    ("live: {symbols: {BTC: {trade: {max_open_positions: 3}}}}", "live.symbols.BTC.trade.max_open_positions"),
    ("modes: {p: {symbols: {XRP: {watchlist_exclude: ~}}}}", "modes.p.symbols.XRP.watchlist_exclude"),
    # every layer checked, even when the run does not apply it
    ("live: {trade: {leverage: abc}}", "live.trade.leverage = 'abc'"),
    ("modes: {other: {trade: {leverage: abc}}}", "modes.other.trade.leverage = 'abc'"),
    ("modes: {other: {symbols: {DOGE: {trade: {enable_pyramiding: 0}}}}}", "modes.other.symbols.DOGE.trade.enable_pyramiding = 0"),
]


@pytest.mark.parametrize("text,piece", STRICT)
def test_strict_loading(write, text, piece):
    path = write(text + "\n")
    with pytest.raises(ConfigError) as err:
        load_params(path, ["BTC", "ETH"])
    msg = str(err.value)
    assert msg.startswith(f"{path}: ") and piece in msg and "; fix: " in msg, msg
    assert not isinstance(err.value, SweepError)


@pytest.mark.parametrize("text", ["", "# only a comment\n", "~\n", "null\n", "---\n"])
def test_empty_file_is_an_error(write, text):
    with pytest.raises(ConfigError, match="empty"):
        load_params(write(text), ["BTC"])


@pytest.mark.parametrize("text", ["[1, 2]\n", "5\n", "just text\n"])
def test_root_must_be_mapping(write, text):
    with pytest.raises(ConfigError, match="top level must be a mapping"):
        load_params(write(text), ["BTC"])


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="nope.yaml: config file not found"):
        load_params(tmp_path / "nope.yaml", ["BTC"])


def test_duplicate_key_in_file(write):
    with pytest.raises(ConfigError, match="duplicate key 'leverage'"):
        load_params(write("global:\n  trade:\n    leverage: 2.0\n    leverage: 2.0\n"), ["BTC"])


def test_run_and_strategy_mode_errors(write):
    p = write("modes:\n  primary: {}\n")
    with pytest.raises(ConfigError, match="strategy_mode = 'primry': unknown strategy mode.*use one of primary"):
        load_params(p, ["BTC"], mode="primry")
    with pytest.raises(ConfigError, match="PRIMARY"):
        load_params(p, ["BTC"], mode="PRIMARY")  # no aliases, no case folding
    with pytest.raises(ConfigError, match="unknown strategy mode"):
        load_params(None, ["BTC"], mode="primary")
    with pytest.raises(ConfigError, match="run_mode = 'prod'"):
        load_params(p, ["BTC"], run_mode="prod")
    for rm in ("backtest", "paper", "dry_live", "live"):
        load_params(p, ["BTC"], run_mode=rm, mode="primary")


def test_accepted_edge_values(load):
    text = ("global:\n  trade: {leverage_max_cap: -5, slippage_bps: 9999.5, tp_partial_pct: 1, rsi_exit_profit_atr_switch: 0}\n"
            "  indicators: {ema_fast_window: 50, ema_slow_window: 20, adx_window: 2}\n"
            "  thresholds: {ranging: {rsi_low: 60, rsi_high: 40}, stoch_rsi: {block_long_if_k_gt: 1.5}}\n"
            "  market_regime: {regime_gate_breadth_low: 90, regime_gate_breadth_high: 10}\n"
            "  engine: {interval: 5m, entry_interval: 300s, exit_interval: ''}\n")
    b = load(text)
    assert b.unpack(0)["trade"]["leverage_max_cap"] == -5.0
    assert b.engine["engine.entry_interval"] == "300s"


# -- validity of effective configs ------------------------------------------------------------------

VALIDITY = [
    ("global: {trade: {leverage: 0}}", "global.trade.leverage = 0.0: outside the valid range (0,inf) (portfolio config)"),
    ("global: {trade: {leverage_low: -1.0}}", "global.trade.leverage_low = -1.0"),
    ("global: {trade: {slippage_bps: 10000}}", "global.trade.slippage_bps = 10000.0: outside the valid range [0,10000)"),
    ("global: {trade: {tp_partial_pct: 1.5}}", "global.trade.tp_partial_pct = 1.5"),
    ("global: {trade: {rsi_exit_profit_atr_switch: -0.5}}", "global.trade.rsi_exit_profit_atr_switch = -0.5"),
    ("global: {trade: {adx_sizing_min_mult: 1.01}}", "global.trade.adx_sizing_min_mult = 1.01"),
    ("global: {trade: {adx_sizing_full_adx: 0.0}}", "global.trade.adx_sizing_full_adx = 0.0"),
    ("global: {thresholds: {entry: {ave_adx_mult: -0.1}}}", "global.thresholds.entry.ave_adx_mult = -0.1"),
    ("global: {indicators: {adx_window: 1}}", "global.indicators.adx_window = 1: outside the valid range [2,10000]"),
    ("global: {indicators: {rsi_window: 0}}", "global.indicators.rsi_window = 0"),
    ("global: {indicators: {rsi_window: 10001}}", "global.indicators.rsi_window = 10001"),
    ("global: {trade: {max_adds_per_symbol: -1}}", "global.trade.max_adds_per_symbol = -1"),
    ("global: {trade: {entry_cooldown_s: 1000000001}}", "global.trade.entry_cooldown_s = 1000000001"),
    ("global: {engine: {candle_close_grace_ms: -1}}", "global.engine.candle_close_grace_ms = -1"),
    ("global: {trade: {vol_scalar_min: 0.9, vol_scalar_max: 0.7}}", "global.trade.vol_scalar_min = 0.9: must be <= trade.vol_scalar_max"),
    ("global: {trade: {vol_scalar_max: 0.1}}", "global.trade.vol_scalar_max = 0.1: must be >= trade.vol_scalar_min"),
    ("global: {trade: {reentry_cooldown_min_mins: 200}}", "global.trade.reentry_cooldown_min_mins = 200: must be <= trade.reentry_cooldown_max_mins"),
    ("global: {engine: {signal_on_candle_close: false}}", "global.engine.signal_on_candle_close = False: must be true"),
    ("global: {engine: {exit_interval: 2h}}", "global.engine.exit_interval = '2h': a sub-bar interval must not be longer"),
    ("global: {engine: {interval: 5m, entry_interval: 301s}}", "global.engine.entry_interval = '301s'"),
    ("global: {engine: {interval: 3m}}\nmodes: {p: {engine: {entry_interval: 5m}}}", None),
    # symbol-level values are checked for every symbol key named anywhere (D48), data or not
    ("symbols: {XRP: {trade: {leverage: 0.0}}}", "symbols.XRP.trade.leverage = 0.0: outside the valid range (0,inf) (effective config of symbol 'XRP')"),
    ("symbols: {ETH: {trade: {vol_scalar_min: 2.0}}}", "symbols.ETH.trade.vol_scalar_min = 2.0: must be <= trade.vol_scalar_max"),
    ("live: {symbols: {DOGE: {trade: {leverage: 0.0}}}}", None),
    ("modes: {x: {symbols: {DOGE: {trade: {leverage: 0.0}}}}}", None),
]


@pytest.mark.parametrize("text,piece", VALIDITY)
def test_validity_rules(write, text, piece):
    path = write(text + "\n")
    if piece is None:  # the offending layer is not applied by this run: accepted
        load_params(path, ["BTC", "ETH"])
        return
    with pytest.raises(ConfigError) as err:
        load_params(path, ["BTC", "ETH"])
    msg = str(err.value)
    assert msg.startswith(f"{path}: ") and piece in msg and "; fix: " in msg, msg


def test_inactive_layer_validity_applies_when_selected(write):
    path = write("live: {symbols: {DOGE: {trade: {leverage: 0.0}}}}\nmodes: {x: {engine: {exit_interval: 2h}}}\n")
    load_params(path, ["BTC"])
    with pytest.raises(ConfigError, match=r"live\.symbols\.DOGE\.trade\.leverage = 0\.0.*'DOGE'"):
        load_params(path, ["BTC"], run_mode="dry_live")
    with pytest.raises(ConfigError, match=r"modes\.x\.engine\.exit_interval = '2h'"):
        load_params(path, ["BTC"], mode="x")
    path2 = write("global: {engine: {interval: 3m}}\nmodes: {p: {engine: {entry_interval: 5m}}}\n")
    with pytest.raises(ConfigError, match="entry_interval = '5m'.*engine.interval = '3m'"):
        load_params(path2, ["BTC"], mode="p")


def test_higher_layer_can_repair_lower_value(load):
    # global leverage 0 is invalid in the portfolio config even when every symbol overrides it
    with pytest.raises(ConfigError, match="global.trade.leverage = 0.0"):
        load("global: {trade: {leverage: 0}}\nsymbols: {BTC: {trade: {leverage: 1.0}}}\n", ["BTC"])
    b = load("global: {trade: {leverage: 0}}\nmodes: {m: {trade: {leverage: 2.0}}}\n", ["BTC"], mode="m")
    assert b.unpack(0, "BTC")["trade"]["leverage"] == 2.0


def test_interval_ms():
    assert interval_ms("1h") == interval_ms("60m") == interval_ms("3600s") == 3_600_000
    assert interval_ms("1d") == 86_400_000
    assert interval_ms("106751991167d") is not None and interval_ms("106751991167301d") is None
    for bad in ("", "0s", "05m", "1H", " 1h", "1h ", "1.5h", "-1h", "1w", "١h"):
        assert interval_ms(bad) is None, bad


# -- sweeps -----------------------------------------------------------------------------------------

def test_sweep_rows(load):
    paths = ["trade.leverage", "trade.enable_pyramiding", "trade.entry_min_confidence", "indicators.rsi_window"]
    codes = np.array([[1.0, 0.0, 0.0, 10.0], [2.0, 1.0, 2.0, 20.0], [3.0, -0.0, 1.0, 30.0]])
    b = load("symbols: {ETH: {trade: {leverage: 9.0}}}\n", ["BTC", "ETH"], sweep_paths=paths, sweep_codes=codes)
    assert b.params.shape == (3, 2, 153)
    for c in range(3):
        btc, eth, port = b.unpack(c, "BTC"), b.unpack(c, "ETH"), b.unpack(c)
        assert btc["trade"]["leverage"] == codes[c, 0] == port["trade"]["leverage"] and eth["trade"]["leverage"] == 9.0
        assert btc["trade"]["enable_pyramiding"] is bool(codes[c, 1])
        assert btc["trade"]["entry_min_confidence"] == ("low", "medium", "high")[int(codes[c, 2])]
        assert same(btc["indicators"]["rsi_window"], int(codes[c, 3]))


def test_sweep_errors(load):
    with pytest.raises(SweepError, match=r"<sweep>: trade.enable_pyramiding \(config 1\) = 0.37"):
        load_params(None, ["BTC"], sweep_paths=["trade.enable_pyramiding"], sweep_codes=np.array([[1.0], [0.37]]))
    with pytest.raises(SweepError, match="did you mean trade.sl_atr_mult"):
        load_params(None, ["BTC"], sweep_paths=["trade.sl_atr_mul"], sweep_codes=np.array([[2.0]]))
    with pytest.raises(SweepError, match="no values"):
        load_params(None, ["BTC"], sweep_paths=["trade.leverage"])
    # a combination failing a cross-key rule is a SweepError naming the swept key and config
    with pytest.raises(SweepError, match=r"<sweep>: trade.vol_scalar_min \(config 2\) = 1.5: must be <= trade.vol_scalar_max"):
        load_params(None, ["BTC"], sweep_paths=["trade.vol_scalar_min"], sweep_codes=np.array([[0.1], [0.2], [1.5]]))
    # ... also when the other side of the rule comes from a symbols block of the file
    with pytest.raises(SweepError, match=r"<sweep>: trade.vol_scalar_min \(config 0\) = 0.9.*symbols.XRP.trade.vol_scalar_max"):
        load("symbols: {XRP: {trade: {vol_scalar_max: 0.8}}}\n", ["BTC"], sweep_paths=["trade.vol_scalar_min"],
             sweep_codes=np.array([[0.9]]))
    # a symbols block overriding the swept key hides the sweep value for that symbol
    b = load("symbols: {BTC: {trade: {vol_scalar_max: 0.9}}}\n", ["BTC"], sweep_paths=["trade.vol_scalar_max"],
             sweep_codes=np.array([[0.6]]))
    assert b.unpack(0, "BTC")["trade"]["vol_scalar_max"] == 0.9 and b.unpack(0)["trade"]["vol_scalar_max"] == 0.6


def test_sweep_of_portfolio_scope_axis():
    b = load_params(None, ["BTC"], sweep_paths=["trade.max_open_positions"], sweep_codes=np.array([[3.0], [7.0]]))
    assert [b.unpack(c)["trade"]["max_open_positions"] for c in range(2)] == [3, 7]
    assert [b.unpack(c, "BTC")["trade"]["max_open_positions"] for c in range(2)] == [3, 7]


def test_full_width_sweep_10000_configs():
    spec = load_yaml12_file(REPO / "sweeps" / "full_144v.yaml")
    paths = [a["path"] for a in spec["axes"]]
    rng = np.random.default_rng(7)
    codes = np.stack([rng.choice(np.array(a["values"], dtype=float), size=10_000) for a in spec["axes"]], axis=1)
    for lo, hi in (("trade.vol_scalar_min", "trade.vol_scalar_max"),
                   ("trade.reentry_cooldown_min_mins", "trade.reentry_cooldown_max_mins")):
        i, j = paths.index(lo), paths.index(hi)
        codes[:, i], codes[:, j] = np.minimum(codes[:, i], codes[:, j]), np.maximum(codes[:, i], codes[:, j])
    b = load_params(OVERRIDES, ["SOL", "ETH", "BTC"], mode="primary", sweep_paths=paths, sweep_codes=codes)
    assert b.params.shape == (10_000, 3, 153) and b.params.flags["C_CONTIGUOUS"] and b.portfolio.flags["C_CONTIGUOUS"]
    cols = [b.layout.index[p] for p in paths]
    assert np.array_equal(b.portfolio[:, cols], codes)
    eth = b.symbols.index("ETH")
    assert np.array_equal(b.params[:, eth, cols], codes)
    btc = b.symbols.index("BTC")
    lev = b.layout.index["trade.leverage"]
    assert (b.params[:, btc, lev] == 2.0).all()  # the file's symbols.BTC overlay beats the sweep


# -- property tests: the merge against a simple reference model --------------------------------------

# Leaves drawn by the generator, with value strategies that always satisfy the validity rules.
finite = st.floats(allow_nan=False, allow_infinity=False)
nonneg = st.one_of(st.floats(min_value=0.0, max_value=1e12), st.integers(0, 10**6))
VALUE_STRATEGIES = {
    "thresholds.ranging.rsi_low": st.one_of(finite, st.integers(-10**6, 10**6)),
    "market_regime.auto_reverse_breadth_high": finite,
    "trade.sl_atr_mult": nonneg,
    "trade.tp_atr_mult": nonneg,
    "trade.leverage": st.floats(min_value=1e-6, max_value=100.0),
    "trade.allocation_pct": st.floats(min_value=0.0, max_value=1.0),
    "indicators.rsi_window": st.one_of(st.integers(1, 10000), st.integers(1, 10000).map(float)),
    "trade.max_adds_per_symbol": st.integers(0, 10000),
    "trade.enable_pyramiding": st.booleans(),
    "filters.use_stoch_rsi_filter": st.booleans(),
    "trade.entry_min_confidence": st.sampled_from(["low", "Medium", "HIGH", "hiGh", "LOW"]),
    "thresholds.entry.macd_hist_entry_mode": st.sampled_from(["accel", "SIGN", "None", "none"]),
}
PORTFOLIO_STRATEGIES = {
    "trade.max_open_positions": st.integers(0, 10000),
    "trade.max_total_margin_pct": st.floats(min_value=0.0, max_value=1.0),
    "engine.interval": st.sampled_from(["1h", "60m", "3600s", "2h"]),
    "engine.entry_interval": st.sampled_from(["", "5m", "1h", "3m"]),
    "watchlist_exclude": st.lists(st.sampled_from(["PAXG", "xaut", "BTC"]), max_size=3),
}
SWEEPABLE = ["trade.sl_atr_mult", "trade.leverage", "trade.enable_pyramiding", "trade.entry_min_confidence",
             "indicators.rsi_window", "trade.max_open_positions"]
DATA_SYMBOLS = ["BTC", "eth", "Sol"]


@st.composite
def strategy_doc(draw, portfolio_ok: bool):
    """A partial strategy document (nested), with nulls at leaves, sections or the whole document."""
    if draw(st.integers(0, 9)) == 0:
        return None
    pool = dict(VALUE_STRATEGIES)
    if portfolio_ok:
        pool.update(PORTFOLIO_STRATEGIES)
    paths = draw(st.lists(st.sampled_from(sorted(pool)), unique=True, max_size=6))
    flat = {}
    for p in paths:
        flat[p] = None if draw(st.integers(0, 4)) == 0 else draw(pool[p])
    doc = nest(flat)
    if doc and draw(st.integers(0, 3)) == 0:  # a null section
        doc[draw(st.sampled_from(sorted(doc)))] = None
    return doc


def symbol_key(draw, sym):
    return draw(st.sampled_from([sym, sym.upper(), sym.lower(), "XRP"]))


@st.composite
def symbols_block(draw):
    if draw(st.integers(0, 5)) == 0:
        return None
    out = {}
    for sym in draw(st.lists(st.sampled_from(DATA_SYMBOLS), max_size=3)):
        out[symbol_key(draw, sym)] = draw(strategy_doc(portfolio_ok=False))
    return out


@st.composite
def overlay(draw):
    if draw(st.booleans()):
        return draw(strategy_doc(portfolio_ok=True))
    out = {}
    if draw(st.booleans()):
        out["global"] = draw(strategy_doc(portfolio_ok=True))
    out["symbols"] = draw(symbols_block())
    return out


@st.composite
def config_file(draw):
    doc = {}
    if draw(st.booleans()):
        doc["global"] = draw(strategy_doc(portfolio_ok=True))
    if draw(st.booleans()):
        doc["symbols"] = draw(symbols_block())
    if draw(st.booleans()):
        doc["live"] = draw(overlay())
    if draw(st.booleans()):
        doc["modes"] = {name: draw(overlay()) for name in draw(st.lists(st.sampled_from(["a", "b"]), max_size=2, unique=True))}
    if not doc:
        doc["global"] = {}
    return doc


def ref_flat(doc: object) -> dict:
    """Reference reading of a strategy document: {path: native value}, nulls dropped."""
    if not isinstance(doc, dict):
        return {}
    out = {}
    for p, v in flatten(doc).items():
        if v is None:
            continue
        kind = type(DEFAULTS[p])
        if kind is float:
            v = float(v)
        elif kind is int:
            v = int(v)
        elif isinstance(v, str) and p not in ("engine.interval", "engine.entry_interval"):
            v = v.lower()
        out[p] = v
    return out


def ref_lookup(block: object, sym: str) -> object:
    if not isinstance(block, dict):
        return None
    if sym in block:
        return block[sym]
    return block.get(sym.upper())


def ref_effective(doc: dict, sym: str | None, sweep: dict, run_mode: str, mode: str | None) -> dict:
    eff = dict(DEFAULTS)
    layers = [doc.get("global"), sweep]
    if sym is not None:
        layers.append(ref_lookup(doc.get("symbols"), sym))
    overlays = []
    if run_mode in ("live", "dry_live"):
        overlays.append(doc.get("live"))
    if mode is not None:
        overlays.append((doc.get("modes") or {}).get(mode))
    for ov in overlays:
        if isinstance(ov, dict) and ("global" in ov or "symbols" in ov):
            layers.append(ov.get("global"))
            if sym is not None:
                layers.append(ref_lookup(ov.get("symbols"), sym))
        else:
            layers.append(ov)
    for layer in layers:
        eff.update(layer if layer is sweep else ref_flat(layer))
    return eff


@given(doc=config_file(), run_mode=st.sampled_from(["backtest", "paper", "dry_live", "live"]),
       mode_pick=st.sampled_from([None, "a", "b"]), sweep_axes=st.lists(st.sampled_from(SWEEPABLE), unique=True, max_size=3),
       data=st.data())
def test_property_merge_matches_reference_model(tmp_path_factory, doc, run_mode, mode_pick, sweep_axes, data):
    mode = mode_pick if mode_pick in (doc.get("modes") or {}) else None
    path = tmp_path_factory.mktemp("merge") / "c.yaml"
    path.write_text(json.dumps(doc, indent=1))  # JSON is YAML 1.2
    layout = load_layout()
    codes = []
    for p in sweep_axes:
        k = layout.kind_name(p)
        strat = {"bool": st.sampled_from([0.0, 1.0, -0.0]), "enum": st.sampled_from([0.0, 1.0, 2.0]),
                 "int": st.integers(1, 10000).map(float), "float": st.floats(min_value=1e-6, max_value=100.0)}[k]
        codes.append(data.draw(st.lists(strat, min_size=2, max_size=2)))
    codes_arr = np.array(codes, dtype=float).T if sweep_axes else None
    symbols = data.draw(st.lists(st.sampled_from(DATA_SYMBOLS + ["ETH", "sol"]), unique=True, min_size=1, max_size=4))
    b = load_params(path, symbols, mode=mode, run_mode=run_mode, sweep_paths=sweep_axes, sweep_codes=codes_arr)
    n = 1 if not sweep_axes else 2
    assert b.params.shape[:2] == (n, len(symbols))
    for c in range(n):
        sweep = {}
        for k, p in enumerate(sweep_axes):
            x = float(codes_arr[c, k])
            kind = layout.kind_name(p)
            sweep[p] = {"bool": x == 1.0, "enum": layout.enum_names[layout.index[p]][int(x)] if kind == "enum" else None,
                        "int": int(x), "float": x}[kind]
        for sym in (None,) + b.symbols:
            want = ref_effective(doc, sym, sweep, run_mode, mode)
            want["watchlist_exclude"] = list(want["watchlist_exclude"])
            assert_flat_equal(flatten(b.unpack(c, sym)), want)


@given(sym=st.text(alphabet="abcXYZ-é1", min_size=1, max_size=4), key_variant=st.sampled_from(["exact", "upper", "lower"]))
def test_property_symbol_case(tmp_path_factory, sym, key_variant):
    key = {"exact": sym, "upper": "".join(ch.upper() if "a" <= ch <= "z" else ch for ch in sym),
           "lower": "".join(ch.lower() if "A" <= ch <= "Z" else ch for ch in sym)}[key_variant]
    path = tmp_path_factory.mktemp("case") / "c.yaml"
    path.write_text(json.dumps({"symbols": {key: {"trade": {"leverage": 7.0}}}}))
    b = load_params(path, [sym])
    applies = key == sym or key == "".join(ch.upper() if "a" <= ch <= "z" else ch for ch in sym)
    assert b.unpack(0, sym)["trade"]["leverage"] == (7.0 if applies else DEFAULTS["trade.leverage"])
    assert b.unpack(0)["trade"]["leverage"] == DEFAULTS["trade.leverage"]


def test_independent_of_engine_ref_and_harness():
    """gpu_sim's loader shares no code with engine_ref and takes only the error types from harness."""
    import ast

    for name in ("layout", "yaml12", "config_loader", "sweep_decode"):
        tree = ast.parse((REPO / "gpu_sim" / f"{name}.py").read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                mods = [(a.name, None) for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                mods = [(node.module or "", [a.name for a in node.names])] if node.level == 0 else []
            else:
                continue
            for mod, names in mods:
                assert not mod.startswith("engine_ref"), (name, mod)
                assert not mod.startswith("ruamel"), (name, mod)
                if mod.startswith("harness"):
                    assert mod == "harness.errors" and set(names) <= {"ConfigError", "SweepError"}, (name, mod, names)
