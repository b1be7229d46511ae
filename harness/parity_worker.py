"""Run trade-parity cases on one gpu_sim backend in this process and print JSON verdicts.

Used for backends that need their own process: ``cudasim`` must set NUMBA_ENABLE_CUDASIM=1 before
numba.cuda is imported. ``python -m harness.parity_worker --backend cudasim --cases shared/defaults``.
"""
from __future__ import annotations

import argparse
import json
import sys

from harness.engines import ref_run, sim_runs
from harness.parity_cases import default_cases, generated_cases, market
from harness.trade_parity import compare, describe


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--backend", default="cpu")
    ap.add_argument("--cases", default="", help="comma-separated case names (default: all default cases)")
    ap.add_argument("--generated", type=int, default=0, help="also run N generated all-non-default configs")
    args = ap.parse_args(argv)
    cases = default_cases() + (generated_cases(args.generated) if args.generated else [])
    wanted = {c for c in args.cases.split(",") if c}
    out = []
    for case in cases:
        if wanted and case.name not in wanted:
            continue
        inputs = market(case.market)
        ref = ref_run(case.yaml_path, inputs, case.run)
        sim = sim_runs(case.yaml_path, inputs, case.run, backend=args.backend)[0]
        v = compare(ref, sim)
        out.append({"case": case.name, "class": v.klass, "records": v.n_ref, "detail": describe(v)})
    json.dump(out, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
