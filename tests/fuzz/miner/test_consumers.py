"""Fuzzing the miner's validator interface (miner/consumers.py) over one authenticated link: every
frame gets a typed answer (a refusal when the union refuses it), never INTERNAL, and the consumer
keeps serving. Reservations carry real signatures over fuzzed fields, so they reach the services
and the database; runs, cancels and receipts name the jobs reserved so far. No container starts:
the executor and the benchmark runner are stand-ins that answer at once."""

import asyncio
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.routing import URLRouter
from django.conf import settings
from django.urls import path
from hypothesis import given
from hypothesis import strategies as st
from pydantic import TypeAdapter

import miner.benchmarks.session
import miner.consumers
from executor.runtime.benchmark import BenchmarkOutcome
from executor.services.hosts import executor_hosts_parse
from miner.consumers import ValidatorInterfaceConsumer
from miner.services.executors import executor_hosts_sync
from protocol.keys import Hotkey, hotkey_create
from protocol.messages.common import JobResult
from protocol.messages.executor import ExecutorRun
from protocol.messages.jobs import JobFinished, JobStarted
from protocol.messages.miner import MinerToValidator, ReceiptOffer, ValidatorToMiner
from protocol.receipts import IntervalPayload, receipt_sign
from tests.factories import JOB_IMAGE
from tests.fuzz.budget import FUZZ_BATCH, FUZZ_MAX_FRAME_BYTES, fuzz_settings, tally
from tests.fuzz.links import ProbedLink, assert_typed_answers, well_formed
from tests.fuzz.strategies import frames, hex_chars, seconds, signatures, texts
from tests.miner.factories import KnownValidatorFactory
from tests.receipts import signed_reserve

PATH = "/v1/miner/"
application = URLRouter([path("v1/miner/", ValidatorInterfaceConsumer.as_asgi())])
incoming: TypeAdapter[Any] = TypeAdapter(ValidatorToMiner)
pytestmark = [
    pytest.mark.fuzz,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("close_async_db", "server_nonces", "fuzz_limits", "stand_ins"),
]


def instant_executor(
    *, run: ExecutorRun, docker_url: str, cancel: asyncio.Event, emit: Callable[[Any], Any]
) -> "asyncio.Task[None]":
    async def work() -> None:
        await emit(JobStarted(job_uuid=run.job_uuid))
        result = JobResult(exit_code=0, stdout="ok\n", executor_seconds=0.5)
        await emit(JobFinished(job_uuid=run.job_uuid, result=result))

    return asyncio.ensure_future(work())


async def instant_benchmark(**_: Any) -> BenchmarkOutcome:
    return BenchmarkOutcome(seconds=0.1, reason="executor_failed", detail="stand-in")


@pytest.fixture
def stand_ins(monkeypatch: pytest.MonkeyPatch, node_key: Hotkey, executor_classes: dict[str, Any]) -> None:
    """Two cpu.small executors on the local engine that never start a container."""
    monkeypatch.setattr(settings, "MINER_IMAGE_ALLOWLIST", [])
    monkeypatch.setattr(settings, "MIN_VALIDATOR_STAKE", 1000)
    monkeypatch.setattr(miner.consumers, "executor_start", instant_executor)
    monkeypatch.setattr(miner.benchmarks.session, "benchmark_run", instant_benchmark)
    executor_hosts_sync(executor_hosts_parse("local=local;cpu.small=2"))


class Jobs:
    """The job uuids this fuzzer reserved: later frames name them, so they reach live state."""

    def __init__(self) -> None:
        self.uuids: list[uuid.UUID] = [uuid.uuid4()]

    def pick(self) -> st.SearchStrategy[uuid.UUID]:
        recent = st.integers(min_value=0, max_value=7).map(lambda i: self.uuids[-1 - i % len(self.uuids)])
        return st.one_of(recent, st.uuids())

    def remember(self, job_uuid: uuid.UUID) -> None:
        self.uuids = [*self.uuids[-7:], job_uuid]


def bounded(strategy: st.SearchStrategy[str], low: int, high: int) -> st.SearchStrategy[str]:
    return strategy.filter(lambda s: low <= len(s) <= high)


