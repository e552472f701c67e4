"""Job runs for the executor tests: `ExecutorRun` builders (`make_run`, `python_run`), the driven
run's recorded messages (`Driven`), checks that a run left no container or work directory behind,
and zip/base64 helpers for inputs and outputs."""

import base64
import io
import uuid
import zipfile
from dataclasses import dataclass, field
from typing import Any

import docker

from executor.runtime.names import LABEL_JOB, job_work_dir
from protocol.messages.common import JobInput, JobSpec
from protocol.messages.executor import ExecutorLimits, ExecutorRun
from protocol.messages.jobs import JobProgress
from tests.factories import JOB_IMAGE


def make_run(
    *args: str,
    image: str = JOB_IMAGE,
    timeout_s: int = 30,
    env: dict[str, str] | None = None,
    input: JobInput | None = None,
    cpus: float = 1.0,
    memory_mb: int = 256,
    pids: int = 64,
    output_mb: int = 8,
) -> ExecutorRun:
    spec = JobSpec(
        image=image, args=list(args), env=env or {}, executor_class="cpu.small", timeout_s=timeout_s, input=input
    )
    limits = ExecutorLimits(cpus=cpus, memory_mb=memory_mb, pids=pids, output_mb=output_mb)
    return ExecutorRun(job_uuid=uuid.uuid4(), spec=spec, limits=limits)


def python_run(code: str, **kwargs: Any) -> ExecutorRun:
    return make_run("python3", "-c", code, **kwargs)


@dataclass
class Driven:
    run: ExecutorRun
    messages: list[JobProgress] = field(default_factory=list)

    @property
    def types(self) -> list[str]:
        return [message.type for message in self.messages]

    @property
    def terminal(self) -> Any:
        return self.messages[-1]


def job_containers(client: docker.DockerClient, run: ExecutorRun) -> list[str]:
    return [c.name for c in client.containers.list(all=True, filters={"label": f"{LABEL_JOB}={run.job_uuid}"})]


def assert_no_trace(client: docker.DockerClient, run: ExecutorRun, owner: str) -> None:
    assert job_containers(client, run) == []
    assert not job_work_dir(job_uuid=run.job_uuid, owner=owner).exists()


def zip_bytes(files: dict[str, bytes | str], *, compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as zf:
        for name, content in files.items():
            zf.writestr(name, content)
    return buffer.getvalue()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def unzip(encoded: str) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(base64.b64decode(encoded))) as zf:
        return {name: zf.read(name) for name in zf.namelist()}
