"""``driftgate audit`` argument parsing (wired into ``harness.cli.build_parser`` by the lead):

    from harness.audit_cli import add_audit_parser
    add_audit_parser(sub)      # in build_parser(), after the other sub-parsers

Exit codes follow ``harness.cli``: 0 pass, 1 any drift / dead or drifting axis / causality violation,
2 a bad config or data (``DriftgateError``, printed by ``cli.main``).
"""
from __future__ import annotations

import argparse
from pathlib import Path


def cmd_audit(args: argparse.Namespace) -> int:
    from harness.audit import PARTS, AuditConfig, run_audit

    parts = tuple(p.strip() for p in args.parts.split(",") if p.strip()) if args.parts else PARTS
    cfg = AuditConfig.make(args.nightly, out=Path(args.out), seed=args.seed, mutation=args.mutation, parts=parts,
                           candles=Path(args.candles) if args.candles else None)
    return 0 if run_audit(cfg).ok else 1


def add_audit_parser(subparsers) -> argparse.ArgumentParser:
    """Add ``audit`` to ``driftgate``'s sub-parsers; returns the parser."""
    from harness.audit import PARTS

    p = subparsers.add_parser("audit", help="config parity + trade parity + sensitivity + causality, with reports",
                              description="Run every parity audit on seeded synthetic data; one summary line "
                                          "per part; exit 1 on any drift, dead axis or causality violation.")
    p.add_argument("--nightly", action="store_true", help="the large nightly sizes (more configs, rows, cuts; "
                                                          "warm-up table)")
    p.add_argument("--out", default="audit_reports", help="report folder (default audit_reports/)")
    p.add_argument("--seed", type=int, default=0, help="seed of generated configs, sweep rows and cuts")
    p.add_argument("--parts", help=f"comma-separated subset of {','.join(PARTS)} (default: all)")
    p.add_argument("--candles", help="also run trade parity of the defaults and the shipped YAML on this candles "
                                     "file (e.g. data/demo.sqlite; default: seeded synthetic data only)")
    p.add_argument("--mutation", help="TEST-ONLY: run against gpu_sim with this deliberate divergence "
                                      "(harness.mutations; `driftgate audit --list-mutations`)")
    p.add_argument("--list-mutations", action="store_true", help="print the test-only mutations and exit")
    p.set_defaults(func=_dispatch)
    return p


def _dispatch(args: argparse.Namespace) -> int:
    if args.list_mutations:
        from harness.mutations import catalogue

        for m in catalogue().values():
            print(f"{m.name:42s} {m.level:6s} {m.doc}")
        return 0
    return cmd_audit(args)


def main(argv: list[str] | None = None) -> int:
    """``python -m harness.audit_cli`` (same as ``driftgate audit`` once wired)."""
    import sys

    from harness.errors import DriftgateError

    parser = argparse.ArgumentParser(prog="driftgate")
    sub = parser.add_subparsers(dest="command", required=True)
    add_audit_parser(sub)
    args = parser.parse_args(["audit", *(sys.argv[1:] if argv is None else argv)])
    try:
        return int(args.func(args))
    except DriftgateError as exc:
        print(f"error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
