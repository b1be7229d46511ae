"""``sensitivity.md`` and ``sensitivity.png``: the behavioural dead-axis audit (one row per swept axis).

Pure functions: ``AxisRow`` rows (``harness.sensitivity``) in, markdown / PNG bytes out.
"""
from __future__ import annotations

import io
import math
from collections.abc import Mapping, Sequence

from tabulate import tabulate

from harness.sensitivity import DEAD, DRIFTING, LIVE, AxisRow, counts, summary_line

MARK = {LIVE: "LIVE ✓", DEAD: "DEAD ✗", DRIFTING: "DRIFTING ✗"}


def _num(x: float | None, fmt: str) -> str:
    return "-" if x is None else format(x, fmt)


def axis_table(rows: Sequence[AxisRow]) -> str:
    body = []
    for i, r in enumerate(rows, 1):
        src = r.chosen.source if r.chosen else (r.trials[0].source if r.trials else "-")
        body.append([i, f"`{r.axis}`", r.values or "-", _num(r.d_trades, "+.0f"), _num(r.d_pnl, "+.2f"),
                     MARK[r.status], src, r.note])
    return tabulate(body, ["#", "axis", "values tried (A→B)", "Δtrades", "ΔPnL [USD]", "status", "evidence",
                           "note"], tablefmt="github", disable_numparse=True)


def section_counts(rows: Sequence[AxisRow]) -> str:
    secs: dict[str, list[AxisRow]] = {}
    for r in rows:
        secs.setdefault(r.axis.rsplit(".", 1)[0], []).append(r)
    body = [[s, len(rs)] + [sum(r.status == k for r in rs) for k in (LIVE, DEAD, DRIFTING)]
            for s, rs in secs.items()]
    return tabulate(body, ["section", "axes", LIVE, DEAD, DRIFTING], tablefmt="github")


def render_sensitivity_md(rows: Sequence[AxisRow], meta: Mapping[str, object] | None = None,
                          plot: str | None = None) -> str:
    meta = meta or {}
    c = counts(rows)
    ok = c[LIVE] == len(rows)
    verdict = f"PASS ✅ {len(rows)}/{len(rows)} LIVE" if ok else f"FAIL ✗ {c[DEAD]} DEAD, {c[DRIFTING]} DRIFTING"
    parts = ["# Sensitivity: behavioural dead-axis audit", "", f"**{summary_line(rows)}** — {verdict}", ""]
    parts += [f"- {k}: {v}" for k, v in meta.items()] + [""]
    parts += [
        "For each swept axis of the registry a value pair A→B is run on both engines: **LIVE** when "
        "engine_ref's trade log changes and gpu_sim's logs equal engine_ref's for both values (records, "
        "equity curve, final balance, metrics, bit-exact); **DRIFTING** when gpu_sim differs for any value "
        "tried; **DEAD** when no pair changes anything — the axis scenarios first, then a seeded search over "
        "synthetic data with grid value pairs (D53.12). Δtrades = closed trades B − A, ΔPnL = final balance "
        "B − A (engine_ref, USD), for the pair shown as evidence.", "",
        "## 1. Counts by section", "", section_counts(rows), "",
        "## 2. Every swept axis", "", axis_table(rows), "",
    ]
    bad = [r for r in rows if r.status == DRIFTING]
    parts += ["## 3. Drifting axes: first divergence", ""]
    if not bad:
        parts += ["None.", ""]
    for r in bad:
        rep = r.drift
        parts += [f"### `{r.axis}`", "", "```"] + (rep.first.lines() if rep and rep.first else
                                                     [rep.short() if rep else "?"]) + ["```", ""]
    dead = [r for r in rows if r.status == DEAD]
    if dead:
        parts += ["## 4. Dead axes", ""] + [f"- `{r.axis}`: tried {r.values or 'nothing'}" for r in dead] + [""]
    if plot:
        parts += ["## Plot", "", f"![ΔPnL per axis]({plot})", ""]
    return "\n".join(parts)


def sensitivity_png(rows: Sequence[AxisRow]) -> bytes:
    """|ΔPnL| of the evidence pair per axis (symlog), coloured by status."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    colours = {LIVE: "tab:green", DEAD: "tab:gray", DRIFTING: "tab:red"}
    fig, ax = plt.subplots(figsize=(14, 4.5), dpi=100)
    xs = list(range(len(rows)))
    ys = [abs(r.d_pnl) if r.d_pnl is not None and math.isfinite(r.d_pnl) else 0.0 for r in rows]
    ax.bar(xs, ys, color=[colours[r.status] for r in rows], width=0.8)
    bad = [i for i, r in enumerate(rows) if r.status != LIVE]
    if bad:                          # DEAD / DRIFTING axes marked on the axis line, whatever their ΔPnL
        ax.scatter(bad, [0.0] * len(bad), marker="x", s=60, color=[colours[rows[i].status] for i in bad], zorder=3)
    ax.set_yscale("symlog", linthresh=1.0)
    ax.set_ylim(bottom=0.0, top=max([10.0] + ys) * 2)
    ax.set_xlabel("swept axis (registry order)")
    ax.set_ylabel("|ΔPnL| of the evidence pair [USD]")
    c = counts(rows)
    ax.set_title(f"sensitivity: {c[LIVE]} LIVE, {c[DEAD]} DEAD, {c[DRIFTING]} DRIFTING of {len(rows)} axes")
    from matplotlib.patches import Patch

    ax.legend(handles=[Patch(color=col, label=k) for k, col in colours.items()])
    ax.grid(axis="y", alpha=0.3)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()
