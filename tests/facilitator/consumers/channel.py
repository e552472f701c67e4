"""Driving the facilitator's validator channel in tests: an ASGI app with the real consumer, and
helpers to open, handshake and read frames over the real Redis channel layer."""

import asyncio
import json
import time

import pytest
from asgiref.sync import sync_to_async
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.urls import path

from facilitator.consumers import ValidatorChannelConsumer
from facilitator.models import Job
from facilitator.services.jobs import job_create
from protocol.handshake import handshake_build
from protocol.messages.jobs import JobStatus
from tests.factories import job_spec

PATH = "/v1/facilitator/"
# Tests that reach `authorize` (chain lookups, sessions, jobs) need committed rows: the consumer
# reads them from another thread. Handshake refusals happen before any database access.
db = pytest.mark.django_db(transaction=True)


class QuickTimeoutConsumer(ValidatorChannelConsumer):
    handshake_timeout_s = 0.3


application = URLRouter(
    [
        path("v1/facilitator/", ValidatorChannelConsumer.as_asgi()),
        path("quick/v1/facilitator/", QuickTimeoutConsumer.as_asgi()),
    ]
)


async def channel_open(url=PATH):
    comm = WebsocketCommunicator(application, url)
    connected, _ = await comm.connect()
    assert connected
    return comm


async def closed_with(comm) -> int:
    event = await comm.receive_output(timeout=2)
    assert event["type"] == "websocket.close"
    return event["code"]


async def error_frame(comm) -> dict:
    frame = await comm.receive_json_from(timeout=2)
    assert frame["type"] == "error", frame
    return frame


async def channel_connect(validator, server_ss58, *, url=PATH):
    """Open a connection and complete the handshake as `validator`; returns (comm, reply)."""
    comm = await channel_open(url)
    hello = handshake_build(hotkey=validator, peer_hotkey=server_ss58, path=PATH)
    await comm.send_to(text_data=hello.model_dump_json())
    reply = await comm.receive_json_from(timeout=3)
    assert reply["type"] == "handshake", reply
    return comm, hello, reply


async def eventually(check, timeout=3.0):
    deadline = time.monotonic() + timeout
    while True:
        result = await sync_to_async(check)()
        if result or time.monotonic() > deadline:
            return result
        await asyncio.sleep(0.02)


def status_frame(job_uuid, status, **extra) -> str:
    return json.dumps({"type": "job.status", "job_uuid": str(job_uuid), "status": status, **extra})


def job_for(user, validator_hotkey: str, status=JobStatus.DISPATCHED) -> Job:
    job = job_create(user=user, spec=job_spec())
    Job.objects.filter(uuid=job.uuid).update(status=status, validator_hotkey=validator_hotkey)
    return job
