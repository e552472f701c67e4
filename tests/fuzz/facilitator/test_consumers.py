"""Fuzzing the facilitator's validator channel (facilitator/consumers.py) over one authenticated
link: every frame gets a typed answer (a refusal when the union refuses it), never INTERNAL, and the
consumer keeps serving. Status reports name jobs this validator really holds, so they reach the
services; jobs a report ended are replaced by fresh ones."""

import base64
import uuid
from decimal import Decimal
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.routing import URLRouter
from django.urls import path
from hypothesis import given
from hypothesis import strategies as st
from pydantic import TypeAdapter

from facilitator.consumers import ValidatorChannelConsumer
from facilitator.models import Job
from facilitator.services.credits import credits_grant
from facilitator.services.jobs import job_create
from protocol.keys import Hotkey, hotkey_create
from protocol.messages.common import FailureKind, FailureReason
from protocol.messages.facilitator import FacilitatorToValidator, ValidatorToFacilitator
from protocol.messages.jobs import TERMINAL_STATUSES, JobStatus
from tests.factories import UserFactory, job_spec
from tests.fuzz.budget import FUZZ_BATCH, FUZZ_MAX_FRAME_BYTES, fuzz_settings, tally
from tests.fuzz.links import ProbedLink, assert_typed_answers, well_formed
from tests.fuzz.strategies import frames, seconds, signatures, texts, uuid_texts

PATH = "/v1/facilitator/"
POOL_SIZE = 6
application = URLRouter([path("v1/facilitator/", ValidatorChannelConsumer.as_asgi())])
incoming: TypeAdapter[Any] = TypeAdapter(ValidatorToFacilitator)
pytestmark = [
    pytest.mark.fuzz,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("close_async_db", "server_nonces", "fuzz_limits"),
]


class JobPool:
    """Jobs dispatched to the fuzzing validator; `refill` replaces the ones a report ended."""

    def __init__(self, *, user: Any, validator_hotkey: str) -> None:
        self.user = user
        self.validator_hotkey = validator_hotkey
        self.uuids: list[uuid.UUID] = [self._new() for _ in range(POOL_SIZE)]

    def _new(self) -> uuid.UUID:
        job = job_create(user=self.user, spec=job_spec(timeout_s=60))
        Job.objects.filter(uuid=job.uuid).update(status=JobStatus.DISPATCHED, validator_hotkey=self.validator_hotkey)
        return job.uuid

    def refill(self) -> None:
        ended = set(
            Job.objects.filter(uuid__in=self.uuids, status__in=TERMINAL_STATUSES).values_list("uuid", flat=True)
        )
        self.uuids = [self._new() if u in ended else u for u in self.uuids]

    def any_uuid(self) -> st.SearchStrategy[str]:
        # Read at draw time: the pool changes between examples.
        return st.integers(min_value=0, max_value=POOL_SIZE - 1).map(lambda i: str(self.uuids[i]))


