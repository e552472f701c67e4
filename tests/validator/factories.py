"""factory_boy factories for the validator's models."""

import factory
from factory.django import DjangoModelFactory

from tests.factories import job_spec
from validator.models import Miner, MinerIncident, OrganicJob


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
