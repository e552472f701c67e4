"""Per-epoch scores a validator commits and reveals over the DHT (DHT_SCORES_PROVIDER).

For now a miner's score is the verified organic work it did for this validator in the last
epoch: executor-seconds of jobs that completed or failed by the job's own fault (both billed).
Benchmark results join the score when synthetic benchmarks land."""

from datetime import timedelta

from django.conf import settings
from django.db.models import Sum
from django.utils import timezone

from chain.client import chain_client
from protocol.messages.jobs import JobStatus
from validator.models import OrganicJob


def epoch_seconds() -> float:
    return float(settings.DHT_EPOCH_BLOCKS * chain_client().block_seconds())


def organic_scores(epoch: int) -> dict[str, float] | None:
    """Executor-seconds per miner over the last epoch; None when there was no work to score."""
    since = timezone.now() - timedelta(seconds=epoch_seconds())
    billed = OrganicJob.objects.filter(updated_at__gte=since, miner__isnull=False).filter(
        status__in=[JobStatus.COMPLETED, JobStatus.TIMEOUT, JobStatus.FAILED]
    )
    billed = billed.exclude(status=JobStatus.FAILED, failure_kind="infrastructure")
    rows = billed.values("miner__hotkey").annotate(seconds=Sum("executor_seconds"))
    scores = {row["miner__hotkey"]: round(float(row["seconds"] or 0.0), 6) for row in rows}
    return scores or None
