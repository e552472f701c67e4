"""factory_boy factories for the validator's models. Call `.create()` / `.build()` (typed) rather
than the factory itself."""

import uuid
from datetime import UTC, datetime

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from protocol.messages.benchmarks import CheckReason
from protocol.messages.jobs import JobStatus
from protocol.messages.manifest import HostManifest, HostSpecs, ManifestMessage
from tests.factories import job_spec
from validator.models import (
    BenchmarkCheck,
    BenchmarkCycle,
    FacilitatorOutbox,
    Miner,
    MinerCycle,
    MinerDecline,
    MinerIncident,
    MinerManifest,
    MinerScore,
    OrganicJob,
    OrganicJobEvent,
    ReceiptPull,
    ReceiptRecord,
    ScoringCycle,
    WeightSubmission,
)


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


def manifest_message(**hosts: dict[str, int]) -> ManifestMessage:
    """A manifest with one host per keyword (name=executors per class), each with plain CPU specs."""
    return ManifestMessage(
        hosts=[
            HostManifest(name=name, executors=executors, specs=HostSpecs(cpu_cores=8, memory_mb=16384, disk_mb=10**5))
            for name, executors in hosts.items()
        ]
    )


class MinerManifestFactory(DjangoModelFactory[MinerManifest]):
    """A manifest as received; pass `message` (a ManifestMessage) to set payload and totals."""

    class Meta:
        model = MinerManifest
        exclude = ["message"]

    miner = factory.SubFactory(MinerFactory)
    message = factory.LazyFunction(lambda: manifest_message(h1={"cpu.small": 2}))
    payload = factory.LazyAttribute(lambda o: o.message.model_dump(mode="json"))
    totals = factory.LazyAttribute(lambda o: o.message.totals())
    digest = factory.Sequence(lambda n: f"{n:064x}")


class BenchmarkCycleFactory(DjangoModelFactory[BenchmarkCycle]):
    """A finished cycle (set finished_at=None for one in progress)."""

    class Meta:
        model = BenchmarkCycle

    number = factory.Sequence(lambda n: 1000 + n)
    finished_at = factory.LazyFunction(timezone.now)


class MinerCycleFactory(DjangoModelFactory[MinerCycle]):
    class Meta:
        model = MinerCycle

    cycle = factory.SubFactory(BenchmarkCycleFactory)
    miner = factory.SubFactory(MinerFactory)


class BenchmarkCheckFactory(DjangoModelFactory[BenchmarkCheck]):
    """A passed pow check of executor h1/cpu.small/0."""

    class Meta:
        model = BenchmarkCheck

    cycle = factory.SubFactory(BenchmarkCycleFactory)
    miner = factory.SubFactory(MinerFactory)
    executor = "h1/cpu.small/0"
    executor_class = "cpu.small"
    benchmark = BenchmarkCheck.Benchmark.POW
    passed = True
    reason = factory.LazyAttribute(lambda o: CheckReason.PASSED if o.passed else CheckReason.WRONG_ANSWER)
    seconds = 1.5
    deadline_s = 10.0
    efficiency = 0.9


# --- scoring and views


class ReceiptRecordFactory(DjangoModelFactory[ReceiptRecord]):
    """A stored receipt (the fields scoring reads; the payload and signatures are placeholders:
    scoring trusts what `receipts_store` verified). An `interval` of 600 s signed now, by default."""

    class Meta:
        model = ReceiptRecord

    kind = "interval"
    job_uuid = factory.LazyFunction(uuid.uuid4)
    index = factory.LazyAttribute(lambda o: 1 if o.kind == "interval" else 0)
    miner = factory.SubFactory(MinerFactory)
    validator_hotkey = "5Validator0000000000000000000000000000000000000"
    executor_class = "cpu.small"
    job_kind = "organic"
    at = factory.LazyFunction(timezone.now)
    seconds = factory.LazyAttribute(lambda o: 600.0 if o.kind in ("interval", "job_finished") else None)
    outcome = factory.LazyAttribute(lambda o: "completed" if o.kind == "job_finished" else "")
    payload = factory.LazyAttribute(lambda o: {"timeout_s": 3600, "ttl_s": 30.0} if o.kind == "job_started" else {})
    validator_signature = "00"
    miner_signature = "00"
    digest = factory.Sequence(lambda n: f"{n:064x}")
    source = ReceiptRecord.Source.OWN


class ReceiptPullFactory(DjangoModelFactory[ReceiptPull]):
    class Meta:
        model = ReceiptPull

    miner = factory.SubFactory(MinerFactory)
    started_at = factory.LazyFunction(timezone.now)
    finished_at = factory.LazyFunction(timezone.now)
    pages = 1
    accepted = 3


class MinerDeclineFactory(DjangoModelFactory[MinerDecline]):
    class Meta:
        model = MinerDecline

    miner = factory.SubFactory(MinerFactory)
    job_uuid = factory.LazyFunction(uuid.uuid4)
    executor_class = "cpu.small"
    reason = "busy"
    at = factory.LazyFunction(timezone.now)


def score_class(executor_class: str = "cpu.small", **inputs: float) -> dict[str, object]:
    """One class's inputs as the scorer stores them in MinerScore.classes."""
    row: dict[str, object] = {
        "executor_class": executor_class,
        "claimed": 2,
        "verified": 2,
        "value": 1.0,
        "efficiency": 1.0,
        "multiplier": 1.0,
        "organic_seconds": 600.0,
        "benchmark_seconds": 30.0,
        "points": 630.0,
    }
    return row | inputs


class ScoringCycleFactory(DjangoModelFactory[ScoringCycle]):
    """A finished scoring cycle of 300 s windows (set finished_at=None for one being scored)."""

    class Meta:
        model = ScoringCycle

    number = factory.Sequence(lambda n: 5000 + n)
    window_start = factory.LazyAttribute(lambda o: datetime.fromtimestamp(o.number * 300, tz=UTC))
    window_end = factory.LazyAttribute(lambda o: datetime.fromtimestamp((o.number + 1) * 300, tz=UTC))
    finished_at = factory.LazyFunction(timezone.now)


class MinerScoreFactory(DjangoModelFactory[MinerScore]):
    class Meta:
        model = MinerScore

    cycle = factory.SubFactory(ScoringCycleFactory)
    hotkey = factory.Sequence(lambda n: f"5Miner{n:040d}")
    coldkey = factory.Sequence(lambda n: f"5ScoredCold{n:035d}")
    points = 630.0
    score = factory.LazyAttribute(lambda o: o.points)
    classes = factory.LazyFunction(lambda: [score_class()])
    penalties = factory.LazyFunction(list)
    grouping = factory.LazyAttribute(lambda o: {"coldkey_points": o.points, "share": 1.0, "main_hotkey": o.hotkey})


class WeightSubmissionFactory(DjangoModelFactory[WeightSubmission]):
    class Meta:
        model = WeightSubmission

    cycle = factory.SubFactory(ScoringCycleFactory)
    status = WeightSubmission.Status.SET
    values = factory.LazyFunction(dict)
    block = 100
