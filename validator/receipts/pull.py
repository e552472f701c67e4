"""Every validator pulls every miner's receipts each cycle, so it scores all organic work, not only
its own. VALIDATOR_RECEIPT_PULL_CONCURRENCY miners at a time; each miner's pull is bounded
(validator/receipts/fetch.py) and ends in one `ReceiptPull` row and its `ReceiptCursor`, whatever
happened; a failed miner never stops the others. One pull of the subnet at a time per validator
(a Postgres advisory lock): the beat task and the scorer both call `receipts_pull_all_sync`."""

import asyncio
import contextlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import httpx
from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import connection, connections
from django.utils import timezone

from protocol.tls import client_ssl_context
from validator.models import Miner
from validator.receipts.fetch import PullBounds, PullFailure, PullFailureReason, receipt_pages
from validator.receipts.sources import miners_receipt_sources, receipt_validators
from validator.receipts.verify import page_verify_store
from validator.services.receipts import PullOutcome, receipt_pull_record

logger = logging.getLogger(__name__)
PULL_LOCK = 0x72637074  # "rcpt": this validator's receipt pulls, one at a time


@dataclass
class PullSummary:
    miners: int = 0
    failed: int = 0
    pages: int = 0
    accepted: int = 0
    duplicates: int = 0
    refused: dict[str, int] = field(default_factory=dict)  # {ReceiptRefusal: count}
    failures: dict[str, int] = field(default_factory=dict)  # {PullFailureReason: miners}

    def add(self, outcome: PullOutcome) -> None:
        self.miners += 1
        self.pages += outcome.pages
        self.accepted += outcome.stored.accepted
        self.duplicates += outcome.stored.duplicates
        for reason, count in outcome.stored.refused.items():
            self.refused[reason] = self.refused.get(reason, 0) + count
        if outcome.failure:
            self.failed += 1
            self.failures[outcome.failure] = self.failures.get(outcome.failure, 0) + 1


async def receipt_pull_miner(
    client: httpx.AsyncClient,
    *,
    miner: Miner,
    cursor: str,
    validators: frozenset[str],
    since: datetime,
    bounds: PullBounds,
) -> PullOutcome:
    """Pull, verify and store one miner's new receipts, page by page: pages stored before a failure
    stay stored and the cursor moves past them."""
    outcome = PullOutcome(started_at=timezone.now(), cursor=cursor)
    try:
        async for page in receipt_pages(client, address=miner.address, cursor=cursor, since=since, bounds=bounds):
            stored = await page_verify_store(miner=miner, items=page.items, validators=validators)
            outcome.pages += 1
            outcome.stored.accepted += stored.accepted
            outcome.stored.duplicates += stored.duplicates
            for reason, count in stored.refused.items():
                outcome.stored.refused[reason] = outcome.stored.refused.get(reason, 0) + count
            # At the end (`next` null) the last page's own cursor is kept: the next pull re-reads at
            # most that one page (duplicates) and whatever came after it.
            outcome.cursor = page.next if page.next is not None else page.cursor
    except PullFailure as exc:
        outcome.failure, outcome.detail = exc.reason.value, exc.detail
    except Exception as exc:  # a bug or the database: this miner's pull fails, the others go on
        logger.exception("receipt pull of %s failed", miner.hotkey)
        outcome.failure, outcome.detail = PullFailureReason.ERROR.value, type(exc).__name__
    return outcome


async def receipts_pull_all() -> PullSummary:
    """Pull every active miner with an address, VALIDATOR_RECEIPT_PULL_CONCURRENCY at a time."""
    sources = await sync_to_async(miners_receipt_sources)()
    validators = await sync_to_async(receipt_validators)()
    bounds = PullBounds.from_settings()
    since = timezone.now() - timedelta(seconds=settings.VALIDATOR_RECEIPT_PULL_LOOKBACK_S)
    gate = asyncio.Semaphore(settings.VALIDATOR_RECEIPT_PULL_CONCURRENCY)
    summary = PullSummary()
    record = sync_to_async(receipt_pull_record)

    async def one(client: httpx.AsyncClient, miner: Miner, cursor: str) -> None:
        async with gate:
            outcome = await receipt_pull_miner(
                client, miner=miner, cursor=cursor, validators=validators, since=since, bounds=bounds
            )
        try:
            await record(miner=miner, outcome=outcome, finished_at=timezone.now())
        except Exception:  # e.g. the miner row deleted meanwhile: its receipts are stored, the others go on
            logger.exception("recording the receipt pull of %s failed", miner.hotkey)
        summary.add(outcome)

    limits = httpx.Limits(max_connections=settings.VALIDATOR_RECEIPT_PULL_CONCURRENCY)
    timeout = httpx.Timeout(bounds.timeout_s)
    # trust_env=False: no proxy or .netrc from the environment between us and the miners. Miners'
    # certificates are self-signed and not pinned here: every receipt carries both parties'
    # signatures and is verified one by one, so TLS only hides them (docs/tls.md).
    verify = client_ssl_context()
    async with httpx.AsyncClient(
        timeout=timeout, limits=limits, trust_env=False, follow_redirects=False, verify=verify
    ) as client:
        await asyncio.gather(*(one(client, miner, cursor) for miner, cursor in sources))
    logger.info(
        "receipt pull: %d miners (%d failed), %d accepted, %d duplicates, refused %s",
        summary.miners,
        summary.failed,
        summary.accepted,
        summary.duplicates,
        summary.refused,
    )
    return summary


@contextlib.contextmanager
def _one_pull_at_a_time(*, wait: bool) -> Iterator[bool]:
    """A session advisory lock: two pulls at once would read every miner twice."""
    with connection.cursor() as cursor:
        if wait:
            cursor.execute("SELECT pg_advisory_lock(%s)", [PULL_LOCK])
            held = True
        else:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [PULL_LOCK])
            held = bool(cursor.fetchone()[0])
    try:
        yield held
    finally:
        if held:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [PULL_LOCK])


def receipts_pull_all_sync(*, wait: bool = False) -> PullSummary | None:
    """`receipts_pull_all` for sync callers (the beat task, the scorer). None when another pull is
    on and `wait` is False; with `wait` (the scorer: it needs the pull's receipts) it waits for
    that pull to end, then pulls what came since."""

    async def go() -> PullSummary:
        try:
            return await receipts_pull_all()
        finally:
            # The ORM ran in sync_to_async's thread: close its connection, or it outlives the pull.
            await sync_to_async(connections.close_all)()

    with _one_pull_at_a_time(wait=wait) as held:
        if not held:
            return None
        return asyncio.run(go())
