"""Bounded signed HTTP to miners and to the facilitator (docs/storage.md, protocol/signed_http.py).

Each request has STORAGE_HTTP_TIMEOUT_S for the connection and for every read (and its body that
plus a second per MiB expected, so a trickle cannot hold a worker), and every body is
streamed and cut one byte past what it may be: a hostile peer can make us read at most that. A
compressed body is refused (its size would not bound what it inflates to). Failures are a
`TransportFailure` with a machine-readable reason and a detail written here (with at most the
peer's `reason` token, checked to be short printable ASCII), never the peer's free text."""

import hashlib
import json
import time
from collections.abc import Mapping
from uuid import UUID

import httpx
from django.conf import settings

from protocol.identity import node_hotkey
from protocol.signed_http import signed_headers
from protocol.tls import client_ssl_context
from validator.models import Miner

SHARES_PATH = "/api/v1/storage/shares/"
SPACE_PATH = "/api/v1/storage/space/"
MAX_JSON_BYTES = 64 * 1024  # any JSON answer of the storage endpoints is far smaller

# Tests replace this with an httpx.MockTransport (the one seam: everything else is the real path).
http_transport: httpx.BaseTransport | None = None


class TransportFailure(Exception):
    """reason: unreachable | timeout | http_status | too_large | malformed | no_space | refused."""

    def __init__(self, reason: str, detail: str, *, status_code: int | None = None) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail[:500]
        self.status_code = status_code


def miner_base_url(address: str) -> str:
    """Like validator/receipts/fetch.py's receipts_url: host:port is TLS when the network uses it."""
    if "://" not in address:
        address = f"{'https' if settings.TLS_PEERS else 'http'}://{address}"
    if not address.startswith(("http://", "https://")) or len(address) > 300:
        raise TransportFailure("unreachable", "the miner's address is not an http(s) base URL")
    return address.rstrip("/")


def facilitator_base_url() -> str:
    url = str(settings.FACILITATOR_URL)
    if url.startswith("ws://"):
        url = "http://" + url.removeprefix("ws://")
    elif url.startswith("wss://"):
        url = "https://" + url.removeprefix("wss://")
    if not url.startswith(("http://", "https://")):
        raise TransportFailure("unreachable", "FACILITATOR_URL is not a ws(s) or http(s) URL")
    # Only the scheme and authority: the validator-facing paths are absolute.
    parsed = httpx.URL(url)
    return f"{parsed.scheme}://{parsed.netloc.decode()}"


def _client(url: str, timeout_s: float | None = None) -> httpx.Client:
    verify = client_ssl_context() if url.startswith("https://") else False
    timeout = httpx.Timeout(timeout_s or settings.STORAGE_HTTP_TIMEOUT_S)
    if http_transport is not None:
        return httpx.Client(transport=http_transport, timeout=timeout)
    return httpx.Client(verify=verify, timeout=timeout, follow_redirects=False)


def _request(
    *,
    method: str,
    url: str,
    peer_hotkey: str,
    body: bytes = b"",
    max_bytes: int,
    ok: tuple[int, ...],
    timeout_s: float | None = None,
) -> tuple[int, bytes]:
    """(status, body of at most max_bytes + 1 bytes) for a status in `ok`, else TransportFailure."""
    target = httpx.URL(url)
    headers = signed_headers(
        hotkey=node_hotkey(),
        peer_hotkey=peer_hotkey,
        method=method,
        path=target.raw_path.decode("ascii"),
        body_sha256=hashlib.sha256(body).hexdigest(),
    )
    headers["Accept-Encoding"] = "identity"
    try:
        with (
            _client(url, timeout_s) as client,
            client.stream(method, target, content=body if body or method == "PUT" else None, headers=headers) as resp,
        ):
            status = resp.status_code
            if status not in ok:
                detail = _refusal_reason(resp)
                raise TransportFailure(_status_reason(status), f"HTTP {status} {detail}", status_code=status)
            if resp.headers.get("content-encoding", "identity").lower() != "identity":
                raise TransportFailure("malformed", "the body is compressed", status_code=status)
            allowance = timeout_s if timeout_s is not None else _body_allowance_s(max_bytes)
            return status, _read_bounded(resp, max_bytes, deadline=time.monotonic() + allowance)
    except httpx.TimeoutException:
        waited = timeout_s or settings.STORAGE_HTTP_TIMEOUT_S
        raise TransportFailure("timeout", f"no answer within {waited:.1f}s") from None
    except (httpx.UnsupportedProtocol, httpx.InvalidURL):
        raise TransportFailure("unreachable", "not an http(s) URL") from None
    except httpx.RemoteProtocolError as exc:
        raise TransportFailure("malformed", f"not HTTP: {type(exc).__name__}") from None
    except httpx.TransportError as exc:
        raise TransportFailure("unreachable", type(exc).__name__) from None


def _body_allowance_s(max_bytes: int) -> float:
    """The whole body's time: each read has STORAGE_HTTP_TIMEOUT_S, but a peer trickling a byte per
    read would never time out, so the body as a whole gets that plus a second per MiB expected."""
    return float(settings.STORAGE_HTTP_TIMEOUT_S) + max_bytes / (1024 * 1024)


