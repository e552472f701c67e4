"""Benchmarks over the validator interface, on the real engine and the real benchmark image: a pow
answer and a matmul commitment whose opening `matmul_check` accepts, and the refusals (busy
executor, unknown executor, an opening nobody committed to, a start larger than the miner)."""

import os
import uuid
from typing import Any

import docker
import pytest
from asgiref.sync import sync_to_async

from executor.services.hosts import executor_hosts_parse
from miner.benchmarks.ratelimit import starts_forget
from miner.models import AcceptedJob, ExecutorSlot
from miner.services.executors import executor_hosts_sync
from protocol.benchmarks.matmul import matmul_check
from protocol.benchmarks.pow import pow_challenge, pow_check
from protocol.messages.benchmarks import (
    BenchmarkKind,
    BenchmarkStart,
    Challenge,
    CheckReason,
    ExecutorRef,
    MatmulParams,
    OpenRequest,
    PowParams,
    RowOpening,
)
from tests.executor.factories import ExecutorClassFactory
from tests.miner.test_consumers import _connect

BENCH_IMAGE = "meshwork/bench:1"
CLASS = "bench.tiny"
pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("close_async_db", "server_nonces", "min_validator_stake"),
]


@pytest.fixture(autouse=True)
def two_executors(node_key, settings: Any, tmp_path) -> None:
    """This miner has two executors of a small benchmark class on the local engine."""
    try:
        docker.from_env().images.get(BENCH_IMAGE)
    except Exception:
        pytest.skip(f"needs a Docker engine and the image {BENCH_IMAGE}: run `make images`")
    settings.EXECUTOR_WORK_DIR = tmp_path / "jobs"
    settings.MINER_BENCH_IMAGE = BENCH_IMAGE
    starts_forget()
    ExecutorClassFactory.create(name=CLASS, matmul_n=64, pow_difficulty=6, pow_count=4)
    executor_hosts_sync(executor_hosts_parse(f"local=local;{CLASS}=2"))


def _ref(index: int = 0, host: str = "local") -> ExecutorRef:
    return ExecutorRef(host=host, executor_class=CLASS, index=index)


def _pow(ref: ExecutorRef) -> tuple[Challenge, bytes]:
    secret = pow_challenge(secret=os.urandom(32), miner_hotkey="5Miner", executor=ref.key(), cycle=1)
    params = PowParams(challenge=secret.hex(), difficulty=6, count=4)
    return Challenge(
        challenge_id=uuid.uuid4(), executor=ref, benchmark=BenchmarkKind.POW, timeout_s=60, pow=params
    ), secret


def _matmul(ref: ExecutorRef, seed: bytes, n: int = 64) -> Challenge:
    params = MatmulParams(seed=seed.hex(), n=n)
    return Challenge(
        challenge_id=uuid.uuid4(), executor=ref, benchmark=BenchmarkKind.MATMUL, timeout_s=60, matmul=params
    )


async def _start(comm, *challenges: Challenge) -> None:
    await comm.send_to(text_data=BenchmarkStart(cycle=1, challenges=list(challenges)).model_dump_json())


async def _answers(comm, count: int) -> dict[str, dict]:
    frames = [await comm.receive_json_from(timeout=60) for _ in range(count)]
    return {frame["challenge_id"]: frame for frame in frames}


def _benchmark_jobs() -> list[tuple[str, str]]:
    return sorted(AcceptedJob.objects.filter(kind=AcceptedJob.Kind.BENCHMARK).values_list("status", "host_name"))


def _slots_free() -> bool:
    return not ExecutorSlot.objects.exclude(job_uuid=None).exists()


async def test_pow_and_matmul_run_at_once_and_the_opening_verifies(admitted_validator_key, node_key):
    comm = await _connect(admitted_validator_key, node_key.ss58)
    seed = os.urandom(16)
    pow_challenge_msg, secret = _pow(_ref(0))
    matmul = _matmul(_ref(1), seed)
    await _start(comm, pow_challenge_msg, matmul)
    answers = await _answers(comm, 2)
    pow_answer = answers[str(pow_challenge_msg.challenge_id)]
    assert pow_answer["type"] == "bench.pow_answer"
    assert pow_check(challenge=secret, difficulty=6, count=4, nonces=pow_answer["nonces"])[0] is CheckReason.PASSED
    commit = answers[str(matmul.challenge_id)]
    assert commit["type"] == "bench.matmul_commit"

    rows = [0, 17, 63]
    await comm.send_to(text_data=OpenRequest(challenge_id=matmul.challenge_id, rows=rows).model_dump_json())
    opening = await comm.receive_json_from(timeout=10)
    assert opening["type"] == "bench.matmul_opening"
    openings = [RowOpening.model_validate(row) for row in opening["rows"]]
    reason, detail = matmul_check(
        seed=seed, n=64, root=bytes.fromhex(commit["root"]), openings=openings, rows=rows, columns=[1, 5, 40, 63]
    )
    assert reason is CheckReason.PASSED, detail
    assert await sync_to_async(_benchmark_jobs)() == [("finished", "local"), ("finished", "local")]
    assert await sync_to_async(_slots_free)()

    # Opened once: a second opening of the same commitment is refused.
    await comm.send_to(text_data=OpenRequest(challenge_id=matmul.challenge_id, rows=[1]).model_dump_json())
    again = await comm.receive_json_from(timeout=5)
    assert (again["type"], again["reason"]) == ("bench.failed", "unknown_challenge")
    await comm.disconnect()


