from decimal import Decimal

import pytest

from facilitator.services.credits import credits_grant
from tests.factories import UserFactory


@pytest.fixture
def user(executor_classes):
    """A user with 10 credits."""
    user = UserFactory()
    credits_grant(user=user, amount=Decimal(10))
    return user
