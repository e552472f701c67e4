"""The facilitator's people: `user` has no credits, `funded_user` has FUNDED_CREDITS; `api` is
the funded user's authenticated REST client."""

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from facilitator.services.credits import credits_grant
from tests.facilitator.factories import FUNDED_CREDITS, TokenFactory
from tests.factories import UserFactory


@pytest.fixture
def user(db):
    """A user without a credit account."""
    return UserFactory.create()


@pytest.fixture
def funded_user(executor_classes):
    """A user granted FUNDED_CREDITS (through the real service, so the grant is on record)."""
    user = UserFactory.create()
    credits_grant(user=user, amount=FUNDED_CREDITS, note="test")
    return user


@pytest.fixture
def api(funded_user, executor_classes) -> APIClient:
    cache.clear()  # the user-rate throttle counts in the cache
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {TokenFactory.create(user=funded_user).key}")
    return client
