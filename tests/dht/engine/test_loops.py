"""The periodic-job helper keeps going after a failure (and logs it); a task set cancels together."""

import asyncio
import logging

import pytest

from dht.engine.loops import TaskSet, every


async def test_every_logs_a_failure_and_runs_again(caplog):
    caplog.set_level(logging.ERROR, logger="dht.engine.loops")
    runs: list[int] = []

    async def job() -> None:
        runs.append(1)
        if len(runs) == 1:
            raise RuntimeError("boom")

    tasks = TaskSet()
    tasks.spawn(every(0.01, job, name="flaky", jitter=False))
    for _ in range(100):
        if len(runs) >= 3:
            break
        await asyncio.sleep(0.01)
    await tasks.cancel_all()
    assert len(runs) >= 3
    assert "dht: flaky failed" in caplog.text


async def test_jitter_delays_the_first_run():
    runs: list[int] = []

    async def job() -> None:
        runs.append(1)

    tasks = TaskSet()
    tasks.spawn(every(10.0, job, name="slow"))
    await asyncio.sleep(0.05)
    assert runs == []  # the first run waits at least a tenth of the interval
    await tasks.cancel_all()


async def test_cancel_all_cancels_every_task():
    tasks = TaskSet()
    spawned = [tasks.spawn(asyncio.sleep(60)) for _ in range(3)]
    await tasks.cancel_all()
    assert all(t.cancelled() for t in spawned)
    with pytest.raises(asyncio.CancelledError):
        await spawned[0]
