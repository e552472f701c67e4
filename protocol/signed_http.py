"""Signed HTTP requests between nodes: the bulk path of storage (docs/storage.md), where frames
of the websocket links would be too small.

The caller signs the canonical JSON of (method, path with query, sha256 of the body, its hotkey,
the receiver's hotkey, a timestamp and a fresh nonce) and sends it in `X-Meshwork-*` headers. The
receiver checks the signature, that it is the one addressed, that the timestamp is fresh and that
the nonce is unseen, then who the signer is (stake, role) on its own. A captured request cannot be
replayed, redirected to another node, or given another body."""

import enum
import hashlib
import secrets
import time
from collections.abc import Callable, Mapping

from protocol.canonical import canonical_json
from protocol.keys import Hotkey, is_ss58, verify_signature

HEADER_HOTKEY = "X-Meshwork-Hotkey"
HEADER_CRYPTO = "X-Meshwork-Crypto"
HEADER_PEER = "X-Meshwork-Peer"
HEADER_TIMESTAMP = "X-Meshwork-Timestamp"
HEADER_NONCE = "X-Meshwork-Nonce"
HEADER_SIGNATURE = "X-Meshwork-Signature"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


class SignedRequestRefusal(enum.StrEnum):
    MISSING = "missing_signature"  # a header is absent
    MALFORMED = "malformed_signature"  # a header is not of its form
    WRONG_PEER = "wrong_peer"  # signed for another node
    STALE = "stale"  # the timestamp is too far from now
    BAD_SIGNATURE = "bad_signature"
    REPLAYED = "replayed"  # the nonce was seen within the window


class SignedRequestRefused(Exception):
    def __init__(self, reason: SignedRequestRefusal, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


def _signing_bytes(*, method: str, path: str, body_sha256: str, hotkey: str, peer: str, ts: str, nonce: str) -> bytes:
    return canonical_json(
        {
            "method": method.upper(),
            "path": path,
            "body_sha256": body_sha256,
            "hotkey": hotkey,
            "peer": peer,
            "timestamp": ts,
            "nonce": nonce,
        }
    )


def signed_headers(
    *,
    hotkey: Hotkey,
    peer_hotkey: str,
    method: str,
    path: str,
    body_sha256: str = EMPTY_SHA256,
    now: float | None = None,
) -> dict[str, str]:
    """Headers for one request to `peer_hotkey`; `path` includes the query string, if any."""
    ts = f"{time.time() if now is None else now:.3f}"
    nonce = secrets.token_hex(16)
    data = _signing_bytes(
        method=method, path=path, body_sha256=body_sha256, hotkey=hotkey.ss58, peer=peer_hotkey, ts=ts, nonce=nonce
    )
    return {
        HEADER_HOTKEY: hotkey.ss58,
        HEADER_CRYPTO: hotkey.crypto,
        HEADER_PEER: peer_hotkey,
        HEADER_TIMESTAMP: ts,
        HEADER_NONCE: nonce,
        HEADER_SIGNATURE: hotkey.sign(data),
    }


def signed_request_verify(
    *,
    headers: Mapping[str, str],
    method: str,
    path: str,
    body_sha256: str,
    own_hotkey: str,
    remember: Callable[[str, float], bool],
    max_skew_s: float,
    now: float | None = None,
) -> str:
    """The signer's hotkey, or SignedRequestRefused. `headers` is looked up case-insensitively
    (Django's `request.headers`, httpx's `Headers`); `remember(key, ttl_s)` is False for a seen key."""
    values: dict[str, str] = {}
    for name in (HEADER_HOTKEY, HEADER_CRYPTO, HEADER_PEER, HEADER_TIMESTAMP, HEADER_NONCE, HEADER_SIGNATURE):
        value = headers.get(name)
        if not value:
            raise SignedRequestRefused(SignedRequestRefusal.MISSING, f"header {name} is missing")
        if len(value) > 300:
            raise SignedRequestRefused(SignedRequestRefusal.MALFORMED, f"header {name} is too long")
        values[name] = value
    hotkey, crypto, peer = values[HEADER_HOTKEY], values[HEADER_CRYPTO], values[HEADER_PEER]
    ts, nonce = values[HEADER_TIMESTAMP], values[HEADER_NONCE]
    if not is_ss58(hotkey) or crypto not in ("sr25519", "ed25519") or not 32 <= len(nonce) <= 64:
        raise SignedRequestRefused(SignedRequestRefusal.MALFORMED, "hotkey, crypto or nonce is malformed")
    try:
        stamp = float(ts)
    except ValueError:
        raise SignedRequestRefused(SignedRequestRefusal.MALFORMED, "the timestamp is not a number") from None
    if peer != own_hotkey:
        raise SignedRequestRefused(SignedRequestRefusal.WRONG_PEER, "the request is addressed to another node")
    current = time.time() if now is None else now
    if not abs(current - stamp) <= max_skew_s:  # also refuses NaN
        raise SignedRequestRefused(SignedRequestRefusal.STALE, f"the timestamp is more than {max_skew_s:.0f}s off")
    data = _signing_bytes(
        method=method, path=path, body_sha256=body_sha256, hotkey=hotkey, peer=peer, ts=ts, nonce=nonce
    )
    if not verify_signature(ss58=hotkey, crypto=crypto, data=data, signature=values[HEADER_SIGNATURE]):
        raise SignedRequestRefused(SignedRequestRefusal.BAD_SIGNATURE, "the signature does not verify")
    if not remember(f"http:{hotkey}:{nonce}", 2 * max_skew_s):
        raise SignedRequestRefused(SignedRequestRefusal.REPLAYED, "the nonce was already used")
    return hotkey
