"""What an executor host has: the engine's own figures (`docker info`: CPUs, memory, engine id) and
a probe run inside it as a job (`meshwork-bench specs`: CPU model, free disk, GPUs through
nvidia-smi), in the same locked-down container as any job, GPUs passed through when the engine
has the nvidia runtime.

    await host_specs_collect(docker_url=…, image=…, owner=…) -> (HostSpecs, error)

Never raises: what could not be read stays empty (0, "", []) and `error` says why."""

import asyncio
import json
import uuid
from typing import Any

from pydantic import ValidationError

from executor.runtime.driver import executor_run_job
from executor.runtime.engine import docker_api, in_thread
from protocol.messages.common import JobSpec
from protocol.messages.executor import ExecutorLimits, ExecutorRun
from protocol.messages.jobs import JobFailed, JobFinished, JobProgress
from protocol.messages.manifest import GpuSpec, HostSpecs

MiB = 1024 * 1024
PROBE_TIMEOUT_S = 60
PROBE_LIMITS = ExecutorLimits(cpus=0.5, memory_mb=128, pids=32, output_mb=1)


def engine_specs(info: dict[str, Any]) -> dict[str, Any]:
    """The fields of `docker info` a manifest uses."""
    return {
        "cpu_cores": int(info.get("NCPU") or 0),
        "memory_mb": int(info.get("MemTotal") or 0) // MiB,
        "docker_engine_id": str(info.get("ID") or "")[:128],
    }


def engine_has_gpus(info: dict[str, Any]) -> bool:
    return "nvidia" in (info.get("Runtimes") or {})


def probe_parse(stdout: str) -> dict[str, Any]:
    """The probe's last stdout line: {"cpu_model", "cpu_cores", "memory_mb", "disk_mb", "gpus"}."""
    lines = stdout.strip().splitlines()
    data = json.loads(lines[-1]) if lines else None
    if not isinstance(data, dict):
        raise ValueError(f"probe printed no JSON object: {stdout[-200:]!r}")
    gpus = [GpuSpec.model_validate(g) for g in data.get("gpus") or []]
    return {"cpu_model": str(data.get("cpu_model", ""))[:200], "disk_mb": int(data.get("disk_mb", 0)), "gpus": gpus}


def specs_combine(*, engine: dict[str, Any], probe: dict[str, Any]) -> HostSpecs:
    """The engine's CPU and memory figures win: inside a container they can be narrowed."""
    return HostSpecs.model_validate({**probe, **engine})


async def host_specs_collect(*, docker_url: str, image: str, owner: str) -> tuple[HostSpecs, str]:
    try:
        info: dict[str, Any] = await in_thread(lambda: docker_api(docker_url).info())
    except Exception as exc:
        return HostSpecs(cpu_cores=0, memory_mb=0, disk_mb=0), f"docker info failed: {exc}"[:500]
    engine = engine_specs(info)
    try:
        probe = probe_parse(await _probe(docker_url=docker_url, image=image, owner=owner, gpus=engine_has_gpus(info)))
        return specs_combine(engine=engine, probe=probe), ""
    except (ValueError, TypeError, ValidationError) as exc:
        return specs_combine(engine=engine, probe={"disk_mb": 0}), f"specs probe failed: {exc}"[:500]


async def _probe(*, docker_url: str, image: str, owner: str, gpus: bool) -> str:
    spec = JobSpec(image=image, args=["meshwork-bench", "specs"], executor_class="specs", timeout_s=PROBE_TIMEOUT_S)
    limits = PROBE_LIMITS.model_copy(update={"gpu_count": -1 if gpus else 0})
    run = ExecutorRun(job_uuid=uuid.uuid4(), spec=spec, limits=limits)
    ends: list[JobProgress] = []

    async def emit(message: JobProgress) -> None:
        ends.append(message)

    await executor_run_job(run=run, docker_url=docker_url, emit=emit, cancel=asyncio.Event(), owner=owner)
    end = ends[-1] if ends else None
    if isinstance(end, JobFinished):
        return end.result.stdout
    if isinstance(end, JobFailed):
        raise ValueError(f"{end.failure.reason}: {end.failure.detail}"[:300])
    raise ValueError("the probe reported no end")
