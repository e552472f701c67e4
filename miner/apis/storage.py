"""What validators call to store shares here (docs/storage.md, "Miner, validator-facing"): every
request signed (protocol/signed_http.py) by a validator this miner admits; each validator sees
only its own shares. Plain Django views: the bodies are raw bytes, streamed, never held whole."""

import hashlib
import json
from typing import Any
from uuid import UUID

from django.conf import settings
from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods
from pydantic import ValidationError

from miner.models import StoredShare
from miner.selectors import storage_space_summary, validator_refusal
from miner.services.shares import (
    ShareRefused,
    share_audit_answer,
    share_commit,
    share_delete,
    share_discard,
    share_path,
    share_receive,
)
from miner.services.storage_space import StorageRefused, storage_admit, storage_available_for
from protocol.signed_http import EMPTY_SHA256, SignedRequestRefused
from protocol.signed_views import refusal_response, request_signer
from protocol.storage.audit import AuditChallenge

MAX_CHALLENGE_BYTES = 1024
MIN_CHUNK, MAX_CHUNK = 1024, 1024 * 1024


def _error(status: int, reason: str, detail: str) -> JsonResponse:
    return JsonResponse({"reason": reason, "detail": detail}, status=status)


def _validator(request: HttpRequest, body_sha256: str) -> str | JsonResponse:
    try:
        hotkey = request_signer(request, body_sha256=body_sha256)
    except SignedRequestRefused as exc:
        return refusal_response(exc)
    refusal = validator_refusal(hotkey)
    if refusal is not None:
        return _error(403, "not_admitted", refusal)
    return hotkey


def _own_share(hotkey: str, share_id: UUID) -> StoredShare | None:
    return StoredShare.objects.select_related("volume").filter(share_id=share_id, validator_hotkey=hotkey).first()


@csrf_exempt
@require_http_methods(["GET"])
def storage_space(request: HttpRequest) -> HttpResponse:
    hotkey = _validator(request, EMPTY_SHA256)
    if isinstance(hotkey, JsonResponse):
        return hotkey
    return JsonResponse(
        storage_space_summary(validator_hotkey=hotkey)
        | {"available_bytes": storage_available_for(validator_hotkey=hotkey)}
    )


@csrf_exempt
@require_http_methods(["GET", "PUT", "DELETE"])
def share_detail(request: HttpRequest, share_id: UUID) -> HttpResponseBase:
    if request.method == "PUT":
        return _share_put(request, share_id)
    hotkey = _validator(request, EMPTY_SHA256)
    if isinstance(hotkey, JsonResponse):
        return hotkey
    share = _own_share(hotkey, share_id)
    if request.method == "DELETE":
        if share is not None:
            share_delete(share=share)
        return HttpResponse(status=204)
    if share is None or not share_path(share).exists():
        return _error(404, "missing", "no such share of yours here")
    return FileResponse(share_path(share).open("rb"), content_type="application/octet-stream")


def _put_params(request: HttpRequest) -> tuple[int, str, int] | JsonResponse:
    try:
        length = int(request.headers.get("Content-Length") or "0")  # none: an empty body
    except ValueError:
        return _error(411, "length_required", "a share upload needs a Content-Length")
    root = request.GET.get("root", "")
    if len(root) != 64 or any(c not in "0123456789abcdef" for c in root):
        return _error(400, "bad_root", "root: 64 lowercase hex digits")
    try:
        chunk_bytes = int(request.GET.get("chunk_bytes", ""))
    except ValueError:
        return _error(400, "bad_chunk_bytes", "chunk_bytes: an integer")
    if not MIN_CHUNK <= chunk_bytes <= MAX_CHUNK:
        return _error(400, "bad_chunk_bytes", f"chunk_bytes: {MIN_CHUNK}..{MAX_CHUNK}")
    if length < 0 or length > settings.MINER_STORAGE_MAX_SHARE_BYTES:
        return _error(413, "too_large", f"a share is at most {settings.MINER_STORAGE_MAX_SHARE_BYTES} bytes")
    return length, root, chunk_bytes


def _share_put(request: HttpRequest, share_id: UUID) -> HttpResponse:
    params = _put_params(request)
    if isinstance(params, JsonResponse):
        return params
    length, root, chunk_bytes = params
    claimed = request.headers.get("X-Meshwork-Hotkey", "")
    refusal = validator_refusal(claimed)  # before reading: a stranger's body is never streamed
    if refusal is not None:
        return _error(403, "not_admitted", refusal)
    try:  # fail fast on space before reading the body (checked again, locked, on commit)
        volume = storage_admit(validator_hotkey=claimed, size=length)
    except StorageRefused as exc:
        return _error(507, exc.reason, exc.detail)
    try:
        received = share_receive(read=request.read, length=length, chunk_bytes=chunk_bytes, volume=volume)
    except ShareRefused as exc:
        return _error(exc.status, exc.reason, exc.detail)
    hotkey = _validator(request, received.sha256)
    if isinstance(hotkey, JsonResponse) or hotkey != claimed:
        share_discard(received)
        return hotkey if isinstance(hotkey, JsonResponse) else _error(401, "bad_signature", "signer mismatch")
    try:
        share, created = share_commit(
            received=received, validator_hotkey=hotkey, share_id=share_id, root=root, chunk_bytes=chunk_bytes
        )
    except ShareRefused as exc:
        return _error(exc.status, exc.reason, exc.detail)
    body: dict[str, Any] = {"share_id": str(share.share_id), "size": share.size, "root": share.root}
    return JsonResponse(body, status=201 if created else 200)


@csrf_exempt
@require_http_methods(["POST"])
def share_audit(request: HttpRequest, share_id: UUID) -> HttpResponse:
    raw = request.read(MAX_CHALLENGE_BYTES + 1)
    if len(raw) > MAX_CHALLENGE_BYTES:
        return _error(413, "too_large", "a challenge is a nonce and a count")
    hotkey = _validator(request, hashlib.sha256(raw).hexdigest())
    if isinstance(hotkey, JsonResponse):
        return hotkey
    try:
        challenge = AuditChallenge.model_validate(json.loads(raw))
    except (ValueError, ValidationError) as exc:
        return _error(400, "malformed", str(exc)[:300])
    share = _own_share(hotkey, share_id)
    if share is None:
        return _error(404, "missing", "no such share of yours here")
    try:
        answer = share_audit_answer(share=share, challenge=challenge)
    except FileNotFoundError:
        return _error(404, "missing", "the share's file is gone")
    return JsonResponse(answer.model_dump(mode="json"))
