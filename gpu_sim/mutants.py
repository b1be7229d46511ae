"""Test-only mutant builds of the CPU simulation kernel (deliberate divergences for the drift audit).

The harness proves that its audits catch real bugs by running gpu_sim with known defects
(``harness.mutations``). Code-level defects need a kernel built from *patched* source; this module
builds one and touches nothing else: the production kernel (``simulate_cpu``, ``kernel_cuda``, the
disk cache of ``kernel_jit``) is never modified, never rebuilt and never branches on a mutation.
Nothing in production imports this module.

How a mutant kernel is built
----------------------------
* A :class:`SourcePatch` names a registered kernel function, a block of whole statements of its
  source (``old``) and the replacement (``new``). The block must occur exactly once; when an edit of
  the kernel makes it disappear, the build fails with :class:`PatchError` naming the mutation, so a
  stale mutation can never pass silently.
* Many mutations share **one** build (compile time is the cost: ~30 s for the whole chain of
  callers, about the same as a single mutation). Each patched block becomes
  ``if <carrier>[<slot>] == <id>: new else: old`` where ``<carrier>`` is an argument of the function
  (``p`` or ``pp`` — a params row —, ``g_i`` or ``g_f``) and ``<slot>`` the first index past the
  production width of that array (``N_PARAMS``, ``N_GI``, ``N_GF``). The mutant driver widens those
  arrays by one slot holding the selector; production kernel code never reads past its own width,
  and ``init_state`` clears only the production slots, so selector 0 is the production behaviour
  (checked by ``tests/parity/test_mutations.py``).
* Every registered function that (transitively) calls a patched one is re-created from its own code
  with globals pointing at the rebuilt callees (the ``build_cuda`` technique of ``kernel_jit``) and
  compiled with ``njit`` without a disk cache; untouched functions are the production dispatchers.
  The driver is the production ``_simulate_all`` re-created with ``prange`` bound to ``range``
  (sequential: a mutant run is small).
"""
from __future__ import annotations

import inspect
import textwrap
import time
import types
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numba import njit

from gpu_sim import simulate_cpu as _sc
from gpu_sim.kernel_jit import registry
from gpu_sim.kernel_state import N_GF, N_GI, N_PARAMS

__all__ = ["SourcePatch", "PatchError", "MutantKernel", "build_mutant_kernel", "CARRIER_SLOTS"]

#: Selector slot of each carrier argument: one past the production width of its array.
CARRIER_SLOTS = {"p": N_PARAMS, "pp": N_PARAMS, "g_i": N_GI, "g_f": N_GF}


class PatchError(RuntimeError):
    """A mutation's patch no longer applies to the kernel source (update the mutation)."""


@dataclass(frozen=True)
class SourcePatch:
    """Replace the statement block ``old`` of kernel function ``function`` by ``new``.

    ``old``/``new`` are whole statements (any common indentation is removed); ``carrier`` is the
    argument of ``function`` that carries the mutant selector.
    """

    function: str
    old: str
    new: str
    carrier: str = "p"


def _lines(block: str) -> list[str]:
    return textwrap.dedent(block).strip("\n").splitlines()


def function_source(name: str) -> str:
    """The dedented source of registered kernel function ``name`` without its decorators."""
    disp = registry().get(name)
    if disp is None:
        raise PatchError(f"kernel function {name!r} is not registered (renamed or removed?)")
    src = textwrap.dedent(inspect.getsource(disp.py_func))
    lines = src.splitlines()
    start = next((i for i, line in enumerate(lines) if line.startswith("def ")), None)
    if start is None or not lines[start].startswith(f"def {name}("):
        raise PatchError(f"the source of kernel function {name!r} on disk does not match the loaded module "
                         f"(edited since import?); re-run in a fresh process")
    return "\n".join(lines[start:]) + "\n"


def apply_patch(src: str, patch: SourcePatch, selector: int, mutation: str = "") -> str:
    """``src`` with the block of ``patch`` wrapped in the selector branch (exactly one occurrence)."""
    old, new = _lines(patch.old), _lines(patch.new)
    lines = src.splitlines()
    hits = []
    for i in range(len(lines) - len(old) + 1):
        first = lines[i]
        indent = first[:len(first) - len(first.lstrip())]
        block = lines[i:i + len(old)]
        if all(line.startswith(indent) or not line.strip() for line in block) and \
                [line[len(indent):] for line in block] == old:
            hits.append((i, indent))
    if len(hits) != 1:
        raise PatchError(f"mutation {mutation or '?'}: the block to patch occurs {len(hits)} times in "
                         f"{patch.function} (must be exactly once); the kernel changed — update the "
                         f"mutation's `old` text:\n{textwrap.indent(textwrap.dedent(patch.old), '    ')}")
    i, indent = hits[0]
    slot = CARRIER_SLOTS.get(patch.carrier)
    if slot is None:
        raise PatchError(f"mutation {mutation}: carrier {patch.carrier!r} is not one of {sorted(CARRIER_SLOTS)}")
    cond = f"{patch.carrier}[{slot}] == {selector}"
    body = [f"{indent}if {cond}:"] + [f"{indent}    {line}" if line.strip() else "" for line in new]
    body += [f"{indent}else:"] + [f"{indent}    {line}" if line.strip() else "" for line in old]
    return "\n".join(lines[:i] + body + lines[i + len(old):]) + "\n"


