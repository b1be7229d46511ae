"""Load a promoted role for engine_ref's StrategyManager with the fallback order
primary -> fallback -> conservative.

A role is used when its file exists, its sha256 matches ``manifest.json`` (when the manifest lists
it) and engine_ref's StrategyManager loads it (D28 strict load). Each refusal is recorded in
``LoadedRole.tried`` so the caller can log why it fell back.
"""
from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from harness.errors import ConfigError, DriftgateError
from harness.factory.materialise import file_sha256

DEFAULT_ORDER = ("primary", "fallback", "conservative")


@dataclass
class LoadedRole:
    role: str
    path: Path
    manager: object                     # engine_ref.strategy_manager.StrategyManager
    tried: list[tuple[str, str]] = field(default_factory=list)


def load_role(promoted_dir: Path, order: Sequence[str] = DEFAULT_ORDER, *, symbols: Iterable[str] = (),
              mode: str | None = None, run_mode: str = "backtest") -> LoadedRole:
    """The first role of ``order`` that loads; raises ConfigError naming every refusal."""
    from engine_ref.strategy_manager import StrategyManager

    promoted_dir = Path(promoted_dir)
    manifest_path = promoted_dir / "manifest.json"
    roles = {}
    if manifest_path.is_file():
        roles = json.loads(manifest_path.read_text()).get("roles", {})
    tried: list[tuple[str, str]] = []
    for role in order:
        path = promoted_dir / f"{role}.yaml"
        entry = roles.get(role, {})
        if not path.is_file():
            tried.append((role, entry.get("reason", "file missing") if entry.get("skipped") else "file missing"))
            continue
        want = entry.get("yaml_sha256")
        if want and file_sha256(path) != want:
            tried.append((role, "sha256 differs from manifest.json"))
            continue
        try:
            manager = StrategyManager(path, mode=mode, run_mode=run_mode, symbols=tuple(symbols))
        except (ConfigError, DriftgateError) as exc:
            tried.append((role, f"load error: {exc}"))
            continue
        return LoadedRole(role, path, manager, tried)
    detail = "; ".join(f"{r}: {why}" for r, why in tried)
    raise ConfigError(f"{promoted_dir}: no promoted role loads ({detail}); fix: run `driftgate promote` "
                      "or start with the base config")
