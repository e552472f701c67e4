"""Host specs as a job sees them: the parsers (nvidia-smi, /proc, cgroup) and this machine's."""

import os

import pytest

from protocol.benchmarks.specs import (
    host_specs,
    parse_cgroup_memory_mb,
    parse_cpuinfo,
    parse_meminfo_mb,
    parse_nvidia_smi,
)

NVIDIA_SMI_SAMPLE = "NVIDIA GeForce RTX 4090, 24564\nNVIDIA A100-SXM4-80GB, 81920\n\n"


def test_nvidia_smi_lines_become_gpus() -> None:
    assert parse_nvidia_smi(NVIDIA_SMI_SAMPLE) == [
        {"model": "NVIDIA GeForce RTX 4090", "memory_mb": 24564},
        {"model": "NVIDIA A100-SXM4-80GB", "memory_mb": 81920},
    ]
    assert parse_nvidia_smi("") == []


@pytest.mark.parametrize("line", ["no comma here", ", 1024", "NVIDIA H100, [N/A]"])
def test_unexpected_nvidia_smi_output_raises(line: str) -> None:
    with pytest.raises(ValueError, match=r"nvidia-smi|could not convert"):
        parse_nvidia_smi(line)


def test_proc_files_parse() -> None:
    cpuinfo = "processor\t: 0\nvendor_id\t: GenuineIntel\nmodel name\t: Intel(R) Xeon(R) Gold 6338\n"
    assert parse_cpuinfo(cpuinfo) == "Intel(R) Xeon(R) Gold 6338"
    assert parse_cpuinfo("processor : 0\n") == "unknown"
    assert parse_meminfo_mb("MemTotal:       16384000 kB\nMemFree: 1 kB\n") == 16000
    with pytest.raises(ValueError, match="MemTotal"):
        parse_meminfo_mb("MemFree: 1 kB\n")
    assert parse_cgroup_memory_mb("max\n") is None
    assert parse_cgroup_memory_mb(f"{512 * 1024 * 1024}\n") == 512


def test_this_hosts_specs() -> None:
    specs = host_specs()
    assert set(specs) == {"cpu_model", "cpu_cores", "memory_mb", "disk_mb", "gpus"}
    assert specs["cpu_cores"] == len(os.sched_getaffinity(0))
    assert specs["memory_mb"] > 0
    assert specs["disk_mb"] > 0
    assert isinstance(specs["cpu_model"], str)
    assert specs["cpu_model"]
    assert isinstance(specs["gpus"], list)
