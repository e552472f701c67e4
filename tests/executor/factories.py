"""factory_boy factories for the executor's models."""

from decimal import Decimal

import factory
from factory.django import DjangoModelFactory

from executor.models import ExecutorClass


class ExecutorClassFactory(DjangoModelFactory[ExecutorClass]):
    class Meta:
        model = ExecutorClass
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"test.class{n}")
    description = ""
    cpus = 1.0
    memory_mb = 256
    pids = 64
    output_mb = 16
    price_per_second = Decimal("0.002")
