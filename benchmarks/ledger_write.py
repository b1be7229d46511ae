"""Study-ledger write cost per finished trial (not a test; prints measured figures).

Appends ``--batches`` batches of ``--batch-size`` realistic sweep records (the full_144v space:
148 axes, the compact ``x`` index string, 9 metrics, ~5 % FAIL records) through ``TrialLog`` to

* the default journal file (one ``append_logs`` per batch),
* a SQLite RDB file and a PostgreSQL database (a ``LocalPostgres`` this script starts on loopback,
  fsync on, and removes at the end): the bulk path (one transaction per batch) and, for comparison,
  optuna's plain ``study.add_trials`` (one transaction per trial),

and reports write ms/trial, trials/s and the read-back time (open a fresh ``TrialLog`` + ``load()``):
``optuna`` = ``load()`` through ``study.get_trials`` (the journal's path, and the RDB fallback),
``bulk`` = ``load()`` through ``_rdb_bulk_load`` (SQLAlchemy Core on optuna's tables; RDB default).
Plain ``add_trials`` runs ``--plain-batches`` batches (default: all) — its cost per trial grows with
the study, so fewer batches flatter it.

    .venv/bin/python benchmarks/ledger_write.py [--batches 20] [--batch-size 256] [--plain-batches N]
        [--params] [--skip-pg]
"""
from __future__ import annotations

import argparse
import contextlib
import shutil
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from harness.factory import storage as storage_mod  # noqa: E402
from harness.factory.space import make_space  # noqa: E402
from harness.factory.storage import TrialLog, TrialRecord  # noqa: E402
from harness.schema import REPO_ROOT  # noqa: E402
from harness.sweep_spec import load_sweep_spec  # noqa: E402

SPEC = REPO_ROOT / "sweeps" / "full_144v.yaml"


def make_batches(space, batches: int, size: int, seed: int = 0) -> list[list[TrialRecord]]:
    """Grid records with random index rows; every 20th a load error (an optuna FAIL trial)."""
    rng = np.random.default_rng(seed)
    out, i = [], 0
    for _ in range(batches):
        idx = rng.integers(0, space.sizes, size=(size, space.n_axes))
        codes = space.codes(idx)
        batch = []
        for k in range(size):
            rec = TrialRecord(i, codes=codes[k], idx=idx[k], metrics=[float(v) for v in rng.normal(size=9)],
                              score=float(rng.normal()))
            if i % 20 == 19:
                rec.error, rec.score = "load failed: synthetic", None
            batch.append(rec)
            i += 1
        out.append(batch)
    return out


@contextlib.contextmanager
def via_get_trials():
    """``TrialLog.load`` forced through ``study.get_trials`` (as when the bulk reader declines)."""
    saved = storage_mod._rdb_bulk_load
    storage_mod._rdb_bulk_load = lambda *a: None
    try:
        yield
    finally:
        storage_mod._rdb_bulk_load = saved


def timed_load(url: str, meta: dict, space, n: int, optuna_path: bool) -> tuple[float, list[int]]:
    with via_get_trials() if optuna_path else contextlib.nullcontext():
        t0 = time.perf_counter()
        back = TrialLog(url, meta, space, ("space_hash",)).load()
        took = time.perf_counter() - t0
    assert len(back) == n, f"{url}: read back {len(back)} of {n} trials"
    return took, list(back)


def measure(url: str, space, batches: list[list[TrialRecord]], plain: bool, params: bool) -> dict:
    meta = {"space_hash": space.space_hash(), "seed": 0}
    log = TrialLog(url, meta, space, ("space_hash",))
    n, t0 = 0, time.perf_counter()
    for batch in batches:
        if plain:
            log.study.add_trials([log._frozen(r, params) for r in batch])
        else:
            log.append(batch, record_params=params)
        n += len(batch)
    write = time.perf_counter() - t0
    load, keys = timed_load(url, meta, space, n, optuna_path=True)
    bulk = None
    if not url.startswith("journal:"):
        bulk, bulk_keys = timed_load(url, meta, space, n, optuna_path=False)
        assert bulk_keys == keys
    return {"trials": n, "write_s": write, "load_s": load, "bulk_load_s": bulk}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--batches", type=int, default=20)
    ap.add_argument("--batch-size", type=int, default=256)
    ap.add_argument("--plain-batches", type=int, default=None, help="batches for plain add_trials (default: all)")
    ap.add_argument("--params", action="store_true", help="also record the 148 axes as optuna params")
    ap.add_argument("--skip-pg", action="store_true", help="no PostgreSQL rows")
    args = ap.parse_args()

    import optuna
    from tabulate import tabulate

    space = make_space(load_sweep_spec(SPEC))
    batches = make_batches(space, args.batches, args.batch_size)
    plain_batches = batches[: args.plain_batches or len(batches)]
    work = Path(tempfile.mkdtemp(prefix="driftgate-ledger-bench-"))
    rows, pg, pg_version = [], None, "-"
    try:
        cases = [("journal file", "bulk (append_logs)", f"journal:{work / 'study.journal'}", False),
                 ("sqlite", "bulk (1 txn/batch)", f"sqlite:///{work / 'bulk.db'}", False),
                 ("sqlite", "study.add_trials", f"sqlite:///{work / 'plain.db'}", True)]
        if not args.skip_pg:
            from harness.factory.pg_local import LocalPostgres, ensure_pg_installed

            ensure_pg_installed()
            pg = LocalPostgres(work / "pg").start()
            pg_version = pg._psql("postgres", "SHOW server_version")
            cases += [("postgresql", "bulk (1 txn/batch)", pg.database_url("bulk"), False),
                      ("postgresql", "study.add_trials", pg.database_url("plain"), True)]
        for storage, path, url, plain in cases:
            r = measure(url, space, plain_batches if plain else batches, plain, args.params)
            bulk = r["bulk_load_s"]
            rows.append([storage, path, r["trials"], 1000 * r["write_s"] / r["trials"], r["trials"] / r["write_s"],
                         r["load_s"], r["trials"] / r["load_s"],
                         "-" if bulk is None else f"{bulk:.2f}", "-" if bulk is None else f"{r['trials'] / bulk:,.0f}"])
            print(f"  {storage:12s} {path:20s} done", file=sys.stderr, flush=True)
    finally:
        if pg is not None:
            pg.destroy()
        shutil.rmtree(work, ignore_errors=True)
    print(f"{args.batches} batches x {args.batch_size} records, {space.n_axes} axes, 9 metrics, "
          f"params={'on' if args.params else 'off'}; optuna {optuna.__version__}, SQLite {sqlite3.sqlite_version}, "
          f"PostgreSQL {pg_version} (local, loopback TCP, fsync on)")
    print(tabulate(rows, headers=["storage", "write path", "trials", "write ms/trial", "write trials/s",
                                  "open+load s (optuna)", "load trials/s (optuna)", "open+load s (bulk)",
                                  "load trials/s (bulk)"],
                   floatfmt=("", "", "d", ".3f", ",.0f", ".2f", ",.0f"), colalign=("left", "left") + ("right",) * 7))


if __name__ == "__main__":
    main()
