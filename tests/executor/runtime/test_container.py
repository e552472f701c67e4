from datetime import UTC, datetime

import docker

from executor.runtime.container import container_create_kwargs, docker_time, run_seconds
from executor.runtime.names import container_name
from tests.executor.runtime.job_runs import make_run


def test_docker_times_keep_microseconds_of_nanosecond_stamps() -> None:
    assert docker_time("2026-01-02T03:04:05.123456789Z") == datetime(2026, 1, 2, 3, 4, 5, 123456, tzinfo=UTC)
    assert docker_time("2026-01-02T03:04:05Z") == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert docker_time("garbage") is None


def test_run_seconds_is_finished_minus_started_and_zero_when_never_run() -> None:
    state = {"StartedAt": "2026-01-02T03:04:05.5Z", "FinishedAt": "2026-01-02T03:04:07.25Z"}
    assert run_seconds(state) == 1.75
    assert run_seconds({"StartedAt": "0001-01-01T00:00:00Z", "FinishedAt": "0001-01-01T00:00:00Z"}) == 0.0


def test_the_container_is_locked_down_and_labelled() -> None:
    api = docker.APIClient(version="1.41")  # builds configs offline; never connects here
    run = make_run("python3", "-c", "pass", env={"A": "1"}, cpus=1.5, memory_mb=300, pids=50)
    kwargs = container_create_kwargs(api=api, run=run, owner="miner-1", mounts=[])
    host = kwargs.pop("host_config")
    assert kwargs == {
        "image": "meshwork/job-python:3.11",
        "command": ["python3", "-c", "pass"],
        "name": container_name(job_uuid=run.job_uuid, owner="miner-1"),
        "user": "65534:65534",
        "environment": {"A": "1"},
        "labels": {"meshwork.job": str(run.job_uuid), "meshwork.owner": "miner-1"},
    }
    assert host["NetworkMode"] == "none"
    assert host["ReadonlyRootfs"] is True
    assert host["CapDrop"] == ["ALL"]
    assert host["SecurityOpt"] == ["no-new-privileges"]
    assert host["NanoCpus"] == 1_500_000_000
    assert host["Memory"] == host["MemorySwap"] == 300 * 1024 * 1024
    assert host["PidsLimit"] == 50
    assert host["IpcMode"] == "private"
    assert host["Tmpfs"] == {"/tmp": "rw,nosuid,nodev,size=64m,mode=1777"}
    assert host["LogConfig"] == {"Type": "none", "Config": {}}  # nothing a job prints lands on disk


def test_a_cpu_class_gets_no_device_requests_and_a_gpu_class_gets_its_gpus() -> None:
    api = docker.APIClient(version="1.41")
    cpu_run = make_run("true")
    assert "DeviceRequests" not in container_create_kwargs(api=api, run=cpu_run, owner="m", mounts=[])["host_config"]
    gpu_run = cpu_run.model_copy(update={"limits": cpu_run.limits.model_copy(update={"gpu_count": 2})})
    host = container_create_kwargs(api=api, run=gpu_run, owner="m", mounts=[])["host_config"]
    assert host["DeviceRequests"] == [
        {"Driver": "", "Count": 2, "DeviceIDs": [], "Capabilities": [["gpu"]], "Options": {}}
    ]
