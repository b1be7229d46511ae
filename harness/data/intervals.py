"""Interval strings (DECISIONS.md D39).

Grammar: ``[1-9][0-9]*[smhd]`` over the whole string — lower-case unit, no sign, no leading zero, no
spaces, ASCII digits only. The length in milliseconds is ``n × 1 000`` (s), ``60 000`` (m),
``3 600 000`` (h) or ``86 400 000`` (d) and must fit in a signed 64-bit integer.

Intervals are always compared by their length in ms, never as strings (``60m`` equals ``1h``).
"""
from __future__ import annotations

import re

from harness.errors import DataError

__all__ = ["INT64_MAX", "UNIT_MS", "IntervalError", "interval_ms", "is_interval", "same_length"]

INT64_MAX = 2**63 - 1
UNIT_MS: dict[str, int] = {"s": 1_000, "m": 60_000, "h": 3_600_000, "d": 86_400_000}
_GRAMMAR = re.compile(r"[1-9][0-9]*[smhd]")


class IntervalError(DataError, ValueError):
    """An interval string breaks the D39 grammar (also a ``ValueError`` for generic callers)."""


def interval_ms(s: str, what: str = "interval") -> int:
    """Return the length in ms of interval string ``s`` (D39).

    ``what`` names where the string came from (e.g. ``"engine.interval"`` or a file name) and is
    put into the error message. Raises :class:`IntervalError` (a ``DataError`` and ``ValueError``).
    """
    if not isinstance(s, str):
        raise IntervalError(
            f"{what}: interval {s!r} is a {type(s).__name__}, not a string — rule D39: an interval "
            f"is a string like '3m' or '1h'. Fix: write it as a quoted string."
        )
    if _GRAMMAR.fullmatch(s) is None:
        raise IntervalError(
            f"{what}: interval {s!r} does not match the grammar [1-9][0-9]*[smhd] (D39: whole "
            f"string, lower-case unit s/m/h/d, no sign, no leading zero, no spaces). "
            f"Fix: write e.g. '3m', '15m', '1h' or '1d'."
        )
    n = int(s[:-1])
    length = n * UNIT_MS[s[-1]]
    if length > INT64_MAX:
        raise IntervalError(
            f"{what}: interval {s!r} is {length} ms, beyond the int64 range (D39). "
            f"Fix: use a shorter interval."
        )
    return length


def is_interval(s: object) -> bool:
    """True when ``s`` is a valid D39 interval string."""
    try:
        interval_ms(s)  # type: ignore[arg-type]
    except IntervalError:
        return False
    return True


def same_length(a: str, b: str) -> bool:
    """True when intervals ``a`` and ``b`` have the same length in ms (``'60m'`` vs ``'1h'``)."""
    return interval_ms(a) == interval_ms(b)
