"""This miner's side of the receipts (protocol/receipts.py; docs/scoring.md, "Receipts on the
wire"): the validator's signed reservation is checked and countersigned, the miner's own
job_accepted receipt made and signed, offered interval and job_finished receipts checked and
countersigned. Every receipt is a `MinerReceipt`; those with both signatures are served to every
validator by `GET /api/v1/receipts/`."""

from datetime import UTC, datetime
from uuid import UUID

from django.conf import settings
from django.db import IntegrityError, transaction

from miner.models import AcceptedJob, MinerReceipt
from protocol.keys import Hotkey
from protocol.messages.miner import JobAccepted, JobReserve, ReceiptOffer, SignedAccepted
from protocol.receipts import (
    JobAcceptedPayload,
    JobStartedPayload,
    ReceiptKind,
    ReceiptPayload,
    receipt_index,
    receipt_sign,
    signed_by,
)

# How far an offered receipt's seconds may exceed the reserved timeout (stage leeway, clocks).
SECONDS_MARGIN_S = 60.0


class ReceiptRefused(Exception):
    """The validator's receipt is not one this miner signs; the message says why."""


def started_refusal(*, reserve: JobReserve, validator_hotkey: str, own: Hotkey) -> str | None:
    """Why the signed reservation is not this job's, this miner's or the sender's, or None."""
    started = reserve.started.payload
    checks = (
        (started.job_uuid == reserve.job_uuid, "job_uuid differs from the reservation's"),
        (started.executor_class == reserve.executor_class, "executor_class differs from the reservation's"),
        (started.timeout_s == reserve.timeout_s, "timeout_s differs from the reservation's"),
        (started.miner_hotkey == own.ss58, "miner_hotkey is not this miner"),
        (started.miner_crypto == own.crypto, f"miner_crypto is not {own.crypto}"),
        (started.validator_hotkey == validator_hotkey, "validator_hotkey is not the sender"),
        (started.netuid == settings.CHAIN_NETUID, f"netuid is not {settings.CHAIN_NETUID}"),
    )
    for ok, why in checks:
        if not ok:
            return f"job_started receipt: {why}"
    if not signed_by(started, signer="validator", signature=reserve.started.signature):
        return "job_started receipt: the validator's signature does not verify"
    return None


def _row(payload: ReceiptPayload, *, validator_signature: str, miner_signature: str) -> MinerReceipt:
    return MinerReceipt(
        kind=payload.kind,
        job_uuid=payload.job_uuid,
        index=receipt_index(payload),
        validator_hotkey=payload.validator_hotkey,
        payload=payload.model_dump(mode="json"),
        validator_signature=validator_signature,
        miner_signature=miner_signature,
    )


def reservation_receipts_store(*, reserve: JobReserve, own: Hotkey) -> JobAccepted:
    """Countersign the (already checked) job_started receipt, make and sign the job_accepted one,
    store both; the JobAccepted that carries them back."""
    started = reserve.started.payload
    countersignature = receipt_sign(started, own)
    accepted = JobAcceptedPayload(
        **started.model_dump(include={"netuid", "job_uuid", "validator_hotkey", "validator_crypto"}),
        miner_hotkey=own.ss58,
        miner_crypto=own.crypto,
        executor_class=started.executor_class,
        job_kind=started.job_kind,
        at=datetime.now(UTC),
    )
    signature = receipt_sign(accepted, own)
    MinerReceipt.objects.bulk_create(
        [
            _row(started, validator_signature=reserve.started.signature, miner_signature=countersignature),
            _row(accepted, validator_signature="", miner_signature=signature),
        ]
    )
    return JobAccepted(
        job_uuid=started.job_uuid,
        started_countersignature=countersignature,
        accepted=SignedAccepted(payload=accepted, signature=signature),
    )


def accepted_countersign_save(*, job_uuid: UUID, validator_hotkey: str, signature: str) -> None:
    """The validator's signature on our job_accepted receipt; raises ReceiptRefused."""
    row = MinerReceipt.objects.filter(
        kind=ReceiptKind.JOB_ACCEPTED, job_uuid=job_uuid, validator_hotkey=validator_hotkey
    ).first()
    if row is None:
        raise ReceiptRefused(f"no job_accepted receipt of job {job_uuid} for this validator")
    payload = JobAcceptedPayload.model_validate(row.payload)
    if not signed_by(payload, signer="validator", signature=signature):
        raise ReceiptRefused("job_accepted countersignature: the validator's signature does not verify")
    MinerReceipt.objects.filter(pk=row.pk).update(validator_signature=signature)


def receipt_offer_countersign(*, offer: ReceiptOffer, validator_hotkey: str, own: Hotkey) -> str:
    """Check an offered interval / job_finished receipt, sign and store it; our signature. The
    same offer twice gets the same countersignature. Raises ReceiptRefused."""
    payload = offer.payload
    job = AcceptedJob.objects.filter(uuid=payload.job_uuid, validator_hotkey=validator_hotkey).first()
    started_row = MinerReceipt.objects.filter(kind=ReceiptKind.JOB_STARTED, job_uuid=payload.job_uuid).first()
    if job is None or started_row is None:
        raise ReceiptRefused(f"{payload.kind} receipt: job {payload.job_uuid} was not reserved here by this validator")
    timeout_s = JobStartedPayload.model_validate(started_row.payload).timeout_s
    checks = (
        (payload.miner_hotkey == own.ss58 and payload.miner_crypto == own.crypto, "miner_hotkey is not this miner"),
        (payload.validator_hotkey == validator_hotkey, "validator_hotkey is not the sender"),
        (payload.netuid == settings.CHAIN_NETUID, f"netuid is not {settings.CHAIN_NETUID}"),
        (payload.executor_class == job.executor_class, "executor_class is not the job's"),
        (payload.seconds <= timeout_s + SECONDS_MARGIN_S, f"seconds exceed the job's timeout ({timeout_s}s)"),
    )
    for ok, why in checks:
        if not ok:
            raise ReceiptRefused(f"{payload.kind} receipt: {why}")
    if not signed_by(payload, signer="validator", signature=offer.signature):
        raise ReceiptRefused(f"{payload.kind} receipt: the validator's signature does not verify")
    wanted = payload.model_dump(mode="json")
    key = {"kind": payload.kind, "job_uuid": payload.job_uuid, "index": receipt_index(payload)}
    known = MinerReceipt.objects.filter(**key).first()
    if known is None:
        signature = receipt_sign(payload, own)
        try:
            with transaction.atomic():
                _row(payload, validator_signature=offer.signature, miner_signature=signature).save()
            return signature
        except IntegrityError:  # the same offer, twice at once: the first one's answer stands
            known = MinerReceipt.objects.get(**key)
    if known.payload != wanted:
        raise ReceiptRefused(f"{payload.kind} receipt #{key['index']}: a different one was already countersigned")
    return known.miner_signature
