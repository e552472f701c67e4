"""What the object's validator calls (docs/storage.md, "Facilitator, validator-facing"): the staged
plaintext of an upload, and the PUT of a download's plaintext. Signed requests
(protocol/signed_http.py) from that one validator only; not in the public schema."""

from uuid import UUID

from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from facilitator.models import StoredObject
from facilitator.selectors import object_get_any
from facilitator.services.object_retrievals import DeliveryRefused, retrieval_receive
from facilitator.services.objects import staging_path
from protocol.signed_http import EMPTY_SHA256, SignedRequestRefused
from protocol.signed_views import refusal_response, request_signer


def _error(status: int, reason: str, detail: str) -> JsonResponse:
    return JsonResponse({"reason": reason, "detail": detail}, status=status)


@csrf_exempt
@require_http_methods(["GET"])
def object_staged(request: HttpRequest, object_id: UUID) -> HttpResponseBase:
    try:
        signer = request_signer(request, body_sha256=EMPTY_SHA256)
    except SignedRequestRefused as exc:
        return refusal_response(exc)
    obj = object_get_any(object_id=object_id)
    if obj is None or obj.validator_hotkey != signer:
        return _error(404, "unknown_object", "no object staged for you with this id")
    path = staging_path(object_id)
    if obj.status != StoredObject.Status.STAGING or not path.exists():
        return _error(404, "not_staged", f"the object is {obj.status}: nothing staged")
    return FileResponse(path.open("rb"), content_type="application/octet-stream")


@csrf_exempt
@require_http_methods(["PUT"])
def object_retrieval_put(request: HttpRequest, object_id: UUID, request_id: UUID) -> HttpResponse:
    raw_length = request.headers.get("Content-Length") or "0"
    if not raw_length.isdigit():
        return _error(400, "bad_length", "Content-Length must be a number of bytes")
    claimed = request.headers.get("X-Meshwork-Hotkey", "")
    obj = object_get_any(object_id=object_id)
    if obj is None or obj.validator_hotkey != claimed:  # before reading: a stranger's body is never read
        return _error(403, "not_the_objects_validator", "only the validator holding the object delivers it")
    if int(raw_length) != obj.size:
        return _error(400, "digest_mismatch", f"{raw_length} bytes announced; the object has {obj.size}")
    # Only the object's own bytes are accepted (their sha256 is checked while they are read), so
    # the signature is checked over that sha256 before anything is read.
    try:
        request_signer(request, body_sha256=obj.sha256)
    except SignedRequestRefused as exc:
        return refusal_response(exc)
    try:
        retrieval_receive(
            object_id=object_id, request_id=request_id, signer=claimed, length=int(raw_length), read=request.read
        )
    except DeliveryRefused as exc:
        return _error(exc.status, exc.reason, exc.detail)
    return HttpResponse(status=204)
