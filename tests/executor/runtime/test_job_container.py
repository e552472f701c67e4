"""One job's stages on the real Docker engine and job image, driven one by one: what each stage
leaves behind, each stage's deadline and the miner's cancel, and cleanup — which removes the
container (and the workspace) whatever stage failed, once the calls it abandoned have landed,
even when the task awaiting it is cancelled. Teardown tolerance and a failing cleanup step need
no engine."""

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

import docker
import pytest
import requests
from docker.errors import APIError, NotFound

from executor.runtime import job_container
from executor.runtime.failures import CancelRequested, InputInvalid, JobFailure
from executor.runtime.job_container import JobContainer, Outcome, _quietly
from executor.runtime.names import job_work_dir
from protocol.messages.common import FailureReason, UrlInput, ZipInput
from protocol.messages.executor import ExecutorRun
from tests.executor.runtime.http_server import serving
from tests.executor.runtime.job_runs import assert_no_trace, b64, job_containers, make_run, python_run, unzip, zip_bytes

MakeJob = Callable[..., JobContainer]


@pytest.fixture
async def make_job(docker_client: docker.DockerClient, owner: str) -> AsyncIterator[MakeJob]:
    """Job containers on the local engine; after the test each is cleaned up and must leave no
    container and no work directory."""
    jobs: list[JobContainer] = []

    def _make(run: ExecutorRun, *, cancel: asyncio.Event | None = None) -> JobContainer:
        job = JobContainer(run=run, docker_url="local", owner=owner, cancel=cancel or asyncio.Event())
        jobs.append(job)
        return job

    yield _make
    for job in jobs:
        await job.cleanup()
        assert_no_trace(docker_client, job.run, owner)


def status(client: docker.DockerClient, job: JobContainer) -> str:
    return str(client.containers.get(job.name).status)


@pytest.mark.docker
async def test_the_stages_run_a_job_and_cleanup_leaves_nothing(
    make_job: MakeJob, docker_client: docker.DockerClient, owner: str
) -> None:
    run = python_run("print('hi'); open('/output/o.txt', 'w').write('x')")
    job = make_job(run)
    await job.prepare()
    assert status(docker_client, job) == "created"
    assert job_containers(docker_client, run) == [job.name]
    await job.load_input()
    await job.start()
    assert await job.wait_exit() is Outcome.EXITED
    result, state = await job.result()
    assert (result.exit_code, result.stdout, result.stderr, result.output_zip_b64) == (0, "hi\n", "", "")
    assert 0 < result.executor_seconds < 10
    assert (state["Status"], state["ExitCode"], state["OOMKilled"]) == ("exited", 0, False)
    assert unzip(await job.collect_output()) == {"o.txt": b"x"}
    await job.cleanup()
    assert_no_trace(docker_client, run, owner)


@pytest.mark.docker
async def test_a_missing_image_fails_prepare_and_nothing_is_left(
    make_job: MakeJob, docker_client: docker.DockerClient, owner: str
) -> None:
    job = make_job(make_run("true", image="meshwork/not-here:1"))
    with pytest.raises(JobFailure) as failed:
        await job.prepare()
    assert failed.value.reason is FailureReason.IMAGE_MISSING
    assert failed.value.detail == (
        "image 'meshwork/not-here:1' is not present on this executor host (executors never pull)"
    )
    await job.cleanup()
    assert_no_trace(docker_client, job.run, owner)


