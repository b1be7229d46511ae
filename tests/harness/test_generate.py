"""The all-non-default generator: every leaf differs from its default, values valid, seeded."""
from __future__ import annotations

import pytest

from harness.paths import flatten
from harness.generate import PROFILES, all_non_default_doc
from harness.schema import load_schema


@pytest.mark.parametrize("profile", PROFILES)
def test_every_leaf_non_default(profile: str) -> None:
    schema = load_schema()
    glob = flatten(all_non_default_doc(3, profile)["global"])
    assert set(glob) == {a.path for a in schema.axes}
    same = [a.path for a in schema.axes if glob[a.path] == a.default]
    if profile == "flip":
        assert same == ["engine.signal_on_candle_close"]  # false is a load error (D30)
    for a in schema.axes:
        if a.kind in ("float", "int"):
            assert a.range.contains(float(glob[a.path])), a.path


def test_profiles_force_parents() -> None:
    on = flatten(all_non_default_doc(1, "parents_on")["global"])
    off = flatten(all_non_default_doc(1, "parents_off")["global"])
    bools = [a.path for a in load_schema().swept if a.kind == "bool"]
    assert all(on[p] is True for p in bools) and all(off[p] is False for p in bools)


def test_seeded_and_overlays_present() -> None:
    a, b = all_non_default_doc(7), all_non_default_doc(7)
    assert a == b and a != all_non_default_doc(8)
    assert set(a) == {"global", "symbols", "live", "modes"}
    assert "KPEPE" in a["symbols"] and "DOGE" in a["symbols"]
