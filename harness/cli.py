"""``driftgate`` command line. Engines compute, reporters print: this module only parses
arguments, calls the harness and prints summary lines. Expected failures (bad config, bad data,
drift) print one clear ``error:`` line and exit 2; drift exits 1.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from harness.errors import DriftgateError

DEFAULT_OUT = Path("audit_reports")


def cmd_config_audit(args: argparse.Namespace) -> int:
    """Config parity + axis SSOT reports (issue: foundation)."""
    from harness.config_audit import AuditInputs, coverage_gaps, run_config_audit
    from harness.reports.config_md import render_axis_ssot, render_config_parity
    from harness.schema import load_schema
    from harness.yamlio import write_text_atomic

    schema = load_schema()
    outcome = run_config_audit(AuditInputs(args.configs, args.sweep_rows, args.seed))
    res = outcome.result
    gaps = coverage_gaps(outcome.coverage)
    summary = (f"config parity: {res.cases} configs, {len(res.drifts)} drifts, "
               f"{len(schema.swept)} swept axes")
    out = Path(args.out)
    write_text_atomic(out / "axis_ssot.md", render_axis_ssot(schema, outcome.coverage, gaps))
    write_text_atomic(out / "config_parity.md",
                      render_config_parity(summary, outcome.case_rows, res.drifts))
    print(summary)
    if gaps:
        print(f"coverage gaps: {len(gaps)} (see {out / 'axis_ssot.md'})")
    for d in res.drifts[:5]:
        print(f"  drift {d.case} [{d.scope}] {d.path}: engine_ref={d.ref_value} gpu_sim={d.sim_value}")
    print(f"reports: {out / 'axis_ssot.md'}, {out / 'config_parity.md'}")
    return 0 if not res.drifts and not gaps else 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="driftgate", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    ca = sub.add_parser("config-audit", help="config parity of both loaders + axis SSOT reports")
    ca.add_argument("--out", default=str(DEFAULT_OUT), help="report folder (default audit_reports/)")
    ca.add_argument("--configs", type=int, default=200, help="generated all-non-default YAMLs (≥ 200)")
    ca.add_argument("--sweep-rows", type=int, default=50, help="seeded full_144v rows as sweep overrides")
    ca.add_argument("--seed", type=int, default=0)
    ca.set_defaults(func=cmd_config_audit)
    try:
        from harness.data.cli import add_data_parser
    except ImportError:  # pragma: no cover - data layer not installed
        pass
    else:
        add_data_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except DriftgateError as exc:
        print(f"error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
