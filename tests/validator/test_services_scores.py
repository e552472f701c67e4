"""Scores committed over the DHT: billed organic work per miner in the last epoch."""

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

pytestmark = pytest.mark.django_db


def test_organic_scores_sum_billed_executor_seconds_per_miner_in_the_epoch(settings):
    from validator.models import Miner, OrganicJob
    from validator.services.scores import organic_scores

    settings.CHAIN = "local"
    settings.LOCAL_CHAIN_BLOCK_SECONDS = 1.0
    settings.DHT_EPOCH_BLOCKS = 60
    a = Miner.objects.create(hotkey="5A", address="x:1")
    b = Miner.objects.create(hotkey="5B", address="x:2")

    def job(miner, status, seconds, kind=""):
        return OrganicJob.objects.create(
            uuid=uuid.uuid4(), spec={}, miner=miner, status=status, executor_seconds=seconds, failure_kind=kind
        )

    assert organic_scores(1) is None
    job(a, "completed", 2.5)
    job(a, "failed", 1.0, "job")
    job(a, "failed", 9.0, "infrastructure")  # not the miner's work: never scored
    job(b, "timeout", 3.0)
    job(b, "running", 7.0)  # unfinished
    old = job(b, "completed", 100.0)
    OrganicJob.objects.filter(pk=old.pk).update(updated_at=timezone.now() - timedelta(minutes=5))

    assert organic_scores(1) == {"5A": 3.5, "5B": 3.0}
