"""engine_ref: the reference engine (REF) — readable pure Python, dict configs, bar by bar.

Written independently of gpu_sim (no imports either way); shares only config/schema.csv, the YAML
files and the arrays the harness hands it. From harness it imports exception types only.
"""
from engine_ref.config_loader import ConfigSet, load_config, load_config_set
from engine_ref.strategy_manager import Snapshot, StrategyManager

__all__ = ["ConfigSet", "Snapshot", "StrategyManager", "load_config", "load_config_set"]
