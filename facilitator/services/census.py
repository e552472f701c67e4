"""What validators report of the executors they verified (`executor.census`), kept for the network
overview. Bounded: a validator's rows older than the longest dashboard window (and beyond the
newest CENSUS_KEEP_PER_VALIDATOR) are deleted as each new one is stored."""

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from facilitator.models import ExecutorCensusReport
from protocol.messages.facilitator import ExecutorCensus

CENSUS_KEEP = timedelta(days=8)  # the overview's longest window is 7 days
CENSUS_KEEP_PER_VALIDATOR = 1000


def executor_census_record(*, validator_hotkey: str, census: ExecutorCensus) -> ExecutorCensusReport:
    with transaction.atomic():
        report = ExecutorCensusReport.objects.create(
            validator_hotkey=validator_hotkey,
            cycle=census.cycle,
            reported_at=census.at,
            classes=[c.model_dump(mode="json") for c in census.classes],
        )
        own = ExecutorCensusReport.objects.filter(validator_hotkey=validator_hotkey)
        kept = own.order_by("-received_at", "-id").values_list("id", flat=True)[:CENSUS_KEEP_PER_VALIDATOR]
        own.exclude(id__in=list(kept)).delete()
        ExecutorCensusReport.objects.filter(received_at__lt=timezone.now() - CENSUS_KEEP).delete()
    return report
