"""protocol/signed_http.py for Django views: who signed this request, checked against this
node's hotkey and the node's Redis nonce store (replays refused across worker processes)."""

from functools import cache

from django.conf import settings
from django.http import HttpRequest, JsonResponse

from protocol.identity import node_hotkey
from protocol.nonces import SyncRedisNonceStore
from protocol.signed_http import SignedRequestRefused, signed_request_verify


@cache
def _nonces() -> SyncRedisNonceStore:
    return SyncRedisNonceStore()


def request_signer(request: HttpRequest, *, body_sha256: str) -> str:
    """The signer's hotkey, or SignedRequestRefused."""
    return signed_request_verify(
        headers=request.headers,
        method=request.method or "",
        path=request.get_full_path(),
        body_sha256=body_sha256,
        own_hotkey=node_hotkey().ss58,
        remember=_nonces().remember,
        max_skew_s=settings.SIGNED_HTTP_MAX_SKEW_S,
    )


def refusal_response(exc: SignedRequestRefused) -> JsonResponse:
    return JsonResponse({"reason": str(exc.reason), "detail": exc.detail}, status=401)
