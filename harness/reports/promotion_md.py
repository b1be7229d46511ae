"""``promotion.md``: the factory run's candidates, verdicts, roles and two plots (matplotlib Agg).

Written to ``<run_dir>/reports/`` (``promotion.md``, ``promotion.json``, ``equity.png``,
``convergence.png``) and, when asked, copied to an audit folder (``audit_reports/``). Drawdowns are
fractions in every artefact; the rendered table shows them as percentages.
"""
from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import numpy as np

from harness.replay import _json_safe
from harness.yamlio import write_text_atomic


def _f(x: object, nd: int = 2) -> str:
    if x is None:
        return "n/a"
    x = float(x)  # type: ignore[arg-type]
    if math.isnan(x):
        return "n/a"
    if math.isinf(x):
        return "+inf" if x > 0 else "-inf"
    return f"{x:,.{nd}f}"


def _folds(c) -> str:
    wf = c.walk_forward
    if not wf:
        return "n/a"
    pos = sum(1 for f in wf["folds"] if f["total_pnl"] > 0)
    return f"{pos}/{len(wf['folds'])} +, med {wf['median_daily_return'] * 100:.3f}%/d"


def _stress(c) -> str:
    st = c.stress
    if not st:
        return "n/a"
    lv = ", ".join(f"{x['slippage_bps']:g}bp {x['total_pnl']:,.0f}" for x in st["levels"])
    return f"{lv}{' FLIP' if st['flip'] else ''}"


def _drift(c) -> str:
    g = c.gate
    if not g:
        return "n/a"
    t = g["trade"]
    if g["config_drifts"]:
        return f"CONFIG DRIFT ({len(g['config_drifts'])})"
    if t["status"] == "pass":
        return "zero drift"
    if t["status"] == "drift":
        return f"DRIFT SM={t['state_machine']} NUM={t['numeric']}"
    if t["status"] == "not_run":
        return "config ok; trade NOT RUN"
    return f"trade {t['status']}"


def plot_equity(run_dir: Path, roles: dict, out: Path) -> Path | None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    promoted = [(r, c) for r, c in roles.items() if not isinstance(c, str)]
    fig, ax = plt.subplots(figsize=(9, 4.5))
    for role, c in promoted:
        doc = json.loads((run_dir / c.replay_path).read_text())
        curve = np.array(doc["equity_curve"], dtype=np.float64)
        if len(curve):
            ax.plot((curve[:, 0] - curve[0, 0]) / 86_400_000, curve[:, 1], label=f"{role}: {c.config_id[:12]}")
    if not promoted:
        ax.text(0.5, 0.5, "no promoted configs", ha="center", va="center", transform=ax.transAxes)
    ax.set_xlabel("days since start")
    ax.set_ylabel("equity [USD]")
    ax.set_title("Equity curves of the promoted configs (engine_ref, full data)")
    if promoted:
        ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out


def plot_convergence(sweep, out: Path) -> Path:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(9, 4))
    best = sweep.best_curve()
    finite = np.isfinite(sweep.scores)
    ax.scatter(sweep.index[finite], sweep.scores[finite], s=3, alpha=0.25, label="trial score")
    ok = np.isfinite(best)
    ax.plot(sweep.index[ok], best[ok], color="C3", label="best so far")
    ax.set_xlabel("trials (sweep index)")
    ax.set_ylabel("sweep score")
    ax.set_title("Sweep convergence: best score vs trials")
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out


