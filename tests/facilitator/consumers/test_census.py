"""executor.census over the real validator channel: a well-formed census is stored as the
validator's report; a malformed or oversized one is answered with a typed error, stored nowhere,
and the link keeps serving."""

import json

import pytest
from asgiref.sync import sync_to_async
from django.utils import timezone

from facilitator.models import ExecutorCensusReport
from protocol.messages.facilitator import MAX_CENSUS_CLASSES, ClassCensus, ExecutorCensus
from tests.facilitator.consumers.channel import channel_connect, db, error_frame, eventually


def _census(*classes: ClassCensus, cycle: int = 4) -> str:
    return ExecutorCensus(cycle=cycle, at=timezone.now(), classes=list(classes)).model_dump_json()


def _reports() -> list[tuple[str, int, list]]:
    return list(ExecutorCensusReport.objects.order_by("id").values_list("validator_hotkey", "cycle", "classes"))


SMALL = ClassCensus(executor_class="cpu.small", miners=2, claimed=5, verified=3)


@db
async def test_a_census_is_stored_as_the_validators_report(registered_validator_key, node_key):
    comm, _, _ = await channel_connect(registered_validator_key, node_key.ss58)
    await comm.send_to(text_data=_census(SMALL))
    assert await eventually(lambda: ExecutorCensusReport.objects.exists())
    assert await comm.receive_nothing(timeout=0.2)  # accepted: no reply
    assert await sync_to_async(_reports)() == [
        (registered_validator_key.ss58, 4, [{"executor_class": "cpu.small", "miners": 2, "claimed": 5, "verified": 3}])
    ]
    await comm.disconnect()


def _frame(**changes) -> str:
    body = {"type": "executor.census", "cycle": 4, "at": timezone.now().isoformat(), "classes": [SMALL.model_dump()]}
    return json.dumps({**body, **changes})


BAD_CLASS = {"executor_class": "cpu.small", "miners": 1, "claimed": 1, "verified": 1}
BAD_FRAMES: dict[str, tuple[dict[str, object], str]] = {
    "too_many_classes": (
        {"classes": [{**BAD_CLASS, "executor_class": f"c{i}"} for i in range(MAX_CENSUS_CLASSES + 1)]},
        "classes",
    ),
    "negative_count": ({"classes": [{**BAD_CLASS, "verified": -1}]}, "verified"),
    "huge_count": ({"classes": [{**BAD_CLASS, "claimed": 10**12}]}, "claimed"),
    "long_class_name": ({"classes": [{**BAD_CLASS, "executor_class": "x" * 65}]}, "executor_class"),
    "class_twice": ({"classes": [BAD_CLASS, BAD_CLASS]}, "once"),
    "unknown_field": ({"classes": [{**BAD_CLASS, "price": 1}]}, "price"),
    "no_time": ({"at": "yesterday"}, "at"),
    "naive_time": ({"at": "2026-01-01T00:00:00"}, "at"),
    "cycle_past_a_bigint": ({"cycle": 2**63}, "cycle"),
}


@db
@pytest.mark.parametrize("name", list(BAD_FRAMES))
async def test_a_malformed_census_gets_a_typed_error_and_is_not_stored(registered_validator_key, node_key, name):
    changes, field = BAD_FRAMES[name]
    comm, _, _ = await channel_connect(registered_validator_key, node_key.ss58)
    await comm.send_to(text_data=_frame(**changes))
    error = await error_frame(comm)
    assert error["code"] == "malformed"
    assert field in error["detail"]
    assert await sync_to_async(_reports)() == []

    await comm.send_to(text_data=_census(SMALL))  # the link goes on: the next good census is kept
    assert await eventually(lambda: ExecutorCensusReport.objects.count() == 1)
    await comm.disconnect()
