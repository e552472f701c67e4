"""One job on one miner (validator/miner_session.py) against scripted miners over real websockets:
the honest path, declines, every way a miner fails us (as `InfrastructureFailure`), cancels, the
one redial when a reused link turns out to be dead, and the receipts traded on the way."""

import asyncio
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.conf import settings
from websockets.asyncio.server import ServerConnection

from protocol.keys import Hotkey
from protocol.messages.common import JobResult
from protocol.messages.jobs import ExecutorReady, JobCancelled, JobFinished, JobStarted, VolumeReady
from protocol.messages.miner import (
    RESERVATION_TTL_S,
    DeclineReason,
    JobCancel,
    JobDeclined,
    JobReserve,
    JobRun,
    ReceiptCountersign,
    ReceiptOffer,
    SignedAccepted,
)
from protocol.receipts import PAYLOAD_ADAPTER, receipt_sign, signed_by
from tests.factories import job_spec
from tests.validator.scripted_miner import Script, SessionRun, accepted_for, complete, scripted_miner
from validator.miner_session import Declined, InfrastructureFailure, Progress
from validator.models import ReceiptRecord
from validator.services.own_receipts import billed_seconds

SPEC = job_spec(timeout_s=2)  # what the `run` fixture runs
ENV_SPEC = job_spec(timeout_s=2, env={"TOKEN": "secret"})  # its payload follows the acceptance
# Receipts are stored from the session's database thread: rows must be committed.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("fast_deadlines", "close_async_db")]


async def _failure(run: SessionRun, script: Script) -> InfrastructureFailure:
    async with scripted_miner(run.miner_key, script) as address:
        with pytest.raises(InfrastructureFailure) as info:
            await run(address)
    _assert_unsubscribed(run)
    return info.value


def _assert_unsubscribed(run: SessionRun) -> None:
    for link in run.links.links.values():
        assert run.job_uuid not in link.queues


async def test_an_honest_miner_finishes_the_job_and_progress_is_reported(run: SessionRun) -> None:
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
        else:
            await complete(ws, message)  # countersigns the receipts offered

    return script


async def test_the_session_times_the_job_from_its_start_to_its_end(run: SessionRun) -> None:
    async with scripted_miner(run.miner_key, runs_for(0.3, reported=3600)) as address:
        ended = await run(address)
    # The miner's claim is passed on untouched; the observation is the validator's own clock.
    assert isinstance(ended.message, JobFinished)
    assert ended.message.result.executor_seconds == 3600
    assert 0.3 <= ended.observed_seconds < 0.3 + 0.2


async def test_a_job_whose_start_was_never_reported_was_observed_for_no_time(run: SessionRun) -> None:
    async with scripted_miner(run.miner_key, runs_for(0.2, reported=5, send_started=False)) as address:
        ended = await run(address)
    assert isinstance(ended.message, JobFinished)
    assert ended.observed_seconds == 0.0
    assert run.progress == [Progress.ACCEPTED]


async def test_the_miner_sees_the_reservation_then_the_payload(run: SessionRun) -> None:
    seen: list[Any] = []

    async def record(ws: ServerConnection, message: Any) -> None:
        seen.append(message)
        await complete(ws, message)

    run.spec = ENV_SPEC  # with env: not pipelined (test_miner_session_pipelined.py)
    async with scripted_miner(run.miner_key, record) as address:
        await run(address)
    assert [type(m) for m in seen] == [JobReserve, JobRun, ReceiptCountersign, ReceiptOffer]
    reserve, job_run = seen[0], seen[1]
    assert reserve.spec is None
    assert reserve.job_uuid == run.job_uuid
    assert (reserve.executor_class, reserve.image, reserve.timeout_s) == (SPEC.executor_class, SPEC.image, 2)
    assert job_run == JobRun(job_uuid=run.job_uuid, spec=ENV_SPEC)
    # The reservation is signed by the validator and names this job, class, miner and timeout.
    started = reserve.started.payload
    assert (started.job_uuid, started.executor_class, started.timeout_s) == (run.job_uuid, SPEC.executor_class, 2)
    assert (started.miner_hotkey, started.validator_hotkey) == (run.miner_key.ss58, run.links.hotkey.ss58)
    assert (started.netuid, started.ttl_s) == (settings.CHAIN_NETUID, RESERVATION_TTL_S)
    assert signed_by(started, signer="validator", signature=reserve.started.signature)
    assert seen[3].payload.kind == "job_finished"


async def test_a_decline_is_raised_as_declined_and_nothing_is_run(run: SessionRun) -> None:
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


async def test_silence_after_accepting_is_a_missed_stage_deadline(run: SessionRun) -> None:
    async def stall(ws: ServerConnection, message: Any) -> None:
        if isinstance(message, JobReserve):
            await complete(ws, message)

    failure = await _failure(run, stall)
    assert (failure.reason, failure.detail) == ("deadline_exceeded", "no executor_ready within 0s")
    assert run.progress == [Progress.ACCEPTED]


