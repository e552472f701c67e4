"""`job.interval` on the validator channel: charged for the job's own validator, ignored (and
logged) from any other, refused with a typed error when malformed."""

import json
from decimal import Decimal

from asgiref.sync import sync_to_async
from django.conf import settings

from chain.interface import Role
from chain.local import LocalChain
from facilitator.models import CreditAccount, CreditTransaction
from protocol.keys import hotkey_create
from protocol.messages.jobs import JobStatus
from tests.facilitator.consumers.channel import channel_connect, db, error_frame, eventually, job_for
from tests.facilitator.factories import FUNDED_CREDITS


def interval_frame(job_uuid, attempt, index, seconds=120.0) -> str:
    frame = {"attempt": attempt, "index": index, "seconds": seconds, "miner_hotkey": "5Miner"}
    return json.dumps({"type": "job.interval", "job_uuid": str(job_uuid), **frame})


def _intervals(job) -> list[tuple[int | None, int | None, Decimal]]:
    rows = CreditTransaction.objects.filter(job=job, kind="interval").order_by("id")
    return list(rows.values_list("attempt", "index", "amount"))


@db
async def test_intervals_from_the_jobs_validator_are_charged_once(registered_validator_key, node_key, funded_user):
    job = await sync_to_async(job_for)(funded_user, registered_validator_key.ss58, status=JobStatus.RUNNING)
    comm, _, _ = await channel_connect(registered_validator_key, node_key.ss58)
    await comm.receive_json_from(timeout=3)  # the resend of the job it holds
    for index in (1, 2, 1):
        await comm.send_to(text_data=interval_frame(job.uuid, 1, index))
    await comm.send_to(text_data=interval_frame(job.uuid, 1, 3))
    # Frames are handled in order: once index 3 is charged, the duplicate before it was handled.
    assert await eventually(lambda: len(_intervals(job)) == 3)
    assert await sync_to_async(_intervals)(job) == [
        (1, 1, Decimal("0.12")),
        (1, 2, Decimal("0.12")),
        (1, 3, Decimal("0.12")),
    ]
    account = await sync_to_async(CreditAccount.objects.get)(user=funded_user)
    assert (account.balance, account.held) == (FUNDED_CREDITS - Decimal("0.36"), Decimal("0.6") - Decimal("0.36"))
    await comm.disconnect()


@db
async def test_an_interval_from_a_validator_the_job_was_not_sent_to_is_ignored(
    registered_validator_key, node_key, funded_user, json_log
):
    other = hotkey_create()[0]
    chain = LocalChain()
    await sync_to_async(chain.register)(hotkey=other.ss58, coldkey=hotkey_create()[0].ss58, role=Role.VALIDATOR)
    await sync_to_async(chain.add_stake)(hotkey=other.ss58, amount=settings.MIN_VALIDATOR_STAKE)
    theirs = await sync_to_async(job_for)(funded_user, registered_validator_key.ss58, status=JobStatus.RUNNING)
    mine = await sync_to_async(job_for)(funded_user, other.ss58, status=JobStatus.RUNNING)
    comm, _, _ = await channel_connect(other, node_key.ss58)
    await comm.receive_json_from(timeout=3)  # resend of `mine`
    await comm.send_to(text_data=interval_frame(theirs.uuid, 1, 1, seconds=600))
    await comm.send_to(text_data=interval_frame(mine.uuid, 1, 1))
    assert await eventually(lambda: len(_intervals(mine)) == 1)
    assert await sync_to_async(_intervals)(theirs) == []
    [ignored] = [line for line in json_log() if "not its job" in line["event"]]
    assert ignored["job_uuid"] == str(theirs.uuid)
    await comm.disconnect()


@db
async def test_a_malformed_interval_gets_a_typed_error_and_charges_nothing(
    registered_validator_key, node_key, funded_user
):
    job = await sync_to_async(job_for)(funded_user, registered_validator_key.ss58, status=JobStatus.RUNNING)
    comm, _, _ = await channel_connect(registered_validator_key, node_key.ss58)
    await comm.receive_json_from(timeout=3)
    for bad in (
        interval_frame(job.uuid, 0, 1),  # attempts count from 1
        interval_frame(job.uuid, 1, 1, seconds=-5),
        interval_frame(job.uuid, 1, 1, seconds=1e9),  # more than a day in one interval
        json.dumps({"type": "job.interval", "job_uuid": str(job.uuid)}),
    ):
        await comm.send_to(text_data=bad)
        assert (await error_frame(comm))["code"] == "malformed"
    assert await sync_to_async(_intervals)(job) == []
    await comm.disconnect()
