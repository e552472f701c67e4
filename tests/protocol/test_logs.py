"""Binding a node's identity and a job to the log lines written inside a block."""

import asyncio

from structlog.contextvars import get_contextvars

from protocol.logs import bind_job, bind_node


def test_bindings_hold_inside_the_block_and_are_gone_after():
    with bind_node(hotkey="5Node", role="miner"):
        with bind_job("job-1"):
            assert get_contextvars() == {"hotkey": "5Node", "role": "miner", "job_uuid": "job-1"}
        assert get_contextvars() == {"hotkey": "5Node", "role": "miner"}
    assert get_contextvars() == {}


def test_a_nested_job_restores_the_outer_one():
    with bind_job("outer"):
        with bind_job("inner"):
            assert get_contextvars()["job_uuid"] == "inner"
        assert get_contextvars()["job_uuid"] == "outer"


def test_a_binding_left_by_an_exception_is_still_undone():
    try:
        with bind_job("job-2"):
            raise RuntimeError("drive failed")
    except RuntimeError:
        pass
    assert "job_uuid" not in get_contextvars()


async def test_tasks_started_inside_inherit_the_binding_and_do_not_leak_their_own():
    async def work() -> dict[str, object]:
        with bind_job("job-3"):
            return dict(get_contextvars())

    with bind_node(hotkey="5Node", role="validator"):
        seen = await asyncio.create_task(work())
        assert "job_uuid" not in get_contextvars()
    assert seen == {"hotkey": "5Node", "role": "validator", "job_uuid": "job-3"}
