"""One websocket consumer base for every serving role: handshake first, then typed dispatch.

Malformed or unknown frames get an `ErrorMessage` back and a log line; the connection stays up.
A failing handler is answered with an INTERNAL error, never a crashed consumer.

Limits (docs/limits.md): connection attempts per address, frames per connection and per peer;
over-rate frames are answered RATE_LIMITED and not processed. Bad or over-rate frames are strikes;
enough of them ban the peer (BANNED, close 4029), and a banned peer is refused at the door."""

import asyncio
import enum
import ipaddress
import logging
from typing import Any, ClassVar, Generic, TypeVar

import structlog
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from pydantic import BaseModel, TypeAdapter

from protocol.buckets import TokenBucket
from protocol.handshake import handshake_build, handshake_verify
from protocol.identity import node_hotkey
from protocol.limits import Outcome, Verdict, peer_key_for_address, peer_key_for_hotkey, peer_limits
from protocol.messages.common import ErrorCode, ErrorMessage, Handshake
from protocol.metrics import PEER_SESSIONS
from protocol.nonces import RedisNonceStore
from protocol.tls import TlsConfigError, node_tls_fingerprint, node_tls_required
from protocol.version import NODE_VERSION
from protocol.version_gate import version_gate
from protocol.wire import ProtocolError, decode, encode

logger = logging.getLogger(__name__)
IncomingT = TypeVar("IncomingT")
_handshake_adapter: TypeAdapter[Handshake] = TypeAdapter(Handshake)


class CloseCode(enum.IntEnum):
    HANDSHAKE_TIMEOUT = 4001
    UNAUTHENTICATED = 4003
    UNAUTHORIZED = 4004
    RATE_LIMITED = 4008  # too many connection attempts from one address
    VERSION_TOO_OLD = 4026  # the peer runs a version below the subnet's minimum
    BANNED = 4029


_HANDSHAKE_CLOSE_CODES = {
    ErrorCode.UNAUTHORIZED: CloseCode.UNAUTHORIZED,
    ErrorCode.VERSION_TOO_OLD: CloseCode.VERSION_TOO_OLD,
}
CRASH_CLOSE_CODE = 1011  # what the ASGI server sends the peer when the application raised


