"""`GET /api/v1/jobs/<uuid>/wait/?timeout=S`: the job, as soon as it ends or after S seconds.

An extension of DESIGN.md's API: instead of polling, a client holds one request open and is
woken by the job's own transitions (a channel-layer group per job, sent after commit). An async
view, so a thousand waiting clients cost no threads."""

import asyncio
import time
from typing import Any
from uuid import UUID

from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from django.http import HttpRequest, JsonResponse

from facilitator.apis.serializers import JobOutputSerializer
from facilitator.notify import job_group
from facilitator.selectors import api_token_user_aget, job_get
from protocol.messages.jobs import TERMINAL_STATUSES

MAX_WAIT_S = 60.0


async def job_wait(request: HttpRequest, job_uuid: UUID) -> JsonResponse:
    user = await _token_user(request)
    if user is None:
        return JsonResponse({"detail": "Authentication credentials were not provided or are invalid."}, status=401)
    try:
        timeout = min(float(request.GET.get("timeout", "30")), MAX_WAIT_S)
    except ValueError:
        return JsonResponse({"timeout": ["must be a number of seconds"]}, status=400)
    if not timeout >= 0:  # also refuses NaN
        return JsonResponse({"timeout": ["must be zero or more"]}, status=400)
    layer = get_channel_layer()
    assert layer is not None
    channel = await layer.new_channel()
    await layer.group_add(job_group(job_uuid), channel)
    try:
        deadline = time.monotonic() + timeout
        while True:
            # Subscribed before reading, so a transition between the read and the wait is not lost.
            job = await sync_to_async(job_get)(user=user, job_uuid=job_uuid)
            if job is None:
                return JsonResponse({"detail": "no such job"}, status=404)
            remaining = deadline - time.monotonic()
            if job.status in TERMINAL_STATUSES or remaining <= 0:
                return JsonResponse(await sync_to_async(_serialize)(job, request))
            try:
                await asyncio.wait_for(layer.receive(channel), remaining)
            except TimeoutError:
                pass
    finally:
        await layer.group_discard(job_group(job_uuid), channel)


async def _token_user(request: HttpRequest) -> Any:
    scheme, _, key = request.headers.get("Authorization", "").partition(" ")
    if scheme != "Token" or not key or len(key) > 64:
        return None
    return await api_token_user_aget(key=key)


def _serialize(job: Any, request: HttpRequest) -> dict[str, Any]:
    return dict(JobOutputSerializer(job, context={"request": request}).data)