async def _cancel_seen(seen: asyncio.Event) -> bool:
    try:
        await asyncio.wait_for(seen.wait(), timeout=10)
    except TimeoutError:
        return False
    return True


async def test_a_miner_that_missed_a_stage_deadline_is_told_to_cancel_the_abandoned_job(run: SessionRun) -> None:
    cancelled = asyncio.Event()

    async def slow_to_start(ws: ServerConnection, message: Any) -> None:
        if isinstance(message, JobReserve):
            await complete(ws, message)
        elif isinstance(message, JobCancel) and message.job_uuid == run.job_uuid:
            cancelled.set()

    async with scripted_miner(run.miner_key, slow_to_start) as address:
        with pytest.raises(InfrastructureFailure) as info:
            await run(address)
        assert info.value.reason == "deadline_exceeded"
        assert await _cancel_seen(cancelled), "the miner was left running a job the validator retries elsewhere"


async def test_a_miner_that_broke_the_protocol_mid_job_is_told_to_cancel_it(run: SessionRun) -> None:
    cancelled = asyncio.Event()
    accepted: list[Any] = []

    async def garbles(ws: ServerConnection, message: Any) -> None:
        if isinstance(message, JobReserve):
            accepted.append(accepted_for(message))
            await ws.send(accepted[0].model_dump_json())
        elif isinstance(message, JobRun):
            await ws.send(accepted[0].model_dump_json())  # out of place once running
        elif isinstance(message, JobCancel):
            cancelled.set()

    async with scripted_miner(run.miner_key, garbles) as address:
        with pytest.raises(InfrastructureFailure) as info:
            await run(address)
        assert info.value.reason == "miner_protocol_error"
        assert await _cancel_seen(cancelled)


async def test_a_miner_gone_mid_job_fails_the_attempt_without_an_error_from_the_cancel(run: SessionRun) -> None:
    async def hang_up_after_start(ws: ServerConnection, message: Any) -> None:
        if isinstance(message, JobReserve):
            await complete(ws, message)
        elif isinstance(message, JobRun):
            await ws.send(JobStarted(job_uuid=message.job_uuid).model_dump_json())
            await ws.close()

    failure = await _failure(run, hang_up_after_start)
    assert failure.reason == "miner_gone"


async def test_no_answer_to_the_reservation_is_a_missed_deadline(run: SessionRun) -> None:
    async def mute(ws: ServerConnection, message: Any) -> None:
        return None

    failure = await _failure(run, mute)
    assert (failure.reason, failure.detail) == ("deadline_exceeded", "no reservation within 2s")
    assert run.progress == []


async def test_a_wrong_reply_to_the_reservation_is_a_protocol_error(run: SessionRun) -> None:
    async def starts_instead(ws: ServerConnection, message: Any) -> None:
        await ws.send(JobStarted(job_uuid=message.job_uuid).model_dump_json())

    failure = await _failure(run, starts_instead)
    assert (failure.reason, failure.detail) == ("miner_protocol_error", "expected accept/decline, got JobStarted")


async def test_an_out_of_place_message_while_running_is_a_protocol_error(run: SessionRun) -> None:
    accepted: list[Any] = []

    async def accepts_twice(ws: ServerConnection, message: Any) -> None:
        if isinstance(message, JobReserve):
            accepted.append(accepted_for(message))
        await ws.send(accepted[0].model_dump_json())

    failure = await _failure(run, accepts_twice)
    assert (failure.reason, failure.detail) == ("miner_protocol_error", "unexpected JobAccepted")


async def test_a_miner_hanging_up_mid_job_is_gone(run: SessionRun) -> None:
    async def hang_up(ws: ServerConnection, message: Any) -> None:
        if isinstance(message, JobReserve):
            await complete(ws, message)
        else:
            await ws.send(ExecutorReady(job_uuid=message.job_uuid).model_dump_json())
            await ws.close()

    failure = await _failure(run, hang_up)
    assert failure.reason == "miner_gone"
    assert "connection closed" in failure.detail


async def test_an_unreachable_miner(run: SessionRun) -> None:
    async with scripted_miner(run.miner_key, complete) as address:
        pass  # nothing listens there any more
    with pytest.raises(InfrastructureFailure) as info:
        await run(address)
    assert info.value.reason == "miner_unreachable"
    assert info.value.detail.startswith("ConnectionRefusedError: ")


async def test_a_miner_with_the_wrong_identity_is_a_protocol_error(
    run: SessionRun, make_hotkey: Callable[..., Hotkey]
) -> None:
    async with scripted_miner(make_hotkey(), complete) as address:
        with pytest.raises(InfrastructureFailure) as info:
            await run(address)
    assert info.value.reason == "miner_protocol_error"
    assert "handshake refused" in info.value.detail


