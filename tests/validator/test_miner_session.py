"""One job on one miner (validator/miner_session.py) against scripted miners over real websockets:
the honest path, declines, every way a miner fails us (as `InfrastructureFailure`), cancels, and
the one redial when a reused link turns out to be dead."""

import asyncio
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from websockets.asyncio.server import ServerConnection

from protocol.keys import Hotkey
from protocol.messages.common import JobResult
from protocol.messages.jobs import ExecutorReady, JobCancelled, JobFinished, JobStarted, VolumeReady
from protocol.messages.miner import DeclineReason, JobAccepted, JobCancel, JobDeclined, JobReserve, JobRun
from tests.factories import job_spec
from tests.validator.scripted_miner import Script, complete, scripted_miner
from validator.miner_links import MinerLinks
from validator.miner_session import Declined, InfrastructureFailure, MinerTarget, Progress, run_on_miner

SPEC = job_spec(timeout_s=2)
pytestmark = pytest.mark.usefixtures("fast_deadlines")


class Run:
    """One `run_on_miner` call, recording the progress it reports."""

    def __init__(self, miner_links: MinerLinks, miner_key: Hotkey) -> None:
        self.links = miner_links
        self.miner_key = miner_key
        self.progress: list[Progress] = []
        self.cancel = asyncio.Event()
        self.job_uuid = uuid.uuid4()

    async def on_progress(self, progress: Progress, detail: str | None) -> None:
        self.progress.append(progress)

    async def __call__(self, address: str) -> Any:
        return await run_on_miner(
            job_uuid=self.job_uuid,
            spec=SPEC,
            miner=MinerTarget(hotkey=self.miner_key.ss58, address=address),
            links=self.links,
            cancel=self.cancel,
            on_progress=self.on_progress,
        )


@pytest.fixture
def run(miner_links: MinerLinks, miner_key: Hotkey) -> Run:
    return Run(miner_links, miner_key)


async def _failure(run: Run, script: Script) -> InfrastructureFailure:
    async with scripted_miner(run.miner_key, script) as address:
        with pytest.raises(InfrastructureFailure) as info:
            await run(address)
    _assert_unsubscribed(run)
    return info.value


def _assert_unsubscribed(run: Run) -> None:
    for link in run.links.links.values():
        assert run.job_uuid not in link.queues


async def test_an_honest_miner_finishes_the_job_and_progress_is_reported(run: Run) -> None:
    async with scripted_miner(run.miner_key, complete) as address:
        ended = await run(address)
    assert ended.message == JobFinished(
        job_uuid=run.job_uuid, result=JobResult(exit_code=0, stdout="ok\n", executor_seconds=0.5)
    )
    assert run.progress == [Progress.ACCEPTED, Progress.STARTED]
    _assert_unsubscribed(run)


def runs_for(seconds: float, *, reported: float, send_started: bool = True) -> Script:
    """A miner that keeps the job `seconds` between JobStarted and its finish, then claims `reported`."""

    async def script(ws: ServerConnection, message: Any) -> None:
        if isinstance(message, JobReserve):
            await complete(ws, message)
        elif isinstance(message, JobRun):
            progress = (ExecutorReady, VolumeReady, JobStarted) if send_started else (ExecutorReady, VolumeReady)
            for kind in progress:
                await ws.send(kind(job_uuid=message.job_uuid).model_dump_json())
            await asyncio.sleep(seconds)
            result = JobResult(exit_code=0, executor_seconds=reported)
            await ws.send(JobFinished(job_uuid=message.job_uuid, result=result).model_dump_json())

    return script


async def test_the_session_times_the_job_from_its_start_to_its_end(run: Run) -> None:
    async with scripted_miner(run.miner_key, runs_for(0.3, reported=3600)) as address:
        ended = await run(address)
    # The miner's claim is passed on untouched; the observation is the validator's own clock.
    assert isinstance(ended.message, JobFinished)
    assert ended.message.result.executor_seconds == 3600
    assert 0.3 <= ended.observed_seconds < 0.3 + 0.2


async def test_a_job_whose_start_was_never_reported_was_observed_for_no_time(run: Run) -> None:
    async with scripted_miner(run.miner_key, runs_for(0.2, reported=5, send_started=False)) as address:
        ended = await run(address)
    assert isinstance(ended.message, JobFinished)
    assert ended.observed_seconds == 0.0
    assert run.progress == [Progress.ACCEPTED]


async def test_the_miner_sees_the_reservation_then_the_payload(run: Run) -> None:
    seen: list[Any] = []

    async def record(ws: ServerConnection, message: Any) -> None:
        seen.append(message)
        await complete(ws, message)

    async with scripted_miner(run.miner_key, record) as address:
        await run(address)
    assert seen == [
        JobReserve(job_uuid=run.job_uuid, executor_class=SPEC.executor_class, image=SPEC.image, timeout_s=2),
        JobRun(job_uuid=run.job_uuid, spec=SPEC),
    ]


async def test_a_decline_is_raised_as_declined_and_nothing_is_run(run: Run) -> None:
    seen: list[Any] = []

    async def busy(ws: ServerConnection, message: Any) -> None:
        seen.append(type(message))
        declined = JobDeclined(job_uuid=message.job_uuid, reason=DeclineReason.BUSY, detail="all taken")
        await ws.send(declined.model_dump_json())

    async with scripted_miner(run.miner_key, busy) as address:
        with pytest.raises(Declined) as info:
            await run(address)
    assert info.value.message == JobDeclined(job_uuid=run.job_uuid, reason=DeclineReason.BUSY, detail="all taken")
    assert seen == [JobReserve]
    assert run.progress == []
    _assert_unsubscribed(run)


