"""End to end on a tiny synthetic market: sweep (engine_ref evaluator) -> promote, with
* an injected drifting candidate (test-only: the SIM side is the REF run with one fill price moved
  by one ulp) rejected with its first-divergence report while the others promote;
* promoted YAMLs byte-equal to the scored candidates, manifest hashes, and each promoted YAML
  re-loaded by engine_ref (and gpu_sim in the slow test) giving exactly the manifest's metrics;
* load_role's fallback order."""
from __future__ import annotations

import copy
import json
import math
import shutil
from pathlib import Path

import numpy as np
import pytest

from harness.factory.evaluators import METRICS, metrics_row
from harness.factory.gate import TradeParity, compare_runs
from harness.factory.materialise import file_sha256
from harness.factory.pipeline import SweepJob, promote_run, run_sweep_job
from harness.factory.profiles import resolve_profile
from harness.factory.roles import load_role
from harness.replay import RunParams, replay


def _job(tiny_market, run_dir: Path, trials: int = 25, backend: str = "ref") -> SweepJob:
    prof = resolve_profile("smoke", trials=trials, batch_size=8, shortlist_per_mode=3, shortlist_max_rank=10)
    return SweepJob(run_dir, prof, tiny_market["spec"], tiny_market["candles"], tiny_market["base"], backend,
                    workers=1, params=RunParams(lookback=50), progress=False, requested_profile="smoke")


def _mirror(drift_ids: set[str]):
    """Trade-parity hook: SIM = REF, except a 1-ulp fill-price change for the candidates in drift_ids."""
    def hook(yaml_path: Path, ref, ctx) -> TradeParity:
        from harness.factory.materialise import config_id
        sim = copy.deepcopy(ref)
        if config_id(yaml_path, ctx.symbols) in drift_ids and sim.trades:
            sim.trades[0]["price"] = float(np.nextafter(sim.trades[0]["price"], math.inf))
        return compare_runs(ref, sim)
    return hook


@pytest.fixture(scope="module")
def swept(tiny_market, tmp_path_factory) -> Path:
    run = tmp_path_factory.mktemp("factory") / "run"
    res = run_sweep_job(_job(tiny_market, run))
    assert res.index.tolist() == list(range(25))
    return run


def _copy(run: Path, dst: Path) -> Path:
    shutil.copytree(run, dst)
    return dst


@pytest.fixture(scope="module")
def clean(swept: Path, tmp_path_factory):
    """One promotion with a clean (mirror) trade-parity hook."""
    run = _copy(swept, tmp_path_factory.mktemp("clean") / "run")
    out = promote_run(run, trade_parity=_mirror(set()), workers=1,
                      audit_dir=tmp_path_factory.mktemp("audit"))
    return run, out


def test_not_run_trade_parity_is_not_eligible(clean) -> None:
    from harness.factory.gate import not_run_trade_parity, parity_gate
    from harness.factory.promote import decide
    from harness.factory.validate import ReplayContext

    run, out = clean
    meta = json.loads((run / "run.json").read_text())
    ctx = ReplayContext(Path(meta["sweep"]["candles"]), RunParams(**meta["run_params"]), Path(meta["sweep"]["base_yaml"]))
    cands = [copy.deepcopy(c) for c in out.candidates if c.selected]
    for c in cands:
        v = parity_gate(Path(c.yaml_path), ctx.run(Path(c.yaml_path)), ctx, not_run_trade_parity)
        c.gate, c.verified = v.to_json(), v.verified
        assert not v.verified and v.reason == "not verified: trade parity NOT RUN: gpu_sim backend missing"
    roles = decide(cands)
    assert all(isinstance(r, str) and r.startswith("skipped") for r in roles.values())
    assert all("NOT RUN: gpu_sim backend missing" in c.ineligible_reason for c in cands)


