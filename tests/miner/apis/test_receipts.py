"""The miner's public receipt endpoint (DESIGN.md, "Miner API"): only receipts with both
signatures, oldest first, paged by an opaque cursor, filtered by `since`; bad parameters are a
400 naming the field, and every page parses as `protocol.receipts.ReceiptPage` and verifies."""

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from miner.models import MinerReceipt
from protocol.keys import hotkey_create
from protocol.receipts import JobStartedPayload, ReceiptPage, receipt_parse, receipt_sign, signed_by

pytestmark = pytest.mark.django_db
URL = "/api/v1/receipts/"
VALIDATOR, MINER = hotkey_create()[0], hotkey_create()[0]


@pytest.fixture
def client() -> APIClient:
    cache.clear()  # the rate throttle counts in the cache
    return APIClient()  # no token: anyone may read a miner's receipts


def _receipt(*, validator_signed: bool = True, miner_signed: bool = True) -> MinerReceipt:
    payload = JobStartedPayload(
        netuid=1,
        job_uuid=uuid.uuid4(),
        validator_hotkey=VALIDATOR.ss58,
        miner_hotkey=MINER.ss58,
        executor_class="cpu.small",
        at=datetime.now(UTC),
        timeout_s=60,
        ttl_s=30,
    )
    return MinerReceipt.objects.create(
        kind="job_started",
        job_uuid=payload.job_uuid,
        validator_hotkey=VALIDATOR.ss58,
        payload=payload.model_dump(mode="json"),
        validator_signature=receipt_sign(payload, VALIDATOR) if validator_signed else "",
        miner_signature=receipt_sign(payload, MINER) if miner_signed else "",
    )


def _page(client: APIClient, **params: Any) -> ReceiptPage:
    response = client.get(URL, params)
    assert response.status_code == 200, response.content
    return ReceiptPage.model_validate(response.json())


def test_pages_run_oldest_first_and_the_cursor_walks_to_the_end(client: APIClient, settings: Any) -> None:
    settings.MINER_RECEIPTS_PAGE_SIZE = 2
    rows = [_receipt() for _ in range(5)]
    seen, cursor, pages = [], None, 0
    while True:
        page = _page(client, **({"cursor": cursor} if cursor else {}))
        pages += 1
        seen += [r.job_uuid for r in page.results]
        for receipt in page.results:
            payload = receipt_parse(receipt)
            assert not isinstance(payload, str)
            assert signed_by(payload, signer="validator", signature=receipt.validator_signature)
            assert signed_by(payload, signer="miner", signature=receipt.miner_signature)
        cursor = page.next
        if cursor is None:
            break
    assert seen == [r.job_uuid for r in rows]
    assert pages == 3


def test_only_receipts_with_both_signatures_are_served(client: APIClient) -> None:
    complete = _receipt()
    _receipt(miner_signed=False)  # e.g. a job_finished the miner never countersigned
    _receipt(validator_signed=False)  # a job_accepted the validator never countersigned
    page = _page(client)
    assert [r.job_uuid for r in page.results] == [complete.job_uuid]
    assert page.next is None
    body = client.get(URL).json()["results"][0]
    assert set(body) == {
        "kind",
        "job_uuid",
        "validator_hotkey",
        "miner_hotkey",
        "payload",
        "validator_signature",
        "miner_signature",
    }
    assert (body["kind"], body["miner_hotkey"]) == ("job_started", MINER.ss58)


def test_since_leaves_out_older_receipts(client: APIClient) -> None:
    old = _receipt()
    MinerReceipt.objects.filter(pk=old.pk).update(created_at=datetime.now(UTC) - timedelta(days=2))
    new = _receipt()
    since = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    assert [r.job_uuid for r in _page(client, since=since).results] == [new.job_uuid]
    assert [r.job_uuid for r in _page(client).results] == [old.job_uuid, new.job_uuid]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"since": "yesterday"}, "since"),
        ({"cursor": "!!!"}, "cursor"),
        ({"cursor": "bm90LWFuLWlk"}, "cursor"),  # base64 of "not-an-id"
        ({"cursor": "x" * 300}, "cursor"),
    ],
)
def test_bad_parameters_are_a_400_naming_the_field(client: APIClient, params: dict[str, str], field: str) -> None:
    _receipt()
    response = client.get(URL, params)
    assert response.status_code == 400
    body = response.json()
    assert list(body) == [field]
    assert isinstance(body[field], list)
    assert body[field]


def test_an_empty_miner_serves_an_empty_last_page(client: APIClient) -> None:
    assert client.get(URL).json() == {"results": [], "next": None}
