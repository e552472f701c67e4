"""A real HTTP/1.1 server on loopback playing miners' `GET /api/v1/receipts/`, honest or hostile.

One server, many miners: each is a route `http://127.0.0.1:PORT/<name>` (its `Miner.address`), with
a handler that gets the query and returns a `Reply`. It runs in its own thread and event loop, so
sync and async tests use it alike, and it counts the bytes it managed to send each miner's reader."""

import asyncio
import hashlib
import json
import threading
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

from protocol.keys import Hotkey
from protocol.receipts import (
    IntervalPayload,
    JobAcceptedPayload,
    JobFinishedPayload,
    JobStartedPayload,
    Outcome,
    ReceiptPayload,
    receipt_assemble,
    receipt_sign,
)


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0  # before the status line
    stream: Callable[[], AsyncIterator[bytes]] | None = None  # a body without Content-Length, ended by close


Handler = Callable[[dict[str, str]], Awaitable[Reply]]


def json_reply(data: Any) -> Reply:
    return Reply(body=json.dumps(data).encode(), headers={"Content-Type": "application/json"})


class MinerServer:
    def __init__(self) -> None:
        self.routes: dict[str, Handler] = {}
        self.sent: dict[str, int] = {}  # bytes of body written per route
        self.requests: dict[str, list[dict[str, str]]] = {}
        self.port = 0
        self.loop = asyncio.new_event_loop()
        self.stop = threading.Event()

    def add(self, name: str, handler: Handler) -> str:
        self.routes[name] = handler
        self.sent[name] = 0
        self.requests[name] = []
        return f"http://127.0.0.1:{self.port}/{name}"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            target = head.split(b" ", 2)[1].decode()
            parts = urlsplit(target)
            name = parts.path.strip("/").split("/", 1)[0]
            query = {k: v[0] for k, v in parse_qs(parts.query).items()}
            handler = self.routes.get(name)
            if handler is None or not parts.path.endswith("/api/v1/receipts/"):
                writer.write(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                return
            self.requests[name].append(query)
            reply = await handler(query)
            await asyncio.sleep(reply.delay_s)
            headers = dict(reply.headers, Connection="close")
            if reply.stream is None:
                headers.setdefault("Content-Length", str(len(reply.body)))
            lines = [f"HTTP/1.1 {reply.status} X"] + [f"{k}: {v}" for k, v in headers.items()]
            writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
            chunks = reply.stream() if reply.stream is not None else _once(reply.body)
            async for chunk in chunks:
                if self.stop.is_set():
                    return
                writer.write(chunk)
                await writer.drain()
                self.sent[name] += len(chunk)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass  # the reader hung up: that is what a bounded reader does
        finally:
            writer.close()

    @contextmanager
    def running(self) -> Iterator["MinerServer"]:
        started = threading.Event()

        async def main() -> None:
            server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
            self.port = server.sockets[0].getsockname()[1]
            started.set()
            async with server:
                while not self.stop.is_set():
                    await asyncio.sleep(0.05)
            server.close()
            pending = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)

        thread = threading.Thread(target=self.loop.run_until_complete, args=(main(),), daemon=True)
        thread.start()
        started.wait(5)
        try:
            yield self
        finally:
            self.stop.set()
            thread.join(5)
            self.loop.close()


async def _once(body: bytes) -> AsyncIterator[bytes]:
    yield body


# --- receipts


def key(name: str) -> Hotkey:
    return Hotkey.from_seed(hashlib.sha256(name.encode()).hexdigest())


def signed(payload: ReceiptPayload, *, validator: Hotkey, miner: Hotkey) -> dict[str, Any]:
    receipt = receipt_assemble(
        payload, validator_signature=receipt_sign(payload, validator), miner_signature=receipt_sign(payload, miner)
    )
    return receipt.model_dump(mode="json")


def job_payloads(
    *,
    validator: Hotkey,
    miner: Hotkey,
    netuid: int = 1,
    seconds: float = 30.0,
    at: datetime | None = None,
    timeout_s: int = 600,
    executor_class: str = "cpu.small",
) -> list[ReceiptPayload]:
    """One organic job's four receipts: started, accepted, its first interval, finished."""
    end = at or datetime.now(UTC) - timedelta(minutes=5)
    start = end - timedelta(seconds=seconds + 2)
    common: dict[str, Any] = {
        "netuid": netuid,
        "job_uuid": uuid.uuid4(),
        "validator_hotkey": validator.ss58,
        "miner_hotkey": miner.ss58,
        "executor_class": executor_class,
    }
    return [
        JobStartedPayload(**common, at=start, timeout_s=timeout_s, ttl_s=30),
        JobAcceptedPayload(**common, at=start + timedelta(seconds=1)),
        IntervalPayload(**common, at=end, index=1, seconds=seconds),
        JobFinishedPayload(
            **common, at=end, started_at=start + timedelta(seconds=1), seconds=seconds, outcome=Outcome.COMPLETED
        ),
    ]


def job_receipts(*, validator: Hotkey, miner: Hotkey, **kwargs: Any) -> list[dict[str, Any]]:
    return [
        signed(p, validator=validator, miner=miner) for p in job_payloads(validator=validator, miner=miner, **kwargs)
    ]


def paged(receipts: list[dict[str, Any]], *, size: int) -> Handler:
    """An honest miner: oldest first, `next` the offset of the following page, null at the end."""

    async def handle(query: dict[str, str]) -> Reply:
        start = int(query.get("cursor", "0"))
        end = start + size
        return json_reply({"results": receipts[start:end], "next": str(end) if end < len(receipts) else None})

    return handle
