"""factory_boy factories for the miner's models. Call `.create()` / `.build()` (typed) rather than
the factory itself."""

import uuid

import factory
from factory.django import DjangoModelFactory

from miner.models import AcceptedJob, AccessRule, ExecutorHost, ExecutorSlot, KnownValidator
from tests.factories import JOB_IMAGE


class KnownValidatorFactory(DjangoModelFactory[KnownValidator]):
    class Meta:
        model = KnownValidator

    hotkey = factory.Sequence(lambda n: f"5Validator{n:036d}")
    coldkey = factory.Sequence(lambda n: f"5VCold{n:040d}")
    stake = 1000


class AccessRuleFactory(DjangoModelFactory[AccessRule]):
    class Meta:
        model = AccessRule

    kind = AccessRule.Kind.HOTKEY
    list = AccessRule.List.BLACKLIST
    key = factory.Sequence(lambda n: f"5Key{n:042d}")


class ExecutorHostFactory(DjangoModelFactory[ExecutorHost]):
    class Meta:
        model = ExecutorHost

    name = factory.Sequence(lambda n: f"host{n}")
    docker_url = "local"


class ExecutorSlotFactory(DjangoModelFactory[ExecutorSlot]):
    class Meta:
        model = ExecutorSlot

    host = factory.SubFactory(ExecutorHostFactory)
    executor_class = "cpu.small"
    index = factory.Sequence(lambda n: n)


class AcceptedJobFactory(DjangoModelFactory[AcceptedJob]):
    class Meta:
        model = AcceptedJob

    uuid = factory.LazyFunction(uuid.uuid4)
    validator_hotkey = factory.Sequence(lambda n: f"5Validator{n:036d}")
    executor_class = "cpu.small"
    image = JOB_IMAGE
    status = AcceptedJob.Status.RESERVED