def render(sweep, cands: list, roles: dict, manifest: dict) -> str:
    sel = [c for c in cands if c.selected]
    lines = ["# Promotion report", ""]
    sm = manifest.get("sweep", {})
    lines += [f"Run `{manifest.get('run_id')}` · git `{manifest.get('git_revision')}` · profile "
              f"`{manifest.get('profile')}` · sampler `{sm.get('sampler')}` seed {sm.get('seed')} batch "
              f"{sm.get('batch_size')} · backend `{sm.get('backend')}` · {len(sweep.index)} trials "
              f"({len(sweep.errors)} did not load) · symbols {', '.join(manifest.get('symbols', []))}", ""]
    lines += ["## Roles", ""]
    for role, c in roles.items():
        if isinstance(c, str):
            lines.append(f"- **{role}**: {c}")
        else:
            lines.append(f"- **{role}**: `{c.stem}` (config_id `{c.config_id[:12]}`) — PnL {_f(c.pnl)} USD, "
                         f"max DD {_f(c.dd * 100)} %, PF {_f(c.pf)}")
    n_elig = sum(1 for c in sel if c.eligible)
    if n_elig < 3:
        lines.append(f"\nOnly {n_elig} candidate(s) eligible: roles are distinct, the rest are skipped (§9.5).")
    lines += ["", "## Candidates", "",
              "| candidate | config_id | score_v1 | PnL [USD] | max DD [%] | PF | trades | folds | stress (PnL) | drift verdict | role |",
              "|---|---|---:|---:|---:|---:|---:|---|---|---|---|"]
    for c in sel:
        score = None if c.score is None else c.score["score_v1"]
        lines.append(f"| {c.stem} | `{c.config_id[:12]}` | {_f(score, 6)} | {_f(c.pnl)} | {_f(c.dd * 100)} | "
                     f"{_f(c.pf)} | {int(c.metrics.get('total_trades', 0))} | {_folds(c)} | {_stress(c)} | "
                     f"{_drift(c)} | {c.role or '—'} |")
    deduped = [c for c in cands if c.deduped]
    lines += ["", f"Shortlist: {len(sel)} selected, {len(deduped)} deduplicated (same config_id as an earlier "
              "pick), modes in order with one shared seen-set (§2.4)."]
    lines += ["", "## Why candidates were not promoted", ""]
    why = [c for c in sel if not c.role]
    if not why:
        lines.append("Every shortlisted candidate was promoted.")
    for c in why:
        reason = c.ineligible_reason or "eligible, but the distinct roles went to better candidates"
        lines.append(f"- `{c.stem}` (`{c.config_id[:12]}`): {reason}")
        g = c.gate or {}
        first = (g.get("trade") or {}).get("first_divergence")
        if first:
            lines.append(f"  - first divergence: {first}")
    lines += ["", "## Walk-forward folds", "", "| candidate | fold | window (UTC days) | PnL [USD] | max DD [%] | trades | daily return [%] |",
              "|---|---:|---|---:|---:|---:|---:|"]
    for c in sel:
        for f in (c.walk_forward or {}).get("folds", []):
            lines.append(f"| {c.stem} | {f['fold']} | {f['days']:.1f} d from {f['from_ts']} | {_f(f['total_pnl'])} | "
                         f"{_f(f['max_drawdown'] * 100)} | {f['total_trades']} | {_f(f['daily_return'] * 100, 4)} |")
    lines += ["", "## Plots", "", "![equity curves of the promoted configs](equity.png)", "",
              "![sweep convergence](convergence.png)", ""]
    return "\n".join(lines) + "\n"


def write_promotion_report(run_dir: Path, sweep, cands: list, roles: dict, manifest: dict,
                           audit_dir: Path | None = None) -> Path:
    from dataclasses import asdict

    rep = Path(run_dir) / "reports"
    rep.mkdir(parents=True, exist_ok=True)
    plot_equity(Path(run_dir), roles, rep / "equity.png")
    plot_convergence(sweep, rep / "convergence.png")
    md = write_text_atomic(rep / "promotion.md", render(sweep, cands, roles, manifest))
    write_text_atomic(rep / "promotion.json", json.dumps(_json_safe({"items": [asdict(c) for c in cands]}),
                                                         indent=1, sort_keys=True) + "\n")
    if audit_dir is not None:
        audit_dir = Path(audit_dir)
        audit_dir.mkdir(parents=True, exist_ok=True)
        for name in ("promotion.md", "equity.png", "convergence.png"):
            shutil.copyfile(rep / name, audit_dir / name)
    return md
