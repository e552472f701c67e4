"""Calibrating an executor class: run its pow and matmul challenges on a host that really has the
class's hardware, the way a validator would, and keep the median time of each as the class's
reference figure (`reference_seconds`), against which benchmark times are judged.

The time is what a validator times: from the start of the job to the answer (for matmul, until
the Merkle root over C is computed). Each answer is checked too: a run that computed the wrong
thing must not become the reference."""

import asyncio
import base64
import os
import secrets
import statistics
import time
import uuid
from collections.abc import Callable

from django.conf import settings

from executor.runtime.benchmark import BenchmarkOutcome, benchmark_run
from executor.selectors import executor_class_get
from protocol.benchmarks.matmul import commit_rows, matmul_check, merkle_path
from protocol.benchmarks.pow import pow_challenge, pow_check
from protocol.messages.benchmarks import (
    BenchmarkKind,
    Challenge,
    CheckReason,
    ExecutorRef,
    MatmulParams,
    PowParams,
    RowOpening,
)
from protocol.messages.executor import ExecutorLimits

OWNER = "meshwork-calibrate"
CHECKED_ROWS = 16
TIMEOUT_S = 3600


class CalibrationFailed(Exception):
    pass


def _challenge(*, name: str, kind: BenchmarkKind, pow: PowParams | None, matmul: MatmulParams | None) -> Challenge:
    ref = ExecutorRef(host="calibration", executor_class=name, index=0)
    return Challenge(
        challenge_id=uuid.uuid4(), executor=ref, benchmark=kind, timeout_s=TIMEOUT_S, pow=pow, matmul=matmul
    )


async def _run(challenge: Challenge, limits: ExecutorLimits, docker_url: str) -> BenchmarkOutcome:
    outcome = await benchmark_run(
        challenge=challenge,
        limits=limits,
        docker_url=docker_url,
        owner=OWNER,
        image=settings.MINER_BENCH_IMAGE,
        cancel=asyncio.Event(),
    )
    if not outcome.ok:
        raise CalibrationFailed(f"{challenge.benchmark} run failed: {outcome.reason}: {outcome.detail}")
    return outcome


def _pow_seconds(*, name: str, difficulty: int, count: int, limits: ExecutorLimits, docker_url: str) -> float:
    challenge = pow_challenge(secret=os.urandom(32), miner_hotkey=OWNER, executor=name, cycle=0)
    params = PowParams(challenge=challenge.hex(), difficulty=difficulty, count=count)
    outcome = asyncio.run(
        _run(_challenge(name=name, kind=BenchmarkKind.POW, pow=params, matmul=None), limits, docker_url)
    )
    reason, detail = pow_check(challenge=challenge, difficulty=difficulty, count=count, nonces=outcome.nonces or [])
    if reason is not CheckReason.PASSED:
        raise CalibrationFailed(f"pow answer did not pass: {reason}: {detail}")
    return outcome.seconds


def _matmul_seconds(*, name: str, n: int, limits: ExecutorLimits, docker_url: str) -> float:
    seed = os.urandom(16)
    params = MatmulParams(seed=seed.hex(), n=n)
    challenge = _challenge(name=name, kind=BenchmarkKind.MATMUL, pow=None, matmul=params)
    outcome = asyncio.run(_run(challenge, limits, docker_url))
    assert outcome.matrix is not None
    started = time.monotonic()
    root, levels = commit_rows(outcome.matrix)
    seconds = outcome.seconds + time.monotonic() - started
    pick = secrets.SystemRandom()
    rows = sorted(pick.sample(range(n), min(CHECKED_ROWS, n)))
    columns = sorted(pick.sample(range(n), min(CHECKED_ROWS, n)))
    openings = [
        RowOpening(
            index=i,
            row_b64=base64.b64encode(outcome.matrix[i].astype("<f4").tobytes()).decode(),
            path=[node.hex() for node in merkle_path(levels, i)],
        )
        for i in rows
    ]
    reason, detail = matmul_check(seed=seed, n=n, root=root, openings=openings, rows=rows, columns=columns)
    if reason is not CheckReason.PASSED:
        raise CalibrationFailed(f"matmul answer did not pass: {reason}: {detail}")
    return seconds


def executor_class_calibrate(
    *, name: str, runs: int, docker_url: str, progress: Callable[[str], None]
) -> dict[str, float]:
    """Runs each benchmark `runs` times on `docker_url`, stores and returns the medians."""
    cls = executor_class_get(name=name, active_only=False)
    limits = cls.limits()
    times: dict[str, list[float]] = {"pow": [], "matmul": []}
    for run in range(1, runs + 1):
        pow_s = _pow_seconds(
            name=name, difficulty=cls.pow_difficulty, count=cls.pow_count, limits=limits, docker_url=docker_url
        )
        times["pow"].append(pow_s)
        progress(f"run {run}/{runs}: pow (difficulty {cls.pow_difficulty}, {cls.pow_count} nonces) {pow_s:.2f} s")
        matmul_s = _matmul_seconds(name=name, n=cls.matmul_n, limits=limits, docker_url=docker_url)
        times["matmul"].append(matmul_s)
        progress(f"run {run}/{runs}: matmul (n={cls.matmul_n}) {matmul_s:.2f} s")
    medians = {kind: round(statistics.median(values), 3) for kind, values in times.items()}
    cls.reference_seconds = medians
    cls.save(update_fields=["reference_seconds"])
    return medians
