"""One benchmark challenge as a real job: the same driver, the same locked-down container as a
user's job, running the benchmark image's CLI (`meshwork-bench pow|matmul`).

    await benchmark_run(challenge=…, limits=…, docker_url=…, owner=…, image=…, cancel=…) -> BenchmarkOutcome

pow: the nonces the image printed. matmul: C read from /output/c.f32 (row-major float32 LE), which
must be exactly n·n·4 bytes. Anything else is a failure with a reason (`CheckReason` values:
`executor_failed` when the job itself failed, `malformed` when its answer has the wrong shape)."""

import asyncio
import base64
import binascii
import io
import json
import time
import zipfile
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from executor.runtime.driver import executor_run_job
from protocol.messages.benchmarks import MAX_POW_NONCES, BenchmarkKind, Challenge, CheckReason
from protocol.messages.common import JobSpec
from protocol.messages.executor import ExecutorLimits, ExecutorRun
from protocol.messages.jobs import JobFailed, JobFinished, JobProgress

MiB = 1024 * 1024
MATRIX_FILE = "c.f32"


@dataclass(frozen=True)
class BenchmarkOutcome:
    """`seconds`: wall time from the start of the job to its answer being read."""

    seconds: float
    nonces: list[int] | None = None
    matrix: NDArray[Any] | None = None
    reason: str = ""  # empty when the job answered
    detail: str = ""
    executor_seconds: float | None = None

    @property
    def ok(self) -> bool:
        return not self.reason


def benchmark_args(challenge: Challenge) -> list[str]:
    if challenge.benchmark is BenchmarkKind.POW and challenge.pow is not None:
        p = challenge.pow
        return ["meshwork-bench", "pow", p.challenge, str(p.difficulty), str(p.count)]
    if challenge.benchmark is BenchmarkKind.MATMUL and challenge.matmul is not None:
        return ["meshwork-bench", "matmul", challenge.matmul.seed, str(challenge.matmul.n)]
    raise ValueError(f"challenge {challenge.challenge_id}: no parameters for {challenge.benchmark}")


def benchmark_limits(challenge: Challenge, limits: ExecutorLimits) -> ExecutorLimits:
    """The class's limits, with /output room for C: the matrix is the benchmark's, not a user's."""
    if challenge.matmul is None:
        return limits
    needed_mb = -(-(challenge.matmul.n**2 * 4) // MiB) + 1
    return limits.model_copy(update={"output_mb": max(limits.output_mb, needed_mb)})


async def benchmark_run(
    *, challenge: Challenge, limits: ExecutorLimits, docker_url: str, owner: str, image: str, cancel: asyncio.Event
) -> BenchmarkOutcome:
    spec = JobSpec(
        image=image,
        args=benchmark_args(challenge),
        executor_class=challenge.executor.executor_class,
        timeout_s=challenge.timeout_s,
    )
    run = ExecutorRun(job_uuid=challenge.challenge_id, spec=spec, limits=benchmark_limits(challenge, limits))
    terminal: list[JobProgress] = []

    async def emit(message: JobProgress) -> None:
        if isinstance(message, JobFinished | JobFailed) or message.type == "job.cancelled":
            terminal.append(message)

    started = time.monotonic()
    await executor_run_job(run=run, docker_url=docker_url, emit=emit, cancel=cancel, owner=owner)
    end = terminal[-1] if terminal else None
    if isinstance(end, JobFinished):
        outcome = _parse(challenge, stdout=end.result.stdout, output_zip_b64=end.result.output_zip_b64)
        return _timed(outcome, started, end.result.executor_seconds)
    if isinstance(end, JobFailed):
        detail = f"{end.failure.reason}: {end.failure.detail}"
        if end.result is not None and end.result.stderr:
            detail += f" (stderr: {end.result.stderr[-300:]})"
        return _failed(started, CheckReason.EXECUTOR_FAILED, detail)
    return _failed(started, CheckReason.EXECUTOR_FAILED, "cancelled" if end else "the executor reported no end")


def _failed(started: float, reason: str, detail: str) -> BenchmarkOutcome:
    return BenchmarkOutcome(seconds=time.monotonic() - started, reason=str(reason), detail=detail[:1000])


def _timed(outcome: BenchmarkOutcome, started: float, executor_seconds: float) -> BenchmarkOutcome:
    return BenchmarkOutcome(
        seconds=time.monotonic() - started,
        nonces=outcome.nonces,
        matrix=outcome.matrix,
        reason=outcome.reason,
        detail=outcome.detail,
        executor_seconds=executor_seconds,
    )


def _parse(challenge: Challenge, *, stdout: str, output_zip_b64: str) -> BenchmarkOutcome:
    if challenge.pow is not None:
        return pow_parse(stdout, count=challenge.pow.count)
    assert challenge.matmul is not None
    return matrix_parse(output_zip_b64, n=challenge.matmul.n)


def pow_parse(stdout: str, *, count: int) -> BenchmarkOutcome:
    """The last line of stdout: {"nonces": [int, …]} with exactly `count` entries in 0..2⁶⁴."""
    lines = stdout.strip().splitlines()
    try:
        nonces = json.loads(lines[-1])["nonces"] if lines else None
    except (ValueError, KeyError, TypeError):
        nonces = None
    if not isinstance(nonces, list) or len(nonces) != count or count > MAX_POW_NONCES:
        nonces = None
    elif not all(type(x) is int and 0 <= x < 1 << 64 for x in nonces):
        nonces = None
    if nonces is None:
        return BenchmarkOutcome(seconds=0.0, reason=CheckReason.MALFORMED, detail=f"pow output: {stdout[-200:]!r}")
    return BenchmarkOutcome(seconds=0.0, nonces=nonces)


def matrix_parse(output_zip_b64: str, *, n: int) -> BenchmarkOutcome:
    """C from the output zip: /output/c.f32 of exactly n·n·4 bytes."""
    want = n * n * 4
    try:
        with zipfile.ZipFile(io.BytesIO(base64.b64decode(output_zip_b64, validate=True))) as zf:
            info = zf.getinfo(MATRIX_FILE)
            if info.file_size != want:
                detail = f"{MATRIX_FILE} holds {info.file_size} bytes; n={n} needs {want}"
                return BenchmarkOutcome(seconds=0.0, reason=CheckReason.MALFORMED, detail=detail)
            data = zf.read(info)
    except (KeyError, zipfile.BadZipFile, binascii.Error, ValueError) as exc:
        return BenchmarkOutcome(seconds=0.0, reason=CheckReason.MALFORMED, detail=f"no {MATRIX_FILE} in /output: {exc}")
    if len(data) != want:  # the zip's directory may lie about the size
        return BenchmarkOutcome(seconds=0.0, reason=CheckReason.MALFORMED, detail=f"{MATRIX_FILE} is truncated")
    return BenchmarkOutcome(seconds=0.0, matrix=np.frombuffer(data, dtype="<f4").reshape(n, n))