class SignedConsumer(AsyncWebsocketConsumer, Generic[IncomingT]):  # type: ignore[misc]  # channels ships no types
    incoming: ClassVar[TypeAdapter[Any]]
    path: ClassVar[str]
    handshake_timeout_s: ClassVar[float] = 10.0

    peer_hotkey: str | None = None
    peer_crypto: str = "sr25519"  # the signature scheme of the peer's handshake

    async def authorize(self, peer_hotkey: str) -> str | None:
        """Return None to admit the peer, or a reason to refuse it."""
        raise NotImplementedError

    async def on_authenticated(self) -> None:
        """Called once the handshake passed both ways."""

    async def handle(self, message: IncomingT) -> None:
        raise NotImplementedError

    async def connect(self) -> None:
        self._bucket = TokenBucket(rate_per_s=settings.PROTOCOL_RATE_PER_S, burst=settings.PROTOCOL_RATE_BURST)
        self._closing = False  # set once the consumer decided to close: later frames are ignored
        self._address = _limited_address(self.scope)
        await self.accept()
        self._handshake_timer = asyncio.get_running_loop().call_later(
            self.handshake_timeout_s, lambda: asyncio.ensure_future(self._handshake_timed_out())
        )
        if self._address is not None:
            await self._admit_connection(peer_key_for_address(self._address))

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        try:
            await super().__call__(scope, receive, send)
        except Exception:
            # A crash outside any handler (the channel layer's Redis went away while the consumer
            # waited on it) skips websocket_disconnect: without this cleanup the node would keep the
            # link's state, e.g. a facilitator's session that jobs are still dispatched to.
            await self._cleanup_after_crash()
            raise

    async def _cleanup_after_crash(self) -> None:
        timer = getattr(self, "_handshake_timer", None)
        if timer is not None:
            timer.cancel()
        self._session_end()
        try:
            await self.disconnect(CRASH_CLOSE_CODE)
        except Exception:
            logger.exception("%s: cleanup after a crash failed", self.path)

    async def websocket_disconnect(self, message: dict[str, Any]) -> None:
        # A refused or vanished peer must not leave the timer holding the consumer open.
        self._handshake_timer.cancel()
        self._session_end()
        await super().websocket_disconnect(message)

    def _session_end(self) -> None:
        if getattr(self, "_counted", False):
            self._counted = False
            PEER_SESSIONS.labels(path=self.path).dec()

    async def _handshake_timed_out(self) -> None:
        if self.peer_hotkey is None and not self._closing:
            await self.close(code=int(CloseCode.HANDSHAKE_TIMEOUT))

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if self._closing:
            return
        raw = text_data if text_data is not None else bytes_data
        if self.peer_hotkey is None:
            await self._receive_handshake(raw)
            return
        if not await self._admit_frame(self.peer_hotkey):
            return
        try:
            message = decode(self.incoming, raw, max_bytes=settings.PROTOCOL_MAX_FRAME_BYTES)
        except ProtocolError as exc:
            logger.warning("%s: refused frame from %s: %s", self.path, self.peer_hotkey, exc)
            await self.send_message(exc.as_message())
            await self.strike(f"{exc.code}: {exc.detail[:200]}")
            return
        try:
            await self.handle(message)
        except Exception:
            logger.exception("%s: handler failed for %s", self.path, type(message).__name__)
            await self.send_message(ErrorMessage(code=ErrorCode.INTERNAL, detail="handler failed"))

    async def strike(self, reason: str) -> None:
        """Count one bad frame against the peer (its hotkey, or its address before the handshake);
        the strike that reaches PROTOCOL_BAN_STRIKES bans it and closes this connection."""
        peer = self._peer_key()
        if peer is None or not await peer_limits().strike(peer, reason=reason):
            return
        logger.warning("%s: banned %s for %.0f s: %s", self.path, peer, settings.PROTOCOL_BAN_S, reason)
        await self._close_banned(Verdict(Outcome.BANNED, retry_after_s=settings.PROTOCOL_BAN_S, reason=reason))

    async def _receive_handshake(self, raw: str | bytes | None) -> None:
        try:
            await self._handshake(raw)
        except ProtocolError as exc:
            logger.warning("%s: refused handshake from %s: %s", self.path, self._address, exc)
            await self.send_message(exc.as_message())
            self._handshake_timer.cancel()
            if exc.code != ErrorCode.VERSION_TOO_OLD:  # an honest old node is not misbehaving
                await self.strike(f"handshake {exc.code}: {exc.detail[:200]}")
            if not self._closing:
                self._closing = True
                await self.close(code=int(_HANDSHAKE_CLOSE_CODES.get(exc.code, CloseCode.UNAUTHENTICATED)))

    async def _handshake(self, raw: str | bytes | None) -> None:
        hello = decode(_handshake_adapter, raw, max_bytes=64 * 1024)
        own = node_hotkey()
        try:
            own_tls = node_tls_fingerprint()
        except TlsConfigError as exc:  # checked at start-up; the file went away since
            logger.error("%s: %s", self.path, exc)
            raise ProtocolError(ErrorCode.INTERNAL, "this node cannot read its TLS certificate") from exc
        await handshake_verify(
            message=hello,
            own_hotkey=own.ss58,
            path=self.path,
            nonces=_nonce_store(),
            max_age_s=settings.HANDSHAKE_MAX_AGE_S,
            # The dialer must have seen our certificate: not over plain ws, not through a relay.
            channel_fingerprint=own_tls if node_tls_required() else None,
        )
        # Checked once the signature proves the hotkey: nobody can get another peer refused.
        ban = await peer_limits().ban_get(peer_key_for_hotkey(hello.hotkey))
        if ban is not None:
            self._handshake_timer.cancel()
            await self._close_banned(Verdict(Outcome.BANNED, retry_after_s=ban.remaining_s, reason=ban.reason))
            return
        await version_gate(hello.node_version)
        refusal = await self.authorize(hello.hotkey)
        if refusal is not None:
            raise ProtocolError(ErrorCode.UNAUTHORIZED, refusal)
        self._handshake_timer.cancel()
        self.peer_hotkey = hello.hotkey
        self.peer_crypto = hello.crypto
        # Every later line this connection's task logs names its peer (protocol/logs.py).
        structlog.contextvars.bind_contextvars(peer=hello.hotkey)
        PEER_SESSIONS.labels(path=self.path).inc()
        self._counted = True
        reply = handshake_build(
            hotkey=own,
            peer_hotkey=hello.hotkey,
            path=self.path,
            peer_nonce=hello.nonce,
            tls_fingerprint=own_tls,
            # Only to a dialer that announced its own: one from before the field could not read it.
            node_version=NODE_VERSION if hello.node_version is not None else None,
        )
        await self.send_message(reply)
        await self.on_authenticated()

    async def _admit_connection(self, peer: str) -> None:
        verdict = await peer_limits().admit(
            peer, rate_per_s=settings.PROTOCOL_HANDSHAKE_RATE_PER_S, burst=settings.PROTOCOL_HANDSHAKE_BURST
        )
        if verdict.outcome is Outcome.BANNED:
            self._handshake_timer.cancel()
            await self._close_banned(verdict)
        elif verdict.outcome is Outcome.THROTTLED:
            logger.warning("%s: too many connections from %s", self.path, peer)
            self._handshake_timer.cancel()
            await self.send_message(_rate_limited("connections from this address", verdict.retry_after_s))
            await self.strike("too many connections")
            if not self._closing:
                self._closing = True
                await self.close(code=int(CloseCode.RATE_LIMITED))

    async def _admit_frame(self, hotkey: str) -> bool:
        """This connection's bucket first (no I/O), then the peer's across its connections."""
        retry_after = self._bucket.take()
        verdict = Verdict(Outcome.THROTTLED, retry_after_s=retry_after)
        if retry_after == 0:
            verdict = await peer_limits().admit(
                peer_key_for_hotkey(hotkey),
                rate_per_s=settings.PROTOCOL_PEER_RATE_PER_S,
                burst=settings.PROTOCOL_PEER_RATE_BURST,
            )
        if verdict.outcome is Outcome.ADMITTED:
            return True
        if verdict.outcome is Outcome.BANNED:  # by another of its connections, maybe in another process
            await self._close_banned(verdict)
            return False
        await self.send_message(_rate_limited("frames", verdict.retry_after_s))
        await self.strike("over the frame rate")
        return False

    async def _close_banned(self, verdict: Verdict) -> None:
        if self._closing:
            return
        self._closing = True
        detail = f"banned for {verdict.reason[:500]}; retry_after_s={verdict.retry_after_s:.3f}"
        await self.send_message(ErrorMessage(code=ErrorCode.BANNED, detail=detail))
        await self.close(code=int(CloseCode.BANNED))

    def _peer_key(self) -> str | None:
        if self.peer_hotkey is not None:
            return peer_key_for_hotkey(self.peer_hotkey)
        return None if self._address is None else peer_key_for_address(self._address)

    async def send_message(self, message: BaseModel) -> None:
        await self.send(text_data=encode(message))


_store: RedisNonceStore | None = None


def _nonce_store() -> RedisNonceStore:
    # One client per process and event loop; daphne runs one loop per process.
    global _store
    if _store is None:
        _store = RedisNonceStore()
    return _store


def _rate_limited(what: str, retry_after_s: float) -> ErrorMessage:
    return ErrorMessage(code=ErrorCode.RATE_LIMITED, detail=f"too many {what}; retry_after_s={retry_after_s:.3f}")


def _limited_address(scope: dict[str, Any]) -> str | None:
    """The remote address limits are keyed by before the handshake, or None when there is none
    to key by (no client in the scope, a unix socket, loopback unless PROTOCOL_LIMIT_LOOPBACK)."""
    client = scope.get("client")
    if not client:
        return None
    try:
        address = ipaddress.ip_address(client[0])
    except ValueError:
        return None
    if address.is_loopback and not settings.PROTOCOL_LIMIT_LOOPBACK:
        return None
    return str(address)
