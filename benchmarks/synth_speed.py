"""Time and memory of the synthetic generator (one process per case, single-threaded numpy).

Usage: ``python benchmarks/synth_speed.py [SYMBOLSxDAYS:SUBS ...] [--write DIR]``, e.g.
``python benchmarks/synth_speed.py 20x365:3m 50x365:3m 20x365:3m,5m,15m``. For each case it prints the
generation time, the bytes held by the result's arrays (shared time arrays counted once), the
process's peak RSS, and with ``--write`` the SQLite write and load times.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys

_CHILD = r"""
import json, os, resource, sys, tempfile, time
from harness.data.loaders import load_sqlite, write_sqlite
from harness.data.synth import synth_market
n, days, subs, write_dir = int(sys.argv[1]), int(sys.argv[2]), tuple(x for x in sys.argv[3].split(",") if x), sys.argv[4]
t0 = time.perf_counter()
md = synth_market(n_symbols=n, days=days, sub_intervals=subs)
out = {"generate_s": round(time.perf_counter() - t0, 2), "bars": md.n_bars()}
seen, held = set(), 0
for group in [md.main, *md.sub.values()]:
    for s in group.values():
        for a in (s.t, s.t_close, s.o, s.h, s.l, s.c, s.v, s.n):
            base = a.base if a.base is not None else a
            if id(base) not in seen:
                seen.add(id(base)); held += base.nbytes
out["arrays_mib"] = round(held / 2**20)
t0 = time.perf_counter(); fp = md.fingerprint(); out["fingerprint_s"] = round(time.perf_counter() - t0, 2)
if write_dir:
    path = os.path.join(write_dir, f"bench_{n}x{days}.sqlite")
    t0 = time.perf_counter(); write_sqlite(md, path); out["sqlite_write_s"] = round(time.perf_counter() - t0, 2)
    out["sqlite_mib"] = round(os.path.getsize(path) / 2**20)
    del md
    t0 = time.perf_counter(); back = load_sqlite(path, "1h", subs); out["sqlite_load_s"] = round(time.perf_counter() - t0, 2)
    out["round_trip_equal"] = back.fingerprint() == fp
    os.remove(path)
out["peak_rss_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
print(json.dumps(out))
"""


def main(argv: list[str]) -> int:
    write_dir = ""
    if "--write" in argv:
        i = argv.index("--write")
        write_dir = argv[i + 1]
        argv = argv[:i] + argv[i + 2:]
    cases = argv or ["20x365:3m", "50x365:3m"]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    for case in cases:
        size, _, subs = case.partition(":")
        n, days = size.split("x")
        res = subprocess.run([sys.executable, "-c", _CHILD, n, days, subs, write_dir], env=env,
                             capture_output=True, text=True, check=False)
        result = json.loads(res.stdout) if res.returncode == 0 else {"error": res.stderr[-2000:]}
        print(f"{case}: {json.dumps(result)}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
