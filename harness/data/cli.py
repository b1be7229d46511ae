"""``driftgate data`` subcommands: ``synth`` (write a synthetic market) and ``info`` (describe a file).

The top-level CLI wires these in with :func:`add_data_parser`; every handler takes the parsed
``argparse.Namespace`` and returns an exit code (0 ok, 2 data error, message on stderr).
Times printed are open times ``t`` / close times ``t + interval_ms`` in ms with their UTC ISO form.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from collections.abc import Sequence
from typing import TextIO

from harness.data.intervals import interval_ms
from harness.data.loaders import load_market, stored_intervals, write_market
from harness.data.market import MarketData
from harness.data.synth import synth_market
from harness.data.validate import fmt_t
from harness.errors import DataError

__all__ = ["add_data_parser", "cmd_info", "cmd_synth", "describe", "main"]


def _interval_list(text: str) -> tuple[str, ...]:
    """``"3m,5m,15m"`` → ``("3m", "5m", "15m")``; empty text → no sub-bars."""
    items = tuple(x.strip() for x in text.split(",") if x.strip())
    for x in items:
        try:
            interval_ms(x, "--sub-intervals")
        except DataError as e:
            raise argparse.ArgumentTypeError(str(e)) from None
    return items


def add_data_parser(subparsers) -> argparse.ArgumentParser:
    """Register ``data synth`` and ``data info`` on ``subparsers`` (from ``add_subparsers()``)."""
    p = subparsers.add_parser("data", help="market data: generate synthetic data, describe a data file",
                              description="Market-data tools (DECISIONS.md D33, D39-D41, D53).")
    sp = p.add_subparsers(dest="data_command", required=True, metavar="{synth,info}")
    s = sp.add_parser("synth", help="write a seeded synthetic market (.sqlite, .csv or .json)")
    s.add_argument("--symbols", type=int, default=20, help="number of symbols, BTC first (default 20)")
    s.add_argument("--days", type=int, default=365, help="length in days (default 365)")
    s.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    s.add_argument("--out", required=True, help="output file: .sqlite/.db (all), .csv (+ .funding.csv), .json")
    s.add_argument("--sub-intervals", type=_interval_list, default=("3m", "5m", "15m"),
                   help="comma-separated sub-bar intervals (default 3m,5m,15m; '' for none)")
    s.add_argument("--main-interval", default="1h", help="main bar interval (default 1h)")
    s.add_argument("--start-ms", type=int, default=1704067200000, help="first open time in ms (default 2024-01-01)")
    s.add_argument("--no-funding", action="store_true", help="generate no funding rows")
    s.set_defaults(func=cmd_synth)
    i = sp.add_parser("info", help="print symbols, bars, intervals, gaps and fingerprint of a data file")
    i.add_argument("path", help="a .json, .sqlite/.db or .csv market-data file")
    i.add_argument("--main-interval", default=None,
                   help="main interval (default: recorded in the store, else the longest stored, else 1h)")
    i.add_argument("--max-gaps", type=int, default=10, help="gaps to list (default 10)")
    i.set_defaults(func=cmd_info)
    return p


def _fail(e: DataError) -> int:
    print(f"driftgate data: error: {e}", file=sys.stderr)
    return 2


def cmd_synth(args: argparse.Namespace) -> int:
    """Generate a synthetic market and write it atomically to ``args.out``."""
    try:
        t0 = time.perf_counter()
        md = synth_market(n_symbols=args.symbols, days=args.days, seed=args.seed,
                          sub_intervals=tuple(args.sub_intervals), main_interval=args.main_interval,
                          start_ms=args.start_ms, funding=not args.no_funding)
        t1 = time.perf_counter()
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)  # a fresh clone has no data/ yet
        path = write_market(md, args.out)
    except DataError as e:
        return _fail(e)
    bars = ", ".join(f"{iv}: {n}" for iv, n in md.n_bars().items())
    print(f"wrote {path}: {len(md.main)} symbols, bars {bars}, "
          f"{sum(len(t) for t, _ in md.funding.values())} funding rows "
          f"(generated in {t1 - t0:.2f} s, written in {time.perf_counter() - t1:.2f} s)")
    print(f"fingerprint {md.fingerprint()}")
    return 0


def _choose_intervals(path: str, main: str | None) -> tuple[str, tuple[str, ...]]:
    """Main interval and the shorter stored intervals to load as sub-bars."""
    stored, recorded = stored_intervals(path)
    main = main or recorded or (stored[-1] if stored else "1h")
    length = interval_ms(main, "--main-interval")
    return main, tuple(iv for iv in stored if interval_ms(iv) < length)


def describe(md: MarketData, out: TextIO, max_gaps: int = 10) -> None:
    """Write a human-readable summary of ``md`` to ``out``."""
    print(f"source: {md.source}", file=out)
    print(f"main interval: {md.main_interval}; sub-bar intervals: {list(md.sub) or 'none'}", file=out)
    print(f"symbols ({len(md.main)}): {' '.join(md.main)}", file=out)
    for iv, group in [(md.main_interval, md.main), *md.sub.items()]:
        print(f"bars {iv}: {sum(len(s) for s in group.values())} over {len(group)} symbols", file=out)
        for sym, s in group.items():
            span = (f"first open {fmt_t(int(s.t[0]))}, last close {fmt_t(int(s.t[-1]) + s.interval_ms)}"
                    if len(s) else "empty")
            print(f"  {sym:<12} {len(s):>9} bars  {span}", file=out)
    rows = sum(len(t) for t, _ in md.funding.values())
    print(f"funding: {rows} rows over {len(md.funding)} symbols", file=out)
    print(f"gaps: {len(md.gaps)}", file=out)
    for g in md.gaps[:max_gaps]:
        print(f"  {g.symbol} {g.interval}: {g.missing_bars} missing between {fmt_t(g.after_t)} "
              f"and {fmt_t(g.before_t)}", file=out)
    if len(md.gaps) > max_gaps:
        print(f"  ... {len(md.gaps) - max_gaps} more", file=out)
    print(f"fingerprint: {md.fingerprint()}", file=out)


def cmd_info(args: argparse.Namespace) -> int:
    """Load, validate and describe the market-data file ``args.path``."""
    try:
        main, subs = _choose_intervals(args.path, args.main_interval)
        md = load_market(args.path, main_interval=main, sub_intervals=subs)
    except DataError as e:
        return _fail(e)
    describe(md, sys.stdout, args.max_gaps)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Stand-alone entry (``python -m harness.data.cli data info x.sqlite``)."""
    parser = argparse.ArgumentParser(prog="driftgate")
    add_data_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
