"""The receipts of this validator's own organic jobs (docs/scoring.md, "Receipts on the wire"):
built and checked here, stored as OWN once the miner's countersignature is in. Each store is one
trip to the database thread, so a running job waits on at most one round trip per receipt."""

import logging

from django.db import transaction

from protocol.messages.common import FailureKind, FailureReason, JobResult
from protocol.messages.facilitator import JobIntervalCharge
from protocol.messages.jobs import JobCancelled, JobFailed, JobFinished
from protocol.receipts import (
    IntervalPayload,
    JobAcceptedPayload,
    JobStartedPayload,
    Outcome,
    Receipt,
    ReceiptPayload,
    signed_by,
)
from validator.models import FacilitatorOutbox, OrganicJob, ReceiptRecord
from validator.selectors import miner_get_by_hotkey
from validator.services.receipts import StoreResult, receipts_store

logger = logging.getLogger(__name__)


def billed_seconds(*, result: JobResult | None, observed_seconds: float) -> float:
    """What the miner is paid, scored and the user billed for: min(reported, observed). No leeway
    on top of the observation: over-reporting cannot gain, under-reporting loses. Nothing without
    a result (the job never reported any work)."""
    if result is None:
        return 0.0
    return min(result.executor_seconds, round(max(observed_seconds, 0.0), 6))


def terminal_outcome(message: JobFinished | JobFailed | JobCancelled) -> Outcome:
    if isinstance(message, JobFinished):
        return Outcome.COMPLETED
    if isinstance(message, JobCancelled):
        return Outcome.CANCELLED
    if message.failure.kind == FailureKind.INFRASTRUCTURE:
        return Outcome.INFRASTRUCTURE
    return Outcome.TIMEOUT if message.failure.reason == FailureReason.TIMEOUT else Outcome.JOB_FAILED


def accepted_refusal(
    *, started: JobStartedPayload, countersignature: str, accepted: JobAcceptedPayload, signature: str
) -> str | None:
    """Why the miner's JobAccepted does not hold up (which receipt, what is wrong), or None."""
    if not signed_by(started, signer="miner", signature=countersignature):
        return "job_started receipt: the miner's countersignature does not verify"
    for field in ("netuid", "job_uuid", "validator_hotkey", "miner_hotkey", "executor_class", "job_kind"):
        if getattr(accepted, field) != getattr(started, field):
            return f"job_accepted receipt: {field} differs from the reservation's"
    if not signed_by(accepted, signer="miner", signature=signature):
        return "job_accepted receipt: the miner's signature does not verify"
    return None


def own_receipts_store(*, miner_hotkey: str, receipts: list[tuple[ReceiptPayload, Receipt]]) -> StoreResult | None:
    """Store receipts of a job run here. None when the miner is unknown to this validator (its
    registry row is gone): there is nothing to file them under."""
    miner = miner_get_by_hotkey(hotkey=miner_hotkey)
    if miner is None:
        logger.warning("receipts for unknown miner %s not stored", miner_hotkey)
        return None
    result = receipts_store(miner=miner, receipts=receipts, source=ReceiptRecord.Source.OWN)
    if result.refused:
        logger.warning("own receipts of miner %s refused by the store: %s", miner_hotkey, result.refused)
    return result


def interval_receipt_store(*, miner_hotkey: str, payload: IntervalPayload, receipt: Receipt) -> bool:
    """Store a countersigned interval receipt and, in the same transaction, owe the facilitator
    its `JobIntervalCharge` (attempt = the job's attempt number now). True if a charge was queued:
    a receipt already stored charges nothing again."""
    with transaction.atomic():
        result = own_receipts_store(miner_hotkey=miner_hotkey, receipts=[(payload, receipt)])
        if result is None or not result.accepted:
            return False
        job = OrganicJob.objects.filter(uuid=payload.job_uuid).only("uuid", "attempts").first()
        if job is None:  # not an organic job of ours: nobody to bill
            return False
        charge = JobIntervalCharge(
            job_uuid=payload.job_uuid,
            attempt=job.attempts + 1,
            index=payload.index,
            seconds=min(payload.seconds, 86400.0),
            miner_hotkey=miner_hotkey,
        )
        FacilitatorOutbox.objects.create(job=job, payload=charge.model_dump(mode="json"))
    return True
