"""engine_ref replay speed: symbol-bars per second (not a test; prints measured figures).

Default: 50 synthetic symbols × 365 days of 1h with 3m exit sub-bars, production config
(config/strategy_overrides.yaml with entry sub-bars off, exit sub-bars 3m), one core.
Target (issue 3): under 60 s.

    .venv/bin/python benchmarks/engine_ref_speed.py [--symbols 50] [--days 365] [--sub 3m|none]
"""
from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine_ref.config_loader import load_config_set  # noqa: E402
from engine_ref.engine import run_backtest  # noqa: E402
from harness.data import synth_market  # noqa: E402
from harness.engine_inputs import engine_inputs  # noqa: E402
from harness.schema import REPO_ROOT  # noqa: E402
from harness.yamlio import read_yaml, dump_yaml, write_text_atomic  # noqa: E402


def production_yaml(folder: Path, sub: str | None) -> Path:
    """The shipped YAML with the sub-bar intervals set for this benchmark."""
    doc = read_yaml(REPO_ROOT / "config" / "strategy_overrides.yaml")
    doc["global"]["engine"]["entry_interval"] = ""
    doc["global"]["engine"]["exit_interval"] = sub or ""
    return write_text_atomic(folder / "bench.yaml", dump_yaml(doc))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--symbols", type=int, default=50)
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--sub", default="3m", help="exit sub-bar interval or 'none'")
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    sub = None if args.sub == "none" else args.sub
    t0 = time.perf_counter()
    md = synth_market(n_symbols=args.symbols, days=args.days, seed=args.seed,
                      sub_intervals=(sub,) if sub else (), funding=True)
    inputs = engine_inputs(md, (sub,) if sub else (), funding=True)
    t_gen = time.perf_counter() - t0
    with tempfile.TemporaryDirectory() as tmp:
        cfg = load_config_set(production_yaml(Path(tmp), sub), md.symbols())
    t1 = time.perf_counter()
    res = run_backtest(inputs.main, cfg, sub_bars=inputs.sub_bars or None, funding=inputs.funding)
    secs = time.perf_counter() - t1
    main_bars = sum(len(a["t"]) for a in inputs.main.values())
    sub_bars = sum(len(a["t"]) for per in inputs.sub_bars.values() for a in per.values())
    rss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"engine_ref replay: {args.symbols} symbols x {args.days} days, exit sub-bars {sub or 'off'}, "
          f"production config")
    print(f"  data generation     {t_gen:8.2f} s")
    print(f"  replay              {secs:8.2f} s   (target < 60 s)")
    print(f"  main symbol-bars    {main_bars:>10,}  -> {main_bars / secs:,.0f} symbol-bars/s")
    print(f"  sub-bars            {sub_bars:>10,}  -> {sub_bars / secs:,.0f} sub-bars/s")
    print(f"  trades              {res.metrics['total_trades']:>10,}   records {len(res.trades):,}")
    print(f"  peak RSS            {rss_mib:8.0f} MiB")


if __name__ == "__main__":
    main()
