"""Reading a benchmark job's answer: nonces from stdout, C from /output/c.f32 of exactly n·n·4 bytes."""

import asyncio
import json
import uuid

import numpy as np
import pytest

from executor.runtime.benchmark import benchmark_limits, benchmark_run, matrix_parse, pow_parse
from protocol.messages.benchmarks import BenchmarkKind, Challenge, ExecutorRef, MatmulParams
from protocol.messages.executor import ExecutorLimits
from tests.executor.runtime.job_runs import b64, zip_bytes

LIMITS = ExecutorLimits(cpus=1, memory_mb=256, pids=64, output_mb=1)


def _matmul(n: int) -> Challenge:
    ref = ExecutorRef(host="h", executor_class="cpu.small", index=0)
    params = MatmulParams(seed="00" * 16, n=n)
    return Challenge(
        challenge_id=uuid.uuid4(), executor=ref, benchmark=BenchmarkKind.MATMUL, timeout_s=30, matmul=params
    )


def test_pow_nonces_are_read_from_the_last_line():
    assert pow_parse("solving\n" + json.dumps({"nonces": [1, 2, 3]}), count=3).nonces == [1, 2, 3]


@pytest.mark.parametrize(
    "stdout",
    [
        "",
        "garbage",
        json.dumps({"nonces": [1, 2]}),
        json.dumps({"nonces": [1, 2, -3]}),
        json.dumps({"nonces": [1, 2, 2**64]}),
    ],
)
def test_a_pow_answer_of_the_wrong_shape_is_malformed(stdout):
    outcome = pow_parse(stdout, count=3)
    assert (outcome.ok, outcome.reason, outcome.nonces) == (False, "malformed", None)


def test_the_matrix_is_read_whole_and_a_wrong_size_is_malformed():
    c = np.arange(16 * 16, dtype="<f4").reshape(16, 16)
    outcome = matrix_parse(b64(zip_bytes({"c.f32": c.tobytes()})), n=16)
    assert outcome.matrix is not None
    assert np.array_equal(outcome.matrix, c)
    short = matrix_parse(b64(zip_bytes({"c.f32": c.tobytes()[:-4]})), n=16)
    missing = matrix_parse(b64(zip_bytes({"other": b"x"})), n=16)
    empty = matrix_parse("", n=16)
    assert [(o.reason, o.matrix) for o in (short, missing, empty)] == [("malformed", None)] * 3


def test_output_room_is_made_for_the_matrix():
    assert benchmark_limits(_matmul(1024), LIMITS).output_mb == 5  # 4 MiB of C, rounded up, plus one
    roomy = LIMITS.model_copy(update={"output_mb": 8})
    assert benchmark_limits(_matmul(16), roomy) == roomy


async def test_a_job_that_fails_is_an_executor_failure(docker_client, owner):
    """A benchmark image the engine does not have: the job fails, the outcome says so."""
    outcome = await benchmark_run(
        challenge=_matmul(16),
        limits=LIMITS,
        docker_url="local",
        owner=owner,
        image="meshwork/absent:1",
        cancel=asyncio.Event(),
    )
    assert (outcome.ok, outcome.reason) == (False, "executor_failed")
    assert "image_missing" in outcome.detail
