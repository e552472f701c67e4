"""Claiming the exact executor a benchmark challenge names, and recording the challenge as a job.

A challenge takes its executor like any job (a conditional update, free → held by the challenge
id), so a validator sees "busy" for an executor that really is running something."""

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from executor.models import ExecutorClass
from executor.selectors import executor_class_limits
from miner.models import AcceptedJob, ExecutorSlot
from miner.selectors import validator_refusal
from miner.services.executors import slot_release
from protocol.messages.benchmarks import BenchmarkFailReason, BenchmarkKind, Challenge
from protocol.messages.executor import ExecutorLimits
from protocol.tunables import tunable

# Room in the output zip besides C itself (zip headers; random floats do not compress).
_ZIP_SLACK_BYTES = 64 * 1024


class BenchmarkRefusal(Exception):
    def __init__(self, reason: BenchmarkFailReason, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


def benchmark_check(challenge: Challenge) -> None:
    """Raises BenchmarkRefusal for a challenge that cannot (or must not) be run as sent."""
    params = challenge.pow if challenge.benchmark is BenchmarkKind.POW else challenge.matmul
    if params is None:
        raise BenchmarkRefusal(
            BenchmarkFailReason.MALFORMED, f"a {challenge.benchmark} challenge without its parameters"
        )
    if challenge.matmul is not None and challenge.benchmark is BenchmarkKind.MATMUL:
        size = challenge.matmul.n**2 * 4
        if (
            size + _ZIP_SLACK_BYTES > tunable("EXECUTOR_MAX_OUTPUT_BYTES")
            or size > settings.MINER_BENCH_MAX_COMMIT_BYTES
        ):
            raise BenchmarkRefusal(BenchmarkFailReason.TOO_LARGE, f"C of n={challenge.matmul.n} is {size} bytes")


def benchmark_claim(*, validator_hotkey: str, challenge: Challenge) -> tuple[ExecutorSlot, ExecutorLimits]:
    """Holds the named executor for the challenge and records it as a running benchmark job."""
    refusal = validator_refusal(validator_hotkey)
    if refusal is not None:
        raise BenchmarkRefusal(BenchmarkFailReason.REFUSED, refusal)
    benchmark_check(challenge)
    ref = challenge.executor
    slots = ExecutorSlot.objects.filter(host__name=ref.host, executor_class=ref.executor_class, index=ref.index)
    try:
        limits = executor_class_limits(name=ref.executor_class, active_only=False)
    except ExecutorClass.DoesNotExist:
        limits = None
    if limits is None or not slots.exists():
        raise BenchmarkRefusal(BenchmarkFailReason.UNKNOWN_EXECUTOR, f"no executor {ref.key()} on this miner")
    uuid = challenge.challenge_id
    if AcceptedJob.objects.filter(uuid=uuid).exists():
        raise BenchmarkRefusal(BenchmarkFailReason.DUPLICATE, f"challenge {uuid} was already run here")
    try:
        with transaction.atomic():  # a savepoint: the unique job_uuid may collide
            claimed = slots.filter(job_uuid=None).update(job_uuid=uuid, claimed_at=timezone.now())
    except IntegrityError as exc:
        raise BenchmarkRefusal(BenchmarkFailReason.DUPLICATE, f"challenge {uuid} already holds an executor") from exc
    if not claimed:
        raise BenchmarkRefusal(BenchmarkFailReason.BUSY, f"executor {ref.key()} is running another job")
    try:
        with transaction.atomic():
            AcceptedJob.objects.create(
                uuid=uuid,
                kind=AcceptedJob.Kind.BENCHMARK,
                status=AcceptedJob.Status.RUNNING,
                validator_hotkey=validator_hotkey,
                executor_class=ref.executor_class,
                image=settings.MINER_BENCH_IMAGE,
                host_name=ref.host,
            )
    except IntegrityError as exc:
        slot_release(job_uuid=uuid)
        raise BenchmarkRefusal(BenchmarkFailReason.DUPLICATE, f"challenge {uuid} was already run here") from exc
    return slots.select_related("host").get(), limits
