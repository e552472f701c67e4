"""Background work a node owns: a set of tasks cancelled together on stop, and the one helper for
periodic jobs."""

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

logger = logging.getLogger(__name__)


class TaskSet:
    """Tasks kept alive until done (never garbage-collected early) and cancelled together."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> "asyncio.Task[Any]":
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def cancel_all(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


async def every(interval_s: float, job: Callable[[], Awaitable[object]], *, name: str, jitter: bool = True) -> None:
    """Run `job` every `interval_s` for ever; a failure is logged and the loop goes on.

    With `jitter` the first run waits a random 10–100% of the interval and each pause varies by
    ±10%: that spreads a swarm's (or a restarted network's) periodic work instead of synchronising
    it. Without it the job runs at once, then every `interval_s` (heartbeats, rejoin attempts)."""
    if jitter:
        await asyncio.sleep(random.uniform(0.1, 1.0) * interval_s)
    while True:
        try:
            await job()
        except Exception:
            logger.exception("dht: %s failed", name)
        await asyncio.sleep(interval_s * random.uniform(0.9, 1.1) if jitter else interval_s)
