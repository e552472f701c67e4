"""factory_boy factories for the validator's models. Call `.create()` / `.build()` (typed) rather
than the factory itself."""

import uuid

import factory
from factory.django import DjangoModelFactory

from protocol.messages.jobs import JobStatus
from tests.factories import job_spec
from validator.models import FacilitatorOutbox, Miner, MinerIncident, OrganicJob, OrganicJobEvent


class MinerFactory(DjangoModelFactory[Miner]):
    class Meta:
        model = Miner

    hotkey = factory.Sequence(lambda n: f"5Miner{n:040d}")
    coldkey = factory.Sequence(lambda n: f"5Cold{n:041d}")
    uid = factory.Sequence(lambda n: n)
    address = factory.Sequence(lambda n: f"127.0.0.1:{20000 + n}")
    stake = 0
    is_active = True


class MinerIncidentFactory(DjangoModelFactory[MinerIncident]):
    class Meta:
        model = MinerIncident

    miner = factory.SubFactory(MinerFactory)
    job_uuid = factory.LazyFunction(uuid.uuid4)
    reason = "miner_lost"


class OrganicJobFactory(DjangoModelFactory[OrganicJob]):
    class Meta:
        model = OrganicJob

    uuid = factory.LazyFunction(uuid.uuid4)
    spec = factory.LazyFunction(lambda: job_spec().model_dump(mode="json"))
    status = JobStatus.PENDING


class OrganicJobEventFactory(DjangoModelFactory[OrganicJobEvent]):
    class Meta:
        model = OrganicJobEvent

    job = factory.SubFactory(OrganicJobFactory)
    status = JobStatus.DISPATCHED
    detail = ""


class FacilitatorOutboxFactory(DjangoModelFactory[FacilitatorOutbox]):
    """An update owed upstream; its payload is a valid `JobStatusUpdate` for its job."""

    class Meta:
        model = FacilitatorOutbox

    job = factory.SubFactory(OrganicJobFactory)
    payload = factory.LazyAttribute(
        lambda o: {"type": "job.status", "job_uuid": str(o.job.uuid), "status": JobStatus.DISPATCHED.value}
    )
