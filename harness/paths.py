"""Dotted config paths <-> nested documents (the harness's one copy; the engines keep their own)."""
from __future__ import annotations

from collections.abc import Mapping


def set_path(doc: dict, path: str, value: object) -> None:
    """``set_path(d, "trade.sl_atr_mult", 2.0)`` -> ``d["trade"]["sl_atr_mult"] = 2.0``."""
    parts = path.split(".")
    node = doc
    for p in parts[:-1]:
        node = node.setdefault(p, {})
    node[parts[-1]] = value


def nest(flat: Mapping[str, object]) -> dict:
    """``{"trade.sl_atr_mult": 2.0}`` -> ``{"trade": {"sl_atr_mult": 2.0}}``."""
    doc: dict = {}
    for path, value in flat.items():
        set_path(doc, path, value)
    return doc


def flatten(cfg: Mapping, prefix: str = "") -> dict[str, object]:
    """Nested config dict -> ``path -> value`` (lists kept as leaves)."""
    out: dict[str, object] = {}
    for key, value in cfg.items():
        path = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(flatten(value, path + "."))
        else:
            out[path] = value
    return out
