"""A miner peer driven by a script, over a real websocket with the real signed handshake: for
testing how the validator copes with miners that are slow, busy, lying or gone."""

import asyncio
import contextlib
import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextvars import ContextVar
from typing import Any, cast

from pydantic import TypeAdapter
from websockets.asyncio.server import ServerConnection, serve

from protocol.handshake import handshake_build
from protocol.keys import Hotkey
from protocol.messages.common import Handshake, JobResult, JobSpec
from protocol.messages.jobs import ExecutorReady, JobFinished, JobStarted, VolumeReady
from protocol.messages.miner import (
    JobAccepted,
    JobReserve,
    JobRun,
    ReceiptCountersigned,
    ReceiptOffer,
    ShareSubscribe,
    ValidatorToMiner,
)
from protocol.receipts import receipt_index, receipt_sign
from tests.receipts import job_accepted
from validator.miner_links import MinerLinks
from validator.miner_session import Ended, MinerTarget, Progress, run_on_miner

Script = Callable[[ServerConnection, Any], Awaitable[None]]
_incoming: TypeAdapter[Any] = TypeAdapter(ValidatorToMiner)
# The key of the scripted miner serving the current connection (scripts sign receipts with it).
miner_key: ContextVar[Hotkey] = ContextVar("scripted_miner_key")


def accepted_for(reserve: JobReserve) -> JobAccepted:
    """An honest JobAccepted: the reservation countersigned, the job_accepted receipt signed."""
    return job_accepted(reserve, miner_key.get())


def countersigned_for(offer: ReceiptOffer) -> ReceiptCountersigned:
    payload = offer.payload
    return ReceiptCountersigned(
        job_uuid=payload.job_uuid,
        kind=payload.kind,
        index=receipt_index(payload),
        signature=receipt_sign(payload, miner_key.get()),
    )


async def complete(ws: ServerConnection, message: Any) -> None:
    """An honest miner: accept, then report the job's progress and a clean finish; countersign
    every receipt offered."""
    if isinstance(message, JobReserve):
        await ws.send(accepted_for(message).model_dump_json())
    elif isinstance(message, ReceiptOffer):
        await ws.send(countersigned_for(message).model_dump_json())
    elif isinstance(message, JobRun):
        for progress in (ExecutorReady, VolumeReady, JobStarted):
            await ws.send(progress(job_uuid=message.job_uuid).model_dump_json())
        result = JobResult(exit_code=0, stdout="ok\n", executor_seconds=0.5)
        await ws.send(JobFinished(job_uuid=message.job_uuid, result=result).model_dump_json())


class _Accepting:
    """The connection as a script sees it, noting the jobs the script accepted."""

    def __init__(self, ws: ServerConnection) -> None:
        self.ws = ws
        self.accepted: set[uuid.UUID] = set()

    async def send(self, text: str) -> None:
        with contextlib.suppress(ValueError, TypeError, KeyError, AttributeError):  # scripts send garbage too
            frame = json.loads(text)
            if frame.get("type") == "job.accepted":
                self.accepted.add(uuid.UUID(frame["job_uuid"]))
        await self.ws.send(text)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.ws, name)


@contextlib.asynccontextmanager
async def scripted_miner(
    hotkey: Hotkey,
    script: Script,
    *,
    connections: list[ServerConnection] | None = None,
    on_connect: Callable[[ServerConnection], Awaitable[None]] | None = None,
) -> AsyncIterator[str]:
    """Serves on a free loopback port; yields its "host:port". Each connection that sends a hello
    is appended to `connections`, if given (to count dials, or script by connection);
    `on_connect` runs right after the handshake (a miner sends its manifest then)."""

    async def handler(ws: ServerConnection) -> None:
        miner_key.set(hotkey)
        hello = Handshake.model_validate_json(await ws.recv())
        seen = _Accepting(ws)
        conn = cast(ServerConnection, seen)
        if connections is not None:
            connections.append(conn)  # what scripts get: identity checks hold
        reply = handshake_build(hotkey=hotkey, peer_hotkey=hello.hotkey, path=hello.path, peer_nonce=hello.nonce)
        await ws.send(reply.model_dump_json())
        if on_connect is not None:
            await on_connect(ws)
        async for raw in ws:
            message = _incoming.validate_json(raw)
            if isinstance(message, ShareSubscribe):
                continue  # every link asks for its share standing; scripts play a miner that never sends one
            await script(conn, message)
            # A pipelined payload: a real miner that accepted starts the job as if JobRun came.
            if isinstance(message, JobReserve) and message.spec is not None and message.job_uuid in seen.accepted:
                await script(conn, JobRun(job_uuid=message.job_uuid, spec=message.spec))

    async with serve(handler, "127.0.0.1", 0) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        yield f"127.0.0.1:{port}"
        server.close()
        await asyncio.sleep(0)


class SessionRun:
    """One `run_on_miner` call against a scripted miner, recording the progress it reports."""

    def __init__(self, miner_links: MinerLinks, miner_key: Hotkey, spec: JobSpec) -> None:
        self.links = miner_links
        self.miner_key = miner_key
        self.spec = spec
        self.progress: list[Progress] = []
        self.cancel = asyncio.Event()
        self.job_uuid = uuid.uuid4()

    async def on_progress(self, progress: Progress, detail: JobStarted | None) -> None:
        self.progress.append(progress)

    async def __call__(self, address: str) -> Ended:
        return await run_on_miner(
            job_uuid=self.job_uuid,
            spec=self.spec,
            miner=MinerTarget(hotkey=self.miner_key.ss58, address=address),
            links=self.links,
            cancel=self.cancel,
            on_progress=self.on_progress,
        )
