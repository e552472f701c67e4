"""A container killed through the engine by someone other than the job is the infrastructure's
failure (retried elsewhere, unbilled); a job that dies by its own hand or by the OOM killer is not."""

import asyncio
import time
from typing import Any

import docker
import pytest

from executor.runtime.kills import engine_kill_signals
from protocol.messages.common import FailureKind
from protocol.messages.jobs import JobFailed
from tests.executor.runtime.conftest import Drive
from tests.executor.runtime.job_runs import JOB_IMAGE, python_run

pytestmark = pytest.mark.docker


def _kill_from_outside(client: docker.DockerClient, job_uuid: object, signal: str) -> None:
    for container in client.containers.list(filters={"label": f"meshwork.job={job_uuid}"}):
        container.kill(signal=signal)


def _failure(terminal: Any) -> tuple[str, str, int | None]:
    assert isinstance(terminal, JobFailed), terminal
    exit_code = terminal.result.exit_code if terminal.result is not None else None
    return terminal.failure.kind, terminal.failure.reason, exit_code


async def test_docker_kill_of_a_running_job_is_an_infrastructure_failure(
    drive: Drive, docker_client: docker.DockerClient
) -> None:
    run = python_run("import time; print('working', flush=True); time.sleep(60)")
    loop = asyncio.get_running_loop()
    started = loop.time()
    driven = await drive(run, on_started=lambda: _kill_from_outside(docker_client, run.job_uuid, "SIGKILL"))
    assert _failure(driven.terminal) == (FailureKind.INFRASTRUCTURE, "container_killed", 137)
    assert "killed from outside the job (signal 9" in driven.terminal.failure.detail
    assert loop.time() - started < 30  # reported at once, not at the job's deadline


async def test_a_job_that_exits_137_by_itself_is_still_its_own_failure(drive: Drive) -> None:
    # Exiting with a "killed" code must not buy a free retry on another miner.
    driven = await drive(python_run("import sys; sys.exit(137)"))
    assert _failure(driven.terminal) == (FailureKind.JOB, "nonzero_exit", 137)


def test_engine_kill_signals_lists_only_that_containers_kills(docker_client: docker.DockerClient) -> None:
    since = time.time() - 1
    killed = docker_client.containers.run(
        JOB_IMAGE, ["python3", "-c", "import time; time.sleep(30)"], detach=True, labels={"meshwork.test": "kills"}
    )
    quiet = docker_client.containers.run(JOB_IMAGE, ["true"], detach=True, labels={"meshwork.test": "kills"})
    try:
        killed.kill(signal="SIGKILL")
        killed.wait()
        quiet.wait()
        api = docker_client.api
        assert engine_kill_signals(api, killed.name, since=since) == ["9"]
        assert engine_kill_signals(api, quiet.name, since=since) == []
        assert engine_kill_signals(api, killed.name, since=time.time() + 5) == []  # before it: nothing
    finally:
        killed.remove(force=True)
        quiet.remove(force=True)
