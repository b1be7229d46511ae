"""Harness audits that need no second engine: causality (D3 truncation invariance, indicator
lookahead) and the recursive-warm-up audit. Engines compute rows here; ``harness.reports.causality_md``
prints them."""
from harness.audits.causality import (CUT_KINDS, RUNNERS, Cut, CutResult, IndicatorCut, Runner, Violation,
                                      bit_equal, causality_audit, causality_suite, choose_cuts, compare_truncated,
                                      indicator_lookahead, main_closes, main_interval_ms, make_runner, run_ref)
from harness.audits.warmup import (DEFAULT_STARTS, INDICATORS, REL_TOL, SpotCheck, WarmupDetail, WarmupRow,
                                   WindowSet, convergence, default_windows, largest_grid_windows, ref_spot_check,
                                   summarise, warmup_audit, warmup_details)

__all__ = [
    "CUT_KINDS", "DEFAULT_STARTS", "INDICATORS", "REL_TOL", "RUNNERS", "Cut", "CutResult", "IndicatorCut",
    "Runner", "SpotCheck", "Violation", "WarmupDetail", "WarmupRow", "WindowSet", "bit_equal",
    "causality_audit", "causality_suite", "choose_cuts", "compare_truncated", "convergence",
    "default_windows", "indicator_lookahead", "largest_grid_windows", "main_closes", "main_interval_ms",
    "make_runner", "ref_spot_check", "run_ref", "summarise", "warmup_audit", "warmup_details",
]