@pytest.mark.docker
async def test_a_blown_create_deadline_is_a_stage_timeout_and_the_late_container_is_removed(
    make_job: MakeJob, docker_client: docker.DockerClient, owner: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(job_container, "PREPARE_DEADLINE_S", 0.001)
    job = make_job(python_run("pass"))
    with pytest.raises(JobFailure) as failed:
        await job.prepare()
    assert (failed.value.reason, failed.value.detail) == (
        FailureReason.STAGE_TIMEOUT,
        "creating the container took over 0.001 s",
    )
    # The create call is still running in its thread: cleanup waits for it, then removes its container.
    await job.cleanup()
    assert_no_trace(docker_client, job.run, owner)


@pytest.mark.docker
async def test_a_stage_that_raises_after_create_still_gets_the_container_removed(
    make_job: MakeJob, docker_client: docker.DockerClient, owner: str
) -> None:
    run = python_run("pass", input=ZipInput(zip_b64=b64(zip_bytes({"../escape": "x"}))))
    job = make_job(run)
    await job.prepare()
    with pytest.raises(InputInvalid):
        await job.load_input()
    assert status(docker_client, job) == "created"
    await job.cleanup()
    assert_no_trace(docker_client, run, owner)


@pytest.mark.docker
async def test_the_input_stage_has_its_own_deadline(
    make_job: MakeJob, settings: Any, monkeypatch: pytest.MonkeyPatch, loopback_inputs: None
) -> None:
    # The fetch's own timeout (5 s) is longer than the stage's deadline (5 s - 4.5 s leeway).
    settings.EXECUTOR_URL_FETCH_TIMEOUT_S = 5.0
    monkeypatch.setattr(job_container, "VOLUME_LEEWAY_S", -4.5)
    loop = asyncio.get_running_loop()
    with serving({"/in.zip": zip_bytes({"a": "b"})}, delay_s=3.0) as base:
        job = make_job(python_run("pass", input=UrlInput(url=f"{base}/in.zip")))
        await job.prepare()
        started = loop.time()
        with pytest.raises(JobFailure) as failed:
            await job.load_input()
        elapsed = loop.time() - started
    assert (failed.value.reason, failed.value.detail) == (
        FailureReason.STAGE_TIMEOUT,
        "preparing the input took over 0.5 s",
    )
    assert 0.5 <= elapsed < 2.5


@pytest.mark.docker
async def test_a_cancel_while_the_input_is_fetched_stops_the_stage_at_once(
    make_job: MakeJob, loopback_inputs: None
) -> None:
    cancel = asyncio.Event()
    loop = asyncio.get_running_loop()
    with serving({"/in.zip": zip_bytes({"a": "b"})}, delay_s=3.0) as base:
        job = make_job(python_run("pass", input=UrlInput(url=f"{base}/in.zip")), cancel=cancel)
        await job.prepare()
        loop.call_later(0.2, cancel.set)
        started = loop.time()
        with pytest.raises(CancelRequested):
            await job.load_input()
        assert loop.time() - started < 1.5


@pytest.mark.docker
async def test_a_job_past_its_deadline_is_killed(make_job: MakeJob, docker_client: docker.DockerClient) -> None:
    job = make_job(python_run("import time; time.sleep(60)", timeout_s=1))
    await job.prepare()
    await job.load_input()
    await job.start()
    loop = asyncio.get_running_loop()
    started = loop.time()
    assert await job.wait_exit() is Outcome.TIMEOUT
    assert 1 <= loop.time() - started < 8
    assert status(docker_client, job) == "exited"
    result, _ = await job.result()
    assert result.exit_code == 137  # SIGKILL


@pytest.mark.docker
async def test_a_cancel_kills_a_running_job_promptly(make_job: MakeJob, docker_client: docker.DockerClient) -> None:
    cancel = asyncio.Event()
    job = make_job(python_run("import time; time.sleep(60)", timeout_s=60), cancel=cancel)
    await job.prepare()
    await job.load_input()
    await job.start()
    assert status(docker_client, job) == "running"
    loop = asyncio.get_running_loop()
    loop.call_later(0.2, cancel.set)
    started = loop.time()
    assert await job.wait_exit() is Outcome.CANCELLED
    assert loop.time() - started < 8
    assert status(docker_client, job) == "exited"


@pytest.mark.docker
async def test_cleanup_tolerates_a_container_already_gone_and_runs_once(
    make_job: MakeJob, docker_client: docker.DockerClient, owner: str
) -> None:
    job = make_job(python_run("pass"))
    await job.prepare()
    docker_client.containers.get(job.name).remove(force=True)  # e.g. swept by an operator
    await job.cleanup()
    await job.cleanup()
    await job.remove_container()
    assert_no_trace(docker_client, job.run, owner)


@pytest.mark.docker
async def test_cleanup_finishes_even_when_the_task_awaiting_it_is_cancelled(
    make_job: MakeJob, docker_client: docker.DockerClient, owner: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Cancelled while it waits for an abandoned create to land (the miner shutting down): the
    # create's container and the workspace are still removed.
    monkeypatch.setattr(job_container, "PREPARE_DEADLINE_S", 0.001)
    job = make_job(python_run("pass"))
    with pytest.raises(JobFailure):
        await job.prepare()
    task = asyncio.create_task(job.cleanup())
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    for _ in range(100):
        if (
            not job_containers(docker_client, job.run)
            and not job_work_dir(job_uuid=job.run.job_uuid, owner=owner).exists()
        ):
            break
        await asyncio.sleep(0.1)
    assert_no_trace(docker_client, job.run, owner)


# Without an engine -------------------------------------------------------------------------------


def _api_error(status_code: int) -> APIError:
    response = requests.Response()
    response.status_code = status_code
    return APIError(f"{status_code}", response=response)


def _raises(exc: Exception) -> Callable[[], None]:
    def _call() -> None:
        raise exc

    return _call


@pytest.mark.parametrize("error", [NotFound("gone"), _api_error(409)])
def test_teardown_treats_gone_or_going_as_done(error: Exception) -> None:
    _quietly(_raises(error))


@pytest.mark.parametrize("status_code", [400, 500])
def test_teardown_raises_any_other_engine_error(status_code: int) -> None:
    with pytest.raises(APIError) as raised:
        _quietly(_raises(_api_error(status_code)))
    assert raised.value.status_code == status_code


async def test_cleanup_before_anything_was_created_does_nothing() -> None:
    job = JobContainer(run=python_run("pass"), docker_url="local", owner="nobody", cancel=asyncio.Event())
    await job.cleanup()
    await job.remove_container()
    assert (job.api, job.workspace) == (None, None)


class BrokenWorkspace:
    def __init__(self) -> None:
        self.cleaned = 0

    def cleanup(self) -> None:
        self.cleaned += 1
        raise OSError("device busy")


async def test_a_failing_cleanup_step_is_logged_not_raised(caplog: pytest.LogCaptureFixture) -> None:
    run = python_run("pass")
    job = JobContainer(run=run, docker_url="local", owner="nobody", cancel=asyncio.Event())
    workspace = BrokenWorkspace()
    job.workspace = workspace  # type: ignore[assignment]
    with caplog.at_level(logging.ERROR, logger="executor.runtime.job_container"):
        await job.cleanup()
    assert workspace.cleaned == 1
    [record] = [r for r in caplog.records if r.name == "executor.runtime.job_container"]
    assert record.getMessage() == f"job {run.job_uuid}: cleanup step failed"
    assert record.exc_info is not None
    assert str(record.exc_info[1]) == "device busy"
