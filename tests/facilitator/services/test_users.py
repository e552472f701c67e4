"""The local network's admin user: created once with its grant, the same token on every start."""

from decimal import Decimal

import pytest

from facilitator.models import CreditTransaction
from facilitator.selectors import credit_balance_get
from facilitator.services.users import user_admin_ensure

pytestmark = pytest.mark.django_db


def test_the_admin_is_created_once_with_its_grant_and_keeps_its_token():
    first = user_admin_ensure(username="admin", password="one", credits=Decimal(50))
    again = user_admin_ensure(username="admin", password="two", credits=Decimal(50))
    assert again.key == first.key
    user = again.user
    assert (user.is_staff, user.is_superuser) == (True, True)
    assert user.check_password("two")  # the plan's password wins on every start
    assert CreditTransaction.objects.filter(account__user=user).count() == 1  # granted once, not per start
    assert credit_balance_get(user=user) == (Decimal(50), Decimal(0))
