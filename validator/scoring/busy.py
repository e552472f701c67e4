"""Was a miner that declined as "busy" really busy? It was if, at that moment, every validator's
receipts show at least as many jobs running on it in that class as it has verified executors.

A job runs from its `job_started` receipt (the miner countersigns it only when it accepts) to its
`job_finished`; one whose end no receipt shows yet counts as running for twice its timeout plus the
reservation's time to live (generous: an unknown end must not make a miner look free)."""

import bisect
from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import NamedTuple
from uuid import UUID

from django.db.models import Q

from protocol.messages.common import MAX_JOB_SECONDS, MAX_RENTAL_SECONDS
from protocol.messages.miner import DeclineReason
from protocol.receipts import ReceiptKind
from validator.models import MinerDecline, ReceiptRecord

# Jobs started this long before the window may still be running in it (2 × the longest timeout, and the TTL).
LOOKBACK = timedelta(days=2, hours=1)
# A rental may run 60 days (docs/rentals.md): those started before LOOKBACK are looked for too, by
# their timeout, with their ends, so a machine rented out for weeks never makes its miner look free.
RENTAL_LOOKBACK = timedelta(seconds=2 * MAX_RENTAL_SECONDS, hours=1)


class Moment(NamedTuple):
    miner_id: int
    executor_class: str
    at: datetime


def _running(
    *, miner_ids: set[int], window_start: datetime, window_end: datetime
) -> dict[tuple[int, str], tuple[list[datetime], list[datetime]]]:
    """{(miner, class): (sorted starts, sorted ends)} of every job that may run in the window."""
    recent = ReceiptRecord.objects.filter(
        Q(kind=ReceiptKind.JOB_STARTED) | Q(kind=ReceiptKind.JOB_FINISHED),
        miner_id__in=miner_ids,
        at__gte=window_start - LOOKBACK,
        at__lt=window_end,
    ).order_by()
    long_started = ReceiptRecord.objects.filter(
        kind=ReceiptKind.JOB_STARTED,
        miner_id__in=miner_ids,
        at__gte=window_start - RENTAL_LOOKBACK,
        at__lt=window_start - LOOKBACK,
        payload__timeout_s__gt=MAX_JOB_SECONDS,
    ).order_by()
    long_finished = ReceiptRecord.objects.filter(
        kind=ReceiptKind.JOB_FINISHED, job_uuid__in=long_started.values("job_uuid"), at__lt=window_end
    ).order_by()
    fields = ("job_uuid", "kind", "miner_id", "executor_class", "at", "payload__timeout_s", "payload__ttl_s")
    started: dict[UUID, tuple[tuple[int, str], datetime, datetime]] = {}
    finished: dict[UUID, datetime] = {}
    rows = [*long_started.values_list(*fields), *long_finished.values_list(*fields), *recent.values_list(*fields)]
    for job_uuid, kind, miner_id, cls, at, timeout_s, ttl_s in rows:
        if kind == ReceiptKind.JOB_FINISHED:
            finished[job_uuid] = at
        else:
            latest = at + timedelta(seconds=2 * float(timeout_s or 0) + float(ttl_s or 0))
            started[job_uuid] = ((miner_id, cls), at, latest)
    spans: dict[tuple[int, str], tuple[list[datetime], list[datetime]]] = defaultdict(lambda: ([], []))
    for job_uuid, (key, start, latest) in started.items():
        end = finished.get(job_uuid, latest)
        spans[key][0].append(start)
        spans[key][1].append(max(start, end))
    for starts, ends in spans.values():
        starts.sort()
        ends.sort()
    return dict(spans)


def declines_while_free(
    *,
    window_start: datetime,
    window_end: datetime,
    benchmark_declines: Iterable[Moment],
    verified: Mapping[int, Mapping[str, int]],
) -> dict[tuple[int, str], int]:
    """{(miner id, class): busy declines at a moment it had a free verified executor}: the organic
    ones recorded in the window (MinerDecline reason busy) and the benchmark run's `declined_busy`."""
    organic = MinerDecline.objects.filter(reason=DeclineReason.BUSY, at__gte=window_start, at__lt=window_end).order_by()
    moments = [Moment(*row) for row in organic.values_list("miner_id", "executor_class", "at")]
    moments += list(benchmark_declines)
    moments = [m for m in moments if verified.get(m.miner_id, {}).get(m.executor_class, 0) > 0]
    if not moments:
        return {}
    spans = _running(miner_ids={m.miner_id for m in moments}, window_start=window_start, window_end=window_end)
    out: dict[tuple[int, str], int] = defaultdict(int)
    for moment in moments:
        key = (moment.miner_id, moment.executor_class)
        starts, ends = spans.get(key, ([], []))
        running = bisect.bisect_right(starts, moment.at) - bisect.bisect_right(ends, moment.at)
        if running < verified[moment.miner_id][moment.executor_class]:
            out[key] += 1
    return dict(out)
