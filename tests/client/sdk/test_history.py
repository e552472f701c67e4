"""`MeshworkClient.history` against a real facilitator: the caller's ledger, newest first."""

from decimal import Decimal
from typing import Any

import pytest

from client.sdk import MeshworkClient
from facilitator.services.ledger import credits_add


@pytest.mark.django_db(transaction=True)
def test_the_sdk_reads_the_real_ledger(facilitator: Any) -> None:
    credits_add(user=facilitator.user, amount=Decimal(3), kind="topup", note="card")
    with MeshworkClient(facilitator.url, facilitator.token) as sdk:
        full = sdk.history()
        topups = sdk.history(kind="topup")
    assert [(e.kind, e.amount, e.balance_after, e.note) for e in full.results] == [
        ("topup", Decimal(3), Decimal(103), "card"),
        ("grant", Decimal(100), Decimal(100), "test"),
    ]
    assert (full.count, topups.count, topups.results[0].job) == (2, 1, None)