def test_drifting_candidate_is_rejected_others_promote(clean, swept: Path, tmp_path: Path) -> None:
    run1, clean_out = clean
    promoted = {r: v for r, v in clean_out.manifest["roles"].items() if not v["skipped"]}
    assert promoted, "the tiny market must give at least one eligible candidate"
    victim = promoted["primary"]["config_id"]

    run2 = _copy(swept, tmp_path / "run2")
    out = promote_run(run2, trade_parity=_mirror({victim}), workers=1)
    roles = out.manifest["roles"]
    assert victim not in {v.get("config_id") for v in roles.values()}
    bad = [c for c in out.candidates if c.selected and c.config_id == victim]
    assert bad and bad[0].rejected and not bad[0].verified
    assert bad[0].gate["trade"]["numeric"] == 1 and bad[0].gate["trade"]["state_machine"] == 0
    assert "record 0: price" in bad[0].gate["trade"]["first_divergence"]
    others = [v for v in roles.values() if not v["skipped"]]
    assert len(others) == min(3, sum(1 for c in clean_out.candidates if c.eligible) - 1)
    text = out.report.read_text()
    assert "trade drift: STATE_MACHINE=0 NUMERIC=1" in text and "first divergence: record 0: price" in text
    assert (run2 / "reports" / "equity.png").stat().st_size > 0
    assert (run2 / "reports" / "convergence.png").stat().st_size > 0
    # the materialised candidates are reproducible byte for byte
    for c in out.candidates:
        assert Path(c.yaml_path).read_bytes() == (run1 / "configs" / Path(c.yaml_path).name).read_bytes()


def test_promoted_files_manifest_and_reload(clean, tiny_market) -> None:
    run, out = clean
    man = json.loads((run / "promoted_configs" / "manifest.json").read_text())
    for key in ("git_revision", "schema_sha256", "data_fingerprint", "run_params", "sweep"):
        assert man[key]
    assert man["sweep"]["seed"] == 42 and man["sweep"]["sampler"] == "tpe"
    params = RunParams(**man["run_params"])
    for role, entry in man["roles"].items():
        if entry["skipped"]:
            continue
        path = run / "promoted_configs" / entry["yaml"]
        assert file_sha256(path) == entry["yaml_sha256"]
        assert path.read_bytes() == (run / entry["source"]["candidate_yaml"]).read_bytes()
        ref = replay("ref", path, tiny_market["candles"], params)
        got = dict(zip(METRICS, metrics_row(ref.metrics)))
        want = {k: (math.inf if v == "inf" else v) for k, v in entry["metrics"].items()}
        assert got == want, role
        assert entry["walk_forward"]["folds"] and entry["stress"]["levels"]


def test_load_role_falls_back_in_order(clean, tmp_path: Path) -> None:
    run, out = clean
    pdir = shutil.copytree(run / "promoted_configs", tmp_path / "promoted")
    got = load_role(pdir, symbols=("BTC",))
    assert got.role == "primary" and got.manager.get_config("BTC")["trade"]
    (pdir / "primary.yaml").write_text((pdir / "primary.yaml").read_text() + "\n# edited\n")
    if not out.manifest["roles"]["fallback"]["skipped"]:
        got = load_role(pdir)
        assert got.role == "fallback" and got.tried[0] == ("primary", "sha256 differs from manifest.json")


@pytest.mark.slow
def test_factory_gpu_sim_gate_and_both_engines_reload(tiny_market, tmp_path: Path) -> None:
    """The real gate (gpu_sim replay per candidate) and a SimEvaluator sweep; both engines reproduce
    the manifest's metrics for every promoted YAML."""
    run = tmp_path / "run"
    res = run_sweep_job(_job(tiny_market, run, trials=25, backend="cpu"))
    assert res.index.tolist() == list(range(25))
    out = promote_run(run, workers=1)
    man = out.manifest
    params = RunParams(**man["run_params"])
    assert any(not r["skipped"] for r in man["roles"].values())
    for entry in man["roles"].values():
        if entry["skipped"]:
            continue
        path = run / "promoted_configs" / entry["yaml"]
        want = {k: (math.inf if v == "inf" else v) for k, v in entry["metrics"].items()}
        for engine in ("ref", "sim"):
            r = replay(engine, path, tiny_market["candles"], params)
            assert dict(zip(METRICS, metrics_row(r.metrics))) == want, engine
