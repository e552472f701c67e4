"""Executor hosts and slots. Slots are claimed and released by conditional updates, so several
miner processes sharing one database never hand one executor to two jobs."""

from uuid import UUID

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from executor.services.hosts import HostSpec, executor_hosts_parse
from miner.models import ExecutorHost, ExecutorSlot


class DuplicateClaim(Exception):
    """The job already holds a slot."""


@transaction.atomic
def executor_hosts_sync(specs: list[HostSpec]) -> int:
    """Make the slot table match the configuration; busy slots are never removed."""
    for spec in specs:
        host, _ = ExecutorHost.objects.update_or_create(name=spec.name, defaults={"docker_url": spec.docker_url})
        for cls, count in spec.classes.items():
            for index in range(count):
                ExecutorSlot.objects.get_or_create(host=host, executor_class=cls, index=index)
            ExecutorSlot.objects.filter(host=host, executor_class=cls, index__gte=count, job_uuid=None).delete()
        ExecutorSlot.objects.filter(host=host, job_uuid=None).exclude(executor_class__in=spec.classes).delete()
    # A host no longer configured loses its idle slots now and itself once its last job ended.
    removed = ExecutorHost.objects.exclude(name__in=[s.name for s in specs])
    ExecutorSlot.objects.filter(host__in=removed, job_uuid=None).delete()
    removed.filter(slots=None).delete()
    return ExecutorSlot.objects.count()


def executor_hosts_sync_from_settings() -> int:
    return executor_hosts_sync(executor_hosts_parse(settings.MINER_EXECUTOR_HOSTS))


def slot_claim(*, executor_class: str, job_uuid: UUID, validator_hotkey: str = "") -> ExecutorSlot | None:
    for slot_id in ExecutorSlot.objects.filter(executor_class=executor_class, job_uuid=None).values_list(
        "id", flat=True
    ):
        try:
            with transaction.atomic():  # a savepoint, so a caller's transaction survives the conflict
                claimed = ExecutorSlot.objects.filter(id=slot_id, job_uuid=None).update(
                    job_uuid=job_uuid, claimed_at=timezone.now(), validator_hotkey=validator_hotkey
                )
        except IntegrityError as exc:  # a concurrent reservation of the same job holds a slot
            raise DuplicateClaim(str(job_uuid)) from exc
        if claimed:
            return ExecutorSlot.objects.select_related("host").get(id=slot_id)
    return None


def slot_release(*, job_uuid: UUID) -> bool:
    return bool(
        ExecutorSlot.objects.filter(job_uuid=job_uuid).update(job_uuid=None, claimed_at=None, validator_hotkey="")
    )


def slots_release_all() -> int:
    """At start-up: jobs of a previous run died with its process (their containers are swept)."""
    return ExecutorSlot.objects.exclude(job_uuid=None).update(job_uuid=None, claimed_at=None, validator_hotkey="")
