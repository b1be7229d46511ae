"""Candidates of one entry evaluation point and their ranking (strategy-entries.md §4.7, strategy-exits.md §3.5).

``score = 100 × rank(confidence) + trunc(ADX)`` — an integer: the ADX is truncated toward zero (quirk
Q13, kept; N7). Candidates are executed by score descending, ties by symbol name ascending (byte-wise,
N8). Execution itself (budget, exposure guard, sizing) belongs to the loop (strategy-exits.md §2.4).
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from engine_ref.arith import trunc_i
from engine_ref.entry_modes import confidence_rank

#: Weight of one confidence rank in the score (§4.7).
CONFIDENCE_SCORE_STEP = 100


@dataclass(frozen=True)
class EntryCandidate:
    """A flat symbol's filtered signal waiting for ranking (§4.7, §4.8).

    ``adx``: the evaluated snapshot's ADX; ``atr_entry``: the T1-floored ATR (quote currency);
    ``price``: the decision price ``S.c`` (main close or entry sub-bar close, unslipped);
    ``decision_time_ms``: τ of the evaluation point.
    """

    symbol: str
    signal: str
    confidence: str
    adx: float
    atr_entry: float
    entry_adx_threshold: float
    price: float
    decision_time_ms: int


def ranking_score(confidence: str, adx: float) -> int:
    """``100 × rank(confidence) + trunc_to_int(adx)`` (§4.7, Q13): e.g. High at ADX 45.99 scores 245."""
    return CONFIDENCE_SCORE_STEP * confidence_rank(confidence) + trunc_i(adx)


def _rank_key(candidate: Any) -> tuple[int, bytes]:
    """Sort key: score descending, then the symbol's UTF-8 bytes ascending (byte-wise order, N8)."""
    return (-ranking_score(candidate.confidence, candidate.adx), candidate.symbol.encode("utf-8"))


def rank_candidates(candidates: Iterable[Any]) -> list[Any]:
    """The candidates in execution order (§4.7). Works on any objects with ``symbol``, ``confidence``
    and ``adx`` (e.g. ``EntryCandidate``); the input is not modified."""
    return sorted(candidates, key=_rank_key)
