"""Candidate YAMLs with zero mutation (D36(b)) and their config_id (D53.15).

The candidate file is the base YAML with each decoded native value (the one decoder, D29) written
under ``global.<path>`` — booleans ``true/false``, enums as names, ints as integers, floats with a
decimal point (harness.yamlio). Because the sweep layer sits directly above ``global`` (D27),
re-loading the file gives exactly the effective configs the sweep evaluated; the factory tests
prove it through both engines' loaders (harness.config_parity).

``config_id`` = sha256 of the canonical JSON (sorted keys, separators ``(",", ":")``,
``ensure_ascii``, floats as Python's shortest round-trip ``repr``) of the effective config per
symbol, symbols in ascending order (``{"<SYM>": {...}, ...}``) [D53.15]. It identifies what is
traded, so two files that load to the same configs share an id; ``yaml_sha256`` (bytes) is
recorded beside it.
"""
from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Iterable, Mapping
from pathlib import Path

from harness.paths import set_path
from harness.yamlio import dump_yaml, read_yaml, write_text_atomic


def canonical_json(obj: object) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False)


def materialise_text(base_yaml: Path | None, decoded: Mapping[str, object], header: str = "") -> str:
    """YAML text of the base document with ``decoded`` written under ``global.<path>``."""
    doc = copy.deepcopy(read_yaml(Path(base_yaml))) if base_yaml is not None else {}
    if doc is None:
        doc = {}
    glob = doc.setdefault("global", {})
    if glob is None:
        glob = doc["global"] = {}
    for path, value in decoded.items():
        set_path(glob, path, value)
    return dump_yaml(doc, header)


def write_candidate(path: Path, base_yaml: Path | None, decoded: Mapping[str, object], header: str = "") -> Path:
    return write_text_atomic(path, materialise_text(base_yaml, decoded, header))


def effective_configs(yaml_path: Path | None, symbols: Iterable[str], mode: str | None = None,
                      run_mode: str = "backtest", sweep_overrides: Mapping[str, object] | None = None) -> dict:
    """engine_ref's effective config per symbol (every universe symbol and every named one)."""
    from engine_ref.config_loader import load_config_set

    cs = load_config_set(yaml_path, tuple(symbols), mode, run_mode=run_mode, sweep_overrides=sweep_overrides)
    return {s: cs.symbols[s] for s in sorted(cs.symbols)}


def config_id(yaml_path: Path | None, symbols: Iterable[str], mode: str | None = None,
              run_mode: str = "backtest", sweep_overrides: Mapping[str, object] | None = None) -> str:
    """D53.15 identity of a config file (or base + sweep overrides) on a symbol universe."""
    doc = effective_configs(yaml_path, symbols, mode, run_mode, sweep_overrides)
    return hashlib.sha256(canonical_json(doc).encode("ascii")).hexdigest()


def file_sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()
