"""`GET /api/v1/account/history/`: the caller's ledger, newest first, paginated, `?kind=`."""

from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from facilitator.models import CreditTransaction
from facilitator.services.ledger import credits_add
from facilitator.services.status import job_apply_status_update
from protocol.messages.facilitator import JobStatusUpdate
from tests.facilitator.factories import facilitator_job
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
HISTORY = "/api/v1/account/history/"


def test_the_ledger_newest_first_with_every_field(api, funded_user):
    credits_add(user=funded_user, amount=Decimal("2.5"), kind="topup", note="card", by="admin root")
    job = facilitator_job(user=funded_user, timeout_s=1000)
    update = JobStatusUpdate.model_validate(
        {"job_uuid": job.uuid, "status": "completed", "result": {"exit_code": 0, "executor_seconds": 100.0}}
    )
    job_apply_status_update(validator_hotkey="5Validator", update=update)
    rows = CreditTransaction.objects.filter(account__user=funded_user).order_by("-id")
    body = api.get(HISTORY).json()
    assert body["count"] == 3
    assert body["results"] == [
        {
            "id": row.id,
            "kind": kind,
            "amount": amount,
            "note": note,
            "job": job_uuid,
            "created_at": row.created_at.isoformat().replace("+00:00", "Z"),
            "balance_after": after,
        }
        for row, (kind, amount, note, job_uuid, after) in zip(
            rows,
            [
                ("charge", "0.100000", "", str(job.uuid), "102.400000"),
                ("topup", "2.500000", "card", None, "102.500000"),
                ("grant", "100.000000", "test", None, "100.000000"),
            ],
            strict=True,
        )
    ]


def test_paginated_like_the_other_lists(api, funded_user):
    for n in range(1, 6):
        credits_add(user=funded_user, amount=Decimal(n), kind="grant")
    first = api.get(HISTORY, {"limit": 2}).json()
    assert (first["count"], [r["amount"] for r in first["results"]]) == (6, ["5.000000", "4.000000"])
    assert first["previous"] is None
    assert "offset=2" in first["next"]
    last = api.get(HISTORY, {"limit": 2, "offset": 4}).json()
    assert [r["amount"] for r in last["results"]] == ["1.000000", "100.000000"]
    assert last["next"] is None


def test_a_huge_limit_is_capped_and_a_huge_offset_is_past_the_end(api):
    assert len(api.get(HISTORY, {"limit": "1923654405102926823424"}).json()["results"]) == 1
    assert api.get(HISTORY, {"offset": "1923654405102926823424"}).json()["results"] == []


def test_a_kind_filter(api, funded_user):
    credits_add(user=funded_user, amount=Decimal(3), kind="topup")
    credits_add(user=funded_user, amount=Decimal(1), kind="grant")
    body = api.get(HISTORY, {"kind": "topup"}).json()
    assert [(r["kind"], r["amount"], r["balance_after"]) for r in body["results"]] == [
        ("topup", "3.000000", "103.000000")
    ]
    assert body["count"] == 1


@pytest.mark.parametrize("kind", ["nope", "GRANT", "grant,topup", "x" * 300])
def test_a_bad_kind_is_a_400_naming_the_field(api, kind):
    response = api.get(HISTORY, {"kind": kind})
    assert response.status_code == 400
    assert response.json() == {"kind": [f'"{kind}" is not a valid choice.']}


def test_an_empty_kind_filters_nothing_like_the_jobs_filters(api):
    assert api.get(HISTORY, {"kind": ""}).json()["count"] == 1


def test_another_users_rows_are_never_shown(api, funded_user):
    other = UserFactory.create()
    credits_add(user=other, amount=Decimal(9), kind="topup", note="theirs")
    body = api.get(HISTORY).json()
    assert [(r["kind"], r["amount"]) for r in body["results"]] == [("grant", "100.000000")]
    assert api.get(HISTORY, {"kind": "topup"}).json()["count"] == 0


def test_a_user_without_an_account_has_an_empty_history(user):
    client = APIClient()
    client.force_authenticate(user)
    assert client.get(HISTORY).json() == {"count": 0, "next": None, "previous": None, "results": []}


def test_unauthenticated_is_401():
    response = APIClient().get(HISTORY)
    assert response.status_code == 401
