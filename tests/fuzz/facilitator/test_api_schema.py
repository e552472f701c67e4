"""Schemathesis against the facilitator's OpenAPI schema (`/api/schema/`, drf-spectacular), in
process through Django's WSGI handler, as a funded user with a real API token: every operation gets
SCHEMA_EXAMPLES generated requests (valid and invalid ones), and every response must be no 5xx,
a status code, content type, headers and body the schema documents."""

import gc
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
import schemathesis
from django.core.cache import cache
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from rest_framework.authtoken.models import Token

from facilitator.services.credits import credits_grant
from tests.factories import UserFactory
from tests.fuzz.budget import SCHEMA_EXAMPLES

pytestmark = [
    pytest.mark.fuzz,
    pytest.mark.django_db,
    # Schemathesis' WSGI transport never closes a response, so Django never closes the request's
    # upload files (a server does): their ResourceWarning is the transport's, not the API's.
    pytest.mark.filterwarnings("ignore::ResourceWarning", "ignore::pytest.PytestUnraisableExceptionWarning"),
]


# Loaded when the module is collected (pytest-django has set Django up by then); serving the
# schema reads no database. (schemathesis' lazy `from_fixture` does not run under pytest 9.)
# The upload waits on a live validator, which this process has none of (its 503 is documented):
# the storage upload is fuzzed for bad input in tests/facilitator/apis/test_objects.py instead.
schema = schemathesis.openapi.from_wsgi("/api/schema/", WSGIHandler()).exclude(method="POST", path="/api/v1/objects/")


# What the issue asks of every response. Not schemathesis' request-acceptance checks: the API is
# lenient where DRF is (an unparsable `offset` means 0), and that is not a response out of schema.
RESPONSE_CHECKS = [
    schemathesis.checks.not_a_server_error,
    schemathesis.checks.status_code_conformance,
    schemathesis.checks.content_type_conformance,
    schemathesis.checks.response_headers_conformance,
    schemathesis.checks.response_schema_conformance,
]


@pytest.fixture(autouse=True)
def in_process(settings: Any) -> Iterator[None]:
    # The per-user throttle would answer most of a long pass with 429 (documented, but untested).
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_CLASSES": []}
    cache.clear()
    # As Django's test client does: a request must not close the test's connection (its transaction).
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)
    # Collect the unclosed upload files now, under this module's warning filter: left to a later
    # collection, their ResourceWarning fails whichever test happens to be running then.
    gc.collect()


@pytest.fixture
def token(executor_classes: dict[str, Any]) -> str:
    user = UserFactory.create()
    credits_grant(user=user, amount=Decimal(1000), note="schemathesis")
    return Token.objects.create(user=user).key


@schema.parametrize()
@hypothesis_settings(
    max_examples=SCHEMA_EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_every_response_is_documented_and_none_is_a_server_error(case: Any, token: str) -> None:
    case.call_and_validate(headers={"Authorization": f"Token {token}"}, checks=RESPONSE_CHECKS)
