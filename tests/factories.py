"""factory_boy factories and small builders shared by the unit-test packages."""

from decimal import Decimal
from typing import Any

import factory
from django.contrib.auth import get_user_model
from factory.django import DjangoModelFactory

from executor.models import ExecutorClass
from miner.models import AccessRule, ExecutorHost, ExecutorSlot, KnownValidator
from protocol.messages.common import JobSpec
from validator.models import Miner, MinerIncident, OrganicJob

JOB_IMAGE = "meshwork/job-python:3.11"

# The classes seeded by executor/migrations/0002; a transactional test's flush deletes them, so
# tests that need them ask for the `executor_classes` fixture, which puts them back.
SEEDED_CLASSES: dict[str, dict[str, Any]] = {
    "cpu.small": {"cpus": 1.0, "memory_mb": 512, "pids": 128, "output_mb": 64, "price_per_second": Decimal("0.001")},
    "cpu.large": {"cpus": 2.0, "memory_mb": 2048, "pids": 512, "output_mb": 256, "price_per_second": Decimal("0.004")},
}


def executor_classes_ensure() -> dict[str, ExecutorClass]:
    return {
        name: ExecutorClass.objects.get_or_create(name=name, defaults=fields)[0]
        for name, fields in SEEDED_CLASSES.items()
    }


def job_spec(**overrides: Any) -> JobSpec:
    fields: dict[str, Any] = {
        "image": JOB_IMAGE,
        "args": ["python3", "-c", "print(1)"],
        "env": {},
        "executor_class": "cpu.small",
        "timeout_s": 600,
        "input": None,
    }
    fields.update(overrides)
    return JobSpec.model_validate(fields)


class UserFactory(DjangoModelFactory):
    class Meta:
        model = get_user_model()

    username = factory.Sequence(lambda n: f"user{n}")


class MinerFactory(DjangoModelFactory):
    class Meta:
        model = Miner

    hotkey = factory.Sequence(lambda n: f"5Miner{n:040d}")
    coldkey = factory.Sequence(lambda n: f"5Cold{n:041d}")
    uid = factory.Sequence(lambda n: n)
    address = factory.Sequence(lambda n: f"127.0.0.1:{20000 + n}")
    stake = 0
    is_active = True


class MinerIncidentFactory(DjangoModelFactory):
    class Meta:
        model = MinerIncident

    miner = factory.SubFactory(MinerFactory)
    job_uuid = factory.Faker("uuid4")
    reason = "miner_lost"


class OrganicJobFactory(DjangoModelFactory):
    class Meta:
        model = OrganicJob

    uuid = factory.Faker("uuid4")
    spec = factory.LazyFunction(lambda: job_spec().model_dump(mode="json"))


class KnownValidatorFactory(DjangoModelFactory):
    class Meta:
        model = KnownValidator

    hotkey = factory.Sequence(lambda n: f"5Validator{n:036d}")
    coldkey = factory.Sequence(lambda n: f"5VCold{n:040d}")
    stake = 1000


class AccessRuleFactory(DjangoModelFactory):
    class Meta:
        model = AccessRule

    kind = AccessRule.Kind.HOTKEY
    list = AccessRule.List.BLACKLIST
    key = factory.Sequence(lambda n: f"5Key{n:042d}")


class ExecutorHostFactory(DjangoModelFactory):
    class Meta:
        model = ExecutorHost

    name = factory.Sequence(lambda n: f"host{n}")
    docker_url = "local"


class ExecutorSlotFactory(DjangoModelFactory):
    class Meta:
        model = ExecutorSlot

    host = factory.SubFactory(ExecutorHostFactory)
    executor_class = "cpu.small"
    index = factory.Sequence(lambda n: n)


def facilitator_job(*, user: Any, status: str = "dispatched", validator_hotkey: str = "5Validator", **spec: Any) -> Any:
    """A job created through the real service (credits held), then moved to `status` as if a
    validator had taken it."""
    from django.utils import timezone

    from facilitator.models import Job
    from facilitator.services.jobs import job_create

    job = job_create(user=user, spec=job_spec(**spec))
    if status != "pending":
        Job.objects.filter(uuid=job.uuid).update(
            status=status, validator_hotkey=validator_hotkey, dispatched_at=timezone.now()
        )
    job.refresh_from_db()
    return job


def zip_bytes(files: dict[str, bytes | str]) -> bytes:
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()