async def test_a_cancel_is_forwarded_and_the_miners_cancelled_is_returned(run: SessionRun) -> None:
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
        else:
            await complete(ws, message)

    async with scripted_miner(run.miner_key, runs_until_cancelled) as address:
        ended = await run(address)
    assert ended.message == JobCancelled(job_uuid=run.job_uuid)
    assert seen == [JobReserve, JobRun, ReceiptCountersign, JobCancel, ReceiptOffer]
    assert run.progress == [Progress.ACCEPTED, Progress.STARTED]


async def test_a_cancel_the_miner_ignores_ends_within_the_leeway(run: SessionRun) -> None:
    async def ignores_cancels(ws: ServerConnection, message: Any) -> None:
        if isinstance(message, JobReserve):
            await complete(ws, message)
            run.cancel.set()

    failure = await _failure(run, ignores_cancels)
    assert (failure.reason, failure.detail) == ("deadline_exceeded", "no executor_ready within 0s")


async def test_a_reused_link_that_died_is_redialed_once_before_blaming_the_miner(run: SessionRun) -> None:
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


async def test_a_miner_that_drops_every_link_is_gone_after_one_redial(run: SessionRun) -> None:
    connections: list[ServerConnection] = []

    async def always_dies(ws: ServerConnection, message: Any) -> None:
        await ws.close()

    async with scripted_miner(run.miner_key, always_dies, connections=connections) as address:
        with pytest.raises(InfrastructureFailure) as info:
            await run(address)
    assert info.value.reason == "miner_gone"
    assert len(connections) == 2


# --- receipts -------------------------------------------------------------------------------


def _stored(job_uuid: uuid.UUID) -> dict[tuple[str, int], ReceiptRecord]:
    return {(r.kind, r.index): r for r in ReceiptRecord.objects.filter(job_uuid=job_uuid).select_related("miner")}


def _verifies(record: ReceiptRecord) -> bool:
    payload = PAYLOAD_ADAPTER.validate_python(record.payload)
    return signed_by(payload, signer="validator", signature=record.validator_signature) and signed_by(
        payload, signer="miner", signature=record.miner_signature
    )


async def test_an_honest_job_leaves_its_receipts_signed_by_both_and_stored_as_own(run: SessionRun) -> None:
    async with scripted_miner(run.miner_key, runs_for(0.2, reported=0.1)) as address:
        ended = await run(address)
    stored = await sync_to_async(_stored)(run.job_uuid)
    assert set(stored) == {("job_started", 0), ("job_accepted", 0), ("job_finished", 0)}
    for record in stored.values():
        assert record.source == ReceiptRecord.Source.OWN
        assert record.miner.hotkey == run.miner_key.ss58
        assert record.validator_hotkey == run.links.hotkey.ss58
        assert _verifies(record), record.kind
    finished = stored[("job_finished", 0)]
    # The billed figure: min(reported, observed), the same one organic_job_record bills.
    assert finished.seconds == billed_seconds(result=ended.message.result, observed_seconds=ended.observed_seconds)
    assert finished.seconds == 0.1
    assert finished.outcome == "completed"
    assert finished.payload["started_at"] is not None


@pytest.mark.parametrize(
    ("tamper", "detail"),
    [
        ("countersignature", "job_started receipt: the miner's countersignature does not verify"),
        ("class", "job_accepted receipt: executor_class differs from the reservation's"),
        ("signature", "job_accepted receipt: the miner's signature does not verify"),
    ],
)
async def test_a_bad_acceptance_is_the_miners_protocol_error_and_nothing_runs(
    run: SessionRun, make_hotkey: Callable[..., Hotkey], tamper: str, detail: str
) -> None:
    seen: list[Any] = []
    other = make_hotkey()

    async def forger(ws: ServerConnection, message: Any) -> None:
        seen.append(type(message))
        accepted = accepted_for(message)
        if tamper == "countersignature":
            accepted = accepted.model_copy(
                update={"started_countersignature": receipt_sign(message.started.payload, other)}
            )
        elif tamper == "class":
            payload = accepted.accepted.payload.model_copy(update={"executor_class": "gpu.big"})
            signed = SignedAccepted(payload=payload, signature=receipt_sign(payload, run.miner_key))
            accepted = accepted.model_copy(update={"accepted": signed})
        else:
            payload = accepted.accepted.payload
            signed = SignedAccepted(payload=payload, signature=receipt_sign(payload, other))
            accepted = accepted.model_copy(update={"accepted": signed})
        await ws.send(accepted.model_dump_json())

    run.spec = ENV_SPEC  # not pipelined: nothing reached the miner to run
    failure = await _failure(run, forger)
    assert (failure.reason, failure.detail) == ("miner_protocol_error", detail)
    assert seen == [JobReserve]
    assert run.progress == []
    assert await sync_to_async(_stored)(run.job_uuid) == {}
