"""gpu_sim's typed config loader: YAML overlays + sweep codes -> float64 parameter rows.

Rules (normative text in ../shared/spec): DECISIONS.md D27 (merge order, portfolio scope), D28 (strict
loading), D29 (sweep decoding, see ``sweep_decode``), D30 (key set), D32/D42/D52/D53 (validity, via the
schema's ``range`` column plus the cross-key rules below), D39 (intervals), D44c (symbol order), D47
(empty files, key presence, every layer checked), D48 (ASCII case rule, named symbol keys validated);
config-and-axes.md §2-§3, §7, §10.1.

Pipeline:

1. parse the YAML file with the YAML 1.2 core-schema loader (``yaml12``);
2. check every layer of the file (``global``, ``symbols.*``, ``live`` and every ``modes.*``, in
   shorthand or nested form) for unknown keys, portfolio-scope keys inside ``symbols`` blocks and
   value types, converting each layer to a flat ``{leaf path: native value}`` (nulls dropped: a null
   keeps the lower layer's value, and a flat leaf overlay is exactly the deep merge of §3.3);
3. decode the sweep codes (``sweep_decode.decode_codes``);
4. build the rows vectorised: ``defaults <- global`` once, then the sweep columns for every config,
   then the per-symbol overlay stack ``symbols.<SYM> <- live[.global <- .symbols.<SYM>] <-
   modes.<MODE>[.global <- .symbols.<SYM>]`` collapsed into one (mask, values) pair per symbol;
5. validate the portfolio rows, every requested symbol's rows and the rows of every symbol key named in
   any ``symbols`` block (range column, cross-key rules, intervals).

Errors read ``<file>: <layer-qualified path> = <value!r>: <rule>; fix: <fix>``; errors caused by a
sweep value use the pseudo-file ``<sweep>`` and name the config index (``SweepError``).
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from harness.errors import ConfigError, SweepError

from .layout import (
    INT64_MAX,
    INT64_MIN,
    KIND_BOOL,
    KIND_ENUM,
    KIND_FLOAT,
    KIND_INT,
    Layout,
    ascii_lower,
    ascii_upper,
    closest_path,
    load_layout,
)
from .sweep_decode import SWEEP_FILE, decode_codes, sweep_columns
from .yaml12 import load_yaml12_file

__all__ = ["ParamsBatch", "load_params", "RUN_MODES", "interval_ms"]

RUN_MODES = ("backtest", "paper", "dry_live", "live")
LIVE_RUN_MODES = ("live", "dry_live")
TOP_KEYS = ("global", "symbols", "live", "modes")
NESTED_KEYS = ("global", "symbols")

# Keys named by the cross-key rules (D32, D39). Their kinds and defaults come from the schema.
MAIN_INTERVAL = "engine.interval"
SUB_INTERVALS = ("engine.entry_interval", "engine.exit_interval")
SIGNAL_ON_CLOSE = "engine.signal_on_candle_close"
ORDERED_PAIRS = (
    ("trade.vol_scalar_min", "trade.vol_scalar_max"),
    ("trade.reentry_cooldown_min_mins", "trade.reentry_cooldown_max_mins"),
)

_INTERVAL = re.compile(r"[1-9][0-9]*[smhd]\Z")
_UNIT_MS = {"s": 1_000, "m": 60_000, "h": 3_600_000, "d": 86_400_000}
_NO_FILE = "<no file>"


def interval_ms(text: str) -> int | None:
    """Length in ms of an interval string (grammar of D39), or None when it is not one."""
    if not isinstance(text, str) or not _INTERVAL.match(text):
        return None
    ms = int(text[:-1]) * _UNIT_MS[text[-1]]
    return ms if ms <= INT64_MAX else None


def _show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 160 else text[:157] + "..."


def _fail(file: str, where: str, value: object, rule: str, fix: str, cls=ConfigError) -> ConfigError:
    return cls(f"{file}: {where} = {_show(value)}: {rule}; fix: {fix}")


# --------------------------------------------------------------------------------------------------
# Parsed layers


@dataclass
class _Layer:
    file: str
    where: str                                   # layer-qualified prefix, e.g. "symbols.ETH", "live.global"
    values: dict[str, object] = field(default_factory=dict)   # leaf path -> native value (no nulls)


@dataclass
class _Overlay:                                  # `live` or `modes.<MODE>` after form detection
    global_: _Layer
    symbols: dict[str, _Layer]


@dataclass
class _Doc:
    file: str
    global_: _Layer
    symbols: dict[str, _Layer]
    live: _Overlay | None
    modes: dict[str, _Overlay]

    def named_symbols(self) -> set[str]:
        names = set(self.symbols)
        if self.live is not None:
            names.update(self.live.symbols)
        for ov in self.modes.values():
            names.update(ov.symbols)
        return names


class _Parser:
    """Checks one file against the schema and turns it into flat typed layers."""

    def __init__(self, layout: Layout, file: str):
        self.layout = layout
        self.file = file
        tree: dict = {}
        for path in layout.leaf_paths:
            node = tree
            parts = path.split(".")
            for p in parts[:-1]:
                node = node.setdefault(p, {})
            node[parts[-1]] = path
        self.tree = tree
        self.portfolio_sections = frozenset(
            s for s in layout.section_paths
            if all(p in layout.portfolio_paths for p in layout.leaf_paths if p.startswith(s + "."))
        )

    # -- values ------------------------------------------------------------------------------------
    def convert(self, path: str, where: str, value: object) -> object:
        """Type rule of one leaf (config-and-axes.md §2.4); returns the native value."""
        layout = self.layout
        kind = layout.leaf_kinds[path]
        if kind == "float":
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise _fail(self.file, where, value, "a float key needs a number", "write a finite number, e.g. 1.5")
            try:
                v = float(value)
            except OverflowError:
                v = math.inf
            if not math.isfinite(v):
                raise _fail(self.file, where, value, "a float key needs a finite value", "write a finite number, e.g. 1.5")
            return v
        if kind == "int":
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise _fail(self.file, where, value, "an int key needs an integer", "write a whole number, e.g. 20")
            if isinstance(value, float):
                if not math.isfinite(value) or value != math.trunc(value):
                    raise _fail(self.file, where, value, "an int key needs an integral value",
                                "write a whole number, e.g. 20")
                value = int(value)
            if not INT64_MIN <= value <= INT64_MAX:
                raise _fail(self.file, where, value, "an int key must fit in a signed 64-bit integer",
                            "write a smaller whole number")
            return int(value)
        if kind == "bool":
            if not isinstance(value, bool):
                raise _fail(self.file, where, value, "a bool key needs a YAML boolean",
                            "write true or false (0/1, yes/no and quoted strings are not booleans)")
            return value
        if kind == "enum":
            names = layout.enum_names[layout.index[path]]
            if isinstance(value, str):
                low = ascii_lower(value)
                for name in names:
                    if ascii_lower(name) == low:
                        return name
            raise _fail(self.file, where, value, f"an enum key needs one of {'|'.join(names)} (any case)",
                        f"write one of {', '.join(names)}")
        if kind == "str":
            may_be_empty = path in SUB_INTERVALS
            if isinstance(value, str) and ((may_be_empty and value == "") or interval_ms(value) is not None):
                return value
            empty = ' or "" (off)' if may_be_empty else ""
            raise _fail(self.file, where, value,
                        "an interval must match [1-9][0-9]*[smhd] (positive integer, lower-case unit, no "
                        "sign, leading zero or spaces; length within int64 ms)" + empty,
                        "write e.g. 5m, 1h" + empty)
        if kind == "list[str]":
            if isinstance(value, list) and all(isinstance(v, str) for v in value):
                return tuple(value)
            raise _fail(self.file, where, value, "a list of strings is required", "write e.g. [PAXG, XAUT] or []")
        raise AssertionError(kind)  # pragma: no cover - the layout only has these kinds

    # -- documents ---------------------------------------------------------------------------------
    def document(self, node: object, where: str, in_symbols: bool) -> _Layer:
        layer = _Layer(self.file, where)
        if node is None:
            return layer
        if not isinstance(node, dict):
            raise _fail(self.file, where, node, "a strategy document must be a mapping",
                        "write sections such as trade: {...} (or null)")
        self._walk(node, self.tree, "", where, in_symbols, layer.values)
        return layer

    def _walk(self, mapping: dict, tree: dict, rel: str, where: str, in_symbols: bool, out: dict) -> None:
        for key, value in mapping.items():
            if not isinstance(key, str):
                raise _fail(self.file, f"{where}.{key!r}", value, "keys must be strings", "quote the key or remove it")
            rel_key = f"{rel}.{key}" if rel else key
            full = f"{where}.{key}"
            child = tree.get(key)
            if child is None:
                guess = closest_path(rel_key, self.layout.known_paths)
                raise _fail(self.file, full, value, "unknown key", f"did you mean {guess}?")
            if in_symbols and (rel_key in self.layout.portfolio_paths or rel_key in self.portfolio_sections):
                raise _fail(self.file, full, value,
                            "portfolio-scope key inside a symbols block (read only from the portfolio config)",
                            f"move {rel_key} to global (or to live/modes global)")
            if isinstance(child, dict):
                if value is None:
                    continue
                if not isinstance(value, dict):
                    raise _fail(self.file, full, value, f"section {rel_key} must be a mapping",
                                f"write {key}: {{...}} (or null)")
                self._walk(value, child, rel_key, full, in_symbols, out)
            else:
                if value is None:
                    continue
                out[child] = self.convert(child, full, value)

    def symbols_block(self, node: object, where: str) -> dict[str, _Layer]:
        if node is None:
            return {}
        if not isinstance(node, dict):
            raise _fail(self.file, where, node, "symbols must be a mapping symbol -> strategy document",
                        "write symbols: {BTC: {trade: {...}}}")
        out = {}
        for sym, doc in node.items():
            if not isinstance(sym, str):
                raise _fail(self.file, f"{where}.{sym!r}", doc, "a symbol key must be a string",
                            f'quote it: "{sym}"')
            out[sym] = self.document(doc, f"{where}.{sym}", in_symbols=True)
        return out

    def overlay(self, node: object, where: str) -> _Overlay:
        if node is None:
            return _Overlay(_Layer(self.file, where), {})
        if not isinstance(node, dict):
            raise _fail(self.file, where, node, "an overlay must be a mapping (a strategy document or {global, symbols})",
                        "write a strategy document or global:/symbols:")
        if any(k in node for k in NESTED_KEYS):
            for key, value in node.items():
                if key not in NESTED_KEYS:
                    raise _fail(self.file, f"{where}.{key}", value,
                                "only global and symbols are allowed in the nested form",
                                f"move it under {where}.global")
            return _Overlay(self.document(node.get("global"), f"{where}.global", in_symbols=False),
                            self.symbols_block(node.get("symbols"), f"{where}.symbols"))
        return _Overlay(self.document(node, where, in_symbols=False), {})

    def file_document(self, data: object) -> _Doc:
        f = self.file
        if data is None:
            raise ConfigError(f"{f}: <root> = None: the config file is empty (or a null document); "
                              "fix: write a mapping with global/symbols/live/modes, or pass no file for the defaults")
        if not isinstance(data, dict):
            raise _fail(f, "<root>", data, "the top level must be a mapping", "write global:, symbols:, live:, modes:")
        for key, value in data.items():
            if key not in TOP_KEYS:
                guess = closest_path(str(key), TOP_KEYS)
                raise _fail(f, str(key) if isinstance(key, str) else repr(key), value,
                            "unknown top-level key (allowed: global, symbols, live, modes)", f"did you mean {guess}?")
        glob = self.document(data.get("global"), "global", in_symbols=False)
        symbols = self.symbols_block(data.get("symbols"), "symbols")
        live = self.overlay(data["live"], "live") if "live" in data else None
        modes: dict[str, _Overlay] = {}
        if "modes" in data and data["modes"] is not None:
            node = data["modes"]
            if not isinstance(node, dict):
                raise _fail(f, "modes", node, "modes must be a mapping mode name -> overlay",
                            "write modes: {primary: {...}}")
            for name, value in node.items():
                if not isinstance(name, str):
                    raise _fail(f, f"modes.{name!r}", value, "a mode name must be a string", f'quote it: "{name}"')
                modes[name] = self.overlay(value, f"modes.{name}")
        return _Doc(f, glob, symbols, live, modes)


# --------------------------------------------------------------------------------------------------
# The batch


@dataclass(frozen=True, eq=False)
class ParamsBatch:
    """Effective configs of ``n_configs`` sweep points for ``symbols`` as float64 rows.

    ``params[c, s]`` is the effective config of config ``c`` for ``symbols[s]``; ``portfolio[c]`` the
    portfolio config (the same stack without symbols layers). Columns follow ``layout.fields``. The
    string leaves (portfolio scope, never swept) are in ``engine``; ``engine_ints`` holds the exact
    values of the non-swept portfolio-scope int leaves (``engine.candle_close_grace_ms``), which float64
    cannot carry above 2**53. Treat the arrays as read-only.
    """

    layout: Layout
    symbols: tuple[str, ...]
    params: np.ndarray
    portfolio: np.ndarray
    engine: Mapping[str, object]
    engine_ints: Mapping[str, int] = field(default_factory=dict)
    _sym_index: Mapping[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_sym_index", {s: i for i, s in enumerate(self.symbols)})

    @property
    def n_configs(self) -> int:
        return int(self.portfolio.shape[0])

    def row(self, config: int, symbol: str | None = None) -> np.ndarray:
        if not isinstance(config, (int, np.integer)) or isinstance(config, bool) or not 0 <= config < self.n_configs:
            raise IndexError(f"config index {config!r} out of range 0..{self.n_configs - 1}")
        if symbol is None:
            return self.portfolio[config]
        try:
            return self.params[config, self._sym_index[symbol]]
        except KeyError:
            raise KeyError(f"symbol {symbol!r} is not in this batch {self.symbols}") from None

    def unpack(self, config: int, symbol: str | None = None) -> dict:
        """The effective config as a nested dict of native values (all known leaves)."""
        layout = self.layout
        row = self.row(config, symbol)
        out: dict = {}
        for path in layout.leaf_paths:
            col = layout.index.get(path)
            if col is None:
                v = self.engine[path]
                v = list(v) if isinstance(v, (list, tuple)) else v
            else:
                x = float(row[col])
                k = int(layout.kinds[col])
                if k == KIND_FLOAT:
                    v = x
                elif k == KIND_INT:
                    v = self.engine_ints[path] if path in self.engine_ints else int(x)
                elif k == KIND_BOOL:
                    v = x == 1.0
                else:
                    v = layout.enum_names[col][int(x)]
            node = out
            parts = path.split(".")
            for p in parts[:-1]:
                node = node.setdefault(p, {})
            node[parts[-1]] = v
        return out


# --------------------------------------------------------------------------------------------------
# Loading


def _sym_layer(block: Mapping[str, _Layer], symbol: str) -> _Layer | None:
    """symbols.<SYM>: the exact key, else the ASCII upper-case key (D27, D48)."""
    layer = block.get(symbol)
    if layer is None:
        layer = block.get(ascii_upper(symbol))
    return layer


class _Builder:
    def __init__(self, layout: Layout, doc: _Doc, run_mode: str, mode: str | None):
        self.layout = layout
        self.doc = doc
        self.live = doc.live if run_mode in LIVE_RUN_MODES else None
        self.mode = doc.modes[mode] if mode is not None else None

    def post_layers(self, symbol: str | None) -> tuple[_Layer, ...]:
        """Layers above the sweep for a symbol (None = portfolio), lowest first."""
        out: list[_Layer | None] = []
        if symbol is not None:
            out.append(_sym_layer(self.doc.symbols, symbol))
        for ov in (self.live, self.mode):
            if ov is None:
                continue
            out.append(ov.global_)
            if symbol is not None:
                out.append(_sym_layer(ov.symbols, symbol))
        return tuple(layer for layer in out if layer is not None and layer.values)

    def numeric(self, values: Mapping[str, object]) -> list[tuple[int, float]]:
        idx = self.layout.index
        out = []
        for path, v in values.items():
            col = idx.get(path)
            if col is None:
                continue
            k = self.layout.kinds[col]
            if k == KIND_ENUM:
                out.append((col, float(self.layout.enum_names[col].index(v))))
            else:
                out.append((col, float(v)))
        return out

    def overlay_vectors(self, layers: Sequence[_Layer]) -> tuple[np.ndarray, np.ndarray]:
        n = self.layout.n_fields
        mask = np.zeros(n, dtype=bool)
        vals = np.zeros(n, dtype=np.float64)
        for layer in layers:
            for col, x in self.numeric(layer.values):
                mask[col] = True
                vals[col] = x
        return mask, vals


def _check_symbols(symbols: Sequence[str]) -> tuple[str, ...]:
    if isinstance(symbols, (str, bytes)):
        raise TypeError("symbols must be a sequence of symbol strings, not one string")
    syms = tuple(symbols)
    for s in syms:
        if not isinstance(s, str):
            raise TypeError(f"symbol {s!r} is not a string")
    if len(set(syms)) != len(syms):
        dup = sorted({s for s in syms if syms.count(s) > 1})
        raise ValueError(f"duplicate symbols {dup}")
    return tuple(sorted(syms, key=lambda s: s.encode("utf-8", "surrogatepass")))


def load_params(
    yaml_path: str | Path | None,
    symbols: Sequence[str],
    *,
    mode: str | None = None,
    run_mode: str = "backtest",
    sweep_paths: Sequence[str] = (),
    sweep_codes: np.ndarray | None = None,
    schema_path: str | Path | None = None,
) -> ParamsBatch:
    """Load, merge, decode and validate; see the module docstring for the rules."""
    layout = load_layout(schema_path)
    syms = _check_symbols(symbols)
    file = _NO_FILE if yaml_path is None else str(yaml_path)
    parser = _Parser(layout, file)
    if yaml_path is None:
        doc = _Doc(file, _Layer(file, "global"), {}, None, {})
    else:
        doc = parser.file_document(load_yaml12_file(yaml_path))

    if not isinstance(run_mode, str) or run_mode not in RUN_MODES:
        raise _fail("<run>", "run_mode", run_mode, "unknown run mode", f"use one of {', '.join(RUN_MODES)}")
    if mode is not None:
        if not isinstance(mode, str) or mode not in doc.modes:
            known = sorted(doc.modes)
            fix = f"use one of {', '.join(known)}" if known else "define it under modes: or pass no strategy mode"
            raise _fail(file, "strategy_mode", mode, "unknown strategy mode (mode names are the keys of modes)", fix)

    # Sweep.
    sweep_paths = tuple(sweep_paths)
    if sweep_codes is None:
        if sweep_paths:
            raise SweepError(f"{SWEEP_FILE}: sweep_codes = None: {len(sweep_paths)} sweep paths but no values; "
                             "fix: pass a (n_configs, n_paths) float64 array")
        decoded = np.zeros((1, 0), dtype=np.float64)
        cols = np.zeros(0, dtype=np.intp)
    else:
        decoded = decode_codes(layout, sweep_paths, sweep_codes)
        cols = sweep_columns(layout, sweep_paths)
    n_configs = decoded.shape[0]

    builder = _Builder(layout, doc, run_mode, mode)

    # defaults <- global <- sweep
    base_vec = np.array(layout.defaults, dtype=np.float64)
    for col, x in builder.numeric(doc.global_.values):
        base_vec[col] = x
    base = np.empty((n_configs, layout.n_fields), dtype=np.float64)
    base[:] = base_vec
    if cols.size:
        base[:, cols] = decoded

    # Portfolio rows and the portfolio string / exact-int leaves.
    port_layers = builder.post_layers(None)
    mask, vals = builder.overlay_vectors(port_layers)
    portfolio = np.where(mask, vals, base) if mask.any() else base  # base is not used elsewhere
    engine: dict[str, object] = dict(layout.string_leaves)
    string_src: dict[str, _Layer | None] = {p: None for p in engine}
    engine_ints: dict[str, int] = {}
    exact_paths = [p for p, c in layout.index.items()
                   if layout.kinds[c] == KIND_INT and layout.portfolio_mask[c] and not layout.swept_mask[c]]
    for p in exact_paths:
        engine_ints[p] = int(layout.defaults[layout.index[p]])
    for layer in (doc.global_,) + port_layers:
        for p, v in layer.values.items():
            if p in engine:
                engine[p] = v
                string_src[p] = layer
            elif p in engine_ints:
                engine_ints[p] = v

    ctx = _Validator(layout, doc, builder, cols, decoded)
    ctx.check_strings(engine, string_src)
    ctx.check_rows(portfolio, None)

    # Per-symbol rows: symbols with the same overlay stack share rows (most often the portfolio's).
    cache: dict[tuple[int, ...], np.ndarray] = {tuple(id(x) for x in port_layers): portfolio}
    params = np.empty((n_configs, len(syms), layout.n_fields), dtype=np.float64)
    validate = sorted(set(syms) | doc.named_symbols(), key=lambda s: s.encode("utf-8", "surrogatepass"))
    wanted = {s: i for i, s in enumerate(syms)}
    for sym in validate:
        layers = builder.post_layers(sym)
        key = tuple(id(x) for x in layers)
        rows = cache.get(key)
        if rows is None:
            m, v = builder.overlay_vectors(layers)
            rows = np.where(m, v, base)
            ctx.check_rows(rows, sym)
            cache[key] = rows
        i = wanted.get(sym)
        if i is not None:
            params[:, i, :] = rows

    engine_out = {p: (list(v) if isinstance(v, tuple) else v) for p, v in engine.items()}
    return ParamsBatch(layout=layout, symbols=syms, params=params, portfolio=portfolio,
                       engine=engine_out, engine_ints=engine_ints)


class _Validator:
    """Validity rules on effective configs (§10.1), vectorised over configs."""

    def __init__(self, layout: Layout, doc: _Doc, builder: _Builder, cols: np.ndarray, decoded: np.ndarray):
        self.layout = layout
        self.doc = doc
        self.builder = builder
        self.sweep_col = {int(c): k for k, c in enumerate(cols)}
        self.decoded = decoded
        # Columns with a range (float/int); finiteness of every value is already guaranteed by the
        # type rules (YAML) and the decoder (sweep), and the schema's defaults are checked at layout build.
        numeric = (layout.kinds == KIND_FLOAT) | (layout.kinds == KIND_INT)
        self.ranged = np.flatnonzero(numeric & ((layout.lo > -np.inf) | (layout.hi < np.inf)))
        self.lo = layout.lo[self.ranged]
        self.hi = layout.hi[self.ranged]
        self.lo_open = layout.lo_open[self.ranged]
        self.hi_open = layout.hi_open[self.ranged]
        self.pairs = [(layout.index[a], layout.index[b]) for a, b in ORDERED_PAIRS]
        self.signal_col = layout.index[SIGNAL_ON_CLOSE]

    # -- value provenance (error path only) --------------------------------------------------------
    def source(self, path: str, symbol: str | None, config: int):
        """(file, where, native value, from_sweep) of the value a leaf has in one effective config."""
        for layer in reversed(self.builder.post_layers(symbol)):
            if path in layer.values:
                return layer.file, f"{layer.where}.{path}", layer.values[path], False
        col = self.layout.index.get(path)
        if col is not None and col in self.sweep_col:
            x = float(self.decoded[config, self.sweep_col[col]])
            return SWEEP_FILE, f"{path} (config {config})", self._native(col, x), True
        if path in self.doc.global_.values:
            return self.doc.file, f"global.{path}", self.doc.global_.values[path], False
        if col is None:
            return "<defaults>", path, self.layout.string_leaves[path], False
        return "<defaults>", path, self._native(col, float(self.layout.defaults[col])), False

    def _native(self, col: int, x: float):
        k = self.layout.kinds[col]
        if k == KIND_INT:
            return int(x)
        if k == KIND_BOOL:
            return x == 1.0
        if k == KIND_ENUM:
            return self.layout.enum_names[col][int(x)]
        return x

    @staticmethod
    def _scope(symbol: str | None) -> str:
        return "portfolio config" if symbol is None else f"effective config of symbol {symbol!r}"

    # -- rules -------------------------------------------------------------------------------------
    def check_rows(self, rows: np.ndarray, symbol: str | None) -> None:
        v = rows[:, self.ranged]
        with np.errstate(invalid="ignore"):
            bad_range = ((v < self.lo) | (v > self.hi) | (self.lo_open & (v == self.lo))
                         | (self.hi_open & (v == self.hi)) | np.isnan(v))
        range_rows = bad_range.any(axis=1)
        pair_bad = [rows[:, a] > rows[:, b] for a, b in self.pairs]
        signal_bad = rows[:, self.signal_col] != 1.0
        any_bad = range_rows | signal_bad
        for pb in pair_bad:
            any_bad |= pb
        if not any_bad.any():
            return
        c = int(np.argmax(any_bad))
        layout = self.layout
        scope = self._scope(symbol)
        if range_rows[c]:
            col = int(self.ranged[int(np.argmax(bad_range[c]))])
            path = layout.fields[col]
            file, where, value, swept = self.source(path, symbol, c)
            rng = layout.range_text[col] or "(any finite value)"
            raise _fail(file, where, value, f"outside the valid range {rng} ({scope})",
                        f"use a value in {rng}", SweepError if swept else ConfigError)
        for (a, b), pb in zip(self.pairs, pair_bad):
            if pb[c]:
                pa, pbp = layout.fields[a], layout.fields[b]
                src_a = self.source(pa, symbol, c)
                src_b = self.source(pbp, symbol, c)
                # Report the key the user set (sweep first, then a file layer, then a default).
                first, other, op = src_a, src_b, f"must be <= {pbp}"
                if not src_a[3] and (src_b[3] or src_a[0] == "<defaults>"):
                    first, other, op = src_b, src_a, f"must be >= {pa}"
                swept = src_a[3] or src_b[3]
                raise _fail(first[0], first[1], first[2],
                            f"{op} (= {other[2]!r} from {other[0]}: {other[1]}) ({scope})",
                            f"make {pa} <= {pbp}", SweepError if swept else ConfigError)
        if signal_bad[c]:
            file, where, value, swept = self.source(SIGNAL_ON_CLOSE, symbol, c)
            raise _fail(file, where, value, f"must be true: decisions are made on closed candles only ({scope})",
                        f"set {SIGNAL_ON_CLOSE}: true")
        raise AssertionError("unreachable")  # pragma: no cover

    def check_strings(self, engine: Mapping[str, object], src: Mapping[str, _Layer | None]) -> None:
        def where(path: str):
            layer = src.get(path)
            return (layer.file, f"{layer.where}.{path}") if layer is not None else ("<defaults>", path)

        main = engine[MAIN_INTERVAL]
        main_ms = interval_ms(main)  # grammar already enforced per layer; defaults checked here
        if main_ms is None:
            f, w = where(MAIN_INTERVAL)
            raise _fail(f, w, main, "not an interval [1-9][0-9]*[smhd]", "write e.g. 1h")
        for path in SUB_INTERVALS:
            value = engine[path]
            if value == "":
                continue
            ms = interval_ms(value)
            f, w = where(path)
            if ms is None:
                raise _fail(f, w, value, "not an interval [1-9][0-9]*[smhd]", 'write e.g. 5m or ""')
            if ms > main_ms:
                mf, mw = where(MAIN_INTERVAL)
                raise _fail(f, w, value,
                            f"a sub-bar interval must not be longer than the main interval "
                            f"({MAIN_INTERVAL} = {main!r} from {mf}: {mw}) (portfolio config)",
                            f"use an interval of at most {main} or \"\" (off)")
