"""Auditing one placement (docs/storage.md, "Proof of storage"): a fresh nonce names chunks of the
sealed share; the miner must answer with each chunk and its Merkle path within
STORAGE_AUDIT_DEADLINE_S; the answer is checked against the root kept at placement. The miner's
answer is bounded by what an honest one can be; a late, malformed or unproven one fails with its
reason."""

import logging
import secrets
import time
from uuid import UUID

from django.conf import settings
from pydantic import ValidationError

from protocol.storage.audit import MAX_PATH, AuditAnswer, AuditChallenge, AuditFailure, audit_answer_check
from validator.models import ShareAudit, SharePlacement
from validator.services.storage_audits import audits_claim_due, share_audit_record
from validator.storage.transport import TransportFailure, share_audit_post

logger = logging.getLogger(__name__)
_FAILURES = {
    "timeout": AuditFailure.TIMEOUT,
    "unreachable": AuditFailure.UNREACHABLE,
    "too_large": AuditFailure.MALFORMED,
}


def answer_bound(*, count: int, chunk_bytes: int) -> int:
    """The most bytes an honest answer takes: each chunk in base64 and its path in hex, in JSON."""
    per_chunk = 4 * (chunk_bytes // 3 + 1) + MAX_PATH * 70 + 100
    return count * per_chunk + 200


def placement_audit(placement_id: UUID) -> ShareAudit:
    placement = SharePlacement.objects.select_related("miner").get(id=placement_id)
    challenge = AuditChallenge(nonce=secrets.token_hex(32), count=settings.STORAGE_AUDIT_CHUNKS)
    deadline = settings.STORAGE_AUDIT_DEADLINE_S
    started = time.monotonic()
    failure: tuple[AuditFailure, str] | None
    try:
        body = share_audit_post(
            miner=placement.miner,
            share_id=placement.id,
            challenge=challenge.model_dump_json().encode(),
            max_bytes=answer_bound(count=challenge.count, chunk_bytes=placement.chunk_bytes),
            timeout_s=deadline,
        )
        seconds = time.monotonic() - started
        failure = _check(body, challenge=challenge, placement=placement, seconds=seconds, deadline=deadline)
    except TransportFailure as exc:
        seconds = time.monotonic() - started
        failure = (_transport_reason(exc), exc.detail)
    if failure is not None:
        logger.info("storage audit of %s on %s failed: %s %s", placement.id, placement.miner.hotkey, *failure)
    reason, detail = failure if failure is not None else ("", "")
    return share_audit_record(
        placement_id=placement.id, passed=failure is None, reason=str(reason), detail=detail, seconds=seconds
    )


def _check(
    body: bytes, *, challenge: AuditChallenge, placement: SharePlacement, seconds: float, deadline: float
) -> tuple[AuditFailure, str] | None:
    if seconds > deadline:
        return AuditFailure.TIMEOUT, f"answered after {seconds:.2f}s (deadline {deadline:.2f}s)"
    try:
        answer = AuditAnswer.model_validate_json(body)
    except ValidationError as exc:
        return AuditFailure.MALFORMED, f"not an audit answer ({exc.error_count()} errors)"
    root = bytes.fromhex(placement.root)
    return audit_answer_check(
        answer, challenge=challenge, root=root, size=placement.size, chunk_bytes=placement.chunk_bytes
    )


def _transport_reason(exc: TransportFailure) -> AuditFailure:
    if exc.status_code == 404:
        return AuditFailure.MISSING
    if exc.reason in _FAILURES:
        return _FAILURES[exc.reason]
    return AuditFailure.MALFORMED if exc.reason == "malformed" else AuditFailure.HTTP_STATUS


def audits_run_due(*, everything: bool = False, limit: int = 200) -> dict[str, int]:
    """Audits what is due (claimed first, so concurrent runs split the work); passed/failed."""
    counts = {"passed": 0, "failed": 0}
    for placement_id in audits_claim_due(limit=limit, everything=everything):
        audit = placement_audit(placement_id)
        counts["passed" if audit.passed else "failed"] += 1
    return counts
