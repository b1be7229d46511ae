"""engine_ref candidate ranking (strategy-entries.md §4.7, strategy-exits.md §3.5, quirk Q13)."""
from __future__ import annotations

import pytest

from engine_ref.ranking import EntryCandidate, rank_candidates, ranking_score


def cand(symbol: str, confidence: str, adx: float) -> EntryCandidate:
    return EntryCandidate(symbol=symbol, signal="BUY", confidence=confidence, adx=adx, atr_entry=1.0,
                          entry_adx_threshold=22.0, price=100.0, decision_time_ms=0)


@pytest.mark.parametrize("confidence, adx, score", [
    ("High", 45.99, 245), ("High", 45.0, 245), ("Medium", 30.9, 130), ("Low", 0.5, 0), ("Low", 99.99, 99),
])
def test_score_truncates_adx_q13(confidence: str, adx: float, score: int) -> None:
    assert ranking_score(confidence, adx) == score
    assert isinstance(ranking_score(confidence, adx), int)


def test_q13_truncation_makes_a_tie_broken_by_symbol() -> None:
    """ADX 30.9 and 30.1 both score 230: the tie goes to the name, not to the higher ADX."""
    ranked = rank_candidates([cand("BBB", "High", 30.9), cand("AAA", "High", 30.1)])
    assert [c.symbol for c in ranked] == ["AAA", "BBB"]


def test_confidence_dominates_adx() -> None:
    """Medium at ADX 99.9 (199) ranks below High at ADX 0.5 (200)."""
    ranked = rank_candidates([cand("AAA", "Medium", 99.9), cand("ZZZ", "High", 0.5)])
    assert [c.symbol for c in ranked] == ["ZZZ", "AAA"]


def test_higher_score_first() -> None:
    ranked = rank_candidates([cand("A", "High", 25.0), cand("B", "High", 41.0), cand("C", "Medium", 60.0)])
    assert [c.symbol for c in ranked] == ["B", "A", "C"]


def test_ties_by_byte_wise_symbol_order() -> None:
    """Upper case sorts before lower case byte-wise; a prefix sorts first."""
    syms = ["SOL", "eth", "BTCUSDT", "BTC", "ETH"]
    ranked = rank_candidates([cand(s, "High", 30.0) for s in syms])
    assert [c.symbol for c in ranked] == ["BTC", "BTCUSDT", "ETH", "SOL", "eth"]


def test_rank_candidates_does_not_modify_its_input() -> None:
    cands = [cand("B", "High", 30.0), cand("A", "High", 30.0)]
    rank_candidates(cands)
    assert [c.symbol for c in cands] == ["B", "A"]
