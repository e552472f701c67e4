"""The job container: its locked-down configuration, and what its state says after it exited."""

import re
from datetime import datetime
from typing import Any

import docker
from docker.types import DeviceRequest, Mount

from executor.runtime.names import JOB_GID, JOB_UID, container_name, job_labels
from protocol.messages.executor import ExecutorRun

MiB = 1024 * 1024
TMP_MB = 64


def container_create_kwargs(
    *, api: docker.APIClient, run: ExecutorRun, owner: str, mounts: list[Mount]
) -> dict[str, Any]:
    limits = run.limits
    host_config = api.create_host_config(
        network_mode="none",
        read_only=True,
        cap_drop=["ALL"],
        security_opt=["no-new-privileges"],
        nano_cpus=round(limits.cpus * 1e9),
        mem_limit=limits.memory_mb * MiB,
        memswap_limit=limits.memory_mb * MiB,  # equal to the memory limit: no swap
        pids_limit=limits.pids,
        tmpfs={"/tmp": f"rw,nosuid,nodev,size={TMP_MB}m,mode=1777"},
        ipc_mode="private",
        # No log driver: the executor drains stdout/stderr itself, bounded (executor/runtime/logs.py).
        log_config={"type": "none", "config": {}},
        mounts=mounts,
        device_requests=gpu_device_requests(limits.gpu_count),
    )
    return {
        "image": run.spec.image,
        "command": run.spec.args or None,  # none given: the image's CMD
        "name": container_name(job_uuid=run.job_uuid, owner=owner),
        "user": f"{JOB_UID}:{JOB_GID}",
        "environment": run.spec.env,
        "labels": job_labels(job_uuid=run.job_uuid, owner=owner),
        "host_config": host_config,
    }


def gpu_device_requests(gpu_count: int) -> list[DeviceRequest] | None:
    """`gpu_count` GPUs through the engine's GPU runtime (nvidia-container-toolkit); none: no request."""
    if gpu_count == 0:
        return None
    return [DeviceRequest(count=gpu_count, capabilities=[["gpu"]])]  # count -1: every GPU


_DOCKER_TIME = re.compile(r"^(?P<base>[\d-]+T[\d:]+)(?:\.(?P<frac>\d+))?(?P<tz>Z|[+-]\d\d:\d\d)$")


def docker_time(value: str) -> datetime | None:
    """Docker's RFC 3339 times carry nanoseconds; Python parses at most microseconds."""
    match = _DOCKER_TIME.match(value or "")
    if match is None:
        return None
    frac = (match["frac"] or "0")[:6].ljust(6, "0")
    tz = "+00:00" if match["tz"] == "Z" else match["tz"]
    return datetime.fromisoformat(f"{match['base']}.{frac}{tz}")


def run_seconds(state: dict[str, Any]) -> float:
    """Container run time as the engine measured it, from start to exit."""
    started, finished = docker_time(state.get("StartedAt", "")), docker_time(state.get("FinishedAt", ""))
    if started is None or finished is None or started.year < 2000 or finished.year < 2000:
        return 0.0
    return max(0.0, (finished - started).total_seconds())
