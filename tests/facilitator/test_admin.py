"""The credits admin: balances read-only, the ledger read-only, credits added by the "Add credits"
action through the ledger's service (Django test client, the facilitator's admin)."""

from decimal import Decimal

import pytest
from django.test import Client

from facilitator.models import CreditAccount, CreditTransaction
from facilitator.services.ledger import credits_add
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
ACCOUNTS = "/admin/facilitator/creditaccount/"


@pytest.fixture
def account() -> CreditAccount:
    return credits_add(user=UserFactory.create(username="carol"), amount=Decimal(10), kind="grant").account


def _action(admin_client: Client, account: CreditAccount, **form: str):
    data = {"action": "add_credits", "_selected_action": [str(account.pk)], **form}
    return admin_client.post(ACCOUNTS, data, follow=True)


def test_the_action_shows_its_form_first_and_moves_nothing(admin_client: Client, account: CreditAccount) -> None:
    response = _action(admin_client, account)
    assert response.status_code == 200
    assert b'name="amount"' in response.content
    assert b"carol: balance 10" in response.content
    assert CreditTransaction.objects.count() == 1


def test_the_action_adds_credits_through_the_ledger_naming_the_admin(
    admin_client: Client, admin_user, account: CreditAccount
) -> None:
    response = _action(admin_client, account, apply="1", amount="2.5", kind="topup", note="paid by card")
    assert response.status_code == 200
    assert b"Added 2.500000 (topup) to 1 account(s)." in response.content
    account.refresh_from_db()
    assert account.balance == Decimal("12.5")
    row = CreditTransaction.objects.latest("id")
    assert (row.kind, row.amount, row.note, row.by) == ("topup", Decimal("2.5"), "paid by card", f"admin {admin_user}")


@pytest.mark.parametrize(
    ("amount", "error"),
    [
        ("0", b"must be more than 0"),
        ("-1", b"must be more than 0"),
        ("1000000001", b"more than the maximum of 1000000000"),
        ("abc", b"Enter a number."),
        ("1.0000001", b"Ensure that there are no more than 6 decimal places."),
    ],
)
def test_a_refused_amount_shows_the_form_again_with_the_reason(
    admin_client: Client, account: CreditAccount, amount: str, error: bytes
) -> None:
    response = _action(admin_client, account, apply="1", amount=amount, kind="grant")
    assert response.status_code == 200
    assert error in response.content
    account.refresh_from_db()
    assert account.balance == Decimal(10)
    assert CreditTransaction.objects.count() == 1


def test_a_kind_other_than_grant_or_topup_is_refused(admin_client: Client, account: CreditAccount) -> None:
    response = _action(admin_client, account, apply="1", amount="5", kind="refund")
    assert b"Select a valid choice." in response.content
    assert CreditTransaction.objects.count() == 1


def test_balance_and_held_cannot_be_edited_in_place(admin_client: Client, account: CreditAccount) -> None:
    page = admin_client.get(f"{ACCOUNTS}{account.pk}/change/")
    assert page.status_code == 200
    assert b'name="balance"' not in page.content
    assert b'name="held"' not in page.content
    admin_client.post(f"{ACCOUNTS}{account.pk}/change/", {"balance": "999999", "held": "0", "user": account.user_id})
    account.refresh_from_db()
    assert account.balance == Decimal(10)
    assert admin_client.get(f"{ACCOUNTS}add/").status_code == 403
    assert admin_client.post(f"{ACCOUNTS}{account.pk}/delete/").status_code == 403


def test_the_ledger_is_read_only_in_the_admin(admin_client: Client, account: CreditAccount) -> None:
    row = CreditTransaction.objects.get()
    rows = "/admin/facilitator/credittransaction/"
    assert admin_client.get(rows).status_code == 200
    page = admin_client.get(f"{rows}{row.pk}/change/")
    assert page.status_code == 200
    assert b'name="amount"' not in page.content
    admin_client.post(f"{rows}{row.pk}/change/", {"amount": "5000", "kind": "grant", "account": account.pk})
    assert admin_client.get(f"{rows}add/").status_code == 403
    assert admin_client.post(f"{rows}{row.pk}/delete/").status_code == 403
    assert CreditTransaction.objects.values_list("amount", flat=True).get() == Decimal(10)


def test_deleting_a_user_with_a_ledger_is_refused_and_says_why(admin_client: Client, account: CreditAccount) -> None:
    response = admin_client.post(f"/admin/auth/user/{account.user_id}/delete/", {"post": "yes"})
    assert response.status_code == 200  # the confirmation page again, naming the ledger's tables
    assert b"Cannot delete user" in response.content
    assert CreditAccount.objects.filter(pk=account.pk).exists()
