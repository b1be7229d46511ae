"""gpu_sim: the numba sweep simulator (SIM) — typed config loader and float64 params layout.

Written independently of engine_ref (no imports either way); shares only config/schema.csv, the
YAML files and the arrays the harness hands it.
"""
from gpu_sim.config_loader import ParamsBatch, load_params
from gpu_sim.layout import Layout, load_layout
from gpu_sim.sweep_decode import decode_codes

__all__ = ["Layout", "ParamsBatch", "decode_codes", "load_layout", "load_params"]
