"""One job on one miner: reserve, send the payload, follow progress until a terminal message.

Every way the miner can fail us (refused connection, dropped socket, silence past a stage
deadline, a frame that does not parse, a lie about which job) ends as `InfrastructureFailure`,
which the caller answers by trying another miner."""

import asyncio
import enum
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from uuid import UUID

from django.conf import settings
from pydantic import TypeAdapter
from websockets.exceptions import WebSocketException

from protocol.dialer import PeerConnection, dial
from protocol.handshake import NonceStore
from protocol.keys import Hotkey
from protocol.messages.common import ErrorMessage, JobSpec
from protocol.messages.jobs import (
    ExecutorReady,
    JobCancelled,
    JobFailed,
    JobFinished,
    JobStarted,
    VolumeReady,
)
from protocol.messages.miner import JobAccepted, JobCancel, JobDeclined, JobReserve, JobRun, MinerToValidator
from protocol.wire import ProtocolError

log = logging.getLogger(__name__)
_from_miner: TypeAdapter[object] = TypeAdapter(MinerToValidator)
MINER_PATH = "/v1/miner/"
Terminal = JobFinished | JobFailed | JobCancelled
ProgressCallback = Callable[[str, str | None], Awaitable[None]]


class InfrastructureFailure(Exception):
    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


class Declined(Exception):
    def __init__(self, message: JobDeclined) -> None:
        super().__init__(f"{message.reason}: {message.detail}")
        self.message = message


class Stage(enum.StrEnum):
    EXECUTOR = "executor_ready"
    VOLUME = "volume_ready"
    START = "started"
    RUN = "finished"


@dataclass
class MinerTarget:
    hotkey: str
    address: str


async def run_on_miner(
    *,
    job_uuid: UUID,
    spec: JobSpec,
    miner: MinerTarget,
    hotkey: Hotkey,
    nonces: NonceStore,
    cancel: asyncio.Event,
    on_progress: ProgressCallback,
) -> Terminal:
    try:
        async with dial(
            url=f"ws://{miner.address}{MINER_PATH}",
            path=MINER_PATH,
            hotkey=hotkey,
            peer_hotkey=miner.hotkey,
            nonces=nonces,
            timeout=settings.VALIDATOR_RESERVE_TIMEOUT_S,
        ) as conn:
            await _reserve(conn, job_uuid, spec)
            await on_progress("accepted", None)
            await conn.send(JobRun(job_uuid=job_uuid, spec=spec))
            return await _follow(conn, job_uuid, spec, cancel, on_progress)
    except (OSError, TimeoutError, WebSocketException) as exc:
        raise InfrastructureFailure("miner_unreachable", f"{type(exc).__name__}: {exc}") from exc
    except ProtocolError as exc:
        raise InfrastructureFailure("miner_protocol_error", str(exc)) from exc


async def _reserve(conn: PeerConnection, job_uuid: UUID, spec: JobSpec) -> None:
    await conn.send(
        JobReserve(job_uuid=job_uuid, executor_class=spec.executor_class, image=spec.image, timeout_s=spec.timeout_s)
    )
    reply = await _recv(conn, job_uuid, settings.VALIDATOR_RESERVE_TIMEOUT_S, "reservation")
    if isinstance(reply, JobDeclined):
        raise Declined(reply)
    if not isinstance(reply, JobAccepted):
        raise InfrastructureFailure("miner_protocol_error", f"expected accept/decline, got {type(reply).__name__}")


async def _follow(
    conn: PeerConnection, job_uuid: UUID, spec: JobSpec, cancel: asyncio.Event, on_progress: ProgressCallback
) -> Terminal:
    leeway = settings.VALIDATOR_STAGE_LEEWAY_S
    budgets = {
        Stage.EXECUTOR: leeway,
        Stage.VOLUME: settings.EXECUTOR_URL_FETCH_TIMEOUT_S + leeway,
        Stage.START: leeway,
        Stage.RUN: spec.timeout_s + leeway,
    }
    stage = Stage.EXECUTOR
    cancel_sent = False
    while True:
        if cancel.is_set() and not cancel_sent:
            await conn.send(JobCancel(job_uuid=job_uuid))
            cancel_sent = True
            budgets[stage] = leeway
        message = await _recv_or_cancel(conn, job_uuid, budgets[stage], stage, cancel, cancel_sent)
        if message is None:
            continue
        if isinstance(message, JobFinished | JobFailed | JobCancelled):
            return message
        if isinstance(message, ExecutorReady):
            stage = Stage.VOLUME
        elif isinstance(message, VolumeReady):
            stage = Stage.START
        elif isinstance(message, JobStarted):
            stage = Stage.RUN
            await on_progress("started", None)
        elif isinstance(message, ErrorMessage):
            log.warning("miner %s sent error %s: %s", conn.peer_hotkey, message.code, message.detail)
        else:
            raise InfrastructureFailure("miner_protocol_error", f"unexpected {type(message).__name__}")


async def _recv_or_cancel(
    conn: PeerConnection, job_uuid: UUID, budget: float, stage: Stage, cancel: asyncio.Event, cancel_sent: bool
) -> object | None:
    """The next message, or None when a cancel request arrives first (so it can be forwarded)."""
    recv = asyncio.ensure_future(_recv(conn, job_uuid, budget, stage))
    if cancel_sent:
        return await recv
    waiter = asyncio.ensure_future(cancel.wait())
    done, _ = await asyncio.wait({recv, waiter}, return_when=asyncio.FIRST_COMPLETED)
    if recv in done:
        waiter.cancel()
        return recv.result()
    recv.cancel()
    return None


async def _recv(conn: PeerConnection, job_uuid: UUID, budget: float, stage: str) -> object:
    try:
        message = await conn.recv(_from_miner, timeout=budget)
    except TimeoutError as exc:
        raise InfrastructureFailure("deadline_exceeded", f"no {stage} within {budget:.0f}s") from exc
    mentioned = getattr(message, "job_uuid", job_uuid)
    if mentioned != job_uuid:
        raise InfrastructureFailure("miner_protocol_error", f"miner reported on job {mentioned}")
    return message
