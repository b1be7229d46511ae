"""Live-engine config holder with hot reload (config-and-axes.md §5.1, D28).

The file is re-read when its ``(st_mtime_ns, st_size)`` changes. A reload that fails any loading rule
(broken YAML, half-written, deleted or empty file, unknown key, range, ...) is rejected: the error is
logged and recorded, the last good effective configs stay in force, and the next change is tried again.
A change of ``engine.interval`` needs a restart (§5.1) and is rejected the same way. Parsing and merging
run outside the lock; only the swap of the immutable state is locked, so a reader never sees a mix of
two generations.
"""
from __future__ import annotations

import copy
import hashlib
import json
import logging
import os
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from engine_ref.config_loader import (ConfigDocument, config_set_from_document, effective_config,
                                      read_document, sweep_layer)
from engine_ref.config_schema import MAIN_INTERVAL, Schema, Site, interval_ms, load_schema
from harness.errors import ConfigError

_Signature = tuple[int, int] | None


@dataclass(frozen=True)
class Snapshot:
    """What is in force: file, SHA-1 of its canonical raw YAML, load time, generation, last reload error."""

    yaml_path: str | None
    overrides_sha1: str
    loaded_at: float
    generation: int
    last_error: str | None


@dataclass(frozen=True)
class _State:
    """One installed generation; ``symbols`` is a per-generation cache filled lazily."""

    doc: ConfigDocument
    portfolio: dict
    symbols: dict[str, dict] = field(default_factory=dict)
    sha1: str = ""
    loaded_at: float = 0.0
    generation: int = 0


def canonical_sha1(raw: object) -> str:
    """SHA-1 of canonical JSON (sorted keys, ``(",", ":")`` separators, ``ensure_ascii=False``)."""
    text = json.dumps(raw, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


def _signature(path: str | Path | None) -> _Signature:
    if path is None:
        return None
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size)


class StrategyManager:
    """Holds the effective configs of a live/paper REF process and reloads them on file change."""

    def __init__(self, yaml_path: str | Path | None, *, mode: str | None = None, run_mode: str = "backtest",
                 symbols: Iterable[str] = (), schema_path: Path | None = None,
                 logger: logging.Logger | None = None) -> None:
        """Load once; any error of the first load raises (D28, D47)."""
        self._path = yaml_path
        self._mode, self._run_mode = mode, run_mode
        self._preload = tuple(symbols)
        self._schema: Schema = load_schema(schema_path)
        self._sweep = sweep_layer(None, self._schema)
        self._log = logger or logging.getLogger("engine_ref.config")
        self._lock = threading.RLock()
        self._reload_lock = threading.Lock()
        self._seen: _Signature = _signature(yaml_path)
        self._last_error: str | None = None
        self._state = self._build(generation=1)

    def _build(self, generation: int) -> _State:
        """Read, check and merge the file (outside any lock); raises ConfigError."""
        doc = read_document(self._path, self._schema)
        cs = config_set_from_document(doc, self._schema, self._preload, self._mode, self._run_mode,
                                      self._sweep)
        return _State(doc, cs.portfolio, dict(cs.symbols), canonical_sha1(doc.raw), time.time(), generation)

    def _check_restart_keys(self, new: _State) -> None:
        old_value = self._state.portfolio["engine"]["interval"]
        new_value = new.portfolio["engine"]["interval"]
        if interval_ms(old_value) != interval_ms(new_value):  # compared by length (D39)
            raise Site(str(self._path), MAIN_INTERVAL).error(
                new_value, f"changed from {old_value!r} while running; needs a restart (§5.1)",
                "restart the engine to change the main interval")

    def maybe_reload(self) -> bool:
        """Reload when the file's ``(st_mtime_ns, st_size)`` changed; True if a new config was installed."""
        if self._path is None or _signature(self._path) == self._seen:
            return False
        if not self._reload_lock.acquire(blocking=False):
            return False
        try:
            sig = _signature(self._path)
            if sig == self._seen:
                return False
            self._seen = sig
            return self._try_install()
        finally:
            self._reload_lock.release()

    def _try_install(self) -> bool:
        try:
            new = self._build(generation=self._state.generation + 1)
            self._check_restart_keys(new)
        except Exception as exc:  # noqa: BLE001 - a live engine keeps its last good config (§5.1)
            message = str(exc) if isinstance(exc, ConfigError) else f"{self._path}: {type(exc).__name__}: {exc}"
            with self._lock:
                self._last_error = message
            self._log.error("config reload rejected, keeping generation %d: %s", self._state.generation, message,
                            exc_info=not isinstance(exc, ConfigError))
            return False
        with self._lock:
            self._state, self._last_error = new, None
        self._log.info("config reloaded from %s: generation %d", self._path, new.generation)
        return True

    def get_config(self, symbol: str) -> dict:
        """Deep copy of ``symbol``'s effective config in force (after checking for a file change)."""
        self.maybe_reload()
        with self._lock:
            state = self._state
        cfg = state.symbols.get(symbol)
        if cfg is None:
            if not isinstance(symbol, str) or not symbol:
                raise Site("<run>", "<symbol>").error(symbol, "symbol must be a non-empty string",
                                                      "pass e.g. \"BTC\"")
            cfg = effective_config(state.doc, self._schema, symbol, self._mode, self._run_mode, self._sweep)
            with self._lock:
                state.symbols.setdefault(symbol, cfg)
        return copy.deepcopy(cfg)

    def get_portfolio_config(self) -> dict:
        """Deep copy of the portfolio config in force (after checking for a file change)."""
        self.maybe_reload()
        with self._lock:
            return copy.deepcopy(self._state.portfolio)

    def snapshot(self) -> Snapshot:
        """The generation in force and the last reload error (None after a successful reload)."""
        with self._lock:
            st, err = self._state, self._last_error
        return Snapshot(None if self._path is None else str(self._path), st.sha1, st.loaded_at,
                        st.generation, err)
