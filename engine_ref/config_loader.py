"""REF config loader: strict YAML reading, overlay merge and validity rules, as plain dicts.

Implements config-and-axes.md §2-§3 and §10.1: the merge order of D27, strict loading of D28 and D47,
the symbol key rule of D48 and the validity rules of D32, D42, D52 and D53 items 8-10. Sweep overrides
arrive already decoded (D29, §7.1) and are applied as part of ``global``.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError
from ruamel.yaml.nodes import MappingNode, ScalarNode, SequenceNode

from engine_ref.config_schema import (DEFAULTS_SRC, NO_VALUE, SWEEP_SRC, Leaf, Schema, Site, ascii_upper,
                                      check_range, closest_path, coerce_value, format_error, load_schema,
                                      validate_effective)
from harness.errors import ConfigError, SweepError

TOP_LEVEL = ("global", "symbols", "live", "modes")
RUN_MODES = ("backtest", "paper", "dry_live", "live")
LIVE_RUN_MODES = ("live", "dry_live")
RUN_SRC = "<run>"
_MERGE_TAG, _STR_TAG = "tag:yaml.org,2002:merge", "tag:yaml.org,2002:str"
_INT_TAG, _FLOAT_TAG = "tag:yaml.org,2002:int", "tag:yaml.org,2002:float"
_CORE_INT = re.compile(r"[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+")
_CORE_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?"
                         r"|[-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN)")


@dataclass(frozen=True)
class Layer:
    """One validated partial strategy document, flattened to ``path -> native value`` (nulls dropped)."""

    src: str
    prefix: str
    values: Mapping[str, object] = field(default_factory=dict)

    def site(self, path: str) -> Site:
        """The layer-qualified site of ``path`` for error messages."""
        return Site(self.src, self.prefix + path, SweepError if self.src == SWEEP_SRC else ConfigError)


@dataclass(frozen=True)
class Overlay:
    """A ``live`` or ``modes.<MODE>`` block: shorthand = ``glob`` only, nested = ``global`` + ``symbols``."""

    glob: Layer
    symbols: Mapping[str, Layer]


@dataclass(frozen=True)
class ConfigDocument:
    """A parsed, key- and type-checked config file: every layer validated (D47), nothing merged yet."""

    src: str
    raw: object
    glob: Layer
    symbols: Mapping[str, Layer]
    live: Overlay | None
    modes: Mapping[str, Overlay]

    def symbol_keys(self) -> list[str]:
        """Every key of every ``symbols`` block (top level, live, modes), sorted (D48)."""
        keys = set(self.symbols)
        for ov in ([self.live] if self.live else []) + list(self.modes.values()):
            keys.update(ov.symbols)
        return sorted(keys)


@dataclass(frozen=True)
class ConfigSet:
    """Portfolio config plus the effective config of each symbol (independent nested dicts, §3.3)."""

    portfolio: dict
    symbols: dict[str, dict]


EMPTY_DOCUMENT = ConfigDocument(DEFAULTS_SRC, None, Layer(DEFAULTS_SRC, "global."), MappingProxyType({}),
                                None, MappingProxyType({}))


def _doc_error(src: str, what: str, rule: str, fix: str, value: object = NO_VALUE) -> ConfigError:
    return ConfigError(format_error(src, what, value, rule, fix))


def _core_scalar(node: ScalarNode) -> None:
    """Keep only YAML 1.2 core numbers: ruamel also resolves ``1_000`` and ``0b11``; those become strings."""
    core = {_INT_TAG: _CORE_INT, _FLOAT_TAG: _CORE_FLOAT}.get(node.tag)
    if core is not None and core.fullmatch(node.value) is None:
        node.tag = _STR_TAG


def _check_nodes(node: object, src: str, path: str, seen: set[int]) -> None:
    """Reject duplicate keys (naming dotted path and line) and merge keys; core numbers only (D28)."""
    if isinstance(node, ScalarNode):
        _core_scalar(node)
    if id(node) in seen or not isinstance(node, (MappingNode, SequenceNode)):
        return
    seen.add(id(node))
    if isinstance(node, SequenceNode):
        for i, item in enumerate(node.value):
            _check_nodes(item, src, f"{path}[{i}]", seen)
        return
    keys: set[tuple[str, str]] = set()
    for key, value in node.value:
        if isinstance(key, ScalarNode):
            _core_scalar(key)
        ident = (key.tag, key.value) if isinstance(key, ScalarNode) else ("", str(id(key)))
        qpath = f"{path}.{ident[1]}" if path else ident[1]
        line = f"line {key.start_mark.line + 1}"
        if key.tag == _MERGE_TAG:
            raise _doc_error(src, qpath, f"merge key (<<) at {line} is not YAML 1.2 core",
                             "write the keys out")
        if ident in keys:
            raise _doc_error(src, qpath, f"duplicate key at {line} (D28)", "keep one of the two entries")
        keys.add(ident)
        _check_nodes(value, src, qpath, seen)


def parse_yaml_text(text: str, src: str) -> object:
    """Parse YAML 1.2 core (``typ="safe", pure=True``); duplicates, empty stream and null root are errors."""
    yaml = YAML(typ="safe", pure=True)
    try:
        node = yaml.compose(text)
        if node is not None:
            _check_nodes(node, src, "", set())
        raw = None if node is None else yaml.constructor.construct_document(node)
    except YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise _doc_error(src, "<document>", f"invalid YAML{where} ({problem})",
                         "correct the YAML syntax") from None
    except (ValueError, RecursionError) as exc:  # e.g. a 5000-digit integer, pathological nesting
        raise _doc_error(src, "<document>", f"invalid YAML ({type(exc).__name__} {exc})",
                         "correct the YAML") from None
    if raw is None:
        raise _doc_error(src, "<document>", "empty file or null root document (D47)",
                         "write at least `global: {}`, or pass no file for the built-in defaults", None)
    return raw


def read_yaml(yaml_path: str | Path) -> object:
    """Read and parse a config file; every I/O and syntax problem becomes a ConfigError naming the file."""
    src = str(yaml_path)
    try:
        data = Path(yaml_path).read_bytes()
    except FileNotFoundError:
        raise _doc_error(src, "<file>", "config file not found",
                         "check the path, or pass yaml_path=None for the built-in defaults") from None
    except OSError as exc:
        raise _doc_error(src, "<file>", f"cannot read the config file ({exc.strerror})",
                         "check the path and its permissions") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _doc_error(src, "<file>", f"not UTF-8 text ({exc.reason} at byte {exc.start})",
                         "save the file as UTF-8") from None
    return parse_yaml_text(text, src)


def _expect_mapping(node: object, site: Site) -> Mapping:
    if not isinstance(node, dict):
        raise site.error(node, "expected a mapping", "write a mapping (key: value lines) or null")
    for key in node:
        if not isinstance(key, str):
            raise Site(site.src, f"{site.path}.{key!r}").error(key, "keys must be strings", "quote the key")
    return node


def _walk_doc(node: object, tree: Mapping, rel: str, layer: Layer, ctx: tuple[Schema, bool],
              out: dict[str, object]) -> None:
    """Check one (sub)section of a strategy document: known keys, portfolio scope, types (§2.4)."""
    schema, in_symbol = ctx
    for key, value in _expect_mapping(node, layer.site(rel.rstrip("."))).items():
        path, sub = rel + key, tree.get(key)
        site = layer.site(path)
        if sub is None:
            raise site.error(value, "unknown key (D28)",
                             f"did you mean {closest_path(path, schema.known_paths)}?")
        if in_symbol and schema.is_portfolio(path):
            raise site.error(value, "portfolio-scope key inside a symbols block (D27)",
                             f"move {path} to global (or live/modes global)")
        if value is None:
            continue
        if isinstance(sub, Leaf):
            out[path] = coerce_value(sub, value, site)
        else:
            _walk_doc(value, sub, path + ".", layer, ctx, out)


def strategy_layer(node: object, src: str, prefix: str, schema: Schema, in_symbol: bool) -> Layer:
    """Check a strategy document at ``prefix`` (e.g. ``symbols.ETH.``); null = empty layer (§3.3)."""
    if node is None:
        return Layer(src, prefix, MappingProxyType({}))
    values: dict[str, object] = {}
    layer = Layer(src, prefix, values)
    if not isinstance(node, dict):
        raise Site(src, prefix.rstrip(".")).error(node, "expected a mapping (strategy document)",
                                                 "write a mapping of sections or null")
    _walk_doc(node, schema.tree, "", layer, (schema, in_symbol), values)
    return Layer(src, prefix, MappingProxyType(values))


def _symbols_block(node: object, src: str, prefix: str, schema: Schema) -> Mapping[str, Layer]:
    if node is None:
        return MappingProxyType({})
    block = _expect_mapping(node, Site(src, prefix.rstrip(".")))
    return MappingProxyType({sym: strategy_layer(doc, src, f"{prefix}{sym}.", schema, True)
                             for sym, doc in block.items()})


def _overlay(node: object, src: str, prefix: str, schema: Schema) -> Overlay:
    """``live`` / ``modes.<MODE>``: nested form iff the mapping has ``global`` or ``symbols`` (§2.1)."""
    if node is None or not isinstance(node, dict) or not ({"global", "symbols"} & set(node)):
        return Overlay(strategy_layer(node, src, prefix, schema, False), MappingProxyType({}))
    for key, value in node.items():
        if key not in ("global", "symbols"):
            raise Site(src, f"{prefix}{key}").error(
                value, "nested form (with global/symbols) allows no other key (§2.1)",
                f"move it under {prefix}global" if isinstance(key, str) else "remove it")
    return Overlay(strategy_layer(node.get("global"), src, f"{prefix}global.", schema, False),
                   _symbols_block(node.get("symbols"), src, f"{prefix}symbols.", schema))


def _top_level(raw: object, src: str, schema: Schema) -> Mapping:
    top = _expect_mapping(raw, Site(src, "<document>"))
    for key, value in top.items():
        if key not in TOP_LEVEL:
            cands = TOP_LEVEL + tuple("global." + p for p in schema.known_paths)
            raise Site(src, key).error(value, "unknown top-level key (global/symbols/live/modes only; D28)",
                                       f"did you mean {closest_path(key, cands)}?")
    return top


def parse_document(raw: object, src: str, schema: Schema) -> ConfigDocument:
    """Key- and type-check every layer of a parsed file, applied by this run or not (D28, D47)."""
    top = _top_level(raw, src, schema)
    modes_node = top.get("modes")
    modes = {} if modes_node is None else _expect_mapping(modes_node, Site(src, "modes"))
    return ConfigDocument(
        src, raw, strategy_layer(top.get("global"), src, "global.", schema, False),
        _symbols_block(top.get("symbols"), src, "symbols.", schema),
        None if top.get("live") is None else _overlay(top["live"], src, "live.", schema),
        MappingProxyType({name: _overlay(doc, src, f"modes.{name}.", schema) for name, doc in modes.items()}))


def read_document(yaml_path: str | Path | None, schema: Schema) -> ConfigDocument:
    """Read, parse and check a config file; ``None`` = no file = the built-in defaults (D47)."""
    if yaml_path is None:
        return EMPTY_DOCUMENT
    return parse_document(read_yaml(yaml_path), str(yaml_path), schema)


def sweep_layer(overrides: Mapping[str, object] | None, schema: Schema) -> Layer:
    """Check already-decoded sweep values (D29, §7.2): swept path, kind, per-axis range."""
    layer = Layer(SWEEP_SRC, "")
    values: dict[str, object] = {}
    swept = [p for p, lf in schema.leaves.items() if lf.swept]
    for path, value in (overrides or {}).items():
        leaf = schema.leaves.get(path) if isinstance(path, str) else None
        site = layer.site(str(path))
        if leaf is not None and not leaf.swept:
            raise site.error(value, "engine-only key, never swept (D30)", "set it in the YAML file instead")
        if leaf is None:
            raise site.error(value, "unknown sweep path (D29)",
                             f"did you mean {closest_path(str(path), swept)}?")
        if value is None:
            raise site.error(value, "sweep values must be decoded native values", "decode it (D29)")
        values[path] = coerce_value(leaf, value, site)
        check_range(leaf, values[path], site)
    return Layer(SWEEP_SRC, "", MappingProxyType(values))


def _symbol_layer(block: Mapping[str, Layer], symbol: str) -> Layer | None:
    """``symbols.<SYM>``: the exact key, else the ASCII upper-case key (D27, D48)."""
    return block[symbol] if symbol in block else block.get(ascii_upper(symbol))


def _layers(doc: ConfigDocument, symbol: str | None, mode: str | None, run_mode: str,
            sweep: Layer) -> list[Layer]:
    """The overlay stack of D27 above the defaults; without symbol layers for the portfolio config."""
    overlays = ([doc.live] if run_mode in LIVE_RUN_MODES and doc.live else [])
    overlays += [doc.modes[mode]] if mode is not None else []
    stack = [doc.glob, sweep] + ([_symbol_layer(doc.symbols, symbol)] if symbol is not None else [])
    for ov in overlays:
        stack += [ov.glob] + ([_symbol_layer(ov.symbols, symbol)] if symbol is not None else [])
    return [layer for layer in stack if layer is not None]


def _nest(flat: Mapping[str, object]) -> dict:
    """``{"a.b.c": v}`` -> ``{"a": {"b": {"c": v}}}``; lists copied (no shared mutable objects, §3.3)."""
    out: dict = {}
    for path, value in flat.items():
        node, parts = out, path.split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = list(value) if isinstance(value, list) else value
    return out


def effective_config(doc: ConfigDocument, schema: Schema, symbol: str | None, mode: str | None,
                     run_mode: str, sweep: Layer) -> dict:
    """Merge defaults and the D27 stack (null = keep lower layer, §3.3), validate, return a nested dict."""
    defaults = Layer(DEFAULTS_SRC, "")
    values = schema.default_values()
    origins = dict.fromkeys(values, defaults)
    for layer in _layers(doc, symbol, mode, run_mode, sweep):
        values.update(layer.values)
        origins.update(dict.fromkeys(layer.values, layer))
    validate_effective(values, lambda path: origins[path].site(path), schema)
    return _nest(values)


def _check_run(doc: ConfigDocument, mode: str | None, run_mode: str) -> None:
    if run_mode not in RUN_MODES:
        raise Site(RUN_SRC, "run_mode").error(run_mode, "unknown run mode (D22)", f"one of {RUN_MODES}")
    if mode is not None and mode not in doc.modes:
        raise Site(doc.src, f"modes.{mode}").error(mode, "unknown strategy mode (D27; no aliases)",
                                                   f"use one of {sorted(doc.modes)}")


def config_set_from_document(doc: ConfigDocument, schema: Schema, symbols: Iterable[str],
                             mode: str | None, run_mode: str, sweep: Layer) -> ConfigSet:
    """Portfolio config plus every requested and every named symbol's effective config (D48)."""
    _check_run(doc, mode, run_mode)
    wanted = list(symbols)
    for sym in wanted:
        if not isinstance(sym, str) or not sym:
            raise Site(RUN_SRC, "<symbol>").error(sym, "symbol must be a non-empty string",
                                                  "pass e.g. \"BTC\"")
    portfolio = effective_config(doc, schema, None, mode, run_mode, sweep)
    names = sorted(set(wanted) | set(doc.symbol_keys()))
    return ConfigSet(portfolio, {s: effective_config(doc, schema, s, mode, run_mode, sweep) for s in names})


def load_config_set(yaml_path: str | Path | None, symbols: Iterable[str] = (), mode: str | None = None, *,
                    run_mode: str = "backtest", sweep_overrides: Mapping[str, object] | None = None,
                    schema_path: Path | None = None) -> ConfigSet:
    """Load a file (or the defaults) and build the portfolio and per-symbol effective configs (D27, D48)."""
    schema = load_schema(schema_path)
    sweep = sweep_layer(sweep_overrides, schema)
    return config_set_from_document(read_document(yaml_path, schema), schema, symbols, mode, run_mode, sweep)


def load_config(yaml_path: str | Path | None, symbol: str | None = None, mode: str | None = None, *,
                run_mode: str = "backtest", sweep_overrides: Mapping[str, object] | None = None,
                schema_path: Path | None = None) -> dict:
    """Effective config of ``symbol`` (portfolio config when None); the whole file is validated (D48)."""
    cs = load_config_set(yaml_path, () if symbol is None else (symbol,), mode, run_mode=run_mode,
                         sweep_overrides=sweep_overrides, schema_path=schema_path)
    return cs.portfolio if symbol is None else cs.symbols[symbol]
