"""StrategyManager: hot reload keeps the last good config on any failure (§5.1, D28), thread safety."""
from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from engine_ref.config_loader import load_config
from engine_ref.strategy_manager import Snapshot, StrategyManager, canonical_sha1
from harness.errors import ConfigError

REPO = Path(__file__).resolve().parents[2]
SHIPPED = REPO / "config" / "strategy_overrides.yaml"


def doc(k: float, interval: str = "1h") -> str:
    """A config whose three trade leaves all equal ``k`` (a torn read would show different values)."""
    return (f"global:\n  trade: {{sl_atr_mult: {k}, tp_atr_mult: {k}, trailing_start_atr: {k}}}\n"
            f"  engine: {{interval: {interval}}}\nsymbols:\n  BTC:\n    trade: {{leverage: 2.0}}\n")


def put(path: Path, text: str, atomic: bool = False) -> None:
    """Write ``text`` and give the file a strictly newer mtime (filesystem clocks are coarse)."""
    old_ns = path.stat().st_mtime_ns if path.exists() else 0
    target = path.with_suffix(".tmp") if atomic else path
    target.write_text(text, encoding="utf-8")
    new_ns = max(old_ns + 1_000_000_000, target.stat().st_mtime_ns)
    os.utime(target, ns=(new_ns, new_ns))
    if atomic:
        os.replace(target, path)


@pytest.fixture()
def cfg_path(tmp_path: Path) -> Path:
    path = tmp_path / "overrides.yaml"
    put(path, doc(2.0))
    return path


