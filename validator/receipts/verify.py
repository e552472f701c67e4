"""Verifying one page of a miner's receipts, then storing what holds.

Per receipt: `protocol.receipts.receipt_refusal` (format, subnet, about the miner that served it,
both signatures), then its validator must count (a validator of the subnet with enough stake),
its `at` must not be in the future beyond VALIDATOR_RECEIPT_MAX_SKEW_S and its numbers must be
plausible. Signature checks are CPU: they run in a worker thread so the event loop keeps pulling
other miners. What holds goes to `receipts_store` (dedupe, replays)."""

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from uuid import UUID

from asgiref.sync import sync_to_async
from django.conf import settings
from django.utils import timezone
from pydantic import ValidationError

from protocol.receipts import (
    IntervalPayload,
    JobFinishedPayload,
    JobStartedPayload,
    Receipt,
    ReceiptPayload,
    ReceiptRefusal,
    receipt_parse,
    receipt_refusal,
)
from validator.models import Miner, ReceiptRecord
from validator.receipts.sources import JobStarted, receipt_jobs_started
from validator.services.receipts import StoreResult, receipts_store


@dataclass
class Checked:
    accepted: list[tuple[ReceiptPayload, Receipt]] = field(default_factory=list)
    refused: dict[str, int] = field(default_factory=dict)

    def refuse(self, reason: ReceiptRefusal) -> None:
        self.refused[reason.value] = self.refused.get(reason.value, 0) + 1


def receipt_check(
    receipt: Receipt, *, miner_hotkey: str, validators: frozenset[str], now: datetime
) -> ReceiptPayload | ReceiptRefusal:
    """Everything one receipt proves by itself, and whether its validator counts."""
    parsed = receipt_parse(receipt)
    # Cheap first: a receipt of no counted validator is worth nothing whoever signed it, so a
    # flood of them costs no signature checks.
    if not isinstance(parsed, ReceiptRefusal) and parsed.validator_hotkey not in validators:
        if parsed.netuid == settings.CHAIN_NETUID and parsed.miner_hotkey == miner_hotkey:
            return ReceiptRefusal.UNKNOWN_VALIDATOR
    payload = receipt_refusal(receipt, netuid=settings.CHAIN_NETUID, served_by=miner_hotkey)
    if isinstance(payload, ReceiptRefusal):
        return payload
    if payload.at > now + timedelta(seconds=settings.VALIDATOR_RECEIPT_MAX_SKEW_S):
        return ReceiptRefusal.FROM_FUTURE
    if isinstance(payload, JobFinishedPayload) and not _finished_plausible(payload):
        return ReceiptRefusal.IMPLAUSIBLE
    return payload


def _finished_plausible(payload: JobFinishedPayload) -> bool:
    # The validator measured seconds between the start it saw and the end, before signing at `at`.
    if payload.started_at is None:
        return payload.seconds == 0
    span = (payload.at - payload.started_at).total_seconds()
    slack: float = settings.VALIDATOR_RECEIPT_PLAUSIBLE_SLACK_S
    return span >= 0 and payload.seconds <= span + slack


def receipts_check(items: Sequence[object], *, miner_hotkey: str, validators: frozenset[str]) -> Checked:
    """CPU only (no database): run it off the event loop."""
    checked = Checked()
    now = timezone.now()
    for item in items:
        try:
            receipt = Receipt.model_validate(item)
        except ValidationError:
            checked.refuse(ReceiptRefusal.MALFORMED)
            continue
        verdict = receipt_check(receipt, miner_hotkey=miner_hotkey, validators=validators, now=now)
        if isinstance(verdict, ReceiptRefusal):
            checked.refuse(verdict)
        else:
            checked.accepted.append((verdict, receipt))
    return checked


def job_plausible(payload: ReceiptPayload, started: JobStarted | None) -> bool:
    """A job's later receipts agree with its `job_started` (same validator and class, seconds within
    its timeout). Without a known `job_started` there is nothing to hold them against."""
    if started is None or isinstance(payload, JobStartedPayload):
        return True
    if payload.validator_hotkey != started.validator_hotkey or payload.executor_class != started.executor_class:
        return False
    if isinstance(payload, IntervalPayload | JobFinishedPayload):
        slack: float = settings.VALIDATOR_RECEIPT_PLAUSIBLE_SLACK_S
        return payload.seconds <= started.timeout_s + slack
    return True


def receipts_plausible_store(*, miner: Miner, checked: Checked) -> StoreResult:
    """Holds each receipt against its job's `job_started` (this page's or one stored before), then
    stores those that agree. Sync: database reads and one bulk insert."""
    started: dict[UUID, JobStarted] = {
        p.job_uuid: JobStarted(p.validator_hotkey, p.executor_class, p.timeout_s)
        for p, _ in checked.accepted
        if isinstance(p, JobStartedPayload)
    }
    missing = {p.job_uuid for p, _ in checked.accepted} - started.keys()
    if missing:
        started |= receipt_jobs_started(job_uuids=missing)
    kept = []
    result = StoreResult(refused=dict(checked.refused))
    for payload, receipt in checked.accepted:
        if job_plausible(payload, started.get(payload.job_uuid)):
            kept.append((payload, receipt))
        else:
            result.refuse(ReceiptRefusal.IMPLAUSIBLE)
    stored = receipts_store(miner=miner, receipts=kept, source=ReceiptRecord.Source.PULLED)
    result.accepted, result.duplicates = stored.accepted, stored.duplicates
    for reason, count in stored.refused.items():
        result.refuse(ReceiptRefusal(reason), count)
    return result


async def page_verify_store(*, miner: Miner, items: Sequence[object], validators: frozenset[str]) -> StoreResult:
    checked = await asyncio.to_thread(receipts_check, items, miner_hotkey=miner.hotkey, validators=validators)
    return await sync_to_async(receipts_plausible_store)(miner=miner, checked=checked)
