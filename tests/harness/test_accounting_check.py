"""The harness's accounting-identity check: q(x) per §0.3 and a failing known-bad log."""
from __future__ import annotations

import pytest

from harness.accounting_check import check_balance_identity, q
from harness.errors import ParityError


@pytest.mark.parametrize("x,want", [(0.4999999999995, 0.5), (-0.4999999999995, -0.5), (-0.0, 0.0),
                                    (-4e-13, 0.0), (1.0000000000005, 1.000000000001), (2.5e-13, 0.0)])
def test_q(x: float, want: float) -> None:
    got = q(x)
    assert got == want and str(got) == str(want)  # str: +0.0 vs -0.0


LOG = [
    {"action": "OPEN_LONG", "symbol": "BTC", "timestamp_ms": 1, "pnl": 0.0, "fee_usd": 0.35, "balance": 9999.65},
    {"action": "FUNDING", "symbol": "BTC", "timestamp_ms": 2, "pnl": -0.1, "fee_usd": 0.0, "balance": 9999.55},
    {"action": "CLOSE_LONG", "symbol": "BTC", "timestamp_ms": 3, "pnl": 10.0, "fee_usd": 0.35,
     "balance": 9999.55 + q(10.0 - 0.35)},
]


def test_identity_holds_and_breaks() -> None:
    check_balance_identity(LOG, 10000.0, LOG[-1]["balance"])
    bad = [dict(r) for r in LOG]
    bad[1]["pnl"] = -0.2
    with pytest.raises(ParityError, match="record 1"):
        check_balance_identity(bad, 10000.0, LOG[-1]["balance"])
    with pytest.raises(ParityError, match="final balance"):
        check_balance_identity(LOG, 10000.0, 1.0)
