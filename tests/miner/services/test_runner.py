"""The executor task for a job logs with the job's uuid bound; the caller's context is untouched."""

import asyncio
import uuid

import structlog

from miner.services import runner
from protocol.messages.executor import ExecutorLimits, ExecutorRun
from tests.factories import job_spec


async def test_the_executor_task_is_bound_to_its_job(monkeypatch, node_key):
    seen: dict[str, object] = {}

    async def fake_run_job(**kwargs):
        seen.update(structlog.contextvars.get_contextvars())

    monkeypatch.setattr(runner, "executor_run_job", fake_run_job)
    job_uuid = uuid.uuid4()
    limits = ExecutorLimits(cpus=1, memory_mb=64, pids=16, output_mb=1)
    run = ExecutorRun(job_uuid=job_uuid, spec=job_spec(), limits=limits)
    task = runner.executor_start(run=run, docker_url="local", cancel=asyncio.Event(), emit=lambda m: asyncio.sleep(0))
    await task
    assert seen["job_uuid"] == str(job_uuid)
    assert "job_uuid" not in structlog.contextvars.get_contextvars()
