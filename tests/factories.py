"""Factories and builders every test package shares (users, executor classes, job specs, zips,
signed reservations). Each app's own models have their factories in `tests/<app>/factories.py`."""

import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import factory
from django.conf import settings
from django.contrib.auth import get_user_model
from factory.django import DjangoModelFactory

from executor.models import ExecutorClass
from protocol.keys import Hotkey
from protocol.messages.common import JobSpec
from protocol.messages.miner import RESERVATION_TTL_S, JobAccepted, JobReserve, SignedAccepted, SignedStarted
from protocol.receipts import JobAcceptedPayload, JobStartedPayload, receipt_sign

JOB_IMAGE = "meshwork/job-python:3.11"

# The classes seeded by executor/migrations/0002; a transactional test's flush deletes them, so
# tests that need them ask for the `executor_classes` fixture, which puts them back.
SEEDED_CLASSES: dict[str, dict[str, Any]] = {
    "cpu.small": {
        "cpus": 1.0,
        "memory_mb": 512,
        "pids": 128,
        "output_mb": 64,
        "price_per_second": Decimal("0.001"),
        "matmul_n": 2560,
    },
    "cpu.large": {
        "cpus": 2.0,
        "memory_mb": 2048,
        "pids": 512,
        "output_mb": 256,
        "price_per_second": Decimal("0.004"),
        "matmul_n": 2560,
    },
}


def executor_classes_ensure() -> dict[str, ExecutorClass]:
    return {
        name: ExecutorClass.objects.get_or_create(name=name, defaults=fields)[0]
        for name, fields in SEEDED_CLASSES.items()
    }


def job_spec(**overrides: Any) -> JobSpec:
    fields: dict[str, Any] = {
        "image": JOB_IMAGE,
        "args": ["python3", "-c", "print(1)"],
        "env": {},
        "executor_class": "cpu.small",
        "timeout_s": 600,
        "input": None,
    }
    fields.update(overrides)
    return JobSpec.model_validate(fields)


class UserFactory(DjangoModelFactory):
    class Meta:
        model = get_user_model()

    username = factory.Sequence(lambda n: f"user{n}")


def zip_bytes(files: dict[str, bytes | str]) -> bytes:
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()


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
