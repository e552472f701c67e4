"""One validator link's benchmarks. A `BenchmarkStart` is checked as a whole first (no more
challenges than this miner has executors, no repeated ids: else a typed error and nothing runs),
then every challenge starts at once, each claiming the exact executor it names. pow is answered
with the nonces; matmul with a Merkle root over C's rows, C being kept for the opening."""

import asyncio
import base64
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from uuid import UUID

from django.conf import settings
from pydantic import BaseModel

from executor.runtime.benchmark import BenchmarkOutcome, benchmark_run
from miner.benchmarks.commitments import COMMITMENTS, Commitment
from miner.benchmarks.ratelimit import start_allowed
from miner.models import AcceptedJob
from miner.selectors import executor_slot_count
from miner.services.benchmarks import BenchmarkRefusal, benchmark_claim
from miner.services.jobs import job_finish
from protocol.benchmarks.matmul import commit_rows, merkle_path
from protocol.database import db_sync_to_async
from protocol.logs import bind_job
from protocol.messages.benchmarks import (
    BenchmarkFailed,
    BenchmarkFailReason,
    BenchmarkStart,
    Challenge,
    MatmulCommit,
    MatmulOpening,
    OpenRequest,
    PowAnswer,
    RowOpening,
)
from protocol.messages.common import ErrorCode, ErrorMessage
from protocol.tunables import tunable

logger = logging.getLogger(__name__)
Send = Callable[[BaseModel], Awaitable[None]]


def start_refusal(message: BenchmarkStart, *, executors: int) -> ErrorMessage | None:
    ids = [c.challenge_id for c in message.challenges]
    if len(set(ids)) != len(ids):
        return ErrorMessage(code=ErrorCode.MALFORMED, detail=f"cycle {message.cycle}: repeated challenge ids")
    if len(ids) > executors:
        detail = f"cycle {message.cycle}: {len(ids)} challenges for the {executors} executors of this miner"
        return ErrorMessage(code=ErrorCode.TOO_LARGE, detail=detail)
    return None


@dataclass
class BenchmarkSession:
    validator_hotkey: str
    send: Send
    owner: str
    running: dict[UUID, asyncio.Event] = field(default_factory=dict)
    tasks: set[asyncio.Task[None]] = field(default_factory=set)

    async def start(self, message: BenchmarkStart) -> None:
        refusal = start_refusal(message, executors=await db_sync_to_async(executor_slot_count)())
        if refusal is None and any(c.challenge_id in self.running for c in message.challenges):
            refusal = ErrorMessage(code=ErrorCode.MALFORMED, detail="a challenge id of a running challenge")
        if refusal is None and not start_allowed(self.validator_hotkey):
            limit = tunable("MINER_BENCH_MAX_STARTS_PER_HOUR")
            refusal = ErrorMessage(code=ErrorCode.REFUSED, detail=f"more than {limit} benchmark starts in an hour")
        if refusal is not None:
            logger.warning("benchmark start from %s refused: %s", self.validator_hotkey, refusal.detail)
            await self.send(refusal)
            return
        for challenge in message.challenges:
            self.running[challenge.challenge_id] = asyncio.Event()
            with bind_job(challenge.challenge_id):
                task = asyncio.create_task(self._run(challenge))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)

    def cancel_all(self) -> None:
        """The validator is gone: nobody will read the answers."""
        for cancel in self.running.values():
            cancel.set()

    async def _run(self, challenge: Challenge) -> None:
        uuid = challenge.challenge_id
        try:
            try:
                slot, limits = await db_sync_to_async(benchmark_claim)(
                    validator_hotkey=self.validator_hotkey, challenge=challenge
                )
            except BenchmarkRefusal as exc:
                await self._send(BenchmarkFailed(challenge_id=uuid, reason=exc.reason, detail=exc.detail[:1000]))
                return
            outcome: BenchmarkOutcome | None = None
            try:
                outcome = await benchmark_run(
                    challenge=challenge,
                    limits=limits,
                    docker_url=slot.host.docker_url,
                    owner=self.owner,
                    image=settings.MINER_BENCH_IMAGE,
                    cancel=self.running[uuid],
                )
                await self._send(await self._answer(challenge, outcome))
            finally:
                await db_sync_to_async(job_finish)(
                    job_uuid=uuid,
                    status=AcceptedJob.Status.FINISHED if outcome and outcome.ok else AcceptedJob.Status.FAILED,
                    seconds=outcome.executor_seconds if outcome else None,
                    reason=outcome.reason if outcome else "executor_crashed",
                )
        except Exception:
            logger.exception("benchmark %s for %s crashed", uuid, self.validator_hotkey)
            await self._send(BenchmarkFailed(challenge_id=uuid, reason=BenchmarkFailReason.EXECUTOR_FAILED))
        finally:
            self.running.pop(uuid, None)

    async def _answer(self, challenge: Challenge, outcome: BenchmarkOutcome) -> BaseModel:
        uuid = challenge.challenge_id
        if not outcome.ok:
            return BenchmarkFailed(challenge_id=uuid, reason=outcome.reason, detail=outcome.detail)
        if outcome.nonces is not None:
            return PowAnswer(challenge_id=uuid, nonces=outcome.nonces)
        assert outcome.matrix is not None
        root, levels = await asyncio.to_thread(commit_rows, outcome.matrix)
        if not COMMITMENTS.put((self.validator_hotkey, uuid), Commitment(matrix=outcome.matrix, levels=levels)):
            return BenchmarkFailed(challenge_id=uuid, reason=BenchmarkFailReason.TOO_LARGE, detail="C too big to keep")
        return MatmulCommit(challenge_id=uuid, root=root.hex())

    async def open(self, request: OpenRequest) -> None:
        uuid = request.challenge_id
        commitment = COMMITMENTS.take((self.validator_hotkey, uuid))
        if commitment is None:
            detail = f"no commitment for {uuid} (never made, expired or already opened)"
            await self.send(
                BenchmarkFailed(challenge_id=uuid, reason=BenchmarkFailReason.UNKNOWN_CHALLENGE, detail=detail)
            )
            return
        n = commitment.matrix.shape[0]
        if any(row >= n for row in request.rows):
            COMMITMENTS.put((self.validator_hotkey, uuid), commitment)  # a bad request does not use it up
            detail = f"rows outside the {n} rows of C"
            await self.send(BenchmarkFailed(challenge_id=uuid, reason=BenchmarkFailReason.MALFORMED, detail=detail))
            return
        rows = [
            RowOpening(
                index=i,
                row_b64=base64.b64encode(commitment.matrix[i].astype("<f4").tobytes()).decode(),
                path=[h.hex() for h in merkle_path(commitment.levels, i)],
            )
            for i in request.rows
        ]
        await self.send(MatmulOpening(challenge_id=uuid, rows=rows))

    async def _send(self, message: BaseModel) -> None:
        try:
            await self.send(message)
        except Exception:  # the validator may be gone; the job's end is recorded regardless
            logger.warning("could not send %s to %s", type(message).__name__, self.validator_hotkey)
