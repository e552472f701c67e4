"""What the host a benchmark job runs on really has: CPU, cores, memory, disk, GPUs.

Read from inside the job container: /proc/cpuinfo, the CPU affinity mask (the cores the container
may use), /proc/meminfo capped by the cgroup's memory.max (a container's /proc/meminfo shows the
host), statvfs of /output (or /) and `nvidia-smi` when the binary exists."""

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

NVIDIA_SMI_QUERY = ["--query-gpu=name,memory.total", "--format=csv,noheader,nounits"]
_CGROUP_MEMORY_MAX = Path("/sys/fs/cgroup/memory.max")


def parse_cpuinfo(text: str) -> str:
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() in ("model name", "Model", "Processor") and value.strip():
            return value.strip()
    return "unknown"


def parse_meminfo_mb(text: str) -> int:
    for line in text.splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) // 1024  # kB
    raise ValueError("no MemTotal in /proc/meminfo")


def parse_cgroup_memory_mb(text: str) -> int | None:
    value = text.strip()
    return None if value in ("", "max") else int(value) // (1024 * 1024)


def parse_nvidia_smi(text: str) -> list[dict[str, Any]]:
    """`name, memory.total` CSV lines (MiB, no units) → [{"model", "memory_mb"}]."""
    gpus = []
    for line in text.splitlines():
        if not line.strip():
            continue
        name, sep, memory = line.rpartition(",")
        if not sep or not name.strip():
            raise ValueError(f"unexpected nvidia-smi line: {line!r}")
        gpus.append({"model": name.strip(), "memory_mb": int(float(memory.strip()))})
    return gpus


def _read(path: str | Path) -> str | None:
    try:
        return Path(path).read_text()
    except OSError:
        return None


def host_specs() -> dict[str, Any]:
    memory_mb = parse_meminfo_mb(_read("/proc/meminfo") or "")
    cgroup_text = _read(_CGROUP_MEMORY_MAX)
    cgroup_mb = parse_cgroup_memory_mb(cgroup_text) if cgroup_text is not None else None
    if cgroup_mb is not None:
        memory_mb = min(memory_mb, cgroup_mb)
    disk = os.statvfs("/output" if os.path.isdir("/output") else "/")
    gpus: list[dict[str, Any]] = []
    if shutil.which("nvidia-smi"):
        out = subprocess.run(["nvidia-smi", *NVIDIA_SMI_QUERY], capture_output=True, text=True, timeout=30, check=True)
        gpus = parse_nvidia_smi(out.stdout)
    return {
        "cpu_model": parse_cpuinfo(_read("/proc/cpuinfo") or ""),
        "cpu_cores": len(os.sched_getaffinity(0)),
        "memory_mb": memory_mb,
        "disk_mb": disk.f_bavail * disk.f_frsize // (1024 * 1024),
        "gpus": gpus,
    }
