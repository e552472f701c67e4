"""Seeds the browser tests' database (run in a subprocess, against that database): a superuser and
rows every role's pages show. Prints, as its last line, the figures the pages must then display."""

import json
import uuid
from datetime import timedelta
from typing import Any

from django.contrib.auth.models import User
from django.utils import timezone

from facilitator.models import ExecutorCensusReport, Job
from miner.models import AcceptedJob, MinerReceipt
from protocol.messages.benchmarks import CheckReason
from protocol.messages.common import FailureKind
from protocol.messages.jobs import JobStatus
from tests.facilitator.factories import JobFactory, ValidatorSessionFactory
from tests.miner.factories import AcceptedJobFactory, ExecutorSlotFactory
from tests.validator.factories import (
    BenchmarkCheckFactory,
    BenchmarkCycleFactory,
    MinerFactory,
    MinerManifestFactory,
    manifest_message,
)

USERNAME, PASSWORD = "operator", "browser-test-password"
MINERS = ("5Honest" + "h" * 41, "5Cheat" + "c" * 42)


def _facilitator() -> dict[str, Any]:
    now = timezone.now()
    took = (3, 5, 9)
    for seconds, miner in zip(took, MINERS + MINERS[:1], strict=True):
        job = JobFactory.create(
            status=JobStatus.COMPLETED, miner_hotkey=miner, executor_seconds=float(seconds), tag="browser"
        )
        Job.objects.filter(uuid=job.uuid).update(
            started_at=now, finished_at=job.created_at + timedelta(seconds=seconds)
        )
    JobFactory.create(
        status=JobStatus.FAILED, miner_hotkey=MINERS[1], failure_kind=FailureKind.JOB, failure_reason="nonzero_exit"
    )
    JobFactory.create(status=JobStatus.FAILED, failure_kind=FailureKind.INFRASTRUCTURE, failure_reason="miner_lost")
    # A connected validator's census: what it verified of the miners' claims (executor.census).
    census = {"executor_class": "cpu.small", "miners": 2, "claimed": 4, "verified": 2}
    validator = ValidatorSessionFactory.create()
    ExecutorCensusReport.objects.create(validator_hotkey=validator.hotkey, cycle=1, reported_at=now, classes=[census])
    return {
        "jobs": 5, "failure_rate": "40.0 %", "miners_online": 2, "latency": "5.0 s / 8.6 s",
        "census": {"executors-cpu.small": "2 / 4"},
    }  # fmt: skip


def _validator() -> dict[str, Any]:
    honest, cheat = (MinerFactory.create(hotkey=h) for h in MINERS)
    for miner in (honest, cheat):
        MinerManifestFactory.create(miner=miner, message=manifest_message(h1={"cpu.small": 2}))
    cycle = BenchmarkCycleFactory.create()
    for index in (0, 1):
        for benchmark in ("pow", "matmul"):
            executor = f"h1/cpu.small/{index}"
            BenchmarkCheckFactory.create(
                cycle=cycle, miner=honest, executor=executor, benchmark=benchmark, efficiency=1.2
            )
            BenchmarkCheckFactory.create(
                cycle=cycle, miner=cheat, executor=executor, benchmark=benchmark, passed=benchmark == "pow",
                reason=CheckReason.PASSED if benchmark == "pow" else CheckReason.BAD_PROOF,
                efficiency=0.5 if benchmark == "pow" else None,
            )  # fmt: skip
    return {"miners_active": 2, "claimed": 4, "cycle": cycle.number}


def _miner() -> dict[str, Any]:
    slots = [ExecutorSlotFactory.create() for _ in range(3)]
    slots[0].job_uuid = uuid.uuid4()
    slots[0].save()
    AcceptedJobFactory.create(status=AcceptedJob.Status.FINISHED)
    AcceptedJobFactory.create(status=AcceptedJob.Status.FAILED)
    for seconds, job_kind in ((12.0, "organic"), (4.5, "benchmark")):
        MinerReceipt.objects.create(
            kind="job_finished", job_uuid=uuid.uuid4(), validator_hotkey="5Validator" + "v" * 38,
            payload={"kind": "job_finished", "seconds": seconds, "job_kind": job_kind, "executor_class": "cpu.small"},
            validator_signature="ab" * 32, miner_signature="cd" * 32,
        )  # fmt: skip
    return {"executors": 3, "busy": 1, "jobs": 2, "credited_seconds": "16.5"}


def seed() -> None:
    User.objects.create_superuser(USERNAME, "operator@example.invalid", PASSWORD)
    figures = {"facilitator": _facilitator(), "validator": _validator(), "miner": _miner()}
    print(json.dumps(figures))
