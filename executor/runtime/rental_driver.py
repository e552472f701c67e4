"""The executor's side of a rental (docs/rentals.md): the same contract as a job's
(`executor_run_job`, which hands rentals here), different stages.

ExecutorReady once the image is there, VolumeReady (a rental has no input), JobStarted with the
SSH endpoint once sshd's banner answers on the published port, then exactly one terminal message
after the machine is removed (network, fence and machine): `JobCancelled` when the rental is
ended, `JobFailed(timeout)` when its time is up (the job's kind: billed, nothing retried) or
`JobFailed(rental_unreachable)` when the machine died (infrastructure). Its result carries the
seconds the machine was up; no logs, no output."""

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

import docker
from django.conf import settings
from docker.errors import DockerException, ImageNotFound
from requests.exceptions import RequestException

from executor.runtime.engine import docker_api, in_thread
from executor.runtime.rental_pod import PodFailure, blocked_networks, pod_create, pod_names, pod_remove, pod_running
from executor.runtime.rental_scripts import SSH_USER
from protocol.messages.common import Failure, FailureReason, JobResult
from protocol.messages.executor import ExecutorRun
from protocol.messages.jobs import (
    ExecutorReady,
    JobCancelled,
    JobFailed,
    JobProgress,
    JobStarted,
    SshEndpoint,
    VolumeReady,
)
from protocol.ssh_banner import NoBanner, ssh_banner_wait

logger = logging.getLogger(__name__)
Emit = Callable[[JobProgress], Awaitable[None]]
WATCH_S = 5.0  # how often the machine's containers are looked at while it is rented


async def executor_run_rental(
    *, run: ExecutorRun, docker_url: str, emit: Emit, cancel: asyncio.Event, owner: str
) -> None:
    api: docker.APIClient = await in_thread(docker_api, docker_url)
    pod = pod_names(job_uuid=run.job_uuid, owner=owner)
    terminal: JobProgress
    try:
        try:
            terminal = await _drive(run, api, docker_url, emit, cancel, owner)
        except ImageNotFound:
            terminal = _failed(run, FailureReason.IMAGE_MISSING, f"image {run.spec.image!r} is not on this host")
        except (PodFailure, NoBanner) as exc:
            terminal = _failed(run, FailureReason.RENTAL_UNREACHABLE, f"the machine did not come up: {exc}")
        except (DockerException, RequestException) as exc:
            terminal = _failed(run, FailureReason.DOCKER_ERROR, f"docker: {exc}")
        except Exception as exc:
            logger.exception("rental %s: executor crashed", run.job_uuid)
            terminal = _failed(run, FailureReason.EXECUTOR_CRASHED, f"{type(exc).__name__}: {exc}")
    finally:
        await in_thread(pod_remove, api, pod)  # before any report: an ended rental has no machine
    await _emit(emit, terminal)


async def _drive(
    run: ExecutorRun, api: docker.APIClient, docker_url: str, emit: Emit, cancel: asyncio.Event, owner: str
) -> JobProgress:
    uuid = run.job_uuid
    await in_thread(api.inspect_image, run.spec.image)  # ImageNotFound: executors never pull
    await _emit(emit, ExecutorReady(job_uuid=uuid))
    await _emit(emit, VolumeReady(job_uuid=uuid))
    if cancel.is_set():
        return JobCancelled(job_uuid=uuid)
    bind = settings.MINER_RENTAL_BIND
    created = await in_thread(pod_create, api=api, run=run, owner=owner, bind_ip=bind, blocked=blocked_networks())
    host = _public_host(docker_url)
    await ssh_banner_wait(_dial_host(bind, docker_url), created.host_port, deadline_s=settings.MINER_RENTAL_START_S)
    up_since = time.monotonic()
    await _emit(emit, JobStarted(job_uuid=uuid, ssh=SshEndpoint(host=host, port=created.host_port, user=SSH_USER)))
    ends_at = up_since + run.spec.timeout_s
    while True:
        left = ends_at - time.monotonic()
        if left <= 0:
            detail = f"the rental's {run.spec.timeout_s} s are up; the machine was removed"
            return _failed(run, FailureReason.TIMEOUT, detail, _result(up_since))
        try:
            await asyncio.wait_for(cancel.wait(), timeout=min(WATCH_S, left))
            return JobCancelled(job_uuid=uuid, result=_result(up_since))
        except TimeoutError:
            pass
        if not await in_thread(pod_running, api, created):
            detail = "the machine's containers stopped while it was rented"
            return _failed(run, FailureReason.RENTAL_UNREACHABLE, detail, _result(up_since))


def _result(up_since: float) -> JobResult:
    return JobResult(exit_code=None, executor_seconds=round(time.monotonic() - up_since, 3))


def _failed(run: ExecutorRun, reason: FailureReason, detail: str, result: JobResult | None = None) -> JobFailed:
    return JobFailed(
        job_uuid=run.job_uuid, failure=Failure(kind=reason.kind, reason=reason, detail=detail[:4000]), result=result
    )


def _public_host(docker_url: str) -> str:
    """A remote engine publishes on its own host; a local one on this miner's public name."""
    if docker_url.startswith("tcp://"):
        return urlsplit(docker_url).hostname or settings.MINER_RENTAL_HOST
    return str(settings.MINER_RENTAL_HOST)


def _dial_host(bind: str, docker_url: str) -> str:
    if docker_url.startswith("tcp://"):
        return urlsplit(docker_url).hostname or "127.0.0.1"
    return "127.0.0.1" if bind in ("0.0.0.0", "") else bind  # noqa: S104 (a wildcard bind answers on loopback)


async def _emit(emit: Emit, message: JobProgress) -> None:
    try:
        await emit(message)
    except Exception:
        logger.exception("rental %s: emitting %s failed", message.job_uuid, message.type)
