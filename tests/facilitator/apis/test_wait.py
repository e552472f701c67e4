"""`GET /api/v1/jobs/<uuid>/wait/`: woken by the job's own transitions, over the real channel layer."""

import asyncio
import time
import uuid

import pytest
from asgiref.sync import sync_to_async
from django.test import AsyncClient

from facilitator.services.status import job_apply_status_update
from protocol.messages.common import JobResult
from protocol.messages.facilitator import JobStatusUpdate
from protocol.messages.jobs import JobStatus
from tests.facilitator.factories import TokenFactory, facilitator_job

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("close_async_db")]


@pytest.fixture
def owner_key(funded_user) -> str:
    """The funded user's API token."""
    return TokenFactory.create(user=funded_user).key


class _Client:
    """AsyncClient with a token; passed per request (a client-wide default header reaches the
    ASGI scope mangled as Http-Authorization in Django 5.2)."""

    def __init__(self, key: str) -> None:
        self.key = key

    async def get(self, path: str):
        return await AsyncClient().get(path, headers={"Authorization": f"Token {self.key}"})


def _client(key: str) -> _Client:
    return _Client(key)


async def test_a_finished_job_is_returned_at_once(funded_user, owner_key):
    job = await sync_to_async(facilitator_job)(user=funded_user, status="completed")
    started = time.monotonic()
    response = await _client(owner_key).get(f"/api/v1/jobs/{job.uuid}/wait/?timeout=20")
    assert response.status_code == 200
    assert response.json()["status"] == "completed"
    assert time.monotonic() - started < 5


async def test_the_wait_ends_when_the_job_ends(funded_user, owner_key):
    job = await sync_to_async(facilitator_job)(user=funded_user)

    async def finish_later():
        await asyncio.sleep(0.5)
        result = JobResult(exit_code=0, stdout="done\n", executor_seconds=1.0)
        update = JobStatusUpdate(job_uuid=job.uuid, status=JobStatus.COMPLETED, result=result)
        await sync_to_async(job_apply_status_update)(validator_hotkey=job.validator_hotkey, update=update)

    finisher = asyncio.create_task(finish_later())
    started = time.monotonic()
    response = await _client(owner_key).get(f"/api/v1/jobs/{job.uuid}/wait/?timeout=30")
    await finisher
    body = response.json()
    assert body["status"] == "completed"
    assert body["stdout"] == "done\n"
    assert 0.4 < time.monotonic() - started < 10  # woken by the transition, not by the timeout


async def test_a_job_still_running_is_returned_as_it_is_after_the_timeout(funded_user, owner_key):
    job = await sync_to_async(facilitator_job)(user=funded_user, status="running")
    response = await _client(owner_key).get(f"/api/v1/jobs/{job.uuid}/wait/?timeout=0.3")
    assert response.status_code == 200
    assert response.json()["status"] == "running"


async def test_bad_requests_get_clear_errors(funded_user, owner_key):
    job = await sync_to_async(facilitator_job)(user=funded_user)
    other_key = (await sync_to_async(TokenFactory.create)()).key
    assert (await AsyncClient().get(f"/api/v1/jobs/{job.uuid}/wait/")).status_code == 401
    assert (await _client("nope").get(f"/api/v1/jobs/{job.uuid}/wait/")).status_code == 401
    assert (await _client(other_key).get(f"/api/v1/jobs/{job.uuid}/wait/?timeout=0")).status_code == 404
    assert (await _client(owner_key).get(f"/api/v1/jobs/{uuid.uuid4()}/wait/?timeout=0")).status_code == 404
    for bad in ("soon", "-1", "nan"):
        response = await _client(owner_key).get(f"/api/v1/jobs/{job.uuid}/wait/?timeout={bad}")
        assert response.status_code == 400
        assert "timeout" in response.json()
