"""Credits added through the ledger's one service, and the ledger's append-only trigger."""

import threading
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models.deletion import ProtectedError

from facilitator.models import CreditAccount, CreditTransaction
from facilitator.services.credits import credits_grant
from facilitator.services.ledger import MAX_ADD, CreditsRefused, credits_add
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _balance(user) -> Decimal:
    return CreditAccount.objects.get(user=user).balance


def test_a_topup_opens_the_account_and_records_who_did_it():
    user = UserFactory.create()
    row = credits_add(user=user, amount=Decimal("12.5"), kind="topup", note="invoice 7", by="admin alice")
    assert CreditTransaction.objects.filter(pk=row.pk).values("kind", "amount", "note", "by", "job").get() == {
        "kind": "topup",
        "amount": Decimal("12.5"),
        "note": "invoice 7",
        "by": "admin alice",
        "job": None,
    }
    assert (_balance(user), CreditAccount.objects.get(user=user).held) == (Decimal("12.5"), Decimal(0))


def test_grants_and_topups_add_up_and_credits_grant_goes_through_the_ledger():
    user = UserFactory.create()
    credits_add(user=user, amount=Decimal(1), kind="grant", by="command")
    account = credits_grant(user=user, amount=Decimal("0.000001"), note="welcome")
    credits_add(user=user, amount=MAX_ADD, kind="topup")
    assert account.balance == Decimal("1.000001")
    assert _balance(user) == MAX_ADD + Decimal("1.000001")
    kinds = list(CreditTransaction.objects.filter(account__user=user).order_by("id").values_list("kind", "by"))
    assert kinds == [("grant", "command"), ("grant", ""), ("topup", "")]


@pytest.mark.parametrize(
    ("amount", "field", "reason"),
    [
        (Decimal(0), "amount", "must be more than 0 (got 0)"),
        (Decimal("-5"), "amount", "must be more than 0 (got -5)"),
        (MAX_ADD + Decimal("0.000001"), "amount", "1000000000.000001 is more than the maximum of 1000000000 at once"),
        (Decimal(10**15), "amount", "1000000000000000 is more than the maximum of 1000000000 at once"),
        (Decimal("1.0000001"), "amount", "1.0000001 has more than 6 decimal places"),
        (Decimal("NaN"), "amount", "not a number: NaN"),
        (Decimal("Infinity"), "amount", "not a number: Infinity"),
    ],
)
def test_bad_amounts_are_refused_and_nothing_moves(amount, field, reason):
    user = UserFactory.create()
    credits_grant(user=user, amount=Decimal(3))
    with pytest.raises(CreditsRefused) as info:
        credits_add(user=user, amount=amount, kind="topup")
    assert isinstance(info.value, ValueError)
    assert (info.value.field, info.value.reason) == (field, reason)
    assert _balance(user) == Decimal(3)
    assert CreditTransaction.objects.filter(account__user=user).count() == 1


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"kind": "charge"}, "kind"),
        ({"kind": "refund"}, "kind"),
        ({"note": "x" * 256}, "note"),
        ({"note": "a\x00b"}, "note"),
        ({"by": "y" * 161}, "by"),
        ({"by": "admin \x00"}, "by"),
    ],
)
def test_other_kinds_and_oversized_notes_are_refused(kwargs, field):
    user = UserFactory.create()
    with pytest.raises(CreditsRefused) as info:
        credits_add(**{"user": user, "amount": Decimal(1), "kind": "grant", **kwargs})
    assert info.value.field == field
    assert not CreditAccount.objects.filter(user=user).exists()


def test_the_trigger_refuses_update_and_delete_of_a_ledger_row():
    user = UserFactory.create()
    row = credits_add(user=user, amount=Decimal(5), kind="grant")
    with pytest.raises(IntegrityError, match="append-only: UPDATE"), transaction.atomic():
        CreditTransaction.objects.filter(pk=row.pk).update(amount=Decimal(500))
    with pytest.raises(IntegrityError, match="append-only: DELETE"), transaction.atomic():
        CreditTransaction.objects.filter(pk=row.pk).delete()
    with pytest.raises(IntegrityError, match="append-only: UPDATE"), transaction.atomic(), connection.cursor() as cur:
        cur.execute("UPDATE facilitator_credittransaction SET note = 'edited' WHERE id = %s", [row.pk])
    assert CreditTransaction.objects.filter(pk=row.pk).values_list("amount", "note").get() == (Decimal(5), "")


def test_a_user_with_a_ledger_cannot_be_deleted():
    user = UserFactory.create()
    credits_add(user=user, amount=Decimal(5), kind="grant")
    with pytest.raises(ProtectedError), transaction.atomic():
        user.delete()
    assert CreditTransaction.objects.filter(account__user=user).count() == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_topups_all_count():
    user = UserFactory.create()
    credits_add(user=user, amount=Decimal(1), kind="grant")  # the account exists: both lock it
    errors: list[BaseException] = []

    def topup() -> None:
        try:
            for _ in range(10):
                credits_add(user=user, amount=Decimal("0.5"), kind="topup")
        except BaseException as exc:  # reported below, not lost in the thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=topup) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert _balance(user) == Decimal(21)
    assert CreditTransaction.objects.filter(account__user=user, kind="topup").count() == 40
