"""Run directories: ``runs/<UTC date>/<run id>/`` holding the study, candidates, replays, reports
and ``promoted_configs/``; ``run.json`` records what is needed to reproduce the run.

Layout::

    run.json              args, profile, seeds, sampler, git revision, schema hash, input hashes
    inputs/               copies of the base YAML and the sweep spec (and the candles when small)
    study.journal         optuna storage of the sweep (default; --storage may point elsewhere)
    configs/              candidate_<mode>_rank<N>.yaml (every scanned rank)
    replays/              <candidate>.replay.json (engine_ref, full data)
    validation/           <candidate>.json (walk-forward folds, slippage stress, score_v1)
    parity/               <candidate>.json (config + trade parity verdicts)
    reports/              promotion.md, promotion.json, equity.png, convergence.png
    promoted_configs/     primary.yaml, fallback.yaml, conservative.yaml, manifest.json
"""
from __future__ import annotations

import datetime as _dt
import hashlib
import json
import secrets
import shutil
import subprocess
from pathlib import Path

from harness.schema import REPO_ROOT, SCHEMA_PATH
from harness.yamlio import write_text_atomic

COPY_CANDLES_MAX_BYTES = 64 * 1024 * 1024


def new_run_dir(root: Path = Path("runs"), run_id: str | None = None, now: _dt.datetime | None = None) -> Path:
    now = now or _dt.datetime.now(_dt.timezone.utc)
    rid = run_id or f"run_{now.strftime('%Y%m%dT%H%M%SZ')}_{secrets.token_hex(3)}"
    return Path(root) / now.strftime("%Y-%m-%d") / rid


def git_revision() -> str:
    try:
        rev = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True,
                             timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=REPO_ROOT,
                               capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return f"{rev}{'+dirty' if dirty else ''}" if rev else "unknown"


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with Path(path).open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def schema_hash() -> str:
    return sha256_file(SCHEMA_PATH)


def copy_inputs(run_dir: Path, base_yaml: Path | None, spec: Path, candles: Path) -> dict:
    """Copy the inputs into ``inputs/`` (candles only when small) and return their hashes."""
    inputs = Path(run_dir) / "inputs"
    inputs.mkdir(parents=True, exist_ok=True)
    out: dict = {}
    for key, src in (("base_yaml", base_yaml), ("sweep_spec", spec), ("candles", candles)):
        if src is None:
            out[key] = None
            continue
        src = Path(src)
        entry = {"source": str(src), "sha256": sha256_file(src)}
        dst = inputs / src.name
        if key != "candles" or src.stat().st_size <= COPY_CANDLES_MAX_BYTES:
            if src.resolve() != dst.resolve():
                shutil.copyfile(src, dst)
            entry["copy"] = str(dst.relative_to(run_dir))
        out[key] = entry
    return out


def read_meta(run_dir: Path) -> dict:
    path = Path(run_dir) / "run.json"
    return json.loads(path.read_text()) if path.is_file() else {}


def update_meta(run_dir: Path, **sections: object) -> dict:
    """Merge top-level sections into ``run.json`` (atomic rewrite)."""
    meta = read_meta(run_dir)
    meta.update(sections)
    write_text_atomic(Path(run_dir) / "run.json", json.dumps(meta, indent=1, sort_keys=True, default=str) + "\n")
    return meta
