"""Storage billing (docs/storage.md, "Billing"): GB-hours at STORAGE_PRICE_PER_GB_HOUR, each
interval charged once even with two billers, deleted objects up to their delete."""

import threading
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import connections
from django.utils import timezone

from facilitator.models import CreditAccount, CreditTransaction, StoredObject
from facilitator.services.storage_billing import storage_bill_due, storage_charge

GB = 10**9


def stored(user: Any, *, size: int, hours: float, **kw: Any) -> StoredObject:
    at = timezone.now() - timedelta(hours=hours)
    return StoredObject.objects.create(
        user=user, name="o", size=size, sha256="0" * 64, status="stored", stored_at=at, billed_until=at, **kw
    )


def balance(user: Any) -> Decimal:
    return CreditAccount.objects.get(user=user).balance


@pytest.mark.django_db
def test_gigabyte_hours_are_charged_at_the_price(funded_user: Any, settings: Any) -> None:
    settings.STORAGE_PRICE_PER_GB_HOUR = 0.5
    start = balance(funded_user)
    stored(funded_user, size=2 * GB, hours=3)
    charged = storage_bill_due()
    assert charged == pytest.approx(Decimal("3.0"), abs=Decimal("0.001"))
    assert balance(funded_user) == start - charged
    row = CreditTransaction.objects.get(kind="storage")
    assert row.amount == charged
    assert storage_bill_due() < Decimal("0.001")  # the interval is billed; only seconds since remain


@pytest.mark.django_db
def test_a_deleted_object_is_billed_to_its_delete_and_then_never(funded_user: Any, settings: Any) -> None:
    settings.STORAGE_PRICE_PER_GB_HOUR = 1.0
    obj = stored(funded_user, size=GB, hours=5, deleted_at=timezone.now() - timedelta(hours=3))
    StoredObject.objects.filter(pk=obj.pk).update(status="deleted")
    assert storage_bill_due() == pytest.approx(Decimal("2.0"), abs=Decimal("0.001"))
    assert storage_bill_due() == 0


@pytest.mark.django_db
def test_failed_and_staging_objects_are_not_billed(funded_user: Any) -> None:
    stored(funded_user, size=GB, hours=5).__class__.objects.update(status="failed")
    assert storage_bill_due() == 0


@pytest.mark.django_db(transaction=True)
def test_two_billers_at_once_charge_each_interval_once(funded_user: Any, settings: Any) -> None:
    settings.STORAGE_PRICE_PER_GB_HOUR = 1.0
    for _ in range(5):
        stored(funded_user, size=GB, hours=1)
    now = timezone.now()
    totals: list[Decimal] = []

    def bill() -> None:
        try:
            totals.append(storage_bill_due(now=now))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=bill) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(totals) == pytest.approx(Decimal("5.0"), abs=Decimal("0.01"))
    assert CreditTransaction.objects.filter(kind="storage").count() == 5


def test_the_charge_rounds_to_a_micro_credit() -> None:
    assert storage_charge(size=1, seconds=1) == 0
    assert storage_charge(size=GB, seconds=3600) > 0


@pytest.mark.django_db
def test_billing_past_the_credits_takes_what_is_there_and_bills_every_object(funded_user: Any, settings: Any) -> None:
    # Found by the ledger's tests: the charge once drove the balance below zero, which the
    # database refuses, and the IntegrityError stopped the run before the other objects.
    settings.STORAGE_PRICE_PER_GB_HOUR = 10.0
    CreditAccount.objects.filter(user=funded_user).update(held=Decimal(30))  # a job in flight holds 30
    first = stored(funded_user, size=10 * GB, hours=2)  # 200 due
    second = stored(funded_user, size=GB, hours=1)  # 10 due
    charged = storage_bill_due()

    assert charged == Decimal(70)  # the 100 less what the job holds
    account = CreditAccount.objects.get(user=funded_user)
    assert (account.balance, account.held) == (Decimal(30), Decimal(30))
    rows = CreditTransaction.objects.filter(kind="storage").order_by("id")
    assert len(rows) == 2
    assert sum(r.amount for r in rows) == Decimal(70)
    assert any("not charged: credits ran out" in r.note for r in rows)
    for obj in (first, second):  # both billed up to now: the shortfall is written off, not retried
        obj.refresh_from_db()
        assert obj.billed_until is not None
        assert timezone.now() - obj.billed_until < timedelta(minutes=1)
