"""Storing what a host's specs collection found (miner/specs.py collects them)."""

from django.utils import timezone

from miner.models import ExecutorHost, HostSpecsRecord
from protocol.messages.manifest import HostSpecs


def host_specs_store(*, host: ExecutorHost, specs: HostSpecs, error: str = "") -> HostSpecsRecord:
    record, _ = HostSpecsRecord.objects.update_or_create(
        host=host,
        defaults={"specs": specs.model_dump(mode="json"), "error": error[:500], "collected_at": timezone.now()},
    )
    return record
