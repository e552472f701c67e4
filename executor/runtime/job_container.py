"""One job's stages on one engine, for the driver. Each blocking call runs in the Docker pool and
is tracked, so cleanup can wait for a call that a deadline or a cancel abandoned (a container
created after we gave up on `create` must still be removed)."""

import asyncio
import contextlib
import enum
import functools
import logging
import time
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

import docker
from django.conf import settings
from docker.errors import APIError, ImageNotFound, NotFound

from executor.runtime.container import container_create_kwargs, run_seconds
from executor.runtime.engine import API_TIMEOUT_S, DOCKER_POOL, docker_api
from executor.runtime.failures import CancelRequested, CommandNotRunnable, JobFailure, command_refusal
from executor.runtime.inputs import input_open
from executor.runtime.kills import engine_kill_signals
from executor.runtime.logs import LogStreams
from executor.runtime.names import container_name
from executor.runtime.workspace import Workspace, workspace_open
from protocol.messages.common import FailureReason, JobResult
from protocol.messages.executor import ExecutorRun

logger = logging.getLogger(__name__)
T = TypeVar("T")

# Stage deadlines on top of the calls' own timeouts, with leeway for a busy engine.
PREPARE_DEADLINE_S = API_TIMEOUT_S
VOLUME_LEEWAY_S = 60.0
KILL_GRACE_S = 30.0
# Once the container exited, what is left to drain is what the pipes still hold.
LOG_DRAIN_GRACE_S = 30.0
FINISHED_AT_RETRIES = 20  # × 50 ms


class Outcome(enum.Enum):
    EXITED = "exited"
    TIMEOUT = "timeout"
    CANCELLED = "cancelled"


def _quietly(fn: Callable[[], object]) -> None:
    """For teardown: gone already (404) or going (409) is fine."""
    with contextlib.suppress(NotFound):
        try:
            fn()
        except APIError as exc:
            if exc.status_code != 409:
                raise


