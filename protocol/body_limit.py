"""An ASGI wrapper that refuses an oversized HTTP body before anything reads it.

Django's ASGI handler spools the whole body to disk before the view runs, so a view's own size
check comes too late to stop a user (or peer) from making this node write gigabytes. This answers
`413` from the `Content-Length` alone, and cuts a body sent without one (chunked) as soon as it
passes the limit. Limits are per path prefix: the storage uploads' (docs/storage.md)."""

import json
from collections.abc import Awaitable, Callable
from typing import Any

Scope = Any
Message = Any
Receive = Callable[[], Awaitable[Any]]
Send = Callable[[Any], Awaitable[None]]
App = Callable[[Any, Any, Any], Awaitable[None]]


class BodyTooLarge(Exception):
    pass


class BodyLimit:
    def __init__(self, app: App, limits: Callable[[], list[tuple[str, int]]]) -> None:
        self.app = app
        self.limits = limits  # [(path prefix, max bytes)], read per request (settings may change in tests)

    def _limit(self, path: str) -> int | None:
        for prefix, limit in self.limits():
            if path.startswith(prefix):
                return limit
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        limit = self._limit(scope.get("path", "")) if scope["type"] == "http" else None
        if limit is None:
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers", []))
        declared = headers.get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            await _refuse(send, limit)
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise BodyTooLarge(f"more than {limit} bytes")
            return message

        try:
            await self.app(scope, counted, send)
        except BodyTooLarge:
            await _refuse(send, limit)


async def _refuse(send: Send, limit: int) -> None:
    body = json.dumps({"body": [f"the body is larger than the limit of {limit} bytes"], "reason": "too_large"})
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body.encode()})
