"""Storing verified receipts, own or pulled, once each: (kind, job, index, miner) is unique, so a
receipt seen again with the same content is a duplicate and with other content a replay, refused. (A
receipt about another miner never gets here: it names that miner, and `receipt_refusal` refuses it.)"""

import hashlib
from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction

from protocol.canonical import canonical_json
from protocol.receipts import (
    IntervalPayload,
    JobFinishedPayload,
    Receipt,
    ReceiptPayload,
    ReceiptRefusal,
    receipt_index,
)
from validator.models import Miner, ReceiptCursor, ReceiptPull, ReceiptRecord


@dataclass
class StoreResult:
    accepted: int = 0
    duplicates: int = 0
    refused: dict[str, int] = field(default_factory=dict)

    def refuse(self, reason: ReceiptRefusal, count: int = 1) -> None:
        self.refused[reason.value] = self.refused.get(reason.value, 0) + count


def _record(miner: Miner, payload: ReceiptPayload, receipt: Receipt, source: ReceiptRecord.Source) -> ReceiptRecord:
    seconds = payload.seconds if isinstance(payload, IntervalPayload | JobFinishedPayload) else None
    dumped = payload.model_dump(mode="json")  # once: the stored payload and its digest
    return ReceiptRecord(
        kind=payload.kind,
        job_uuid=payload.job_uuid,
        index=receipt_index(payload),
        miner=miner,
        validator_hotkey=payload.validator_hotkey,
        executor_class=payload.executor_class,
        job_kind=payload.job_kind.value,
        at=payload.at,
        seconds=seconds,
        outcome=payload.outcome.value if isinstance(payload, JobFinishedPayload) else "",
        payload=dumped,
        validator_signature=receipt.validator_signature,
        miner_signature=receipt.miner_signature,
        digest=hashlib.sha256(canonical_json(dumped)).hexdigest(),
        source=source,
    )


def receipts_store(
    *, miner: Miner, receipts: list[tuple[ReceiptPayload, Receipt]], source: ReceiptRecord.Source
) -> StoreResult:
    """Store already verified receipts of `miner` (signatures, subnet and validator checked by the
    caller; every one names `miner`). One query to find what is known, one bulk insert: O(1) round
    trips per batch."""
    result = StoreResult()
    if not receipts:
        return result
    rows: dict[tuple[str, str, int], ReceiptRecord] = {}
    for payload, receipt in receipts:
        row = _record(miner, payload, receipt, source)
        key = (row.kind, str(row.job_uuid), row.index)
        if key in rows:  # the same receipt twice in one batch
            result.duplicates += rows[key].digest == row.digest
            if rows[key].digest != row.digest:
                result.refuse(ReceiptRefusal.REPLAYED)
            continue
        rows[key] = row
    with transaction.atomic():
        known = {
            (r.kind, str(r.job_uuid), r.index): r
            for r in ReceiptRecord.objects.filter(
                miner=miner, job_uuid__in={row.job_uuid for row in rows.values()}
            ).only("kind", "job_uuid", "index", "digest")
        }
        fresh = []
        for key, row in rows.items():
            seen = known.get(key)
            if seen is None:
                fresh.append(row)
            elif seen.digest == row.digest:
                result.duplicates += 1
            else:
                result.refuse(ReceiptRefusal.REPLAYED)
        # A concurrent store of the same receipt (another worker) wins quietly; ours still counts here.
        created = ReceiptRecord.objects.bulk_create(fresh, ignore_conflicts=True, batch_size=1000)
        result.accepted += len(created)
    return result


@dataclass
class PullOutcome:
    """How one pull of one miner's receipts went (validator/receipts/pull.py)."""

    started_at: datetime
    cursor: str  # where the next pull resumes: the last stored page's `next` (or its own cursor at the end)
    pages: int = 0
    stored: StoreResult = field(default_factory=StoreResult)
    failure: str = ""  # "" or why the pull stopped (validator.receipts.fetch.PullFailureReason)
    detail: str = ""


def receipt_pull_record(*, miner: Miner, outcome: PullOutcome, finished_at: datetime) -> ReceiptPull:
    """One ReceiptPull row and the miner's cursor: two rows per miner per pull, whatever happened."""
    with transaction.atomic():
        pull = ReceiptPull.objects.create(
            miner=miner,
            started_at=outcome.started_at,
            finished_at=finished_at,
            pages=outcome.pages,
            accepted=outcome.stored.accepted,
            duplicates=outcome.stored.duplicates,
            refused=outcome.stored.refused,
            failure=outcome.failure,
            detail=outcome.detail[:500],
        )
        cursor, _ = ReceiptCursor.objects.select_for_update().get_or_create(miner=miner)
        cursor.cursor = outcome.cursor
        cursor.pulled_at = finished_at
        cursor.failures = cursor.failures + 1 if outcome.failure else 0
        cursor.last_reason = outcome.failure
        cursor.last_detail = outcome.detail[:500]
        cursor.save()
    return pull
