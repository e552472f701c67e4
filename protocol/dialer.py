"""The dialing side: open a websocket, run the mutual handshake, then send and receive typed
messages. Used by validators to reach facilitators and miners."""

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial
from typing import TypeVar

from django.conf import settings
from pydantic import BaseModel, TypeAdapter
from websockets.asyncio.client import ClientConnection, connect

from protocol.handshake import NonceStore, handshake_build, handshake_verify
from protocol.keys import Hotkey
from protocol.messages.common import ErrorMessage, Handshake
from protocol.tls import TlsRefusal, TlsRefusalReason, client_ssl_context, presented_fingerprint, tls_refusal_from_error
from protocol.version import NODE_VERSION
from protocol.version_gate import (
    VersionRefusal,
    predates_version_field,
    version_gate,
    version_minimum,
    version_refusal_from_error,
)
from protocol.wire import ProtocolError, decode, encode

logger = logging.getLogger(__name__)
T = TypeVar("T")
# A peer dropped for flooding rarely reads our close: its unread frames fill our receive queue, so
# its close frame never reaches us. Past this the TCP connection is cut.
DROP_CLOSE_TIMEOUT_S = 1.0
_handshake_or_error: TypeAdapter[Handshake | ErrorMessage] = TypeAdapter(Handshake | ErrorMessage)


class PeerConnection:
    def __init__(self, ws: ClientConnection, peer_hotkey: str, peer_crypto: str = "sr25519") -> None:
        self.ws = ws
        self.peer_hotkey = peer_hotkey
        self.peer_crypto = peer_crypto  # the signature scheme the peer's handshake used

    async def send(self, message: BaseModel) -> None:
        await self.ws.send(encode(message))

    async def recv(self, adapter: TypeAdapter[T], timeout: float | None = None) -> T:
        raw = await asyncio.wait_for(self.ws.recv(), timeout)
        return decode(adapter, raw, max_bytes=settings.PROTOCOL_MAX_FRAME_BYTES)

    async def drop(self, reason: str) -> None:
        """Close on a misbehaving peer (1008, policy violation, with the reason), without waiting long."""
        self.ws.close_timeout = DROP_CLOSE_TIMEOUT_S
        await self.ws.close(code=1008, reason=reason[:120])


async def dial_open(
    *, url: str, path: str, hotkey: Hotkey, peer_hotkey: str, nonces: NonceStore, timeout: float = 10.0
) -> PeerConnection:
    """Connect to `url` and prove both identities; the caller closes `conn.ws`. Raises
    ProtocolError if the peer is not who we dialed (TlsRefusal if the TLS channel is not bound to
    it, or TLS_PEERS forbids a plain URL; VersionRefusal if it runs a version below the subnet's
    minimum, or refused ours), OSError/TimeoutError if it cannot be reached."""
    tls = url.startswith("wss://")
    if not tls and settings.TLS_PEERS:
        raise TlsRefusal(TlsRefusalReason.PLAIN_REFUSED, f"TLS_PEERS is on: not dialing plain {url}")
    dial = partial(
        _dial_once, url=url, path=path, hotkey=hotkey, peer_hotkey=peer_hotkey, nonces=nonces, timeout=timeout
    )
    try:
        return await dial(announce=True)
    except ProtocolError as exc:
        if isinstance(exc, VersionRefusal):
            logger.warning("dial %s: %s", url, exc.detail)
            raise
        if not predates_version_field(exc):
            raise
        minimum = await version_minimum()
        if minimum is not None:
            refusal = VersionRefusal(f"peer predates version announcements; this subnet requires >= {minimum}")
            logger.warning("dial %s: %s", url, refusal.detail)
            raise refusal from exc
    # A peer from before `node_version` (no minimum is set, so it may stay): hello without it.
    return await dial(announce=False)


async def _dial_once(
    *, url: str, path: str, hotkey: Hotkey, peer_hotkey: str, nonces: NonceStore, timeout: float, announce: bool
) -> PeerConnection:
    tls = url.startswith("wss://")
    ws = await connect(
        url,
        open_timeout=timeout,
        max_size=settings.PROTOCOL_MAX_FRAME_BYTES,
        ping_interval=20,
        ping_timeout=20,
        ssl=client_ssl_context() if tls else None,
    )
    try:
        # The certificate we were shown: the server must have signed this one, and we sign it too.
        seen = presented_fingerprint(ws.transport) if tls else None
        hello = handshake_build(
            hotkey=hotkey,
            peer_hotkey=peer_hotkey,
            path=path,
            tls_fingerprint=seen,
            node_version=NODE_VERSION if announce else None,
        )
        await ws.send(encode(hello))
        reply = decode(_handshake_or_error, await asyncio.wait_for(ws.recv(), timeout), max_bytes=64 * 1024)
        if isinstance(reply, ErrorMessage):
            refusal = tls_refusal_from_error(reply) or version_refusal_from_error(reply)
            raise refusal or ProtocolError(reply.code, reply.detail)
        await handshake_verify(
            message=reply,
            own_hotkey=hotkey.ss58,
            path=path,
            nonces=nonces,
            max_age_s=settings.HANDSHAKE_MAX_AGE_S,
            expected_peer=peer_hotkey,
            expected_peer_nonce=hello.nonce,
            channel_fingerprint=seen,
            dialer=True,
        )
        await version_gate(reply.node_version)
    except BaseException:
        await ws.close()
        raise
    return PeerConnection(ws, peer_hotkey, reply.crypto)


@asynccontextmanager
async def dial(
    *, url: str, path: str, hotkey: Hotkey, peer_hotkey: str, nonces: NonceStore, timeout: float = 10.0
) -> AsyncIterator[PeerConnection]:
    conn = await dial_open(url=url, path=path, hotkey=hotkey, peer_hotkey=peer_hotkey, nonces=nonces, timeout=timeout)
    try:
        yield conn
    finally:
        await conn.ws.close()