def _read_bounded(resp: httpx.Response, max_bytes: int, *, deadline: float | None = None) -> bytes:
    data = bytearray()
    for piece in resp.iter_raw():
        if deadline is not None and time.monotonic() > deadline:
            raise TransportFailure("timeout", "the body came too slowly", status_code=resp.status_code)
        data += piece
        if len(data) > max_bytes:
            del data[max_bytes + 1 :]  # cut: never more held than the bound and the byte that broke it
            raise TransportFailure("too_large", f"the body is over {max_bytes} bytes", status_code=resp.status_code)
    return bytes(data)


def _refusal_reason(resp: httpx.Response) -> str:
    """The `reason` of a small JSON refusal body ("" if none), read within MAX_JSON_BYTES."""
    try:
        data = json.loads(_read_bounded(resp, MAX_JSON_BYTES))
    except (TransportFailure, ValueError, httpx.HTTPError):
        return ""
    reason = data.get("reason") if isinstance(data, dict) else None
    return reason[:64] if isinstance(reason, str) and reason.isascii() and reason.isprintable() else ""


def _status_reason(status: int) -> str:
    if status == httpx.codes.INSUFFICIENT_STORAGE:
        return "no_space"
    if status in (400, 401, 403, 409, 413):
        return "refused"
    return "http_status"


def _json(body: bytes) -> Mapping[str, object]:
    try:
        data = json.loads(body)
    except ValueError:
        raise TransportFailure("malformed", "the body is not JSON") from None
    if not isinstance(data, dict):
        raise TransportFailure("malformed", "the body is not a JSON object")
    return data


def _share_url(miner: Miner, share_id: UUID) -> str:
    return f"{miner_base_url(miner.address)}{SHARES_PATH}{share_id}/"


def share_put(*, miner: Miner, share_id: UUID, sealed: bytes, root_hex: str, chunk_bytes: int) -> None:
    url = f"{_share_url(miner, share_id)}?root={root_hex}&chunk_bytes={chunk_bytes}"
    _, body = _request(
        method="PUT", url=url, peer_hotkey=miner.hotkey, body=sealed, max_bytes=MAX_JSON_BYTES, ok=(200, 201)
    )
    answer = _json(body)
    if answer.get("root") != root_hex or answer.get("size") != len(sealed):
        raise TransportFailure("malformed", "the miner acknowledged another root or size")


def share_get(*, miner: Miner, share_id: UUID, size: int) -> bytes:
    """The sealed bytes; the body is cut at `size` + 1, so never more is held."""
    _, body = _request(
        method="GET", url=_share_url(miner, share_id), peer_hotkey=miner.hotkey, max_bytes=size, ok=(200,)
    )
    if len(body) != size:
        raise TransportFailure("malformed", f"the share is {len(body)} bytes, not {size}")
    return body


def share_delete(*, miner: Miner, share_id: UUID) -> None:
    """Idempotent on the miner; a 404 (it never had it, or it is gone) is as good as a delete."""
    _request(
        method="DELETE",
        url=_share_url(miner, share_id),
        peer_hotkey=miner.hotkey,
        max_bytes=MAX_JSON_BYTES,
        ok=(200, 204, 404),
    )


def miner_space_available(*, miner: Miner) -> int:
    url = f"{miner_base_url(miner.address)}{SPACE_PATH}"
    _, body = _request(method="GET", url=url, peer_hotkey=miner.hotkey, max_bytes=MAX_JSON_BYTES, ok=(200,))
    available = _json(body).get("available_bytes")
    if not isinstance(available, int) or isinstance(available, bool) or available < 0:
        raise TransportFailure("malformed", "available_bytes is not a non-negative integer")
    return available


def staged_get(path: str, size: int) -> bytes:
    """The facilitator's staged plaintext at `path` (exactly `size` bytes, or TransportFailure)."""
    url = facilitator_base_url() + path
    _, body = _request(method="GET", url=url, peer_hotkey=settings.FACILITATOR_HOTKEY, max_bytes=size, ok=(200,))
    if len(body) != size:
        raise TransportFailure("malformed", f"the staged object is {len(body)} bytes, not {size}")
    return body


def retrieval_put(path: str, data: bytes) -> None:
    url = facilitator_base_url() + path
    _request(
        method="PUT",
        url=url,
        peer_hotkey=settings.FACILITATOR_HOTKEY,
        body=data,
        max_bytes=MAX_JSON_BYTES,
        ok=(200, 204),
    )


def share_audit_post(*, miner: Miner, share_id: UUID, challenge: bytes, max_bytes: int, timeout_s: float) -> bytes:
    """The miner's answer to an audit challenge, within `timeout_s` for the whole exchange."""
    url = f"{_share_url(miner, share_id)}audit/"
    _, body = _request(
        method="POST",
        url=url,
        peer_hotkey=miner.hotkey,
        body=challenge,
        max_bytes=max_bytes,
        ok=(200,),
        timeout_s=timeout_s,
    )
    return body