async def test_silence_after_accepting_is_a_missed_stage_deadline(run: Run) -> None:
    async def stall(ws: ServerConnection, message: Any) -> None:
        if isinstance(message, JobReserve):
            await complete(ws, message)

    failure = await _failure(run, stall)
    assert (failure.reason, failure.detail) == ("deadline_exceeded", "no executor_ready within 0s")
    assert run.progress == [Progress.ACCEPTED]


async def test_no_answer_to_the_reservation_is_a_missed_deadline(run: Run) -> None:
    async def mute(ws: ServerConnection, message: Any) -> None:
        return None

    failure = await _failure(run, mute)
    assert (failure.reason, failure.detail) == ("deadline_exceeded", "no reservation within 2s")
    assert run.progress == []


async def test_a_wrong_reply_to_the_reservation_is_a_protocol_error(run: Run) -> None:
    async def starts_instead(ws: ServerConnection, message: Any) -> None:
        await ws.send(JobStarted(job_uuid=message.job_uuid).model_dump_json())

    failure = await _failure(run, starts_instead)
    assert (failure.reason, failure.detail) == ("miner_protocol_error", "expected accept/decline, got JobStarted")


async def test_an_out_of_place_message_while_running_is_a_protocol_error(run: Run) -> None:
    async def accepts_twice(ws: ServerConnection, message: Any) -> None:
        await ws.send(JobAccepted(job_uuid=message.job_uuid).model_dump_json())

    failure = await _failure(run, accepts_twice)
    assert (failure.reason, failure.detail) == ("miner_protocol_error", "unexpected JobAccepted")


async def test_a_miner_hanging_up_mid_job_is_gone(run: Run) -> None:
    async def hang_up(ws: ServerConnection, message: Any) -> None:
        if isinstance(message, JobReserve):
            await complete(ws, message)
        else:
            await ws.send(ExecutorReady(job_uuid=message.job_uuid).model_dump_json())
            await ws.close()

    failure = await _failure(run, hang_up)
    assert failure.reason == "miner_gone"
    assert "connection closed" in failure.detail


async def test_an_unreachable_miner(run: Run) -> None:
    async with scripted_miner(run.miner_key, complete) as address:
        pass  # nothing listens there any more
    with pytest.raises(InfrastructureFailure) as info:
        await run(address)
    assert info.value.reason == "miner_unreachable"
    assert info.value.detail.startswith("ConnectionRefusedError: ")


async def test_a_miner_with_the_wrong_identity_is_a_protocol_error(
    run: Run, make_hotkey: Callable[..., Hotkey]
) -> None:
    async with scripted_miner(make_hotkey(), complete) as address:
        with pytest.raises(InfrastructureFailure) as info:
            await run(address)
    assert info.value.reason == "miner_protocol_error"
    assert "handshake refused" in info.value.detail


async def test_a_cancel_is_forwarded_and_the_miners_cancelled_is_returned(run: Run) -> None:
    seen: list[Any] = []

    async def runs_until_cancelled(ws: ServerConnection, message: Any) -> None:
        seen.append(type(message))
        if isinstance(message, JobReserve):
            await complete(ws, message)
        elif isinstance(message, JobRun):
            for progress in (ExecutorReady, VolumeReady, JobStarted):
                await ws.send(progress(job_uuid=message.job_uuid).model_dump_json())
            run.cancel.set()
        elif isinstance(message, JobCancel):
            await ws.send(JobCancelled(job_uuid=message.job_uuid).model_dump_json())

    async with scripted_miner(run.miner_key, runs_until_cancelled) as address:
        ended = await run(address)
    assert ended.message == JobCancelled(job_uuid=run.job_uuid)
    assert seen == [JobReserve, JobRun, JobCancel]
    assert run.progress == [Progress.ACCEPTED, Progress.STARTED]


async def test_a_cancel_the_miner_ignores_ends_within_the_leeway(run: Run) -> None:
    async def ignores_cancels(ws: ServerConnection, message: Any) -> None:
        if isinstance(message, JobReserve):
            await complete(ws, message)
            run.cancel.set()

    failure = await _failure(run, ignores_cancels)
    assert (failure.reason, failure.detail) == ("deadline_exceeded", "no executor_ready within 0s")


async def test_a_reused_link_that_died_is_redialed_once_before_blaming_the_miner(run: Run) -> None:
    connections: list[ServerConnection] = []

    async def first_connection_dies(ws: ServerConnection, message: Any) -> None:
        if ws is connections[0]:
            await ws.close()
        else:
            await complete(ws, message)

    async with scripted_miner(run.miner_key, first_connection_dies, connections=connections) as address:
        ended = await run(address)
    assert isinstance(ended.message, JobFinished)
    assert len(connections) == 2
    assert run.progress == [Progress.ACCEPTED, Progress.STARTED]


async def test_a_miner_that_drops_every_link_is_gone_after_one_redial(run: Run) -> None:
    connections: list[ServerConnection] = []

    async def always_dies(ws: ServerConnection, message: Any) -> None:
        await ws.close()

    async with scripted_miner(run.miner_key, always_dies, connections=connections) as address:
        with pytest.raises(InfrastructureFailure) as info:
            await run(address)
    assert info.value.reason == "miner_gone"
    assert len(connections) == 2
