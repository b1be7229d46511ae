"""``parity.md`` and ``parity_equity.png``: the trade-parity part of ``driftgate audit``.

Pure functions: ``DriftReport`` rows (``harness.first_divergence``) in, markdown / PNG bytes out.
Sections: summary (classes × families), one row per config, the first divergence of every drifting
config (up to a limit), and the equity curves of both engines overlaid for the worst config.
"""
from __future__ import annotations

import io
from collections.abc import Mapping, Sequence

from tabulate import tabulate

from harness.first_divergence import CLASSES, SEVERITY, DriftReport, utc

MAX_DETAILS = 20


def family(name: str) -> str:
    return name.split("/")[0] if "/" in name else name.split("-")[0]


def worst(reports: Sequence[DriftReport]) -> DriftReport | None:
    """The drifting config of highest severity (CONFIG > STATE_MACHINE > NUMERIC > OVERFLOW), then the
    largest final-balance difference; with no drift, the config with the most records."""
    def key(r: DriftReport):
        dbal = abs(r.ref.final_balance - r.sim.final_balance) if r.ref and r.sim else 0.0
        n = len(r.ref.trades) if r.ref else 0
        return (SEVERITY.get(r.klass, 0), dbal, n)
    ok = [r for r in reports if r.ref is not None and r.sim is not None]
    return max(ok, key=key) if ok else None


def class_table(reports: Sequence[DriftReport]) -> str:
    fams = list(dict.fromkeys(family(r.case) for r in reports))
    rows = []
    for f in fams:
        mine = [r for r in reports if family(r.case) == f]
        rows.append([f, len(mine)] + [sum(r.klass == k for r in mine) for k in CLASSES])
    rows.append(["**all**", len(reports)] + [sum(r.klass == k for r in reports) for k in CLASSES])
    return tabulate(rows, ["family", "configs", *CLASSES], tablefmt="github")


def config_rows(reports: Sequence[DriftReport]) -> str:
    rows = []
    for r in reports:
        n = len(r.ref.trades) if r.ref else "-"
        fb = f"{r.ref.final_balance:.2f}" if r.ref else "-"
        rows.append([r.case, n, fb, r.klass, "" if r.klass == "ZERO" else r.short()[:160]])
    return tabulate(rows, ["config", "records", "final balance (engine_ref)", "class", "first divergence"],
                    tablefmt="github", disable_numparse=True)


def summary_line(reports: Sequence[DriftReport]) -> str:
    d = [r for r in reports if r.drift]
    by = ", ".join(f"{k} {sum(r.klass == k for r in reports)}" for k in CLASSES[1:])
    line = f"trade parity: {len(reports)} configs, {len(d)} drifting ({by})"
    if d:
        line += f"; first: {d[0].case}: {d[0].short()[:200]}"
    return line


def render_parity_md(reports: Sequence[DriftReport], meta: Mapping[str, object] | None = None,
                     plot: str | None = None) -> str:
    meta = meta or {}
    drifting = [r for r in reports if r.drift]
    w = worst(reports)
    verdict = "PASS ✅ zero drift" if not drifting else f"FAIL ✗ {len(drifting)} drifting configs"
    parts = ["# Trade parity: engine_ref vs gpu_sim", "", f"**{summary_line(reports)}** — {verdict}", ""]
    parts += [f"- {k}: {v}" for k, v in meta.items()] + [""]
    parts += ["Zero drift (factory-and-audits.md §9.3): identical effective configs (CONFIG otherwise), "
              "identical trade logs record by record with floats bit-equal (STATE_MACHINE for a different "
              "event sequence, NUMERIC for a different amount), equal equity curves, final balances and "
              "metrics. Tolerance: none (`harness/tolerance.py`).", "",
              "## 1. Configs × drift class", "", class_table(reports), "",
              "## 2. Every config", "", config_rows(reports), ""]
    parts += ["## 3. First divergences", ""]
    if not drifting:
        parts += ["None: every config is ZERO.", ""]
    for r in drifting[:MAX_DETAILS]:
        parts += [f"### {r.case} — {r.klass}", "", "```"]
        parts += (r.first.lines() if r.first else [r.short()]) + ["```", ""]
    if len(drifting) > MAX_DETAILS:
        parts += [f"… {len(drifting) - MAX_DETAILS} more drifting configs (see the table).", ""]
    parts += ["## 4. Equity curves, worst config", ""]
    if w is not None:
        why = "highest drift class, then largest final-balance difference" if drifting else \
            "no drift: the config with the most records"
        parts += [f"Config **{w.case}** ({w.klass}; {why}). engine_ref solid, gpu_sim dashed"
                  + (f"; the first divergence at {utc(w.first.time_ms)} is marked." if w.first and
                     w.first.time_ms else "."), ""]
        if plot:
            parts += [f"![equity curves of both engines]({plot})", ""]
    return "\n".join(parts)


def equity_png(report: DriftReport) -> bytes:
    """PNG of both engines' equity curves (engine_ref solid, gpu_sim dashed) of one config."""
    import matplotlib

    matplotlib.use("Agg")
    from datetime import datetime, timezone

    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(10, 4.5), dpi=100)
    for run, style in ((report.ref, "-"), (report.sim, "--")):
        if run is None or not run.equity_curve:
            continue
        label = "engine_ref" if run is report.ref else (
            f"gpu_sim ({run.engine})" if run.engine in ("cpu", "cuda", "cudasim") else run.engine)
        xs = [datetime.fromtimestamp(t / 1000, tz=timezone.utc) for t, _ in run.equity_curve]
        ax.plot(xs, [e for _, e in run.equity_curve], style, linewidth=1.2, label=label)
    if report.first is not None and report.first.time_ms:
        ax.axvline(datetime.fromtimestamp(report.first.time_ms / 1000, tz=timezone.utc), color="red",
                   linewidth=0.8, label="first divergence")
    ax.set_title(f"{report.case}: {report.klass}")
    ax.set_ylabel("equity [USD]")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.autofmt_xdate()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()