async def test_a_busy_executor_and_an_unknown_executor_are_refused(admitted_validator_key, node_key):
    await sync_to_async(ExecutorSlot.objects.filter(index=0).update)(job_uuid=uuid.uuid4())  # a job holds #0
    comm = await _connect(admitted_validator_key, node_key.ss58)
    busy, _ = _pow(_ref(0))
    unknown, _ = _pow(_ref(0, host="elsewhere"))
    await _start(comm, busy, unknown)
    answers = await _answers(comm, 2)
    assert {(a["challenge_id"], a["type"], a["reason"]) for a in answers.values()} == {
        (str(busy.challenge_id), "bench.failed", "busy"),
        (str(unknown.challenge_id), "bench.failed", "unknown_executor"),
    }
    assert await sync_to_async(_benchmark_jobs)() == []
    await comm.disconnect()


async def test_an_opening_nobody_committed_to_is_refused(admitted_validator_key, node_key):
    comm = await _connect(admitted_validator_key, node_key.ss58)
    challenge_id = uuid.uuid4()
    await comm.send_to(text_data=OpenRequest(challenge_id=challenge_id, rows=[0]).model_dump_json())
    reply = await comm.receive_json_from(timeout=5)
    assert (reply["type"], reply["challenge_id"], reply["reason"]) == (
        "bench.failed",
        str(challenge_id),
        "unknown_challenge",
    )
    await comm.disconnect()


async def test_a_start_larger_than_the_miner_or_with_repeated_ids_is_refused_whole(admitted_validator_key, node_key):
    comm = await _connect(admitted_validator_key, node_key.ss58)
    three = [_pow(_ref(i))[0] for i in (0, 1, 0)]
    await _start(comm, *three)
    error = await comm.receive_json_from(timeout=5)
    assert (error["type"], error["code"]) == ("error", "too_large")
    repeated = _pow(_ref(0))[0]
    await _start(comm, repeated, repeated.model_copy(update={"executor": _ref(1)}))
    error = await comm.receive_json_from(timeout=5)
    assert (error["type"], error["code"]) == ("error", "malformed")
    assert await comm.receive_nothing(timeout=0.5)
    assert await sync_to_async(_benchmark_jobs)() == []
    await comm.disconnect()


async def test_a_matrix_too_big_to_ship_is_refused_before_it_runs(admitted_validator_key, node_key, settings):
    settings.EXECUTOR_MAX_OUTPUT_BYTES = 64 * 64 * 4  # no room left for the zip around C
    comm = await _connect(admitted_validator_key, node_key.ss58)
    challenge = _matmul(_ref(0), os.urandom(16))
    await _start(comm, challenge)
    reply = await comm.receive_json_from(timeout=5)
    assert (reply["type"], reply["reason"]) == ("bench.failed", "too_large")
    assert await sync_to_async(_benchmark_jobs)() == []
    await comm.disconnect()


async def test_a_validator_starting_benchmarks_too_often_is_refused(admitted_validator_key, node_key, settings):
    settings.MINER_BENCH_MAX_STARTS_PER_HOUR = 1
    comm = await _connect(admitted_validator_key, node_key.ss58)
    first, _ = _pow(_ref(0))
    await _start(comm, first)
    assert (await _answers(comm, 1))[str(first.challenge_id)]["type"] == "bench.pow_answer"
    await comm.disconnect()
    comm = await _connect(admitted_validator_key, node_key.ss58)  # a new link does not reset the window
    await _start(comm, _pow(_ref(1))[0])
    error = await comm.receive_json_from(timeout=5)
    assert (error["type"], error["code"]) == ("error", "refused")
    assert "more than 1 benchmark starts in an hour" in error["detail"]
    assert await comm.receive_nothing(timeout=0.5)
    await comm.disconnect()
