"""`manage.py celery_alive`: the Docker HEALTHCHECK of a node's Celery worker."""

import time
import uuid

import pytest
from django.core.management import CommandError, call_command

from protocol.liveness import CeleryLiveness


@pytest.fixture
def liveness(settings):
    settings.REDIS_PREFIX = f"meshwork-test:alive:{uuid.uuid4().hex}"
    liveness = CeleryLiveness()
    yield liveness
    liveness.client.delete(liveness.key)


def test_a_fresh_heartbeat_is_alive(liveness, capsys):
    liveness.beat()
    call_command("celery_alive")
    assert capsys.readouterr().out.startswith("celery worker alive: last heartbeat ")


def test_no_heartbeat_fails_with_the_reason(liveness):
    with pytest.raises(CommandError, match=r"^celery worker not alive: no heartbeat \(is the worker running\?\)$"):
        call_command("celery_alive")


def test_a_stale_heartbeat_fails(liveness, settings):
    settings.CELERY_ALIVE_MAX_AGE_S = 30
    liveness.client.set(liveness.key, repr(time.time() - 90))
    with pytest.raises(CommandError, match=r"last heartbeat 90s ago"):
        call_command("celery_alive")


def test_redis_unreachable_is_one_line(liveness, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    with pytest.raises(CommandError, match=r"^celery liveness unknown: Redis redis://127.0.0.1:1/0 unreachable: "):
        call_command("celery_alive")
