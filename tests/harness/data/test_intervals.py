"""D39 interval grammar and lengths."""
from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.data.intervals import INT64_MAX, UNIT_MS, IntervalError, interval_ms, is_interval, same_length
from harness.errors import DataError


@pytest.mark.parametrize("s, ms", [("1s", 1_000), ("3m", 180_000), ("5m", 300_000), ("15m", 900_000),
                                   ("1h", 3_600_000), ("60m", 3_600_000), ("4h", 14_400_000),
                                   ("1d", 86_400_000), ("90s", 90_000), ("106751991167d", 106751991167 * 86_400_000)])
def test_valid_lengths(s: str, ms: int) -> None:
    assert interval_ms(s) == ms
    assert is_interval(s)


@pytest.mark.parametrize("s", ["05m", "1H", "3M", " 3m", "3m ", "0m", "-1m", "+1m", "3", "m", "3mm", "1.5h",
                               "", "\uff13m", "3m\n", "1w", "1 h"])
def test_grammar_rejects(s: str) -> None:
    with pytest.raises(IntervalError) as e:
        interval_ms(s, "engine.interval")
    assert repr(s) in str(e.value) and "engine.interval" in str(e.value) and "Fix:" in str(e.value)
    assert not is_interval(s)


def test_int64_range() -> None:
    n = INT64_MAX // 86_400_000 + 1
    with pytest.raises(IntervalError, match="int64"):
        interval_ms(f"{n}d")


@pytest.mark.parametrize("bad", [3, None, 1.0, b"3m"])
def test_non_string(bad: object) -> None:
    with pytest.raises(IntervalError, match="not a string"):
        interval_ms(bad)  # type: ignore[arg-type]


def test_error_types_and_length_comparison() -> None:
    assert issubclass(IntervalError, DataError) and issubclass(IntervalError, ValueError)
    assert same_length("60m", "1h") and same_length("3600s", "1h") and not same_length("3m", "5m")



@given(st.text(max_size=8))
def test_any_text_parses_only_by_the_grammar(s: str) -> None:
    ok = re.fullmatch(r"[1-9][0-9]*[smhd]", s) is not None and not s.endswith("\n")
    try:
        ms = interval_ms(s)
    except IntervalError:
        assert not ok or int(s[:-1]) * UNIT_MS[s[-1]] > INT64_MAX
    else:
        assert ok and ms == int(s[:-1]) * UNIT_MS[s[-1]]


@given(st.integers(1, 10**6), st.sampled_from("smhd"))
def test_lengths(n: int, unit: str) -> None:
    assert interval_ms(f"{n}{unit}") == n * UNIT_MS[unit]
