"""Fixtures for the executor tests: the real Docker engine and job image (skipped, with the reason,
when either is missing), and a driver runner that records what the executor emits."""

import asyncio
import ipaddress
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import docker
import pytest

from executor.runtime.driver import executor_run_job
from protocol.messages.executor import ExecutorRun
from protocol.messages.jobs import JobProgress
from tests.executor.runtime.job_runs import JOB_IMAGE, Driven, assert_no_trace, job_containers

TERMINAL = {"job.finished", "job.failed", "job.cancelled"}


@pytest.fixture(scope="session")
def docker_client() -> Iterator[docker.DockerClient]:
    try:
        client = docker.from_env()
        client.ping()
    except Exception as exc:
        pytest.skip(f"executor Docker tests need a reachable Docker engine (docker.from_env().ping() failed: {exc})")
    try:
        client.images.get(JOB_IMAGE)
    except docker.errors.ImageNotFound:
        pytest.skip(f"executor Docker tests need the image {JOB_IMAGE}: run `make images`")
    yield client
    client.close()


@pytest.fixture(autouse=True)
def _work_dir(settings: Any, tmp_path: Path) -> None:
    settings.EXECUTOR_WORK_DIR = tmp_path / "jobs"


@pytest.fixture
def loopback_inputs(settings: Any) -> None:
    """URL inputs served by the tests' local HTTP servers (loopback, refused in production)."""
    settings.INPUT_URL_ALLOWED_NETWORKS = (ipaddress.ip_network("127.0.0.0/8"),)


@pytest.fixture
def owner() -> str:
    return f"test-executor-{uuid.uuid4().hex[:12]}"


Drive = Callable[..., Any]


@pytest.fixture
def drive(docker_client: docker.DockerClient, owner: str) -> Drive:
    """Runs the driver to the end, checking that the container is gone by the time the terminal
    message is emitted, and that nothing at all is left (no work directory) once it returns."""

    async def _drive(
        run: ExecutorRun, *, cancel: asyncio.Event | None = None, on_started: Callable[[], None] | None = None
    ) -> Driven:
        driven = Driven(run=run)
        at_report: list[str] = []

        async def emit(message: JobProgress) -> None:
            driven.messages.append(message)
            if message.type == "job.started" and on_started is not None:
                on_started()
            if message.type in TERMINAL:  # recorded, not asserted: the driver logs what emit raises
                at_report.extend(job_containers(docker_client, run))

        await executor_run_job(run=run, docker_url="local", emit=emit, cancel=cancel or asyncio.Event(), owner=owner)
        assert driven.types[-1] in TERMINAL
        assert at_report == [], "a container outlived the report"
        assert_no_trace(docker_client, run, owner)
        return driven

    return _drive