class JobContainer:
    def __init__(self, *, run: ExecutorRun, docker_url: str, owner: str, cancel: asyncio.Event) -> None:
        self.run = run
        self.spec = run.spec
        self.docker_url = docker_url
        self.owner = owner
        self.cancel = cancel
        self.name = container_name(job_uuid=run.job_uuid, owner=owner)
        self.api: docker.APIClient | None = None
        self.workspace: Workspace | None = None
        self._pending: set[asyncio.Future[Any]] = set()
        self._removed = False
        self.logs = LogStreams()
        self._drain: asyncio.Future[None] | None = None
        self._started_at = 0.0  # wall clock, for the engine's event log (kills.py)

    async def call(self, fn: Callable[..., T], *args: Any, _until_removed: bool = False, **kwargs: Any) -> T:
        """`_until_removed`: a call that only returns once the container is gone (`wait`); cleanup
        must not wait for it before removing the container."""
        future = asyncio.get_running_loop().run_in_executor(DOCKER_POOL, functools.partial(fn, *args, **kwargs))
        if not _until_removed:
            self._pending.add(future)
        future.add_done_callback(self._settled)
        return await asyncio.shield(future)

    def _settled(self, future: asyncio.Future[Any]) -> None:
        self._pending.discard(future)
        if not future.cancelled():
            future.exception()  # retrieved: an abandoned call's error is not "never retrieved"

    async def prepare(self) -> None:
        """Image present (create fails fast without it: Docker's API never pulls) and container created."""
        api: docker.APIClient = await self.call(docker_api, self.docker_url)
        self.api = api
        self.workspace = await self.call(
            workspace_open, api=api, docker_url=self.docker_url, run=self.run, owner=self.owner, container=self.name
        )
        kwargs = container_create_kwargs(api=api, run=self.run, owner=self.owner, mounts=self.workspace.mounts())
        try:
            await asyncio.wait_for(self.call(api.create_container, **kwargs), PREPARE_DEADLINE_S)
        except ImageNotFound as exc:
            detail = f"image {self.spec.image!r} is not present on this executor host (executors never pull)"
            raise JobFailure(FailureReason.IMAGE_MISSING, detail) from exc
        except TimeoutError as exc:
            raise JobFailure(
                FailureReason.STAGE_TIMEOUT, f"creating the container took over {PREPARE_DEADLINE_S} s"
            ) from exc

    async def load_input(self) -> None:
        deadline = settings.EXECUTOR_URL_FETCH_TIMEOUT_S + VOLUME_LEEWAY_S
        try:
            async with asyncio.timeout(deadline):
                source = await self._unless_cancelled(input_open(self.spec.input))
                try:
                    assert self.workspace is not None
                    await self.call(self.workspace.load_input, source)
                finally:
                    if source is not None:
                        source.close()
        except TimeoutError as exc:
            raise JobFailure(FailureReason.STAGE_TIMEOUT, f"preparing the input took over {deadline} s") from exc

    async def _unless_cancelled(self, coro: Coroutine[Any, Any, T]) -> T:
        """Runs `coro` to the end, or raises CancelRequested as soon as the miner cancels."""
        work = asyncio.ensure_future(coro)
        cancelled = asyncio.ensure_future(self.cancel.wait())
        try:
            await asyncio.wait({work, cancelled}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            cancelled.cancel()
            if not work.done():
                work.cancel()
                try:
                    await work
                except asyncio.CancelledError:
                    pass
                except Exception:  # the stage failed while being cancelled: the cancel is what counts
                    logger.warning("executor: a stage failed while being cancelled", exc_info=True)
        if work.cancelled():
            raise CancelRequested
        return work.result()

    async def start(self) -> None:
        assert self.api is not None
        # Attached before the start, so not one byte is missed; drained until the container ends.
        await self.call(self.logs.attach, self.api, self.name)
        self._drain = asyncio.ensure_future(self.call(self.logs.drain, _until_removed=True))
        self._started_at = time.time() - 1.0  # the engine's clock may lag ours a little
        try:
            await self.call(self.api.start, self.name)
        except APIError as exc:
            refusal = command_refusal(str(exc.explanation or exc))
            if refusal is None:
                raise
            raise CommandNotRunnable(f"the image cannot run {self.spec.args[:1] or 'its command'}: {refusal}") from exc

    async def wait_exit(self) -> Outcome:
        """Until the container exits, the deadline passes, or the miner cancels; then it is dead."""
        assert self.api is not None
        api = self.api
        exited = asyncio.ensure_future(
            self.call(api.wait, self.name, timeout=self.spec.timeout_s + API_TIMEOUT_S, _until_removed=True)
        )
        cancelled = asyncio.ensure_future(self.cancel.wait())
        try:
            done, _ = await asyncio.wait(
                {exited, cancelled}, timeout=self.spec.timeout_s, return_when=asyncio.FIRST_COMPLETED
            )
            if exited in done:
                exited.result()
                return Outcome.EXITED
            outcome = Outcome.CANCELLED if cancelled in done else Outcome.TIMEOUT
            await self.call(_quietly, functools.partial(api.kill, self.name))
            await asyncio.wait_for(asyncio.shield(exited), KILL_GRACE_S)
            return outcome
        finally:
            cancelled.cancel()
            if not exited.done():
                exited.cancel()  # its thread returns once cleanup removed the container

    async def result(self) -> tuple[JobResult, dict[str, Any]]:
        """Exit code, logs and run time of the exited container, with its raw state."""
        assert self.api is not None
        state = (await self.call(self.api.inspect_container, self.name))["State"]
        for _ in range(FINISHED_AT_RETRIES):
            # A loaded engine may answer `wait` before it recorded FinishedAt: the run time would read 0.
            if not state.get("Running") and run_seconds(state) > 0:
                break
            await asyncio.sleep(0.05)
            state = (await self.call(self.api.inspect_container, self.name))["State"]
        if self._drain is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(self._drain), LOG_DRAIN_GRACE_S)
            self.logs.close()  # a stream still open now is stuck: keep what was read
        stdout, stderr = self.logs.logs()
        result = JobResult(
            exit_code=state["ExitCode"],
            stdout=stdout.text,
            stderr=stderr.text,
            executor_seconds=run_seconds(state),
            stdout_bytes=stdout.written,
            stderr_bytes=stderr.written,
            stdout_truncated=stdout.truncated,
            stderr_truncated=stderr.truncated,
        )
        return result, state

    async def killed_from_outside(self) -> str | None:
        """The signal of a kill the engine delivered (never our own: a timeout or a cancel returns
        before this is asked), or None when nothing outside the job killed it."""
        assert self.api is not None
        signals = await self.call(engine_kill_signals, self.api, self.name, since=self._started_at)
        return signals[-1] if signals else None

    async def collect_output(self) -> str:
        assert self.workspace is not None
        return await self.call(self.workspace.collect_output)

    async def remove_container(self) -> None:
        """Removes the container (once). Shielded, so it completes even if the driver's task is
        cancelled meanwhile; logs, never raises."""
        await asyncio.shield(self._remove_container())

    async def cleanup(self) -> None:
        """Removes the container if still there, then the workspace. Shielded; logs, never raises."""
        await asyncio.shield(self._cleanup())

    async def _remove_container(self) -> None:
        if self._pending:  # e.g. a create we stopped waiting for: let it land, then remove its container
            await asyncio.wait(set(self._pending), timeout=API_TIMEOUT_S)
        if self.api is None or self._removed:
            return
        self._removed = True
        remove = functools.partial(self.api.remove_container, self.name, v=True, force=True)
        await self._teardown(functools.partial(_quietly, remove))

    async def _cleanup(self) -> None:
        await self._remove_container()
        self.logs.close()
        if self.workspace is not None:
            await self._teardown(self.workspace.cleanup)

    async def _teardown(self, step: Callable[[], object]) -> None:
        try:
            await asyncio.get_running_loop().run_in_executor(DOCKER_POOL, step)
        except Exception:
            logger.exception("job %s: cleanup step failed", self.run.job_uuid)
