"""Weights on chain: the newest cycle's `WeightSubmission` is set (or committed, then revealed by
`chain.tasks.reveal_weights`) every tick, until the chain takes it or a newer cycle replaces it.

A chain that is down or rate-limits us leaves the submission pending (retried next tick); any
other refusal, a newer cycle, no scores or weights switched off skip it, with the reason."""

import logging
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import F

from chain.client import chain_client
from chain.interface import ChainClient, ChainError, ChainUnavailable, RateLimited
from chain.models import WeightCommit
from chain.selectors import weight_commit_by_hash
from chain.services.weight_commits import weights_set
from protocol.identity import node_hotkey
from validator.models import WeightSubmission
from validator.selectors.scores import weight_submissions_committed, weight_submissions_pending

logger = logging.getLogger(__name__)
Status = WeightSubmission.Status


@dataclass
class WeightsTick:
    """What one tick did, by cycle number."""

    submitted: dict[int, str] = field(default_factory=dict)  # cycle → set / committed
    pending: dict[int, str] = field(default_factory=dict)  # cycle → why it waits
    skipped: dict[int, str] = field(default_factory=dict)  # cycle → reason
    revealed: list[int] = field(default_factory=list)


def weights_submit_due(*, client: ChainClient | None = None) -> WeightsTick:
    """Follow committed submissions to their reveal, then submit the newest pending one.

    Raises ChainUnavailable (after recording it on the submission) so the task retries with backoff."""
    client = client or chain_client()
    tick = WeightsTick()
    weight_submissions_follow(client=client, tick=tick)
    pending = weight_submissions_pending()
    if not pending:
        return tick
    newest, *older = pending
    for old in older:
        _skip(old, f"superseded by cycle {newest.cycle.number}; last error: {old.reason or 'none'}", tick)
    if not settings.VALIDATOR_WEIGHTS_ENABLED:
        _skip(newest, "weights disabled", tick)
    elif not newest.values:
        _skip(newest, "no scores", tick)
    else:
        _submit(client, newest, tick)
    return tick


def _submit(client: ChainClient, submission: WeightSubmission, tick: WeightsTick) -> None:
    number = submission.cycle.number
    # Claimed by counting the attempt: of two workers that read the same row, one goes on.
    claimed = WeightSubmission.objects.filter(
        pk=submission.pk, status=Status.PENDING, attempts=submission.attempts
    ).update(attempts=F("attempts") + 1)
    if not claimed:
        return
    try:
        outcome = weights_set(client=client, hotkey=node_hotkey().ss58, weights=submission.values)
    except (ChainUnavailable, RateLimited) as exc:
        reason = _error(exc)
        WeightSubmission.objects.filter(pk=submission.pk, status=Status.PENDING).update(reason=reason[:500])
        tick.pending[number] = reason
        logger.info("validator: weights of cycle %d wait: %s", number, reason)
        if isinstance(exc, ChainUnavailable):
            raise
        return
    except ChainError as exc:
        _skip(submission, _error(exc), tick)
        return
    status = Status.COMMITTED if outcome.committed else Status.SET
    WeightSubmission.objects.filter(pk=submission.pk, status=Status.PENDING).update(
        status=status, block=outcome.block, commit_hash=outcome.commit_hash, reason=""
    )
    tick.submitted[number] = status
    logger.info("validator: weights of cycle %d %s at block %s", number, status, outcome.block)


def weight_submissions_follow(*, client: ChainClient, tick: WeightsTick) -> None:
    """Committed submissions take the fate of their `chain.WeightCommit` (revealed by its own task)."""
    for submission in weight_submissions_committed():
        commit = weight_commit_by_hash(chain=client.name, netuid=client.netuid, commit_hash=submission.commit_hash)
        if commit is None:
            _skip(submission, f"commit {submission.commit_hash} is not on this node", tick, status=Status.COMMITTED)
        elif commit.status == WeightCommit.Status.REVEALED:
            done = WeightSubmission.objects.filter(pk=submission.pk, status=Status.COMMITTED).update(
                status=Status.REVEALED, block=commit.revealed_block
            )
            if done:
                tick.revealed.append(submission.cycle.number)
        elif commit.status in (WeightCommit.Status.EXPIRED, WeightCommit.Status.FAILED):
            reason = f"commit {commit.status}: {commit.error}"
            _skip(submission, reason, tick, status=Status.COMMITTED)


def _skip(submission: WeightSubmission, reason: str, tick: WeightsTick, *, status: str = Status.PENDING) -> None:
    skipped = WeightSubmission.objects.filter(pk=submission.pk, status=status).update(
        status=Status.SKIPPED, reason=reason[:500]
    )
    if skipped:
        tick.skipped[submission.cycle.number] = reason
        logger.warning("validator: weights of cycle %d skipped: %s", submission.cycle.number, reason)


def _error(exc: ChainError) -> str:
    return f"{exc.name or type(exc).__name__}: {exc}"