def validator_frames(pool: JobPool) -> st.SearchStrategy[dict[str, Any]]:
    """Well-formed ValidatorToFacilitator messages (the bounds are the models')."""
    job_uuids = uuid_texts(pool.any_uuid())
    results = st.fixed_dictionaries(
        {"exit_code": st.one_of(st.none(), st.integers(-(2**31), 2**31 - 1)), "executor_seconds": seconds()},
        optional={
            "stdout": texts,
            "stderr": texts,
            "output_zip_b64": st.one_of(texts, st.binary(max_size=64).map(lambda b: base64.b64encode(b).decode())),
            "stdout_bytes": st.integers(min_value=0, max_value=2**63 - 1),
            "stdout_truncated": st.booleans(),
        },
    )
    failures = st.fixed_dictionaries(
        {"kind": st.sampled_from(list(FailureKind)), "reason": st.one_of(st.sampled_from(list(FailureReason)), texts)},
        optional={"detail": texts},
    )
    status = st.fixed_dictionaries(
        {"type": st.just("job.status"), "job_uuid": job_uuids, "status": st.sampled_from(list(JobStatus))},
        optional={"detail": texts, "miner_hotkey": texts, "result": results, "failure": failures},
    )
    interval = st.fixed_dictionaries(
        {
            "type": st.just("job.interval"),
            "job_uuid": job_uuids,
            "attempt": st.integers(min_value=1, max_value=1000),
            "index": st.integers(min_value=1, max_value=100_000),
            "seconds": st.floats(min_value=0, max_value=86_400),
            "miner_hotkey": texts,
        }
    )
    catalogue = st.fixed_dictionaries(
        {
            "type": st.just("catalogue.offer"),
            "envelope": st.fixed_dictionaries(
                {
                    "catalogue": st.fixed_dictionaries(
                        {
                            "netuid": st.integers(min_value=0, max_value=65535),
                            "version": st.one_of(st.integers(min_value=1, max_value=10), st.integers(min_value=2**63)),
                            "issued_at": st.just("2026-01-01T00:00:00Z"),
                            "classes": st.builds(list),
                        }
                    ),
                    "signer": st.just(hotkey_create()[0].ss58),
                    "crypto": st.sampled_from(["sr25519", "ed25519"]),
                    "signature": signatures,
                }
            ),
        }
    )
    census_class = st.fixed_dictionaries(
        {
            "executor_class": st.one_of(st.sampled_from(["cpu.small", "gpu.a100"]), texts),
            "miners": st.integers(min_value=0, max_value=1_000_000),
            "claimed": st.integers(min_value=0, max_value=1_000_000),
            "verified": st.integers(min_value=0, max_value=1_000_000),
        }
    )
    census = st.fixed_dictionaries(
        {
            "type": st.just("executor.census"),
            "cycle": st.integers(min_value=0, max_value=2**63 - 1),
            "at": st.sampled_from(["2026-01-01T00:00:00Z", "9999-12-31T23:59:59+14:00", "0001-01-01T00:00:00-12:00"]),
            "classes": st.lists(census_class, max_size=4, unique_by=lambda c: c["executor_class"]),
        }
    )
    error = st.fixed_dictionaries(
        {"type": st.just("error"), "code": st.sampled_from(["internal", "refused"]), "detail": texts}
    )
    return st.one_of(status, status, interval, catalogue, census, error)


@pytest.fixture
async def link(validator_key: Hotkey, node_key: Hotkey) -> Any:
    outgoing: TypeAdapter[Any] = TypeAdapter(FacilitatorToValidator)
    probed = await ProbedLink.open(
        application,
        path=PATH,
        dialer=validator_key,
        server_ss58=node_key.ss58,
        outgoing=outgoing,
        tally=tally("facilitator consumer"),
    )
    yield probed
    await probed.close()


@pytest.fixture
async def pool(validator_key: Hotkey, link: ProbedLink) -> JobPool:
    def _make() -> JobPool:
        user = UserFactory.create()
        credits_grant(user=user, amount=Decimal(10**9), note="fuzz")
        return JobPool(user=user, validator_hotkey=validator_key.ss58)

    return await sync_to_async(_make)()


@pytest.fixture
def strategy(pool: JobPool) -> st.SearchStrategy[str | bytes]:
    return frames(validator_frames(pool), max_frame_bytes=FUZZ_MAX_FRAME_BYTES)


@given(data=st.data())
@fuzz_settings
async def test_every_frame_gets_a_typed_answer_and_the_channel_keeps_serving(
    data: st.DataObject, link: ProbedLink, pool: JobPool, strategy: st.SearchStrategy[str | bytes]
) -> None:
    batch = data.draw(st.lists(strategy, min_size=FUZZ_BATCH, max_size=FUZZ_BATCH))
    exchange = await link.exchange(batch)
    refused = sum(not well_formed(f, incoming, max_bytes=FUZZ_MAX_FRAME_BYTES) for f in batch)
    assert_typed_answers(exchange, refused=refused)
    text = "".join(f.decode(errors="replace") if isinstance(f, bytes) else f for f in batch)
    if any(str(u) in text for u in pool.uuids):  # only a frame naming a job can have ended it
        await sync_to_async(pool.refill)()
