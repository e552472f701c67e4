"""Scores committed over the DHT: billed organic work per miner in the last epoch."""

from datetime import timedelta

import pytest
from django.utils import timezone

from protocol.messages.common import FailureKind
from protocol.messages.jobs import JobStatus
from tests.validator.factories import MinerFactory, OrganicJobFactory
from validator.models import Miner, OrganicJob
from validator.services.scores import organic_scores, score_epoch_seconds

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def one_minute_epoch(settings):
    settings.CHAIN = "local"
    settings.LOCAL_CHAIN_BLOCK_SECONDS = 1.0
    settings.DHT_EPOCH_BLOCKS = 60


def test_the_epoch_is_its_blocks_times_the_chains_block_time():
    assert score_epoch_seconds() == 60.0


def test_organic_scores_sum_billed_executor_seconds_per_miner_in_the_epoch():
    a = MinerFactory.create(hotkey="5A", address="x:1")
    b = MinerFactory.create(hotkey="5B", address="x:2")

    def job(miner: Miner, status: JobStatus, seconds: float, kind: str = "") -> OrganicJob:
        return OrganicJobFactory.create(
            spec={}, miner=miner, status=status, executor_seconds=seconds, failure_kind=kind
        )

    assert organic_scores(1) is None
    job(a, JobStatus.COMPLETED, 2.5)
    job(a, JobStatus.FAILED, 1.0, FailureKind.JOB)
    job(a, JobStatus.FAILED, 9.0, FailureKind.INFRASTRUCTURE)  # not the miner's work: never scored
    job(b, JobStatus.TIMEOUT, 3.0)
    job(b, JobStatus.RUNNING, 7.0)  # unfinished
    old = job(b, JobStatus.COMPLETED, 100.0)
    OrganicJob.objects.filter(pk=old.pk).update(updated_at=timezone.now() - timedelta(minutes=5))

    assert organic_scores(1) == {"5A": 3.5, "5B": 3.0}
