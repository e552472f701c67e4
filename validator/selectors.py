"""Reads of the validator's tables: the miners a job may go to, updates owed upstream, billed work."""

import random
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, TypedDict
from uuid import UUID

from django.db.models import Count, Q, Sum
from django.utils import timezone

from dht.selectors import dht_miner_addresses, dht_routable_miners
from protocol.messages.common import FailureKind
from protocol.messages.jobs import JobStatus
from validator.models import BenchmarkCheck, FacilitatorOutbox, Miner, MinerCycle, OrganicJob, PowDifficulty

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

INCIDENT_WINDOW = timedelta(hours=1)
# Statuses whose executor time the miner is paid for: the job ran, whatever its own outcome.
BILLED_STATUSES = (JobStatus.COMPLETED, JobStatus.TIMEOUT, JobStatus.FAILED)


def miner_get_by_hotkey(*, hotkey: str) -> Miner | None:
    return Miner.objects.filter(hotkey=hotkey).first()


def miners_never_benchmarked(*, hotkeys: set[str]) -> set[str]:
    """Of these miners, those no run of this validator ever included: newcomers to benchmark now."""
    seen = set(MinerCycle.objects.filter(miner__hotkey__in=hotkeys).values_list("miner__hotkey", flat=True))
    return hotkeys - seen


def miners_with_a_pass(*, miner_ids: list[int]) -> set[int]:
    """Miners this validator saw pass a benchmark at least once (the others get newcomer deadlines)."""
    passed = BenchmarkCheck.objects.filter(miner_id__in=miner_ids, passed=True).exclude(benchmark="manifest")
    return set(passed.values_list("miner_id", flat=True).distinct())


def pow_difficulties(*, miner_ids: list[int]) -> dict[tuple[int, str], int]:
    rows = PowDifficulty.objects.filter(miner_id__in=miner_ids)
    return {(r.miner_id, r.executor_class): r.difficulty for r in rows}


def organic_jobs_running(*, miner_ids: list[int]) -> dict[int, int]:
    """This validator's organic jobs now on each miner: executors it knows are not free."""
    active = (JobStatus.DISPATCHED, JobStatus.RUNNING)
    rows = OrganicJob.objects.filter(miner_id__in=miner_ids, status__in=active).values("miner_id")
    return {r["miner_id"]: r["n"] for r in rows.annotate(n=Count("uuid"))}


class RecentIncidents(TypedDict):
    recent: int  # incidents within INCIDENT_WINDOW


def miners_for_job(*, exclude: set[str]) -> "list[WithAnnotations[Miner, RecentIncidents]]":
    """Miners registered on the chain and alive in the DHT (when DHT_ROUTE_REQUIRE_HEARTBEAT),
    with an address from the chain or else from their heartbeat; fewest recent incidents first,
    ties shuffled so load spreads."""
    since = timezone.now() - INCIDENT_WINDOW
    registered = list(
        Miner.objects.filter(is_active=True)
        .exclude(hotkey__in=exclude)
        .annotate(recent=Count("incidents", filter=Q(incidents__at__gte=since)))
    )
    routable = dht_routable_miners(m.hotkey for m in registered)
    announced = dht_miner_addresses()
    miners = []
    for miner in registered:
        miner.address = miner.address or announced.get(miner.hotkey, "")
        if miner.hotkey in routable and miner.address:
            miners.append(miner)
    random.shuffle(miners)
    return sorted(miners, key=lambda m: m.recent)


def organic_job_get(*, job_uuid: UUID) -> OrganicJob | None:
    return OrganicJob.objects.filter(uuid=job_uuid).first()


def organic_job_billed_seconds_by_miner(*, since: datetime) -> dict[str, float]:
    """Executor-seconds per miner hotkey of jobs that ended since `since` and are billed: completed,
    timed out, or failed by the job's own fault (an infrastructure failure is not the miner's work)."""
    billed = OrganicJob.objects.filter(updated_at__gte=since, miner__isnull=False, status__in=BILLED_STATUSES)
    billed = billed.exclude(status=JobStatus.FAILED, failure_kind=FailureKind.INFRASTRUCTURE)
    rows = billed.values("miner__hotkey").annotate(seconds=Sum("executor_seconds"))
    return {row["miner__hotkey"]: round(float(row["seconds"] or 0.0), 6) for row in rows}


def outbox_pending(*, limit: int = 100) -> list[FacilitatorOutbox]:
    """Updates not yet sent, oldest first: the order the facilitator must see them in."""
    return list(FacilitatorOutbox.objects.filter(sent_at=None).order_by("id")[:limit])


def outbox_last(*, job_uuid: UUID) -> FacilitatorOutbox | None:
    return FacilitatorOutbox.objects.filter(job_id=job_uuid).order_by("-id").first()
