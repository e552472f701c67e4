from decimal import Decimal

import pytest
from django.core.cache import cache
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from facilitator.services.credits import credits_grant
from tests.factories import UserFactory


@pytest.fixture
def user(db):
    user = UserFactory()
    credits_grant(user=user, amount=Decimal(100), note="test")
    return user


@pytest.fixture
def api(user, executor_classes) -> APIClient:
    cache.clear()  # the user-rate throttle counts in the cache
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client
