"""The executor: drives exactly one job on one executor host (a Docker engine), as an asyncio task in
the miner's process. The job container is always fresh and always removed.

API
    await executor_run_job(run=ExecutorRun, docker_url=str, emit=Emit, cancel=asyncio.Event, owner=str)

- `docker_url`: "local" (DOCKER_HOST, else the local socket), "unix:///path" or "tcp://host:port".
- `emit`: awaited with each progress message, in order: `ExecutorReady` (image present, container
  created), `VolumeReady` (input unpacked into /volume), `JobStarted`, then exactly one terminal
  message — `JobFinished` (exit 0), `JobFailed` or `JobCancelled`. A failure or cancel before the
  start skips the remaining progress messages. The terminal message is emitted once the container
  is removed; the workspace is removed right after, before the coroutine returns. A raising `emit`
  is logged and does not stop the job.
- `cancel`: set it to cancel the job; a running container is killed at once → `JobCancelled`.
- `owner`: who runs jobs on this engine (e.g. the miner's hotkey and host name); labels
  `meshwork.owner=<owner>` on everything created, so `executor_sweep_leftovers` finds it.

It never raises: job failures are `JobFailed(kind="job")` with reason `nonzero_exit`, `timeout`,
`out_of_memory`, `image_missing`, `input_invalid`, one of the URL input's `input_*` reasons
(executor/runtime/input_fetch.py) or `output_too_large`; Docker errors are `docker_error`, a blown
stage deadline `stage_timeout`, a container killed through the engine by someone other than the
job (`docker kill`, not the OOM killer) `container_killed`, and anything unexpected
`executor_crashed` (kind "infrastructure"). The one exception is cancelling the task itself
(miner shutdown): cleanup still runs, then CancelledError propagates and nothing more is emitted.

Container: no network, read-only root, all capabilities dropped, no-new-privileges, CPU, memory
(no swap) and pids limits from the class, user nobody (65534), 64 MiB /tmp tmpfs, input read-only
at /volume, a size-limited writable /output. How /output is limited depends on the engine: see
`workspace_host` (local engine: per-job tmpfs, hard limit) and `workspace_volume` (remote engine:
Docker volume, checked after the run). Per job, a local engine sees 6 API calls: create, attach
(both streams, drained while it runs), start, wait, inspect, remove — no helper container, input
is unpacked straight into a host directory. A remote engine adds put_archive (and get_archive, and
a helper container with input) for its volumes.
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable

from docker.errors import DockerException
from requests.exceptions import RequestException

from executor.runtime.failures import CancelRequested, JobFailure, OutputTooLarge
from executor.runtime.job_container import JobContainer, Outcome
from executor.runtime.rental_driver import executor_run_rental
from protocol.messages.common import Failure, FailureReason
from protocol.messages.executor import ExecutorRun
from protocol.messages.jobs import (
    ExecutorReady,
    JobCancelled,
    JobFailed,
    JobFinished,
    JobProgress,
    JobStarted,
    VolumeReady,
)
from protocol.reports import ReportTooLarge, result_fit

logger = logging.getLogger(__name__)
Emit = Callable[[JobProgress], Awaitable[None]]


async def executor_run_job(*, run: ExecutorRun, docker_url: str, emit: Emit, cancel: asyncio.Event, owner: str) -> None:
    if run.spec.rental is not None:  # a machine reached over SSH, not a command run to its end
        await executor_run_rental(run=run, docker_url=docker_url, emit=emit, cancel=cancel, owner=owner)
        return
    job = JobContainer(run=run, docker_url=docker_url, owner=owner, cancel=cancel)
    try:
        try:
            terminal = await _drive(job, emit)
        except CancelRequested:
            terminal = JobCancelled(job_uuid=run.job_uuid)
        except JobFailure as failure:
            terminal = JobFailed(job_uuid=run.job_uuid, failure=failure.failure(), result=failure.result)
        except (DockerException, RequestException) as exc:
            logger.warning("job %s: docker error: %s", run.job_uuid, exc)
            terminal = _infrastructure(run, FailureReason.DOCKER_ERROR, f"docker: {exc}")
        except Exception as exc:
            logger.exception("job %s: executor crashed", run.job_uuid)
            terminal = _infrastructure(run, FailureReason.EXECUTOR_CRASHED, f"{type(exc).__name__}: {exc}")
        # A reported job has no container any more (users and the validator rely on that); the
        # workspace is only host files, so its cleanup can wait until after the report.
        await job.remove_container()
        await _emit(emit, _fitted(terminal))
    finally:
        await job.cleanup()


def _fitted(terminal: JobProgress) -> JobProgress:
    """The terminal message with its result cut to fit one frame (protocol/reports.py). A result
    that cannot fit (its output zip) fails the job, keeping its logs: never a lost report."""
    result = getattr(terminal, "result", None)
    if result is None:
        return terminal
    try:
        return terminal.model_copy(update={"result": result_fit(result)})
    except ReportTooLarge as exc:
        failure = OutputTooLarge(f"the report does not fit in a frame: {exc}").failure()
        bare = result_fit(result.model_copy(update={"output_zip_b64": ""}))
        return JobFailed(job_uuid=terminal.job_uuid, failure=failure, result=bare)


def _infrastructure(run: ExecutorRun, reason: FailureReason, detail: str) -> JobFailed:
    return JobFailed(job_uuid=run.job_uuid, failure=Failure(kind=reason.kind, reason=reason, detail=detail[:4000]))


async def _emit(emit: Emit, message: JobProgress) -> None:
    try:
        await emit(message)
    except Exception:
        logger.exception("job %s: emitting %s failed", message.job_uuid, message.type)


async def _drive(job: JobContainer, emit: Emit) -> JobProgress:
    uuid = job.run.job_uuid
    await job.prepare()
    await _emit(emit, ExecutorReady(job_uuid=uuid))
    if job.cancel.is_set():
        raise CancelRequested
    await job.load_input()
    await _emit(emit, VolumeReady(job_uuid=uuid))
    if job.cancel.is_set():
        raise CancelRequested
    await job.start()
    await _emit(emit, JobStarted(job_uuid=uuid))
    outcome = await job.wait_exit()
    result, state = await job.result()
    if outcome is Outcome.CANCELLED:
        return JobCancelled(job_uuid=uuid, result=result)
    if outcome is Outcome.TIMEOUT:
        detail = f"still running after the {job.spec.timeout_s} s deadline; killed"
        raise JobFailure(FailureReason.TIMEOUT, detail, result=result)
    if state.get("OOMKilled") and result.exit_code != 0:
        detail = f"killed for exceeding the memory limit of {job.run.limits.memory_mb} MiB"
        raise JobFailure(FailureReason.OUT_OF_MEMORY, detail, result=result)
    if result.exit_code != 0 and (signal := await job.killed_from_outside()) is not None:
        # `docker kill` by someone other than the job: the miner's side failed, so it is retried
        # elsewhere and never billed (docs/faults.md).
        detail = f"the container was killed from outside the job (signal {signal}, exit {result.exit_code})"
        raise JobFailure(FailureReason.CONTAINER_KILLED, detail, result=result)
    try:
        output = await job.collect_output()
    except OutputTooLarge as exc:
        exc.result = result
        raise
    result = result.model_copy(update={"output_zip_b64": output})
    if result.exit_code != 0:
        raise JobFailure(FailureReason.NONZERO_EXIT, f"exited with code {result.exit_code}", result=result)
    return JobFinished(job_uuid=uuid, result=result)
