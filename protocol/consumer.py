"""One websocket consumer base for every serving role: handshake first, then typed dispatch.

Malformed or unknown frames get an `ErrorMessage` back and a log line; the connection stays up.
A failing handler is answered with an INTERNAL error, never a crashed consumer."""

import asyncio
import enum
import logging
from typing import Any, ClassVar, Generic, TypeVar

from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from pydantic import BaseModel, TypeAdapter

from protocol.handshake import handshake_build, handshake_verify
from protocol.identity import node_hotkey
from protocol.messages.common import ErrorCode, ErrorMessage, Handshake
from protocol.nonces import RedisNonceStore
from protocol.wire import ProtocolError, decode, encode

logger = logging.getLogger(__name__)
IncomingT = TypeVar("IncomingT")
_handshake_adapter: TypeAdapter[Handshake] = TypeAdapter(Handshake)


class CloseCode(enum.IntEnum):
    HANDSHAKE_TIMEOUT = 4001
    UNAUTHENTICATED = 4003
    UNAUTHORIZED = 4004


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
        await self.accept()
        self._handshake_timer = asyncio.get_running_loop().call_later(
            self.handshake_timeout_s, lambda: asyncio.ensure_future(self._handshake_timed_out())
        )

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
        try:
            await self.disconnect(CRASH_CLOSE_CODE)
        except Exception:
            logger.exception("%s: cleanup after a crash failed", self.path)

    async def websocket_disconnect(self, message: dict[str, Any]) -> None:
        # A refused or vanished peer must not leave the timer holding the consumer open.
        self._handshake_timer.cancel()
        await super().websocket_disconnect(message)

    async def _handshake_timed_out(self) -> None:
        if self.peer_hotkey is None:
            await self.close(code=int(CloseCode.HANDSHAKE_TIMEOUT))

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        raw = text_data if text_data is not None else bytes_data
        try:
            if self.peer_hotkey is None:
                await self._handshake(raw)
                return
            message = decode(self.incoming, raw, max_bytes=settings.PROTOCOL_MAX_FRAME_BYTES)
        except ProtocolError as exc:
            logger.warning("%s: refused frame from %s: %s", self.path, self.peer_hotkey, exc)
            await self.send_message(exc.as_message())
            if self.peer_hotkey is None:
                self._handshake_timer.cancel()
                code = CloseCode.UNAUTHORIZED if exc.code == ErrorCode.UNAUTHORIZED else CloseCode.UNAUTHENTICATED
                await self.close(code=int(code))
            return
        try:
            await self.handle(message)
        except Exception:
            logger.exception("%s: handler failed for %s", self.path, type(message).__name__)
            await self.send_message(ErrorMessage(code=ErrorCode.INTERNAL, detail="handler failed"))

    async def _handshake(self, raw: str | bytes | None) -> None:
        hello = decode(_handshake_adapter, raw, max_bytes=64 * 1024)
        own = node_hotkey()
        await handshake_verify(
            message=hello,
            own_hotkey=own.ss58,
            path=self.path,
            nonces=_nonce_store(),
            max_age_s=settings.HANDSHAKE_MAX_AGE_S,
        )
        refusal = await self.authorize(hello.hotkey)
        if refusal is not None:
            raise ProtocolError(ErrorCode.UNAUTHORIZED, refusal)
        self._handshake_timer.cancel()
        self.peer_hotkey = hello.hotkey
        self.peer_crypto = hello.crypto
        reply = handshake_build(hotkey=own, peer_hotkey=hello.hotkey, path=self.path, peer_nonce=hello.nonce)
        await self.send_message(reply)
        await self.on_authenticated()

    async def send_message(self, message: BaseModel) -> None:
        await self.send(text_data=encode(message))


_store: RedisNonceStore | None = None


def _nonce_store() -> RedisNonceStore:
    # One client per process and event loop; daphne runs one loop per process.
    global _store
    if _store is None:
        _store = RedisNonceStore()
    return _store
