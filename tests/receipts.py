"""Signed reservations and honest acceptances for tests (no Django models: the simulated miners
of bench/cycle_miners.py use them without an app registry)."""

import uuid
from datetime import UTC, datetime
from typing import Any

from django.conf import settings

from protocol.keys import Hotkey
from protocol.messages.miner import RESERVATION_TTL_S, JobAccepted, JobReserve, SignedAccepted, SignedStarted
from protocol.receipts import JobAcceptedPayload, JobStartedPayload, receipt_sign

JOB_IMAGE = "meshwork/job-python:3.11"


def signed_reserve(
    *,
    validator: Hotkey,
    miner_hotkey: str,
    job_uuid: uuid.UUID | None = None,
    executor_class: str = "cpu.small",
    image: str = JOB_IMAGE,
    timeout_s: int = 60,
    signer: Hotkey | None = None,
    receipt: dict[str, Any] | None = None,
) -> JobReserve:
    """A reservation whose job_started receipt `signer` (the validator by default) signed;
    `receipt` overrides fields of the receipt only (to make it disagree with the reservation)."""
    job_uuid = job_uuid or uuid.uuid4()
    fields: dict[str, Any] = {
        "netuid": settings.CHAIN_NETUID,
        "job_uuid": job_uuid,
        "validator_hotkey": validator.ss58,
        "validator_crypto": validator.crypto,
        "miner_hotkey": miner_hotkey,
        "executor_class": executor_class,
        "at": datetime.now(UTC),
        "timeout_s": timeout_s,
        "ttl_s": RESERVATION_TTL_S,
    }
    started = JobStartedPayload.model_validate(fields | (receipt or {}))
    signed = SignedStarted(payload=started, signature=receipt_sign(started, signer or validator))
    return JobReserve(
        job_uuid=job_uuid, executor_class=executor_class, image=image, timeout_s=timeout_s, started=signed
    )


def job_accepted(reserve: JobReserve, miner: Hotkey) -> JobAccepted:
    """What an honest miner answers: the reservation countersigned, its job_accepted receipt signed."""
    started = reserve.started.payload
    accepted = JobAcceptedPayload(
        **started.model_dump(exclude={"kind", "timeout_s", "ttl_s", "at"}), at=datetime.now(UTC)
    )
    return JobAccepted(
        job_uuid=reserve.job_uuid,
        started_countersignature=receipt_sign(started, miner),
        accepted=SignedAccepted(payload=accepted, signature=receipt_sign(accepted, miner)),
    )
