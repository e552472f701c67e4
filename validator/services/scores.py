"""Per-epoch scores a validator commits and reveals over the DHT (DHT_SCORES_PROVIDER).

For now a miner's score is the verified organic work it did for this validator in the last
epoch: executor-seconds of jobs that completed or failed by the job's own fault (both billed).
Benchmark results join the score when synthetic benchmarks land."""

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from chain.client import chain_client
from validator.selectors import organic_job_billed_seconds_by_miner


def score_epoch_seconds() -> float:
    return float(settings.DHT_EPOCH_BLOCKS * chain_client().block_seconds())


def organic_scores(epoch: int) -> dict[str, float] | None:
    """Executor-seconds per miner over the last epoch; None when there was no work to score."""
    since = timezone.now() - timedelta(seconds=score_epoch_seconds())
    return organic_job_billed_seconds_by_miner(since=since) or None