def test_first_load_and_snapshot(cfg_path: Path) -> None:
    sm = StrategyManager(cfg_path, symbols=("BTC", "ETH"))
    snap = sm.snapshot()
    assert isinstance(snap, Snapshot) and snap.generation == 1 and snap.last_error is None
    assert snap.yaml_path == str(cfg_path) and snap.loaded_at > 0
    raw = YAML(typ="safe", pure=True).load(cfg_path.read_text())
    text = json.dumps(raw, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert snap.overrides_sha1 == hashlib.sha1(text.encode("utf-8")).hexdigest() == canonical_sha1(raw)
    assert sm.get_config("BTC") == load_config(cfg_path, "BTC")
    assert sm.get_portfolio_config() == load_config(cfg_path)
    assert sm.maybe_reload() is False and sm.snapshot().generation == 1


@pytest.mark.parametrize("text", ["", "global: {trade: {sl_atr_mul: 1.0}}\n", "global: [\n"])
def test_first_load_errors_raise(tmp_path: Path, text: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match="bad.yaml"):
        StrategyManager(path)
    with pytest.raises(ConfigError, match="missing.yaml"):
        StrategyManager(tmp_path / "missing.yaml")


def test_shipped_yaml_every_mode(tmp_path: Path) -> None:
    for mode in ("primary", "fallback", "conservative", "flat"):
        sm = StrategyManager(SHIPPED, mode=mode, run_mode="live", symbols=("BTC", "ETH", "SOL"))
        for sym in ("BTC", "ETH", "SOL"):
            assert sm.get_config(sym) == load_config(SHIPPED, sym, mode, run_mode="live")


def test_hot_reload_picks_up_a_change(cfg_path: Path) -> None:
    sm = StrategyManager(cfg_path, symbols=("BTC",))
    put(cfg_path, doc(3.0))
    assert sm.get_config("BTC")["trade"]["sl_atr_mult"] == 3.0
    snap = sm.snapshot()
    assert snap.generation == 2 and snap.last_error is None
    assert snap.overrides_sha1 == canonical_sha1(YAML(typ="safe", pure=True).load(cfg_path.read_text()))
    put(cfg_path, doc(4.0))
    assert sm.maybe_reload() is True and sm.maybe_reload() is False
    assert sm.get_portfolio_config()["trade"]["tp_atr_mult"] == 4.0 and sm.snapshot().generation == 3


def test_half_written_file_keeps_last_good_then_recovers(cfg_path: Path, caplog) -> None:
    sm = StrategyManager(cfg_path, symbols=("BTC",))
    good = sm.get_config("BTC")
    full = doc(5.0)
    put(cfg_path, full[: full.index("tp_atr_mult")])  # truncated inside a flow mapping
    with caplog.at_level(logging.ERROR, logger="engine_ref.config"):
        assert sm.maybe_reload() is False
    snap = sm.snapshot()
    assert snap.generation == 1 and snap.last_error is not None
    assert str(cfg_path) in snap.last_error and "invalid YAML" in snap.last_error
    assert any(str(cfg_path) in r.getMessage() for r in caplog.records if r.levelno == logging.ERROR)
    assert sm.get_config("BTC") == good and sm.maybe_reload() is False  # no retry without a change
    put(cfg_path, full)
    assert sm.get_config("BTC")["trade"]["sl_atr_mult"] == 5.0
    assert sm.snapshot().generation == 2 and sm.snapshot().last_error is None


@pytest.mark.parametrize("bad", ["", "# emptied\n", "null\n", "global: {trade: {leverage: 0}}\n",
                                 "symbols: {BTC: {engine: null}}\n", "global: {trade: {x: 1}}\n",
                                 "global: {trade: {sl_atr_mult: 1}}\nglobal: {}\n", "deleted", "restart"])
def test_failed_reloads_are_rejected(cfg_path: Path, bad: str) -> None:
    sm = StrategyManager(cfg_path, symbols=("BTC",))
    good = (sm.get_portfolio_config(), sm.get_config("BTC"))
    if bad == "deleted":
        cfg_path.unlink()
    else:
        put(cfg_path, doc(9.0, interval="4h") if bad == "restart" else bad)
    assert sm.maybe_reload() is False
    assert (sm.get_portfolio_config(), sm.get_config("BTC")) == good
    assert sm.snapshot().last_error is not None and str(cfg_path) in sm.snapshot().last_error
    put(cfg_path, doc(7.0))
    assert sm.maybe_reload() is True and sm.get_config("BTC")["trade"]["sl_atr_mult"] == 7.0


def test_main_interval_compared_by_length(cfg_path: Path) -> None:
    sm = StrategyManager(cfg_path)
    put(cfg_path, doc(3.0, interval="60m"))  # same length as 1h: not a restart (D39)
    assert sm.maybe_reload() is True and sm.get_portfolio_config()["engine"]["interval"] == "60m"
    put(cfg_path, doc(4.0, interval="30m"))
    assert sm.maybe_reload() is False and "restart" in sm.snapshot().last_error


def test_custom_logger_receives_the_error(cfg_path: Path, caplog) -> None:
    logger = logging.getLogger("test.custom.config")
    sm = StrategyManager(cfg_path, logger=logger)
    put(cfg_path, "global: {trade: {sl_atr_mul: 1.0}}\n")
    with caplog.at_level(logging.ERROR, logger="test.custom.config"):
        sm.maybe_reload()
    assert any("did you mean trade.sl_atr_mult" in r.getMessage() for r in caplog.records)


def test_lazy_symbols_and_deep_copies(cfg_path: Path) -> None:
    sm = StrategyManager(cfg_path, symbols=("BTC",))
    assert sm.get_config("btc")["trade"]["leverage"] == 2.0  # ASCII upper-case fallback (D48)
    assert sm.get_config("DOGE") == load_config(cfg_path, "DOGE")
    cfg = sm.get_config("DOGE")
    cfg["trade"]["leverage"] = 50.0
    cfg["watchlist_exclude"].append("X")
    assert sm.get_config("DOGE") == load_config(cfg_path, "DOGE")
    put(cfg_path, doc(6.0))
    assert sm.get_config("DOGE")["trade"]["sl_atr_mult"] == 6.0  # lazily computed from the new document
    with pytest.raises(ConfigError):
        sm.get_config("")


def test_no_file_means_defaults() -> None:
    sm = StrategyManager(None, symbols=("BTC",))
    assert sm.get_config("BTC") == load_config(None, "BTC") and sm.maybe_reload() is False
    assert sm.snapshot().yaml_path is None and sm.snapshot().generation == 1


def test_concurrent_readers_never_see_a_mixed_config(cfg_path: Path) -> None:
    sm = StrategyManager(cfg_path, symbols=("BTC",))
    errors: list[str] = []
    stop = threading.Event()

    def reader(symbol: str) -> None:
        last_gen = 0
        for _ in range(3_000):  # bounded; normally ends when the writer is done
            cfg = sm.get_config(symbol) if symbol else sm.get_portfolio_config()
            t = cfg["trade"]
            if not t["sl_atr_mult"] == t["tp_atr_mult"] == t["trailing_start_atr"]:
                errors.append(f"mixed config {t['sl_atr_mult']}, {t['tp_atr_mult']}, {t['trailing_start_atr']}")
            gen = sm.snapshot().generation
            if gen < last_gen:
                errors.append(f"generation went back {last_gen} -> {gen}")
            last_gen = gen
            if stop.is_set():
                break

    threads = [threading.Thread(target=reader, args=(s,)) for s in ("BTC", "ETH", "", "SOL")]
    for t in threads:
        t.start()
    for k in range(3, 23):
        put(cfg_path, doc(float(k)), atomic=k % 2 == 0)
        sm.maybe_reload()
    stop.set()
    for t in threads:
        t.join(timeout=30)
    assert not errors, errors[:5]
    sm.maybe_reload()
    assert sm.get_config("BTC")["trade"]["sl_atr_mult"] == 22.0
