"""Hypothesis strategies over config documents, built from the schema.

``overlay_documents()`` draws whole YAML documents: partial ``global`` sections, ``symbols``
blocks with case variants of the data symbols (exact, upper-case fallback, keys without data),
``live`` and ``modes`` in shorthand or nested form, ``null`` at leaf, section and document level.
Values are valid for their kind most of the time; with ``invalid=True`` a few leaves get values
that break a rule, so the suite can check that both loaders reject the same documents.
"""
from __future__ import annotations

import math

from hypothesis import strategies as st

from harness.paths import nest
from harness.schema import Axis, Schema, load_schema

DATA_SYMBOLS = ("BTC", "ETH", "kPEPE")
SYMBOL_KEYS = ("BTC", "btc", "ETH", "KPEPE", "kPEPE", "DOGE")


def valid_value(axis: Axis) -> st.SearchStrategy:
    """Values a loader must accept for ``axis`` (before cross-key rules)."""
    if axis.kind == "bool":
        return st.booleans()
    if axis.kind == "enum":
        return st.sampled_from(axis.enum_values).flatmap(
            lambda n: st.sampled_from([n, n.upper(), n.capitalize()]))
    if axis.kind == "str":
        return st.sampled_from(["", "1m", "3m", "5m", "15m"]) if "_interval" in axis.path[7:] \
            else st.sampled_from(["1h", "60m", "30m"])
    if axis.kind == "list[str]":
        return st.lists(st.sampled_from(["DOGE", "pepe", "XRP"]), max_size=2)
    r = axis.range
    lo = r.lo if math.isfinite(r.lo) else -1e6
    hi = min(r.hi, 1e6) if math.isfinite(r.hi) else 1e6
    if axis.kind == "int":
        ints = st.integers(int(math.ceil(lo)), int(min(hi, 500)))
        return st.one_of(ints, ints.map(float))  # integral floats are ints (20.0 -> 20)
    floats = st.floats(lo, hi, allow_nan=False, allow_infinity=False,
                       exclude_min=r.lo_open, exclude_max=r.hi_open)
    return st.one_of(floats, st.integers(int(math.ceil(lo)), int(min(hi, 100))).filter(
        lambda i: r.contains(float(i))))


def invalid_value(axis: Axis) -> st.SearchStrategy:
    """Values a loader must reject for ``axis``."""
    if axis.kind == "bool":
        return st.sampled_from([0, 1, "yes", "true", 0.0])
    if axis.kind == "enum":
        return st.sampled_from(["ultra", 1, 0.0, True])
    if axis.kind == "int":
        return st.sampled_from([2.5, "14", True, math.nan, 2**70])
    if axis.kind == "float":
        return st.sampled_from([math.inf, math.nan, "0.5", True, [1.0]])
    return st.sampled_from([5, {"a": 1}])


@st.composite
def partial_document(draw, schema: Schema | None = None, portfolio_ok: bool = True,
                     invalid: bool = False, max_leaves: int = 8) -> dict | None:
    """A partial strategy document (or ``None``: a null document)."""
    schema = schema or load_schema()
    if draw(st.integers(0, 20)) == 0:
        return None
    pool = [a for a in schema.axes if portfolio_ok or not a.portfolio_scope]
    axes = draw(st.lists(st.sampled_from(pool), max_size=max_leaves, unique_by=lambda a: a.path))
    flat: dict[str, object] = {}
    for a in axes:
        roll = draw(st.integers(0, 9))
        if roll == 0:
            flat[a.path] = None
        elif invalid and roll == 1:
            flat[a.path] = draw(invalid_value(a))
        else:
            flat[a.path] = draw(valid_value(a))
    doc = nest(flat)
    if doc and draw(st.integers(0, 9)) == 0:
        doc[draw(st.sampled_from(sorted(doc)))] = None  # a whole null section
    return doc


@st.composite
def overlay_documents(draw, invalid: bool = False) -> dict:
    """A whole config document with global / symbols / live / modes parts."""
    doc: dict = {"global": draw(partial_document(invalid=invalid))}
    if draw(st.booleans()):
        keys = draw(st.lists(st.sampled_from(SYMBOL_KEYS), max_size=3, unique=True))
        doc["symbols"] = {k: draw(partial_document(portfolio_ok=False, invalid=invalid)) for k in keys}
    if draw(st.booleans()):
        shorthand = draw(partial_document(invalid=invalid))
        nested = {"global": draw(partial_document(invalid=invalid)),
                  "symbols": {"ETH": draw(partial_document(portfolio_ok=False, invalid=invalid))}}
        doc["live"] = draw(st.sampled_from([shorthand, nested]))
    if draw(st.booleans()):
        doc["modes"] = {"primary": draw(partial_document(invalid=invalid)),
                        "flat": draw(partial_document(invalid=invalid))}
    return doc