def miner_frames(*, validator: Hotkey, miner_ss58: str, jobs: Jobs) -> st.SearchStrategy[dict[str, Any]]:
    """Well-formed ValidatorToMiner messages, the signed ones signed for real (or by a stranger)."""
    stranger = hotkey_create()[0]
    # What a model holds (NUL is refused at the wire: `frames` adds it when it mutates a message).
    storable = texts.filter(lambda s: "\x00" not in s)
    classes = st.one_of(st.just("cpu.small"), st.just("gpu.none"), bounded(storable, 1, 64))
    images = st.one_of(st.just(JOB_IMAGE), bounded(storable, 0, 255))

    @st.composite
    def reserve(draw: st.DrawFn) -> dict[str, Any]:
        job_uuid = draw(st.one_of(st.uuids(), jobs.pick()))
        jobs.remember(job_uuid)
        message = signed_reserve(
            validator=validator,
            miner_hotkey=miner_ss58,
            job_uuid=job_uuid,
            executor_class=draw(classes),
            image=draw(images),
            timeout_s=draw(st.integers(min_value=1, max_value=86400)),
            signer=draw(st.sampled_from([validator, validator, stranger])),
        )
        return message.model_dump(mode="json")

    specs = st.fixed_dictionaries(
        {
            "image": images.filter(bool),
            "executor_class": classes,
            "timeout_s": st.integers(min_value=1, max_value=86400),
        },
        optional={
            "args": st.lists(texts, max_size=4),
            "env": st.dictionaries(texts, texts, max_size=3),
            "input": st.one_of(
                st.none(),
                st.fixed_dictionaries({"kind": st.just("zip_b64"), "zip_b64": texts}),
                st.fixed_dictionaries({"kind": st.just("url"), "url": texts.map(lambda s: "https://" + s)}),
            ),
        },
    )
    job_uuids = jobs.pick().map(str)
    run = st.fixed_dictionaries({"type": st.just("job.run"), "job_uuid": job_uuids, "spec": specs})
    cancel = st.fixed_dictionaries({"type": st.just("job.cancel"), "job_uuid": job_uuids})
    countersign = st.fixed_dictionaries(
        {"type": st.just("receipt.countersign"), "job_uuid": job_uuids, "signature": signatures}
    )

    @st.composite
    def offer(draw: st.DrawFn) -> dict[str, Any]:
        payload = IntervalPayload(
            netuid=settings.CHAIN_NETUID,
            job_uuid=draw(jobs.pick()),
            validator_hotkey=validator.ss58,
            miner_hotkey=miner_ss58,
            executor_class=draw(classes),
            at=datetime.now(UTC),
            index=draw(st.integers(min_value=1, max_value=100_000)),
            seconds=draw(seconds().filter(lambda s: 0 <= s <= 86400 * 61)),
        )
        signer = draw(st.sampled_from([validator, stranger]))
        return ReceiptOffer(payload=payload, signature=receipt_sign(payload, signer)).model_dump(mode="json")

    challenge = st.fixed_dictionaries(
        {
            "challenge_id": st.uuids().map(str),
            "executor": st.fixed_dictionaries(
                {
                    "host": st.sampled_from(["local", "elsewhere"]),
                    "executor_class": classes,
                    "index": st.integers(0, 255),
                }
            ),
            "benchmark": st.sampled_from(["pow", "matmul"]),
            "timeout_s": st.integers(min_value=1, max_value=3600),
        },
        optional={
            "pow": st.fixed_dictionaries(
                {"challenge": st.just("ab" * 32), "difficulty": st.integers(1, 40), "count": st.integers(1, 64)}
            ),
            "matmul": st.fixed_dictionaries({"seed": st.just("cd" * 16), "n": st.integers(16, 32768)}),
        },
    )
    bench_start = st.fixed_dictionaries(
        {
            "type": st.just("bench.start"),
            "cycle": st.integers(min_value=0),
            "challenges": st.lists(challenge, max_size=3),
        }
    )
    bench_open = st.fixed_dictionaries(
        {
            "type": st.just("bench.open"),
            "challenge_id": st.uuids().map(str),
            "rows": st.lists(st.integers(0, 32767), min_size=1, max_size=4),
        }
    )
    error = st.fixed_dictionaries({"type": st.just("error"), "code": st.just("internal"), "detail": hex_chars})
    subscribe = st.fixed_dictionaries(
        {"type": st.just("share.subscribe")}
    )  # a fresh dict each draw: mutated() edits in place
    return st.one_of(reserve(), reserve(), run, cancel, countersign, offer(), bench_start, bench_open, error, subscribe)


@pytest.fixture
async def link(node_key: Hotkey) -> Any:
    validator = hotkey_create()[0]
    await sync_to_async(KnownValidatorFactory.create)(hotkey=validator.ss58, stake=1000)
    outgoing: TypeAdapter[Any] = TypeAdapter(MinerToValidator)
    probed = await ProbedLink.open(
        application,
        path=PATH,
        dialer=validator,
        server_ss58=node_key.ss58,
        outgoing=outgoing,
        tally=tally("miner consumer"),
    )
    yield probed
    await probed.close()


@pytest.fixture
def strategy(link: ProbedLink, node_key: Hotkey) -> st.SearchStrategy[str | bytes]:
    valid = miner_frames(validator=link.dialer, miner_ss58=node_key.ss58, jobs=Jobs())
    return frames(valid, max_frame_bytes=FUZZ_MAX_FRAME_BYTES)


@given(data=st.data())
@fuzz_settings
async def test_every_frame_gets_a_typed_answer_and_the_interface_keeps_serving(
    data: st.DataObject, link: ProbedLink, strategy: st.SearchStrategy[str | bytes]
) -> None:
    batch = data.draw(st.lists(strategy, min_size=FUZZ_BATCH, max_size=FUZZ_BATCH))
    exchange = await link.exchange(batch)
    refused = sum(not well_formed(f, incoming, max_bytes=FUZZ_MAX_FRAME_BYTES) for f in batch)
    assert_typed_answers(exchange, refused=refused)
