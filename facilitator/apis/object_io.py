"""The storage calls that wait on a validator: `POST /api/v1/objects/?name=NAME` (stage, hand
over, answer once placed) and `GET /api/v1/objects/<id>/content/` (ask for it, stream it). Async
views, woken by the object's channel-layer group, so a slow placement holds no thread; their
OpenAPI entries are added by facilitator/apis/object_schema.py."""

import asyncio
import time
import unicodedata
from typing import Any
from uuid import UUID, uuid4

from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import connections
from django.http import FileResponse, HttpRequest, HttpResponseBase, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from facilitator.apis.objects import ObjectListApi, object_out
from facilitator.apis.wait import _token_user
from facilitator.models import ObjectRetrieval, StoredObject
from facilitator.notify import object_group
from facilitator.selectors import object_get, object_get_any, retrieval_get
from facilitator.services.credits import InsufficientCredits
from facilitator.services.object_retrievals import retrieval_end, retrieval_path, retrieval_start
from facilitator.services.objects import UploadRefused, object_give_up, object_stage, storage_credits_check
from protocol.messages.storage import StorageFailureReason

_list_view = ObjectListApi.as_view()
UNAUTHORIZED = {"detail": "Authentication credentials were not provided or are invalid."}


def name_problem(name: str) -> str | None:
    if not name:
        return "a name is required (?name=...)"
    if len(name) > 255:
        return "at most 255 characters"
    if "/" in name or any(unicodedata.category(c).startswith("C") for c in name):
        return "no '/' and no control characters"
    return None


@csrf_exempt  # token-authenticated, never a browser session
async def objects_collection(request: HttpRequest) -> HttpResponseBase:
    if request.method == "GET":
        response: HttpResponseBase = await sync_to_async(_list_view)(request)
        if hasattr(response, "render"):
            await sync_to_async(response.render)()
        return response
    if request.method != "POST":
        return JsonResponse({"detail": f'Method "{request.method}" not allowed.'}, status=405)
    user = await _token_user(request)
    if user is None:
        return JsonResponse(UNAUTHORIZED, status=401)
    name = request.GET.get("name") or ""
    if (problem := name_problem(name)) is not None:
        return JsonResponse({"name": [problem]}, status=400)
    raw_length = request.headers.get("Content-Length") or "0"
    if not raw_length.isdigit():
        return JsonResponse({"body": ["Content-Length must be a number of bytes"]}, status=400)
    length = int(raw_length)
    if length > settings.STORAGE_MAX_OBJECT_BYTES:
        return JsonResponse({"body": [f"at most {settings.STORAGE_MAX_OBJECT_BYTES} bytes"]}, status=413)
    try:
        await sync_to_async(storage_credits_check)(user=user, size=length)
    except InsufficientCredits as exc:
        body = {"credits": [str(exc)], "needed": str(exc.needed), "available": str(exc.available)}
        return JsonResponse(body, status=402)
    object_id = uuid4()
    async with _watching(object_id) as wake:
        try:
            stage = sync_to_async(_stage_in_own_thread, thread_sensitive=False)  # a big body blocks no one
            await stage(user=user, name=name, length=length, read=request.read, object_id=object_id)
        except UploadRefused as exc:
            return JsonResponse(
                {exc.field: [exc.reason]} if exc.field != "detail" else {"detail": exc.reason}, status=exc.status
            )
        obj = await _until(wake, object_id, lambda o: o.status != StoredObject.Status.STAGING)
    if obj is None or obj.status == StoredObject.Status.STAGING:
        if await sync_to_async(object_give_up)(object_id=object_id):
            return JsonResponse(
                {"detail": "the validator did not place the object in time", "reason": "timeout"}, status=504
            )
        obj = await sync_to_async(object_get_any)(object_id=object_id)
    assert obj is not None
    if obj.status == StoredObject.Status.STORED:
        return JsonResponse(await sync_to_async(object_out)(obj), status=201)
    status = 507 if obj.failure_reason == StorageFailureReason.INSUFFICIENT_SPACE else 502
    return JsonResponse(
        {"detail": obj.failure_detail or "the object could not be stored", "reason": obj.failure_reason}, status=status
    )


@csrf_exempt
async def object_content(request: HttpRequest, object_id: UUID) -> HttpResponseBase:
    user = await _token_user(request)
    if user is None:
        return JsonResponse(UNAUTHORIZED, status=401)
    obj = await sync_to_async(object_get)(user=user, object_id=object_id)
    if obj is None or obj.status != StoredObject.Status.STORED:
        return JsonResponse({"detail": "no such object"}, status=404)
    async with _watching(object_id) as wake:
        try:
            retrieval = await sync_to_async(retrieval_start)(obj=obj)
        except UploadRefused as exc:
            return JsonResponse({"detail": exc.reason}, status=exc.status)
        done = await _until_retrieval(wake, retrieval.request_id)
    if done is None or done.status == ObjectRetrieval.Status.PENDING:
        await sync_to_async(retrieval_end)(request_id=retrieval.request_id)
        return JsonResponse(
            {"detail": "the validator did not deliver the object in time", "reason": "timeout"}, status=504
        )
    if done.status == ObjectRetrieval.Status.FAILED:
        return _failure(502, "the object could not be read back", done.reason)
    path = retrieval_path(retrieval.request_id)
    handle = path.open("rb")
    path.unlink()  # the open handle keeps the bytes until the response is sent; nothing is left after
    response = FileResponse(handle, content_type="application/octet-stream", as_attachment=True, filename=obj.name)
    response["Content-Length"] = str(obj.size)
    return response


def _stage_in_own_thread(**kwargs: Any) -> StoredObject:
    try:
        return object_stage(**kwargs)
    finally:
        connections.close_all()  # this pool thread's own connection: not closed by the request's end


def _failure(status: int, detail: str, reason: str) -> JsonResponse:
    return JsonResponse({"detail": detail, "reason": reason}, status=status)


class _watching:
    """Subscribed to the object's group before anything is sent, so no wake-up is missed."""

    def __init__(self, object_id: UUID) -> None:
        self.group = object_group(object_id)
        self.layer: Any = get_channel_layer()
        self.channel = ""

    async def __aenter__(self) -> "_watching":
        self.channel = await self.layer.new_channel()
        await self.layer.group_add(self.group, self.channel)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.layer.group_discard(self.group, self.channel)

    async def wait(self, seconds: float) -> None:
        try:
            await asyncio.wait_for(self.layer.receive(self.channel), seconds)
        except TimeoutError:
            pass


async def _until(wake: _watching, object_id: UUID, done: Any) -> StoredObject | None:
    deadline = time.monotonic() + settings.STORAGE_REQUEST_TIMEOUT_S
    while True:
        obj = await sync_to_async(object_get_any)(object_id=object_id)
        remaining = deadline - time.monotonic()
        if obj is None or done(obj) or remaining <= 0:
            return obj
        await wake.wait(min(remaining, 1.0))  # woken by the answer; a poll each second all the same


async def _until_retrieval(wake: _watching, request_id: UUID) -> ObjectRetrieval | None:
    deadline = time.monotonic() + settings.STORAGE_REQUEST_TIMEOUT_S
    while True:
        retrieval = await sync_to_async(retrieval_get)(request_id=request_id)
        remaining = deadline - time.monotonic()
        if retrieval is None or retrieval.status != ObjectRetrieval.Status.PENDING or remaining <= 0:
            return retrieval
        await wake.wait(min(remaining, 1.0))
