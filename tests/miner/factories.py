"""factory_boy factories for the miner's models."""

import factory
from factory.django import DjangoModelFactory

from miner.models import AccessRule, ExecutorHost, ExecutorSlot, KnownValidator


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
