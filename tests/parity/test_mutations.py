"""The harness catches real bugs: deliberate divergences of gpu_sim (``harness.mutations``) are flagged
by the audit part they belong to, with a first-divergence report that names the right place.

Default suite: the catalogue, the patch mechanism, every cheap mutation (param / host level, no
kernel build) one test each, and every code-level mutation in *one* test (one mutant build, ~30–50 s
of compilation, shared by all of them) that also checks that the mutant build without a mutation is
production gpu_sim. Nightly (``slow``): each code mutation on its own, and the whole ``driftgate
audit`` against every mutation.
"""
from __future__ import annotations

import pytest

from gpu_sim.mutants import PatchError, SourcePatch, apply_patch, build_mutant_kernel, function_source
from harness.mutations import LEVELS, SimEngine, catalogue, check_mutation, mutant_kernel, probe_case
from harness.trade_parity import ZERO, compare, describe

pytestmark = pytest.mark.parity
ALL = list(catalogue())
CHEAP = [n for n, m in catalogue().items() if not m.needs_build]
CODE = [n for n, m in catalogue().items() if m.needs_build]


def _report(c) -> str:
    return f"{c.mutation}: flagged={c.flagged} class={c.klass} mismatches={c.mismatches}\n{c.text}"


def test_catalogue_has_ten_documented_mutations_at_every_level() -> None:
    cat = catalogue()
    assert len(cat) >= 10
    assert {m.level for m in cat.values()} == set(LEVELS)
    for m in cat.values():
        assert m.doc and m.expect.part in ("config parity", "trade parity", "sensitivity"), m.name
        assert m.expect.probe.split(":")[0] in ("config", "trade", "axis"), m.name
        assert m.expect.place, f"{m.name}: a mutation must say where the report points"
        assert (m.level == "code") == m.needs_build, m.name


def test_patch_wraps_the_block_in_a_selector_branch() -> None:
    src = function_source("pesc_blocked")
    patch = SourcePatch("pesc_blocked", "return (tau - ct) < trunc_i(cd * 60000.0)", "return False")
    out = apply_patch(src, patch, 7, "t")
    assert "if p[" in out and "] == 7:" in out and "return False" in out
    assert out.count("return (tau - ct) < trunc_i(cd * 60000.0)") == 1


def test_a_stale_patch_is_refused_with_the_mutation_named() -> None:
    src = function_source("pesc_blocked")
    with pytest.raises(PatchError, match="stale-one"):
        apply_patch(src, SourcePatch("pesc_blocked", "return tau < 0", "return False"), 1, "stale-one")
    with pytest.raises(PatchError, match="to carry the selector"):
        build_mutant_kernel({"x": (SourcePatch("pesc_blocked", "return (tau - ct) < trunc_i(cd * 60000.0)",
                                               "return False", carrier="g_i"),)})


@pytest.mark.parametrize("name", CHEAP)
def test_cheap_mutation_is_flagged_at_the_right_place(name: str) -> None:
    c = check_mutation(name)
    assert c.ok, _report(c)


def test_code_mutations_are_flagged_at_the_right_place() -> None:
    """One mutant build for all code-level mutations; selector 0 is production gpu_sim."""
    from harness.engines import ref_run

    case = probe_case("shipped/-")
    ref = ref_run(case.yaml_path, case.inputs, case.run)
    prod = SimEngine().run(case.yaml_path, case.inputs, case.run)
    kernel = mutant_kernel()
    sel0 = _mutant_run(kernel, case, None)
    assert compare(prod, sel0).klass == ZERO, describe(compare(prod, sel0))
    assert compare(ref, sel0).klass == ZERO
    failures = []
    for name in CODE:
        c = check_mutation(name)
        if not c.ok:
            failures.append(_report(c))
    assert not failures, "\n\n".join(failures)


def _mutant_run(kernel, case, mutation):
    """The mutant build's run of ``case`` with ``mutation``'s selector (None: 0)."""
    from gpu_sim.simulate_cpu import allocate, result_from
    from harness.engines import _sim_metrics
    from harness.trade_parity import EngineRun

    prep = SimEngine().prepare(case.yaml_path, case.inputs, case.run)
    args = allocate(prep.batch.params, prep.batch.portfolio, prep.sets.set_ids, prep.ind, prep.kernel_inputs)
    kernel.run(args, mutation, prep.kernel_inputs)
    res = result_from(args, prep.kernel_inputs, True)
    return EngineRun("mutant0", res.records(0), res.equity_curve(0), float(res.metrics_of(0)["final_balance"]),
                     bool(res.overflow[0]), metrics=_sim_metrics(res.metrics_of(0)))


@pytest.mark.slow
@pytest.mark.parametrize("name", CODE)
def test_code_mutation_is_flagged_at_the_right_place(name: str) -> None:
    c = check_mutation(name)
    assert c.ok, _report(c)


@pytest.mark.slow
@pytest.mark.audit
@pytest.mark.parametrize("name", ALL)
def test_driftgate_audit_flags_every_mutation(name: str, tmp_path) -> None:
    from harness.audit import AuditConfig, run_audit

    m = catalogue()[name]
    res = run_audit(AuditConfig(out=tmp_path, mutation=name, parts=("config", "trade", "sensitivity")), echo=None)
    assert not res.ok
    assert m.expect.part in res.failures, (res.failures, res.lines)
