"""Storage billed per GB-hour (docs/storage.md, "Billing"): each stored object is charged from its
`billed_until` to now (a deleted one up to its delete), and `billed_until` moves forward by a
conditional update in the same transaction as the charge, so each interval is charged once, even
with two workers. A charge takes at most what the account has beyond its holds (the balance never
goes below zero, nor below what jobs in flight hold): what could not be charged is written off in
the row's note, the object stays, and new uploads need credit again (402)."""

from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from facilitator.models import CreditAccount, CreditTransaction, StoredObject

MICRO = Decimal("0.000001")
Status = StoredObject.Status


def storage_charge(*, size: int, seconds: float) -> Decimal:
    gb_hours = Decimal(size) / Decimal(10**9) * Decimal(str(seconds)) / Decimal(3600)
    return (gb_hours * Decimal(str(settings.STORAGE_PRICE_PER_GB_HOUR))).quantize(MICRO, rounding=ROUND_HALF_UP)


def _bill_one(obj: StoredObject, *, until: datetime) -> Decimal:
    assert obj.billed_until is not None
    seconds = (until - obj.billed_until).total_seconds()
    amount = storage_charge(size=obj.size, seconds=seconds)
    if amount <= 0:
        return Decimal(0)  # too little yet to charge a micro-credit: billed_until stays for next time
    with transaction.atomic():
        claimed = StoredObject.objects.filter(id=obj.id, billed_until=obj.billed_until).update(billed_until=until)
        if not claimed:
            return Decimal(0)  # another worker billed it meanwhile
        account, _ = CreditAccount.objects.select_for_update().get_or_create(user_id=obj.user_id)
        due, amount = amount, min(amount, max(Decimal(0), account.balance - account.held))
        note = f"object {obj.id}: {obj.size} bytes for {seconds:.0f}s"
        if amount < due:
            note += f"; {due - amount} not charged: credits ran out"
        if amount > 0:
            CreditAccount.objects.filter(pk=account.pk).update(balance=F("balance") - amount)
        CreditTransaction.objects.create(
            account=account,
            kind=CreditTransaction.Kind.STORAGE,
            amount=amount,  # a charge, positive like a job's
            note=note,
        )
    return amount


def storage_bill_due(*, now: datetime | None = None) -> Decimal:
    """Charges every object for the time since it was last billed; the total charged."""
    now = now or timezone.now()
    objects = StoredObject.objects.filter(billed_until__isnull=False, billed_until__lt=now).filter(
        Q(status=Status.STORED) | Q(status__in=[Status.DELETING, Status.DELETED], deleted_at__gt=F("billed_until"))
    )
    total = Decimal(0)
    for obj in objects.iterator():
        until = min(now, obj.deleted_at) if obj.deleted_at else now
        total += _bill_one(obj, until=until)
    return total
