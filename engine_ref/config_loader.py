"""REF config loader: strict YAML reading, overlay merge and validity rules, as plain dicts.

Implements config-and-axes.md §2-§3 and §10.1: the merge order of D27, strict loading of D28 and D47,
the symbol key rule of D48 and the validity rules of D32, D42, D52 and D53 items 8-10. Sweep overrides
arrive already decoded (D29, §7.1) and are applied as part of ``global``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Iterable, Mapping

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError
from ruamel.yaml.nodes import MappingNode, ScalarNode, SequenceNode

from engine_ref.config_schema import (MAIN_INTERVAL, NO_VALUE, SUB_BAR_INTERVALS, Leaf, Schema, Site,
                                      ascii_upper, check_range, closest_path, coerce_value,
                                      format_error, interval_ms, load_schema)
from harness.errors import ConfigError, SweepError

TOP_LEVEL = ("global", "symbols", "live", "modes")
RUN_MODES = ("backtest", "paper", "dry_live", "live")
LIVE_RUN_MODES = ("live", "dry_live")
DEFAULTS_SRC, SWEEP_SRC = "<defaults>", "<sweep>"
_MERGE_TAG = "tag:yaml.org,2002:merge"


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

    glob: Layer | None
    symbols: Mapping[str, Layer]


@dataclass(frozen=True)
class ConfigDocument:
    """A parsed, key- and type-checked config file: every layer validated (D47), nothing merged yet."""

    src: str
    raw: object
    glob: Layer | None
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


EMPTY_DOCUMENT = ConfigDocument(DEFAULTS_SRC, None, None, MappingProxyType({}), None, MappingProxyType({}))


def _doc_error(src: str, what: str, rule: str, fix: str, value: object = NO_VALUE) -> ConfigError:
    return ConfigError(format_error(src, what, value, rule, fix))


def _check_nodes(node: object, src: str, path: str, seen: set[int]) -> None:
    """Reject duplicate keys (naming the dotted path) and YAML 1.1 merge keys (D28)."""
    if id(node) in seen:
        return
    seen.add(id(node))
    if isinstance(node, SequenceNode):
        for i, item in enumerate(node.value):
            _check_nodes(item, src, f"{path}[{i}]", seen)
    if not isinstance(node, MappingNode):
        return
    keys: set[tuple[str, str]] = set()
    for key, value in node.value:
        name = key.value if isinstance(key, ScalarNode) else "<complex key>"
        qpath = f"{path}.{name}" if path else str(name)
        line = f"line {key.start_mark.line + 1}"
        if key.tag == _MERGE_TAG:
            raise _doc_error(src, f"{qpath} ({line})", "merge keys (<<) are not YAML 1.2 core",
                             "write the keys out explicitly")
        if isinstance(key, ScalarNode) and (key.tag, key.value) in keys:
            raise _doc_error(src, f"{qpath} ({line})", "duplicate key (D28)", "keep one of the two entries")
        keys.add((key.tag, key.value) if isinstance(key, ScalarNode) else ("", str(id(key))))
        _check_nodes(value, src, qpath, seen)


def parse_yaml_text(text: str, src: str) -> object:
    """Parse YAML 1.2 core (``typ="safe", pure=True``); duplicates, empty stream and null root are errors."""
    yaml = YAML(typ="safe", pure=True)
    try:
        node = yaml.compose(text)
        if node is not None:
            _check_nodes(node, src, "", set())
        raw = yaml.load(text)
    except YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"<document> (line {mark.line + 1}, column {mark.column + 1})" if mark else "<document>"
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise _doc_error(src, where, f"invalid YAML: {problem}", "correct the YAML syntax") from None
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


def strategy_layer(node: object, src: str, prefix: str, schema: Schema, in_symbol: bool) -> Layer | None:
    """Validate a strategy document at ``prefix`` (e.g. ``symbols.ETH.``); None for a null document."""
    if node is None:
        return None
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
    layers = {sym: strategy_layer(doc, src, f"{prefix}{sym}.", schema, True) for sym, doc in block.items()}
    return MappingProxyType({sym: lay for sym, lay in layers.items() if lay is not None})
