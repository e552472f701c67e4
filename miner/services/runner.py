"""Starts the executor for one job as a task in this process (the job container is fresh)."""

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from executor.runtime.driver import executor_run_job
from protocol.identity import node_hotkey
from protocol.logs import bind_job
from protocol.messages.executor import ExecutorRun


def executor_start(
    *, run: ExecutorRun, docker_url: str, cancel: asyncio.Event, emit: Callable[[Any], Awaitable[None]]
) -> asyncio.Task[None]:
    # The task copies the context when it is created: every line the executor logs names the job.
    with bind_job(run.job_uuid):
        return asyncio.create_task(
            executor_run_job(run=run, docker_url=docker_url, emit=emit, cancel=cancel, owner=node_hotkey().ss58)
        )