def _callers_closure(names: set[str], reg: Mapping[str, object]) -> set[str]:
    deps = {n: {m for m in d.py_func.__code__.co_names if m in reg} for n, d in reg.items()}
    out = set(names)
    changed = True
    while changed:
        changed = False
        for n, ds in deps.items():
            if n not in out and ds & out:
                out.add(n)
                changed = True
    return out


def _njit_like(disp, fn, drop: tuple[str, ...] = ()):
    """``njit`` with the production dispatcher's own options (``inline``, ``error_model``, ``_nrt`` …)."""
    opts = {k: v for k, v in disp.targetoptions.items() if k not in ("nopython", *drop)}
    return njit(**opts)(fn)


@dataclass
class MutantKernel:
    """A compiled mutant driver; ``selectors`` maps mutation name -> selector id (0 = production)."""

    driver: object
    selectors: dict[str, int]
    rebuilt: tuple[str, ...]
    sources: dict[str, str]
    build_seconds: float = 0.0
    compiled: bool = False

    def run(self, args: dict, mutation: str | None, kernel_inputs=None) -> None:
        """Launch on ``args`` (``simulate_cpu.allocate`` output) with the selector of ``mutation``.

        The carrier arrays are widened by one selector slot; outputs are written into ``args``. With
        ``kernel_inputs`` (the ``KernelInputs`` of ``args``) the config-shared tables are left to the
        kernel (see :func:`unshared_tables`).
        """
        sel = 0 if mutation is None else self.selectors[mutation]
        wide = dict(args)
        if kernel_inputs is not None:
            wide.update(unshared_tables(args, kernel_inputs))
        for name in ("params", "portfolio", "g_f", "g_i"):
            a = args[name]
            extra = np.full(a.shape[:-1] + (1,), sel, dtype=a.dtype)
            wide[name] = np.ascontiguousarray(np.concatenate([a, extra], axis=-1))
        t0 = time.perf_counter()
        self.driver(*(wide[name] for name in _sc.KERNEL_ARGS))
        if not self.compiled:
            self.compiled = True
            self.build_seconds += time.perf_counter() - t0


def unshared_tables(args: dict, k) -> dict:
    """Kernel arguments that make the kernel compute every config-shared table itself (the production
    host may precompute tables with production functions — a patched function must run in the launch).
    Empty when this gpu_sim has no shared tables."""
    fn = getattr(_sc, "shared_tables", None)
    if fn is None:
        return {}
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return {}
    if "budget" not in sig.parameters:
        return {}
    return fn(args["params"], args["set_ids"], args["ind"], k, budget=0)


def build_mutant_kernel(patches: Mapping[str, Sequence[SourcePatch]]) -> MutantKernel:
    """One CPU driver in which mutation ``name`` (selector ``i + 1`` in the order given) applies its
    patches. Compilation happens on the first :meth:`MutantKernel.run` (types come from the arguments)."""
    t0 = time.perf_counter()
    reg = registry()
    selectors = {name: i + 1 for i, name in enumerate(patches)}
    by_fn: dict[str, list[tuple[SourcePatch, int, str]]] = {}
    for name, plist in patches.items():
        for p in plist:
            by_fn.setdefault(p.function, []).append((p, selectors[name], name))
    sources: dict[str, str] = {}
    for fn_name, items in by_fn.items():
        src = function_source(fn_name)
        params = inspect.signature(reg[fn_name].py_func).parameters
        for p, sel, mname in items:
            if p.carrier not in params:
                raise PatchError(f"mutation {mname}: {fn_name} has no argument {p.carrier!r} to carry the selector")
            src = apply_patch(src, p, sel, mname)
        sources[fn_name] = src
    rebuild = _callers_closure(set(by_fn), reg)
    built: dict[str, object] = {}
    for name, disp in reg.items():
        if name not in rebuild:
            continue
        py = disp.py_func
        glb = dict(py.__globals__)
        glb.update(built)
        glb["np"] = np
        if name in sources:
            code = compile(sources[name], f"<mutant {name}>", "exec")
            exec(code, glb)  # noqa: S102 - test-only rebuild of a kernel function from patched source
            fn = glb[name]
            if not isinstance(fn, types.FunctionType):
                raise PatchError(f"patched source of {name!r} did not define a plain function")
        else:
            fn = types.FunctionType(py.__code__, glb, py.__name__, py.__defaults__, py.__closure__)
        built[name] = _njit_like(disp, fn)
    drv = _sc._simulate_all.py_func
    glb = dict(drv.__globals__)
    glb.update({"simulate_config": built.get("simulate_config", reg["simulate_config"]), "prange": range})
    driver = _njit_like(_sc._simulate_all, types.FunctionType(drv.__code__, glb, "mutant_simulate_all",
                                                              drv.__defaults__, drv.__closure__), drop=("parallel",))
    return MutantKernel(driver, selectors, tuple(n for n in reg if n in rebuild), sources,
                        build_seconds=time.perf_counter() - t0)
